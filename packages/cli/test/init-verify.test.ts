import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configJsonSchemaText, configSchemaPath, loadConfig, loadKeyPair, packBatch, type Config } from '@zenroll/core';
import { captureIo, run } from '../src/index.js';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'dist', 'bin.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureIo(dir);
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function packOne(config: Config, count = 3): Promise<string> {
  const src = join(dir, 'src');
  await mkdir(src, { recursive: true });
  await mkdir(join(dir, 'out'), { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = join(src, `WS-${i}.str`);
    await writeFile(p, `workstation ${i}\n`.repeat(200 + i));
    files.push(p);
  }
  const keys = await loadKeyPair(config.keys.private, config.keys.public);
  const r = await packBatch({
    files,
    outDir: join(dir, 'out'),
    server: config.server,
    tree: config.tree,
    status: 0,
    scheduledtime: '20261122103000000',
    keys,
  });
  return r.path;
}

describe('zenroll init', () => {
  it('writes a valid config, a key pair and the folders of a leaf', async () => {
    const r = await cli([
      'init',
      '--role',
      'leaf',
      '--server',
      'LE_AFé',
      '--tree',
      'ACME',
      '--dir',
      'leaf',
      '--parent',
      'https://int1:7099',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const config = await loadConfig(join(dir, 'leaf', 'zenroll.json'));
    expect(config.server).toBe('LE_AFé');
    expect(config.role).toBe('leaf');
    expect(config.sender.parent).toBe('https://int1:7099');
    for (const d of [config.dirs.entmergedir, config.dirs.entpushdir, config.dirs.statedir]) {
      expect((await stat(d as string)).isDirectory()).toBe(true);
    }
    expect(config.dirs.dbdir).toBeNull();
    await loadKeyPair(config.keys.private, config.keys.public);
    expect((await stat(config.keys.private)).mode & 0o777).toBe(0o600);
  });

  it('points $schema at the JSON Schema of the installed @zenroll/core, by a path an editor resolves', async () => {
    const r = await cli(['init', '--role', 'standalone', '--server', 'S1', '--tree', 'ACME', '--dir', 'a/b']);
    expect(r.code).toBe(0);
    const written = JSON.parse(await readFile(join(dir, 'a', 'b', 'zenroll.json'), 'utf8')) as { $schema: string };
    // Editors resolve only a `$schema` starting with "." against the file's folder.
    expect(written.$schema).toMatch(/^\.\.?\//);
    const target = join(dir, 'a', 'b', written.$schema);
    expect(target).toBe(configSchemaPath());
    expect(await readFile(target, 'utf8')).toBe(configJsonSchemaText());
    expect(Object.keys(written)[0]).toBe('$schema');
  });

  it('makes a TLS certificate and a trust folder for a receiver role', async () => {
    const r = await cli(['init', '--role', 'root', '--server', 'ROOT', '--tree', 'ACME', '--dir', 'root', '--listen', '127.0.0.1:7099']);
    expect(r.code).toBe(0);
    const config = await loadConfig(join(dir, 'root', 'zenroll.json'));
    const tls = config.receiver.tls;
    if (tls === false) throw new Error('expected TLS on by default');
    const { stdout } = await exec('openssl', ['x509', '-in', tls.cert, '-noout', '-text']);
    expect(stdout).toContain('IP Address:127.0.0.1');
    expect((await stat(config.receiver.trustDir)).isDirectory()).toBe(true);
    expect((await stat(config.dirs.dbdir as string)).isDirectory()).toBe(true);
  });

  it('refuses bad usage with exit code 2 and says what is wrong', async () => {
    const noParent = await cli(['init', '--role', 'leaf', '--server', 'L', '--tree', 'T', '--dir', 'x']);
    expect(noParent.code).toBe(2);
    expect(noParent.err).toMatch(/--parent/);
    const badRole = await cli(['init', '--role', 'trunk', '--server', 'L', '--tree', 'T', '--dir', 'x']);
    expect(badRole.code).toBe(2);
    expect(badRole.err).toMatch(/trunk/);
    const missing = await cli(['init', '--role', 'root']);
    expect(missing.code).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not overwrite an existing server without --force', async () => {
    const args = ['init', '--role', 'root', '--server', 'R', '--tree', 'T', '--dir', 'r', '--no-tls'];
    expect((await cli(args)).code).toBe(0);
    const key = await readFile(join(dir, 'r', 'keys', 'server.key'), 'utf8');
    const again = await cli(args);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/exists already/);
    expect(await readFile(join(dir, 'r', 'keys', 'server.key'), 'utf8')).toBe(key);
    expect((await cli([...args, '--force'])).code).toBe(0);
    expect(await readFile(join(dir, 'r', 'keys', 'server.key'), 'utf8')).not.toBe(key);
  });
});

describe('zenroll verify', () => {
  it('accepts a zip signed by a trusted key and lists its .str', async () => {
    expect(
      (await cli(['init', '--role', 'leaf', '--server', 'LEAF1', '--tree', 'ACME', '--dir', 'leaf', '--parent', 'https://p:7099'])).code,
    ).toBe(0);
    const config = await loadConfig(join(dir, 'leaf', 'zenroll.json'));
    const zip = await packOne(config);
    const r = await cli(['verify', '-c', 'leaf/zenroll.json', zip]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('from LEAF1');
    expect(r.out).toContain('WS-0.str');
    const j = await cli(['verify', '--json', '-c', 'leaf/zenroll.json', zip]);
    const parsed = JSON.parse(j.out) as { ok: boolean; server: string; files: { name: string; size: number }[] };
    expect(parsed.ok).toBe(true);
    expect(parsed.server).toBe('LEAF1');
    expect(parsed.files.map((f) => f.name)).toEqual(['WS-0.str', 'WS-1.str', 'WS-2.str']);
  });

  it('fails with exit 1 and the error code for an untrusted signer or a damaged zip', async () => {
    expect(
      (await cli(['init', '--role', 'leaf', '--server', 'LEAF1', '--tree', 'ACME', '--dir', 'leaf', '--parent', 'https://p:7099'])).code,
    ).toBe(0);
    const config = await loadConfig(join(dir, 'leaf', 'zenroll.json'));
    const zip = await packOne(config);
    await mkdir(join(dir, 'emptytrust'));
    const untrusted = await cli(['verify', '--trust', 'emptytrust', zip]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.err).toContain('PRP_SIGNER_UNKNOWN');

    // LEAF1's key, trusted for LEAF2 only: the same refusal as the Receiver's 403, naming both servers.
    await mkdir(join(dir, 'othertrust'));
    await copyFile(config.keys.public, join(dir, 'othertrust', 'LEAF2.pub'));
    const other = await cli(['verify', '--trust', 'othertrust', zip]);
    expect(other.code).toBe(1);
    expect(other.err).toContain('PRP_SIGNER_MISMATCH');
    expect(other.err).toMatch(
      /\.prp names origin server "LEAF1" but is signed by key [0-9a-f]{32}, which is trusted only for "LEAF2" \(".*othertrust\/LEAF2\.pub"\)/,
    );
    const otherJson = JSON.parse((await cli(['verify', '--json', '--trust', 'othertrust', zip])).out) as { ok: boolean; error: string };
    expect(otherJson).toMatchObject({ ok: false, error: 'PRP_SIGNER_MISMATCH' });

    const bytes = await readFile(zip);
    const at = Math.floor(bytes.length / 3);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await mkdir(join(dir, 'damaged'));
    const damaged = join(dir, 'damaged', '20261122103000000_LEAF1_ACME_0.zip');
    await writeFile(damaged, bytes);
    const bad = await cli(['verify', '--json', '-c', 'leaf/zenroll.json', damaged]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({ ok: false });
    expect(JSON.parse(bad.out).error).toMatch(/^(ZIP|PRP)_/);
  });

  it('works as a real process from the shell (exit codes 0, 1, 2)', async () => {
    await exec(process.execPath, [
      BIN,
      'init',
      '--role',
      'leaf',
      '--server',
      'LEAF1',
      '--tree',
      'ACME',
      '--dir',
      join(dir, 'leaf'),
      '--parent',
      'https://p:7099',
    ]);
    const config = await loadConfig(join(dir, 'leaf', 'zenroll.json'));
    const zip = await packOne(config, 2);
    const ok = await exec(process.execPath, [BIN, 'verify', '--trust', join(dir, 'leaf', 'keys'), zip], { cwd: dir }).catch((e) => e);
    // keys/ holds server.pub: a trust folder of one key.
    expect(ok.stdout).toContain('WS-1.str');
    const renamed = join(dir, 'out', '20261122103000000_LEAF2_ACME_0.zip');
    await copyFile(zip, renamed);
    const mismatch = await exec(process.execPath, [BIN, 'verify', '--trust', join(dir, 'leaf', 'keys'), renamed]).catch((e) => e);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/ZIP_(ENTRY_UNEXPECTED|NAME_MISMATCH)/);
    const usage = await exec(process.execPath, [BIN, 'verify']).catch((e) => e);
    expect(usage.code).toBe(2);
  });
});
