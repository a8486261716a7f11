/**
 * What a process killed while holding or taking a lock leaves behind never
 * blocks the next one for long (SPEC §5): a dead holder's lock on this
 * machine is taken over at once, and an empty lock file — kill -9 between
 * creating the file and writing its holder — after UNREADABLE_LOCK_GRACE_MS.
 * A holder on another node is judged only by its heartbeat not changing over
 * staleMs of the judge's own monotonic time (SPEC §9): real processes with
 * clocks hours apart (libfaketime), and two machines of one host name.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { isZenrollError } from '../src/errors.js';
import { acquireLock, machineId, nodeName, processStartTime, type LockInfo, type MachineId } from '../src/lock.js';
import { useTempDir } from './helpers/outer.js';

const dir = useTempDir('zenroll-lock-');

describe('locks left by a crash', () => {
  it('takes over the lock of a dead process on this machine at once', async () => {
    const path = join(dir(), 'a.lock');
    await writeLock(path, { pid: 2 ** 22 + 12345 });
    const lock = await acquireLock(path, { purpose: 'test' });
    expect(lock.tookOverFrom?.pid).toBe(2 ** 22 + 12345);
    await lock.release();
  });

  it('takes an empty lock file for one being written for a moment, then, unchanged over the grace, for the leftover of a killed process', async () => {
    const path = join(dir(), 'b.lock');
    await writeFile(path, '');
    let t = 0;
    const waits: number[] = [];
    // Each look at this process's own clock moves it 100 ms on; the staleness (600 ms) also caps the grace.
    const lock = await acquireLock(path, {
      purpose: 'test',
      staleMs: 600,
      wait: true,
      monotonic: () => (t += 100),
      onWaiting: () => waits.push(t),
    });
    expect(waits).toEqual([100]);
    // Taken once it had not changed over the grace of this process's time, not before.
    expect(t).toBeGreaterThanOrEqual(700);
    expect(t).toBeLessThan(1000);
    await lock.release();
  });

  it('after kill -9 at random moments of acquireLock, the next one gets the lock within the grace', async () => {
    const child = join(dir(), 'child.mjs');
    await writeFile(
      child,
      `import { acquireLock } from ${JSON.stringify(new URL('../dist/lock.js', import.meta.url).href)};
process.on('message', (p) => void acquireLock(p, { purpose: 'child' }).then(() => process.send('locked')));
process.send('ready');\n`,
    );
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
      const lock = await acquireLock(path, { purpose: 'next', staleMs: 300, wait: true });
      expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'next' });
      await lock.release();
      expect(readdirSync(dir()).filter((n) => n.startsWith(`k${i}.lock`))).toEqual([]);
    }
    expect(found.none + found.empty + found.written).toBe(30);
    // A bound for a hang, not a timing: 30 node children start one after the other (26.6 s in a CI run on a shared machine).
  }, 180_000);
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

/** A lock file as a holder of this machine would have written it (node name, boot id, pid namespace), with `holder` over it. */
async function writeLock(path: string, holder: Partial<LockInfo> & { pid: number }): Promise<void> {
  const me = await machineId();
  await writeFile(
    path,
    JSON.stringify({ node: nodeName(), host: hostname(), purpose: 'holder', since: new Date().toISOString(), ...me, ...holder }),
  );
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

  it('a live holder on this machine keeps the lock; an older lock file (no node, no boot id) is judged by its heartbeat, which nobody moves', async () => {
    const c = await spawnSleeper();
    try {
      const path = join(dir(), 'live.lock');
      await writeLock(path, { pid: c.pid, startTime: await processStartTime(c.pid) });
      expect(await outcome(path)).toBe('LOCK_HELD');
      await writeFile(path, JSON.stringify({ pid: c.pid, host: hostname(), purpose: 'holder', since: new Date().toISOString() }));
      let t = 0;
      const lock = await acquireLock(path, { purpose: 'next', staleMs: 500, monotonic: () => (t += 50) });
      expect(t).toBeGreaterThanOrEqual(500);
      await lock.release();
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
      await writeLock(path, {
        pid: process.pid,
        bootId: await bootId(),
        startTime: String(Number(await processStartTime(process.pid)) + 1),
      });
      expect(await outcome(path)).toBe('taken');
    } finally {
      await kill(c);
    }
  });

  it('a holder of another boot (another machine of the same name, or this one before a reboot) is judged by its heartbeat, not by a pid that means nothing here', async () => {
    const c = await spawnSleeper();
    try {
      const path = join(dir(), 'reboot.lock');
      const other = (await bootId()).replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
      for (const pid of [c.pid, process.pid, 2 ** 22 + 12345]) {
        await writeLock(path, { pid, bootId: other, startTime: await processStartTime(pid) });
        let t = 0;
        const lock = await acquireLock(path, { purpose: 'next', staleMs: 1000, monotonic: () => (t += 100) });
        expect(t).toBeGreaterThanOrEqual(1000);
        await lock.release();
      }
    } finally {
      await kill(c);
    }
  });

  it("a live process on this machine that does not beat (frozen) is refused at once without wait, and taken over after staleMs of this process's time with it", async () => {
    const c = await spawnSleeper();
    try {
      const path = join(dir(), 'frozen.lock');
      await writeLock(path, { pid: c.pid, startTime: await processStartTime(c.pid) });
      expect(await outcome(path)).toBe('LOCK_HELD');
      let t = 0;
      const lock = await acquireLock(path, { purpose: 'next', staleMs: 1000, wait: true, monotonic: () => (t += 100) });
      expect(t).toBeGreaterThanOrEqual(1000);
      expect(lock.tookOverFrom?.pid).toBe(c.pid);
      await lock.release();
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

  it('moves its heartbeat (the beat file, not an mtime) and reports nothing while it holds it', async () => {
    const path = join(dir(), 'fresh.lock');
    const lost: unknown[] = [];
    const lock = await acquireLock(path, { purpose: 'test', heartbeatMs: 20, onLost: (e) => lost.push(e) });
    const first = await readFile(`${path}.beat`, 'utf8');
    expect(first.startsWith(`${lock.info.token} `)).toBe(true);
    let now = first;
    await waitFor(() => {
      now = readFileSync(`${path}.beat`, 'utf8');
      return now !== first;
    });
    expect(now).not.toBe(first);
    expect({ lost: lock.lost, reported: lost }).toEqual({ lost: false, reported: [] });
    await lock.release();
    expect([existsSync(path), existsSync(`${path}.beat`)]).toEqual([false, false]);
  });

  it('stops touching a lock another process took over, says so once (LOCK_LOST), and leaves that one in place', async () => {
    const path = join(dir(), 'taken.lock');
    const lost: unknown[] = [];
    const lock = await acquireLock(path, { purpose: 'test', heartbeatMs: 20, onLost: (e) => lost.push(e) });
    // What a takeover by another node looks like: the file replaced by one with another holder's token, its heartbeat old.
    const theirs = { pid: 4242, host: 'other-node', purpose: 'zenroll serve', since: new Date().toISOString(), token: 'f'.repeat(24) };
    await writeFile(`${path}.new`, JSON.stringify(theirs));
    await rename(`${path}.new`, path);
    await waitFor(() => lost.length > 0);
    expect(lock.lost).toBe(true);
    expect(lost).toHaveLength(1);
    expect(isZenrollError(lost[0], 'LOCK_LOST')).toBe(true);
    expect((lost[0] as Error).message).toMatch(/process 4242 on other-node \(zenroll serve, since .*\) holds it now/);
    // The new holder's beat: ours must not keep writing over it, and release() removes neither file.
    await writeFile(`${path}.beat`, `${theirs.token} 000000000001\n`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await readFile(`${path}.beat`, 'utf8')).toBe(`${theirs.token} 000000000001\n`);
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

  it('stillHeld() reads the lock file now, before the next heartbeat would', async () => {
    const path = join(dir(), 'now.lock');
    const lost: unknown[] = [];
    const lock = await acquireLock(path, { purpose: 'test', heartbeatMs: 60_000, onLost: (e) => lost.push(e) });
    expect(await lock.stillHeld()).toBe(true);
    await writeFile(
      path,
      JSON.stringify({ pid: 4242, node: 'node-b', host: 'b', purpose: 'zenroll serve', since: 'x', token: 'e'.repeat(24) }),
    );
    expect(await lock.stillHeld()).toBe(false);
    expect({ lost: lock.lost, reported: lost.length }).toEqual({ lost: true, reported: 1 });
    await lock.release();
  });
});

/** Run `count` rounds of lock-node.mjs on each node, respawning a node that died holding the lock, until all are done. */
async function runNodes(
  nodes: { name: string; faketime?: string; machine?: MachineId }[],
  o: { rounds: number; dieEvery: number; staleMs: number },
) {
  const base = dir();
  const log = join(base, 'nodes.log');
  const common = {
    lock: join(base, 'shared.lock'),
    marks: join(base, 'holding'),
    log,
    staleMs: o.staleMs,
    heartbeatMs: Math.floor(o.staleMs / 8),
  };
  const script = fileURLToPath(new URL('./helpers/lock-node.mjs', import.meta.url));
  const runOne = async (n: (typeof nodes)[number]) => {
    let left = o.rounds;
    while (left > 0) {
      const rounds = Math.min(left, o.dieEvery);
      const args = [process.execPath, script, JSON.stringify({ ...common, rounds, dieEvery: o.dieEvery, machine: n.machine })];
      // libfaketime preloaded into node itself (the faketime command would stand between, and hide the SIGKILL).
      const clock = n.faketime ? { LD_PRELOAD: faketimeLib as string, FAKETIME: n.faketime } : {};
      const c = spawn(args[0] as string, args.slice(1), {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, ...clock, ZENROLL_NODE: n.name },
      });
      const [code, signal] = (await new Promise((resolve) => c.once('exit', (...a) => resolve(a)))) as [number | null, string | null];
      // The only way out but "done": killed by itself while holding (exit 3 is an overlap, which the log shows).
      expect(code === 0 || signal === 'SIGKILL').toBe(true);
      left -= rounds;
    }
  };
  await Promise.all(nodes.map(runOne));
  return (await readFile(log, 'utf8')).trim().split('\n');
}

/** Debian's libfaketime (package faketime, which scripts/system-deps.sh installs). */
const faketimeLib = ['x86_64-linux-gnu', 'aarch64-linux-gnu', '.']
  .map((d) => join('/usr/lib', d, 'faketime/libfaketime.so.1'))
  .find((p) => existsSync(p));

describe('two nodes judge each other by the heartbeat, never by their clocks or host names (SPEC §9)', () => {
  it('nodes whose clocks are 5 h behind and 7 h ahead never both hold the lock, and take it over from each other when one dies holding it', async () => {
    expect(faketimeLib, 'libfaketime (Debian package faketime, scripts/system-deps.sh)').toBeDefined();
    const lines = await runNodes(
      [
        { name: 'node-a', faketime: '-5h' },
        { name: 'node-b', faketime: '+7h' },
      ],
      { rounds: 8, dieEvery: 4, staleMs: 600 },
    );
    expect(lines.filter((l) => l.startsWith('OVERLAP') || l.startsWith('lost'))).toEqual([]);
    const held = lines.filter((l) => l.startsWith('held '));
    expect(held).toHaveLength(16);
    // Each node died holding the lock twice (after rounds 4 and 8): the last death leaves it to the other, or to nobody.
    expect(held.filter((l) => l.endsWith('takeover')).length).toBeGreaterThanOrEqual(2);
    // The clocks really were hours apart: the times the nodes wrote differ by about 12 h.
    const times = (node: string) => held.filter((l) => l.split(' ')[1] === node).map((l) => Date.parse(l.split(' ')[3] as string));
    expect(Math.abs((times('node-b')[0] as number) - (times('node-a')[0] as number)) / 3_600_000).toBeGreaterThan(11);
  }, 120_000);

  it('two machines with one host name and one node name (clones of one image) never both hold the lock', async () => {
    const me = await machineId();
    const other: MachineId = { bootId: 'ffffffff-0000-4000-8000-000000000000', pidNs: me.pidNs };
    const lines = await runNodes([{ name: hostname() }, { name: hostname(), machine: other }], { rounds: 8, dieEvery: 4, staleMs: 600 });
    expect(lines.filter((l) => l.startsWith('OVERLAP') || l.startsWith('lost'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('held '))).toHaveLength(16);
    expect(lines.filter((l) => l.endsWith('takeover')).length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('a waiting node does not take the lock of a live holder on another node whose heartbeat moves, however old its mtime', async () => {
    const path = join(dir(), 'remote.lock');
    // Holder and judge share this process: a pause of it (load, a slow write of the beat) longer than staleMs
    // between two beats looks like a dead holder. 1 s of staleness leaves room for that; the wait is still 1.5 times it.
    const staleMs = 1000;
    const holder = await acquireLock(path, { purpose: 'holder', node: 'node-a', heartbeatMs: 20, staleMs });
    const y2020 = new Date('2020-06-01T00:00:00Z');
    await utimes(path, y2020, y2020);
    await utimes(`${path}.beat`, y2020, y2020);
    const ac = new AbortController();
    const waiting = acquireLock(path, { purpose: 'standby', node: 'node-b', wait: true, staleMs, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 1.5 * staleMs));
    ac.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    // Without wait: refused once the beat is seen to move.
    await expect(acquireLock(path, { purpose: 'standby', node: 'node-b', staleMs })).rejects.toThrow(/is held by process \d+ on node-a/);
    await holder.release();
  });
});
