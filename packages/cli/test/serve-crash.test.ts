/**
 * kill -9 of a real `zenroll serve` at each step of receiving and promoting
 * (core crash points, and by hand in the middle of a body), then a restart:
 * no partial file anywhere, nothing lost or doubled in the targets, and the
 * Sender's retry of the same zip gets 200 (201 when it was never stored).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, isTempName, type KeyPair } from '@zenroll/core';
import { Serve, dataFiles, filesUnder, makeZip, put, writeServer, type ServerDir, type TestZip } from './serve-helpers.js';

let root: string;
let leaf: KeyPair;
const children: Serve[] = [];
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'zenroll-crash-'));
  leaf = generateKeyPair();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function serve(configPath: string, env: Record<string, string> = {}): Serve {
  const s = new Serve(configPath, env);
  children.push(s);
  return s;
}

async function server(): Promise<{ dir: string; s: ServerDir }> {
  const dir = join(root, `s${++n}`);
  return { dir, s: await writeServer(dir, { role: 'intermediate-db', trust: [{ server: 'LEAF1', key: leaf.publicKey }] }) };
}

const inPush = (z: TestZip) => z.name.replace('_0.zip', '_2.zip');
const inDb = (z: TestZip) => z.name.replace('_0.zip', '_1.zip');

/** After a restart: exactly one whole copy in each target, nothing in zipdir, no temp anywhere. */
async function expectPromotedOnce(s: ServerDir, z: TestZip): Promise<void> {
  expect(await dataFiles(s)).toEqual([`dbdir/${inDb(z)}`, `entpushdir/${inPush(z)}`]);
  expect(await readFile(join(s.entpushdir, inPush(z)))).toEqual(z.data);
  expect(await readFile(join(s.dbdir, inDb(z)))).toEqual(z.data);
  expect((await filesUnder(s.dir)).filter((f) => isTempName(f))).toEqual([]);
}

async function restartAndRetry(s: ServerDir, z: TestZip, expected: 200 | 201): Promise<void> {
  const proc = serve(s.configPath);
  const url = await proc.url();
  // Recovery has run before the Receiver listens: the retry is answered from the receipt.
  expect((await put(url, z)).status).toBe(expected);
  await proc.promoted(z.name, 'dbdir');
  proc.kill('SIGTERM');
  expect((await proc.exited).code).toBe(0);
  await expectPromotedOnce(s, z);
  // And once more with the service stopped and started again: still 200, still one copy.
  const again = serve(s.configPath);
  expect((await put(await again.url(), z)).status).toBe(200);
  again.kill('SIGTERM');
  expect((await again.exited).code).toBe(0);
  await expectPromotedOnce(s, z);
}

describe('kill -9 of zenroll serve, then a restart', () => {
  it("the service's own state files: a temp a kill left beside each is swept at the next start", async () => {
    const { s } = await server();
    await mkdir(s.statedir, { recursive: true });
    const own = ['activity.json', 'children.json', 'description.json', 'last-rollup.json', 'rollup-request.json', 'wakeup.json'];
    for (const f of own) await writeFile(join(s.statedir, `.${f}.0123456789ab.tmp`), '{"half":');
    const proc = serve(s.configPath);
    await proc.url();
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    expect((await readdir(s.statedir)).filter(isTempName)).toEqual([]);
  });

  it('after the zip is stored, before its receipt and answer (receive-after-store)', async () => {
    const { dir, s } = await server();
    const z = await makeZip(dir, leaf);
    const proc = serve(s.configPath, { ZENROLL_CRASH_AT: 'receive-after-store' });
    const url = await proc.url();
    await expect(put(url, z)).rejects.toThrow();
    expect((await proc.exited).signal).toBe('SIGKILL');
    expect(await readdir(s.zipdir)).toEqual([z.name]);
    expect(existsSync(join(s.statedir, 'receipts', `${z.name}.json`))).toBe(false);
    await restartAndRetry(s, z, 200);
  });

  it('between the two promotion targets (promote-mid)', async () => {
    const { dir, s } = await server();
    const z = await makeZip(dir, leaf);
    const proc = serve(s.configPath, { ZENROLL_CRASH_AT: 'promote-mid' });
    expect((await put(await proc.url(), z)).status).toBe(201);
    expect((await proc.exited).signal).toBe('SIGKILL');
    expect(await dataFiles(s)).toEqual([`entpushdir/${inPush(z)}`, `entpushdir/zipdir/${z.name}`]);
    await restartAndRetry(s, z, 200);
  });

  it('after both targets, before the zip leaves zipdir (promote-before-remove)', async () => {
    const { dir, s } = await server();
    const z = await makeZip(dir, leaf);
    const proc = serve(s.configPath, { ZENROLL_CRASH_AT: 'promote-before-remove' });
    expect((await put(await proc.url(), z)).status).toBe(201);
    expect((await proc.exited).signal).toBe('SIGKILL');
    expect(await dataFiles(s)).toEqual([`dbdir/${inDb(z)}`, `entpushdir/${inPush(z)}`, `entpushdir/zipdir/${z.name}`]);
    // Restarted, it removes the zip from zipdir without writing any target again.
    const proc2 = serve(s.configPath);
    const url = await proc2.url();
    expect((await put(url, z)).status).toBe(200);
    proc2.kill('SIGTERM');
    expect((await proc2.exited).code).toBe(0);
    await expectPromotedOnce(s, z);
    expect(proc2.lines.filter((l) => l.msg === 'promoted')).toEqual([]);
  });

  it('in the middle of a body: the partial file is swept and the retry is stored (201)', async () => {
    const { dir, s } = await server();
    const z = await makeZip(dir, leaf);
    const proc = serve(s.configPath);
    const url = await proc.url();
    const cut = put(url, z, { firstBytes: 300 }).then(
      (a) => a,
      (e: unknown) => e as Error,
    );
    const receiving = await proc.waitFor((l) => l.msg === 'receiving' && l.zip === z.name);
    expect(existsSync(receiving.temp as string)).toBe(true);
    proc.kill('SIGKILL');
    expect((await proc.exited).signal).toBe('SIGKILL');
    expect(await cut).toBeInstanceOf(Error);
    expect((await readdir(s.zipdir)).filter(isTempName)).toHaveLength(1);
    await restartAndRetry(s, z, 201);
  });

  it('two zips, a crash in the promotion of the second: both end up once in each target', async () => {
    const { dir, s } = await server();
    const a = await makeZip(dir, leaf);
    const b = await makeZip(dir, leaf);
    const proc = serve(s.configPath, { ZENROLL_CRASH_AT: 'promote-mid@2' });
    const url = await proc.url();
    expect((await put(url, a)).status).toBe(201);
    await proc.promoted(a.name, 'dbdir');
    expect((await put(url, b)).status).toBe(201);
    expect((await proc.exited).signal).toBe('SIGKILL');

    const proc2 = serve(s.configPath);
    const url2 = await proc2.url();
    expect((await put(url2, a)).status).toBe(200);
    expect((await put(url2, b)).status).toBe(200);
    await proc2.promoted(b.name, 'dbdir');
    proc2.kill('SIGTERM');
    expect((await proc2.exited).code).toBe(0);
    expect(await dataFiles(s)).toEqual(
      [`dbdir/${inDb(a)}`, `dbdir/${inDb(b)}`, `entpushdir/${inPush(a)}`, `entpushdir/${inPush(b)}`].sort(),
    );
  });
});
