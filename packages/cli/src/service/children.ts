/**
 * What a Receiver knows of its children without a directory (SPEC §8): each
 * child's poll (`GET /v1/info`) carries the child's own description in the
 * `Zenroll-Description` header (base64url of JSON `{server, description}`).
 * The Receiver keeps the newest per child in `statedir/children.json`, which
 * `zenroll tree` reads when no directory is configured. What a child says of
 * itself is shown as it said it: it is a view, never trusted for anything.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { errnoCode, writeFileDurable, fieldOf, isRecord } from '@zenroll/core';
import type { ServerDescription } from '@zenroll/directory';

export const DESCRIPTION_HEADER = 'zenroll-description';
/** A description is about 600 bytes; anything much larger is not one. */
const MAX_HEADER_CHARS = 8192;
/** More children than any real tree has under one parent: the file cannot grow without bound. */
const MAX_CHILDREN = 10_000;

export interface KnownChild {
  server: string;
  description: ServerDescription | null;
  /** ISO time of its last poll. */
  seen: string;
}

export function childrenPath(statedir: string): string {
  return join(statedir, 'children.json');
}

export async function readChildren(statedir: string): Promise<KnownChild[]> {
  try {
    const children = fieldOf(JSON.parse(await readFile(childrenPath(statedir), 'utf8')), 'children');
    return Array.isArray(children) ? children : [];
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** The header a child sends with its poll. */
export function descriptionHeader(server: string, description: ServerDescription | null): string {
  return Buffer.from(JSON.stringify({ server, description })).toString('base64url');
}

/** The header's content, or null when it is absent or not what a child sends. */
export function parseDescriptionHeader(
  value: string | string[] | undefined,
): { server: string; description: ServerDescription | null } | null {
  if (typeof value !== 'string' || value.length > MAX_HEADER_CHARS) return null;
  try {
    const json: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    const server = fieldOf(json, 'server');
    if (typeof server !== 'string' || server.length === 0 || server.length > 64) return null;
    const d = fieldOf(json, 'description');
    if (d === null) return { server, description: null };
    if (!isRecord(d) || typeof d.role !== 'string' || typeof d.described !== 'string') return null;
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: role and described are checked; the rest of a child's description is only shown
    return { server, description: d as unknown as ServerDescription };
  } catch {
    return null;
  }
}

/** The Receiver's record of its children, saved at most every `saveMs`. */
export class Children {
  readonly #statedir: string;
  readonly #saveMs: number;
  readonly #now: () => number;
  readonly #known = new Map<string, KnownChild>();
  #timer: NodeJS.Timeout | null = null;
  #saving: Promise<void> = Promise.resolve();

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(statedir: string, saveMs: number, now: () => number) {
    this.#statedir = statedir;
    this.#saveMs = saveMs;
    this.#now = now;
  }

  static async open(statedir: string, o: { saveMs?: number; now?: () => number } = {}): Promise<Children> {
    const c = new Children(statedir, o.saveMs ?? 5000, o.now ?? Date.now);
    for (const k of await readChildren(statedir).catch(() => [])) c.#known.set(k.server, k);
    return c;
  }

  /** A poll came in: remember what the child said of itself. */
  seen(req: IncomingMessage): void {
    const said = parseDescriptionHeader(req.headers[DESCRIPTION_HEADER]);
    if (said === null) return;
    if (!this.#known.has(said.server) && this.#known.size >= MAX_CHILDREN) return;
    this.#known.set(said.server, { ...said, seen: new Date(this.#now()).toISOString() });
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#saving = this.#save();
    }, this.#saveMs);
    this.#timer.unref();
  }

  list(): KnownChild[] {
    return [...this.#known.values()];
  }

  async #save(): Promise<void> {
    await writeFileDurable(childrenPath(this.#statedir), `${JSON.stringify({ children: this.list() })}\n`).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#saving = this.#save();
    }
    await this.#saving;
  }
}
