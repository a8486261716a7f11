/**
 * A table of hostile zips, each a valid signed outer zip with exactly one
 * thing changed, and the exact code verifyOuterZip must answer.
 */
import { deflateRawSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildZip, localRecord, zip64Extra, type RawEntry, type ZipOptions } from '@zenroll/lab/zipcraft';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/errors.js';
import { TrustStore, generateKeyPair } from '../src/keys.js';
import { innerZipName, prpName } from '../src/names.js';
import { verifyOuterZip } from '../src/verify.js';
import {
  TIME,
  buildOuter,
  failure,
  openFds,
  sha256,
  str,
  useTempDir,
  writeOuter,
  type Outer,
  type OuterParts,
  type Str,
} from './helpers/outer.js';

const keys = generateKeyPair();
const stranger = generateKeyPair();
const trust = new TrustStore();
trust.add(keys.publicKey, 'test', null);
const dir = useTempDir('zenroll-hostile-');

const strs: Str[] = [str(1), str(2), str(3)];
const plain = (s: Str[]): RawEntry[] => s.map((x) => ({ name: x.name, data: x.data }));
/** The default inner entries with entry `i` changed. */
const innerWith = (i: number, change: Partial<RawEntry>) => (s: Str[]) => plain(s).map((e, j) => (j === i ? { ...e, ...change } : e));
const outer = (p: Partial<OuterParts> = {}): Outer => buildOuter({ keys, strs, ...p });

interface Case {
  title: string;
  code: ErrorCode;
  build: () => Outer;
  /** Verify under this outer name instead of the zip's own. */
  name?: string;
}

const bomb: Str = { name: 'BOMB.str', data: Buffer.alloc(50_000_000) };
const overlapB: RawEntry = { name: 'b.str', data: Buffer.from('hidden inside a.str\r\n'.repeat(20)), method: 0 };
const overlapA: RawEntry = { name: 'a.str', data: localRecord(overlapB), method: 0 };

