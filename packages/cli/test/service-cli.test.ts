/**
 * The commands around the service (SPEC §5, issue 6), as an operator runs
 * them: `zenroll status` with and without a running service, `zenroll trust
 * add`, `/metrics` on `admin.listen`, `--help` with an example for every
 * command, and the exit codes 0 / 1 / 2.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrustStore, generateKeyPair, keyIdOf, publicKeyPem, saveKeyPair } from '@zenroll/core';
import { execFile } from 'node:child_process';
import { SERVE_NODE_FLAGS, VERSION, captureIo, run } from '../src/index.js';
import { makeZip, put } from './serve-helpers.js';
import { CLI_BIN, runCli } from './helpers/cli.js';
import { scrape } from './helpers/metrics.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, section, terminate, waitUntil } from './helpers/service.js';
import { TestReceiver, initArgs } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
const services = new Services();

beforeEach(async () => {
  tmp = await tempDir('zenroll-cli-svc-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
});

afterEach(async () => {
  await services.stopAll();
  await parent.close();
  await tmp.remove();
});

const RARELY = '0 0 1 1 *';

async function newLeaf(edit: (json: Record<string, unknown>) => void = () => {}): Promise<ServerFolder> {
  const leaf = await initHere(join(tmp.path, 'LEAF1'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parent.url, dir: null } }));
  await leaf.edit((json) => {
    Object.assign(section(json, 'sender'), { schedule: RARELY, stableMs: 0 });
    edit(json);
  });
  return leaf;
}

async function newRoot(edit: (json: Record<string, unknown>) => void = () => {}): Promise<ServerFolder> {
  const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', noTls: true }));
  await root.edit((json) => {
    section(json, 'receiver').minFreeBytes = 0;
    edit(json);
  });
  return root;
}

interface StatusJson {
  server: string;
  role: string;
  service: { running: boolean; pid?: number; receiver?: string | null; rollupRunning?: boolean; nextRollup?: string | null };
  backlog: Record<string, number | null>;
  lastRollup: Record<string, unknown> | null;
  journalBacklog: number;
  parent: { url: string; reachable: boolean; server?: string; error?: string } | null;
}

async function status(folder: ServerFolder): Promise<{ text: string; json: StatusJson }> {
  const text = await runCli(['status', '-c', folder.configPath]);
  expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
  const json = await runCli(['status', '--json', '-c', folder.configPath]);
  expect(json.code).toBe(0);
  return { text: text.stdout, json: JSON.parse(json.stdout) as StatusJson };
}

describe('zenroll status', () => {
  it('reads the folders itself when no service runs', async () => {
    const leaf = await newLeaf();
    await writeScans(leaf.config.dirs.entmergedir as string, 3);
    const s = await status(leaf);
    expect(s.json).toEqual({
      server: 'LEAF1',
      role: 'leaf',
      service: { running: false },
      backlog: { entmergedir: 3, entpushdir: 0, zipdir: 0, rejected: 0, quarantine: null },
      lastRollup: null,
      journalBacklog: 0,
      parent: { url: parent.url, reachable: true, server: 'INT1' },
    });
    expect(s.text).toBe(
      [
        'LEAF1 (leaf): service not running',
        '  backlog       entmergedir 3 .str, entpushdir 0 zips, zipdir 0, rejected 0, quarantined -',
        '  last roll-up  none yet',
        `  parent        ${parent.url}: answers (INT1)`,
        '  journal       0 record(s) waiting for the directory',
        '',
      ].join('\n'),
    );

    expect((await runCli(['rollup', '-c', leaf.configPath])).code).toBe(0);
    const after = await status(leaf);
    expect(after.json.backlog).toEqual({ entmergedir: 0, entpushdir: 0, zipdir: 0, rejected: 0, quarantine: null });
    // The roll-up that ran in the rollup command's own process is the last one, as one the service ran would be.
    expect(after.json.lastRollup).toMatchObject({ reason: 'forced', ok: true, zipped: 1, sent: 1, discarded: 0, rejected: 0, left: 0 });
    expect(after.text).toMatch(/^ {2}last roll-up {2}\S+ \(forced\): ok; zipped 1, sent 1, discarded 0, rejected 0, left 0$/m);
  });

  it('says when the parent does not answer (and still exits 0: status reports, it does not judge)', async () => {
    const leaf = await newLeaf();
    await parent.close();
    const s = await status(leaf);
    expect(s.json.parent).toMatchObject({ url: parent.url, reachable: false });
    expect(s.json.parent?.error).toMatch(/ECONNREFUSED|did not answer/);
    expect(s.text).toMatch(new RegExp(`^  parent {8}${parent.url.replace(/\./g, '\\.')}: NOT reachable: `, 'm'));
  });

  it('asks the running service: pid, next roll-up, the last roll-up', async () => {
    const leaf = await newLeaf();
    const svc = services.start(leaf.configPath);
    await svc.waitFor((l) => l.msg === 'admin endpoint ready');
    await writeScans(leaf.config.dirs.entmergedir as string, 2);
    expect((await runCli(['rollup', '--now', '-c', leaf.configPath])).code).toBe(0);

    const s = await status(leaf);
    expect(s.json.service).toEqual({
      running: true,
      pid: svc.child.pid,
      receiver: null,
      rollupRunning: false,
      nextRollup: expect.stringMatching(/^\d{4}-01-01T00:00:00\.000Z$/),
      degraded: [],
    });
    expect(s.json.lastRollup).toMatchObject({ reason: 'forced', ok: true, zipped: 1, sent: 1, left: 0 });
    expect(s.json.backlog).toEqual({ entmergedir: 0, entpushdir: 0, zipdir: 0, rejected: 0, quarantine: null });
    expect(s.text).toMatch(
      new RegExp(`^LEAF1 \\(leaf\\): service running, pid ${svc.child.pid}\\n  next roll-up  \\d{4}-01-01T00:00:00\\.000Z\\n`),
    );
    expect(s.text).toMatch(/^ {2}last roll-up {2}\S+ \(forced\): ok; zipped 1, sent 1, discarded 0, rejected 0, left 0$/m);
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
  });

  it('shows a receiver’s URL and its backlog', async () => {
    const root = await newRoot();
    const svc = services.start(root.configPath);
    const url = await svc.url();
    const s = await status(root);
    expect(s.json).toMatchObject({
      role: 'root',
      service: { running: true, receiver: url, nextRollup: null },
      parent: null,
      lastRollup: null,
    });
    expect(s.text).toContain(`  receiver      ${url}\n`);
    expect(s.text).not.toContain('parent');
  });
});

describe('zenroll trust add', () => {
  it('binds a child’s key to its server (trustDir/<encoded name>.pub), once, and says so the second time', async () => {
    const root = await newRoot();
    const child = generateKeyPair();
    const pub = join(tmp.path, 'leaf1-server.pub');
    const priv = join(tmp.path, 'leaf1-server.key');
    await saveKeyPair(child, priv, pub);
    const keyId = keyIdOf(child.publicKey);

    const first = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', pub]);
    const file = join(root.config.receiver.trustDir, 'LEAF1.pub');
    expect(first).toMatchObject({ code: 0, stderr: '', stdout: `trusted key ${keyId} for LEAF1: ${file}\n` });
    expect(await readFile(file, 'utf8')).toBe(publicKeyPem(child.publicKey));
    const again = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', pub]);
    expect(again).toMatchObject({ code: 0, stdout: `key ${keyId} is trusted for LEAF1 already (${file})\n` });
    expect(await readdir(root.config.receiver.trustDir)).toEqual(['LEAF1.pub']);

    // A Unicode name with an underscore: encoded with the SPEC §3 codec, and read back as that server.
    const other = generateKeyPair();
    await writeFile(join(tmp.path, 'other.pub'), publicKeyPem(other.publicKey));
    const uni = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'WS_Zürich 2', join(tmp.path, 'other.pub')]);
    expect(uni).toMatchObject({
      code: 0,
      stdout: `trusted key ${keyIdOf(other.publicKey)} for WS_Zürich 2: ${join(root.config.receiver.trustDir, 'WS%5FZ%C3%BCrich%202.pub')}\n`,
    });
    expect((await readdir(root.config.receiver.trustDir)).sort()).toEqual(['LEAF1.pub', 'WS%5FZ%C3%BCrich%202.pub']);
    const store = await TrustStore.fromDir(root.config.receiver.trustDir);
    expect(store.lookup(keyIdOf(other.publicKey))?.grants.map((g) => g.server)).toEqual(['WS_Zürich 2']);

    // One key, one server; one server, one key: neither is replaced quietly.
    const twice = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF2', pub]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(`USAGE: key ${keyId} is trusted for "LEAF1" already (${file}); one key signs for one server`);
    await writeFile(join(tmp.path, 'third.pub'), publicKeyPem(generateKeyPair().publicKey));
    const swap = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', join(tmp.path, 'third.pub')]);
    expect(swap.code).toBe(2);
    expect(swap.stderr).toContain(
      `USAGE: "LEAF1" has another key trusted already (${file}, key ${keyId}); to replace it, remove that file first`,
    );
    expect((await readdir(root.config.receiver.trustDir)).sort()).toEqual(['LEAF1.pub', 'WS%5FZ%C3%BCrich%202.pub']);

    // The Receiver takes zips signed by it for LEAF1 (makeZip names LEAF1), and refuses the other key's.
    const svc = services.start(root.configPath);
    const zip = await makeZip(tmp.path, child);
    expect((await put(await svc.url(), zip)).status).toBe(201);
    const forged = await makeZip(tmp.path, other);
    const refused = await put(await svc.url(), forged);
    expect(refused.status).toBe(403);
  });

  it('requires --name (exit 2, saying why) and refuses a name that is no server name', async () => {
    const root = await newRoot();
    const pub = join(tmp.path, 'k.pub');
    await writeFile(pub, publicKeyPem(generateKeyPair().publicKey));
    const none = await runCli(['trust', 'add', '-c', root.configPath, pub]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/USAGE: --name SERVER is required: a trusted key signs only for the server it is bound to/);
    for (const bad of ['LE\nAF', 'server']) {
      const r = await runCli(['trust', 'add', '-c', root.configPath, '--name', bad, pub]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/USAGE: --name/);
    }
    expect(await readdir(root.config.receiver.trustDir)).toEqual([]);
  });

  it.each([
    [
      'a private key',
      () => generateKeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      /is a private key; only public keys belong there: give the child's public key file/,
    ],
    [
      'an RSA key',
      () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      /is a rsa key; zenroll signs with Ed25519/,
    ],
    ['no PEM at all', () => 'hello\n', /is not a PEM public key/],
  ])('refuses %s (exit 1, KEY_INVALID) and writes nothing', async (_what, pem, message) => {
    const root = await newRoot();
    const file = join(tmp.path, 'given.pem');
    await writeFile(file, pem());
    const r = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^zenroll: KEY_INVALID: public key /);
    expect(r.stderr).toMatch(message);
    expect(await readdir(root.config.receiver.trustDir)).toEqual([]);
  });

  it('refuses on a role that receives nothing (exit 2), and a file that is not there (exit 1)', async () => {
    const leaf = await newLeaf();
    const pub = join(tmp.path, 'k.pub');
    await writeFile(pub, publicKeyPem(generateKeyPair().publicKey));
    const r = await runCli(['trust', 'add', '-c', leaf.configPath, pub]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/USAGE: LEAF1 is a leaf, which receives nothing: add the key on its parent/);

    const root = await newRoot();
    const missing = await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', join(tmp.path, 'nope.pub')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/FS_FAILED: cannot read public key .*nope\.pub.*ENOENT/);
  });
});

describe('/metrics on admin.listen', () => {
  it('counts what a Receiver received and promoted, and shows its backlog', async () => {
    const leafKeys = generateKeyPair();
    const root = await newRoot((json) => {
      json.admin = { listen: '127.0.0.1:0' };
    });
    await writeFile(join(root.config.receiver.trustDir, 'LEAF1.pub'), publicKeyPem(leafKeys.publicKey));
    const svc = services.start(root.configPath);
    const ready = await svc.waitFor((l) => l.msg === 'admin endpoint ready');
    expect(ready.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const metricsUrl = ready.metrics as string;

    const before = await scrape(metricsUrl);
    expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(before.text).toContain('# TYPE zenroll_backlog_files gauge');
    expect(before.text).toContain('# TYPE zenroll_zips_total counter');
    expect(before.text).toMatch(/^zenroll_backlog_files\{folder="zipdir",server="ROOT"\} 0$/m);
    expect(before.samples.get('zenroll_backlog_files{folder="entpushdir"}')).toBe(0);
    expect(before.samples.has('zenroll_backlog_files{folder="entmergedir"}')).toBe(false);
    expect(before.samples.get('zenroll_journal_backlog_records')).toBe(0);

    const zip = await makeZip(tmp.path, leafKeys);
    expect((await put(await svc.url(), zip)).status).toBe(201);
    // The counters follow the log records, written just after the promotion's log line; the
    // upload leaves zipdir just after its `promoted` record, so wait for both.
    const after = await waitUntil('the promotion to be counted and the upload gone from zipdir', async () => {
      const m = await scrape(metricsUrl);
      return m.samples.get('zenroll_zips_total{event="promoted"}') === 1 && m.samples.get('zenroll_backlog_files{folder="zipdir"}') === 0
        ? m
        : null;
    });
    expect(after.samples.get('zenroll_zips_total{event="received"}')).toBe(1);
    expect(after.samples.get('zenroll_zips_total{event="promoted"}')).toBe(1);
    expect(after.samples.get('zenroll_bytes_total{event="received"}')).toBe(zip.data.length);
    expect(after.samples.get('zenroll_backlog_files{folder="zipdir"}')).toBe(0);
    // A root promotes to dbdir only: nothing waits to be sent.
    expect(after.samples.get('zenroll_backlog_files{folder="entpushdir"}')).toBe(0);

    // The same admin routes answer on TCP; nothing else does.
    const base = metricsUrl.replace(/\/metrics$/, '');
    expect(await (await fetch(`${base}/v1/status`)).json()).toMatchObject({ server: 'ROOT', role: 'root', pid: svc.child.pid });
    expect((await fetch(`${base}/v1/nothing`)).status).toBe(404);
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
  });

  it('counts a Sender’s zips, retries and last success', async () => {
    const leaf = await newLeaf((json) => {
      json.admin = { listen: '127.0.0.1:0' };
      section(json, 'sender').retry = { baseMs: 20, factor: 1, tries: 3 };
    });
    await writeScans(leaf.config.dirs.entmergedir as string, 3);
    const svc = services.start(leaf.configPath);
    const metricsUrl = (await svc.waitFor((l) => l.msg === 'admin endpoint ready')).metrics as string;
    const before = await scrape(metricsUrl);
    expect(before.samples.get('zenroll_backlog_files{folder="entmergedir"}')).toBe(3);
    expect(before.samples.get('zenroll_last_successful_rollup_timestamp_seconds')).toBe(0);
    expect(before.samples.has('zenroll_zips_total{event="sent"}')).toBe(false);

    parent.failNext(1, { kind: 'drop' });
    const startedAt = Date.now() / 1000;
    expect((await runCli(['rollup', '--now', '-c', leaf.configPath])).code).toBe(0);
    const after = await scrape(metricsUrl);
    expect(after.samples.get('zenroll_backlog_files{folder="entmergedir"}')).toBe(0);
    expect(after.samples.get('zenroll_backlog_files{folder="entpushdir"}')).toBe(0);
    expect(after.samples.get('zenroll_zips_total{event="zipped"}')).toBe(1);
    expect(after.samples.get('zenroll_zips_total{event="sent"}')).toBe(1);
    expect(after.samples.get('zenroll_bytes_total{event="sent"}')).toBe(parent.stored[0]?.bytes);
    expect(after.samples.get('zenroll_send_retries_total')).toBe(1);
    expect(after.samples.get('zenroll_last_successful_rollup_timestamp_seconds')).toBeGreaterThanOrEqual(Math.floor(startedAt));
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
  });

  it('refuses an admin.listen that is not loopback (exit 2, naming the key)', async () => {
    const leaf = await newLeaf();
    const json = JSON.parse(await readFile(leaf.configPath, 'utf8')) as Record<string, unknown>;
    json.admin = { listen: '0.0.0.0:9100' };
    await writeFile(leaf.configPath, JSON.stringify(json));
    const svc = services.start(leaf.configPath);
    expect((await svc.exited).code).toBe(2);
    expect(svc.stderr).toMatch(/CONFIG_INVALID.*admin\.listen: expected a loopback HOST:PORT/s);
  });
});

describe('every command', () => {
  const commands = [['init'], ['verify'], ['demo'], ['trust'], ['trust', 'add'], ['status'], ['doctor'], ['serve'], ['rollup'], ['log']];

  it.each(commands.map((c) => [c.join(' '), c]))('%s --help shows an example (exit 0)', async (_name, command) => {
    const io = captureIo(tmp.path);
    expect(await run([...(command as string[]), '--help'], io)).toBe(0);
    expect(io.stdout()).toMatch(/^Usage: zenroll /);
    expect(io.stdout()).toMatch(/\nExamples?:\n {2}zenroll \S/);
  });

  it('the built dist/bin.js runs as an executable (what npm link installs) with plain node', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      // The file itself, not `node FILE`: its mode and its shebang.
      execFile(CLI_BIN, ['--version'], (err, out) =>
        err && typeof err.code !== 'number' ? reject(err) : resolve({ code: err ? (err.code as number) : 0, stdout: out }),
      );
    });
    expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: VERSION });
    expect((await readFile(CLI_BIN, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('the systemd unit starts serve, and only serve, with node and SERVE_NODE_FLAGS', async () => {
    const unit = await readFile(new URL('../../../docs/zenroll.service', import.meta.url), 'utf8');
    const execStart = unit.split('\n').filter((l) => l.startsWith('ExecStart='));
    expect(execStart).toEqual([
      `ExecStart=/usr/bin/node ${SERVE_NODE_FLAGS.join(' ')} /opt/zenroll/packages/cli/dist/bin.js serve -c /srv/zenroll/zenroll.json`,
    ]);
  });

  it('the OCF agent starts serve with SERVE_NODE_FLAGS by default', async () => {
    const agent = await readFile(new URL('../../../ocf/zenroll', import.meta.url), 'utf8');
    expect(agent.split('\n').filter((l) => l.startsWith('OCF_RESKEY_node_flags_default='))).toEqual([
      `OCF_RESKEY_node_flags_default="${SERVE_NODE_FLAGS.join(' ')}"`,
    ]);
  });

  it('exits 0 on success, 1 on a failure of the work, 2 on bad usage or a bad config', async () => {
    const leaf = await newLeaf();
    expect((await runCli(['status', '-c', leaf.configPath])).code).toBe(0);

    const missing = await runCli(['status', '-c', join(tmp.path, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/CONFIG_NOT_FOUND.*\nfix: Create one with `zenroll init`, or name it with -c FILE\./s);

    const unknownOption = await runCli(['status', '--frobnicate', '-c', leaf.configPath]);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/unknown option '--frobnicate'\n\(add --help for usage and an example\)/);

    expect((await runCli(['frobnicate'])).code).toBe(2);

    const json = JSON.parse(await readFile(leaf.configPath, 'utf8')) as Record<string, unknown>;
    section(json, 'sender').batchSize = 51;
    await writeFile(join(tmp.path, 'bad.json'), JSON.stringify({ ...json, colour: 'blue' }));
    const bad = await runCli(['doctor', '-c', join(tmp.path, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sender\.batchSize/);
    expect(bad.stderr).toMatch(/colour: is not a known key/);

    // A failure of the work: a parent that does not answer.
    await parent.close();
    await leaf.edit((j) => {
      section(j, 'sender').retry = { baseMs: 1, factor: 1, tries: 1 };
    });
    await writeScans(leaf.config.dirs.entmergedir as string, 1);
    expect((await runCli(['rollup', '-c', leaf.configPath])).code).toBe(1);
    expect((await runCli(['doctor', '-c', leaf.configPath])).code).toBe(1);
  });
});
