import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeRecord, type LogWrite } from '@zenroll/core';
import { DirectoryLog, Journal, LdapDirectory, type LdapDirectoryOptions } from '../src/index.js';
import { applyWrites } from '../src/records.js';
import { freePort, freshServer, ldapOptions, openHandles, rec, sentFor, sleep, startSlapd, tempDir, type Slapd } from './helpers.js';
import { ldapsearchLog } from './ldapsearch.js';

const BACKOFF = { initialMs: 50, maxMs: 400 };

describe('DirectoryLog: the journal applied to a private slapd', { timeout: 120_000 }, () => {
  let slapd: Slapd;
  const cleanups: (() => Promise<void>)[] = [];

  async function openLog(extra: Partial<LdapDirectoryOptions> = {}, dir?: string) {
    const scratch = dir === undefined ? await tempDir() : null;
    const path = dir ?? (scratch as { path: string }).path;
    const log = new DirectoryLog(await Journal.open({ dir: path, applying: true }), new LdapDirectory(ldapOptions(slapd, 'LEAF1', extra)), {
      backoff: BACKOFF,
    });
    cleanups.push(async () => {
      await log.close();
      await scratch?.remove();
    });
    return { log, dir: path };
  }

  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await slapd?.destroy();
  });

  it('loses nothing when slapd is killed in the middle of 500 records and comes back later', async () => {
    const server = await freshServer(slapd);
    const { log } = await openLog({ timeoutMs: 1000 });
    const writes: LogWrite[] = [];
    const write = async (w: LogWrite) => {
      await log.write(w);
      writes.push(w);
    };
    let restarted: Promise<void> | null = null;
    let sinceKill = 0;
    for (let i = 0; i < 500; i++) {
      const zipped = rec(server, 'zipped', { message: `zip ${i}` });
      await write({ record: zipped });
      if (i % 5 === 4) await write({ record: sentFor(zipped), replaces: zipped });
      if (i === 150) {
        await slapd.kill('SIGKILL');
        sinceKill = writes.length;
      }
      if (i === 300) {
        // The roll-up went on: slapd comes back only once these writes returned, so a write that
        // waited for LDAP would never return (and vitest fails the test). None of them reached it.
        expect(log.backlog()).toBeGreaterThanOrEqual(writes.length - sinceKill);
        restarted = slapd.restart();
      }
    }
    await restarted;
    expect(await log.drain(60_000)).toBe(true);
    const expected = applyWrites([], writes).map(serializeRecord);
    expect(expected).toHaveLength(500);
    const stored = await ldapsearchLog(slapd, server);
    expect(stored).toEqual(expected); // every record once, in order
  });

  it('keeps writing while slapd is not running at start-up, reads the journal meanwhile, then drains', async () => {
    const server = await freshServer(slapd);
    await slapd.stop();
    try {
      const { log } = await openLog();
      const records = Array.from({ length: 20 }, () => rec(server));
      for (const record of records) await log.write({ record });
      expect(await log.drain(300)).toBe(false);
      expect(log.backlog()).toBe(20);
      expect(log.lastError()?.code).toBe('DIRECTORY_UNREACHABLE');
      const read = await log.readFrom(server, 5);
      expect(read.source).toBe('journal');
      expect(read.note).toContain('ECONNREFUSED');
      expect(read.records).toEqual(records.slice(-5).reverse());
      await slapd.restart();
      expect(await log.drain(10_000)).toBe(true);
      expect(await ldapsearchLog(slapd, server)).toEqual(records.map(serializeRecord));
      expect((await log.readFrom(server, 5)).source).toBe('directory');
    } finally {
      if (!slapd.running()) await slapd.restart();
    }
  });

  it('waits with the backlog on a bad password, sets nothing aside, and drains once the file is fixed', async () => {
    const server = await freshServer(slapd);
    const scratch = await tempDir();
    const pwFile = join(scratch.path, 'bind.pw');
    await writeFile(pwFile, 'wrong\n');
    cleanups.push(scratch.remove);
    const { log, dir } = await openLog({ passwordFile: pwFile });
    const records = Array.from({ length: 5 }, () => rec(server));
    for (const record of records) await log.write({ record });
    expect(await log.drain(500)).toBe(false);
    expect(log.lastError()?.details).toMatchObject({ resultCode: 49 });
    expect(log.lastError()?.message).toContain('invalid credentials');
    await expect(readFile(join(dir, 'rejected.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(pwFile, `${slapd.serverPassword('LEAF1')}\n`);
    expect(await log.drain(10_000)).toBe(true);
    expect(await ldapsearchLog(slapd, server)).toEqual(records.map(serializeRecord));
  });

  it('sets aside a record for an object that does not exist, with the reason, and applies the rest', async () => {
    const server = await freshServer(slapd);
    const { log, dir } = await openLog();
    const before = rec(server);
    const lost = rec('NOBODY');
    const after = rec(server);
    for (const record of [before, lost, after]) await log.write({ record });
    expect(await log.drain(10_000)).toBe(true);
    expect(await ldapsearchLog(slapd, server)).toEqual([before, after].map(serializeRecord));
    const rejected = (await readFile(join(dir, 'rejected.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ error: 'DIRECTORY_WRITE_FAILED', seq: 2, server: 'NOBODY', record: serializeRecord(lost) });
    expect(rejected[0].reason).toContain('no such object');
  });

  it('applies after restarting what an earlier process journaled but could not apply', async () => {
    const server = await freshServer(slapd);
    const scratch = await tempDir();
    cleanups.push(scratch.remove);
    await slapd.stop();
    const first = await openLog({}, scratch.path);
    const records = Array.from({ length: 10 }, () => rec(server));
    for (const record of records) await first.log.write({ record });
    await first.log.close();
    await slapd.restart();
    const second = await openLog({}, scratch.path);
    expect(second.log.backlog()).toBe(10);
    expect(await second.log.drain(10_000)).toBe(true);
    expect(await ldapsearchLog(slapd, server)).toEqual(records.map(serializeRecord));
  });

  it('backs off 1 s, 2 s, 4 s … up to 60 s, and closes without a timer or socket left', async () => {
    const delays: number[] = [];
    const pending = new Map<number, () => void>();
    let next = 0;
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        delays.push(ms);
        pending.set(++next, fn);
        return next;
      },
      clearTimeout: (h: unknown) => void pending.delete(h as number),
    };
    const before = openHandles();
    const scratch = await tempDir();
    const down = `ldap://127.0.0.1:${await freePort()}`;
    const log = new DirectoryLog(
      await Journal.open({ dir: scratch.path, applying: true }),
      new LdapDirectory(ldapOptions(slapd, 'LEAF1', { url: down })),
      { timers },
    );
    await log.write({ record: rec('LEAF1') });
    for (let i = 0; i < 9; i++) {
      while (pending.size === 0) await sleep(5);
      const [id, fire] = [...pending.entries()][0] as [number, () => void];
      pending.delete(id);
      fire();
    }
    while (delays.length < 10) await sleep(5);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
    await log.close();
    await scratch.remove();
    expect(pending.size).toBe(0);
    const after = openHandles();
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });
});
