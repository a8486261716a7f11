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

/** A local wall time, as minutes since the epoch of a clock without zones. */
function wallMinutes(ms: number, zone: Intl.DateTimeFormat): number {
  const p = Object.fromEntries(zone.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const hour = Number(p.hour) % 24; // some ICU versions give "24" at midnight
  return Math.floor(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), hour, Number(p.minute)) / 60_000);
}

interface Fields {
  minute: number[];
  hour: number[];
  dayOfMonth: (number | string)[];
  month: number[];
  dayOfWeek: (number | string)[];
}

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
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: node-cron's parse gives its expanded fields untyped; Fields is their shape
  const fields = cron.parse(options.expression) as Fields;
  const zone = new Intl.DateTimeFormat('en-US', {
    timeZone: options.timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  let prev = { ms: now(), wall: wallMinutes(now(), zone) };
  const timer = setInterval(() => {
    const ms = now();
    const cur = { ms, wall: wallMinutes(ms, zone) };
    const slot = skippedWallMinutes(prev, cur).find((m) => matchesWallMinute(fields, m));
    prev = cur;
    if (slot !== undefined) options.run(slot);
  }, 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
