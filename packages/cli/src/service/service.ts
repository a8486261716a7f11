/**
 * The long-running service of one server (SPEC §5 `serve`): what its role
 * needs — the Receiver, the scheduled Sender — plus the admin endpoint and
 * metrics. All its state lives in its folders; `statedir/serve.lock` keeps a
 * second process (on this node or another node sharing the folders) out.
 */
import { join } from 'node:path';
import {
  acquireLock,
  ensureDir,
  loadKeyPair,
  roleInfo,
  runHealthChecks,
  sweepTemps,
  type Config,
  type HealthCheck,
  type HealthReport,
  type Lock,
  ZenrollError,
  type LockInfo,
  messageOf,
} from '@zenroll/core';
import { openDirectory, type ZenrollLog } from '@zenroll/directory';
import { openLogFor } from '../context.js';
import { directorySources } from '../directory-sources.js';
import type { RunningReceiver } from '@zenroll/receiver';
import type { RollupResult } from '@zenroll/sender';
import type { Dispatcher } from 'undici';
import type { Logger as PinoLogger } from 'pino';
import { Activity } from './activity.js';
import { startAdmin, type AdminServer } from './admin.js';
import { Children, DESCRIPTION_HEADER, descriptionHeader } from './children.js';
import { Describer, makeDescription, readOwnDescription } from './describe.js';
import { Poller } from './poller.js';
import { treePages } from './tree-pages.js';
import { RequestStore, readAnswered, writeAnswered } from './wakeup.js';
import { foldersCheck, lockCheck } from './health.js';
import { recordTakeover } from './takeover.js';
import { readBacklog } from './backlog.js';
import { startHeapKeeper } from './heap-keeper.js';
import { createMetrics } from './metrics.js';
import { RollupRunner, lastSuccessOf, readLastRollup } from './runner.js';
import { startSchedule, type Schedule } from './scheduler.js';
import { statusLog as makeStatusLog, type StatusLog } from './status-log.js';
import { Degraded, setupError, startupChecks } from './startup.js';
import { VERSION } from '../version.js';

export interface ServiceStatus {
  server: string;
  tree: string;
  role: string;
  pid: number;
  receiver: string | null;
  schedule: { expression: string; timezone: string; next: string | null } | null;
  rollupRunning: boolean;
  backlog: Awaited<ReturnType<typeof readBacklog>>;
  lastRollup: Awaited<ReturnType<typeof readLastRollup>>;
  journalBacklog: number;
  /** What the start-up checks found wrong that may mend itself (a parent or a directory that did not answer), until it does. */
  degraded: string[];
}

export interface RunningService {
  receiver: RunningReceiver | null;
  admin: AdminServer;
  runner: RollupRunner | null;
  poller: Poller | null;
  status(): Promise<ServiceStatus>;
  /** The health report of SPEC §9 (what /v1/health answers). */
  health(): Promise<HealthReport>;
  lock: Lock;
  /** Resolves (with LOCK_LOST) if serve.lock is taken over while the service runs; the service must then stop. */
  lost: Promise<ZenrollError>;
  /** Write one record on this server's status log (SPEC §7, `zenrollStatusLog`); never rejects. */
  statusLog: StatusLog;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** `serve --standby`: wait for serve.lock instead of refusing to start (SPEC §9). */
  standby?: boolean;
  /** Stops a standby's wait (SIGTERM while waiting). */
  signal?: AbortSignal;
  /** How often serve.lock's heartbeat is written and checked; default a twelfth of its staleness (5 s of 60 s). */
  lockHeartbeatMs?: number;
  /** How often a start-up warning (parent, directory) is checked again until it mends; default 5 min. */
  recheckMs?: number;
}

