/**
 * The .str generator: the same bytes as the scripts/lib/strgen.mjs it was
 * ported from (SHA-256 of files that generator wrote), the structure every
 * scan has, sizes within the bounds, names by index, and the files and
 * mtimes writeFixtures leaves on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BASE_MTIME_MS, DEFAULT_MAX_BYTES, DEFAULT_MIN_BYTES, deflateRatio, generateStr, writeFixtures } from '../src/index.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('generateStr', () => {
  // Written by the JavaScript generator this package replaced: benchmarks and
  // fixtures made before the port stay comparable only while these hold.
  it.each([
    [1, 0, {}, 'WS-00001_a798dc8e.str', 52704, '085c0336e6658a27560e1784c0d52abb6571b909f7aeff18e23f1adaab16b843'],
    [
      7,
      3,
      { minBytes: 2048, maxBytes: 8192 },
      'WS-00004 Lab 2_70758b58.str',
      8074,
      'c8139570d4c7cd4f0ab335ba87a73bf86d58eb93cd9c0c5e72ce8ddc88af7e42',
    ],
    [42, 12345, {}, 'WS-12346_50284d8e.str', 50416, '42828381976ffa87b7231ba0818dc60c9f6ba8210b2f2bc10b981058569ff2e5'],
    [
      -5,
      153,
      { minBytes: 0, maxBytes: 80 },
      'WS-00154 Peña_d3425f69.str',
      56,
      '3d599092fe9649d414fa9d9d09d1d79652695ebdc094d0fa6f1f60c928966b5b',
    ],
    [
      2 ** 40 + 5,
      99,
      { minBytes: 500000, maxBytes: 600000 },
      'WS-00100_2e1612b1.str',
      583567,
      '72458eb0a54d7c9dafe64f06d38718b038ae1a8b4ec45c97b7e02b2b83262bda',
    ],
  ])('seed %d index %d %j: %s, the bytes the old generator wrote', (seed, index, opts, name, size, digest) => {
    const s = generateStr(seed, index, opts);
    expect(s.name).toBe(name);
    expect(s.data.length).toBe(size);
    expect(sha256(s.data)).toBe(digest);
  });

  it('is a function of (seed, index, sizes): same again, other seed or index differs', () => {
    const a = generateStr(9, 4);
    expect(generateStr(9, 4).data.equals(a.data)).toBe(true);
    expect(generateStr(10, 4).data.equals(a.data)).toBe(false);
    expect(generateStr(9, 5).name).not.toBe(a.name);
  });

  it('every scan has the header, the sections and the trailer, in CRLF lines', () => {
    for (let index = 0; index < 40; index++) {
      const { name, data } = generateStr(3, index, { minBytes: 4096, maxBytes: 65536 });
      const text = data.toString('utf8');
      expect(text.startsWith(';ZENworks Inventory Scan Data\r\n')).toBe(true);
      expect(text.endsWith('[EndOfScan]\r\n')).toBe(true);
      expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
      const ws = `WS-${String(index + 1).padStart(5, '0')}`;
      expect(text).toContain(`\r\nWorkstation=${ws}\r\n`);
      expect(text).toContain(`\r\nScanFile=${name}\r\n`);
      expect(text).toContain(`\r\nGenerator=zenroll-strgen seed=3 index=${index}\r\n`);
      for (const section of [
        '[Header]',
        '[ComputerSystem]',
        '[BIOS]',
        '[Processor.1]',
        '[Memory]',
        '[Disk.1]',
        '[NetworkAdapter.1]',
        '[Video]',
      ]) {
        expect(text).toContain(`\r\n${section}\r\n`);
      }
      // Sections are ordered; the file-level scan (when the size leaves room for it) comes last.
      expect(text.indexOf('[Header]')).toBeLessThan(text.indexOf('[ComputerSystem]'));
      expect(text.indexOf('[Video]')).toBeLessThan(text.indexOf('[OperatingSystem]'));
    }
  });

  it('sizes stay within [minBytes, maxBytes] and spread over it; tiny sizes are padded exactly', () => {
    const sizes = Array.from({ length: 200 }, (_, i) => generateStr(5, i, { minBytes: 3000, maxBytes: 9000 }).data.length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(3000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(9000);
    expect(Math.min(...sizes)).toBeLessThan(4000);
    expect(Math.max(...sizes)).toBeGreaterThan(8000);
    expect(generateStr(5, 0, { minBytes: 17, maxBytes: 17 }).data).toEqual(Buffer.alloc(17, 0x20));
    expect(generateStr(5, 0, { minBytes: 0, maxBytes: 0 }).data.length).toBe(0);
    const dflt = generateStr(5, 1).data.length;
    expect(dflt).toBeGreaterThanOrEqual(DEFAULT_MIN_BYTES);
    expect(dflt).toBeLessThanOrEqual(DEFAULT_MAX_BYTES);
  });

  it('one name in 50 (index % 50 = 3) needs more than "_" encoding; the rest are WS-nnnnn_hex.str', () => {
    for (let index = 0; index < 200; index++) {
      const { name } = generateStr(1, index, { minBytes: 0, maxBytes: 0 });
      if (index % 50 === 3) expect(name).toMatch(/^WS-\d{5} [^_/\\]+_[0-9a-f]{8}\.str$/);
      else expect(name).toMatch(/^WS-\d{5}_[0-9a-f]{8}\.str$/);
    }
  });

  it('compresses about 5x at deflate level 6, like a real scan', () => {
    const ratio = deflateRatio(Array.from({ length: 8 }, (_, i) => generateStr(2, i).data));
    expect(ratio).toBeGreaterThan(3.5);
    expect(ratio).toBeLessThan(7);
  });

  it('refuses a fractional seed, a negative index and inverted sizes', () => {
    expect(() => generateStr(1.5, 0)).toThrow(/seed must be an integer/);
    expect(() => generateStr(1, -1)).toThrow(/index must be a non-negative integer/);
    expect(() => generateStr(1, 0, { minBytes: 5, maxBytes: 4 })).toThrow(RangeError);
  });
});

describe('writeFixtures', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zenroll-lab-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes generateStr files with mtimes in index order, and sums them up', async () => {
    const s = await writeFixtures({
      out: join(dir, 'new'),
      count: 70,
      seed: 4,
      startIndex: 10,
      minBytes: 1000,
      maxBytes: 5000,
      mtimeStepMs: 250,
    });
    expect(s.files).toBe(70);
    expect((await readdir(join(dir, 'new'))).sort()).toEqual([...s.names].sort());
    let total = 0;
    for (const [i, name] of s.names.entries()) {
      const path = join(dir, 'new', name);
      const st = await stat(path);
      expect(st.mtimeMs).toBe(DEFAULT_BASE_MTIME_MS + (10 + i) * 250);
      const expected = generateStr(4, 10 + i, { minBytes: 1000, maxBytes: 5000 });
      expect(name).toBe(expected.name);
      expect((await readFile(path)).equals(expected.data)).toBe(true);
      total += expected.data.length;
    }
    expect(s.totalBytes).toBe(total);
    // The ratio is measured on 16 files spread over the set: every fourth of 70.
    expect(s.sampleFiles).toBe(16);
    const sampled = Array.from({ length: 16 }, (_, k) => generateStr(4, 10 + 4 * k, { minBytes: 1000, maxBytes: 5000 }).data);
    expect(s.sampleRatio).toBe(deflateRatio(sampled));
  });

  it('an empty set is an empty folder; a negative count is refused', async () => {
    const s = await writeFixtures({ out: join(dir, 'none'), count: 0 });
    expect(s).toMatchObject({ files: 0, totalBytes: 0, minSize: 0, maxSize: 0, sampleFiles: 0, names: [] });
    expect(await readdir(join(dir, 'none'))).toEqual([]);
    await expect(writeFixtures({ out: dir, count: -1 })).rejects.toThrow(/count must be a non-negative integer/);
  });
});
