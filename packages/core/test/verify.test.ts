import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/errors.js';
import { TrustStore, generateKeyPair } from '../src/keys.js';
import { innerZipName, prpName } from '../src/names.js';
import { signPrp } from '../src/prp.js';
import { DEFAULT_LIMITS, verifyOuterZip, type Limits } from '../src/verify.js';
import { TIME, buildOuter, failure, openFds, sha256, str, useTempDir, writeOuter, type Str } from './helpers/outer.js';

const keys = generateKeyPair();
const trust = new TrustStore();
trust.add(keys.publicKey, 'test', null);
const dir = useTempDir('zenroll-verify-');
const strs: Str[] = [str(1), str(2, 20_000), str(3, 100)];

describe('verifyOuterZip accepts', () => {
  it('a valid zip, returning its parsed name, .prp, files and size', async () => {
    const o = buildOuter({ keys, strs });
    const path = await writeOuter(dir(), o);
    const v = await verifyOuterZip(path, { trust: trust.lookup });
    expect(v.name).toEqual({ scheduledtime: TIME, server: 'LEAF1', tree: 'ACME', status: 0 });
    expect(v.bytes).toBe(o.zip.length);
    expect(v.files).toEqual(strs.map((s) => ({ name: s.name, size: s.data.length, sha256: sha256(s.data) })));
    expect(v.prp.files).toEqual(v.files);
    expect(v.prp.inner).toEqual({ name: innerZipName(TIME, 'LEAF1'), size: o.innerZip.length, sha256: sha256(o.innerZip) });
  });

  it('a zip renamed by a Receiver (its tree and status), under the new name or the file name', async () => {
    const o = buildOuter({ keys, strs });
    const path = await writeOuter(dir(), o);
    const promoted = `${TIME}_LEAF1_ROOT%5FTREE_2.zip`;
    expect((await verifyOuterZip(path, { trust: trust.lookup, name: promoted })).name.tree).toBe('ROOT_TREE');
    await rename(path, join(dir(), promoted));
    expect((await verifyOuterZip(join(dir(), promoted), { trust: trust.lookup })).name.status).toBe(2);
  });

  it('a deflated .prp and stored .str', async () => {
    const o = buildOuter({
      keys,
      strs,
      innerEntries: (s) => s.map((x) => ({ name: x.name, data: x.data, method: 0 })),
      outerEntries: (i, p) => [i, { ...p, method: 8 }],
    });
    await verifyOuterZip(await writeOuter(dir(), o), { trust: trust.lookup });
  });

  it('zips made by Info-ZIP zip and by Python zipfile', async () => {
    const work = join(dir(), 'work');
    await mkdir(work);
    for (const s of strs) await writeFile(join(work, s.name), s.data);
    const innerName = innerZipName(TIME, 'LEAF1');
    const prpFile = prpName(TIME, 'LEAF1');
    const makers: Record<string, (inner: string, files: string[]) => void> = {
      infozip: (inner, files) => execFileSync('zip', ['-q', '-6', inner, ...files], { cwd: work }),
      python: (inner, files) =>
        execFileSync(
          'python3',
          [
            '-c',
            'import sys,zipfile\nwith zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED) as z:\n  [z.write(f) for f in sys.argv[2:]]',
            inner,
            ...files,
          ],
          { cwd: work },
        ),
    };
    for (const [tool, make] of Object.entries(makers)) {
      const inner = join(work, innerName);
      make(
        innerName,
        strs.map((s) => s.name),
      );
      const innerZip = await readFile(inner);
      const prp = signPrp(
        {
          scheduledtime: TIME,
          server: 'LEAF1',
          tree: 'ACME',
          created: '2026-11-22T10:30:00.000Z',
          inner: { name: innerName, size: innerZip.length, sha256: sha256(innerZip) },
          files: strs.map((s) => ({ name: s.name, size: s.data.length, sha256: sha256(s.data) })),
          extra: [],
        },
        keys.privateKey,
        keys.publicKey,
      );
      await writeFile(join(work, prpFile), prp);
      const outer = join(dir(), `${TIME}_LEAF1_ACME_0.zip`);
      if (tool === 'infozip') execFileSync('zip', ['-q', '-0', outer, innerName, prpFile], { cwd: work });
      else
        execFileSync(
          'python3',
          [
            '-c',
            'import sys,zipfile\nwith zipfile.ZipFile(sys.argv[1],"w") as z:\n  [z.write(f) for f in sys.argv[2:]]',
            outer,
            innerName,
            prpFile,
          ],
          { cwd: work },
        );
      const v = await verifyOuterZip(outer, { trust: trust.lookup });
      expect([tool, v.files.length]).toEqual([tool, 3]);
      await rm(outer);
      await rm(inner);
    }
  });
});

