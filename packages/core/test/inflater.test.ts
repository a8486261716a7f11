/**
 * The Inflater that reuses one zlib engine (through its binding) against
 * the same Inflater on inflateRawSync, over one corpus of good and bad raw
 * deflate streams: the same bytes, or the same error, every time, and the
 * reused engine survives every error.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Inflater } from '../src/inflater.js';

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
  // Past a small size, then corrupt: zlib must meet the corruption in its one call as inflateRawSync does (it has 64 bytes of room).
  { title: '30 bytes, then an invalid block, where the zip says 10', raw: Buffer.concat([storedBlock(noise(30, 9)), INVALID_BLOCK]), size: 10 },
  { title: '30 bytes, then an invalid block, where the zip says 0', raw: Buffer.concat([storedBlock(noise(30, 10)), INVALID_BLOCK]), size: 0 },
  { title: '100 bytes, then an invalid block, where the zip says 10', raw: Buffer.concat([storedBlock(noise(100, 11)), INVALID_BLOCK]), size: 10 },
  { title: '62 bytes, then an invalid block, where the zip says 62', raw: Buffer.concat([storedBlock(noise(62, 12)), INVALID_BLOCK]), size: 62 },
  { title: '70 bytes, then an invalid block, where the zip says 63', raw: Buffer.concat([storedBlock(noise(70, 13)), INVALID_BLOCK]), size: 63 },
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

/** What came out: the bytes' length and SHA-256 (cheap to compare), or the error. */
type Outcome = { ok: { length: number; sha256: string } } | { error: { message: string; code: unknown; errno: unknown } };

function outcome(inflater: Inflater, c: Case): Outcome {
  try {
    const data = inflater.inflate(c.raw, c.size);
    return { ok: { length: data.length, sha256: createHash('sha256').update(data).digest('hex') } };
  } catch (err) {
    const e = err as Error & { code?: unknown; errno?: unknown };
    return { error: { message: e.message, code: e.code, errno: e.errno } };
  }
}

describe('Inflater', () => {
  it('drives zlib through its binding on this Node (the path the verifier takes)', () => {
    expect(new Inflater().reusesEngine).toBe(true);
    expect(new Inflater({ binding: false }).reusesEngine).toBe(false);
  });

  it('the corpus has good and bad streams of every kind', () => {
    const once = new Inflater({ binding: false });
    const results = cases.map((c) => outcome(once, c));
    expect(results.filter((r) => 'ok' in r).length).toBeGreaterThanOrEqual(8);
    const codes = new Set(results.flatMap((r) => ('error' in r ? [r.error.code ?? r.error.message.split('.')[0]] : [])));
    expect(codes).toEqual(new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'too many bytes in the stream', 'not enough bytes in the stream']));
  });

  it.each(cases)('$title: the same bytes or the same error as inflateRawSync', (c) => {
    const once = outcome(new Inflater({ binding: false }), c);
    const reused = outcome(new Inflater(), c);
    expect(reused).toEqual(once);
    if ('ok' in once) expect(once.ok.length).toBe(c.size);
  });

  it('one engine through the whole corpus, twice, in order and shuffled, answers as a fresh one each time', () => {
    const shared = new Inflater();
    const next = random(42);
    const order = [...cases, ...[...cases].sort(() => next() - 0.5)];
    for (const c of order) {
      expect(outcome(shared, c), c.title).toEqual(outcome(new Inflater({ binding: false }), c));
    }
  });

  it('returns its own memory, overwritten by the next call', () => {
    const inflater = new Inflater();
    const first = inflater.inflate(deflateRawSync(small), small.length);
    expect(first.equals(small)).toBe(true);
    const other = Buffer.alloc(small.length, 0x41);
    inflater.inflate(deflateRawSync(other), other.length);
    expect(first.equals(other)).toBe(true);
  });
});
