import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fromBuffer, type Entry, type ZipFile } from 'yauzl';
import { isZenrollError } from '../src/errors.js';
import { DEFAULT_LIMITS } from '../src/zipcheck.js';
import { chooseEntry, dosDateTime, partsLength, zipParts, type ZipEntry } from '../src/zipwrite.js';
import { str, useTempDir } from './helpers/outer.js';

const dir = useTempDir('zenroll-zipwrite-');
const date = new Date('2026-11-22T10:30:07.000Z');

interface Read {
  entry: Entry;
  data: Buffer;
}

/** Every entry of a zip through yauzl, with the strict options verify.ts uses, data decoded and size-checked. */
async function readBack(zip: Buffer): Promise<Read[]> {
  const zf = await new Promise<ZipFile>((resolve, reject) =>
    fromBuffer(zip, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const out: Read[] = [];
  await new Promise<void>((resolve, reject) => {
    zf.on('entry', (entry: Entry) => {
      zf.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          out.push({ entry, data: Buffer.concat(chunks) });
          zf.readEntry();
        });
      });
    });
    zf.on('end', resolve);
    zf.on('error', reject);
    zf.readEntry();
  });
  return out;
}

function deflated(name: string, content: Buffer): ZipEntry {
  return chooseEntry(name, content, deflateRawSync(content), DEFAULT_LIMITS);
}

async function unzipTest(zip: Buffer): Promise<string> {
  const path = join(dir(), 'z.zip');
  await writeFile(path, zip);
  return execFileSync('unzip', ['-tq', path], { encoding: 'utf8' });
}

describe('zipParts', () => {
  const text = str(1, 30_000).data;
  const random = randomBytes(5000);
  const entries: ZipEntry[] = [
    deflated('WS-0001.str', text),
    deflated('WS-Zürich_é.str', text.subarray(0, 9000)),
    deflated('EMPTY.str', Buffer.alloc(0)),
    deflated('RANDOM.str', random),
    chooseEntry('STORED.str', text, undefined, DEFAULT_LIMITS),
  ];

  it('reads back through yauzl and Info-ZIP: names, methods, sizes, CRCs, content, mode, date', async () => {
    const zip = Buffer.concat(zipParts(entries, date));
    expect(partsLength(zipParts(entries, date))).toBe(zip.length);
    const read = await readBack(zip);
    expect(read.map((r) => [r.entry.fileName, r.entry.compressionMethod])).toEqual([
      ['WS-0001.str', 8],
      ['WS-Zürich_é.str', 8],
      ['EMPTY.str', 0], // deflate would make 0 bytes into 2
      ['RANDOM.str', 0], // incompressible: stored, as zip does
      ['STORED.str', 0],
    ]);
    const contents = [text, text.subarray(0, 9000), Buffer.alloc(0), random, text];
    read.forEach((r, i) => {
      expect(r.data.equals(contents[i] as Buffer)).toBe(true);
      expect(r.entry.crc32).toBe(crc32(contents[i] as Buffer));
      expect(r.entry.externalFileAttributes >>> 16).toBe(0o100644);
      expect(r.entry.versionMadeBy >> 8).toBe(3);
      expect((r.entry.generalPurposeBitFlag & 0x8) === 0).toBe(true); // no data descriptor
      expect(r.entry.getLastModDate({ forceDosFormat: true, timezone: 'UTC' }).toISOString()).toBe('2026-11-22T10:30:06.000Z');
    });
    expect(read.map((r) => (r.entry.generalPurposeBitFlag & 0x800) !== 0)).toEqual([false, true, false, false, false]);
    expect(await unzipTest(zip)).toContain('No errors detected');
  });

  it('writes a stored zip holding a zip (the outer layout) that Info-ZIP tests', async () => {
    const inner = Buffer.concat(zipParts(entries, date));
    const outer = Buffer.concat(zipParts([chooseEntry('in.zip', inner, undefined, DEFAULT_LIMITS), chooseEntry('x.prp', Buffer.from('a=b\n'), undefined, DEFAULT_LIMITS)], date));
    const read = await readBack(outer);
    expect(read[0]?.data.equals(inner)).toBe(true);
    expect(await unzipTest(outer)).toContain('No errors detected');
  });

  it('is an empty zip for no entries', async () => {
    const zip = Buffer.concat(zipParts([], date));
    expect(zip.length).toBe(22);
    expect(await readBack(zip)).toEqual([]);
  });

  it('refuses what would need zip64 (PACK_FAILED)', () => {
    const long = { name: 'x'.repeat(70_000), method: 0 as const, data: Buffer.alloc(0), crc32: 0, size: 0 };
    const tooMany = Array.from({ length: 70_000 }, (_, i) => ({ ...long, name: `${i}.str` }));
    for (const bad of [[long], tooMany, [{ ...long, name: 'a.str', size: 2 ** 32 }]]) {
      let err: unknown;
      try {
        zipParts(bad, date);
      } catch (e) {
        err = e;
      }
      expect(isZenrollError(err) && err.code).toBe('PACK_FAILED');
    }
  });
});

describe('chooseEntry', () => {
  const cap = { maxRatio: 200, ratioMinBytes: 8 * 1024 };

  it('keeps the deflate when it is smaller and within the Receiver ratio cap', () => {
    const content = str(2, 20_000).data;
    const e = chooseEntry('a.str', content, deflateRawSync(content), cap);
    expect([e.method, e.size, e.crc32]).toEqual([8, 20_000, crc32(content)]);
  });

  it('stores what would expand past the cap, but not a small file that does (the cap spares those)', () => {
    const spaces = Buffer.alloc(1_000_000, 0x20);
    expect(chooseEntry('a.str', spaces, deflateRawSync(spaces), cap).method).toBe(0);
    const small = Buffer.alloc(8 * 1024, 0x20);
    expect(chooseEntry('a.str', small, deflateRawSync(small), cap).method).toBe(8);
    // Exactly at the cap is allowed, one byte past it is not (zipcheck.ts: size > maxRatio × compressed).
    const atCap = Buffer.alloc(200 * 100);
    expect(chooseEntry('a.str', atCap, Buffer.alloc(100), cap).method).toBe(8);
    expect(chooseEntry('a.str', Buffer.alloc(200 * 100 + 1), Buffer.alloc(100), cap).method).toBe(0);
  });

  it('stores when deflating does not make it smaller, or when there is no deflate (level 0)', () => {
    const random = randomBytes(1000);
    expect(chooseEntry('a.str', random, deflateRawSync(random), cap)).toMatchObject({ method: 0, data: random });
    expect(chooseEntry('a.str', str(3).data, undefined, cap).method).toBe(0);
  });
});

describe('dosDateTime', () => {
  it('is the UTC date and time in 2-second steps, clamped to what DOS dates hold', () => {
    expect(dosDateTime(date)).toEqual({ date: ((2026 - 1980) << 9) | (11 << 5) | 22, time: (10 << 11) | (30 << 5) | 3 });
    expect(dosDateTime(new Date('1970-01-01T00:00:00Z'))).toEqual({ date: (1 << 5) | 1, time: 0 });
    expect(dosDateTime(new Date('2200-01-01T00:00:00Z'))).toEqual({ date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 });
  });
});
