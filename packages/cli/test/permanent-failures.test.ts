/**
 * Issue 16 / SPEC §1: a failure that waiting cannot mend stops `zenroll
 * rollup --now` at once (exit 1, no retry wait, every zip left in entpushdir)
 * with what happened and the fix; a passing one keeps the retry schedule.
 * Real `zenroll serve` parents (made with `zenroll init`, HTTPS with their
 * self-signed certificate, or plain HTTP), real leaves, the real executable.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI_BIN, runCli, spawnCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import type { ServerFolder } from './helpers/server-dir.js';
import { serversPerTest, initHere, section } from './helpers/service.js';
import { initArgs } from '@zenroll/testkit';

const { services, fresh } = serversPerTest('zenroll-permanent-');

async function parent(tls: boolean): Promise<{ folder: ServerFolder; url: string }> {
  const folder = await initHere(fresh('ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', noTls: !tls }));
  await folder.edit((json) => {
    section(json, 'receiver').minFreeBytes = 0;
  });
  const url = await services.start(folder.configPath).url();
  return { folder, url };
}

async function leaf(parentUrl: string, extra: string[] = []): Promise<ServerFolder> {
  const folder = await initHere(fresh('LEAF1'), [
    ...initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parentUrl, dir: null } }),
    ...extra,
  ]);
  // The default schedule (10 s, 20 s, … 14 tries): a test that waited on it would be killed, not pass.
  await folder.edit((json) => {
    section(json, 'sender').stableMs = 0;
  });
  await writeScans(folder.config.dirs.entmergedir ?? '', 3);
  return folder;
}

const zipsIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.zip'));
// A roll-up that retried would wait 10 s first: 8 s is ample for one that stops at once, and it is a hang guard, not a timing assertion.
const rollup = (folder: ServerFolder, extra: string[] = []) =>
  runCli(['rollup', '--now', '-c', folder.configPath, ...extra], { killAfterMs: 8_000 });

/** What every permanent stop shares: exit 1 at once, no retry, the zip still queued, the fix last. */
async function expectStoppedAtOnce(folder: ServerFolder, r: Awaited<ReturnType<typeof rollup>>, code: string): Promise<string> {
  expect(r.signal).toBeNull();
  expect(r.code).toBe(1);
  const out = r.stdout + r.stderr;
  expect(out).not.toMatch(/^retry/m);
  expect(out).not.toContain('did not answer');
  expect(r.stdout).toMatch(new RegExp(`^problem   ${code}: `, 'm'));
  expect(r.stdout).toMatch(/^fix {7}\S/m);
  expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
    '1 zipped, 0 discarded, 0 sent, 0 rejected, 1 left (stopped: waiting cannot mend the problem above)',
  );
  expect(await zipsIn(folder.config.dirs.entpushdir ?? '')).toHaveLength(1);
  return out;
}

