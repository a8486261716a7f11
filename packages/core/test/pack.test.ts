import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { generateStr } from '@zenroll/lab';
import { describe, expect, it } from 'vitest';
import { fromBuffer, type Entry, type ZipFile } from 'yauzl';
import { TrustStore, generateKeyPair } from '../src/keys.js';
import { packBatch, type PackOptions } from '../src/pack.js';
import { verifyOuterZip } from '../src/verify.js';
import { storedZipBytes } from '../src/ziparchive.js';
import { TIME, failure, openFds, sha256, str, useTempDir, type Str } from './helpers/outer.js';

const keys = generateKeyPair();
const trust = new TrustStore();
trust.add(keys.publicKey, 'test', null);
const dir = useTempDir('zenroll-pack-');
const created = new Date('2026-11-22T10:30:00.000Z');

async function sources(strs: Str[], sub = 'merge'): Promise<string[]> {
  await mkdir(join(dir(), sub), { recursive: true });
  const paths = strs.map((s) => join(dir(), sub, s.name));
  await Promise.all(strs.map((s, i) => writeFile(paths[i] as string, s.data)));
  return paths;
}

async function pack(files: string[], more: Partial<PackOptions> = {}) {
  const outDir = more.outDir ?? join(dir(), 'out');
  await mkdir(outDir, { recursive: true });
  return packBatch({ files, outDir, server: 'LEAF1', tree: 'ACME', status: 0, scheduledtime: TIME, keys, created, ...more });
}

const outFiles = async (): Promise<string[]> => readdir(join(dir(), 'out'));

interface PyView {
  bad: string | null;
  outer: [string, number, number][];
  innerBad: string | null;
  inner: [string, number, number, number][];
}

// Python's zipfile as a second, independent reader: testzip() checks every CRC.
const PY = `
import io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
iz = zipfile.ZipFile(io.BytesIO(z.read(z.infolist()[0].filename)))
print(json.dumps({"bad": bad, "outer": [[i.filename, i.compress_type, i.CRC] for i in z.infolist()],
  "innerBad": iz.testzip(), "inner": [[i.filename, i.compress_type, i.CRC, i.file_size] for i in iz.infolist()]}))
`;
const python = (path: string): PyView => JSON.parse(execFileSync('python3', ['-c', PY, path], { encoding: 'utf8' })) as PyView;

/** Info-ZIP tests the outer zip, extracts it, tests the inner zip and extracts the .str. */
async function infoZip(path: string, strs: Str[]): Promise<void> {
  const x = join(dir(), 'x');
  expect(execFileSync('unzip', ['-t', path], { encoding: 'utf8' })).toContain('No errors detected');
  execFileSync('unzip', ['-q', path, '-d', x]);
  const inner = join(x, `${TIME}_LEAF1.zip`);
  expect(execFileSync('unzip', ['-t', inner], { encoding: 'utf8' })).toContain('No errors detected');
  execFileSync('unzip', ['-q', inner, '-d', join(x, 'str')]);
  for (const s of strs) expect((await readFile(join(x, 'str', s.name))).equals(s.data)).toBe(true);
  await rm(x, { recursive: true });
}