const cases: Case[] = [
  // names and types inside the inner zip
  { title: 'path traversal ../x.str', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { name: '../x.str' }) }) },
  { title: 'absolute path /x.str', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { name: '/x.str' }) }) },
  { title: 'drive path C:x.str', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { name: 'C:x.str' }) }) },
  { title: 'backslash a\\x.str', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { name: 'a\\x.str' }) }) },
  { title: 'folder a/x.str', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { name: 'a/x.str' }) }) },
  {
    title: 'folder entry d/',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () => outer({ innerEntries: innerWith(0, { name: 'd/', data: Buffer.alloc(0), method: 0 }) }),
  },
  {
    title: 'symlink entry',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () => outer({ innerEntries: innerWith(0, { externalAttrs: 0o120777 << 16 }) }),
  },
  {
    title: 'over-long name',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () => outer({ innerEntries: innerWith(0, { name: `${'w'.repeat(300)}.str` }) }),
  },
  { title: 'not a .str', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { name: 'x.exe' }) }) },
  {
    title: 'control character in name',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () => outer({ innerEntries: innerWith(0, { name: 'a\u0007.str' }) }),
  },
  { title: 'encrypted flag', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { flags: 0x1 }) }) },
  { title: 'strong encryption flag', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(0, { flags: 0x41 }) }) },
  {
    title: 'local name differs',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () => outer({ innerEntries: innerWith(1, { local: { name: 'WS-9999.str' } }) }),
  },
  { title: 'local CRC differs', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(1, { local: { crc: 1 } }) }) },
  { title: 'local method differs', code: 'ZIP_ENTRY_UNSAFE', build: () => outer({ innerEntries: innerWith(1, { local: { method: 0 } }) }) },
  {
    title: 'overlapping entries (b.str inside a.str)',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () =>
      buildOuter({
        keys,
        strs: [
          { name: 'a.str', data: overlapA.data },
          { name: 'b.str', data: overlapB.data },
        ],
        innerEntries: () => [overlapA, { ...overlapB, centralOnlyAt: 30 + 'a.str'.length }],
      }),
  },
  {
    title: 'entry data runs into the central directory',
    code: 'ZIP_ENTRY_UNSAFE',
    build: () => outer({ innerEntries: innerWith(2, { method: 0, compressedSize: 4010, uncompressedSize: 4010 }) }),
  },
  // duplicates and extra entries
  {
    title: 'duplicate .str',
    code: 'ZIP_ENTRY_DUPLICATE',
    build: () => outer({ innerEntries: innerWith(1, { name: strs[0]?.name ?? '' }) }),
  },
  { title: 'duplicate outer entry', code: 'ZIP_ENTRY_DUPLICATE', build: () => outer({ outerEntries: (_i, p) => [p, p] }) },
  {
    title: 'outer has 3 entries',
    code: 'ZIP_ENTRY_UNEXPECTED',
    build: () => outer({ outerEntries: (i, p) => [i, p, { name: 'x.txt', data: Buffer.from('x') }] }),
  },
  { title: 'outer has 1 entry', code: 'ZIP_ENTRY_UNEXPECTED', build: () => outer({ outerEntries: (i) => [i] }) },
  {
    title: 'outer entry misnamed',
    code: 'ZIP_ENTRY_UNEXPECTED',
    build: () => outer({ outerEntries: (i, p) => [i, { ...p, name: 'manifest.prp' }] }),
  },
  { title: 'inner zip deflated', code: 'ZIP_ENTRY_UNEXPECTED', build: () => outer({ outerEntries: (i, p) => [{ ...i, method: 8 }, p] }) },
  {
    title: 'compression method 12',
    code: 'ZIP_ENTRY_UNEXPECTED',
    build: () => outer({ innerEntries: innerWith(0, { method: 12, raw: deflateRawSync(strs[0]?.data ?? Buffer.alloc(0)) }) }),
  },
  {
    title: 'hidden third record in the outer central directory',
    code: 'ZIP_UNREADABLE',
    build: () => {
      const o = outer();
      const entries = (i: RawEntry, p: RawEntry): RawEntry[] => [i, p, { name: 'x.str', data: Buffer.from('x') }];
      return { ...o, zip: buildZip(entries(...innerAndPrp(o)), { count: 2 }) };
    },
  },
  {
    title: 'bytes before the first .str',
    code: 'ZIP_UNREADABLE',
    build: () => outer({ innerEntries: undefined, innerZip: buildZip(plain(strs), { prefix: Buffer.from('hidden') }) }),
  },
  {
    title: 'inner .str not in the .prp',
    code: 'ZIP_MANIFEST_MISMATCH',
    build: () => outer({ innerEntries: (s) => [...plain(s), { name: 'extra.str', data: Buffer.from('x') }] }),
  },
  { title: 'a .str of the .prp missing', code: 'ZIP_MANIFEST_MISMATCH', build: () => outer({ innerEntries: (s) => plain(s).slice(0, 2) }) },
  { title: '.str in another order', code: 'ZIP_MANIFEST_MISMATCH', build: () => outer({ innerEntries: (s) => plain(s).reverse() }) },
  {
    title: '.str content differs (CRC right)',
    code: 'ZIP_MANIFEST_MISMATCH',
    build: () => outer({ innerEntries: innerWith(0, { data: Buffer.from((strs[0]?.data.toString() ?? '').replace('File', 'Elif')) }) }),
  },
  {
    title: '51 .str',
    code: 'ZIP_TOO_MANY_FILES',
    build: () => {
      const many = Array.from({ length: 51 }, (_, i) => str(i, 100));
      return buildOuter({ keys, strs: many, body: (b) => ({ ...b, files: b.files.slice(0, 50) }) });
    },
  },
  // sizes, ratios, checksums
  { title: 'zip bomb: 50 MB of zeros', code: 'ZIP_RATIO_EXCEEDED', build: () => buildOuter({ keys, strs: [bomb] }) },
  {
    title: 'flipped CRC of a .str',
    code: 'ZIP_CRC_MISMATCH',
    build: () => outer({ innerEntries: innerWith(1, { crc: crcOf(strs[1]) ^ 0x100 }) }),
  },
  {
    title: 'flipped data byte of a stored .str',
    code: 'ZIP_CRC_MISMATCH',
    build: () => outer({ innerEntries: innerWith(1, { method: 0, raw: flip(strs[1]?.data ?? Buffer.alloc(1), 100) }) }),
  },
  {
    title: 'flipped CRC of the .prp',
    code: 'ZIP_CRC_MISMATCH',
    build: () => outer({ outerEntries: (i, p) => [i, { ...p, crc: crcOf({ name: '', data: p.data }) ^ 1 }] }),
  },
  {
    title: 'flipped CRC of the inner zip',
    code: 'ZIP_CRC_MISMATCH',
    build: () => outer({ outerEntries: (i, p) => [{ ...i, crc: 12345 }, p] }),
  },
  {
    title: 'uncompressed size says less',
    code: 'ZIP_SIZE_MISMATCH',
    build: () => outer({ innerEntries: innerWith(0, { uncompressedSize: 3999 }) }),
  },
  {
    title: 'uncompressed size says more',
    code: 'ZIP_SIZE_MISMATCH',
    build: () => outer({ innerEntries: innerWith(0, { uncompressedSize: 4100 }) }),
  },
  {
    title: 'stored sizes disagree',
    code: 'ZIP_SIZE_MISMATCH',
    build: () => outer({ innerEntries: innerWith(0, { method: 0, uncompressedSize: 3000 }) }),
  },
  {
    title: 'corrupt deflate data',
    code: 'ZIP_UNREADABLE',
    build: () => outer({ innerEntries: innerWith(0, { raw: Buffer.alloc(500, 0xff) }) }),
  },
  // zip64: no zenroll zip needs it, and readers disagree about it
  { title: 'zip64 end records in the outer zip', code: 'ZIP_UNREADABLE', build: () => rebuiltOuter({ zip64: {} }) },
  {
    title: 'zip64 end records hidden in the last central record comment (unzip sees another zip)',
    code: 'ZIP_UNREADABLE',
    build: () => rebuiltOuter({ zip64: { inComment: true } }),
  },
  {
    title: 'zip64 end records in the inner zip',
    code: 'ZIP_UNREADABLE',
    build: () => outer({ innerEntries: undefined, innerZip: buildZip(plain(strs), { zip64: { inComment: true } }) }),
  },
  {
    title: 'zip64 extra field: a .str of 1 TiB',
    code: 'ZIP_TOO_LARGE',
    build: () => outer({ innerEntries: innerWith(0, { uncompressedSize: 0xffffffff, extra: zip64Extra(2n ** 40n) }) }),
  },
  // the signed manifest
  { title: 'signed by an untrusted key', code: 'PRP_SIGNER_UNKNOWN', build: () => buildOuter({ keys: stranger, strs }) },
  {
    title: 'tampered .prp byte',
    code: 'PRP_SIGNATURE_INVALID',
    build: () => outer({ prpText: (t) => t.replace('tree=ACME', 'tree=ACMF') }),
  },
  {
    title: '.prp with a wrong inner sha256',
    code: 'ZIP_MANIFEST_MISMATCH',
    build: () => outer({ body: (b) => ({ ...b, inner: { ...b.inner, sha256: sha256(Buffer.from('other')) } }) }),
  },
  {
    title: '.prp with a wrong .str size',
    code: 'ZIP_MANIFEST_MISMATCH',
    build: () => outer({ body: (b) => ({ ...b, files: b.files.map((f, i) => (i === 2 ? { ...f, size: f.size + 1 } : f)) }) }),
  },
  {
    title: 'outer name server differs from the .prp',
    code: 'ZIP_NAME_MISMATCH',
    build: () =>
      outer({
        outerEntries: (i, p) => [
          { ...i, name: innerZipName(TIME, 'OTHER') },
          { ...p, name: prpName(TIME, 'OTHER') },
        ],
      }),
    name: `${TIME}_OTHER_ACME_0.zip`,
  },
  { title: 'outer file renamed to another server', code: 'ZIP_NAME_MISMATCH', build: () => outer(), name: `${TIME}_OTHER_ACME_0.zip` },
  { title: 'outer name not canonical', code: 'NAME_INVALID', build: () => outer(), name: `${TIME}_LEAF1_ACME_3.zip` },
];

