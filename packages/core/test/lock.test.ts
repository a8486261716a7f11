/**
 * What a process killed while holding or taking a lock leaves behind never
 * blocks the next one for long (SPEC §5): a dead holder's lock is taken over
 * at once, and an empty lock file — kill -9 between creating the file and
 * writing its holder — after UNREADABLE_LOCK_GRACE_MS instead of staleMs.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { isZenrollError } from '../src/errors.js';
import { UNREADABLE_LOCK_GRACE_MS, acquireLock, processStartTime, type LockInfo } from '../src/lock.js';
import { useTempDir } from './helpers/outer.js';

const dir = useTempDir('zenroll-lock-');
const later = () => Date.now() + UNREADABLE_LOCK_GRACE_MS + 1000;

describe('locks left by a crash', () => {
  it('takes over the lock of a dead process on this host at once', async () => {
    const path = join(dir(), 'a.lock');
    await writeFile(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), purpose: 'gone', since: new Date().toISOString() }));
    const lock = await acquireLock(path, { purpose: 'test' });
    await lock.release();
  });

  it('takes an empty lock file for one being written for a moment, then for the leftover of a killed process', async () => {
    const path = join(dir(), 'b.lock');
    await writeFile(path, '');
    const held = await acquireLock(path, { purpose: 'test' }).catch((err: unknown) => err);
    expect(isZenrollError(held, 'LOCK_HELD')).toBe(true);
    const lock = await acquireLock(path, { purpose: 'test', now: later });
    await lock.release();
    // Well before staleMs (60 s by default), which a readable lock of another host would need.
    const old = new Date(Date.now() - UNREADABLE_LOCK_GRACE_MS - 1000);
    await writeFile(path, '{"pid": 1, "ho');
    await utimes(path, old, old);
    await (await acquireLock(path, { purpose: 'test' })).release();
  });

  it('after kill -9 at random moments of acquireLock, the next one gets the lock within the grace', async () => {
    const child = join(dir(), 'child.mjs');
    await writeFile(child, `import { acquireLock } from ${JSON.stringify(new URL('../dist/lock.js', import.meta.url).href)};
process.on('message', (p) => void acquireLock(p, { purpose: 'child' }).then(() => process.send('locked')));
process.send('ready');\n`);
    const found = { none: 0, empty: 0, written: 0 };
    for (let i = 0; i < 30; i++) {
      const path = join(dir(), `k${i}.lock`);
      const c = fork(child, [], { stdio: 'ignore' });
      await new Promise((resolve) => c.once('message', resolve));
      c.send(path);
      const until = performance.now() + Math.random() * 2;
      while (performance.now() < until);
      c.kill('SIGKILL');
      await new Promise((resolve) => c.once('exit', resolve));
      const left = await readFile(path, 'utf8').catch(() => null);
      found[left === null ? 'none' : left === '' ? 'empty' : 'written'] += 1;
      const lock = await acquireLock(path, { purpose: 'next', now: later });
      expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'next' });
      await lock.release();
    }
    expect(found.none + found.empty + found.written).toBe(30);
  }, 60_000);
});

const linux = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');

/** A real process that lives until killed. */
async function spawnSleeper(): Promise<ChildProcess & { pid: number }> {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => c.once('spawn', resolve).once('error', reject));
  return c as ChildProcess & { pid: number };
}

async function kill(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((resolve) => c.once('exit', resolve));
  c.kill('SIGKILL');
  await exited;
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
}

/** A lock file as a holder of this host would have written it, with its heartbeat at `mtime`. */
async function writeLock(path: string, holder: Partial<LockInfo> & { pid: number }, mtime = new Date()): Promise<void> {
  await writeFile(path, JSON.stringify({ host: hostname(), purpose: 'holder', since: new Date().toISOString(), ...holder }));
  await utimes(path, mtime, mtime);
}

async function outcome(path: string): Promise<'taken' | 'LOCK_HELD'> {
  try {
    const lock = await acquireLock(path, { purpose: 'next' });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'next' });
    await lock.release();
    return 'taken';
  } catch (err) {
    if (isZenrollError(err, 'LOCK_HELD')) return 'LOCK_HELD';
    throw err;
  }
}

