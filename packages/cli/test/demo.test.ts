/**
 * `zenroll demo` as `npm start` runs it (SPEC §5): four real `zenroll serve`
 * processes and a private slapd, scans rolled up to ROOT; with `--keep` the
 * demo itself exits and leaves the tree up, and `demo --stop` stops it all.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/server-dir.js';
import { writeScans } from './helpers/scans.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('zenroll-demo-');
});
afterAll(async () => {
  // Whatever a failed test left running.
  await runCli(['demo', '--stop', '--dir', join(tmp.path, 'kept')]);
  await tmp.remove();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of the four services (their serve locks) and of slapd. */
async function pidsOf(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of ['LEAF1', 'LEAF2', 'INT1', 'ROOT']) {
    pids.push((JSON.parse(await readFile(join(dir, name, 'entpushdir', '.zenroll', 'serve.lock'), 'utf8')) as { pid: number }).pid);
  }
  pids.push((JSON.parse(await readFile(join(dir, 'slapd', 'slapd.json'), 'utf8')) as { pid: number }).pid);
  return pids;
}

describe('zenroll demo', { timeout: 120_000 }, () => {
  it('rolls every generated .str up to ROOT once and stops everything it started', async () => {
    const dir = join(tmp.path, 'plain');
    const r = await runCli(['demo', '--files', '7', '--dir', dir], { killAfterMs: 100_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ROOT's dbdir: \d+ zips holding 14 \.str \(14 distinct\) of the 14 generated/);
    expect(r.stdout).toMatch(/stopped the four services and slapd/);
    const roots = (await readdir(join(dir, 'ROOT', 'dbdir'))).filter((n) => n.endsWith('.zip'));
    expect(roots.length).toBeGreaterThan(0);
    expect(await pidsOf(dir).catch(() => [])).toEqual([]); // their locks are gone with them
  });

  it('with --keep, exits and leaves the tree running; it still rolls up, and demo --stop ends it', async () => {
    const dir = join(tmp.path, 'kept');
    const r = await runCli(['demo', '--files', '3', '--dir', dir, '--keep'], { killAfterMs: 100_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the tree keeps running/);
    const pids = await pidsOf(dir);
    expect(pids.every(alive)).toBe(true);

    // The kept LEAF1 takes new scans on a forced roll-up (it outlived the demo's pipes).
    await writeScans(join(dir, 'LEAF1', 'entmergedir'), 2, { seed: 5, startIndex: 500 });
    const rollup = await runCli(['rollup', '--now', '-c', join(dir, 'LEAF1', 'zenroll.json')]);
    expect(rollup.stdout).toMatch(/1 zipped, 0 discarded, 1 sent, 0 rejected, nothing left/);
    expect(rollup.code).toBe(0);

    const stop = await runCli(['demo', '--stop', '--dir', dir]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/stopped 5 process\(es\)/);
    const until = Date.now() + 20_000;
    while (pids.some(alive) && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('refuses a bad --files and a folder that is not a demo folder with exit 2', async () => {
    const bad = await runCli(['demo', '--files', 'abc', '--dir', join(tmp.path, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--files abc is not a whole number/);
    const notDemo = await runCli(['demo', '--dir', join(tmp.path, 'plain', 'ROOT')]);
    expect(notDemo.code).toBe(2);
    expect(notDemo.stderr).toMatch(/exists and is not a demo folder/);
  });
});
