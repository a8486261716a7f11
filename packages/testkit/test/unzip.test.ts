/**
 * strsInZips on real outer zips (packed by core's packBatch, as a Sender
 * makes them) read back with Info-ZIP's unzip: per outer zip, the SHA-256
 * of each .str of its inner zip; a folder's other files ignored; an outer
 * zip without exactly one inner zip refused; the scratch folder removed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPair, packBatch } from '@zenroll/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { strsInZips } from '../src/unzip.js';

const exec = promisify(execFile);
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'zenroll-testkit-unzip-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const keys = generateKeyPair();

/** An outer zip in `out` holding `scans` (name → content), scheduled at `when`. */
async function pack(out: string, when: string, scans: Record<string, string>): Promise<string> {
  const src = join(root, `src-${when}`);
  await mkdir(src, { recursive: true });
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  for (const [name, content] of Object.entries(scans)) {
    await writeFile(join(src, name), content);
    files.push(join(src, name));
  }
  const packed = await packBatch({ files, outDir: out, server: 'LEAF1', tree: 'ACME', status: 0, scheduledtime: when, keys });
  return packed.name;
}

describe('strsInZips', () => {
  it('names each outer zip of a folder, in order, with the SHA-256 of every .str its inner zip holds', async () => {
    const out = join(root, 'zips');
    const a = { 'pc1.str': 'scan of pc1\n', 'pc2.str': 'scan of pc2\n'.repeat(100) };
    const b = { 'pc3.str': 'scan of pc3\n' };
    const first = await pack(out, '20261122103000000', a);
    const second = await pack(out, '20261122104000000', b);
    await writeFile(join(out, 'notes.txt'), 'not a zip');
    const work = join(root, 'work');
    const found = await strsInZips(out, work);
    expect(found.map((z) => z.zip)).toEqual([first, second].sort());
    const byZip = new Map(found.map((z) => [z.zip, [...z.sha256].sort()]));
    expect(byZip.get(first)).toEqual(Object.values(a).map(sha256).sort());
    expect(byZip.get(second)).toEqual(Object.values(b).map(sha256));
    expect(await readdir(root)).not.toContain('work');
  });

  it('an empty folder: no zips', async () => {
    expect(await strsInZips(root, join(root, 'work'))).toEqual([]);
  });

  it('refuses an outer zip that holds two inner zips, and still removes its scratch folder', async () => {
    const out = join(root, 'zips');
    await mkdir(out);
    const one = await pack(join(root, 'one'), '20261122103000000', { 'pc1.str': 'x\n' });
    const two = await pack(join(root, 'two'), '20261122104000000', { 'pc2.str': 'y\n' });
    // Info-ZIP's zip, not our writer: the bad outer zip is made by a tool the code under test does not share.
    await exec('zip', ['-q', '-j', join(out, 'double.zip'), join(root, 'one', one), join(root, 'two', two)]);
    await expect(strsInZips(out, join(root, 'work'))).rejects.toThrow('double.zip holds 2 inner zips, not one');
    expect(await readdir(root)).not.toContain('work');
  });
});
