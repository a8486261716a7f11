/**
 * The record of a zip leaving the queue (SPEC §7): it goes on the object of
 * the zip's origin server; for a zip this server made, it replaces the
 * `zipped` record (same id, one modify), so the origin's object shows each
 * zip's whole way up the tree.
 */
import { join } from 'node:path';
import { isZenrollError, makeRecord, parseOuterName, readOuterPrp, type LogWrite, type RollupRecord } from '@zenroll/core';
import type { StepContext } from './context.js';

/** The `.str` count of a zip, for its record; 0 when its `.prp` cannot be read (the parent will say why). */
async function filesOf(path: string): Promise<number> {
  try {
    return (await readOuterPrp(path)).files.length;
  } catch (err) {
    if (isZenrollError(err) && !err.code.startsWith('FS_')) return 0;
    throw err;
  }
}

export async function leavingRecord(
  ctx: StepContext,
  zip: string,
  fields: Pick<RollupRecord, 'event'> & Partial<RollupRecord>,
): Promise<LogWrite> {
  const origin = parseOuterName(zip).server;
  const zipped = origin === ctx.config.server ? ((await ctx.records.get(zip))?.zipped ?? null) : null;
  const files = zipped?.files ?? (await filesOf(join(ctx.paths.entpushdir, zip)));
  const record = makeRecord(
    {
      source: 'sender',
      server: origin,
      zip,
      files,
      from: ctx.config.server,
      origin,
      ...fields,
      ...(zipped === null ? {} : { id: zipped.id }),
    },
    { now: ctx.now, id: ctx.newId },
  );
  return zipped === null ? { record } : { record, replaces: zipped };
}
