/**
 * A server describes itself on its Inventory Service object at start, after
 * each roll-up and, for a Receiver, after what it received (SPEC §8).
 *
 * The description is state, not a log: each write replaces the whole of it,
 * so only the newest matters. It therefore does not go through the journal
 * (which keeps every record, in order, each once): while the directory does
 * not answer, the newest description waits here and is tried again every
 * `retryMs`; a newer one replaces it. Nothing is lost that the next write
 * would not say anyway. It is also kept in `statedir/description.json`, for
 * `zenroll tree` without a directory and for the parent's poll.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { errnoCode, roleInfo, writeFileDurable, messageOf, type Config } from '@zenroll/core';
import type { LdapDirectory, ServerDescription } from '@zenroll/directory';
import { VERSION } from '../version.js';
import type { Activity } from './activity.js';
import type { Backlog } from './backlog.js';
import type { LastRollup } from './runner.js';
import { slotsAfter } from './schedule-slots.js';

export function descriptionPath(statedir: string): string {
  return join(statedir, 'description.json');
}

export async function readOwnDescription(statedir: string): Promise<ServerDescription | null> {
  try {
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: this server wrote it (writeOwnDescription), whole
    return JSON.parse(await readFile(descriptionPath(statedir), 'utf8')) as ServerDescription;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** `ok zipped=2 sent=2 discarded=0 rejected=0 left=0`, or `failed …` with the error (or the first zip refused or left), cut short. */
export function rollupResultText(last: LastRollup): string {
  const counts = `zipped=${last.zipped} sent=${last.sent} discarded=${last.discarded} rejected=${last.rejected} left=${last.left}`;
  const why = last.error ?? last.problem;
  const error = why === undefined ? '' : ` error=${JSON.stringify(why.length > 200 ? `${why.slice(0, 199)}…` : why)}`;
  return `${last.ok ? 'ok' : 'failed'} ${counts}${error}`;
}

/**
 * When the server is late without a new roll-up: the second scheduled time
 * after its last roll-up (or after `sinceMs` before the first), plus the
 * random spread. Null for a role that does not send.
 */
export function lateAfterOf(config: Config, lastFinishedMs: number): string | null {
  if (!roleInfo(config.role).sender) return null;
  const slots = slotsAfter(config.sender.schedule, config.sender.timezone, lastFinishedMs, 2);
  const second = slots[1];
  return second === undefined ? null : new Date(second + config.sender.randomizeMinutes * 60_000).toISOString();
}

export interface DescriptionInputs {
  config: Config;
  now: number;
  startedMs: number;
  parent: string | null;
  backlog: Backlog;
  last: LastRollup | null;
  activity: Activity;
}

export function makeDescription(i: DescriptionInputs): ServerDescription {
  const { config, last } = i;
  const sender = roleInfo(config.role).sender;
  const traffic = i.activity.last24h();
  const lastMs = last === null ? Number.NaN : Date.parse(last.finishedAt);
  return {
    role: config.role,
    parent: sender ? i.parent : null,
    parentUrl: sender ? config.sender.parent : null,
    version: VERSION,
    schedule: sender ? `${config.sender.schedule} (${config.sender.timezone})` : null,
    lastRollup: Number.isFinite(lastMs) ? new Date(lastMs).toISOString() : null,
    lastRollupResult: last === null ? null : rollupResultText(last),
    backlog: { strWaiting: i.backlog.entmergedir, zipsWaiting: i.backlog.entpushdir, zipsRejected: i.backlog.rejected },
    sent24h: traffic.sent,
    received24h: traffic.received,
    described: new Date(i.now).toISOString(),
    lateAfter: lateAfterOf(config, Number.isFinite(lastMs) ? Math.max(lastMs, i.startedMs) : i.startedMs),
  };
}

export interface DescriberLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Writes the newest description; never throws, never runs two writes at once. */
export class Describer {
  readonly #server: string;
  readonly #statedir: string;
  readonly #directory: LdapDirectory | null;
  readonly #make: () => Promise<ServerDescription>;
  readonly #logger: DescriberLogger;
  readonly #retryMs: number;
  readonly #onWritten: () => Promise<void>;
  #running: Promise<void> | null = null;
  #again = false;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;
  #failing = false;

  constructor(o: {
    server: string;
    statedir: string;
    directory: LdapDirectory | null;
    make: () => Promise<ServerDescription>;
    logger: DescriberLogger;
    retryMs?: number;
    /** After each description is made (saves the activity hours). */
    onWritten?: () => Promise<void>;
  }) {
    this.#server = o.server;
    this.#statedir = o.statedir;
    this.#directory = o.directory;
    this.#make = o.make;
    this.#logger = o.logger;
    this.#retryMs = o.retryMs ?? 30_000;
    this.#onWritten = o.onWritten ?? (async () => {});
  }

  /** Describe now (or right after the write in progress); resolves when written or given over to the retry. */
  describe(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#write().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        void this.describe();
      }
    });
    return this.#running;
  }

  async #write(): Promise<void> {
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    let d: ServerDescription;
    try {
      d = await this.#make();
      await writeFileDurable(descriptionPath(this.#statedir), `${JSON.stringify(d)}\n`);
      await this.#onWritten();
    } catch (err) {
      this.#logger.warn({ err }, 'could not make this server’s description');
      return;
    }
    if (this.#directory === null) return;
    try {
      await this.#directory.writeDescription(this.#server, d);
      if (this.#failing) this.#logger.info({}, 'the directory took this server’s description again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing)
        this.#logger.warn(
          { err: messageOf(err), retryMs: this.#retryMs },
          'could not write this server’s description to the directory; trying again',
        );
      this.#failing = true;
      if (!this.#closed) {
        this.#retry = setTimeout(() => void this.describe(), this.#retryMs);
        this.#retry.unref();
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== null) clearTimeout(this.#retry);
    await this.#running;
  }
}
