/**
 * Promotion by role (SPEC §2): a verified zip in zipdir gets a copy in each
 * target folder under its promoted name (SPEC §3: this tree, the status
 * rules), then leaves zipdir. One zip at a time, in the order they came; the
 * HTTP answer never waits for it.
 *
 * Crash safety (docs/DESIGN.md "Promote"): a target is written under a temp
 * name and renamed, so one that exists is complete and is not written again;
 * the receipt records each finished target, so one the consumer already took
 * away is not written again either; the zip leaves zipdir last.
 */
import { join } from 'node:path';
import {
  crashPoint,
  linkOrCopyDurable,
  pathExists,
  parseOuterName,
  promotedName,
  removeDurable,
  ZenrollError,
  type PromoteTarget,
  type RollupLog,
} from '@zenroll/core';
import type { Logger } from './logger.js';
import type { ReceiptStore } from './receipts.js';
import { writeRecord } from './records.js';

export interface PromoteTargetDir {
  target: PromoteTarget;
  dir: string;
}

export interface PromoterOptions {
  server: string;
  tree: string;
  hasDatabase: boolean;
  zipdir: string;
  /** In the order of SPEC §2: entpushdir before dbdir. */
  targets: readonly PromoteTargetDir[];
  receipts: ReceiptStore;
  log: RollupLog;
  logger: Logger;
  now: () => number;
  /** Called once a zip is in every target and gone from zipdir (e.g. to forward it at once). */
  onPromoted?: (name: string) => void;
}

/** The promoted names of one incoming zip, target by target. */
export function promotedNames(
  name: string,
  o: Pick<PromoterOptions, 'tree' | 'hasDatabase' | 'targets'>,
): (PromoteTargetDir & { name: string })[] {
  return o.targets.map((t) => ({ ...t, name: promotedName(name, { tree: o.tree, hasDatabase: o.hasDatabase }, t.target) }));
}

export class Promoter {
  readonly #o: PromoterOptions;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  /** Zips whose promotion failed; `retryFailed` puts them back in the queue. */
  readonly #failed = new Set<string>();
  #running: Promise<void> | null = null;
  #stopped = false;
  #idle: (() => void)[] = [];

  constructor(o: PromoterOptions) {
    this.#o = o;
  }

  /** Queue a zip of zipdir (its receipt must exist). */
  enqueue(name: string): void {
    if (this.#stopped || this.#queued.has(name)) return;
    this.#queued.add(name);
    this.#failed.delete(name);
    this.#queue.push(name);
    this.#running ??= this.#drain();
  }

  retryFailed(): void {
    for (const name of [...this.#failed]) this.enqueue(name);
  }

  get pending(): number {
    return this.#queue.length + (this.#running === null ? 0 : 1);
  }

  /** Resolves once the queue is empty. */
  idle(): Promise<void> {
    if (this.#running === null) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Finish the zip being promoted and drop the rest: they stay in zipdir, and the next start promotes them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue.length = 0;
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (let name = this.#queue.shift(); name !== undefined; name = this.#stopped ? undefined : this.#queue.shift()) {
      try {
        await this.promote(name);
      } catch (err) {
        this.#failed.add(name);
        this.#o.logger.error({ zip: name, err }, 'promotion failed; the zip stays in zipdir and is tried again later');
      } finally {
        this.#queued.delete(name);
      }
    }
    this.#queued.clear();
    this.#running = null;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Promote one zip of zipdir to every target of the role, then remove it from zipdir. */
  async promote(name: string): Promise<void> {
    const o = this.#o;
    let receipt = await o.receipts.get(name);
    if (receipt === null) throw new ZenrollError('INTERNAL', `zip ${name} is in zipdir without a receipt`);
    const src = join(o.zipdir, name);
    const origin = parseOuterName(name).server;
    for (const [i, t] of promotedNames(name, o).entries()) {
      if (i > 0) crashPoint('promote-mid');
      // Done before: if the file is gone, its consumer (the Sender, the database loader) took it.
      if (receipt.targets[t.target] !== undefined) continue;
      const dest = join(t.dir, t.name);
      // A rename is atomic: a dest that exists is a whole copy made before a crash.
      const already = await pathExists(dest);
      if (!already) await linkOrCopyDurable(src, dest);
      receipt = await o.receipts.markTarget(receipt, t.target, t.name);
      o.logger.info({ zip: name, target: t.target, as: t.name, already }, 'promoted');
      await writeRecord(o, {
        // A step inside this server: the hop is the server alone (SPEC §7).
        event: 'promoted',
        zip: t.name,
        bytes: receipt.bytes,
        files: receipt.files,
        from: o.server,
        origin,
        message: `${name} from zipdir to ${t.target}${already ? ' (found in place after a restart)' : ''}`,
      });
    }
    if (receipt.promotedAt === null) receipt = await o.receipts.markPromoted(receipt);
    crashPoint('promote-before-remove');
    await removeDurable(src);
    o.onPromoted?.(name);
  }
}
