/**
 * What a crash leaves, built by hand, and the next roll-up settling it.
 * (The same, with a real process killed at each crash point, is in
 * packages/cli/test/rollup-crash.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog, acquireLock, machineId, nodeName, formatScheduledTime, isZenrollError, makeRecord, packBatch } from '@zenroll/core';
import { runRollup } from '../src/rollup.js';
import { readIntents, writeIntent } from '../src/intents.js';
import { RecordStore } from '../src/records.js';
import { ensureStateDirs, senderPaths } from '../src/state.js';
import { fakeTimers, makeSender, type SenderSetup } from './helpers/setup.js';
import { sha256Hex, writeStrs } from './helpers/strs.js';
import { TestReceiver } from '@zenroll/testkit';
import { digests, verifyAll } from './helpers/verify.js';

let receiver: TestReceiver;
let s: SenderSetup;
let log: MemoryLog;
let receiverDir: string;

beforeEach(async () => {
  receiverDir = await mkdtemp(join(tmpdir(), 'zenroll-parent-'));
  receiver = await TestReceiver.start({ dir: receiverDir, server: 'INT1' });
  s = await makeSender({ parent: receiver.url });
  await ensureStateDirs(senderPaths(s.config));
  log = new MemoryLog();
});

afterEach(async () => {
  await receiver.close();
  await s.cleanup();
  await rm(receiverDir, { recursive: true, force: true });
});

const paths = () => senderPaths(s.config);
const files = async (dir: string) =>
  (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

/** `.str` in entpushdir and, optionally, their zip: the state after crash point pack-after-zip. */
async function crashedPack(withZip: boolean) {
  const written = await writeStrs(s.entpushdir, 5);
  const prpFiles = await Promise.all(
    written.names.map(async (name, i) => ({
      name,
      size: (await readFile(join(s.entpushdir, name))).length,
      sha256: written.sha256[i] as string,
    })),
  );
  const scheduledtime = formatScheduledTime(Date.UTC(2026, 4, 1));
  const batchId = '0b9f4a52-3c1e-4d3a-9a43-3d7c1f1e0a11';
  const zip = `${scheduledtime}_LEAF1_ACME_0.zip`;
  await writeIntent(paths().intents, { v: 1, batchId, zip, files: prpFiles });
  if (withZip) {
    await packBatch({
      files: written.names.map((n) => join(s.entpushdir, n)),
      outDir: s.entpushdir,
      server: 'LEAF1',
      tree: 'ACME',
      status: 0,
      scheduledtime,
      keys: s.keys,
      created: new Date(Date.UTC(2026, 4, 1)),
      extra: [['batch.id', batchId]],
    });
  }
  return { written, zip, batchId };
}

