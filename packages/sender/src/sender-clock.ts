/**
 * The Sender's scheduled clock (SPEC §3: a time is never used twice by one
 * server), seeded from the newest own name on disk and from the newest time
 * remembered in statedir, which outlives the zips that are sent and gone.
 */
import { ScheduledClock, encodeName, newestScheduledTime, parseScheduledTime, writeFileDurable } from '@zenroll/core';
import { damaged, readJsonFile } from './json-file.js';

export async function loadClock(path: string, server: string, namesOnDisk: Iterable<string>, now: () => number): Promise<ScheduledClock> {
  const clock = new ScheduledClock({ now, last: newestScheduledTime(namesOnDisk, encodeName(server)) });
  const saved = (await readJsonFile(path, 'sender clock')) as { last?: unknown } | null;
  if (saved !== null) {
    if (typeof saved.last !== 'string') throw damaged(path, 'sender clock', 'has no "last" time');
    try {
      parseScheduledTime(saved.last);
    } catch (cause) {
      throw damaged(path, 'sender clock', `holds ${JSON.stringify(saved.last)}, not a scheduled time`, cause);
    }
    clock.observe(saved.last);
  }
  return clock;
}

export async function saveClock(path: string, clock: ScheduledClock): Promise<void> {
  if (clock.last !== null) await writeFileDurable(path, `${JSON.stringify({ last: clock.last })}\n`);
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
  #saved: string | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(path: string, clock: ScheduledClock) {
    this.#path = path;
    this.#clock = clock;
  }

  get clock(): ScheduledClock {
    return this.#clock;
  }

  /** Save the clock as it is now (every time handed out so far). */
  save(): Promise<void> {
    const run = async () => {
      const last = this.#clock.last;
      if (last === null || (this.#saved !== null && this.#saved >= last)) return;
      await saveClock(this.#path, this.#clock);
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
