/**
 * Raw zips read back by a real reader (yauzl, and Info-ZIP's `unzip -t`),
 * each bent field where the reader sees it, and the mutants: what each kind
 * of mutation does to the bytes, that the arbitraries stay in bounds, and how
 * runMutant classifies a verifier's answers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBuffer, type Entry } from 'yauzl';
import {
  buildZip,
  describeMutations,
  essence,
  localRecord,
  mutantArb,
  mutate,
  runMutant,
  zip64Extra,
  type Mutation,
} from '../src/zipcraft/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-zipcraft-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Read {
  entries: Entry[];
  data: Map<string, Buffer>;
}

/** The entries (and, with `data`, their bytes) as yauzl reads them. */
function readZip(zip: Buffer, data = true): Promise<Read> {
  return new Promise((resolve, reject) => {
    fromBuffer(zip, { lazyEntries: true, decodeStrings: true }, (err, z) => {
      if (err) return reject(err);
      const entries: Entry[] = [];
      const bytes = new Map<string, Buffer>();
      z.on('error', reject);
      z.on('end', () => resolve({ entries, data: bytes }));
      z.on('entry', (e: Entry) => {
        entries.push(e);
        if (!data) return z.readEntry();
        z.openReadStream(e, (e2, s) => {
          if (e2) return reject(e2);
          const parts: Buffer[] = [];
          s.on('data', (c: Buffer) => parts.push(c));
          s.on('end', () => {
            bytes.set(e.fileName, Buffer.concat(parts));
            z.readEntry();
          });
        });
      });
      z.readEntry();
    });
  });
}

const a = Buffer.from('a scan line\r\n'.repeat(200));
const b = Buffer.from('Café\r\n');

describe('buildZip', () => {
  it('writes a zip that yauzl and unzip read: deflated and stored entries, UTF-8 names, Unix modes', async () => {
    const zip = buildZip([
      { name: 'WS-1.str', data: a },
      { name: 'WS-2 Müller.str', data: b, method: 0 },
    ]);
    const read = await readZip(zip);
    expect(
      read.entries.map((e) => [e.fileName, e.compressionMethod, e.crc32, e.uncompressedSize, e.externalFileAttributes >>> 16]),
    ).toEqual([
      ['WS-1.str', 8, crc32(a), a.length, 0o100644],
      ['WS-2 Müller.str', 0, crc32(b), b.length, 0o100644],
    ]);
    expect(read.entries[1]?.generalPurposeBitFlag).toBe(0x800);
    expect(read.data.get('WS-1.str')).toEqual(a);
    expect(read.data.get('WS-2 Müller.str')).toEqual(b);
    const path = join(dir, 'good.zip');
    await writeFile(path, zip);
    expect(execFileSync('unzip', ['-tq', path], { encoding: 'utf8' })).toMatch(/No errors detected/);
  });

  it('bends one field: a wrong CRC, a count, a prefix, a local name, a central-only record', async () => {
    const badCrc = buildZip([{ name: 'x.str', data: a, crc: 1 }]);
    await expect(readZip(badCrc).then((r) => r.entries[0]?.crc32)).resolves.toBe(1);
    const counted = buildZip([{ name: 'x.str', data: a }], { count: 3 });
    expect(counted.readUInt16LE(counted.length - 22 + 10)).toBe(3);
    const prefixed = buildZip([{ name: 'x.str', data: a }], { prefix: Buffer.from('MZ junk') });
    expect(prefixed.subarray(0, 7).toString()).toBe('MZ junk');
    expect(prefixed.readUInt32LE(7)).toBe(0x04034b50);
    const renamed = localRecord({ name: 'x.str', data: a, local: { name: 'y.str' } });
    expect(renamed.subarray(30, 35).toString()).toBe('y.str');
    const ghost = buildZip([
      { name: 'x.str', data: a },
      { name: 'ghost.str', data: b, centralOnlyAt: 0 },
    ]);
    const read = await readZip(ghost, false);
    expect(read.entries.map((e) => [e.fileName, e.relativeOffsetOfLocalHeader])).toEqual([
      ['x.str', 0],
      ['ghost.str', 0],
    ]);
  });

  it('writes the zip64 end records, in place or hidden as a comment, and zip64 extra fields', () => {
    const plain = buildZip([{ name: 'x.str', data: a }]);
    const z64 = buildZip([{ name: 'x.str', data: a }], { zip64: {} });
    expect(z64.length).toBe(plain.length + 76);
    expect(z64.readUInt32LE(z64.length - 22 - 76)).toBe(0x06064b50);
    expect(z64.readUInt32LE(z64.length - 22 - 20)).toBe(0x07064b50);
    const hidden = buildZip([{ name: 'x.str', data: a }], { zip64: { inComment: true } });
    expect(hidden.length).toBe(plain.length + 76);
    // The end record's central directory size takes the comment in.
    expect(hidden.readUInt32LE(hidden.length - 22 + 12)).toBe(plain.readUInt32LE(plain.length - 22 + 12) + 76);
    const extra = zip64Extra(1n, 2n ** 40n);
    expect([extra.readUInt16LE(0), extra.readUInt16LE(2), extra.readBigUInt64LE(12)]).toEqual([1, 16, 2n ** 40n]);
  });
});

