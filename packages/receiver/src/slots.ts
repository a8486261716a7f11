/**
 * The uploads in flight: one per zip name at a time, at most `max` bodies
 * being received at once, and every handler tracked so that `close()` can
 * abort them and wait until each has cleaned up.
 *
 * Beyond `max`, an upload waits in line for a slot (its body unread, held
 * back by TCP) rather than being sent away at once: a Sender answered `503`
 * waits at least its retry base (10 s) before it tries again, so slots sat
 * idle while callers waited (docs/PERFORMANCE.md, load). The line and the
 * wait are bounded; past either the answer is `503` with Retry-After
 * (SPEC §4).
 */
import type { IncomingMessage } from 'node:http';

export interface SlotOptions {
  /** Uploads that may wait for a slot (`receiver.maxQueuedUploads`). */
  queue: number;
  /** How long one may wait (`receiver.queueWaitMs`). */
  waitMs: number;
}

interface Waiter {
  grant: (got: boolean) => void;
}

export class UploadSlots {
  readonly #names = new Set<string>();
  readonly #handlers = new Map<IncomingMessage, Promise<void>>();
  readonly #waiting: Waiter[] = [];
  readonly #queue: number;
  readonly #waitMs: number;
  #bodies = 0;

  constructor(
    readonly max: number,
    options: SlotOptions,
  ) {
    this.#queue = options.queue;
    this.#waitMs = options.waitMs;
  }

  /** Claim a zip name; false when an upload of it is in flight. */
  claimName(name: string): boolean {
    if (this.#names.has(name)) return false;
    this.#names.add(name);
    return true;
  }

  releaseName(name: string): void {
    this.#names.delete(name);
  }

  /** Claim a body slot; false when `max` bodies are being received. */
  claimBody(): boolean {
    if (this.#bodies >= this.max) return false;
    this.#bodies += 1;
    return true;
  }

  /**
   * Claim a body slot, waiting in line for one when `max` bodies are being
   * received; false when the line is full, the wait ran out, or `req` went
   * away meanwhile. First come, first served.
   */
  async waitForBody(req: IncomingMessage): Promise<boolean> {
    if (this.claimBody()) return true;
    if (this.#waiting.length >= this.#queue) return false;
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        grant: (got) => {
          clearTimeout(timer);
          req.off('close', leave);
          resolve(got);
        },
      };
      // The wait ran out, or the client went away: out of the line.
      const leave = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        waiter.grant(false);
      };
      const timer = setTimeout(leave, this.#waitMs);
      req.once('close', leave);
      this.#waiting.push(waiter);
    });
  }

  /** Give the slot back: to the first upload waiting for one, if any. */
  releaseBody(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next.grant(true);
    else this.#bodies -= 1;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  get active(): number {
    return this.#bodies;
  }

  track(req: IncomingMessage, handler: Promise<void>): void {
    this.#handlers.set(req, handler);
    const forget = () => void this.#handlers.delete(req);
    handler.then(forget, forget);
  }

  get inFlight(): number {
    return this.#handlers.size;
  }

  /** Resolves once no upload handler runs. */
  async settled(): Promise<void> {
    while (this.#handlers.size > 0) await Promise.allSettled([...this.#handlers.values()]);
  }

  /** Cut every upload still receiving its body (or waiting to) and wait until every handler has cleaned up. */
  async abortAll(): Promise<void> {
    for (const w of this.#waiting.splice(0)) w.grant(false);
    for (const req of this.#handlers.keys()) if (!req.complete) req.socket.destroy();
    await this.settled();
  }
}
