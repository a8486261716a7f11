import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isZenrollError } from '../src/errors.js';
import { generateKeyPair } from '../src/keys.js';
import { packBatch } from '../src/pack.js';
import { readOuterPrp } from '../src/peek.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-peek-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readOuterPrp', () => {
  it("reads a zip's .prp without a key", async () => {
    const files = ['A.str', 'B.str'].map((n) => join(dir, n));
    for (const f of files) await writeFile(f, `scan ${f}\r\n`);
    const packed = await packBatch({
      files,
      outDir: dir,
      server: 'LE_AF',
      tree: 'ACME',
      status: 0,
      scheduledtime: '20260501000000000',
      keys: generateKeyPair(),
      extra: [['batch.id', 'b1']],
    });
    const prp = await readOuterPrp(packed.path);
    expect(prp.server).toBe('LE_AF');
    expect(prp.files).toEqual(packed.files);
    expect(prp.extra).toEqual([['batch.id', 'b1']]);
  });

  it('says ZIP_UNREADABLE for a file that is no zip', async () => {
    const path = join(dir, '20260501000000000_LEAF1_ACME_0.zip');
    await writeFile(path, 'not a zip');
    const err: unknown = await readOuterPrp(path).catch((e: unknown) => e);
    expect(isZenrollError(err, 'ZIP_UNREADABLE')).toBe(true);
  });
});
