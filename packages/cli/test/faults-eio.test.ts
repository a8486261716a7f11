/**
 * EIO on each side. No file system this machine can make returns EIO on
 * demand (tmpfs never does; dm-error/dm-flakey need device-mapper, absent in
 * this container), so the fault is injected (helpers/fs-fault.ts): writes or
 * fsyncs under one folder fail with EIO while the fault is on, as a dying
 * disk or a lost network share would. Nothing acknowledged is lost, nothing
 * partial is promoted or sent, the Receiver keeps answering, and once the
 * fault is gone everything arrives exactly once, with no temporary file left.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@zenroll/core';
import { writeScans } from '@zenroll/testkit';
import { getStatus, makeLeaf, makePki, startInt, strsIn, strsInZips, tempsUnder, until, type Pki } from './helpers/fault-setup.js';
import { fsErrno, injectFsFault, type FsOp } from './helpers/fs-fault.js';
import { tempDir } from './helpers/server-dir.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let pki: Pki;
let n = 0;
const closers: (() => Promise<void> | void)[] = [];
const figures = { eio: 0 };

beforeAll(async () => {
  tmp = await tempDir('zenroll-faults-eio-');
  pki = await makePki(join(tmp.path, 'pki'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await tmp.remove();
  console.log(`faults-eio: ${figures.eio} EIO failures injected`);
});

/** EIO for every `ops` call under `dir` while `on`; counts what it injected. */
function eio(dir: string, ops: FsOp[]): { on: boolean; hits: number } {
  const state = { on: true, hits: 0 };
  const restore = injectFsFault(dir, (path, op) => {
    if (!state.on || !ops.includes(op)) return;
    state.hits++;
    figures.eio++;
    throw fsErrno('EIO', op === 'sync' ? 'fsync' : 'write', path);
  });
  closers.push(restore);
  return state;
}

const zipsIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.zip')).sort();

describe('EIO at the Receiver', () => {
  it('while a body is written to zipdir: 500 each try, nothing stored, still healthy; the Sender keeps its zips and sends each once when the disk is back', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const leafKeys = generateKeyPair();
    const int = await startInt(join(dir, 'int'), pki, leafKeys);
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), {
      parent: int.running.url,
      keys: leafKeys,
      sender: { tls: { ca: pki.ca }, retry: { baseMs: 10_000, factor: 2, tries: 3 } },
    });
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 80, { seed: 11 });
    const fault = eio(int.config.dirs.zipdir as string, ['write']);

    const first = await leaf.rollup();
    expect(first.stopped).toBe(true);
    const failures = int.logger.uploads();
    expect(failures.map((u) => u.status)).toEqual([500, 500, 500]);
    expect(fault.hits).toBeGreaterThanOrEqual(3);
    expect(await readdir(int.config.dirs.zipdir as string)).toEqual([]);
    expect(await tempsUnder(dir)).toEqual([]);
    expect(await getStatus(`${int.running.url}/v1/health`, pki.ca)).toBe(200);
    expect(await zipsIn(leaf.config.dirs.entpushdir as string)).toHaveLength(2);

    fault.on = false;
    const second = await leaf.rollup();
    expect(second.sent.map((s) => s.status)).toEqual([201, 201]);
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await strsInZips(int.config.dirs.entpushdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await tempsUnder(dir)).toEqual([]);
  });

  it('on fsync while promoting to dbdir: the zips stay acknowledged in zipdir, dbdir gets no copy, and they are promoted once when the disk is back', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const leafKeys = generateKeyPair();
    const int = await startInt(join(dir, 'int'), pki, leafKeys, { maintenanceMs: 100 });
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), { parent: int.running.url, keys: leafKeys, sender: { tls: { ca: pki.ca } } });
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 120, { seed: 12 });
    const fault = eio(int.config.dirs.dbdir as string, ['sync']);

    const first = await leaf.rollup();
    expect(first.sent.map((s) => s.status)).toEqual([201, 201, 201]);
    await int.running.idle();
    expect(int.logger.lines.filter((l) => l.msg.startsWith('promotion failed')).length).toBeGreaterThanOrEqual(1);
    expect(fault.hits).toBeGreaterThanOrEqual(1);
    expect(await zipsIn(int.config.dirs.zipdir as string)).toHaveLength(3);
    // A copy whose fsync failed is never renamed into place, nor left as a temp.
    expect(await readdir(int.config.dirs.dbdir as string)).toEqual([]);
    expect(await getStatus(`${int.running.url}/v1/health`, pki.ca)).toBe(200);

    fault.on = false;
    await until(async () => (await readdir(int.config.dirs.zipdir as string)).length === 0);
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await strsInZips(int.config.dirs.entpushdir as string, leafKeys)).toEqual([...scans.sha256].sort());
    expect(await tempsUnder(dir)).toEqual([]);
  });
});

describe('EIO at the Sender', () => {
  it('on every fsync in entpushdir while collecting and packing: no .str lost or doubled, no zip sent; all arrive once when the disk is back', async () => {
    const dir = join(tmp.path, `d${++n}`);
    const leafKeys = generateKeyPair();
    const int = await startInt(join(dir, 'int'), pki, leafKeys);
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), { parent: int.running.url, keys: leafKeys, sender: { tls: { ca: pki.ca } } });
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 120, { seed: 13 });
    const all = [...scans.sha256].sort();
    const fault = eio(leaf.config.dirs.entpushdir as string, ['sync']);

    const first = await leaf.rollup();
    expect(first.errors.length).toBeGreaterThanOrEqual(1);
    expect(first.errors.every((e) => e.code === 'FS_FAILED')).toBe(true);
    expect(fault.hits).toBeGreaterThanOrEqual(1);
    expect(first.sent).toEqual([]);
    await int.running.idle();
    // Every scan is somewhere, once: still to collect, collected, or in a zip waiting; none at the Receiver yet.
    const where = [
      ...(await strsIn(leaf.config.dirs.entmergedir as string)),
      ...(await strsIn(leaf.config.dirs.entpushdir as string)),
      ...(await strsInZips(leaf.config.dirs.entpushdir as string, leafKeys)),
    ].sort();
    expect(where).toEqual(all);
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([]);
    expect(await tempsUnder(dir)).toEqual([]);

    fault.on = false;
    await leaf.rollup();
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual(all);
    expect(await strsIn(leaf.config.dirs.entmergedir as string)).toEqual([]);
    expect((await readdir(leaf.config.dirs.entpushdir as string)).filter((f) => f.endsWith('.zip') || f.endsWith('.str'))).toEqual([]);
    expect(await tempsUnder(dir)).toEqual([]);
  });
});
