/**
 * kill -9 of a real `zenroll rollup` at each crash point of the Sender
 * (core crash.ts, ZENROLL_CRASH_AT), then a second roll-up: every `.str`
 * arrives at the parent exactly once, and the log holds one `sent` record
 * per zip.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyIdOf, loadPublicKey, verifyOuterZip } from '@zenroll/core';
import { openLog } from '@zenroll/directory';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { initServer, tempDir, type ServerFolder } from './helpers/server-dir.js';
import { TestReceiver } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
let leaf: ServerFolder;

beforeEach(async () => {
  tmp = await tempDir('zenroll-crash-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
  leaf = await initServer(join(tmp.path, 'leaf'), { role: 'leaf', server: 'LEAF1', parent: parent.url });
});

afterEach(async () => {
  await parent.close();
  await tmp.remove();
});

async function receivedDigests(): Promise<string[]> {
  const key = await loadPublicKey(leaf.config.keys.public);
  const trust = (id: string) => (id === keyIdOf(key) ? { key, grants: [{ server: 'LEAF1', source: 'leaf' }] } : undefined);
  const out: string[] = [];
  for (const z of parent.stored) out.push(...(await verifyOuterZip(z.path, { trust })).files.map((f) => f.sha256));
  return out.sort();
}

async function filesLeft(dir: string | null): Promise<string[]> {
  return (await readdir(dir ?? '', { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

/**
 * What entpushdir holds right after a kill while packing. Two batches are
 * packed at once (core PACK_LANES): the first to reach the crash point is
 * killed there, and the other may or may not have its zip written yet, so
 * 1 or 2 zips, with as many intents or one more. At pack-mid-delete the
 * other batch's first unlink may be on the thread pool as the kill comes:
 * one or two .str gone.
 */
const STR_AFTER_KILL: Record<string, number[]> = {
  'pack-after-zip': [120],
  'pack-mid-delete': [118, 119],
};

/**
 * A kill while sending: the first zip is being pushed while later batches
 * are packed, so how far packing got depends on timing. What does not: the
 * zips the parent stored, and every scan still somewhere — a `.str` or a
 * zip in entpushdir, or a zip the parent stored.
 */
const STORED_AFTER_KILL: Record<string, number> = {
  'send-mid-upload': 0,
  'send-after-ack': 1,
  'send-between-records': 1,
};

async function scansInPushdir(): Promise<string[]> {
  const dir = leaf.config.dirs.entpushdir ?? '';
  const key = await loadPublicKey(leaf.config.keys.public);
  const trust = (id: string) => (id === keyIdOf(key) ? { key, grants: [{ server: 'LEAF1', source: 'leaf' }] } : undefined);
  const out: string[] = [];
  for (const name of await filesLeft(dir)) {
    if (name.endsWith('.str'))
      out.push(
        createHash('sha256')
          .update(await readFile(join(dir, name)))
          .digest('hex'),
      );
    if (name.endsWith('.zip')) out.push(...(await verifyOuterZip(join(dir, name), { trust })).files.map((f) => f.sha256));
  }
  return out;
}

describe('kill -9 of zenroll rollup, then another roll-up', () => {
  it.each([
    ['pack-after-zip', 'a zip written, its .str not yet deleted'],
    ['pack-mid-delete', 'some .str of a packed batch deleted, not all'],
    ['send-mid-upload', 'part of a zip sent'],
    ['send-after-ack', 'the parent stored a zip, the Sender has not deleted it'],
    ['send-between-records', 'a sent zip deleted, its sent record not yet logged'],
  ])('at %s (%s): every .str arrives exactly once', async (point) => {
    const scans = await writeScans(leaf.config.dirs.entmergedir ?? '', 120);

    const crashed = await runCli(['rollup', '-c', leaf.configPath], { env: { ZENROLL_CRASH_AT: point } });
    expect(crashed.signal).toBe('SIGKILL');
    const pushed = await filesLeft(leaf.config.dirs.entpushdir);
    const intents = await readdir(join(leaf.config.dirs.statedir, 'intents'));
    if (point.startsWith('pack-')) {
      const zips = pushed.filter((n) => n.endsWith('.zip')).length;
      expect(STR_AFTER_KILL[point]).toContain(pushed.filter((n) => n.endsWith('.str')).length);
      expect([1, 2]).toContain(zips);
      expect([zips, 2]).toContain(intents.length);
      // No zip is handed to the pusher before its batch is finished.
      expect(parent.stored.length).toBe(0);
    } else {
      expect(parent.stored.length).toBe(STORED_AFTER_KILL[point]);
      expect(intents.length).toBeLessThanOrEqual(1);
      const somewhere = new Set([...(await scansInPushdir()), ...(await receivedDigests())]);
      expect(scans.sha256.filter((d) => !somewhere.has(d))).toEqual([]);
    }

    const again = await runCli(['rollup', '-c', leaf.configPath]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);

    expect(await receivedDigests()).toEqual([...scans.sha256].sort());
    expect(parent.stored).toHaveLength(3);
    expect(await filesLeft(leaf.config.dirs.entmergedir)).toEqual([]);
    expect(await filesLeft(leaf.config.dirs.entpushdir)).toEqual([]);
    if (point === 'send-after-ack') expect(parent.attempts.filter((a) => a.outcome === 200)).toHaveLength(1);

    const log = await openLog(leaf.config);
    try {
      // The crashed roll-up never got to its `rollup` record; the one that finished wrote one.
      const all = await log.read('LEAF1', 100);
      expect(all.filter((r) => r.event === 'rollup')).toHaveLength(1);
      const records = all.filter((r) => r.event !== 'rollup');
      expect(records.map((r) => r.event)).toEqual(['sent', 'sent', 'sent']);
      expect(records.map((r) => r.zip).sort()).toEqual(parent.stored.map((z) => z.name).sort());
    } finally {
      await log.close();
    }
  });
});
