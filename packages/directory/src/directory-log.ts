/**
 * The RollupLog when a directory is configured (SPEC §7): a write is durable
 * once the journal has it, and reaches LDAP later through the applier, so a
 * roll-up never waits for the directory. Reads come from the directory plus
 * what it has not applied yet, or from the journal alone while it is down.
 */
import { isZenrollError, type LogKind, type LogWrite, type RollupRecord, type ZenrollError } from '@zenroll/core';
import { Applier, type ApplierOptions } from './applier.js';
import type { Journal } from './journal.js';
import type { LdapDirectory } from './ldap.js';
import { realTimers, silentLogger, type Logger, type Timers } from './logger.js';
import { applyWrites, newestFirst } from './records.js';
import type { LogReadResult, ZenrollLog } from './types.js';

export interface DirectoryLogOptions {
  logger?: Logger;
  timers?: Timers;
  backoff?: ApplierOptions['backoff'];
  /** close() first waits up to this long for the backlog to reach the directory; default 0. */
  closeDrainMs?: number;
}

export class DirectoryLog implements ZenrollLog {
  readonly #applier: Applier;
  readonly #logger: Logger;
  readonly #timers: Timers;
  #closed = false;

  readonly #opts: DirectoryLogOptions;

  constructor(
    readonly journal: Journal,
    readonly directory: LdapDirectory,
    opts: DirectoryLogOptions = {},
  ) {
    this.#opts = opts;
    this.#logger = opts.logger ?? silentLogger;
    this.#timers = opts.timers ?? realTimers;
    this.#applier = new Applier({
      journal,
      apply: (w) => directory.apply(w),
      logger: this.#logger,
      timers: this.#timers,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
    });
    // A read-only journal (zenroll log) belongs to another process, which applies it.
    if (!journal.readOnly) this.#applier.start();
  }

  async write(entry: LogWrite): Promise<void> {
    await this.journal.write(entry);
    this.#applier.wake();
  }

  async read(server: string, limit: number, kind: LogKind = 'rollup'): Promise<RollupRecord[]> {
    return (await this.readFrom(server, limit, kind)).records;
  }

  async readFrom(server: string, limit: number, kind: LogKind = 'rollup'): Promise<LogReadResult> {
    // Taken before the LDAP read: a record applied meanwhile is then in both, and merging keeps it once.
    const pending = this.journal.pendingFor(server, kind);
    try {
      const stored = await this.directory.readAll(server, kind);
      return { records: newestFirst(applyWrites(stored, pending), limit), source: 'directory' };
    } catch (err) {
      if (!isZenrollError(err, 'DIRECTORY_UNREACHABLE')) throw err;
      this.#logger.warn({ err, server }, `reading the local journal: ${err.message}`);
      return { records: await this.journal.read(server, limit, kind), source: 'journal', note: err.message };
    }
  }

  backlog(): number {
    return this.journal.backlog();
  }

  /** Why the backlog is not draining, or null. */
  lastError(): ZenrollError | null {
    return this.#applier.lastError;
  }

  /** Wait until the directory has every journaled record; false when `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.backlog() === 0) return true;
    this.#applier.kick();
    let expired = false;
    let wakeUp: () => void = () => undefined;
    const timer = this.#timers.setTimeout(() => {
      expired = true;
      wakeUp();
    }, timeoutMs);
    const unsubscribe = this.#applier.onProgress(() => wakeUp());
    try {
      while (this.backlog() > 0 && !expired && !this.#closed) {
        await new Promise<void>((resolve) => (wakeUp = resolve));
      }
    } finally {
      unsubscribe();
      this.#timers.clearTimeout(timer);
    }
    return this.backlog() === 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if ((this.#opts.closeDrainMs ?? 0) > 0) await this.drain(this.#opts.closeDrainMs ?? 0);
    this.#closed = true;
    // Closing the connection first ends a request in flight instead of waiting out its timeout.
    const stopping = this.#applier.stop();
    await this.directory.close();
    await stopping;
    await this.journal.close();
  }
}
