/**
 * What a process killed while holding or taking a lock leaves behind never
 * blocks the next one for long (SPEC §5): a dead holder's lock is taken over
 * at once, and an empty lock file — kill -9 between creating the file and
 * writing its holder — after UNREADABLE_LOCK_GRACE_MS instead of staleMs.
 */
import { fork } from 'node:child_process';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { isZenrollError } from '../src/errors.js';
import { UNREADABLE_LOCK_GRACE_MS, acquireLock } from '../src/lock.js';
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