describe('packBatch', () => {
  it('packs one .str into a zip that verifies and that Info-ZIP and Python read', async () => {
    const strs = [generateStr(7, 0)];
    const r = await pack(await sources(strs));
    expect(r.name).toBe(`${TIME}_LEAF1_ACME_0.zip`);
    expect(r.path).toBe(join(dir(), 'out', r.name));
    expect(await outFiles()).toEqual([r.name]);
    expect(r.files).toEqual(strs.map((s) => ({ name: s.name, size: s.data.length, sha256: sha256(s.data) })));
    const v = await verifyOuterZip(r.path, { trust: trust.lookup });
    expect(v).toMatchObject({ bytes: r.bytes, files: r.files, prp: { inner: r.inner, created: created.toISOString() } });
    await infoZip(r.path, strs);
    const py = python(r.path);
    expect(py.bad).toBeNull();
    expect(py.innerBad).toBeNull();
    expect(py.inner).toEqual(strs.map((s) => [s.name, 8, crc32(s.data), s.data.length]));
  });

  it('packs 50 .str: two stored entries, inner first, its .str deflated in order', async () => {
    const strs = Array.from({ length: 50 }, (_, i) => generateStr(42, i, { minBytes: 20_000, maxBytes: 200_000 }));
    const r = await pack(await sources(strs), { status: 2, extra: [['batch.id', 'b-1']] });
    expect(r.name).toBe(`${TIME}_LEAF1_ACME_2.zip`);
    const v = await verifyOuterZip(r.path, { trust: trust.lookup });
    expect(v.files.map((f) => f.name)).toEqual(strs.map((s) => s.name));
    expect(v.prp.extra).toEqual([['batch.id', 'b-1']]);
    const py = python(r.path);
    expect(py.bad).toBeNull();
    expect(py.innerBad).toBeNull();
    expect(py.outer.map(([n, method]) => [n, method])).toEqual([
      [`${TIME}_LEAF1.zip`, 0],
      [`${TIME}_LEAF1.prp`, 0],
    ]);
    expect(py.inner).toEqual(strs.map((s) => [s.name, 8, crc32(s.data), s.data.length]));
    await infoZip(r.path, strs);
  });

  it('deflates at level 6 by default; the level changes the size; 0 stores', async () => {
    const files = await sources(Array.from({ length: 5 }, (_, i) => generateStr(3, i)));
    const sizes: Record<string, number> = {};
    for (const level of [undefined, 0, 1, 6, 9]) {
      const r = await pack(files, { level, outDir: join(dir(), `out-${level}`) });
      sizes[String(level)] = r.inner.size;
      const py = python(r.path);
      expect(py.inner.every(([, method]) => method === (level === 0 ? 0 : 8))).toBe(true);
    }
    expect(sizes.undefined).toBe(sizes['6']);
    expect(sizes['1']).toBeGreaterThan(sizes['6'] as number);
    expect(sizes['9']).toBeLessThanOrEqual(sizes['6'] as number);
    expect(sizes['0']).toBeGreaterThan(2 * (sizes['1'] as number));
  });

  it('is deterministic: the same batch and time give the same bytes', async () => {
    const files = await sources([str(1), str(2)]);
    const a = await pack(files);
    const b = await pack(files, { outDir: join(dir(), 'out2') });
    expect((await readFile(a.path)).equals(await readFile(b.path))).toBe(true);
  });

  it('keeps a non-ASCII .str name exact (UTF-8 flag)', async () => {
    const strs = [{ name: 'WS-Zürich_é.str', data: str(1).data }];
    const r = await pack(await sources(strs));
    expect((await verifyOuterZip(r.path, { trust: trust.lookup })).files[0]?.name).toBe('WS-Zürich_é.str');
    expect(python(r.path).inner[0]?.[0]).toBe('WS-Zürich_é.str');
  });

  it('stores a .str that would deflate past the ratio cap, so the Receiver takes it', async () => {
    const strs = [str(1), { name: 'SPACES.str', data: Buffer.alloc(1_000_000, 0x20) }];
    const r = await pack(await sources(strs));
    await verifyOuterZip(r.path, { trust: trust.lookup });
    expect(python(r.path).inner.map(([n, method]) => [n, method])).toEqual([
      [strs[0]?.name, 8],
      ['SPACES.str', 0],
    ]);
  });
});

