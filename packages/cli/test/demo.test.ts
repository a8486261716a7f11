/**
 * `zenroll demo` as `npm start` runs it (SPEC §5): four real `zenroll serve`
 * processes and a private slapd, scans rolled up to ROOT; with `--keep` the
 * demo itself exits and leaves the tree up, and `demo --stop` stops it all.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { alive } from './helpers/process.js';
import { tempDir } from './helpers/server-dir.js';
import { writeScans } from '@zenroll/testkit';
import { ldapUtil } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('zenroll-demo-');
});
afterAll(async () => {
  // Whatever a failed test left running.
  await runCli(['demo', '--stop', '--dir', join(tmp.path, 'kept')]);
  await tmp.remove();
});

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

  it('with --providers 2, logs to two slapd providers in replication: every server lists both, and both hold the records', async () => {
    const dir = join(tmp.path, 'providers');
    const r = await runCli(['demo', '--files', '4', '--providers', '2', '--dir', dir, '--keep'], { killAfterMs: 100_000 });
    try {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/ROOT's dbdir: \d+ zips holding 8 \.str \(8 distinct\) of the 8 generated/);
      const urls = /starting 2 private slapd providers in multi-provider replication… (\S+) (\S+)/.exec(r.stdout);
      expect(urls).not.toBeNull();
      const config = JSON.parse(await readFile(join(dir, 'LEAF1', 'zenroll.json'), 'utf8')) as { directory: { url: unknown } };
      expect(config.directory.url).toEqual([urls?.[1], urls?.[2]]);
      // Each provider holds LEAF1's records (replicated), the operator reading them.
      const search = async (url: string) => {
        const { execFile } = await import('node:child_process');
        const out = await new Promise<string>((resolve, reject) =>
          execFile(
            'ldapsearch',
            [
              '-x',
              '-H',
              url,
              '-D',
              'cn=operator,o=ACME',
              '-y',
              join(dir, 'slapd', 'p1', 'passwords', 'operator.pw'),
              '-b',
              'cn=LEAF1_ZenInvService,o=ACME',
              '-s',
              'base',
              'zeninvRollUpLog',
              '-LLL',
              '-o',
              'ldif-wrap=no',
            ],
            (err, stdout) => (err ? reject(err) : resolve(stdout)),
          ),
        );
        return out.split('\n').filter((l) => l.startsWith('zeninvRollUpLog')).length;
      };
      let a = 0;
      let b = 0;
      for (let i = 0; i < 100 && (a === 0 || a !== b); i++) {
        [a, b] = [await search(urls?.[1] as string), await search(urls?.[2] as string)];
        if (a === 0 || a !== b) await new Promise((res) => setTimeout(res, 100));
      }
      expect(a).toBeGreaterThan(0);
      expect(b).toBe(a);
    } finally {
      await runCli(['demo', '--stop', '--dir', dir]);
    }
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

    // Every log value in the demo's directory is one line: time, event, hop first (SPEC §7), as the
    // operator the demo names reads them with the ldapsearch line it prints; zenroll log --json parses them all.
    expect(r.stdout).toContain('-o ldif-wrap=no');
    const state = JSON.parse(await readFile(join(dir, 'slapd', 'slapd.json'), 'utf8')) as {
      url: string;
      suffix: string;
      operatorDN: string;
      operatorPassword: string;
      operatorPasswordFile: string;
    };
    expect(r.stdout).toContain(`login DN ${state.operatorDN}  password ${state.operatorPassword}`);
    const ldif = await ldapUtil('ldapsearch', [
      '-x',
      '-H',
      state.url,
      '-D',
      state.operatorDN,
      '-y',
      state.operatorPasswordFile,
      '-b',
      state.suffix,
      '-LLL',
      '-o',
      'ldif-wrap=no',
      '(objectClass=zeninvRollUpTarget)',
      'zeninvRollUpLog',
      'zenrollStatusLog',
    ]);
    const values = ldif.split('\n').flatMap((line) => {
      const m = /^(zeninvRollUpLog|zenrollStatusLog)(::?) (.*)$/.exec(line);
      return m === null ? [] : [{ attr: m[1], value: m[2] === '::' ? Buffer.from(m[3] ?? '', 'base64').toString('utf8') : (m[3] ?? '') }];
    });
    expect(values.filter((v) => v.attr === 'zenrollStatusLog').length).toBeGreaterThanOrEqual(4); // each service's `started`
    for (const { value } of values)
      expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z-]+ (?:-|[A-Za-z0-9.%-]+)(?:>[A-Za-z0-9.%-]+)? /);
    let parsed = 0;
    for (const name of ['LEAF1', 'LEAF2', 'INT1', 'ROOT']) {
      for (const flags of [[], ['--status']]) {
        const shown = await runCli(['log', '--json', '--limit', '1000', ...flags, '-c', join(dir, name, 'zenroll.json')]);
        expect(shown.code).toBe(0);
        parsed += shown.stdout
          .trimEnd()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as unknown).length;
      }
    }
    // At least every value ldapsearch showed (records still on their way from a journal show in zenroll log too).
    expect(parsed).toBeGreaterThanOrEqual(values.length);
    // ROOT received from INT1 what the leaves made.
    const atRoot = (await runCli(['log', '--json', '-c', join(dir, 'ROOT', 'zenroll.json')])).stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const received = atRoot.filter((x) => x.event === 'received');
    expect(received.length).toBeGreaterThan(0);
    for (const x of received) expect(`${String(x.from)}>${String(x.to)} origin=${String(x.origin)}`).toMatch(/^INT1>ROOT origin=LEAF[12]$/);

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
