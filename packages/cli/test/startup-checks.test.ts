/**
 * Issue 16: `zenroll serve` runs the local half of `zenroll doctor` before it
 * takes work. What it cannot work without stops it at once with exit 2
 * (SETUP_INVALID) and the fix, and a `problem` record on the status log;
 * what may mend itself lets it start degraded, said in `zenroll status`,
 * `/v1/health` and the status log. The real executable, real processes.
 */
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { askService } from '../src/service/admin.js';
import { Degraded } from '../src/service/startup.js';
import { runCli } from './helpers/cli.js';
import type { ServerFolder } from './helpers/server-dir.js';
import { serversPerTest, initHere, section, terminate } from './helpers/service.js';
import { initArgs, TestReceiver } from '@zenroll/testkit';
import { makePki } from './helpers/fault-setup.js';

const { services, fresh } = serversPerTest('zenroll-startup-');

const RARELY = '0 0 1 1 *';

async function leaf(parent = 'http://127.0.0.1:1'): Promise<ServerFolder> {
  const folder = await initHere(fresh('LEAF1'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parent, dir: null } }));
  await folder.edit((json) => {
    section(json, 'sender').schedule = RARELY;
  });
  return folder;
}

async function root(): Promise<ServerFolder> {
  const folder = await initHere(fresh('ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0' }));
  await folder.edit((json) => {
    section(json, 'receiver').minFreeBytes = 0;
  });
  return folder;
}

/** `zenroll serve` that must refuse to start: exit 2, the failed check and its fix, and a status record. */
async function refused(folder: ServerFolder, check: string, detail: RegExp, logged = true): Promise<void> {
  const r = await runCli(['serve', '-c', folder.configPath], { killAfterMs: 30_000 });
  expect(r.code).toBe(2);
  const err = r.stderr.split('\n').filter((l) => !l.startsWith('{'));
  expect(err[0]).toMatch(/^zenroll: SETUP_INVALID: zenroll serve cannot start; this check fails:$/);
  expect(err[1]).toMatch(new RegExp(`^ {2}${check}: `));
  expect(err[1]).toMatch(detail);
  expect(err[2]).toBe('fix: fix each line above, then start it again (zenroll doctor runs the same checks and more)');
  if (!logged) return;
  // The status log's text is wrapped for a terminal: one line of words here.
  const log = (await runCli(['log', '--status', '-c', folder.configPath])).stdout.replace(/\s+/g, ' ');
  expect(log).toMatch(
    new RegExp(
      `problem LEAF1 ERROR zenroll \\S+ could not start: zenroll serve cannot start; this check fails: ${check}: `.replace(
        'LEAF1',
        folder.config.server,
      ),
    ),
  );
  expect(log).toContain('fix: fix each line above');
}

describe('zenroll serve refuses to start on each fatal check (exit 2, with the fix)', () => {
  it('entmergedir missing', async () => {
    const l = await leaf();
    await rm(l.config.dirs.entmergedir ?? '', { recursive: true });
    await refused(l, 'folder entmergedir', /does not exist: create it \(mkdir -p .*entmergedir\) or fix dirs in the config$/);
  });

  it("the server's private key unreadable", async () => {
    const l = await leaf();
    await rm(l.config.keys.private);
    await refused(l, 'keys', /server\.key/);
  });

  it('the directory password file unreadable', async () => {
    const l = await leaf();
    await l.edit((json) => {
      json.directory = {
        url: 'ldap://127.0.0.1:1',
        bindDN: 'cn=LEAF1_ZenInvService,o=ACME',
        passwordFile: 'secret/ldap.pw',
        serviceDN: 'cn={server}_ZenInvService,o=ACME',
      };
    });
    // Its status record waits in the journal for the directory, which is not there to show it.
    await refused(
      l,
      'files',
      /directory\.passwordFile \S+ldap\.pw does not exist: fix directory\.passwordFile in the config or put the file there/,
      false,
    );
  });

  it("the Receiver's TLS certificate unreadable", async () => {
    const r = await root();
    await rm(join(r.dir, 'tls/server.crt'));
    await refused(r, 'receiver TLS', /server\.crt/);
  });

  it('sender.tls.ca named but not readable', async () => {
    const l = await leaf();
    const ca = join(l.dir, 'parent-ca.crt');
    await writeFile(ca, 'x');
    await chmod(ca, 0o000);
    await l.edit((json) => {
      section(json, 'sender').tls = { ca: 'parent-ca.crt' };
    });
    // root reads anything: the test is only meaningful as another user; the missing file is the same check.
    if (process.getuid?.() === 0) await rm(ca);
    await refused(l, 'files', /sender\.tls\.ca \S+parent-ca\.crt (does not exist|cannot be read by this user)/);
  });
});

