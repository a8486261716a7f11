/**
 * `zenroll serve` as a real process (the built dist/bin.js): it serves HTTPS,
 * logs one JSON line per upload, holds the folders' lock, and stops cleanly
 * on SIGTERM and SIGINT with exit code 0.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, makeCertificate, type KeyPair } from '@zenroll/core';
import { Serve, dataFiles, makeZip, put, writeServer } from './serve-helpers.js';

let root: string;
let leaf: KeyPair;
let ca: Buffer;
let cert: { cert: string; key: string };
const children: Serve[] = [];
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'zenroll-serve-'));
  leaf = generateKeyPair();
  const caFiles = { certPath: join(root, 'pki/ca.crt'), keyPath: join(root, 'pki/ca.key') };
  await makeCertificate({ ...caFiles, hosts: [], commonName: 'test CA', isCa: true });
  cert = { cert: join(root, 'pki/server.crt'), key: join(root, 'pki/server.key') };
  await makeCertificate({ certPath: cert.cert, keyPath: cert.key, hosts: ['127.0.0.1'], commonName: 'INT1', ca: caFiles });
  ca = await readFile(caFiles.certPath);
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function serve(configPath: string, env: Record<string, string> = {}): Serve {
  const s = new Serve(configPath, env);
  children.push(s);
  return s;
}

const folder = () => join(root, `s${++n}`);

describe('zenroll serve', () => {
  it('serves HTTPS, logs one line per upload, and stops on SIGTERM with exit 0, releasing its lock', async () => {
    const dir = folder();
    const s = await writeServer(dir, { role: 'intermediate-db', trust: [{ server: 'LEAF1', key: leaf.publicKey }], tls: cert });
    const proc = serve(s.configPath);
    const url = await proc.url();
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const z = await makeZip(dir, leaf);
    expect((await put(url, z, { ca })).status).toBe(201);
    await proc.promoted(z.name, 'dbdir');
    const line = await proc.waitFor((l) => l.msg === 'upload' && l.zip === z.name);
    expect(line).toMatchObject({ zip: z.name, bytes: z.data.length, outcome: 'stored', status: 201, server: 'INT1' });
    expect(typeof line.ms).toBe('number');
    expect(existsSync(join(s.statedir, 'serve.lock'))).toBe(true);

    proc.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.lines.at(-1)?.msg).toBe('stopped');
    expect(existsSync(join(s.statedir, 'serve.lock'))).toBe(false);
    expect(await dataFiles(s)).toEqual([`dbdir/${z.name.replace('_0.zip', '_1.zip')}`, `entpushdir/${z.name.replace('_0.zip', '_2.zip')}`]);
    // The records went to the journal, which outlives the process.
    expect(existsSync(join(s.statedir, 'journal'))).toBe(true);
  });

  it('stops on SIGINT too, aborting an upload in flight without leaving a partial file', async () => {
    const dir = folder();
    const s = await writeServer(dir, { role: 'root', trust: [{ server: 'LEAF1', key: leaf.publicKey }] });
    const proc = serve(s.configPath);
    const url = await proc.url();
    const z = await makeZip(dir, leaf);
    const answer = put(url, z, { firstBytes: 100 }).then(
      (a) => a,
      (e: unknown) => e as Error,
    );
    await proc.waitFor((l) => l.msg === 'receiving' && l.zip === z.name);
    proc.kill('SIGINT');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(await answer).toBeInstanceOf(Error);
    expect(await dataFiles(s)).toEqual([]);
  });

  it('refuses to start a second time on the same folders (LOCK_HELD, exit 1)', async () => {
    const dir = folder();
    const s = await writeServer(dir, { role: 'root', trust: [{ server: 'LEAF1', key: leaf.publicKey }] });
    const first = serve(s.configPath);
    await first.url();
    const second = serve(s.configPath);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr).toMatch(/LOCK_HELD/);
    // The first one still serves.
    const z = await makeZip(dir, leaf);
    expect((await put(await first.url(), z)).status).toBe(201);
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });

  it('refuses a role that neither sends nor receives (exit 2)', async () => {
    const dir = folder();
    const s = await writeServer(dir, { role: 'standalone', trust: [] });
    const proc = serve(s.configPath);
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr).toMatch(/USAGE: role "standalone" neither sends nor receives/);
  });

  it('exits 2 naming the config file when there is none', async () => {
    const proc = serve(join(folder(), 'missing.json'));
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr).toMatch(/CONFIG_NOT_FOUND/);
  });
});
