/**
 * One roll-up (SPEC §1): recover what a crash left, collect, pack, discard,
 * push — read, plan, apply, step by step — holding `statedir/rollup.lock`
 * so that two never run on one entpushdir. Returns what it touched.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { lstat } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import {
  ZenrollError,
  acquireLock,
  errnoCode,
  fsError,
  isZenrollError,
  roleInfo,
  sweepTemps,
  type Config,
  type KeyPair,
  type ReceiverInfo,
  type RollupLog,
} from '@zenroll/core';
import { createParentClient, makeDispatcher, type ParentClient } from './client.js';
import { collect } from './collect.js';
import type { StepContext } from './context.js';
import { discardZips, infoDiscardSource, type DiscardSource } from './discard.js';
import type { LeftItem, RollupResult, SenderEvent, StepError } from './events.js';
import { packOne, settleIntents } from './pack-step.js';
import { planBatches, planDiscard } from './plan.js';
import { pushZips } from './push.js';
import { listDir, listDirIfExists, readPushdir, statStrs } from './read.js';
import { RecordStore, recoverRecords } from './records.js';
import { loadClock, saveClock } from './sender-clock.js';
import { ensureStateDirs, senderPaths, type SenderPaths } from './state.js';
import { sweepOwnTemps, sweepPushdir } from './sweep.js';
import { realTimers, type Timers } from './timers.js';

export interface RollupDeps {
  log: RollupLog;
  keys: KeyPair;
  /** Wall clock in ms since the epoch (names, records, the stability of a `.str`); default Date.now. */
  clock?: () => number;
  /** Waits and durations; default the real ones. */
  timers?: Timers;
  /** An undici dispatcher to use instead of one made from `sender.tls`/`sender.proxy`; the caller closes it. */
  dispatcher?: Dispatcher;
  /** The discard scan data time; default the parent's `GET /v1/info` `discardBefore` (the directory adds its own source). */
  discardSource?: DiscardSource;
  onEvent?: (event: SenderEvent) => void;
  /** Stops the roll-up between steps and during waits; what is left stays for the next one. */
  signal?: AbortSignal;
  /** Ids of batches and records; default randomUUID. */
  newId?: () => string;
}

export async function runRollup(config: Config, deps: RollupDeps): Promise<RollupResult> {
  if (!roleInfo(config.role).sender) {
    throw new ZenrollError('USAGE', `role ${config.role} sends nothing to a parent (SPEC §2): there is nothing to roll up`);
  }
  const paths = senderPaths(config);
  for (const dir of [paths.entpushdir, paths.entmergedir]) {
    if (dir === null) continue;
    try {
      await lstat(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new ZenrollError('FS_FAILED', `folder ${dir} does not exist; create it (zenroll init does) or fix dirs in the config`, { cause: err });
      }
      throw fsError(err, 'look at', dir);
    }
  }
  await ensureStateDirs(paths);
  const lock = await acquireLock(paths.lock, { purpose: `rollup of ${config.server}` });
  const dispatcher = deps.dispatcher ?? (await makeDispatcher(config.sender));
  const client = createParentClient(config.sender, dispatcher, { ownsDispatcher: deps.dispatcher === undefined });
  try {
    return await rollUp(config, paths, client, deps);
  } finally {
    await client.close();
    await lock.release();
  }
}

function emptyResult(): RollupResult {
  return { zipped: [], discarded: [], sent: [], rejected: [], left: [], ignored: [], errors: [], stopped: false };
}

/** A failed step is reported and the roll-up goes on; a bug is not a step failure. */
async function step(result: RollupResult, name: StepError['step'], body: () => Promise<void>): Promise<boolean> {
  try {
    await body();
    return true;
  } catch (err) {
    if (!isZenrollError(err)) throw err;
    result.errors.push({ step: name, code: err.code, message: err.message });
    return false;
  }
}

