/**
 * The uploads in flight: one per zip name at a time, at most `max` bodies
 * being received at once (SPEC §4 `503`), and every handler tracked so that
 * `close()` can abort them and wait until each has cleaned up.
 */
import type { IncomingMessage } from 'node:http';

export class UploadSlots {
  readonly #names = new Set<string>();
  readonly #handlers = new Map<IncomingMessage, Promise<void>>();
  #bodies = 0;

  constructor(readonly max: number) {}

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

  releaseBody(): void {
    this.#bodies -= 1;
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

  /** Cut every upload still receiving its body and wait until every handler has cleaned up. */
  async abortAll(): Promise<void> {
    for (const req of this.#handlers.keys()) if (!req.complete) req.socket.destroy();
    await this.settled();
  }
}
