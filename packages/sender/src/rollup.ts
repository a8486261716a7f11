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
  makeRecord,
  parseOuterName,
  roleInfo,
  sweepTemps,
  type Config,
  type KeyPair,
  type ReceiverInfo,
  type RollupLog,
  type RollupRecord,
} from '@zenroll/core';
import { createParentClient, makeDispatcher, type ParentClient } from './client.js';
import { Channel } from './channel.js';
import { collect } from './collect.js';
import type { StepContext } from './context.js';
import { discardZips, infoDiscardSource, type DiscardSource } from './discard.js';
import type { LeftItem, RollupResult, SenderEvent, StepError } from './events.js';
import { leaveAll, packAll, planPack } from './pack-all.js';
import { settleIntents } from './pack-step.js';
import { planDiscard, type PushdirContents } from './plan.js';
import { Pusher } from './push.js';
import { listDir, listDirIfExists, readPushdir } from './read.js';
import { RecordStore, recoverRecords } from './records.js';
import type { ClockKeeper } from './sender-clock.js';
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
    throw new ZenrollError('USAGE', `role ${config.role} sends nothing to a parent (docs/SPEC.md §2): there is nothing to roll up`);
  }
  const paths = senderPaths(config);
  for (const dir of [paths.entpushdir, paths.entmergedir]) {
    if (dir === null) continue;
    try {
      await lstat(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new ZenrollError('FS_FAILED', `folder ${dir} does not exist; create it (zenroll init does) or fix dirs in the config`, {
          cause: err,
        });
      }
      throw fsError(err, 'look at', dir);
    }
  }
  await ensureStateDirs(paths);
  // A lock taken over while this roll-up was paused (LOCK_LOST) stops it at its next step, as a stop signal does.
  const lockLost = new AbortController();
  const lock = await acquireLock(paths.lock, { purpose: `rollup of ${config.server}`, onLost: (err) => lockLost.abort(err) });
  // Whatever throws from here on (a sender.tls file that cannot be read, say)
  // releases the lock: a library caller's next roll-up must not find it held.
  try {
    const dispatcher = deps.dispatcher ?? (await makeDispatcher(config.sender));
    const client = createParentClient(config.sender, dispatcher, { ownsDispatcher: deps.dispatcher === undefined, server: config.server });
    const signal = deps.signal === undefined ? lockLost.signal : AbortSignal.any([deps.signal, lockLost.signal]);
    try {
      return await rollUp(config, paths, client, { ...deps, signal });
    } finally {
      await client.close();
    }
  } finally {
    await lock.release();
  }
}

function emptyResult(): RollupResult {
  return { zipped: [], discarded: [], sent: [], rejected: [], left: [], ignored: [], errors: [], stopped: false };
}

/** A failed step is reported and the roll-up goes on; a bug is not a step failure. */
async function step(result: RollupResult, name: StepError['step'], body: () => Promise<void>): Promise<boolean> {
  return (
    (await stepValue(result, name, async () => {
      await body();
      return true;
    })) ?? false
  );
}