export async function startService(config: Config, logger: PinoLogger, options: ServiceOptions = {}): Promise<RunningService> {
  const role = roleInfo(config.role);
  await ensureDir(config.dirs.statedir);
  // Another node took this server's lock over (this one was paused past its staleness): stop, never work beside it.
  let onLost: (err: ZenrollError) => void = () => {};
  const lost = new Promise<ZenrollError>((resolve) => (onLost = resolve));
  const lock: Lock = await acquireLock(join(config.dirs.statedir, 'serve.lock'), {
    purpose: 'zenroll serve',
    onLost: (err) => onLost(err),
    ...(options.lockHeartbeatMs === undefined ? {} : { heartbeatMs: options.lockHeartbeatMs }),
    ...(options.standby
      ? { wait: true, onWaiting: (holder: LockInfo | null) => logger.info({ holder }, 'standby: waiting for serve.lock') }
      : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const stack: (() => Promise<void>)[] = [() => lock.release()];
  // Crash recovery of the service's own files (description.json, last-rollup.json, …): serve.lock is
  // ours, so a temp beside them is what a killed holder, on this node or another, left mid-write.
  const swept = await sweepTemps(config.dirs.statedir).catch(async (err: unknown) => {
    await lock.release();
    throw err;
  });
  if (swept.length > 0) logger.info({ swept }, 'removed temporary files a stopped process left in statedir');
  const heap = startHeapKeeper();
  stack.push(async () => heap.stop());
  const closeAll = async () => {
    for (const close of stack.reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
    stack.length = 0;
  };
  let started = false;
  // Set once the log is open: a start that fails after it leaves a `problem` record.
  let startFailed: ((err: unknown) => Promise<void>) | null = null;
  try {
    let runner: RollupRunner | null = null;
    const startedMs = Date.now();
    const metrics = createMetrics(config, {
      lastSuccessMs: () => runner?.lastSuccessMs ?? null,
      journalBacklog: () => log.backlog(),
    });
    // The `stopped` record is the last one: close() gives the directory a moment to take it.
    const activity = await Activity.open(config.dirs.statedir);
    const log: ZenrollLog = activity.instrument(metrics.instrument(await openLogFor(config, { logger, closeDrainMs: 1000 })));
    stack.push(() => log.close());
    const statusLog = makeStatusLog(log, config.server, logger);
    await recordTakeover(config, logger, lock, statusLog);
    startFailed = (err) =>
      statusLog('problem', {
        message: `zenroll ${VERSION} could not start: ${err instanceof Error ? err.message : String(err)}${err instanceof ZenrollError && err.fix !== undefined ? `; fix: ${err.fix}` : ''}`,
      });
    // Issue 16: the local half of `zenroll doctor` before any work is taken (a
    // failed one stops the start, exit 2); a parent or a directory that does
    // not answer is a warning: the service starts degraded and says so.
    const startup = await startupChecks(config);
    if (startup.fatal.length > 0) throw setupError(startup.fatal);
    const degraded = new Degraded(startup.warnings, startup.recheck);
    stack.push(async () => degraded.stop());
    stack.push(async () => {
      // Not after a takeover: the log is the new holder's now.
      if (started && !lock.lost) await statusLog('stopped', { message: `zenroll ${VERSION} stopped` });
    });

    // SPEC §8: what this server is, on its own object (its own connection: a slow write never holds up the log's).
    const directory = openDirectory(config, { logger });
    if (directory !== null) stack.push(() => directory.close());
    let parentName: string | null = null;
    const describer = new Describer({
      server: config.server,
      statedir: config.dirs.statedir,
      directory,
      logger,
      onWritten: () => activity.save(),
      make: async () =>
        makeDescription({
          config,
          now: Date.now(),
          startedMs,
          parent: parentName,
          backlog: await readBacklog(config),
          last: await readLastRollup(config.dirs.statedir).catch(() => null),
          activity,
        }),
    });
    stack.push(() => describer.close());
    // A Receiver's figures change with each upload: described again 10 s after one (a poll period when that is shorter).
    let describeSoon: NodeJS.Timeout | null = null;
    const describeLater = () => {
      describeSoon ??= setTimeout(
        () => {
          describeSoon = null;
          void describer.describe();
        },
        Math.max(1000, Math.min(10_000, config.sender.pollSeconds * 1000 || 10_000)),
      );
      describeSoon.unref();
    };
    stack.push(async () => {
      if (describeSoon !== null) clearTimeout(describeSoon);
    });

    const sources = directorySources(config, logger);
    stack.push(() => sources.close());

    // SIGTERM must not wait for a roll-up's retries (up to ~23 h, SPEC §1): the
    // Sender stops at its next step or wait, and what is left stays for the next one.
    // Those who watch a roll-up's events: a `zenroll rollup` waiting on the admin socket.
    const watchers = new Set<(event: unknown) => void>();
    const stopping = new AbortController();
    let receiver: RunningReceiver | null = null;
    // SPEC §8: the roll-up request this Receiver announces, and the children that polled it.
    const requests = role.receiver ? await RequestStore.open(config.dirs.statedir) : null;
    const children = role.receiver ? await Children.open(config.dirs.statedir) : null;
    if (children !== null) stack.push(() => children.close());
    // The Receiver answers /v1/health with the service's report, which is made once every part has started.
    let healthOf = async (): Promise<HealthReport> => ({
      status: 'failing',
      checks: [{ name: 'service', state: 'failing', reason: 'starting' }],
    });
    // Each side is loaded only by a role that runs it (a leaf never loads the Receiver, a root never the Sender and undici).
    if (role.receiver) {
      const { startReceiver } = await import('@zenroll/receiver');
      receiver = await startReceiver(config, {
        log,
        logger,
        health: () => healthOf(),
        discardBefore: sources.discardBefore,
        ...(sources.extraKeys ? { extraKeys: sources.extraKeys } : {}),
        rollupRequested: () => requests?.requested ?? null,
        onInfo: (req) => children?.seen(req),
        onPromoted: () => {
          describeLater();
          // sender.forwardOnReceive (config.ts allows it only for intermediates, which promote to entpushdir),
          // or a roll-up request passed on to the children (SPEC §8): each promoted zip starts a roll-up, or joins the next one.
          const forward = config.sender.forwardOnReceive || (requests?.forwarding(config.sender.pollSeconds) ?? false);
          if (!forward || stopping.signal.aborted) return;
          runner?.force('received').catch((err: unknown) => logger.error({ err }, 'forwarding roll-up failed'));
        },
      });
      const r = receiver;
      stack.push(() => r.close());
    }

    let schedule: Schedule | null = null;
    let pollerRef: Poller | null = null;
    let rollupsStopped: Promise<void> | null = null;
    const stopRollups = () =>
      (rollupsStopped ??= (async () => {
        await pollerRef?.stop();
        await schedule?.stop();
        stopping.abort();
        await runner?.idle();
      })());
    if (role.sender) {
      const { makeDispatcher, runRollup } = await import('@zenroll/sender');
      const keys = await loadKeyPair(config.keys.private, config.keys.public);
      // One dispatcher for the service's life: its TLS context (the system CAs
      // plus sender.tls.ca, ~30 ms to build) and its connection to the parent
      // serve every roll-up. One that could not be made is tried again next time.
      let made: Promise<Dispatcher> | null = null;
      const dispatcher = () =>
        (made ??= makeDispatcher(config.sender).catch((err: unknown) => {
          made = null;
          throw err;
        }));
      stack.push(async () => {
        const d = await made?.catch(() => null);
        await d?.close();
      });
      const rollup = async (): Promise<RollupResult> =>
        runRollup(config, {
          log,
          keys,
          dispatcher: await dispatcher(),
          discardSource: sources.discardSource,
          signal: stopping.signal,
          onEvent: (ev) => {
            for (const watch of watchers) watch(ev);
            if (ev.type === 'retry') metrics.retry();
            // A .str no zip can hold was moved to rejected/: no SPEC §7 event is the Sender's for it.
            if (ev.type === 'str-rejected') logger.error(ev, `sender ${ev.type}`);
            else logger.info(ev, `sender ${ev.type}`);
          },
        });
      // The last success survives a restart: last-rollup.json records it, whichever process ran it.
      const last = await readLastRollup(config.dirs.statedir).catch((err: unknown) => {
        logger.warn({ err }, 'could not read the last roll-up: /metrics shows none until the next one');
        return null;
      });
      const r = new RollupRunner({
        rollup,
        statedir: config.dirs.statedir,
        logger,
        lastSuccessMs: lastSuccessOf(last),
        onFinished: () => void describer.describe(),
      });
      runner = r;
      schedule = startSchedule({
        expression: config.sender.schedule,
        timezone: config.sender.timezone,
        randomizeMinutes: config.sender.randomizeMinutes,
        tick: () => r.tick().catch(() => null),
        logger,
      });
      const s = schedule;
      stack.push(stopRollups);
      logger.info({ schedule: config.sender.schedule, timezone: config.sender.timezone, next: s.nextRun() }, 'sender scheduled');

      if (config.sender.pollSeconds > 0) {
        const { createParentClient } = await import('@zenroll/sender');
        const answered = (await readAnswered(config.dirs.statedir).catch(() => null)) ?? last?.startedAt ?? null;
        const poller = new Poller({
          intervalMs: config.sender.pollSeconds * 1000,
          answered,
          logger,
          info: async (signal, headers) =>
            createParentClient(config.sender, await dispatcher(), { ownsDispatcher: false }).info(signal, headers),
          headers: async () => ({
            [DESCRIPTION_HEADER]: descriptionHeader(config.server, await readOwnDescription(config.dirs.statedir).catch(() => null)),
          }),
          onParent: (name) => {
            parentName = name;
            void describer.describe();
          },
          answer: async (requested) => {
            const parent = parentName ?? 'parent';
            const hop = { from: parent, to: config.server };
            logger.info({ requested, parent }, 'the parent asks for a roll-up: running one');
            await statusLog('wake-up', {
              ...hop,
              message: `${parent} asked for a roll-up (request of ${requested}): running one`,
              fields: { requested },
            });
            // An intermediate passes the same request on to its children, and forwards what they send for it.
            if (requests !== null && (await requests.set(requested, parent))) {
              await statusLog('rollup-requested', {
                ...hop,
                message: `the request of ${requested} passed on to the servers below ${config.server}`,
                fields: { requested },
              });
            }
            try {
              const res = await r.force('wakeup');
              const fields = {
                requested,
                zipped: res.zipped.length,
                sent: res.sent.length,
                rejected: res.rejected.length,
                left: res.left.length,
              };
              await statusLog('wake-up-rollup', {
                ...hop,
                message: `the roll-up for the request of ${requested}: ${res.zipped.length} zipped, ${res.sent.length} sent, ${res.rejected.length} rejected, ${res.left.length} left`,
                fields,
              });
            } catch (err) {
              await statusLog('wake-up-rollup', {
                ...hop,
                severity: 'error',
                message: `the roll-up for the request of ${requested} failed: ${messageOf(err)}`,
                fields: { requested },
              });
            }
            await writeAnswered(config.dirs.statedir, requested).catch((err: unknown) =>
              logger.warn({ err }, 'could not record the answered roll-up request'),
            );
          },
        });
        poller.start();
        // Stopped first by stopRollups, so that no new wake-up starts a roll-up.
        pollerRef = poller;
      }
    }

    // SPEC §9: named checks, each ok / degraded / failing with its reason; others add theirs to this list.
    const checks: HealthCheck[] = [
      lockCheck(lock),
      foldersCheck(config),
      {
        name: 'start-up',
        run: async () => {
          const reasons = degraded.list();
          return reasons.length === 0 ? { state: 'ok' } : { state: 'degraded', reason: reasons.join('; ') };
        },
      },
    ];
    if (receiver !== null) {
      const r = receiver;
      checks.push({ name: 'receiver', run: () => r.health() });
    }
    const health = async (): Promise<HealthReport> => runHealthChecks(checks);
    healthOf = health;

    const status = async (): Promise<ServiceStatus> => ({
      server: config.server,
      tree: config.tree,
      role: config.role,
      pid: process.pid,
      receiver: receiver?.url ?? null,
      schedule: schedule
        ? { expression: config.sender.schedule, timezone: config.sender.timezone, next: schedule.nextRun()?.toISOString() ?? null }
        : null,
      rollupRunning: runner?.busy ?? false,
      backlog: await readBacklog(config),
      lastRollup: await readLastRollup(config.dirs.statedir),
      journalBacklog: log.backlog(),
      degraded: degraded.list(),
    });
    const admin = await startAdmin(config.dirs.statedir, config.admin.listen, {
      status,
      rollup: async (onEvent) => {
        if (runner === null)
          throw new ZenrollError('USAGE', `role ${config.role} sends nothing to a parent (docs/SPEC.md §2): there is nothing to roll up`);
        if (onEvent === undefined) return runner.force();
        // `zenroll rollup` sees the events of the roll-up it waits for as they happen (a scheduled one running first too).
        watchers.add(onEvent);
        try {
          return await runner.force();
        } finally {
          watchers.delete(onEvent);
        }
      },
      rollupTree: async () => {
        if (requests === null) throw new ZenrollError('USAGE', `role ${config.role} has no Receiver: there is no server below it to ask`);
        const requested = new Date().toISOString();
        await requests.set(requested, 'command');
        logger.info({ requested }, 'roll-up of the tree requested (zenroll rollup --tree)');
        await statusLog('rollup-requested', {
          message: `zenroll rollup --tree: every server below ${config.server} is asked for a roll-up`,
          fields: { requested },
        });
        return { requested: requests.requested };
      },
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
      health: async () => ({ ...(await health()), server: config.server, role: config.role, node: lock.info.node, pid: process.pid }),
      page: (path) => treePages(path, { config, directory, log }),
    });
    stack.push(() => admin.close());
    // Closed in reverse: the roll-ups stop first, so that a `zenroll rollup --now` waiting on the admin socket gets its answer.
    stack.push(stopRollups);
    logger.info({ socket: admin.socket, metrics: admin.tcp ? `${admin.tcp}/metrics` : null }, 'admin endpoint ready');
    await statusLog('started', {
      message: `zenroll ${VERSION} started as ${config.role}${receiver ? `, receiving on ${receiver.url}` : ''}`,
      fields: {
        version: VERSION,
        role: config.role,
        node: lock.info.node ?? '',
        ...(schedule ? { schedule: config.sender.schedule, timezone: config.sender.timezone } : {}),
      },
    });
    started = true;
    for (const w of startup.warnings) {
      logger.warn({ check: w.name, detail: w.detail }, 'started degraded');
      await statusLog('problem', { severity: 'warning', message: `started degraded: ${w.name}: ${w.detail}`, fields: { check: w.name } });
    }
    degraded.start(options.recheckMs ?? 5 * 60_000, (name) => {
      logger.info({ check: name }, 'no longer degraded');
      void statusLog('problem', { severity: 'info', message: `${name} is right again: no longer degraded`, fields: { check: name } });
    });
    void describer.describe();
    return { receiver, admin, runner, poller: pollerRef, status, health, lock, lost, statusLog, close: closeAll };
  } catch (err) {
    await startFailed?.(err);
    await closeAll();
    throw err;
  }
}
