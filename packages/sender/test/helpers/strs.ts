/** Realistic `.str` files from the project's generator (the kit's writeScans), and folder listings. */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { writeScans, type Scans } from '@zenroll/testkit';

export type WrittenStrs = Scans;

export const sha256Hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Write `count` small `.str` files into `dir`, mtimes one second apart in index order. */
export function writeStrs(dir: string, count: number, opts: { seed?: number; startIndex?: number } = {}): Promise<WrittenStrs> {
  return writeScans(dir, count, { ...opts, seed: opts.seed ?? 7 });
}

/** Names in a folder that are files of a kind: `.str`, `.zip`. */
export async function filesIn(dir: string, ext: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith(ext) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}
