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
  type Config,
  type Lock,
  type ZenrollError,
} from '@zenroll/core';
import type { ZenrollLog } from '@zenroll/directory';
import { openLogFor } from '../context.js';
import { directorySources } from '../directory-sources.js';
import type { RunningReceiver } from '@zenroll/receiver';
import type { RollupResult } from '@zenroll/sender';
import type { Dispatcher } from 'undici';
import type { Logger as PinoLogger } from 'pino';
import { startAdmin, type AdminServer } from './admin.js';
import { readBacklog } from './backlog.js';
import { startHeapKeeper } from './heap-keeper.js';
import { createMetrics } from './metrics.js';
import { RollupRunner, lastSuccessOf, readLastRollup } from './runner.js';
import { startSchedule, type Schedule } from './scheduler.js';
import { statusLog as makeStatusLog, type StatusLog } from './status-log.js';
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
}

export interface RunningService {
  receiver: RunningReceiver | null;
  admin: AdminServer;
  runner: RollupRunner | null;
  status(): Promise<ServiceStatus>;
  /** Resolves (with LOCK_LOST) if serve.lock is taken over while the service runs; the service must then stop. */
  lost: Promise<ZenrollError>;
  /** Write one record on this server's status log (SPEC §7, `zenrollStatusLog`); never rejects. */
  statusLog: StatusLog;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** How often serve.lock's heartbeat is written and checked; default a twelfth of its staleness (5 s of 60 s). */
  lockHeartbeatMs?: number;
}

export async function startService(config: Config, logger: PinoLogger, options: ServiceOptions = {}): Promise<RunningService> {
  const role = roleInfo(config.role);
  await ensureDir(config.dirs.statedir);
  // Another node took this server's lock over (this one was paused past its staleness): stop, never work beside it.
  let onLost: (err: ZenrollError) => void = () => {};
  const lost = new Promise<ZenrollError>((resolve) => (onLost = resolve));
  const lock: Lock = await acquireLock(join(config.dirs.statedir, 'serve.lock'), { purpose: 'zenroll serve', onLost: (err) => onLost(err), ...(options.lockHeartbeatMs === undefined ? {} : { heartbeatMs: options.lockHeartbeatMs }) });
  const stack: (() => Promise<void>)[] = [() => lock.release()];
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
    const metrics = createMetrics(config, {
      lastSuccessMs: () => runner?.lastSuccessMs ?? null,
      journalBacklog: () => log.backlog(),
    });
    // The `stopped` record is the last one: close() gives the directory a moment to take it.
    const log: ZenrollLog = metrics.instrument(await openLogFor(config, { logger, closeDrainMs: 1000 }));
    stack.push(() => log.close());
    const statusLog = makeStatusLog(log, config.server, logger);
    startFailed = (err) => statusLog('problem', { message: `zenroll ${VERSION} could not start: ${err instanceof Error ? err.message : String(err)}` });
    stack.push(async () => {
      if (started) await statusLog('stopped', { message: `zenroll ${VERSION} stopped` });
    });

    const sources = directorySources(config, logger);
    stack.push(() => sources.close());

    // SIGTERM must not wait for a roll-up's retries (up to ~23 h, SPEC §1): the
    // Sender stops at its next step or wait, and what is left stays for the next one.
    const stopping = new AbortController();
    let receiver: RunningReceiver | null = null;
    // Each side is loaded only by a role that runs it (a leaf never loads the Receiver, a root never the Sender and undici).
    if (role.receiver) {
      const { startReceiver } = await import('@zenroll/receiver');
      receiver = await startReceiver(config, {
        log,
        logger,
        discardBefore: sources.discardBefore,
        ...(sources.extraKeys ? { extraKeys: sources.extraKeys } : {}),
        // sender.forwardOnReceive (config.ts allows it only for intermediates, which promote to entpushdir):
        // each promoted zip starts a roll-up, or joins the next one.
        ...(config.sender.forwardOnReceive
          ? {
              onPromoted: () => {
                if (stopping.signal.aborted) return;
                runner?.force('received').catch((err: unknown) => logger.error({ err }, 'forwarding roll-up failed'));
              },
            }
          : {}),
      });
      const r = receiver;
      stack.push(() => r.close());
    }

    let schedule: Schedule | null = null;
    let rollupsStopped: Promise<void> | null = null;
    const stopRollups = () =>
      (rollupsStopped ??= (async () => {
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
      const r = new RollupRunner({ rollup, statedir: config.dirs.statedir, logger, lastSuccessMs: lastSuccessOf(last) });
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
    }

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
    });
    const admin = await startAdmin(config.dirs.statedir, config.admin.listen, {
      status,
      rollup: async () => {
        if (runner === null) throw new Error(`role ${config.role} sends nothing: there is nothing to roll up`);
        return runner.force();
      },
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    });
    stack.push(() => admin.close());
    // Closed in reverse: the roll-ups stop first, so that a `zenroll rollup --now` waiting on the admin socket gets its answer.
    stack.push(stopRollups);
    logger.info({ socket: admin.socket, metrics: admin.tcp ? `${admin.tcp}/metrics` : null }, 'admin endpoint ready');
    await statusLog('started', {
      message: `zenroll ${VERSION} started as ${config.role}${receiver ? `, receiving on ${receiver.url}` : ''}`,
      fields: { version: VERSION, role: config.role, ...(schedule ? { schedule: config.sender.schedule, timezone: config.sender.timezone } : {}) },
    });
    started = true;
    return { receiver, admin, runner, status, lost, statusLog, close: closeAll };
  } catch (err) {
    await startFailed?.(err);
    await closeAll();
    throw err;
  }
}
