/** Realistic `.str` files from the project's generator (@zenroll/lab). */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFixtures } from '@zenroll/testkit';

export interface WrittenStrs {
  names: string[];
  /** SHA-256 hex of each file, in the order of `names`. */
  sha256: string[];
}

export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Write `count` small `.str` files into `dir`, mtimes one second apart in index order. */
export async function writeStrs(dir: string, count: number, opts: { seed?: number; startIndex?: number } = {}): Promise<WrittenStrs> {
  const { names } = await writeFixtures({
    out: dir,
    count,
    seed: opts.seed ?? 7,
    startIndex: opts.startIndex ?? 0,
    minBytes: 2048,
    maxBytes: 8192,
  });
  const sha256 = await Promise.all(names.map(async (n) => sha256Hex(await readFile(join(dir, n)))));
  return { names, sha256 };
}

/** Names in a folder that are files of a kind: `.str`, `.zip`. */
export async function filesIn(dir: string, ext: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith(ext) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}
