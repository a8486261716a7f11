/**
 * Scheduled times that never repeat for one server (SPEC §3): each is the
 * current UTC time, bumped by 1 ms past the last one handed out, so that two
 * zips never share a name and oldest-first order is creation order even when
 * the wall clock steps back a little. Times handed out while the clock was far
 * ahead are `reserved` spans instead of a floor (issue 16: the clock heals):
 * once the clock is set right, new times are the right ones again, stepping
 * over each reserved span so that none is ever used twice.
 */
import { formatScheduledTime, parseScheduledTime } from './names.js';

export type Now = () => number;

/** Scheduled times already used, in ms, both ends included. */
export type TimeSpan = readonly [number, number];

export class ScheduledClock {
  #lastMs: number;
  #firstMs: number | null = null;
  readonly #now: Now;
  readonly #reserved: TimeSpan[];

  /** `last` is the newest scheduled time already used (on disk or remembered), if any; `reserved` spans used ahead of it. */
  constructor(options: { now?: Now; last?: string | null; reserved?: readonly TimeSpan[] } = {}) {
    this.#now = options.now ?? Date.now;
    this.#lastMs = options.last ? parseScheduledTime(options.last) : -Infinity;
    this.#reserved = [...(options.reserved ?? [])].sort((a, b) => a[0] - b[0]);
  }

  /** The spans this clock steps over. */
  get reserved(): readonly TimeSpan[] {
    return this.#reserved;
  }

  /** The first time this clock handed out, in ms, or null. */
  get firstMs(): number | null {
    return this.#firstMs;
  }

  /** Remember a time seen elsewhere (say, a zip found on disk) so that no later one repeats it. */
  observe(scheduledtime: string): void {
    this.#lastMs = Math.max(this.#lastMs, parseScheduledTime(scheduledtime));
  }

  next(): string {
    let ms = Math.max(this.#now(), this.#lastMs + 1);
    for (const [from, to] of this.#reserved) if (ms >= from && ms <= to) ms = to + 1;
    this.#lastMs = ms;
    this.#firstMs ??= ms;
    return formatScheduledTime(ms);
  }

  get last(): string | null {
    return Number.isFinite(this.#lastMs) ? formatScheduledTime(this.#lastMs) : null;
  }
}

/**
 * The newest scheduled time among file names of one origin server (outer
 * zips `t_server_…`, inner `t_server.zip`), whatever else the list holds.
 */
export function newestScheduledTime(names: Iterable<string>, encodedServer: string): string | null {
  let newest: string | null = null;
  for (const name of names) {
    const m = /^(\d{17})_([^_]+)[_.]/.exec(name);
    const t = m?.[1];
    if (t === undefined || m?.[2] !== encodedServer) continue;
    if (!isScheduledTime(t)) continue; // a stray "99999999999999999_…" would make every later clock throw
    if (newest === null || t > newest) newest = t;
  }
  return newest;
}

function isScheduledTime(value: string): boolean {
  try {
    parseScheduledTime(value);
    return true;
  } catch {
    return false;
  }
}