describe('mutants', () => {
  const base = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('each kind of mutation changes the bytes as named, on a copy', () => {
    const cases: [Mutation, number[]][] = [
      [{ kind: 'flip', at: 2, xor: 0xff }, [0, 1, 0xfd, 3, 4, 5, 6, 7, 8, 9]],
      [{ kind: 'flip', at: 99, xor: 1 }, [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]],
      [{ kind: 'set32', at: 8, value: 0xffffffff }, [0, 1, 2, 3, 4, 5, 0xff, 0xff, 0xff, 0xff]],
      [{ kind: 'truncate', at: 4 }, [0, 1, 2, 3]],
      [{ kind: 'insert', at: 1, bytes: Uint8Array.of(7, 7) }, [0, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
      [{ kind: 'delete', at: 8, count: 64 }, [0, 1, 2, 3, 4, 5, 6, 7]],
      [{ kind: 'copy', from: 0, to: 7, count: 5 }, [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]],
    ];
    for (const [m, want] of cases) expect([...mutate(base, [m])]).toEqual(want);
    expect([...base]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(
      describeMutations([
        { kind: 'flip', at: 2, xor: 1 },
        { kind: 'insert', at: 1, bytes: Uint8Array.of(1) },
      ]),
    ).toBe('flip {"at":2,"xor":1}; insert 1 bytes at 1');
  });

  it('the arbitraries give one to three mutations within the buffer, the same ones for the same seed', () => {
    const runs = fc.sample(mutantArb(base.length), { numRuns: 300, seed: 42 });
    expect(fc.sample(mutantArb(base.length), { numRuns: 300, seed: 42 })).toEqual(runs);
    expect(new Set(runs.flat().map((m) => m.kind))).toEqual(new Set(['flip', 'set32', 'truncate', 'insert', 'delete', 'copy']));
    for (const ms of runs) {
      expect(ms.length).toBeGreaterThanOrEqual(1);
      expect(ms.length).toBeLessThanOrEqual(3);
      for (const m of ms) {
        const offsets = m.kind === 'copy' ? [m.from, m.to] : [m.at];
        for (const o of offsets) expect(o).toBeLessThanOrEqual(base.length);
      }
    }
  });

  it('runMutant writes the mutant and tells identical, rejected, crash, differs and hang apart', async () => {
    const isZenrollError = (err: unknown): err is { code: string } => err instanceof Error && 'zenroll' in err;
    const refusal = (code: string) => Object.assign(new Error('no'), { zenroll: true, code });
    const verified = { prp: { server: 'LEAF1' }, files: ['a'] };
    const path = join(dir, 'mutant.zip');
    const run = (verify: (p: string) => Promise<typeof verified>) =>
      runMutant({ path, bytes: base, verify, original: essence(verified), isZenrollError, deadlineMs: 200 });
    await expect(run(async () => verified)).resolves.toMatchObject({ outcome: 'identical' });
    await expect(run(() => Promise.reject(refusal('ZIP_CRC_MISMATCH')))).resolves.toMatchObject({
      outcome: 'rejected',
      code: 'ZIP_CRC_MISMATCH',
    });
    await expect(run(() => Promise.reject(refusal('RECEIVER_BUSY')))).resolves.toMatchObject({ outcome: 'crash', code: 'RECEIVER_BUSY' });
    await expect(run(() => Promise.reject(new RangeError('offset out of range')))).resolves.toMatchObject({
      outcome: 'crash',
      message: expect.stringContaining('RangeError: offset out of range'),
    });
    await expect(run(async () => ({ ...verified, files: ['b'] }))).resolves.toMatchObject({ outcome: 'differs' });
    await expect(run(() => new Promise(() => undefined))).resolves.toMatchObject({ outcome: 'hang' });
    // The verifier got the mutant's path, holding the mutant's bytes.
    let seen = Buffer.alloc(0);
    await run(async (p) => {
      seen = await readFile(p);
      return verified;
    });
    expect(seen).toEqual(base);
  });
});
