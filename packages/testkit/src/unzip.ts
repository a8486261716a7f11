/**
 * What the outer zips of a folder hold, read with Info-ZIP's unzip(1) rather
 * than our own reader: a test that checks where scans arrived does not trust
 * the code under test to tell it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Per outer zip of `dir` (by name), the SHA-256 of each `.str` in its inner zip; `work` is a scratch folder, removed after. */
export async function strsInZips(dir: string, work: string): Promise<{ zip: string; sha256: string[] }[]> {
  const out: { zip: string; sha256: string[] }[] = [];
  try {
    for (const zip of (await readdir(dir)).filter((n) => n.endsWith('.zip')).sort()) {
      const here = join(work, zip);
      await mkdir(here, { recursive: true });
      await exec('unzip', ['-q', join(dir, zip), '-d', here]);
      const inner = (await readdir(here)).filter((n) => n.endsWith('.zip'));
      if (inner.length !== 1 || inner[0] === undefined) throw new Error(`${zip} holds ${inner.length} inner zips, not one`);
      await exec('unzip', ['-q', join(here, inner[0]), '-d', join(here, 'strs')]);
      const strs = await readdir(join(here, 'strs'));
      const sha256 = await Promise.all(
        strs.map(async (n) =>
          createHash('sha256')
            .update(await readFile(join(here, 'strs', n)))
            .digest('hex'),
        ),
      );
      out.push({ zip, sha256 });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return out;
}
