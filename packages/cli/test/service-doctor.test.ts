/**
 * `zenroll doctor` (SPEC §5, issue 6) as the real executable against a real
 * parent and a private slapd: on a good config every check is ok (exit 0);
 * on a broken one — a missing folder, a parent that does not answer, a wrong
 * LDAP password — it names each problem on one FAIL line of its own (exit 1).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, keyIdOf, publicKeyPem } from '@zenroll/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startSlapd, type Slapd, initArgs } from '@zenroll/testkit';
import { runCli } from './helpers/cli.js';
import { doctor } from './helpers/doctor.js';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { initHere, section } from './helpers/service.js';
import { TestReceiver } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let slapd: Slapd;
let parent: TestReceiver;

beforeAll(async () => {
  tmp = await tempDir('zenroll-doctor-');
  slapd = await startSlapd({ tree: 'ACME', servers: ['LEAF1', 'ROOT'] });
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
});

afterAll(async () => {
  await parent?.close();
  await slapd?.destroy();
  await tmp?.remove();
});

describe('zenroll doctor', () => {
  let leaf: ServerFolder;

  beforeAll(async () => {
    leaf = await initHere(
      join(tmp.path, 'LEAF1'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parent.url, dir: null }, ldap: slapd }),
    );
  });

  it('passes every check of a good leaf (exit 0)', async () => {
    const r = await doctor(leaf);
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => !/^ok {2}|^warn/.test(l))).toEqual([]);
    expect(r.checks.map((c) => c.name)).toEqual([
      'folder entmergedir',
      'folder entpushdir',
      'folder zipdir',
      'folder statedir',
      'files',
      'free space',
      'keys',
      'clock',
      'schedule',
      'parent',
      'directory',
    ]);
    expect(r.lines).toContain('ok    files: directory.passwordFile readable');
    expect(r.lines).toContain('ok    schedule: "0 2 * * *" in UTC');
    expect(r.lines.find((l) => l.includes('parent:'))).toMatch(new RegExp(`^ok {4}parent: ${parent.url} answers as INT1$`));
    expect(r.lines.find((l) => l.includes('directory:'))).toBe(
      `ok    directory: bound as ${slapd.serverDN('LEAF1')}; object of LEAF1 found, public key published`,
    );
  });

  it('names a missing folder, an unreachable parent and a wrong LDAP password, one FAIL line each (exit 1)', async () => {
    const closedPort = await freePort();
    const wrongPassword = join(tmp.path, 'wrong.pw');
    await writeFile(wrongPassword, 'not-the-password');
    await rm(leaf.config.dirs.entmergedir as string, { recursive: true });
    await leaf.edit((json) => {
      section(json, 'sender').parent = `http://127.0.0.1:${closedPort}`;
      section(json, 'directory').passwordFile = wrongPassword;
    });

    const r = await doctor(leaf);
    expect(r.code).toBe(1);
    const fails = r.lines.filter((l) => l.startsWith('FAIL'));
    expect(fails).toHaveLength(3);
    expect(fails[0]).toBe(
      `FAIL  folder entmergedir: ${leaf.config.dirs.entmergedir} does not exist: create it (mkdir -p ${leaf.config.dirs.entmergedir}) or fix dirs in the config`,
    );
    expect(fails[1]).toMatch(
      new RegExp(`^FAIL {2}parent: http://127\\.0\\.0\\.1:${closedPort} does not answer: .*ECONNREFUSED.*; check the URL, the firewall`),
    );
    expect(fails[2]).toMatch(
      /^FAIL {2}directory: .* as "cn=LEAF1_ZenInvService,o=ACME": invalid credentials: check directory\.bindDN and directory\.passwordFile \(LDAP result 49\); if they are right, LEAF1's Inventory Service object \(the bind DN\) may not exist/,
    );
    // The rest still ran, and passed.
    expect(r.checks.filter((c) => c.ok).map((c) => c.name)).toEqual([
      'folder entpushdir',
      'folder zipdir',
      'folder statedir',
      'files',
      'free space',
      'keys',
      'clock',
      'schedule',
    ]);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['folder entmergedir', 'parent', 'directory']);
  });

  it('checks a root’s receiver side: trust (its own and the keys published in the directory) and TLS', async () => {
    const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', ldap: slapd }));
    const r = await doctor(root);
    expect(r.code).toBe(0);
    expect(r.lines.find((l) => l.includes('trust store:'))).toMatch(
      /^ok {4}trust store: no key in .*trust.*; 2 key\(s\) published in the directory \(LEAF1, ROOT\)$/,
    );
    expect(r.lines.find((l) => l.includes('receiver TLS:'))).toBe(`ok    receiver TLS: ${join(root.dir, 'tls', 'server.crt')}`);
    expect(r.checks.map((c) => c.name)).not.toContain('parent');

    // Without a directory nothing else vouches for a child: an empty trust store is a failure.
    await root.edit((json) => {
      delete json.directory;
    });
    const alone = await doctor(root);
    expect(alone.code).toBe(1);
    expect(alone.lines.filter((l) => l.startsWith('FAIL'))).toEqual([
      `FAIL  trust store: ${root.config.receiver.trustDir} holds no *.pub: no child can send yet; run zenroll trust add --name CHILD CHILD.pub`,
    ]);
  });

  it('warns about each trusted key bound to no server, and says how to bind it', async () => {
    const root = await initHere(
      join(tmp.path, 'ROOT-UNBOUND'),
      initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', noTls: true }),
    );
    const trustDir = root.config.receiver.trustDir;
    const [bound, byId, byHand] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    await writeFile(join(trustDir, 'LE%5F1.pub'), publicKeyPem(bound.publicKey));
    const first = await doctor(root);
    expect(first.lines.find((l) => l.includes('trust bindings:'))).toBe(
      'ok    trust bindings: each key signs for its own server only: LE_1',
    );

    // Files of an older install: named by key id, or by hand with a character no encoded name has.
    await writeFile(join(trustDir, `${keyIdOf(byId.publicKey)}.pub`), publicKeyPem(byId.publicKey));
    await writeFile(join(trustDir, 'leaf_2.pub'), publicKeyPem(byHand.publicKey));
    const r = await doctor(root);
    expect(r.code).toBe(0);
    const files = [`${keyIdOf(byId.publicKey)}.pub`, 'leaf_2.pub']
      .sort()
      .map((f) => `${join(trustDir, f)} (key ${f === 'leaf_2.pub' ? keyIdOf(byHand.publicKey) : keyIdOf(byId.publicKey)})`);
    expect(r.lines.find((l) => l.includes('trust bindings:'))).toBe(
      `warn  trust bindings: 2 key(s) bound to no server, so each may sign batches of any origin: ${files.join(', ')}; re-add each with zenroll trust add --name SERVER FILE (it replaces the unbound file)`,
    );

    // Following the advice binds it and removes the unbound file.
    const fix = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'leaf_2', join(trustDir, 'leaf_2.pub')]);
    expect(fix.code).toBe(0);
    expect(fix.stdout).toBe(
      `trusted key ${keyIdOf(byHand.publicKey)} for leaf_2: ${join(trustDir, 'leaf%5F2.pub')} (replaces unbound ${join(trustDir, 'leaf_2.pub')})\n`,
    );
    expect((await doctor(root)).lines.find((l) => l.includes('trust bindings:'))).toMatch(
      /^warn {2}trust bindings: 1 key\(s\) bound to no server/,
    );
  });

  it('exits 2 on a bad config, naming the key', async () => {
    const folder = await initHere(join(tmp.path, 'BAD'), initArgs({ role: 'leaf', server: 'BAD', parent: { url: parent.url, dir: null } }));
    const json = JSON.parse(await readFile(folder.configPath, 'utf8')) as Record<string, unknown>;
    section(json, 'sender').schedule = 'every night';
    await writeFile(folder.configPath, JSON.stringify(json));
    const r = await runCli(['doctor', '-c', folder.configPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CONFIG_INVALID.*sender\.schedule/s);
  });
});