describe('packBatch zip layout', () => {
  /** The outer zip's entries and the inner zip's, through yauzl with the strict options verify.ts uses. */
  async function entriesOf(zip: Buffer): Promise<{ entry: Entry; data: Buffer }[]> {
    const zf = await new Promise<ZipFile>((resolve, reject) =>
      fromBuffer(zip, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z))),
    );
    const out: { entry: Entry; data: Buffer }[] = [];
    for (;;) {
      const entry = await new Promise<Entry | undefined>((resolve, reject) => {
        zf.once('entry', resolve)
          .once('end', () => resolve(undefined))
          .once('error', reject);
        zf.readEntry();
      });
      if (entry === undefined) return out;
      zf.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error');
      const data = await new Promise<Buffer>((resolve, reject) =>
        zf.openReadStream(entry, (err, stream) => {
          if (err) return reject(err);
          const chunks: Buffer[] = [];
          stream
            .on('data', (c: Buffer) => chunks.push(c))
            .on('error', reject)
            .on('end', () => resolve(Buffer.concat(chunks)));
        }),
      );
      out.push({ entry, data });
    }
  }

  it('every entry a regular file of mode 0o644, dated created in UTC; the outer entries stored with their sizes up front', async () => {
    const strs = [str(1), { name: 'WS-Zürich_é.str', data: str(2, 9000).data }];
    const r = await pack(await sources(strs));
    const outer = await entriesOf(await readFile(r.path));
    const inner = await entriesOf(outer[0]?.data as Buffer);
    expect(outer.map((e) => e.entry.compressionMethod)).toEqual([0, 0]);
    // Sizes and CRC in the local header: a stored entry needs no data descriptor.
    expect(outer.every((e) => (e.entry.generalPurposeBitFlag & 0x8) === 0)).toBe(true);
    expect(inner.map((e) => [e.entry.fileName, (e.entry.generalPurposeBitFlag & 0x800) !== 0])).toEqual([
      [strs[0]?.name, false],
      ['WS-Zürich_é.str', true],
    ]);
    for (const { entry } of [...outer, ...inner]) {
      expect(entry.externalFileAttributes >>> 16).toBe(0o100644);
      // 10:30:00 is a whole DOS 2-second step.
      expect(entry.getLastModDate({ forceDosFormat: true, timezone: 'UTC' }).toISOString()).toBe(created.toISOString());
    }
    for (const [i, e] of inner.entries()) expect(e.data.equals(strs[i]?.data as Buffer)).toBe(true);
    expect(r.bytes).toBe((await readFile(r.path)).length);
    // What packBatch checks against maxZipBytes before it writes.
    expect(storedZipBytes(outer.map((e) => ({ name: e.entry.fileName, data: e.data })))).toBe(r.bytes);
  });
});

