/**
 * What a server sent and received in the last 24 hours (SPEC §8), counted
 * by the hour from the log records it writes (a `sent` record is a zip this
 * server sent, a `received` record one it received), so nothing is counted
 * twice or missed. The hours are kept in `statedir/activity.json`, written
 * with each self-description, so that a restart keeps the day's figures
 * (at worst it loses what came in since the last description).
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { errnoCode, writeFileDurable, fieldOf, type LogWrite, type RollupLog } from '@zenroll/core';
import type { Traffic } from '@zenroll/directory';

const HOUR_MS = 3_600_000;

interface Hour {
  /** Start of the hour, ms since the epoch. */
  at: number;
  sent: Traffic;
  received: Traffic;
}

const zero = (): Traffic => ({ zips: 0, files: 0, bytes: 0 });
const add = (t: Traffic, files: number, bytes: number) => {
  t.zips += 1;
  t.files += files;
  t.bytes += bytes;
};

export class Activity {
  #hours: Hour[] = [];
  readonly #file: string;
  readonly #now: () => number;

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(file: string, now: () => number) {
    this.#file = file;
    this.#now = now;
  }

  static async open(statedir: string, now: () => number = Date.now): Promise<Activity> {
    const a = new Activity(join(statedir, 'activity.json'), now);
    try {
      const hours = fieldOf(JSON.parse(await readFile(a.#file, 'utf8')), 'hours');
      a.#hours = Array.isArray(hours) ? hours : [];
    } catch (err) {
      // Figures for display only: a missing or unreadable file starts the count afresh.
      if (errnoCode(err) !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return a;
  }

  #hour(): Hour {
    const at = Math.floor(this.#now() / HOUR_MS) * HOUR_MS;
    let h = this.#hours.at(-1);
    if (h === undefined || h.at !== at) {
      h = { at, sent: zero(), received: zero() };
      this.#hours.push(h);
    }
    this.#hours = this.#hours.filter((x) => x.at > at - 24 * HOUR_MS);
    return h;
  }

  count(w: LogWrite): void {
    const r = w.record;
    if (r.event === 'sent' && r.source === 'sender') add(this.#hour().sent, r.files, r.bytes);
    if (r.event === 'received' && r.source === 'receiver') add(this.#hour().received, r.files, r.bytes);
  }

  /** The sums over the hours that began in the last 24 hours. */
  last24h(): { sent: Traffic; received: Traffic } {
    const since = this.#now() - 24 * HOUR_MS;
    const sent = zero();
    const received = zero();
    for (const h of this.#hours) {
      // The last 24 whole hours up to now: this one and the 23 before it.
      if (h.at <= since) continue;
      for (const [into, from] of [
        [sent, h.sent],
        [received, h.received],
      ] as const) {
        into.zips += from.zips;
        into.files += from.files;
        into.bytes += from.bytes;
      }
    }
    return { sent, received };
  }

  async save(): Promise<void> {
    await writeFileDurable(this.#file, `${JSON.stringify({ hours: this.#hours })}\n`);
  }

  /** A log that counts what goes through it. */
  instrument<L extends RollupLog>(log: L): L {
    const write = log.write.bind(log);
    log.write = async (entry: LogWrite) => {
      await write(entry);
      this.count(entry);
    };
    return log;
  }
}
