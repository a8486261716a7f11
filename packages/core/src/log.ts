/**
 * Roll-up log records (SPEC §7) and the interface every part writes them
 * through. The Sender and the Receiver only know `RollupLog`; the directory
 * package implements it (a local journal, applied to LDAP when configured).
 */
import { randomUUID } from 'node:crypto';
import { ZenrollError, shown } from './errors.js';

export const EVENTS = ['zipped', 'discarded', 'sent', 'send-failed', 'received', 'promoted', 'rejected'] as const;
export type RollupEvent = (typeof EVENTS)[number];
export type Severity = 'info' | 'warning' | 'error';

export interface RollupRecord {
  v: 1;
  id: string;
  time: string;
  source: 'sender' | 'receiver';
  event: RollupEvent;
  severity: Severity;
  /** The server whose Inventory Service object holds the record. */
  server: string;
  zip: string;
  bytes: number;
  files: number;
  from: string;
  to: string;
  transferMs: number;
  totalMs: number;
  message: string;
}

/** The key order of SPEC §7; serialising in it keeps one record one exact LDAP value. */
const ORDER: (keyof RollupRecord)[] = [
  'v', 'id', 'time', 'source', 'event', 'severity', 'server', 'zip', 'bytes', 'files', 'from', 'to', 'transferMs', 'totalMs', 'message',
];

export interface RecordFactory {
  now?: () => number;
  id?: () => string;
}

export function makeRecord(
  fields: Pick<RollupRecord, 'source' | 'event' | 'server'> & Partial<RollupRecord>,
  factory: RecordFactory = {},
): RollupRecord {
  return {
    v: 1,
    id: fields.id ?? (factory.id ?? randomUUID)(),
    time: fields.time ?? new Date((factory.now ?? Date.now)()).toISOString(),
    source: fields.source,
    event: fields.event,
    severity: fields.severity ?? (fields.event === 'rejected' || fields.event === 'send-failed' ? 'error' : 'info'),
    server: fields.server,
    zip: fields.zip ?? '',
    bytes: fields.bytes ?? 0,
    files: fields.files ?? 0,
    from: fields.from ?? '',
    to: fields.to ?? '',
    transferMs: fields.transferMs ?? 0,
    totalMs: fields.totalMs ?? 0,
    message: fields.message ?? '',
  };
}

/** One line of JSON in the key order of SPEC §7. */
export function serializeRecord(r: RollupRecord): string {
  const ordered: Record<string, unknown> = {};
  for (const key of ORDER) ordered[key] = r[key];
  return JSON.stringify(ordered);
}

export function parseRecord(line: string): RollupRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new ZenrollError('JOURNAL_CORRUPT', `log record ${shown(line)} is not JSON`, { cause });
  }
  const r = value as Partial<RollupRecord> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    r.v !== 1 ||
    typeof r.id !== 'string' ||
    typeof r.time !== 'string' ||
    typeof r.server !== 'string' ||
    !EVENTS.includes(r.event as RollupEvent)
  ) {
    throw new ZenrollError('JOURNAL_CORRUPT', `log record ${shown(line)} is not a zenroll v1 record`);
  }
  return makeRecord(r as RollupRecord);
}

/**
 * One write: add `record` to the object of `record.server`. With `replaces`,
 * the value with that exact text is removed in the same modify (the Sender's
 * `zipped` record becomes its `sent` record, SPEC §7).
 */
export interface LogWrite {
  record: RollupRecord;
  replaces?: RollupRecord;
}

export interface RollupLog {
  /** Durable once it resolves (the journal is fsynced); reaching the directory may come later. */
  write(entry: LogWrite): Promise<void>;
  /** Records on one server's object, newest first. */
  read(server: string, limit: number): Promise<RollupRecord[]>;
  close(): Promise<void>;
}

/** A log that keeps records in memory: for tests of the Sender and Receiver that look at what they logged. */
export class MemoryLog implements RollupLog {
  readonly writes: LogWrite[] = [];

  async write(entry: LogWrite): Promise<void> {
    this.writes.push(entry);
  }

  async read(server: string, limit: number): Promise<RollupRecord[]> {
    const byId = new Map<string, RollupRecord>();
    for (const { record, replaces } of this.writes) {
      if (record.server !== server) continue;
      if (replaces) byId.delete(replaces.id);
      byId.set(record.id, record);
    }
    return [...byId.values()].reverse().slice(0, limit);
  }

  events(): RollupEvent[] {
    return this.writes.map((w) => w.record.event);
  }

  async close(): Promise<void> {}
}