/** `step` for a step that computes something: its value, or null when it failed. */
async function stepValue<T>(result: RollupResult, name: StepError['step'], body: () => Promise<T>): Promise<T | null> {
  try {
    return await body();
  } catch (err) {
    if (!isZenrollError(err)) throw err;
    result.errors.push({ step: name, code: err.code, message: err.message });
    return null;
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
  const started = ctx.timers.now();
  await recover(ctx, result);
  const ownScans = roleInfo(config.role).ownScans && paths.entmergedir !== null;
  if (ownScans && paths.entmergedir !== null) {
    const from = paths.entmergedir;
    await step(result, 'collect', async () => {
      const c = await collect({ from, to: paths.entpushdir, stableMs: config.sender.stableMs, now: ctx.now });
      result.left.push(...c.waiting);
      result.ignored.push(...c.ignored);
      ctx.emit({ type: 'collected', moved: c.moved.length + c.duplicates.length, waiting: c.waiting.length, ignored: c.ignored.length });
    });
  }
  const contents = await readPushdir(paths.entpushdir);
  const queue = readQueue(ctx, contents, result);
  const planned = ownScans ? await stepValue(result, 'pack', async () => ({ plan: await planPack(ctx, contents) })) : null;
  // A plan that failed (a damaged clock file, say) packs nothing: every .str stays, and is counted.
  if (ownScans && planned === null)
    leaveAll(result, contents.strs, 'not zipped: planning the batches failed (see the pack error); it waits for the next roll-up');
  const plan = planned?.plan ?? null;
  // Packing and pushing overlap: each new zip is sent as soon as it is made,
  // after the zips already queued (all older: the clock has seen them).
  const fresh = new Channel<string>();
  const stopPacking = new AbortController();
  const packing = (async () => {
    try {
      if (plan !== null) await step(result, 'pack', () => packAll(ctx, plan, fresh, stopPacking.signal, result));
    } finally {
      fresh.close();
    }
  })();
  const source = deps.discardSource ?? infoDiscardSource;
  const work: PushWork = { queue, fresh, expected: plan?.batches.length ?? 0, keeper: plan?.keeper ?? null };
  const pushing = discardAndPush(ctx, client, source, work, result).finally(() => stopPacking.abort());
  const [packed, pushed] = await Promise.allSettled([packing, pushing]);
  if (pushed.status === 'rejected') throw pushed.reason;
  if (packed.status === 'rejected') throw packed.reason;
  // The summary is a record like any other: a log that cannot take it (the
  // journal's disk full) is this roll-up's error, not a reason to lose its result.
  const summary = rollupRecord(ctx, result, pushed.value, Math.round(ctx.timers.now() - started));
  await step(result, 'record', () => ctx.log.write({ record: summary }));
  return result;
}

/** The one record that ends a roll-up (SPEC §7): its counts and duration, on this server's object. */
function rollupRecord(ctx: StepContext, r: RollupResult, parent: string | null, totalMs: number): RollupRecord {
  const { server } = ctx.config;
  const zipsLeft = r.left.filter((l) => l.kind === 'zip').length;
  const counts = {
    zipped: r.zipped.length,
    sent: r.sent.length,
    discarded: r.discarded.length,
    rejected: r.rejected.length,
    left: r.left.length,
  };
  const troubles = [
    ...(r.stopped ? ['the parent did not answer through every try'] : []),
    ...r.errors.map((e) => `${e.step}: ${e.code}: ${e.message}`),
  ];
  const severity = troubles.length > 0 ? 'error' : r.rejected.length > 0 || zipsLeft > 0 ? 'warning' : 'info';
  // The counts are fields; the message only says what went wrong, so that the value stays short.
  return makeRecord(
    {
      source: 'sender',
      event: 'rollup',
      server,
      from: server,
      to: parent ?? '',
      totalMs,
      severity,
      fields: counts,
      message: troubles.join('; '),
    },
    { now: ctx.now, id: ctx.newId },
  );
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
function readQueue(ctx: StepContext, contents: PushdirContents, result: RollupResult): string[] {
  const { config } = ctx;
  result.left.push(...contents.invalid.map(({ name, reason }): LeftItem => ({ kind: /\.zip$/i.test(name) ? 'zip' : 'str', name, reason })));
  if (!roleInfo(config.role).ownScans) {
    const why = `role ${config.role} does not zip .str files of its own; this one waits for an operator`;
    result.left.push(...contents.strs.map((name): LeftItem => ({ kind: 'str', name, reason: why })));
  }
  return contents.zips;
}

interface PushWork {
  /** The zips in entpushdir before packing, in send order. */
  queue: string[];
  /** The zips packed by this roll-up, as they are made. */
  fresh: Channel<string>;
  /** How many zips packing should make. */
  expected: number;
  keeper: ClockKeeper | null;
}

/** Returns the parent's name when it was asked (for the `rollup` record's hop). */
async function discardAndPush(
  ctx: StepContext,
  client: ParentClient,
  source: DiscardSource,
  work: PushWork,
  result: RollupResult,
): Promise<string | null> {
  const { fresh, keeper } = work;
  let first: string | undefined;
  // Nothing queued: nothing to discard or send, and no reason to ask the parent anything.
  if (work.queue.length === 0) {
    first = await fresh.next();
    if (first === undefined) return null;
  }
  const seen = new Set<string>(work.queue);
  let info: Promise<ReceiverInfo> | undefined;
  const parentInfo = () => (info ??= client.info(ctx.signal));
  let queue = work.queue;
  let before: Date | null = null;
  // Read: the discard time is known (or known to be none).
  let known = false;
  const discarded = await step(result, 'discard', async () => {
    const at = await source({ parentInfo });
    const plan = planDiscard(queue, at?.getTime() ?? null);
    ctx.emit({ type: 'queued', zips: plan.keep.length + work.expected, discard: plan.discard.length });
    if (at !== null) result.discarded.push(...(await discardZips(ctx, plan.discard, at)));
    queue = plan.keep;
    before = at;
    known = true;
  });
  if (!discarded) ctx.emit({ type: 'queued', zips: queue.length + work.expected, discard: 0 });
  // The parent's name for the records' `to`; its address when it did not say.
  const parent = await parentInfo().then(
    (i) => i.server,
    () => new URL(client.url).host,
  );
  // SPEC §1 step 3 holds for every send: when the time could not be read at
  // the start (the parent did not answer), it is read again before each try,
  // so that a day of retries never sends a zip it would have discarded.
  const beforeTry = async (zip: string): Promise<boolean> => {
    if (!known) {
      info = undefined;
      const at = await source({ parentInfo }).then(
        (d) => ({ d }),
        () => null,
      );
      if (at === null) return false;
      before = at.d;
      known = true;
    }
    const at: Date | null = before;
    if (at === null || planDiscard([zip], at.getTime()).discard.length === 0) return false;
    return step(result, 'discard', async () => {
      result.discarded.push(...(await discardZips(ctx, [zip], at)));
    });
  };
  const pusher = new Pusher(ctx, client, parent, beforeTry);
  // A fresh zip older than the discard time is discarded by beforeTry, unsent.
  const discardOrPush = async (zip: string) => {
    seen.add(zip);
    await pusher.push(zip);
  };
  for (const zip of queue) await pusher.push(zip);
  for (let zip = first ?? (await fresh.next()); zip !== undefined; zip = await fresh.next()) {
    // Its time is remembered before the zip can be gone (SPEC §3: never used twice).
    await keeper?.cover(parseOuterName(zip).scheduledtime);
    await discardOrPush(zip);
  }
  if (work.expected > 0) {
    // What a child's Receiver promoted while this roll-up packed (an -ws
    // intermediate) is sent now rather than at the next roll-up.
    const late = (await readPushdir(ctx.paths.entpushdir)).zips.filter((z) => !seen.has(z));
    for (const zip of late) await discardOrPush(zip);
  }
  result.sent.push(...pusher.out.sent);
  result.rejected.push(...pusher.out.rejected);
  result.left.push(...pusher.out.left);
  result.stopped = pusher.out.stopped;
  if (pusher.out.problems.length > 0) result.problems = pusher.out.problems;
  return parent;
}
