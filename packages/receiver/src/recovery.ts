/**
 * Start-up recovery (docs/DESIGN.md "Receive", "Promote"): whatever a crash
 * left is repaired before the Receiver answers its first request.
 *
 * - Temps in zipdir (partial uploads) and in the quarantine are removed; in
 *   the target folders only the temps of our own promotions are, since the
 *   Sender writes its own temps in entpushdir.
 * - Every zip in zipdir was verified before it was renamed there: it gets its
 *   receipt if the crash came before it (so a retry is answered 200), and is
 *   queued for promotion again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compareOuterNames, errnoCode, fsError, fsyncDir, isTempName, parseOuterName, sweepTemps } from '@zenroll/core';
import type { Logger } from './logger.js';
import { promotedNames, type Promoter, type PromoteTargetDir } from './promote.js';
import type { ReceiptStore } from './receipts.js';

export interface RecoveryOptions {
  zipdir: string;
  targets: readonly PromoteTargetDir[];
  tree: string;
  hasDatabase: boolean;
  /** Created before recovery runs, like zipdir and the targets. */
  quarantineDir: string | null;
  receipts: ReceiptStore;
  promoter: Promoter;
  logger: Logger;
}

export interface RecoveryReport {
  /** Temps removed, full paths. */
  swept: string[];
  /** Zips that got the receipt a crash kept them from getting. */
  receipted: string[];
  /** Zips of zipdir queued for promotion, oldest first. */
  queued: string[];
}

async function sha256Of(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await pipeline(createReadStream(path), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        bytes += chunk.length;
        hash.update(chunk);
      }
    });
  } catch (err) {
    throw fsError(err, 'read', path);
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    throw fsError(err, 'list', dir);
  }
}

/** Remove the temps of the promoted copies of `names` (`.<promoted name>.<hex>.tmp`) from the target folders. */
async function sweepPromotionTemps(names: string[], o: RecoveryOptions): Promise<string[]> {
  const removed: string[] = [];
  for (const t of o.targets) {
    const ours = new Set(names.map((n) => promotedNames(n, { ...o, targets: [t] })[0]?.name));
    const found = (await list(t.dir)).filter((f) => isTempName(f) && ours.has(f.slice(1).replace(/\.[0-9a-f]{12}\.tmp$/, '')));
    for (const f of found) {
      const path = join(t.dir, f);
      try {
        await unlink(path);
        removed.push(path);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'remove the leftover temp', path);
      }
    }
    if (found.length > 0) await fsyncDir(t.dir);
  }
  return removed;
}

export async function recover(o: RecoveryOptions): Promise<RecoveryReport> {
  const swept = await sweepTemps(o.zipdir);
  if (o.quarantineDir !== null) swept.push(...(await sweepTemps(o.quarantineDir)));
  const zips: string[] = [];
  for (const file of (await list(o.zipdir)).filter((f) => f.endsWith('.zip') && !isTempName(f))) {
    try {
      parseOuterName(file);
      zips.push(file);
    } catch (err) {
      // Only verified zips are renamed into zipdir: this one was put there by hand.
      o.logger.warn({ zip: file, err }, 'a file in zipdir is not an outer zip; it is left alone');
    }
  }
  zips.sort(compareOuterNames);
  swept.push(...(await sweepPromotionTemps(zips, o)));

  const receipted: string[] = [];
  for (const name of zips) {
    if ((await o.receipts.get(name)) !== null) continue;
    // A crash between the rename and the receipt: the zip was verified; its digest is its receipt.
    // The number of .str is not known without verifying again; records show 0.
    await o.receipts.create({ name, ...(await sha256Of(join(o.zipdir, name))), files: 0 });
    receipted.push(name);
  }
  for (const name of zips) o.promoter.enqueue(name);
  if (swept.length + receipted.length + zips.length > 0) {
    o.logger.info({ swept, receipted, queued: zips }, 'recovered after a stop');
  }
  return { swept, receipted, queued: zips };
}