describe('a failure that waiting cannot mend stops at once, naming the fix (SPEC §1)', () => {
  it("the parent's certificate not trusted (sender.tls.ca missing): names sender.tls.ca and init --parent-ca, in the same words in doctor; fixed, the next roll-up sends", async () => {
    const p = await parent(true);
    const l = await leaf(p.url);
    const r = await rollup(l);
    await expectStoppedAtOnce(l, r, 'RECEIVER_TLS_UNTRUSTED');
    const what = 'certificate not trusted: sender.tls.ca is not set and no system CA signed it';
    const fix =
      "copy the parent's CA certificate (for a self-signed parent, its tls/server.crt) here and set sender.tls.ca to it; a new server: zenroll init … --parent-ca FILE";
    expect(r.stdout).toContain(`problem   RECEIVER_TLS_UNTRUSTED: parent "${p.url}": ${what} (DEPTH_ZERO_SELF_SIGNED_CERT)\n`);
    expect(r.stdout.split('\n')).toContain(`fix       ${fix}`);

    // One cause, one wording: the leaf's doctor says it as the roll-up did.
    const doctor = await runCli(['doctor', '-c', l.configPath]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout.split('\n')).toContain(`FAIL  parent: parent "${p.url}": ${what} (DEPTH_ZERO_SELF_SIGNED_CERT); ${fix}`);

    // The fix as named: the parent's certificate, sender.tls.ca. The key trusted too, so that the zip goes up.
    await l.edit((json) => {
      section(json, 'sender').tls = { ca: join(p.folder.dir, 'tls/server.crt') };
    });
    const trust = await runCli(['trust', 'add', '-c', p.folder.configPath, '--name', 'LEAF1', l.config.keys.public]);
    expect(trust.code).toBe(0);
    const again = await rollup(l);
    expect(again.code).toBe(0);
    expect(await zipsIn(l.config.dirs.entpushdir ?? '')).toEqual([]);
  });

  it('http:// written for an https port: names https://', async () => {
    const p = await parent(true);
    const l = await leaf(p.url.replace(/^https:/, 'http:'));
    const r = await rollup(l);
    const out = await expectStoppedAtOnce(l, r, 'RECEIVER_PROTOCOL_MISMATCH');
    expect(out).toContain('speaks HTTPS there, and sender.parent says http://');
    expect(r.stdout).toContain(`fix       write sender.parent as "${p.url}"`);
  });

  it('https:// written for a plain-HTTP port: names http://', async () => {
    const p = await parent(false);
    const l = await leaf(p.url.replace(/^http:/, 'https:'));
    const r = await rollup(l);
    const out = await expectStoppedAtOnce(l, r, 'RECEIVER_PROTOCOL_MISMATCH');
    expect(out).toContain('answers plain HTTP, not HTTPS');
    expect(r.stdout).toContain(`fix       write sender.parent as "${p.url}"`);
  });

  it("the leaf's key not trusted at the parent (401): names zenroll trust add --name LEAF1 on the parent; the zip stays queued, not rejected", async () => {
    const p = await parent(false);
    const l = await leaf(p.url);
    const r = await rollup(l);
    const out = await expectStoppedAtOnce(l, r, 'PRP_SIGNER_UNKNOWN');
    expect(out).toContain('the parent answered 401 PRP_SIGNER_UNKNOWN');
    expect(r.stdout).toMatch(/^fix {7}on ROOT: zenroll trust add --name LEAF1 FILE, with FILE a copy of LEAF1's keys\/server\.pub$/m);
    expect(await zipsIn(join(l.config.dirs.entpushdir ?? '', 'rejected')).catch(() => [])).toEqual([]);

    // The leaf's doctor asks the parent, and says so before any roll-up meets the 401.
    const doctor = await runCli(['doctor', '-c', l.configPath]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(
      `FAIL  parent: ${p.url} answers as ROOT, but your key is not trusted at the parent: it would refuse every zip (401); on ROOT: zenroll trust add --name LEAF1 FILE, with FILE a copy of ${l.config.keys.public}`,
    );

    const trust = await runCli(['trust', 'add', '-c', p.folder.configPath, '--name', 'LEAF1', l.config.keys.public]);
    expect(trust.code).toBe(0);
    expect((await runCli(['doctor', '-c', l.configPath])).stdout).toMatch(
      new RegExp(`^ok {4}parent: ${p.url.replace(/[.]/g, '\\.')} answers as ROOT$`, 'm'),
    );
    const again = await rollup(l);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^sent /m);
  });

  it('a parent that refuses the connection is a passing failure: retried on the SPEC §1 schedule (scaled), saying "refused"', async () => {
    const p = await parent(false);
    const l = await leaf(p.url.replace(/:(\d+)$/, ':1'));
    await l.edit((json) => {
      section(json, 'sender').retry = { baseMs: 20, factor: 2, tries: 3 };
    });
    const r = await rollup(l);
    expect(r.code).toBe(1);
    const retries = r.stderr.split('\n').filter((x) => x.startsWith('retry'));
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/: refused: nothing listens at 127\.0\.0\.1:1 \(ECONNREFUSED: .*\); try 2 of 3 in 0 s$/);
    expect(retries[1]).toMatch(/; try 3 of 3 in 0 s$/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      '1 zipped, 0 discarded, 0 sent, 0 rejected, 1 left (stopped: the parent did not answer)',
    );
  });

  it('--max-wait bounds the retrying: exit 1 once the next try would start past it, the zip left for the next roll-up', async () => {
    const p = await parent(false);
    const l = await leaf(p.url.replace(/:(\d+)$/, ':1'));
    const r = await rollup(l, ['--max-wait', '2s']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^retry {5}\S+\.zip: parent "http:\/\/127\.0\.0\.1:1": refused: nothing listens at 127\.0\.0\.1:1 .*; try 2 of 14 in 10 s$/m,
    );
    expect(r.stderr).toContain('zenroll: the next try would start past --max-wait (2 s): stopping; the rest waits for the next roll-up');
    expect(r.stdout).toMatch(/^left {6}\S+\.zip {2}the roll-up was stopped while it waited to retry$/m);
    expect(await zipsIn(l.config.dirs.entpushdir ?? '')).toHaveLength(1);
  });

  it('Ctrl-C during the retry wait leaves everything for the next roll-up (exit 1)', async () => {
    const p = await parent(false);
    const l = await leaf(p.url.replace(/:(\d+)$/, ':1'));
    const run = spawnCli(['rollup', '--now', '-c', l.configPath], { killAfterMs: 20_000 });
    let stderr = '';
    await new Promise<void>((resolve) =>
      run.child.stderr?.on('data', (s: Buffer | string) => {
        stderr += String(s);
        if (/^retry /m.test(stderr)) resolve();
      }),
    );
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('zenroll: stopping at the next step; everything not done waits for the next roll-up');
    expect(r.stdout).toMatch(/1 left/);
    expect(await zipsIn(l.config.dirs.entpushdir ?? '')).toHaveLength(1);
  });

  it('on a terminal, a progress bar under the lines counts down the retry wait; off one, plain lines only', async () => {
    const p = await parent(false);
    const l = await leaf(p.url.replace(/:(\d+)$/, ':1'));
    await l.edit((json) => {
      section(json, 'sender').retry = { baseMs: 1500, factor: 1, tries: 2 };
    });
    // script(1) gives the real executable a pseudo-terminal, as an operator's shell does.
    const cmd = [process.execPath, CLI_BIN, 'rollup', '--now', '-c', l.configPath].map((a) => `'${a}'`).join(' ');
    const tty = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    expect(tty.status).toBe(1);
    expect(tty.stdout).toMatch(/[█░]{24} 50% \| zipped 1\/1, sent 0\/1 · try 2 of 2 in \d s/);
    expect(tty.stdout).toMatch(/zipped {4}\S+\.zip {2}3 \.str/);
    expect(tty.stdout).toContain('1 zipped, 0 discarded, 0 sent, 0 rejected, 1 left');
    // The same roll-up into a pipe: no bar, no terminal codes.
    await writeScans(l.config.dirs.entmergedir ?? '', 3, { startIndex: 3 });
    const piped = await rollup(l);
    expect(piped.stdout + piped.stderr).not.toMatch(/[█░\x1b]/);
  });

  it('a roll-up the running service performs shows each try and wait as it happens too', async () => {
    const p = await parent(false);
    const l = await leaf(p.url.replace(/:(\d+)$/, ':1'));
    await l.edit((json) => {
      section(json, 'sender').retry = { baseMs: 3000, factor: 1, tries: 2 };
      section(json, 'sender').schedule = '0 0 1 1 *';
    });
    const svc = services.start(l.configPath);
    await svc.waitFor((x) => x.msg === 'serving');
    const run = spawnCli(['rollup', '--now', '-c', l.configPath], { killAfterMs: 30_000 });
    let stderr = '';
    let exitedFirst = false;
    run.child.once('exit', () => {
      exitedFirst = true;
    });
    await new Promise<void>((resolve) =>
      run.child.stderr?.on('data', (t: Buffer | string) => {
        stderr += String(t);
        if (/^retry /m.test(stderr)) resolve();
      }),
    );
    // The try and its wait are shown while the service still waits out the 3 s.
    expect(exitedFirst).toBe(false);
    expect(stderr).toMatch(/^retry {5}\S+\.zip: parent "http:\/\/127\.0\.0\.1:1": refused: .*; try 2 of 2 in 3 s$/m);
    const r = await run.result;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^zipped {4}\S+\.zip/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      '1 zipped, 0 discarded, 0 sent, 0 rejected, 1 left (stopped: the parent did not answer)',
    );
  });
});