async function rollUp(config: Config, paths: SenderPaths, client: ParentClient, deps: RollupDeps): Promise<RollupResult> {
  const ctx: StepContext = {
    config,
    paths,
    keys: deps.keys,
    log: deps.log,
    records: new RecordStore(paths.records),
    now: deps.clock ?? Date.now,
    timers: deps.timers ?? realTimers,
    newId: deps.newId ?? randomUUID,
    emit: deps.onEvent ?? (() => {}),
    signal: deps.signal,
  };
  const result = emptyResult();
  await recover(ctx, result);
  if (roleInfo(config.role).ownScans && paths.entmergedir !== null) {
    const from = paths.entmergedir;
    await step(result, 'collect', async () => {
      const c = await collect({ from, to: paths.entpushdir, stableMs: config.sender.stableMs, now: ctx.now });
      result.left.push(...c.waiting);
      result.ignored.push(...c.ignored);
      ctx.emit({ type: 'collected', moved: c.moved.length + c.duplicates.length, waiting: c.waiting.length, ignored: c.ignored.length });
    });
    await step(result, 'pack', () => pack(ctx, result));
  }
  const queue = await readQueue(ctx, result);
  // Nothing queued: nothing to discard or send, and no reason to ask the parent anything.
  if (queue.length > 0) await discardAndPush(ctx, client, deps.discardSource ?? infoDiscardSource, queue, result);
  return result;
}

/** What a crash left: temps, records of removals under way, pack intents. */
async function recover(ctx: StepContext, result: RollupResult): Promise<void> {
  const { paths } = ctx;
  await sweepPushdir(paths.entpushdir, ctx.config.server, ctx.now);
  for (const dir of [paths.intents, paths.records]) await sweepTemps(dir);
  await sweepOwnTemps(paths.statedir, (target) => target === basename(paths.clock), ctx.now);
  if ((await listDirIfExists(paths.rejecteddir)) !== null) await sweepTemps(paths.rejecteddir);
  const queued = new Set((await listDir(paths.entpushdir)).map((e) => e.name));
  await recoverRecords(ctx.records, ctx.log, async (zip) => queued.has(zip));
  for (const zipped of await settleIntents(ctx)) {
    result.zipped.push(zipped);
    ctx.emit({ type: 'zipped', ...zipped });
  }
}

/** The zips to send, in send order; what cannot be sent is reported as left. */
async function readQueue(ctx: StepContext, result: RollupResult): Promise<string[]> {
  const { config } = ctx;
  const contents = await readPushdir(ctx.paths.entpushdir);
  result.left.push(...contents.invalid.map(({ name, reason }): LeftItem => ({ kind: /\.zip$/i.test(name) ? 'zip' : 'str', name, reason })));
  if (!roleInfo(config.role).ownScans) {
    const why = `role ${config.role} does not zip .str files of its own; this one waits for an operator`;
    result.left.push(...contents.strs.map((name): LeftItem => ({ kind: 'str', name, reason: why })));
  }
  return contents.zips;
}

async function discardAndPush(ctx: StepContext, client: ParentClient, source: DiscardSource, zips: string[], result: RollupResult): Promise<void> {
  let info: Promise<ReceiverInfo> | undefined;
  const parentInfo = () => (info ??= client.info(ctx.signal));
  let queue = zips;
  await step(result, 'discard', async () => {
    const before = await source({ parentInfo });
    const plan = planDiscard(queue, before?.getTime() ?? null);
    ctx.emit({ type: 'queued', zips: plan.keep.length, discard: plan.discard.length });
    if (before !== null) result.discarded.push(...(await discardZips(ctx, plan.discard, before)));
    queue = plan.keep;
  });
  if (queue.length === 0) return;
  // The parent's name for the records' `to`; its address when it did not say.
  const parent = await parentInfo().then((i) => i.server, () => new URL(client.url).host);
  const pushed = await pushZips(ctx, client, parent, queue);
  result.sent.push(...pushed.sent);
  result.rejected.push(...pushed.rejected);
  result.left.push(...pushed.left);
  result.stopped = pushed.stopped;
}

/** Plan the batches of the `.str` in entpushdir and pack them, oldest scans first. */
async function pack(ctx: StepContext, result: RollupResult): Promise<void> {
  const { paths, config } = ctx;
  const contents = await readPushdir(paths.entpushdir);
  const batches = planBatches(await statStrs(paths.entpushdir, contents.strs), config.sender.batchSize);
  ctx.emit({ type: 'planned', strs: contents.strs.length, batches: batches.length });
  if (batches.length === 0) return;
  const rejected = (await listDirIfExists(paths.rejecteddir)) ?? [];
  const onDisk = [...contents.zips, ...rejected.map((e) => e.name)];
  const clock = await loadClock(paths.clock, config.server, onDisk, ctx.now);
  try {
    for (const batch of batches) {
      if (ctx.signal?.aborted === true) break;
      const zipped = await packOne(ctx, clock, batch);
      result.zipped.push(zipped);
      ctx.emit({ type: 'zipped', ...zipped });
    }
  } finally {
    // Before any of these zips can be sent and gone.
    await saveClock(paths.clock, clock);
  }
}
