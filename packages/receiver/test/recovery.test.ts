/**
 * Start-up recovery and receipts: the states a crash can leave, laid out on
 * disk as the crash would leave them, then a real Receiver started on them.
 * (The kill -9 of a real `zenroll serve` is in packages/cli/test.)
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair } from '@zenroll/core';
import { ReceiptStore } from '../src/index.js';
import { makeZip, names, put, type ReceiverSetup, type Started, openHandles, receiverSuite } from './helpers.js';

const suite = receiverSuite();
let leaf: KeyPair;

beforeAll(() => {
  leaf = generateKeyPair();
});

const folder = () => suite.folder({ role: 'intermediate-db', trust: [leaf.publicKey] });
const run = (setup: ReceiverSetup, now?: () => number): Promise<Started> => suite.run(setup, now === undefined ? {} : { now });

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const receiptsOf = (s: ReceiverSetup) => ReceiptStore.open(join(s.config.dirs.statedir, 'receipts'), { receiptDays: 30 });

describe('start-up recovery', () => {
  it('a zip stored without its receipt gets one, is promoted, and only our temps are swept', async () => {
    const { dir, setup } = await folder();
    const { zipdir, entpushdir, dbdir } = setup.config.dirs;
    const z = await makeZip({ dir, keys: leaf });
    await setupDirs(setup);
    await copyFile(z.path, join(zipdir!, z.name));
    const partialUpload = join(zipdir!, `.${z.name}.0123456789ab.tmp`);
    const ourPromotionTemp = join(dbdir!, `.${z.name.replace('_OLDTREE_0', '_ACME_1')}.abcdef012345.tmp`);
    const sendersTemp = join(entpushdir!, '.20261122103000000_INT1_ACME_2.zip.abcdef012345.tmp');
    for (const f of [partialUpload, ourPromotionTemp, sendersTemp]) await writeFile(f, 'partial');

    const { receiver, logger } = await run(setup);
    await receiver.idle();
    expect(await names(zipdir!)).toEqual([]);
    expect(await names(dbdir!)).toEqual([z.name.replace('_OLDTREE_0', '_ACME_1')]);
    expect((await names(entpushdir!)).filter((f) => f.includes('.zip'))).toEqual(
      [z.name.replace('_OLDTREE_0', '_ACME_2'), '.20261122103000000_INT1_ACME_2.zip.abcdef012345.tmp'].sort(),
    );
    const receipt = await (await receiptsOf(setup)).get(z.name);
    expect(receipt).toMatchObject({ name: z.name, sha256: sha(z.data), bytes: z.data.length });
    expect(receipt?.promotedAt).not.toBeNull();
    expect(logger.lines.find((l) => l.message === 'recovered after a stop')?.fields).toMatchObject({
      swept: [partialUpload, ourPromotionTemp],
      receipted: [z.name],
      queued: [z.name],
    });
    expect((await put(receiver.url, z.name, z.data)).status).toBe(200);
  });

  it('a target the receipt marks done is not written again when its consumer took it', async () => {
    const { dir, setup } = await folder();
    const { zipdir, entpushdir, dbdir } = setup.config.dirs;
    const z = await makeZip({ dir, keys: leaf });
    await setupDirs(setup);
    await copyFile(z.path, join(zipdir!, z.name));
    const store = await receiptsOf(setup);
    const receipt = await store.create({ name: z.name, sha256: sha(z.data), bytes: z.data.length, files: 1 });
    await store.markTarget(receipt, 'entpushdir', z.name.replace('_OLDTREE_0', '_ACME_2'));

    const { receiver } = await run(setup);
    await receiver.idle();
    expect((await names(entpushdir!)).filter((f) => f.endsWith('.zip'))).toEqual([]);
    expect(await names(dbdir!)).toEqual([z.name.replace('_OLDTREE_0', '_ACME_1')]);
    expect(await names(zipdir!)).toEqual([]);
  });

  it('a target already in place (a crash after its rename) is kept, not doubled, and recorded', async () => {
    const { dir, setup } = await folder();
    const { zipdir, entpushdir, dbdir } = setup.config.dirs;
    const z = await makeZip({ dir, keys: leaf });
    await setupDirs(setup);
    await copyFile(z.path, join(zipdir!, z.name));
    const inPlace = join(entpushdir!, z.name.replace('_OLDTREE_0', '_ACME_2'));
    await copyFile(z.path, inPlace);
    const before = await stat(inPlace);
    const store = await receiptsOf(setup);
    await store.create({ name: z.name, sha256: sha(z.data), bytes: z.data.length, files: 1 });

    const { receiver, log } = await run(setup);
    await receiver.idle();
    expect((await stat(inPlace)).ino).toBe(before.ino);
    expect((await names(entpushdir!)).filter((f) => f.endsWith('.zip'))).toEqual([z.name.replace('_OLDTREE_0', '_ACME_2')]);
    expect(await readFile(join(dbdir!, z.name.replace('_OLDTREE_0', '_ACME_1')))).toEqual(z.data);
    expect((await store.get(z.name))?.targets).toHaveProperty('entpushdir');
    expect(log.writes.map((w) => w.record.message).find((m) => m.includes('found in place'))).toBeDefined();
  });

  it('zips waiting in zipdir are promoted oldest first', async () => {
    const { dir, setup } = await folder();
    const { zipdir } = setup.config.dirs;
    await setupDirs(setup);
    const late = await makeZip({ dir, keys: leaf, scheduledtime: '20261122103000009', server: 'A' });
    const early = await makeZip({ dir, keys: leaf, scheduledtime: '20261122103000001', server: 'B' });
    for (const z of [late, early]) await copyFile(z.path, join(zipdir!, z.name));
    const { receiver, log } = await run(setup);
    await receiver.idle();
    const order = log.writes
      .map((w) => w.record)
      .filter((r) => r.event === 'promoted')
      .map((r) => r.origin);
    expect(order).toEqual(['B', 'B', 'A', 'A']);
  });
});

describe('start-up failures leave nothing running', () => {
  it('refuses to start without its own public key (KEY_NOT_FOUND)', async () => {
    const { setup } = await folder();
    await rm(setup.config.keys.public);
    await expect(run(setup)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    expect(await openHandles()).toEqual(suite.handlesBefore);
  });

  it('refuses an address in use (PORT_IN_USE, exit 1, naming receiver.listen), zips left for the next start', async () => {
    const first = await folder();
    const { receiver } = await run(first.setup);
    const { dir, setup } = await folder();
    const z = await makeZip({ dir, keys: leaf });
    await setupDirs(setup);
    await copyFile(z.path, join(setup.config.dirs.zipdir!, z.name));
    const taken = { ...setup.config, receiver: { ...setup.config.receiver, listen: `127.0.0.1:${receiver.port}` } };
    await expect(run({ ...setup, config: taken })).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      message: expect.stringMatching(/^receiver\.listen/),
    });
    // Its promotion may have run or not; the zip is in zipdir or promoted, never half-way.
    const where = [...(await names(setup.config.dirs.zipdir!)), ...(await names(setup.config.dirs.dbdir!))];
    expect(where.length).toBeGreaterThan(0);
  });
});

describe('receipts', () => {
  it('expire after receiptDays once promoted; one still waiting is kept; a corrupt one is reported, not fatal', async () => {
    const { dir, setup } = await folder();
    await setupDirs(setup);
    const day = 86_400_000;
    const t0 = Date.parse('2026-11-01T00:00:00Z');
    const old = await ReceiptStore.open(join(setup.config.dirs.statedir, 'receipts'), { receiptDays: 30, now: () => t0 });
    const done = await makeZip({ dir, keys: leaf });
    const waiting = await makeZip({ dir, keys: leaf });
    await old.markPromoted(await old.create({ name: done.name, sha256: sha(done.data), bytes: 1, files: 1 }));
    await old.create({ name: waiting.name, sha256: sha(waiting.data), bytes: 1, files: 1 });
    await copyFile(waiting.path, join(setup.config.dirs.zipdir!, waiting.name));
    await writeFile(join(old.dir, '20261122103000000_X_ACME_0.zip.json'), '{not json');

    // Started 31 days later: the promoted one goes, the waiting one stays and is promoted now.
    const { receiver, logger } = await run(setup, () => t0 + 31 * day);
    await receiver.idle();
    expect(await old.get(done.name)).toBeNull();
    expect(await old.get(waiting.name)).not.toBeNull();
    expect(logger.lines.some((l) => l.level === 'warn' && l.message === 'a receipt could not be read')).toBe(true);
    // The expired zip is new again for this Receiver.
    expect((await put(receiver.url, done.name, done.data)).status).toBe(201);
  });

  it('a receipt that is not JSON is an error naming the file, not "no receipt"', async () => {
    const { setup } = await folder();
    await setupDirs(setup);
    const store = await receiptsOf(setup);
    await writeFile(join(store.dir, '20261122103000000_X_ACME_0.zip.json'), '{');
    await expect(store.get('20261122103000000_X_ACME_0.zip')).rejects.toMatchObject({ code: 'FS_FAILED' });
    expect(await store.get('20261122103000001_X_ACME_0.zip')).toBeNull();
  });
});

/** The folders a Receiver creates at its first start. */
async function setupDirs(setup: ReceiverSetup): Promise<void> {
  for (const d of [setup.config.dirs.zipdir!, setup.config.dirs.dbdir!, setup.config.dirs.entpushdir!]) await mkdir(d, { recursive: true });
}