describe('zenroll serve starts degraded on each warning', () => {
  it('a parent that does not answer: status, /v1/health and the status log say so', async () => {
    const l = await leaf('http://127.0.0.1:1');
    const svc = services.start(l.configPath);
    await svc.waitFor((x) => x.msg === 'serving');
    const warn = await svc.waitFor((x) => x.msg === 'started degraded');
    expect(warn).toMatchObject({ check: 'parent' });

    const status = await runCli(['status', '-c', l.configPath]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^ {2}DEGRADED {6}parent: http:\/\/127\.0\.0\.1:1 does not answer: .*ECONNREFUSED/m);
    const json = JSON.parse((await runCli(['status', '--json', '-c', l.configPath])).stdout) as { service: { degraded: string[] } };
    expect(json.service.degraded).toEqual([expect.stringMatching(/^parent: /)]);

    const health = await askService<{ status: string; checks: { name: string; state: string; reason?: string }[] }>(
      l.config.dirs.statedir,
      'GET',
      '/v1/health',
    );
    expect(health?.status).toBe('degraded');
    expect(health?.checks.find((c) => c.name === 'start-up')).toMatchObject({
      state: 'degraded',
      reason: expect.stringMatching(/^parent: /),
    });

    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
    const log = (await runCli(['log', '--status', '-c', l.configPath])).stdout.replace(/\s+/g, ' ');
    expect(log).toMatch(/problem LEAF1 WARNING check=parent started degraded: parent: http:\/\/127\.0\.0\.1:1 does not answer/);
  });

  it("a parent whose certificate sender.tls.ca did not sign: status and the status log say it in a roll-up's words, with the fix", async () => {
    const pki = await makePki(fresh('pki'));
    const parent = await TestReceiver.start({ dir: fresh('INT1'), server: 'INT1', tls: pki.server });
    try {
      const l = await leaf(parent.url);
      await l.edit((json) => {
        section(json, 'sender').tls = { ca: pki.otherCa };
      });
      const svc = services.start(l.configPath);
      await svc.waitFor((x) => x.msg === 'serving');
      const warn = await svc.waitFor((x) => x.msg === 'started degraded');
      // The Sender's own problem text and fix (SPEC §1), OpenSSL's code alone.
      const said = `parent "${parent.url}": certificate not trusted: sender.tls.ca (${pki.otherCa}) did not sign it (UNABLE_TO_VERIFY_LEAF_SIGNATURE); copy the parent's CA certificate (for a self-signed parent, its tls/server.crt) here and set sender.tls.ca to it; a new server: zenroll init … --parent-ca FILE`;
      expect(warn).toMatchObject({ check: 'parent', detail: said });

      const status = await runCli(['status', '--json', '-c', l.configPath]);
      expect((JSON.parse(status.stdout) as { service: { degraded: string[] } }).service.degraded).toEqual([`parent: ${said}`]);

      expect(await terminate(svc)).toEqual({ code: 0, signal: null });
      const log = (await runCli(['log', '--status', '--json', '-c', l.configPath])).stdout;
      const messages = log
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { msg?: string }).msg);
      expect(messages).toContain(`started degraded: parent: ${said}`);
    } finally {
      await parent.close();
    }
  });

  it('a directory that does not answer', async () => {
    const l = await leaf();
    await writeFile(join(l.dir, 'ldap.pw'), 'secret\n');
    await l.edit((json) => {
      json.directory = {
        url: 'ldap://127.0.0.1:1',
        bindDN: 'cn=LEAF1_ZenInvService,o=ACME',
        passwordFile: 'ldap.pw',
        serviceDN: 'cn={server}_ZenInvService,o=ACME',
        timeoutMs: 2000,
      };
    });
    const svc = services.start(l.configPath);
    await svc.waitFor((x) => x.msg === 'serving');
    const checks = new Set<unknown>();
    for (const line of svc.lines.filter((x) => x.msg === 'started degraded')) checks.add(line.check);
    expect(checks.has('directory')).toBe(true);
    const status = await runCli(['status', '-c', l.configPath]);
    expect(status.stdout).toMatch(/^ {2}DEGRADED {6}directory: /m);
  });
});

describe('Degraded', () => {
  it('checks a warning again until it mends, then says so once and stops', async () => {
    let answers = false;
    const mended: string[] = [];
    const d = new Degraded(
      [{ name: 'parent', ok: false, detail: 'does not answer' }],
      [
        {
          name: 'parent',
          startup: 'warn',
          run: async () => (answers ? { ok: true, detail: 'answers' } : { ok: false, detail: 'still not' }),
        },
      ],
    );
    expect(d.list()).toEqual(['parent: does not answer']);
    d.start(10, (name) => mended.push(name));
    await new Promise((r) => setTimeout(r, 50));
    expect(d.list()).toEqual(['parent: still not']);
    answers = true;
    for (let i = 0; i < 100 && mended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(mended).toEqual(['parent']);
    expect(d.list()).toEqual([]);
    d.stop();
  });
});
