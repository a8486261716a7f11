/**
 * The Sender's schedule (`sender.schedule`, `sender.timezone`,
 * `sender.randomizeMinutes`) on node-cron 4. Overlaps are the runner's
 * business (it skips and logs them), so every tick goes to it.
 */
import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import { ZenrollError } from '@zenroll/core';
import { watchSkippedSlots } from './dst-gap.js';

/** What the schedule logs (the service's pino logger). */
export interface ScheduleLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * node-cron logs coloured text through console by default; in the service
 * every line is one JSON object (pino), so its messages go there.
 */
function cronLogger(logger: ScheduleLogger): CronLogger {
  const at = (level: 'debug' | 'error') => (message: string | Error, err?: Error) => {
    const e = message instanceof Error ? message : err;
    logger[level]({ source: 'node-cron', ...(e ? { err: e } : {}) }, message instanceof Error ? message.message : message);
  };
  return {
    info: (message) => logger.info({ source: 'node-cron' }, message),
    warn: (message) => logger.warn({ source: 'node-cron' }, message),
    error: at('error'),
    debug: at('debug'),
  };
}

/**
 * How late a tick may still start. node-cron's default (1 s) drops a tick
 * whenever the process is busy or paused for a moment at that second — a
 * whole day's roll-up for a nightly schedule. A roll-up a few minutes late
 * is fine; a tick is still never run once the next one is due.
 */
export const MISSED_TICK_TOLERANCE_MS = 5 * 60_000;

export interface Schedule {
  stop(): Promise<void>;
  nextRun(): Date | null;
}

export function checkSchedule(expression: string): void {
  const v = cron.validateDetailed(expression);
  if (!v.valid) {
    const why = v.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new ZenrollError('CONFIG_INVALID', `sender.schedule ${JSON.stringify(expression)} is not a valid cron expression (${why})`);
  }
}

export function startSchedule(options: {
  expression: string;
  timezone: string;
  randomizeMinutes: number;
  tick: () => Promise<unknown>;
  logger: ScheduleLogger;
}): Schedule {
  checkSchedule(options.expression);
  const task: ScheduledTask = cron.schedule(
    options.expression,
    async () => {
      await options.tick();
    },
    {
      timezone: options.timezone,
      maxRandomDelay: options.randomizeMinutes * 60_000,
      name: 'zenroll-rollup',
      missedExecutionTolerance: MISSED_TICK_TOLERANCE_MS,
      logger: cronLogger(options.logger),
    },
  );
  // node-cron never runs a slot the clocks skip (spring forward): run it right after the jump.
  const gaps = watchSkippedSlots({
    expression: options.expression,
    timezone: options.timezone,
    run: (slot) => {
      const local = new Date(slot * 60_000).toISOString().slice(0, 16).replace('T', ' ');
      options.logger.warn({ slot: local, timezone: options.timezone }, 'the clocks skipped this scheduled time; the roll-up runs now');
      options.tick().catch(() => undefined);
    },
  });
  return {
    async stop() {
      gaps.stop();
      await task.destroy();
    },
    nextRun: () => task.getNextRun(),
  };
}
