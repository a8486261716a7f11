/**
 * startSlapdProviders' replication deadline, expired for real: providers that
 * bind to each other with a wrong password never copy the first one's tree.
 * The start fails with the error it means (DIRECTORY_UNREACHABLE, naming both
 * providers and the deadline) and leaves no slapd running; the folder it made
 * is removed, a folder the caller gave is kept.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZenrollError } from '@zenroll/core';
import { describe, expect, it } from 'vitest';
import { slapdAlive, startSlapdProviders, stopPid } from '../src/slapd/index.js';
import { tempDir } from './helpers.js';

const DEADLINE_MS = 1500;
const FAULT = { replicationCredentials: 'not-the-root-password', replicationDeadlineMs: DEADLINE_MS };

/** The slapd processes whose arguments name a path under `folder` (a killed one's command line is empty). */
function slapdsUnder(folder: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(join('/proc', entry, 'cmdline'), 'utf8');
    } catch {
      continue; // ended while we looked
    }
    const [program, ...args] = cmdline.split('\0');
    // The program, not any argument: the ldapsearch polls name files in a folder called zenroll-slapd-….
    if (program?.endsWith('/slapd') && args.some((a) => a.includes(folder))) pids.push(Number(entry));
  }
  return pids;
}

/** After the assertions, whatever they found: no slapd of a failed run outlives the test (its worker does not kill them). */
async function killLeftovers(folder: string): Promise<void> {
  for (const pid of slapdsUnder(folder)) await stopPid(pid, { signal: 'SIGKILL', graceMs: 0 });
}

/**
 * startSlapdProviders' rejection, which it must have, and what `folder` held meanwhile (looked at every 50 ms):
 * the slapds running under it, the entries in it. What is seen running shows the look would see a slapd left.
 */
async function failure(start: Promise<unknown>, folder: string): Promise<{ err: ZenrollError; ran: Set<number>; held: Set<string> }> {
  const ran = new Set<number>();
  const held = new Set<string>();
  let settled = false;
  const err = await Promise.all([
    start
      .then(
        () => null,
        (e: unknown) => e,
      )
      .finally(() => {
        settled = true;
      }),
    (async () => {
      while (!settled) {
        for (const pid of slapdsUnder(folder)) ran.add(pid);
        for (const name of readdirSync(folder)) held.add(name);
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
  ]).then(([e]) => e);
  expect(err).toBeInstanceOf(ZenrollError);
  return { err: err as ZenrollError, ran, held };
}

const MESSAGE = new RegExp(
  `^provider ldap://127\\.0\\.0\\.1:\\d+ did not copy the tree of ldap://127\\.0\\.0\\.1:\\d+ within ${DEADLINE_MS / 1000} s \\(it holds 0 of its \\d+ entries\\)$`,
);

describe('startSlapdProviders whose providers cannot replicate', { timeout: 60_000 }, () => {
  it('in a folder of the caller: DIRECTORY_UNREACHABLE at the deadline, both slapds stopped, the folder kept', async () => {
    const scratch = await tempDir('zenroll-deadline-');
    try {
      const { err, ran } = await failure(startSlapdProviders({ ...FAULT, dir: scratch.path }), scratch.path);
      expect(ran.size).toBe(2);
      expect(err.code).toBe('DIRECTORY_UNREACHABLE');
      expect(err.message).toMatch(MESSAGE);
      expect(err.fix).toMatch(/replicationDeadlineMs/);
      // Both providers had started (each saved its pid) with the wrong password in their syncrepl lines.
      for (const p of ['p1', 'p2']) {
        expect(await readFile(join(scratch.path, p, 'slapd.conf'), 'utf8')).toContain('credentials=not-the-root-password ');
        const { pid } = JSON.parse(await readFile(join(scratch.path, p, 'slapd.json'), 'utf8')) as { pid: number };
        expect(pid).toBeGreaterThan(0);
        expect(slapdAlive(pid), `${p}'s slapd (pid ${pid})`).toBe(false);
      }
      expect(slapdsUnder(scratch.path)).toEqual([]);
    } finally {
      await killLeftovers(scratch.path);
      await scratch.remove();
    }
  });

  it('in a folder of its own: the same error, no slapd left and the folder removed', async () => {
    // os.tmpdir() reads TMPDIR: the folder startSlapdProviders makes is made in ours, and nothing else is.
    const scratch = await tempDir('zenroll-deadline-tmp-');
    const tmpdirBefore = process.env.TMPDIR;
    process.env.TMPDIR = scratch.path;
    try {
      const start = startSlapdProviders(FAULT);
      // It read tmpdir() before its first await: TMPDIR is the test process's own again from here on.
      if (tmpdirBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdirBefore;
      const { err, ran, held } = await failure(start, scratch.path);
      expect(ran.size).toBe(2);
      expect([...held]).toEqual([expect.stringMatching(/^zenroll-slapd-/)]);
      expect(err.code).toBe('DIRECTORY_UNREACHABLE');
      expect(err.message).toMatch(MESSAGE);
      expect(slapdsUnder(scratch.path)).toEqual([]);
      expect(await readdir(scratch.path)).toEqual([]);
    } finally {
      if (tmpdirBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdirBefore;
      await killLeftovers(scratch.path);
      await scratch.remove();
    }
  });
});
