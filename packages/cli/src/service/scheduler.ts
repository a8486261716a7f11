/**
 * The Sender's schedule (`sender.schedule`, `sender.timezone`,
 * `sender.randomizeMinutes`) on node-cron 4. Overlaps are the runner's
 * business (it skips and logs them), so every tick goes to it.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { ZenrollError } from '@zenroll/core';

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
    },
  );
  return {
    async stop() {
      await task.destroy();
    },
    nextRun: () => task.getNextRun(),
  };
}
