/**
 * Receipts: the durable memory of every zip this Receiver accepted, so that
 * the retry of a lost acknowledgement is answered 200 and stores nothing
 * (SPEC §4), even after the zip was promoted and forwarded. One small JSON
 * file per zip under `statedir/receipts`, written atomically; each also
 * records which promotion targets are done, so a target the consumer already
 * took away is never written again.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ZenrollError,
  encodeName,
  ensureDir,
  errnoCode,
  fsError,
  parseOuterName,
  removeDurable,
  shown,
  sweepTemps,
  writeFileDurable,
  type PromoteTarget,
  isRecord,
} from '@zenroll/core';

export interface TargetDone {
  /** The promoted outer name in that folder. */
  name: string;
  doneAt: string;
}

export interface Receipt {
  v: 1;
  /** The outer name as received. */
  name: string;
  /** Hex SHA-256 of the zip's bytes. */
  sha256: string;
  bytes: number;
  files: number;
  receivedAt: string;
  targets: Partial<Record<PromoteTarget, TargetDone>>;
  /** When the zip left zipdir, every target done; null while it waits. */
  promotedAt: string | null;
}

export interface ReceiptStoreOptions {
  receiptDays: number;
  now?: () => number;
}

const DAY_MS = 86_400_000;

/** `scheduledtime_server_` of an outer name: its batch (SPEC §3: the server part holds no `_`). */
export function batchStem(name: string): string {
  const n = parseOuterName(name);
  return `${n.scheduledtime}_${encodeName(n.server)}_`;
}

function corrupt(path: string, why: string, cause?: unknown): ZenrollError {
  return new ZenrollError('FS_FAILED', `receipt ${shown(path, 200)} ${why}; remove it if its zip is no longer expected`, {
    cause,
    details: { path },
  });
}

function check(value: unknown, path: string): Receipt {
  const r = value;
  if (
    !isRecord(r) ||
    r.v !== 1 ||
    typeof r.name !== 'string' ||
    typeof r.sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(r.sha256) ||
    typeof r.receivedAt !== 'string' ||
    Number.isNaN(Date.parse(r.receivedAt)) ||
    typeof r.targets !== 'object' ||
    r.targets === null
  ) {
    throw corrupt(path, 'is not a zenroll receipt');
  }
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: every field of a receipt is checked above
  return r as unknown as Receipt;
}

export class ReceiptStore {
  readonly dir: string;
  readonly #keepMs: number;
  readonly #now: () => number;

  /**
   * Batch → the name its receipt is under, for findBatch without listing the
   * folder on every upload: one process owns the folder (the serve lock).
   */
  readonly #batches = new Map<string, string>();

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(dir: string, options: ReceiptStoreOptions) {
    this.dir = dir;
    this.#keepMs = options.receiptDays * DAY_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Create the folder if needed and remove the temps a crash left in it. */
  static async open(dir: string, options: ReceiptStoreOptions): Promise<ReceiptStore> {
    await ensureDir(dir);
    await sweepTemps(dir);
    const store = new ReceiptStore(dir, options);
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (err) {
      throw fsError(err, 'list the receipts in', dir);
    }
    for (const f of files.filter((x) => x.endsWith('.zip.json'))) store.#index(f.slice(0, -'.json'.length));
    return store;
  }

  #index(name: string): void {
    try {
      this.#batches.set(batchStem(name), name);
    } catch {
      // Not an outer name: no zip of ours would ever look it up.
    }
  }

  #path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  async get(name: string): Promise<Receipt | null> {
    const path = this.#path(name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null;
      throw fsError(err, 'read the receipt', path);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw corrupt(path, 'is not valid JSON', cause);
    }
    const receipt = check(value, path);
    if (receipt.name !== name) throw corrupt(path, `names zip ${shown(receipt.name)}`);
    return receipt;
  }

  /**
   * The receipt of the same batch under another name, if any. A batch is
   * its scheduled time and origin server, the part of the name its `.prp`
   * signs; tree and stored status change from hop to hop, so a replay under
   * another of them must not be stored (and promoted) a second time.
   */
  async findBatch(name: string): Promise<Receipt | null> {
    const other = this.#batches.get(batchStem(name));
    return other === undefined || other === name ? null : this.get(other);
  }

  async put(receipt: Receipt): Promise<void> {
    await writeFileDurable(this.#path(receipt.name), `${JSON.stringify(receipt)}\n`);
  }

  /** A new receipt for a zip just stored in zipdir. */
  async create(fields: Pick<Receipt, 'name' | 'sha256' | 'bytes' | 'files'>): Promise<Receipt> {
    const receipt: Receipt = { v: 1, ...fields, receivedAt: new Date(this.#now()).toISOString(), targets: {}, promotedAt: null };
    await this.put(receipt);
    this.#index(receipt.name);
    return receipt;
  }

  async markTarget(receipt: Receipt, target: PromoteTarget, promotedName: string): Promise<Receipt> {
    const next: Receipt = {
      ...receipt,
      targets: { ...receipt.targets, [target]: { name: promotedName, doneAt: new Date(this.#now()).toISOString() } },
    };
    await this.put(next);
    return next;
  }

  async markPromoted(receipt: Receipt): Promise<Receipt> {
    const next: Receipt = { ...receipt, promotedAt: new Date(this.#now()).toISOString() };
    await this.put(next);
    return next;
  }

  /**
   * Remove the receipts older than `receiptDays` whose zip has left zipdir
   * (one still waiting keeps its receipt, whatever its age). Returns the names
   * removed and, apart, the files that could not be read, so one bad file
   * does not stop the sweep of the others.
   */
  async sweepExpired(): Promise<{ removed: string[]; problems: ZenrollError[] }> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (err) {
      throw fsError(err, 'list the receipts in', this.dir);
    }
    const cutoff = this.#now() - this.#keepMs;
    const removed: string[] = [];
    const problems: ZenrollError[] = [];
    for (const file of files.filter((f) => f.endsWith('.zip.json')).sort()) {
      const name = file.slice(0, -'.json'.length);
      try {
        const receipt = await this.get(name);
        if (receipt === null || receipt.promotedAt === null || Date.parse(receipt.receivedAt) > cutoff) continue;
        await removeDurable(this.#path(name));
        if (this.#batches.get(batchStem(name)) === name) this.#batches.delete(batchStem(name));
        removed.push(name);
      } catch (err) {
        problems.push(err instanceof ZenrollError ? err : fsError(err, 'sweep the receipt', this.#path(name)));
      }
    }
    return { removed, problems };
  }
}
