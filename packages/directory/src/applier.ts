/**
 * Applies the journal to the directory in the background: in journal order,
 * each record once, the cursor advanced durably after each. Roll-ups never
 * wait for it. While the directory is down or refuses every write (bad
 * password, no access), it keeps the backlog and retries with back-off
 * (1 s doubling to 60 s); a record refused for good is set aside
 * (journal/rejected.jsonl) and the rest go on.
 */
import { isZenrollError, ZenrollError, type LogWrite } from '@zenroll/core';
import type { Journal } from './journal.js';
import { toWrite } from './journal-file.js';
import { refusesRecord } from './ldap-errors.js';
import { realTimers, silentLogger, type Logger, type Timers } from './logger.js';

export interface ApplierOptions {
  journal: Journal;
  apply: (write: LogWrite) => Promise<void>;
  logger?: Logger;
  timers?: Timers;
  backoff?: { initialMs: number; maxMs: number };
}

const BATCH = 256;

export class Applier {
  #stopped = false;
  #loop: Promise<void> | null = null;
  /** Ends the current wait: an idle one on any write, a back-off only when `force`d. */
  #waking: ((force: boolean) => void) | null = null;
  readonly #progress = new Set<() => void>();
  #delayMs = 0;
  /** A write came since the last look at the journal (a wake between that look and the wait is not lost). */
  #dirty = false;
  /** Why the last try failed, while the backlog waits; null once one succeeds. */
  lastError: ZenrollError | null = null;

  readonly #o: ApplierOptions;

  constructor(o: ApplierOptions) {
    this.#o = o;
  }

  get #timers(): Timers {
    return this.#o.timers ?? realTimers;
  }

  get #logger(): Logger {
    return this.#o.logger ?? silentLogger;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something was written: apply it now unless backing off. */
  wake(): void {
    this.#dirty = true;
    this.#waking?.(false);
  }

  /** Try now even while backing off (drain, close). */
  kick(): void {
    this.#waking?.(true);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let lines;
      this.#dirty = false;
      try {
        lines = await this.#o.journal.pending(BATCH);
      } catch (err) {
        await this.#failed(err);
        continue;
      }
      if (lines.length === 0) {
        if (!this.#dirty) await this.#wait(null);
        continue;
      }
      for (const line of lines) {
        if (this.#stopped) return;
        try {
          try {
            await this.#o.apply(toWrite(line));
          } catch (err) {
            if (!refusesRecord(err)) throw err;
            const e = err;
            await this.#o.journal.setAside(line, e);
            this.#logger.error({ err: e, seq: line.seq, id: line.record.id, server: line.record.server }, `record set aside: ${e.message}`);
          }
          await this.#o.journal.markApplied(line.seq);
        } catch (err) {
          await this.#failed(err);
          break;
        }
        this.#delayMs = 0;
        this.lastError = null;
        for (const notify of this.#progress) notify();
      }
    }
  }

  async #failed(err: unknown): Promise<void> {
    const e = isZenrollError(err) ? err : new ZenrollError('INTERNAL', `applying the journal failed: ${String(err)}`, { cause: err });
    const { initialMs, maxMs } = this.#o.backoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.#delayMs = this.#delayMs === 0 ? initialMs : Math.min(this.#delayMs * 2, maxMs);
    this.lastError = e;
    this.#logger.warn(
      { err: e, backlog: this.#o.journal.backlog(), retryInMs: this.#delayMs },
      `directory not updated, retrying later: ${e.message}`,
    );
    for (const notify of this.#progress) notify();
    await this.#wait(this.#delayMs);
  }

  #wait(ms: number | null): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === null ? undefined : this.#timers.setTimeout(() => done(true), ms);
      const done = (force: boolean) => {
        if (!force && ms !== null) return;
        if (timer !== undefined) this.#timers.clearTimeout(timer);
        this.#waking = null;
        resolve();
      };
      this.#waking = done;
    });
  }

  /** Resolves after each applied record or failed try; for drain(). */
  onProgress(listener: () => void): () => void {
    this.#progress.add(listener);
    return () => this.#progress.delete(listener);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.kick();
    await this.#loop;
  }
}