describe('recovery at the start of a roll-up', () => {
  it('finishes a batch whose zip was written: its .str are deleted, not packed again', async () => {
    const { written, zip, batchId } = await crashedPack(true);
    const result = await runRollup(s.config, { log, keys: s.keys });
    expect(result.zipped).toEqual([expect.objectContaining({ zip, files: 5, recovered: true })]);
    expect(result.sent.map((z) => z.zip)).toEqual([zip]);
    expect(receiver.stored).toHaveLength(1);
    expect(
      digests(
        await verifyAll(
          receiver.stored.map((z) => z.path),
          s.keys.publicKey,
        ),
      ),
    ).toEqual([...written.sha256].sort());
    expect(await files(s.entpushdir)).toEqual([]);
    expect(await readIntents(paths().intents)).toEqual([]);
    expect(log.writes.map((w) => [w.record.event, w.record.id])).toEqual([
      ['zipped', batchId],
      ['sent', batchId],
      ['rollup', expect.any(String)],
    ]);
  });

  it('keeps a .str whose bytes changed since the intent: it is a new scan and gets its own zip', async () => {
    const { written, zip } = await crashedPack(true);
    const changed = written.names[2] as string;
    await writeFile(join(s.entpushdir, changed), 'a newer scan of the same workstation\r\n');
    const result = await runRollup(s.config, { log, keys: s.keys });
    expect(result.zipped.map((z) => [z.zip === zip, z.files])).toEqual([
      [true, 5],
      [false, 1],
    ]);
    const got = digests(
      await verifyAll(
        receiver.stored.map((z) => z.path),
        s.keys.publicKey,
      ),
    );
    expect(got).toEqual([...written.sha256, sha256Hex(Buffer.from('a newer scan of the same workstation\r\n'))].sort());
  });

  it('drops an intent whose zip was never written and packs its .str again', async () => {
    const { written, zip } = await crashedPack(false);
    const result = await runRollup(s.config, { log, keys: s.keys });
    expect(result.zipped).toHaveLength(1);
    expect(result.zipped[0]?.zip).not.toBe(zip);
    expect(result.zipped[0]?.recovered).toBe(false);
    expect(
      digests(
        await verifyAll(
          receiver.stored.map((z) => z.path),
          s.keys.publicKey,
        ),
      ),
    ).toEqual([...written.sha256].sort());
    expect(await readIntents(paths().intents)).toEqual([]);
  });

  it('does not log a zipped record twice when the crash came after it was logged', async () => {
    const { zip, batchId } = await crashedPack(true);
    const zipped = makeRecord({ id: batchId, source: 'sender', event: 'zipped', server: 'LEAF1', zip, files: 5 });
    await new RecordStore(paths().records).put({ v: 1, zip, zipped, pending: null });
    await log.write({ record: zipped });
    await runRollup(s.config, { log, keys: s.keys });
    expect(log.writes.map((w) => w.record.event)).toEqual(['zipped', 'sent', 'rollup']);
    expect(log.writes[1]?.replaces).toEqual(zipped);
  });

  it('logs a sent record whose zip was deleted before the crash (send-between-records)', async () => {
    const zip = `${formatScheduledTime(Date.UTC(2026, 4, 1))}_LEAF1_ACME_0.zip`;
    const zipped = makeRecord({ source: 'sender', event: 'zipped', server: 'LEAF1', zip, files: 3 });
    const sent = { ...zipped, event: 'sent' as const, to: 'INT1', time: new Date().toISOString() };
    await new RecordStore(paths().records).put({ v: 1, zip, zipped, pending: { record: sent, replaces: zipped } });
    await log.write({ record: zipped });
    const result = await runRollup(s.config, { log, keys: s.keys });
    expect(log.writes.map((w) => w.record.event)).toEqual(['zipped', 'sent', 'rollup']);
    expect(log.writes[1]).toEqual({ record: sent, replaces: zipped });
    expect(await readdir(paths().records)).toEqual([]);
    expect(result.sent).toEqual([]);
  });

  it('drops a pending record whose zip is still there (the crash came before the zip went) and sends it', async () => {
    await writeStrs(s.entmergedir, 3);
    receiver.failNext(14, { kind: 'drop' });
    const first = await runRollup(s.config, { log, keys: s.keys, timers: fakeTimers() });
    const zip = first.zipped[0]?.zip ?? '';
    const store = new RecordStore(paths().records);
    const state = await store.get(zip);
    const zipped = state?.zipped ?? null;
    expect(zipped).not.toBeNull();
    if (zipped === null) return;
    await store.put({ v: 1, zip, zipped, pending: { record: { ...zipped, event: 'sent' }, replaces: zipped } });
    const second = await runRollup(s.config, { log, keys: s.keys });
    expect(second.sent.map((z) => z.zip)).toEqual([zip]);
    expect(log.writes.filter((w) => w.record.event === 'sent')).toHaveLength(1);
  });

  it('removes the temps a crash left, and keeps a young one of another writer', async () => {
    const zip = `${formatScheduledTime(Date.UTC(2026, 4, 1))}_LEAF1_ACME_0.zip`;
    const ours = `.${zip}.0123456789ab.tmp`;
    const theirs = `.${formatScheduledTime(Date.UTC(2026, 4, 1))}_LEAF9_ACME_0.zip.0123456789ab.tmp`;
    await writeFile(join(s.entpushdir, ours), 'partial');
    await writeFile(join(s.entpushdir, theirs), 'being promoted');
    const state = s.config.dirs.statedir;
    await writeFile(join(state, '.sender-clock.json.0123456789ab.tmp'), 'partial');
    await writeFile(join(state, '.receipt.json.0123456789ab.tmp'), 'being written by the Receiver');
    await writeFile(join(paths().intents, '.x.json.0123456789ab.tmp'), 'partial');
    await runRollup(s.config, { log, keys: s.keys });
    expect((await readdir(s.entpushdir)).filter((n) => n.endsWith('.tmp'))).toEqual([theirs]);
    expect((await readdir(state)).filter((n) => n.endsWith('.tmp'))).toEqual(['.receipt.json.0123456789ab.tmp']);
    expect(await readdir(paths().intents)).toEqual([]);
  });
});

describe('the lock', () => {
  it('refuses a second roll-up while one holds the lock (LOCK_HELD), and does not wait', async () => {
    const lock = await acquireLock(paths().lock, { purpose: 'test' });
    try {
      const err: unknown = await runRollup(s.config, { log, keys: s.keys }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isZenrollError(err, 'LOCK_HELD')).toBe(true);
    } finally {
      await lock.release();
    }
  });

  it('releases the lock when the roll-up throws before it starts (a sender.tls.ca that cannot be read)', async () => {
    const broken = { ...s.config, sender: { ...s.config.sender, tls: { ...s.config.sender.tls, ca: join(s.root, 'missing-ca.pem') } } };
    const err: unknown = await runRollup(broken, { log, keys: s.keys }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isZenrollError(err)).toBe(true);
    expect(isZenrollError(err, 'LOCK_HELD')).toBe(false);
    expect((await readdir(s.config.dirs.statedir)).includes('rollup.lock')).toBe(false);
    // The next roll-up of this process is not refused by a lock left behind.
    await writeStrs(s.entmergedir, 2);
    expect((await runRollup(s.config, { log, keys: s.keys })).sent).toHaveLength(1);
  });

  it('takes over a lock left by a process that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    // As a process of this machine writes it: its node name, boot and pid namespace, so that its dead pid is judged at once.
    await writeFile(
      paths().lock,
      JSON.stringify({
        pid: Number(dead.stdout),
        node: nodeName(),
        host: hostname(),
        ...(await machineId()),
        purpose: 'crashed',
        since: new Date().toISOString(),
      }),
    );
    await writeStrs(s.entmergedir, 2);
    const result = await runRollup(s.config, { log, keys: s.keys });
    expect(result.sent).toHaveLength(1);
    expect((await readdir(s.config.dirs.statedir)).includes('rollup.lock')).toBe(false);
  });
});
