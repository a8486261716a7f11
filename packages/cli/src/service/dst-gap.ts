/**
 * Slots of the schedule that the clocks skip. When `sender.timezone` goes
 * forward (02:00 → 03:00 on a spring night), a schedule whose local time
 * falls in the lost hour never matches, and node-cron runs nothing that day:
 * `0 2 * * *`, SPEC §6's example, in Europe/Berlin or America/New_York. Vixie
 * cron runs such a job right after the jump; so does this: once a minute it
 * compares the local wall time with the real time gone by, and when the wall
 * clock leapt ahead, any scheduled minute in the leap runs now, once.
 */
import cron from 'node-cron';
import { type CronFields, wallMs } from './schedule-slots.js';

/** A local wall time, as minutes since the epoch of a clock without zones. */
function wallMinutes(ms: number, timezone: string): number {
  return Math.floor(wallMs(ms, timezone) / 60_000);
}

type Fields = Omit<CronFields, 'second'>;

/**
 * Whether the expression matches wall minute `m` (every field at once, as
 * node-cron's matcher does). Day fields with special forms (`L`, `#`) are
 * not judged here: no catch-up for those.
 */
export function matchesWallMinute(fields: Fields, m: number): boolean {
  const d = new Date(m * 60_000);
  const numeric = (xs: (number | string)[]): xs is number[] => xs.every((x) => typeof x === 'number');
  if (!numeric(fields.dayOfMonth) || !numeric(fields.dayOfWeek)) return false;
  return (
    fields.minute.includes(d.getUTCMinutes()) &&
    fields.hour.includes(d.getUTCHours()) &&
    fields.dayOfMonth.includes(d.getUTCDate()) &&
    fields.month.includes(d.getUTCMonth() + 1) &&
    // node-cron accepts 7 for Sunday too.
    (fields.dayOfWeek.includes(d.getUTCDay()) || (d.getUTCDay() === 0 && fields.dayOfWeek.includes(7)))
  );
}

/** The wall minutes strictly between two checks that no real instant had, when the clock leapt ahead. */
export function skippedWallMinutes(prev: { ms: number; wall: number }, now: { ms: number; wall: number }): number[] {
  const realMinutes = Math.round((now.ms - prev.ms) / 60_000);
  const leap = now.wall - prev.wall - realMinutes;
  // A leap of a quarter-hour or more is a change of offset, not drift; a long pause between checks is judged by node-cron's own tolerance.
  if (leap < 15 || realMinutes > 10) return [];
  // The `leap` wall minutes after the last one the clock showed before the jump.
  return Array.from({ length: leap }, (_, i) => prev.wall + 1 + i);
}

export interface GapWatch {
  stop(): void;
}

/** Check once a minute; call `run(slot)` for a scheduled wall minute the clocks skipped. */
export function watchSkippedSlots(options: {
  expression: string;
  timezone: string;
  run: (slotWallMinute: number) => void;
  now?: () => number;
}): GapWatch {
  const now = options.now ?? Date.now;
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: node-cron's parse gives its expanded fields untyped; CronFields is their shape
  const fields = cron.parse(options.expression) as CronFields;
  let prev = { ms: now(), wall: wallMinutes(now(), options.timezone) };
  const timer = setInterval(() => {
    const ms = now();
    const cur = { ms, wall: wallMinutes(ms, options.timezone) };
    const slot = skippedWallMinutes(prev, cur).find((m) => matchesWallMinute(fields, m));
    prev = cur;
    if (slot !== undefined) options.run(slot);
  }, 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