describe('packBatch onRead', () => {
  it('is called once with the digests, after every .str is read and before anything is written', async () => {
    const strs = Array.from({ length: 12 }, (_, i) => generateStr(5, i));
    const calls: { files: unknown; out: string[] }[] = [];
    const r = await pack(await sources(strs), {
      onRead: async (files) => {
        calls.push({ files: structuredClone(files), out: await outFiles() });
      },
    });
    expect(calls).toEqual([{ files: r.files, out: [] }]);
    expect(r.files).toEqual(strs.map((s) => ({ name: s.name, size: s.data.length, sha256: sha256(s.data) })));
    await verifyOuterZip(r.path, { trust: trust.lookup });
  });

  it('throwing: packBatch throws that error and writes nothing', async () => {
    const boom = new Error('intent not written');
    const fds = openFds();
    const err = await pack(await sources([str(1), str(2)]), { onRead: () => Promise.reject(boom) }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(await outFiles()).toEqual([]);
    expect(openFds()).toBe(fds);
  });

  it('is not called when a .str cannot be read', async () => {
    let called = false;
    const files = [...(await sources([str(1)])), join(dir(), 'merge', 'GONE.str')];
    const err = await failure(
      pack(files, {
        onRead: async () => {
          called = true;
        },
      }),
    );
    expect([err.code, called]).toEqual(['PACK_SOURCE_UNREADABLE', false]);
  });
});

describe('packBatch odd .str', () => {
  it('packs an empty .str and an incompressible one (both stored) into a zip that verifies and Info-ZIP reads', async () => {
    const strs = [{ name: 'EMPTY.str', data: Buffer.alloc(0) }, { name: 'RANDOM.str', data: randomBytes(50_000) }, str(3)];
    const r = await pack(await sources(strs));
    expect((await verifyOuterZip(r.path, { trust: trust.lookup })).files).toEqual(r.files);
    expect(python(r.path).inner.map(([n, method, , size]) => [n, method, size])).toEqual([
      ['EMPTY.str', 0, 0],
      ['RANDOM.str', 0, 50_000],
      [strs[2]?.name, 8, 4000],
    ]);
    await infoZip(r.path, strs);
  });

  it('reports the first unreadable .str of the batch, whichever read fails first', async () => {
    const good = await sources(Array.from({ length: 8 }, (_, i) => str(i)));
    const files = [...good.slice(0, 3), join(dir(), 'merge', 'GONE1.str'), ...good.slice(3), join(dir(), 'merge', 'GONE2.str')];
    const err = await failure(pack(files));
    expect(err.code).toBe('PACK_SOURCE_UNREADABLE');
    expect(err.message).toContain('GONE1.str');
  });

  it('refuses a .str name longer than the Receiver takes', async () => {
    const err = await failure(
      pack(await sources([{ name: `${'w'.repeat(20)}.str`, data: Buffer.from('x') }]), { limits: { maxNameLength: 10 } }),
    );
    expect(err.code).toBe('PACK_INPUT_INVALID');
    expect(await outFiles()).toEqual([]);
  });
});

describe('packBatch refuses, leaving nothing in outDir', () => {
  const cases: [string, string, () => Promise<string[]>][] = [
    ['51 files', 'PACK_INPUT_INVALID', () => sources(Array.from({ length: 51 }, (_, i) => str(i, 100)))],
    ['no file', 'PACK_INPUT_INVALID', async () => []],
    [
      'two files of one base name',
      'PACK_INPUT_INVALID',
      async () => [...(await sources([str(1)], 'a')), ...(await sources([str(1)], 'b'))],
    ],
    ['a name not ending in .str', 'PACK_INPUT_INVALID', () => sources([{ name: 'WS-1.txt', data: Buffer.from('x') }])],
    ['a name with ":", which no zip entry may hold', 'PACK_INPUT_INVALID', () => sources([{ name: 'ws:1.str', data: Buffer.from('x') }])],
    ['a vanished file', 'PACK_SOURCE_UNREADABLE', async () => [...(await sources([str(1)])), join(dir(), 'merge', 'GONE.str')]],
    [
      'a folder named .str',
      'PACK_SOURCE_UNREADABLE',
      async () => {
        await mkdir(join(dir(), 'DIR.str'));
        return [...(await sources([str(1)])), join(dir(), 'DIR.str')];
      },
    ],
  ];

  it.each(cases)('%s → %s', async (_title, code, files) => {
    const paths = await files();
    const fds = openFds();
    const err = await failure(pack(paths));
    expect(err.code).toBe(code);
    if (code === 'PACK_SOURCE_UNREADABLE') expect(err.message).toContain(paths[1]);
    expect(await outFiles()).toEqual([]);
    expect(openFds()).toBe(fds);
  });

  it('refuses a bad level, status or date before reading anything', async () => {
    const files = await sources([str(1)]);
    for (const bad of [{ level: 10 }, { level: 1.5 }, { status: 1 as 0 }, { created: new Date(Number.NaN) }]) {
      expect((await failure(pack(files, bad))).code).toBe('PACK_INPUT_INVALID');
    }
    expect(await outFiles()).toEqual([]);
  });

  it('refuses a zip over the Receiver maxZipBytes and removes its temp', async () => {
    const err = await failure(pack(await sources([generateStr(1, 0)]), { limits: { maxZipBytes: 1000 } }));
    expect(err.code).toBe('PACK_INPUT_INVALID');
    expect(await outFiles()).toEqual([]);
  });

  it('refuses a .str over maxStrBytes before reading it', async () => {
    const err = await failure(pack(await sources([str(1, 5000)]), { limits: { maxStrBytes: 4999 } }));
    expect(err.code).toBe('PACK_INPUT_INVALID');
    expect(await outFiles()).toEqual([]);
  });

  it('never replaces an existing zip of the same name', async () => {
    const files = await sources([str(1)]);
    const r = await pack(files);
    const before = await readFile(r.path);
    const err = await failure(pack(files, { created: new Date('2027-01-01T00:00:00.000Z') }));
    expect(err.code).toBe('PACK_INPUT_INVALID');
    expect((await readFile(r.path)).equals(before)).toBe(true);
    expect(await outFiles()).toEqual([r.name]);
  });

  it('fails with FS_FAILED when outDir does not exist', async () => {
    const err = await failure(
      packBatch({
        files: await sources([str(1)]),
        outDir: join(dir(), 'nope'),
        server: 'LEAF1',
        tree: 'ACME',
        status: 0,
        scheduledtime: TIME,
        keys,
      }),
    );
    expect(err.code).toBe('FS_FAILED');
  });
});
