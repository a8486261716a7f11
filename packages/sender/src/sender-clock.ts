/**
 * The Sender's scheduled clock (SPEC §3: a time is never used twice by one
 * server), seeded from the own names on disk and from what statedir
 * remembers (`sender-clock.json`), which outlives the zips that are sent and
 * gone: the newest time handed out (`last`) and the span of times each recent
 * roll-up used (`runs`).
 *
 * A clock that heals (issue 16): when the newest time used is ahead of now by
 * more than HEAL_AHEAD_MS, the wall clock was wrong and has been set right.
 * New zips then carry the right time again, and every span used while it was
 * wrong is stepped over instead of being a floor for all time.
 */
import {
  ScheduledClock,
  encodeName,
  formatScheduledTime,
  parseScheduledTime,
  writeFileDurable,
  type TimeSpan,
  isRecord,
} from '@zenroll/core';
import { damaged, readJsonFile } from './json-file.js';

/** A saved clock this far ahead of now was set by a wrong clock (an NTP step is seconds). */
export const HEAL_AHEAD_MS = 60_000;
/** Runs older than this are forgotten: the clock would have to step back a day past them to meet them again. */
const KEEP_RUNS_MS = 86_400_000;
const MAX_RUNS = 100;

interface Saved {
  last: number | null;
  runs: TimeSpan[];
}

function time(path: string, value: unknown, what: string): number {
  if (typeof value !== 'string') throw damaged(path, 'sender clock', `has ${what} that is not a scheduled time`);
  try {
    return parseScheduledTime(value);
  } catch (cause) {
    throw damaged(path, 'sender clock', `holds ${JSON.stringify(value)}, not a scheduled time`, cause);
  }
}

async function readSaved(path: string): Promise<Saved> {
  const saved = await readJsonFile(path, 'sender clock');
  if (saved === null) return { last: null, runs: [] };
  if (!isRecord(saved) || typeof saved.last !== 'string') throw damaged(path, 'sender clock', 'has no "last" time');
  const last = time(path, saved.last, 'a "last"');
  const runs: TimeSpan[] = [];
  if (saved.runs !== undefined) {
    if (!Array.isArray(saved.runs)) throw damaged(path, 'sender clock', 'has "runs" that is not a list');
    for (const r of saved.runs) {
      if (!Array.isArray(r) || r.length !== 2) throw damaged(path, 'sender clock', 'has a run that is not [from, to]');
      runs.push([time(path, r[0], 'a run'), time(path, r[1], 'a run')]);
    }
  } else {
    // Written before runs were kept: the roll-up that saved `last` used the hour before it at most.
    runs.push([last - 3_600_000, last]);
  }
  return { last, runs };
}

/** Own scheduled times among names on disk (outer zips `t_server_…`, inner `t_server.zip`). */
function ownTimes(names: Iterable<string>, encodedServer: string): number[] {
  const out: number[] = [];
  for (const name of names) {
    const m = /^(\d{17})_([^_]+)[_.]/.exec(name);
    const t = m?.[1];
    if (t === undefined || m?.[2] !== encodedServer) continue;
    try {
      out.push(parseScheduledTime(t));
    } catch {
      // a stray "99999999999999999_…" is no time of ours
    }
  }
  return out;
}

/** The clock's state as saved, or null when none is saved; for `doctor` and `status` (a saved clock ahead of now). */
export async function readSavedClock(path: string): Promise<{ last: string; runs: number } | null> {
  const saved = await readSaved(path);
  return saved.last === null ? null : { last: formatScheduledTime(saved.last), runs: saved.runs.length };
}

export interface LoadedClock {
  clock: ScheduledClock;
  /** Recent runs to keep remembering. */
  runs: TimeSpan[];
  /** The saved clock was ahead of now and has healed: the newest time used before, in ms. */
  healedFrom: number | null;
}

export async function loadClock(path: string, server: string, namesOnDisk: Iterable<string>, now: () => number): Promise<LoadedClock> {
  const nowMs = now();
  const saved = await readSaved(path);
  const disk = ownTimes(namesOnDisk, encodeName(server));
  const used = [...disk, ...(saved.last === null ? [] : [saved.last])];
  const newest = used.length === 0 ? null : Math.max(...used);
  const runs = saved.runs.filter(([, to]) => to >= nowMs - KEEP_RUNS_MS).slice(-MAX_RUNS);
  if (newest === null || newest <= nowMs + HEAL_AHEAD_MS) {
    return { clock: new ScheduledClock({ now, last: newest === null ? null : formatScheduledTime(newest) }), runs, healedFrom: null };
  }
  // Healing: what was used ahead of now is stepped over, what was used before is the floor.
  const ahead: TimeSpan[] = [...runs.filter(([, to]) => to > nowMs), ...disk.filter((t) => t > nowMs).map((t): TimeSpan => [t, t])];
  const before = [...runs.map(([, to]) => to), ...disk].filter((t) => t <= nowMs);
  const floor = before.length === 0 ? null : formatScheduledTime(Math.max(...before));
  return { clock: new ScheduledClock({ now, last: floor, reserved: ahead }), runs, healedFrom: newest };
}

/**
 * Saves the clock while the packer hands out times and the pusher sends the
 * zips that hold them: a zip's time must be remembered in statedir before the
 * zip can be gone (`cover`). Saves run one at a time, so the file only moves
 * forward.
 */
export class ClockKeeper {
  readonly #path: string;
  readonly #clock: ScheduledClock;
  readonly #runs: TimeSpan[];
  #saved: string | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(path: string, loaded: LoadedClock | ScheduledClock) {
    this.#path = path;
    this.#clock = loaded instanceof ScheduledClock ? loaded : loaded.clock;
    this.#runs = loaded instanceof ScheduledClock ? [] : loaded.runs;
  }

  get clock(): ScheduledClock {
    return this.#clock;
  }

  /** Save the clock as it is now (every time handed out so far). */
  save(): Promise<void> {
    const run = async () => {
      const last = this.#clock.last;
      if (last === null || (this.#saved !== null && this.#saved >= last)) return;
      const first = this.#clock.firstMs;
      const runs = first === null ? this.#runs : [...this.#runs, [first, parseScheduledTime(last)] satisfies TimeSpan];
      const value = { last, runs: runs.map(([from, to]) => [formatScheduledTime(from), formatScheduledTime(to)]) };
      await writeFileDurable(this.#path, `${JSON.stringify(value)}\n`);
      this.#saved = last;
    };
    // A failed save fails its caller, not the saves after it.
    const next = this.#chain.catch(() => undefined).then(run);
    this.#chain = next;
    return next;
  }

  /** Make sure `scheduledtime` (handed out by this clock) is saved. */
  async cover(scheduledtime: string): Promise<void> {
    if (this.#saved !== null && this.#saved >= scheduledtime) return;
    await this.save();
  }
}
