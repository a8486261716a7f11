/**
 * Issue 16: a clock that heals. A leaf whose clock was 400 days ahead for
 * one roll-up (libfaketime, preloaded into the real executable) names a zip
 * by that time; the parent (a real `zenroll serve`) refuses it, naming the
 * leaf's clock; `doctor` and `status` flag the saved clock ahead of now; and
 * once the clock is right again the next zips carry the right time, still
 * never a name twice.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, section } from './helpers/service.js';
import { initArgs } from '@zenroll/testkit';

/** Debian's libfaketime (package faketime, which scripts/system-deps.sh installs). */
const faketimeLib = ['x86_64-linux-gnu', 'aarch64-linux-gnu', '.']
  .map((d) => join('/usr/lib', d, 'faketime/libfaketime.so.1'))
  .find((p) => existsSync(p));

let tmp: Awaited<ReturnType<typeof tempDir>>;
const services = new Services();

beforeAll(async () => {
  tmp = await tempDir('zenroll-clock-');
});

afterAll(async () => {
  await services.stopAll();
  await tmp.remove();
});

const year = (zip: string) => Number(zip.slice(0, 4));

describe('a clock set 400 days ahead for one roll-up, then set right', () => {
  it('the parent refuses the zip named ahead, doctor and status flag it, and the next zips carry the right time', async () => {
    expect(faketimeLib, 'libfaketime (Debian package faketime, scripts/system-deps.sh)').toBeDefined();
    const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', noTls: true }));
    await root.edit((json) => {
      section(json, 'receiver').minFreeBytes = 0;
    });
    const url = await services.start(root.configPath).url();
    const leaf: ServerFolder = await initHere(
      join(tmp.path, 'LEAF1'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: url, dir: null } }),
    );
    await leaf.edit((json) => {
      section(json, 'sender').stableMs = 0;
    });
    expect((await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', leaf.config.keys.public])).code).toBe(0);
    const entmergedir = leaf.config.dirs.entmergedir ?? '';
    const entpushdir = leaf.config.dirs.entpushdir ?? '';
    const thisYear = new Date().getUTCFullYear();

    await writeScans(entmergedir, 3);
    const ahead = await runCli(['rollup', '--now', '-c', leaf.configPath], { env: { LD_PRELOAD: faketimeLib, FAKETIME: '+400d' } });
    expect(ahead.code).toBe(1);
    expect(ahead.stdout).toMatch(
      /^rejected {2}\S+_LEAF1_ACME_0\.zip {2}422 ZIP_TIME_AHEAD: zip \S+ is scheduled at \S+, 400 days ahead of this Receiver's clock \(receiver\.maxClockSkewMs 1 h\): the clock of LEAF1, which named it, is wrong/m,
    );
    expect(ahead.stdout).toMatch(/^fix {7}set the clock of LEAF1 right \(NTP\); its next zips carry the right time/m);
    const refused = (await readdir(join(entpushdir, 'rejected'))).filter((f) => f.endsWith('.zip'));
    expect(refused).toHaveLength(1);
    expect(year(refused[0]!)).toBeGreaterThan(thisYear);

    const doctor = await runCli(['doctor', '-c', leaf.configPath]);
    expect(doctor.stdout).toMatch(
      /^warn {2}clock: the saved clock \(sender-clock\.json\) is at \S+, 400 days ahead of now: .*set it right \(NTP\)/m,
    );
    const status = await runCli(['status', '-c', leaf.configPath]);
    expect(status.stdout).toMatch(/^ {2}CLOCK AHEAD {3}the saved clock \(sender-clock\.json\) is at .*400 days ahead of now/m);

    // The clock is right again: the next zip is named by it, and the parent takes it.
    await writeScans(entmergedir, 3, { startIndex: 3 });
    const right = await runCli(['rollup', '--now', '-c', leaf.configPath]);
    expect(right.code).toBe(0);
    const sent = right.stdout
      .split('\n')
      .filter((l) => l.startsWith('sent'))
      .map((l) => l.split(/\s+/)[1] ?? '');
    expect(sent).toHaveLength(1);
    expect(year(sent[0]!)).toBe(thisYear);
    expect(sent[0]).not.toBe(refused[0]);
    expect((await runCli(['doctor', '-c', leaf.configPath])).stdout).toMatch(/^ok {4}clock: now \S+; the saved clock is not ahead$/m);
    expect((await runCli(['status', '-c', leaf.configPath])).stdout).not.toContain('CLOCK AHEAD');
  }, 120_000);
});
