/**
 * Inflating an entry on this thread and on the thread pool, over one corpus
 * of good and bad raw deflate streams: the same bytes, or the same error
 * code, both ways; exactly the zip's size or ZIP_SIZE_MISMATCH.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateEntry, inflateEntrySync, storedEntry } from '../src/inflater.js';

/** A seeded xorshift: the corpus is the same on every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Text like a .str: lines of keys and values, some repeated, some not. */
function text(bytes: number, seed: number): Buffer {
  const next = random(seed);
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    const line = `Key${Math.floor(next() * 40)}=${Math.floor(next() * 1e9).toString(36)} ${'x'.repeat(Math.floor(next() * 30))}\r\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

function noise(bytes: number, seed: number): Buffer {
  const next = random(seed);
  return Buffer.from(Array.from({ length: bytes }, () => Math.floor(next() * 256)));
}

/** A deflate stored block, not the last one: its bytes as they are. */
function storedBlock(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt16LE(data.length, 0);
  len.writeUInt16LE(~data.length & 0xffff, 2);
  return Buffer.concat([Buffer.from([0x00]), len, data]);
}

/** A last block of the reserved type 3. */
const INVALID_BLOCK = Buffer.from([0x07]);

interface Case {
  title: string;
  raw: Buffer;
  size: number;
}

const small = text(5_000, 1);
const str = text(150_000, 2);
const mb = text(1024 * 1024, 3);
const deflatedStr = deflateRawSync(str, { level: 6 });
/** The deflated .str inside a larger buffer, as the verifier passes it (a view of a read block). */
const block = Buffer.concat([noise(1000, 4), deflatedStr, noise(1000, 5)]);

const cases: Case[] = [
  { title: 'an empty file', raw: deflateRawSync(Buffer.alloc(0)), size: 0 },
  { title: 'a small file', raw: deflateRawSync(small), size: small.length },
  { title: 'a .str', raw: deflatedStr, size: str.length },
  { title: 'a .str read from the middle of a block', raw: block.subarray(1000, 1000 + deflatedStr.length), size: str.length },
  { title: 'a 1 MB file', raw: deflateRawSync(mb, { level: 9 }), size: mb.length },
  { title: 'stored deflate blocks (level 0)', raw: deflateRawSync(small, { level: 0 }), size: small.length },
  { title: 'incompressible data', raw: deflateRawSync(noise(70_000, 6)), size: 70_000 },
  { title: 'one byte more than the zip says', raw: deflatedStr, size: str.length - 1 },
  { title: 'much more than the zip says (a bomb)', raw: deflateRawSync(Buffer.alloc(5_000_000)), size: 100_000 },
  { title: 'data where the zip says 0 bytes', raw: deflateRawSync(small), size: 0 },
  { title: 'one byte less than the zip says', raw: deflatedStr, size: str.length + 1 },
  { title: 'far less than the zip says', raw: deflateRawSync(small), size: 1024 * 1024 },
  { title: 'a stream cut in half', raw: deflatedStr.subarray(0, deflatedStr.length >> 1), size: str.length },
  { title: 'a stream missing its last byte', raw: deflatedStr.subarray(0, deflatedStr.length - 1), size: str.length },
  { title: 'no bytes at all', raw: Buffer.alloc(0), size: 10 },
  { title: 'garbage after the end of the stream', raw: Buffer.concat([deflatedStr, noise(500, 7)]), size: str.length },
  { title: 'an invalid block type', raw: Buffer.from([0x07, 0x00, 0x00, 0x00]), size: 10 },
  { title: 'bad stored-block lengths', raw: Buffer.from([0x01, 0x05, 0x00, 0x05, 0x00, 1, 2, 3, 4, 5]), size: 5 },
  { title: 'random bytes', raw: noise(20_000, 8), size: 50_000 },
  // Past a small size, then corrupt: the output limit or the corruption, whichever zlib meets first, alike both ways.
  {
    title: '30 bytes, then an invalid block, where the zip says 10',
    raw: Buffer.concat([storedBlock(noise(30, 9)), INVALID_BLOCK]),
    size: 10,
  },
  {
    title: '30 bytes, then an invalid block, where the zip says 0',
    raw: Buffer.concat([storedBlock(noise(30, 10)), INVALID_BLOCK]),
    size: 0,
  },
  {
    title: '100 bytes, then an invalid block, where the zip says 10',
    raw: Buffer.concat([storedBlock(noise(100, 11)), INVALID_BLOCK]),
    size: 10,
  },
  {
    title: '62 bytes, then an invalid block, where the zip says 62',
    raw: Buffer.concat([storedBlock(noise(62, 12)), INVALID_BLOCK]),
    size: 62,
  },
  {
    title: '70 bytes, then an invalid block, where the zip says 63',
    raw: Buffer.concat([storedBlock(noise(70, 13)), INVALID_BLOCK]),
    size: 63,
  },
  ...Array.from({ length: 12 }, (_, i) => {
    const raw = Buffer.from(deflatedStr);
    const next = random(100 + i);
    for (let k = 0; k < 3; k++) {
      const at = Math.floor(next() * raw.length);
      raw.writeUInt8(raw.readUInt8(at) ^ (1 << Math.floor(next() * 8)), at);
    }
    return { title: `a .str with 3 bits flipped (seed ${100 + i})`, raw, size: str.length };
  }),
];

/** What came out: the bytes' length and SHA-256 (cheap to compare), or the error's code. */
type Outcome = { ok: { length: number; sha256: string } } | { error: unknown };

function digest(data: Buffer): Outcome {
  return { ok: { length: data.length, sha256: createHash('sha256').update(data).digest('hex') } };
}

function failed(err: unknown): Outcome {
  return { error: (err as { code?: unknown }).code };
}

function outcomeSync(c: Case): Outcome {
  try {
    return digest(inflateEntrySync(c.raw, c.size, 'entry'));
  } catch (err) {
    return failed(err);
  }
}

async function outcomePool(c: Case): Promise<Outcome> {
  return inflateEntry(c.raw, c.size, 'entry').then(digest, failed);
}

describe('inflateEntrySync and inflateEntry', () => {
  it('the corpus has good and bad streams of every kind', () => {
    const results = cases.map(outcomeSync);
    expect(results.filter((r) => 'ok' in r).length).toBeGreaterThanOrEqual(8);
    const codes = new Set(results.flatMap((r) => ('error' in r ? [r.error] : [])));
    expect(codes).toEqual(new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'ZIP_SIZE_MISMATCH']));
  });

  it.each(cases)('$title: the same bytes or the same error on this thread and on the pool', async (c) => {
    const sync = outcomeSync(c);
    expect(await outcomePool(c)).toEqual(sync);
    if ('ok' in sync) {
      // Exactly what an unbounded inflate gives, and exactly the zip's size.
      expect(sync).toEqual(digest(inflateRawSync(c.raw)));
      expect(sync.ok.length).toBe(c.size);
    }
  });

  it('stops a bomb at the size the zip says, with the entry named in the message', () => {
    const bomb = deflateRawSync(Buffer.alloc(50_000_000));
    let err: unknown;
    try {
      inflateEntrySync(bomb, 100_000, 'zip "z.zip": entry "a.str"');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'ZIP_SIZE_MISMATCH',
      message: 'zip "z.zip": entry "a.str" decodes to at least 100001 bytes; the zip says 100000',
    });
  });

  it('a stored entry is its bytes, which must be the size the zip says', () => {
    expect(storedEntry(small, small.length, 'entry').equals(small)).toBe(true);
    expect(() => storedEntry(small, small.length + 1, 'entry')).toThrow(expect.objectContaining({ code: 'ZIP_SIZE_MISMATCH' }));
  });
});
