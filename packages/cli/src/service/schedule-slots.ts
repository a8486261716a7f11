/**
 * The scheduled times of `sender.schedule` after a given instant, in
 * `sender.timezone`: what a server needs to say when it will be late
 * (SPEC §8: no roll-up for more than two schedule periods). node-cron only
 * tells the next run from now, so this walks the parsed fields itself,
 * day by day, the way node-cron matches them (every field at once).
 */
import cron from 'node-cron';

/** node-cron's parsed expression (its `parse` gives them untyped). */
export interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: (number | string)[];
  month: number[];
  dayOfWeek: (number | string)[];
}

const zones = new Map<string, Intl.DateTimeFormat>();
function zoneOf(timezone: string): Intl.DateTimeFormat {
  let f = zones.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zones.set(timezone, f);
  }
  return f;
}

/** The wall clock of `ms` in the zone, as milliseconds of a clock without zones. */
export function wallMs(ms: number, timezone: string): number {
  const p = Object.fromEntries(
    zoneOf(timezone)
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return (
    Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour) % 24, Number(p.minute), Number(p.second)) +
    (((ms % 1000) + 1000) % 1000)
  );
}

/** The instant whose wall clock is `wall` (in a gap the clocks skip: the instant just after it). */
function instantOf(wall: number, timezone: string): number {
  let guess = wall - (wallMs(wall, timezone) - wall);
  guess = wall - (wallMs(guess, timezone) - guess);
  return guess;
}

function dayMatches(f: CronFields, y: number, m: number, d: number): boolean {
  if (!f.month.includes(m + 1)) return false;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const dom = f.dayOfMonth.some((x) => x === d || (x === 'L' && d === lastDay));
  const dow = new Date(Date.UTC(y, m, d)).getUTCDay();
  const wd = f.dayOfWeek.some((x) => x === dow || (x === 7 && dow === 0));
  return dom && wd;
}

/**
 * The first `count` scheduled instants strictly after `afterMs`, looking at
 * most `maxDays` days ahead (fewer when the schedule has fewer in that time).
 */
export function slotsAfter(expression: string, timezone: string, afterMs: number, count: number, maxDays = 800): number[] {
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: node-cron's parse gives its expanded fields untyped; CronFields is their shape
  const f = cron.parse(expression) as CronFields;
  const seconds = [...f.second].sort((a, b) => a - b);
  const minutes = [...f.minute].sort((a, b) => a - b);
  const hours = [...f.hour].sort((a, b) => a - b);
  const startWall = wallMs(afterMs, timezone);
  // Two hours of slack: a wall time this far before the start cannot be after it in any zone's jump.
  const floor = startWall - 2 * 3_600_000;
  const out: number[] = [];
  const day0 = new Date(floor);
  for (let i = 0; i <= maxDays && out.length < count; i++) {
    const day = new Date(Date.UTC(day0.getUTCFullYear(), day0.getUTCMonth(), day0.getUTCDate() + i));
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()];
    if (!dayMatches(f, y, m, d)) continue;
    for (const h of hours) {
      if (Date.UTC(y, m, d, h, 59, 59) < floor) continue;
      for (const mi of minutes) {
        if (Date.UTC(y, m, d, h, mi, 59) < floor) continue;
        for (const s of seconds) {
          const wall = Date.UTC(y, m, d, h, mi, s);
          if (wall < floor) continue;
          const at = instantOf(wall, timezone);
          if (at > afterMs && !out.includes(at)) out.push(at);
          if (out.length >= count) return out;
        }
      }
    }
  }
  return out;
}