/** The default outer zip written again with these options of the raw writer. */
function rebuiltOuter(opts: ZipOptions): Outer {
  const o = outer();
  return { ...o, zip: buildZip(innerAndPrp(o), opts) };
}

function innerAndPrp(o: Outer): [RawEntry, RawEntry] {
  return [
    { name: innerZipName(TIME, 'LEAF1'), data: o.innerZip, method: 0 },
    { name: prpName(TIME, 'LEAF1'), data: Buffer.from(o.prp), method: 0 },
  ];
}

function crcOf(s: Str | undefined): number {
  return buildZip([{ name: 'x', data: s?.data ?? Buffer.alloc(0), method: 0 }]).readUInt32LE(14);
}

function flip(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] = (copy[at] ?? 0) ^ 0x20;
  return copy;
}

describe('verifyOuterZip refuses hostile zips', () => {
  it('accepts the unchanged zip the cases start from', async () => {
    const o = outer();
    const v = await verifyOuterZip(await writeOuter(dir(), o), { trust: trust.lookup });
    expect(v.files.map((f) => f.name)).toEqual(strs.map((s) => s.name));
  });

  it.each(cases)('$title → $code', async (c) => {
    const o = c.build();
    const path = join(dir(), c.name ?? o.name);
    await writeFile(path, o.zip);
    const fds = openFds();
    const err = await failure(verifyOuterZip(path, { trust: trust.lookup }));
    expect({ code: err.code, message: err.message }).toMatchObject({ code: c.code });
    expect(openFds()).toBe(fds);
  });

  it('refuses a truncated zip at every offset tried (ZIP_UNREADABLE)', async () => {
    const o = outer();
    const innerEnd = 30 + innerZipName(TIME, 'LEAF1').length + o.innerZip.length;
    const offsets = [0, 1, 4, 22, 30, 100, innerEnd - 1, innerEnd, innerEnd + 10, o.zip.length - 23, o.zip.length - 22, o.zip.length - 1];
    for (const at of offsets) {
      const path = join(dir(), o.name);
      await writeFile(path, o.zip.subarray(0, at));
      const fds = openFds();
      const err = await failure(verifyOuterZip(path, { trust: trust.lookup }));
      expect([at, err.code]).toEqual([at, 'ZIP_UNREADABLE']);
      expect(openFds()).toBe(fds);
    }
  });

  it('refuses what is not a zip (ZIP_UNREADABLE)', async () => {
    for (const junk of [Buffer.alloc(0), Buffer.from('PK\u0003\u0004 not really'), Buffer.alloc(70_000, 7)]) {
      const path = join(dir(), outer().name);
      await writeFile(path, junk);
      expect((await failure(verifyOuterZip(path, { trust: trust.lookup }))).code).toBe('ZIP_UNREADABLE');
    }
  });
});
