/**
 * Issue 16, as an operator runs it: `zenroll trust list` (file and directory
 * keys) and `trust remove`; `zenroll resend` after the parent refused zips
 * and the cause was fixed; `verify --trust DIR` without any config; a root's
 * `init` that asks for no parent. Real executables, a real `zenroll serve`
 * parent and a private slapd.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyIdOf, loadPublicKey } from '@zenroll/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlapd, type Slapd, initArgs } from '@zenroll/testkit';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, section } from './helpers/service.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let slapd: Slapd;
const services = new Services();

beforeAll(async () => {
  tmp = await tempDir('zenroll-trust-resend-');
  slapd = await startSlapd({ tree: 'ACME', servers: ['LEAF1', 'LEAF2', 'ROOT'] });
});

afterAll(async () => {
  await services.stopAll();
  await slapd?.destroy();
  await tmp?.remove();
});

const keyId = async (folder: ServerFolder) => keyIdOf(await loadPublicKey(folder.config.keys.public));

describe('zenroll trust list / remove', () => {
  it('lists each key with its server and where it comes from (file or directory), and removes a file key', async () => {
    const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', ldap: slapd }));
    const leaf1 = await initHere(
      join(tmp.path, 'LEAF1'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: 'http://127.0.0.1:1', dir: null } }),
    );
    // LEAF2 publishes its key in the directory (init --ldap-url does).
    const leaf2 = await initHere(
      join(tmp.path, 'LEAF2'),
      initArgs({ role: 'leaf', server: 'LEAF2', parent: { url: 'http://127.0.0.1:1', dir: null }, ldap: slapd }),
    );
    expect((await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', leaf1.config.keys.public])).code).toBe(0);

    const list = await runCli(['trust', 'list', '-c', root.configPath]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toContain(`LEAF1            key ${await keyId(leaf1)}  file ${join(root.config.receiver.trustDir, 'LEAF1.pub')}`);
    expect(lines).toContain(`LEAF2            key ${await keyId(leaf2)}  directory`);
    const json = JSON.parse((await runCli(['trust', 'list', '--json', '-c', root.configPath])).stdout) as {
      server: string;
      from: string;
    }[];
    expect(json.filter((e) => e.server === 'LEAF1').map((e) => e.from)).toEqual(['file']);
    expect(json.filter((e) => e.server === 'LEAF2').map((e) => e.from)).toEqual(['directory']);

    const removed = await runCli(['trust', 'remove', '-c', root.configPath, '--name', 'LEAF1']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe(`no longer trusted for LEAF1: removed ${join(root.config.receiver.trustDir, 'LEAF1.pub')}\n`);
    expect((await runCli(['trust', 'list', '-c', root.configPath])).stdout).not.toMatch(/^LEAF1 /m);

    const again = await runCli(['trust', 'remove', '-c', root.configPath, '--name', 'LEAF1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/USAGE: no key file in .* is bound to "LEAF1"; zenroll trust list shows what is trusted/);
    const onLeaf = await runCli(['trust', 'list', '-c', leaf1.configPath]);
    expect(onLeaf.code).toBe(2);
    expect(onLeaf.stderr).toMatch(/LEAF1 is a leaf, which receives nothing and trusts no key/);
  });
});

describe('zenroll resend', () => {
  it('puts zips the parent refused back in line, reasons cleared; the next roll-up sends them', async () => {
    const root = await initHere(join(tmp.path, 'ROOT-R'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', noTls: true }));
    await root.edit((json) => {
      section(json, 'receiver').minFreeBytes = 0;
    });
    const url = await services.start(root.configPath).url();
    const leaf = await initHere(join(tmp.path, 'LEAF1-R'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: url, dir: null } }));
    await leaf.edit((json) => {
      section(json, 'sender').stableMs = 0;
    });
    const entpushdir = leaf.config.dirs.entpushdir ?? '';
    const rejected = join(entpushdir, 'rejected');
    await writeScans(leaf.config.dirs.entmergedir ?? '', 3);
    const zipped = await runCli(['rollup', '--now', '-c', leaf.configPath]);
    expect(zipped.code).toBe(1);
    const [zip] = (await readdir(entpushdir)).filter((f) => f.endsWith('.zip'));
    expect(zip).toBeDefined();
    // As a zip refused before this release (a 401 moved it to rejected/), with its reason beside it.
    const { rename } = await import('node:fs/promises');
    await rename(join(entpushdir, zip!), join(rejected, zip!));
    await writeFile(
      join(rejected, `${zip}.json`),
      JSON.stringify({ zip, status: 401, answer: { error: 'PRP_SIGNER_UNKNOWN', message: 'not trusted' } }),
    );
    await writeFile(join(rejected, 'gone.zip.json'), '{}');

    expect((await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', leaf.config.keys.public])).code).toBe(0);
    const r = await runCli(['resend', '-c', leaf.configPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `back      ${zip}  (was: 401 PRP_SIGNER_UNKNOWN: not trusted)\n1 back in line for the next roll-up (zenroll rollup --now sends them now)\n`,
    );
    expect(await readdir(rejected)).toEqual([]);
    expect((await readdir(entpushdir)).filter((f) => f.endsWith('.zip'))).toEqual([zip]);

    const sent = await runCli(['rollup', '--now', '-c', leaf.configPath]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain(`sent      ${zip}  stored (201)`);
    expect((await runCli(['resend', '-c', leaf.configPath])).stdout).toBe('nothing in rejected/ to send again\n');
  });
});

describe('small ones', () => {
  it('verify --trust DIR needs no config file', async () => {
    const leaf = await initHere(
      join(tmp.path, 'LEAF1-V'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: 'http://127.0.0.1:1', dir: null } }),
    );
    await leaf.edit((json) => {
      section(json, 'sender').stableMs = 0;
    });
    await writeScans(leaf.config.dirs.entmergedir ?? '', 2);
    // No parent answers: the zip stays in entpushdir (--max-wait: no day of retries).
    await runCli(['rollup', '--now', '--max-wait', '1s', '-c', leaf.configPath]);
    const [zip] = (await readdir(leaf.config.dirs.entpushdir ?? '')).filter((f) => f.endsWith('.zip'));
    const trustDir = join(tmp.path, 'trust-v');
    const { mkdir, copyFile } = await import('node:fs/promises');
    await mkdir(trustDir);
    await copyFile(leaf.config.keys.public, join(trustDir, 'LEAF1.pub'));
    const empty = join(tmp.path, 'empty');
    await mkdir(empty);
    const v = await runCli(['verify', '--trust', trustDir, join(leaf.config.dirs.entpushdir ?? '', zip!)], { cwd: empty });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ok \d{17}_… from LEAF1/);
    const none = await runCli(['verify', join(leaf.config.dirs.entpushdir ?? '', zip!)], { cwd: empty });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/CONFIG_NOT_FOUND.*\nfix: .*--trust DIR/s);
  });

  it("a root's init asks for no parent; a leaf's names the command for it", async () => {
    const root = await runCli([
      'init',
      '--role',
      'root',
      '--server',
      'ROOT',
      '--tree',
      'ACME',
      '--dir',
      join(tmp.path, 'ROOT-I'),
      '--no-tls',
    ]);
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/^ {2}public key {3}\S+server\.pub$/m);
    expect(root.stdout).not.toContain('parent');
    const leaf = await runCli([
      'init',
      '--role',
      'leaf',
      '--server',
      'LEAF9',
      '--tree',
      'ACME',
      '--dir',
      join(tmp.path, 'LEAF9-I'),
      '--parent',
      'http://127.0.0.1:1',
    ]);
    expect(leaf.stdout).toMatch(/^ {2}public key {3}\S+server\.pub {3}\(give this to the parent: zenroll trust add --name LEAF9 on it\)$/m);
  });
});
