/** Small realistic `.str` scans (@zenroll/lab's generator) with their digests, for a test to give a Sender. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFixtures } from '@zenroll/lab';

export interface Scans {
  names: string[];
  /** SHA-256 hex of each, in the order of `names`. */
  sha256: string[];
}

/** Write `count` small `.str` (2–8 KB) into `dir`, mtimes one second apart in index order. */
export async function writeScans(dir: string, count: number, opts: { seed?: number; startIndex?: number } = {}): Promise<Scans> {
  const { names } = await writeFixtures({
    out: dir,
    count,
    seed: opts.seed ?? 11,
    startIndex: opts.startIndex ?? 0,
    minBytes: 2048,
    maxBytes: 8192,
  });
  const sha256 = await Promise.all(
    names.map(async (n) =>
      createHash('sha256')
        .update(await readFile(join(dir, n)))
        .digest('hex'),
    ),
  );
  return { names, sha256 };
}
