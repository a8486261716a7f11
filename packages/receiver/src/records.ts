/**
 * The Receiver's roll-up records (SPEC §7): `received`, `promoted` and
 * `rejected`, on its own Inventory Service object. A record that cannot be
 * written is reported on the operational log; it never undoes the step it
 * describes (the zip is stored, the copy is in place).
 */
import { makeRecord, type RollupLog, type RollupRecord } from '@zenroll/core';
import type { Logger } from './logger.js';

export type ReceiverRecordFields = Pick<RollupRecord, 'event'> & Partial<Omit<RollupRecord, 'source' | 'server' | 'event'>>;

export interface RecordSink {
  server: string;
  log: RollupLog;
  logger: Logger;
  now: () => number;
}

export async function writeRecord(sink: RecordSink, fields: ReceiverRecordFields): Promise<void> {
  const record = makeRecord({ ...fields, source: 'receiver', server: sink.server }, { now: sink.now });
  try {
    await sink.log.write({ record });
  } catch (err) {
    sink.logger.error({ err, record }, 'could not write a roll-up record');
  }
}