describe.skipIf(!linux)('a lock names its holder by boot and start time, so that a reused pid does not hold it', () => {
  it('records the boot id and its start time, and a second acquire in the same process is refused', async () => {
    const path = join(dir(), 'own.lock');
    const lock = await acquireLock(path, { purpose: 'test' });
    try {
      const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
      expect(info.bootId).toBe(await bootId());
      expect(info.startTime).toBe(await processStartTime(process.pid));
      expect(info.startTime).toMatch(/^\d+$/);
      expect(await outcome(path)).toBe('LOCK_HELD');
    } finally {
      await lock.release();
    }
  });

  it('a live holder with a fresh heartbeat keeps the lock, in a lock file of today or of an older version', async () => {
    const c = await spawnSleeper();
    try {
      const path = join(dir(), 'live.lock');
      await writeLock(path, { pid: c.pid, bootId: await bootId(), startTime: await processStartTime(c.pid) });
      expect(await outcome(path)).toBe('LOCK_HELD');
      // Older lock files have neither field: the live pid and the heartbeat judge.
      await writeLock(path, { pid: c.pid });
      expect(await outcome(path)).toBe('LOCK_HELD');
    } finally {
      await kill(c);
    }
  });

  it('takes over when the holder has died (its pid is gone)', async () => {
    const c = await spawnSleeper();
    const path = join(dir(), 'dead.lock');
    await writeLock(path, { pid: c.pid, bootId: await bootId(), startTime: await processStartTime(c.pid) });
    expect(await outcome(path)).toBe('LOCK_HELD');
    await kill(c);
    await writeLock(path, { pid: c.pid, bootId: await bootId(), startTime: await processStartTime(c.pid) });
    expect(await outcome(path)).toBe('taken');
  });

  it('takes over when the pid is alive but is another process (its start time differs)', async () => {
    const c = await spawnSleeper();
    try {
      const started = await processStartTime(c.pid);
      expect(started).not.toBeNull();
      const path = join(dir(), 'reused.lock');
      await writeLock(path, { pid: c.pid, bootId: await bootId(), startTime: String(Number(started) + 1) });
      expect(await outcome(path)).toBe('taken');
      // This very process may be the one that got the pid again: the same goes.
      await writeLock(path, { pid: process.pid, bootId: await bootId(), startTime: String(Number(await processStartTime(process.pid)) + 1) });
      expect(await outcome(path)).toBe('taken');
    } finally {
      await kill(c);
    }
  });

  it('takes over when the host has rebooted since (the boot id differs), whoever has the pid now', async () => {
    const c = await spawnSleeper();
    try {
      const path = join(dir(), 'reboot.lock');
      const other = (await bootId()).replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
      await writeLock(path, { pid: c.pid, bootId: other, startTime: await processStartTime(c.pid) });
      expect(await outcome(path)).toBe('taken');
      await writeLock(path, { pid: process.pid, bootId: other, startTime: await processStartTime(process.pid) });
      expect(await outcome(path)).toBe('taken');
    } finally {
      await kill(c);
    }
  });

  it('takes over a live pid whose heartbeat is older than staleMs: pid 1 with a lock from 2020, in an old lock file too', async () => {
    const c = await spawnSleeper();
    try {
      const path = join(dir(), 'old.lock');
      const y2020 = new Date('2020-06-01T00:00:00Z');
      await writeLock(path, { pid: 1 }, y2020);
      expect(await outcome(path)).toBe('taken');
      await writeLock(path, { pid: c.pid, bootId: await bootId(), startTime: await processStartTime(c.pid) }, y2020);
      expect(await outcome(path)).toBe('taken');
      // Just inside staleMs it is still held.
      await writeLock(path, { pid: c.pid, bootId: await bootId(), startTime: await processStartTime(c.pid) }, new Date(Date.now() - 50_000));
      expect(await outcome(path)).toBe('LOCK_HELD');
    } finally {
      await kill(c);
    }
  });
});

describe('a holder whose lock was taken over (fencing)', () => {
  const waitFor = async (cond: () => boolean, ms = 5_000) => {
    const until = Date.now() + ms;
    while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  };

  it('keeps its own lock fresh and reports nothing while it holds it', async () => {
    const path = join(dir(), 'fresh.lock');
    const lost: unknown[] = [];
    const lock = await acquireLock(path, { purpose: 'test', heartbeatMs: 20, onLost: (e) => lost.push(e) });
    const old = new Date(Date.now() - 30_000);
    await utimes(path, old, old);
    await waitFor(() => Date.now() - statSync(path).mtimeMs < 10_000);
    expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(10_000);
    expect({ lost: lock.lost, reported: lost }).toEqual({ lost: false, reported: [] });
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('stops touching a lock another process took over, says so once (LOCK_LOST), and leaves that one in place', async () => {
    const path = join(dir(), 'taken.lock');
    const lost: unknown[] = [];
    const lock = await acquireLock(path, { purpose: 'test', heartbeatMs: 20, onLost: (e) => lost.push(e) });
    // What a takeover by another node looks like: the file replaced by one with another holder's token, its heartbeat old.
    const theirs = { pid: 4242, host: 'other-node', purpose: 'zenroll serve', since: new Date().toISOString(), token: 'f'.repeat(24) };
    await writeFile(`${path}.new`, JSON.stringify(theirs));
    await rename(`${path}.new`, path);
    const old = new Date(Date.now() - 30_000);
    await utimes(path, old, old);
    await waitFor(() => lost.length > 0);
    expect(lock.lost).toBe(true);
    expect(lost).toHaveLength(1);
    expect(isZenrollError(lost[0], 'LOCK_LOST')).toBe(true);
    expect((lost[0] as Error).message).toMatch(/process 4242 on other-node \(zenroll serve, since .*\) holds it now/);
    await new Promise((r) => setTimeout(r, 100));
    // Its heartbeat did not keep the new holder's lock fresh, and release() does not remove it.
    expect(Math.round(statSync(path).mtimeMs / 1000)).toBe(Math.round(old.getTime() / 1000));
    await lock.release();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(theirs);
    expect(lost).toHaveLength(1);
  });

  it('reports a lock file that was removed under it', async () => {
    const path = join(dir(), 'gone.lock');
    const lost: Error[] = [];
    const lock = await acquireLock(path, { purpose: 'test', heartbeatMs: 20, onLost: (e) => lost.push(e) });
    await rm(path);
    await waitFor(() => lost.length > 0);
    expect(lost[0]?.message).toMatch(/is no longer this process's: it is gone, or another holder is writing it/);
    await lock.release();
  });
});
