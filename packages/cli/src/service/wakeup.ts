/**
 * Wake-ups (SPEC §8). Children always connect to their parent, never the
 * reverse, so a roll-up request travels down the tree by polling:
 *
 * - `zenroll rollup --tree` on a Receiver sets a request (a time) in
 *   `statedir/rollup-request.json`, durably, so that it survives a restart;
 *   `GET /v1/info` carries it as `rollupRequested`.
 * - Each child's service asks its parent's `/v1/info` every
 *   `sender.pollSeconds`. A request newer than the last one it answered
 *   (before the first: newer than its last roll-up's start) makes it run a
 *   roll-up, and, when it is a Receiver too, set the same request on itself
 *   for its own children, and forward what arrives from below for a while
 *   (FORWARD_POLLS poll periods), as it arrives.
 *
 * The request keeps the time it was made at the top, all the way down, so a
 * request seen twice (a second poll, a restart) is the same request and runs
 * nothing twice.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { errnoCode, writeFileDurable } from '@zenroll/core';

/** How long an intermediate forwards on receive after passing a request on, in poll periods (at least FORWARD_MIN_MS). */
export const FORWARD_POLLS = 10;
export const FORWARD_MIN_MS = 30_000;

interface RequestFile {
  /** The request's time, as the server that made it wrote it. */
  requested: string;
  /** When this server took it (its own clock): the forwarding window starts then. */
  taken: string;
  /** `command` (zenroll rollup --tree here) or the parent's server name. */
  from: string;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: the request files are this service's own, written whole
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

export function requestPath(statedir: string): string {
  return join(statedir, 'rollup-request.json');
}

/** The request this Receiver announces. One writer: the service, or `zenroll rollup --tree` when no service runs. */
export class RequestStore {
  #current: RequestFile | null;
  readonly #statedir: string;
  readonly #now: () => number;

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(statedir: string, current: RequestFile | null, now: () => number) {
    this.#statedir = statedir;
    this.#current = current;
    this.#now = now;
  }

  static async open(statedir: string, now: () => number = Date.now): Promise<RequestStore> {
    return new RequestStore(statedir, await readJson<RequestFile>(requestPath(statedir)), now);
  }

  get requested(): string | null {
    return this.#current?.requested ?? null;
  }

  /**
   * Take a request (durable before it resolves). True when it is new here;
   * false, changing nothing, when this one or a newer one was taken already.
   */
  async set(requested: string, from: string): Promise<boolean> {
    const cur = this.#current;
    if (cur !== null && Date.parse(cur.requested) >= Date.parse(requested)) return false;
    const next: RequestFile = { requested, taken: new Date(this.#now()).toISOString(), from };
    await writeFileDurable(requestPath(this.#statedir), `${JSON.stringify(next)}\n`);
    this.#current = next;
    return true;
  }

  /** Whether what arrives now is forwarded at once: a request was taken less than the window ago. */
  forwarding(pollSeconds: number): boolean {
    if (this.#current === null) return false;
    const window = Math.max(FORWARD_MIN_MS, FORWARD_POLLS * pollSeconds * 1000);
    return this.#now() - Date.parse(this.#current.taken) < window;
  }
}

export function answeredPath(statedir: string): string {
  return join(statedir, 'wakeup.json');
}

export async function readAnswered(statedir: string): Promise<string | null> {
  return (await readJson<{ answered: string }>(answeredPath(statedir)))?.answered ?? null;
}

export async function writeAnswered(statedir: string, answered: string): Promise<void> {
  await writeFileDurable(answeredPath(statedir), `${JSON.stringify({ answered })}\n`);
}

/** Whether a request seen at the parent is one to answer (pure). */
export function isNewRequest(requested: string | null | undefined, answered: string | null): requested is string {
  if (typeof requested !== 'string') return false;
  const at = Date.parse(requested);
  if (!Number.isFinite(at)) return false;
  return answered === null || at > Date.parse(answered);
}
