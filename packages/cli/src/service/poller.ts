/**
 * A child's service asks its parent `GET /v1/info` every `sender.pollSeconds`
 * (SPEC §8): to learn the parent's name (for its self-description), to tell
 * the parent what it is (the Zenroll-Description header, for a parent without
 * a directory), and to see a roll-up request (wakeup.ts). A poll that fails
 * is logged once per run of failures and tried again next period.
 */
import type { ReceiverInfo } from '@zenroll/core';
import { isNewRequest } from './wakeup.js';
import { messageOf } from '@zenroll/core';

export interface PollerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PollerOptions {
  intervalMs: number;
  /** One `GET /v1/info` with these headers; the signal ends it when the poller stops. */
  info(signal: AbortSignal, headers: Record<string, string>): Promise<ReceiverInfo>;
  /** The headers to send with each poll. */
  headers(): Promise<Record<string, string>>;
  /** The parent's name, at the first answer and whenever it changes. */
  onParent(server: string): void;
  /** A request newer than the last answered: run the roll-up it asks for. Its failure is the callee's to log. */
  answer(requested: string): Promise<void>;
  /** The last request answered (or the last roll-up's start), when the service started. */
  answered: string | null;
  logger: PollerLogger;
}

export class Poller {
  readonly #o: PollerOptions;
  #answered: string | null;
  #parent: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stop = new AbortController();
  #inFlight: Promise<void> | null = null;
  #answering = new Set<Promise<void>>();
  #failing = false;
  /** Polls answered by the parent, for tests and the bench. */
  polls = 0;

  constructor(o: PollerOptions) {
    this.#o = o;
    this.#answered = o.answered;
  }

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stop.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#inFlight = this.poll().finally(() => {
        this.#inFlight = null;
        this.#schedule(this.#o.intervalMs);
      });
    }, ms);
  }

  /** One poll; never throws. */
  async poll(): Promise<void> {
    let info: ReceiverInfo;
    try {
      info = await this.#o.info(this.#stop.signal, await this.#o.headers());
    } catch (err) {
      if (this.#stop.signal.aborted) return;
      if (!this.#failing) this.#o.logger.warn({ err: messageOf(err) }, 'the parent did not answer the poll; asking again each poll period');
      this.#failing = true;
      return;
    }
    this.polls += 1;
    if (this.#failing) this.#o.logger.info({ parent: info.server }, 'the parent answers the poll again');
    this.#failing = false;
    if (info.server !== this.#parent) {
      this.#parent = info.server;
      this.#o.onParent(info.server);
    }
    const requested = info.rollupRequested;
    if (isNewRequest(requested, this.#answered)) {
      this.#answered = requested;
      const p: Promise<void> = this.#o
        .answer(requested)
        .catch(() => undefined)
        .finally(() => this.#answering.delete(p));
      this.#answering.add(p);
    }
  }

  /** Stop polling; an answer in progress (a roll-up) is the runner's to stop. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#inFlight;
    await Promise.all([...this.#answering]);
  }
}
