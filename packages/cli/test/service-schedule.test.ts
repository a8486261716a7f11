/**
 * The Sender's schedule on node-cron (service/scheduler.ts): a six-field
 * expression ticks every second, node-cron's own messages go to the
 * service's logger (never to the console, which would break the one-JSON-
 * object-a-line log), and a tick the process was too busy to start on the
 * second still runs late instead of being dropped, up to
 * MISSED_TICK_TOLERANCE_MS (under fake timers); `sender.randomizeMinutes`
 * starts each tick at a random delay below it (under fake timers, with
 * Math.random controlled).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isZenrollError } from '@zenroll/core';
import { checkSchedule, MISSED_TICK_TOLERANCE_MS, startSchedule, type Schedule, type ScheduleLogger } from '../src/service/scheduler.js';
import { waitUntil } from './helpers/service.js';

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

function memoryLogger(): ScheduleLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: { ...obj }, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

let schedule: Schedule | null = null;
afterEach(async () => {
  await schedule?.stop();
  schedule = null;
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('checkSchedule', () => {
  it.each(['0 2 * * *', '*/2 * * * * *', '30 1 * * 1-5'])('takes %s', (expression) => {
    expect(() => checkSchedule(expression)).not.toThrow();
  });

  it.each([
    ['61 * * * *', /minute/],
    ['* * 32 * *', /day/],
    ['0 2 * * mon-xyz', /weekday|week/i],
  ])('refuses %s with CONFIG_INVALID naming sender.schedule and the field', (expression, field) => {
    let error: unknown;
    try {
      checkSchedule(expression);
    } catch (err) {
      error = err;
    }
    expect(isZenrollError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(
      new RegExp(`^sender\\.schedule "${expression.replace(/\*/g, '\\*')}" is not a valid cron expression \\(`),
    );
    expect((error as Error).message).toMatch(field);
  });
});

describe('startSchedule', () => {
  it('ticks on a six-field schedule and tells the next run in its time zone', async () => {
    let ticks = 0;
    const logger = memoryLogger();
    schedule = startSchedule({
      expression: '* * * * * *',
      timezone: 'Europe/Berlin',
      randomizeMinutes: 0,
      logger,
      tick: async () => void ticks++,
    });
    const next = schedule.nextRun();
    expect(next).toBeInstanceOf(Date);
    expect(next!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
    await waitUntil('two ticks', () => ticks >= 2, 10_000);
    await schedule.stop();
    schedule = null;
    expect(logger.lines).toEqual([]);
  });

  it('runs a tick late when the process was busy on its second, instead of dropping it', async () => {
    // Fake Date and timers: the process is busy (or paused) across the tick for exactly as long as
    // the test says, however loaded the machine is. Busy: the clock goes on, no timer fires.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2026-12-01T01:59:00Z'));
    const busyFor = (ms: number) => vi.setSystemTime(Date.now() + ms);
    const at: string[] = [];
    const logger = memoryLogger();
    schedule = startSchedule({
      expression: '0 2 * * *',
      timezone: 'UTC',
      randomizeMinutes: 0,
      logger,
      tick: async () => void at.push(new Date().toISOString()),
    });
    const missed = () => logger.lines.filter((l) => /missed/.test(l.msg));

    // Busy from a second before 02:00 until 02:03: node-cron's default drops a tick 1 s late as missed.
    await vi.advanceTimersByTimeAsync(59_000);
    busyFor(3 * 60_000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(at).toEqual(['2026-12-01T02:03:00.000Z']); // run as soon as the process was free
    expect(missed()).toEqual([]);

    // Still bounded: busy past the tolerance, the next night's tick is dropped as missed (and logged).
    await vi.advanceTimersByTimeAsync(Date.parse('2026-12-02T01:59:59Z') - Date.now());
    busyFor(MISSED_TICK_TOLERANCE_MS + 60_000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(at).toEqual(['2026-12-01T02:03:00.000Z']);
    expect(missed()).toEqual([expect.objectContaining({ level: 'warn', obj: { source: 'node-cron' } })]);
  });

  it('logs ticks it had to drop through the logger, not the console', async () => {
    const consoleSpies = [
      vi.spyOn(globalThis.console, 'warn'),
      vi.spyOn(globalThis.console, 'info'),
      vi.spyOn(globalThis.console, 'error'),
    ];
    const ticks: number[] = [];
    const logger = memoryLogger();
    schedule = startSchedule({
      expression: '* * * * * *',
      timezone: 'UTC',
      randomizeMinutes: 0,
      logger,
      tick: async () => void ticks.push(Date.now()),
    });
    await waitUntil('the first tick', () => ticks.length >= 1, 10_000);
    // Block the event loop across more than one tick, as a long synchronous task would.
    const blockedUntil = Date.now() + 2200;
    while (Date.now() < blockedUntil) {
      // busy
    }
    const before = ticks.length;
    await waitUntil('a tick after the busy spell', () => ticks.length > before, 10_000);
    const missed = logger.lines.filter((l) => l.level === 'warn' && /missed execution/.test(l.msg));
    expect(missed.length).toBeGreaterThanOrEqual(1);
    expect(missed[0]?.obj).toEqual({ source: 'node-cron' });
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });

  it('starts each tick of randomizeMinutes N after a delay in [0, N min) that follows Math.random', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2026-12-01T00:00:00Z'));
    // node-cron draws one number per tick: delay = floor(random × N min).
    const draws = [0.5, 0.999, 0];
    const random = vi.spyOn(Math, 'random').mockImplementation(() => {
      const next = draws.shift();
      if (next === undefined) throw new Error('Math.random called more often than once a tick');
      return next;
    });
    const at: string[] = [];
    const logger = memoryLogger();
    schedule = startSchedule({
      expression: '0 2 * * *',
      timezone: 'UTC',
      randomizeMinutes: 30,
      logger,
      tick: async () => void at.push(new Date().toISOString()),
    });
    for (let step = 0; step < 3 * 24 * 6; step++) await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(at).toEqual([
      '2026-12-01T02:15:00.000Z', // 0.5 × 30 min
      '2026-12-02T02:29:58.200Z', // floor(0.999 × 1 800 000 ms): just under 30 min
      '2026-12-03T02:00:00.000Z', // 0: at once
    ]);
    expect(random).toHaveBeenCalledTimes(3);
    expect(logger.lines.filter((l) => l.level !== 'debug')).toEqual([]);
  });
});
