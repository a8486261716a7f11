/**
 * A full disk on each side (ENOSPC from a real 2 MiB tmpfs, or an injected
 * fault where this process may not mount: helpers/small-disk.ts): nothing
 * acknowledged is lost, nothing partial is promoted or sent, the service
 * keeps answering, and once the space is back everything arrives exactly
 * once, with no temporary file left.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeSpace, generateKeyPair } from '@zenroll/core';
import { writeScans } from '@zenroll/testkit';
import { getStatus, makeLeaf, makePki, startInt, strsIn, strsInZips, tempsUnder, until, type Pki } from './helpers/fault-setup.js';
import { smallDisk, type SmallDisk } from './helpers/small-disk.js';
import { tempDir } from './helpers/server-dir.js';

const MiB = 1024 * 1024;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let pki: Pki;
let n = 0;
const closers: (() => Promise<void>)[] = [];
const figures = { enospc: 0, kind: '' };

beforeAll(async () => {
  tmp = await tempDir('zenroll-faults-disk-');
  pki = await makePki(join(tmp.path, 'pki'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await tmp.remove();
  console.log(`faults-disk: ${figures.enospc} ENOSPC failures met (${figures.kind})`);
});

async function disk(dir: string): Promise<SmallDisk> {
  const d = await smallDisk(dir, 2 * MiB);
  closers.push(() => d.close());
  figures.kind = d.kind;
  return d;
}

const zipsIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.zip')).sort();

describe('a full disk at the Receiver', () => {
  it('ENOSPC while a body is written: 507, no partial file, still healthy; the Sender keeps its zips and sends them once space is back', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const small = await disk(join(dir, 'disk'));
    const leafKeys = generateKeyPair();
    // The free-space check before the body is told 1 MiB more than there is, so that the kernel's ENOSPC stops the write.
    const int = await startInt(join(dir, 'int'), pki, leafKeys, {
      dirs: { entpushdir: join(small.dir, 'entpushdir'), statedir: join(small.dir, 'state') },
      freeSpace: async (d) => {
        const f = await freeSpace(d);
        return { ...f, availableBytes: f.availableBytes + MiB };
      },
    });
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), {
      parent: int.running.url,
      keys: leafKeys,
      sender: { tls: { ca: pki.ca }, retry: { baseMs: 10_000, factor: 2, tries: 3 } },
    });
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 120, { seed: 3 });
    await small.fill(20 * 1024);

    const first = await leaf.rollup();
    expect(first.stopped).toBe(true);
    const refusals = int.logger.uploads().filter((u) => u.status === 507);
    expect(refusals.length).toBe(3);
    expect(refusals.every((u) => u.error === 'FS_NO_SPACE')).toBe(true);
    figures.enospc += refusals.length;
    // Nothing partial in zipdir or anywhere on the small disk; the Receiver still answers.
    expect(await readdir(int.config.dirs.zipdir as string)).toEqual([]);
    expect(await tempsUnder(small.dir)).toEqual([]);
    expect(await getStatus(`${int.running.url}/v1/health`, pki.ca)).toBe(200);
    expect(await zipsIn(leaf.config.dirs.entpushdir as string)).toHaveLength(3);

    await small.free();
    const second = await leaf.rollup();
    expect(second.sent.map((s) => s.status)).toEqual([201, 201, 201]);
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await readdir(int.config.dirs.zipdir as string)).toEqual([]);
    expect(await tempsUnder(small.dir)).toEqual([]);
  });

  it('ENOSPC while writing the receipt (the state folder full): the stored zip is taken back, 507, and a retry once space is back is stored', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const small = await disk(join(dir, 'disk'));
    const leafKeys = generateKeyPair();
    const int = await startInt(join(dir, 'int'), pki, leafKeys, { dirs: { statedir: join(small.dir, 'state') } });
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), {
      parent: int.running.url,
      keys: leafKeys,
      sender: { tls: { ca: pki.ca }, retry: { baseMs: 10_000, factor: 2, tries: 2 } },
    });
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 60, { seed: 6 });
    await small.fill(0);

    const first = await leaf.rollup();
    expect(first.stopped).toBe(true);
    const refusals = int.logger.uploads();
    expect(refusals.map((u) => [u.status, u.error])).toEqual([
      [507, 'FS_NO_SPACE'],
      [507, 'FS_NO_SPACE'],
    ]);
    figures.enospc += refusals.length;
    // Not stored means not stored: nothing waits in zipdir that a retry would collide with.
    expect(await readdir(int.config.dirs.zipdir as string)).toEqual([]);

    await small.free();
    expect((await leaf.rollup()).sent.map((s) => s.status)).toEqual([201, 201]);
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await tempsUnder(small.dir)).toEqual([]);
  });

  it('ENOSPC while promoting to dbdir: the stored zips stay in zipdir, dbdir gets no partial copy, and they are promoted once space is back', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const small = await disk(join(dir, 'disk'));
    const leafKeys = generateKeyPair();
    const int = await startInt(join(dir, 'int'), pki, leafKeys, { dirs: { dbdir: join(small.dir, 'dbdir') }, maintenanceMs: 100 });
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), { parent: int.running.url, keys: leafKeys, sender: { tls: { ca: pki.ca } } });
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 120, { seed: 4 });
    await small.fill(8 * 1024);

    // Acknowledged: stored durably in zipdir, whatever promotion meets afterwards.
    const first = await leaf.rollup();
    expect(first.sent.map((s) => s.status)).toEqual([201, 201, 201]);
    await int.running.idle();
    const failed = int.logger.lines.filter((l) => l.msg.startsWith('promotion failed'));
    expect(failed.length).toBeGreaterThanOrEqual(1);
    figures.enospc += failed.length;
    expect(await zipsIn(int.config.dirs.zipdir as string)).toHaveLength(3);
    expect(await readdir(int.config.dirs.dbdir as string)).toEqual([]);
    expect(await getStatus(`${int.running.url}/v1/health`, pki.ca)).toBe(200);

    await small.free();
    await until(async () => (await readdir(int.config.dirs.zipdir as string)).length === 0);
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await strsInZips(int.config.dirs.entpushdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await tempsUnder(small.dir)).toEqual([]);
  });
});

describe('a full disk at the Sender', () => {
  it('ENOSPC while collecting and packing: no .str lost or doubled, no partial zip sent; all arrive once space is back', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const small = await disk(join(dir, 'disk'));
    const leafKeys = generateKeyPair();
    const int = await startInt(join(dir, 'int'), pki, leafKeys);
    closers.push(() => int.running.close());
    // entpushdir and the state (journal, intents) on the small disk, entmergedir on another one.
    const leaf = await makeLeaf(join(dir, 'leaf'), {
      parent: int.running.url,
      keys: leafKeys,
      journal: true,
      dirs: { entpushdir: join(small.dir, 'entpushdir') },
      statedir: join(small.dir, 'state'),
      sender: { tls: { ca: pki.ca } },
    });
    closers.push(() => leaf.close());
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 150, { seed: 5 });
    const all = [...scans.sha256].sort();
    await small.fill(300 * 1024);

    const first = await leaf.rollup();
    const full = first.errors.filter((e) => e.code === 'FS_NO_SPACE');
    expect(full.length).toBeGreaterThanOrEqual(1);
    figures.enospc += full.length;
    // Every scan is somewhere, once: still to collect, collected, in a zip waiting, or at the Receiver.
    await int.running.idle();
    const where = [
      ...(await strsIn(leaf.config.dirs.entmergedir as string)),
      ...(await strsIn(leaf.config.dirs.entpushdir as string)),
      ...(await strsInZips(leaf.config.dirs.entpushdir as string, leafKeys)),
      ...(await strsInZips(int.config.dirs.dbdir as string, leafKeys)),
    ].sort();
    expect(where).toEqual(all);
    expect(await tempsUnder(small.dir)).toEqual([]);

    await small.free();
    await leaf.rollup();
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual(all);
    expect(await strsIn(leaf.config.dirs.entmergedir as string)).toEqual([]);
    expect((await readdir(leaf.config.dirs.entpushdir as string)).filter((f) => f.endsWith('.zip') || f.endsWith('.str'))).toEqual([]);
    expect(await tempsUnder(small.dir)).toEqual([]);
  });
});
