/**
 * Pack (SPEC §1 step 2, DESIGN.md "Pack"): per batch, a durable intent, the
 * outer zip, then the `.str` deleted, the `zipped` record logged, the intent
 * removed. `settleIntents` finishes what a crash left at the start of the
 * next roll-up, so that no `.str` is lost or packed twice.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ZenrollError,
  createdStatus,
  crashPoint,
  errnoCode,
  formatOuterName,
  fsError,
  makeRecord,
  packBatch,
  parseScheduledTime,
  removeManyDurable,
  roleInfo,
  type PrpFile,
  type RollupRecord,
  type ScheduledClock,
} from '@zenroll/core';
import type { StepContext } from './context.js';
import { digestFile } from './digest.js';
import type { ZippedZip } from './events.js';
import { readIntents, removeIntent, writeIntent, type Intent } from './intents.js';
import type { StrEntry } from './plan.js';
import { logHolds } from './records.js';

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await lstat(path)).size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw fsError(err, 'look at', path);
  }
}

function zippedRecord(ctx: StepContext, intent: Intent, bytes: number, totalMs: number): RollupRecord {
  const { server } = ctx.config;
  return makeRecord(
    {
      id: intent.batchId,
      source: 'sender',
      event: 'zipped',
      server,
      zip: intent.zip,
      bytes,
      files: intent.files.length,
      from: server,
      origin: server,
      totalMs,
    },
    { now: ctx.now },
  );
}

/**
 * The steps after the zip is in place; run by a roll-up right after packing
 * and by the next one when a crash came first (`recovering`): then only the
 * `.str` whose bytes still match the intent are deleted, and the record is
 * logged only if the log lacks it.
 */
async function finishBatch(ctx: StepContext, intent: Intent, bytes: number, totalMs: number, recovering: boolean): Promise<ZippedZip> {
  const known = await ctx.records.get(intent.zip);
  let zipped = known?.zipped ?? null;
  if (zipped === null) {
    zipped = zippedRecord(ctx, intent, bytes, totalMs);
    // Kept before it is logged: the `sent` record replaces this exact text.
    await ctx.records.put({ v: 1, zip: intent.zip, zipped, pending: null });
  }
  // One folder fsync for the batch: until it, a crash may bring back some
  // `.str`, and the intent (removed only after) settles them at the next start.
  const gone: string[] = [];
  for (const file of intent.files) {
    const path = join(ctx.paths.entpushdir, file.name);
    if (!recovering || (await stillSame(path, file))) gone.push(path);
  }
  await removeManyDurable(gone, { afterFirst: () => crashPoint('pack-mid-delete') });
  if (!recovering || !(await logHolds(ctx.log, zipped))) await ctx.log.write({ record: zipped });
  await removeIntent(ctx.paths.intents, intent.batchId);
  return { zip: intent.zip, files: intent.files.length, bytes, recovered: recovering };
}

/** Whether a `.str` still holds the bytes the intent recorded (a new scan of the same name does not). */
async function stillSame(path: string, file: PrpFile): Promise<boolean> {
  const size = await sizeOf(path);
  if (size === null || size !== file.size) return false;
  return (await digestFile(path)).sha256.toString('hex') === file.sha256;
}

/**
 * Settle the intents a crash left: when the zip exists, its `.str` are in it
 * (finish the batch); when it does not, the intent is dropped and the `.str`,
 * still in entpushdir, are packed again.
 */
export async function settleIntents(ctx: StepContext): Promise<ZippedZip[]> {
  const done: ZippedZip[] = [];
  for (const intent of await readIntents(ctx.paths.intents)) {
    const bytes = await sizeOf(join(ctx.paths.entpushdir, intent.zip));
    if (bytes === null) {
      await removeIntent(ctx.paths.intents, intent.batchId);
      continue;
    }
    done.push(await finishBatch(ctx, intent, bytes, 0, true));
  }
  return done;
}

/** Pack one batch of `.str` (names in entpushdir, in arrival order) into one outer zip. */
export async function packOne(ctx: StepContext, clock: ScheduledClock, batch: readonly StrEntry[]): Promise<ZippedZip> {
  const { config, paths } = ctx;
  const started = ctx.timers.now();
  const scheduledtime = clock.next();
  // A server creates its own zips with 0, or 2 when it has a database (SPEC §3).
  const status = createdStatus(roleInfo(config.role).hasDatabase);
  const zip = formatOuterName({ scheduledtime, server: config.server, tree: config.tree, status });
  const batchId = ctx.newId();
  const made: { intent?: Intent } = {};
  let packed;
  try {
    packed = await packBatch({
      files: batch.map(({ name }) => join(paths.entpushdir, name)),
      outDir: paths.entpushdir,
      server: config.server,
      tree: config.tree,
      status,
      scheduledtime,
      keys: ctx.keys,
      level: config.sender.compressionLevel,
      created: new Date(parseScheduledTime(scheduledtime)),
      extra: [['batch.id', batchId]],
      // The intent lists exactly what the packer read and hashed (one read of
      // each .str), and is durable before the zip is written.
      onRead: async (files) => {
        made.intent = { v: 1, batchId, zip, files };
        await writeIntent(paths.intents, made.intent);
      },
    });
  } catch (err) {
    // packBatch leaves nothing behind when it fails; neither does the intent. One
    // that cannot be removed now is dropped at the next start (its zip does not exist).
    if (made.intent !== undefined) await removeIntent(paths.intents, batchId).catch(() => undefined);
    throw err;
  }
  const intent = made.intent;
  if (intent === undefined) throw new ZenrollError('INTERNAL', `packBatch made ${zip} without calling onRead: no intent covers it`);
  crashPoint('pack-after-zip');
  return finishBatch(ctx, intent, packed.bytes, Math.round(ctx.timers.now() - started), false);
}