describe('verifyOuterZip limits', () => {
  const cases: [string, Partial<Limits>, ErrorCode][] = [
    ['zip over maxZipBytes', { maxZipBytes: 1000 }, 'ZIP_OVER_LIMIT'],
    ['.str over maxStrBytes', { maxStrBytes: 19_999 }, 'ZIP_TOO_LARGE'],
    ['inner over maxInnerUncompressedBytes', { maxInnerUncompressedBytes: 24_000 }, 'ZIP_TOO_LARGE'],
    ['.prp over maxPrpBytes', { maxPrpBytes: 100 }, 'ZIP_TOO_LARGE'],
    ['ratio over maxRatio', { maxRatio: 2 }, 'ZIP_RATIO_EXCEEDED'],
    ['name over maxNameLength', { maxNameLength: 10 }, 'ZIP_ENTRY_UNSAFE'],
  ];
  it.each(cases)('%s → %s', async (_title, limits, code) => {
    const path = await writeOuter(dir(), buildOuter({ keys, strs }));
    await verifyOuterZip(path, { trust: trust.lookup });
    expect((await failure(verifyOuterZip(path, { trust: trust.lookup, limits }))).code).toBe(code);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_LIMITS).toMatchObject({
      maxZipBytes: 256 * 2 ** 20,
      maxStrBytes: 64 * 2 ** 20,
      maxInnerUncompressedBytes: 2 ** 30,
      maxRatio: 200,
      maxPrpBytes: 64 * 1024,
      maxNameLength: 255,
    });
  });
});

describe('verifyOuterZip reads every byte and closes what it opens', () => {
  it('finds a flipped byte at the very end of a large stored .str', async () => {
    const big = { name: 'BIG.str', data: randomBytes(3_000_000) };
    const flipped = Buffer.from(big.data);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    const o = buildOuter({ keys, strs: [big], innerEntries: () => [{ name: big.name, data: big.data, raw: flipped, method: 0 }] });
    expect((await failure(verifyOuterZip(await writeOuter(dir(), o), { trust: trust.lookup }))).code).toBe('ZIP_CRC_MISMATCH');
  });

  it('leaves the count of open file descriptors unchanged, failing or not', async () => {
    const good = buildOuter({ keys, strs });
    const fds = openFds();
    const path = await writeOuter(dir(), good);
    for (let i = 0; i < 10; i++) {
      await verifyOuterZip(path, { trust: trust.lookup });
      await failure(verifyOuterZip(path, { trust: () => undefined }));
      await failure(verifyOuterZip(path, { trust: trust.lookup, limits: { maxStrBytes: 10 } }));
      await writeFile(path, good.zip.subarray(0, 500 + i * 100));
      await failure(verifyOuterZip(path, { trust: trust.lookup }));
      await writeFile(path, good.zip);
    }
    expect(openFds()).toBe(fds);
  });

  it('names a missing file FS_FAILED, a bad name NAME_INVALID', async () => {
    expect((await failure(verifyOuterZip(join(dir(), `${TIME}_LEAF1_ACME_0.zip`), { trust: trust.lookup }))).code).toBe('FS_FAILED');
    expect((await failure(verifyOuterZip(join(dir(), 'x.zip'), { trust: trust.lookup }))).code).toBe('NAME_INVALID');
  });
});
