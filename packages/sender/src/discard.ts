/**
 * Discard (SPEC §1 step 3): zips created before the parent's discard scan
 * data time are deleted unsent, each deletion logged. Where that time comes
 * from is injected: the parent's `GET /v1/info` now; the directory package
 * adds the parent's `zeninvDiscardScanDataTime`.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZenrollError, fsError, removeDurable, shown, type ReceiverInfo } from '@zenroll/core';
import type { StepContext } from './context.js';
import { leavingRecord } from './leaving.js';
import { removeThenLog } from './records.js';

export interface DiscardContext {
  /** The parent's `GET /v1/info`, fetched once per roll-up (its `server` names the parent's directory object). */
  parentInfo(): Promise<ReceiverInfo>;
}

/** The discard scan data time, or null when there is none. */
export type DiscardSource = (ctx: DiscardContext) => Promise<Date | null>;

/** The parent's `GET /v1/info` `discardBefore` (SPEC §4). */
export const infoDiscardSource: DiscardSource = async ({ parentInfo }) => {
  const { discardBefore } = await parentInfo();
  if (discardBefore === null) return null;
  const at = new Date(discardBefore);
  if (Number.isNaN(at.getTime())) {
    throw new ZenrollError('RECEIVER_REJECTED', `the parent's discardBefore ${shown(discardBefore)} is not an ISO time`);
  }
  return at;
};

/** Delete and log each zip of `zips` (the plan's discard list). */
export async function discardZips(ctx: StepContext, zips: readonly string[], before: Date): Promise<string[]> {
  const done: string[] = [];
  for (const zip of zips) {
    const path = join(ctx.paths.entpushdir, zip);
    let bytes: number;
    try {
      bytes = (await lstat(path)).size;
    } catch (err) {
      throw fsError(err, 'look at', path);
    }
    const write = await leavingRecord(ctx, zip, {
      event: 'discarded',
      bytes,
      message: `created before the discard scan data time ${before.toISOString()}`,
    });
    await removeThenLog(ctx.records, ctx.log, zip, write, async () => {
      await removeDurable(path);
    });
    done.push(zip);
    ctx.emit({ type: 'discarded', zip });
  }
  return done;
}
