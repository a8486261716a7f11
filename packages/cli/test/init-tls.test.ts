/**
 * `zenroll init`'s certificate covers the names children connect by, and
 * `--parent-ca` is kept inside the server's folder (README "Setting up a real
 * tree"): real files, real openssl, real TLS connections.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog, loadConfig, tlsNameProblem } from '@zenroll/core';
import { startReceiver, type RunningReceiver } from '@zenroll/receiver';
import { createParentClient, makeDispatcher } from '@zenroll/sender';
import { captureIo, run } from '../src/index.js';

let dir: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-init-tls-'));
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureIo(dir);
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const ROOT = ['init', '--role', 'root', '--server', 'ROOT', '--tree', 'ACME', '--dir', 'root'];

/** Whether a TLS handshake with `servername`, trusting only `ca`, verifies. */
function handshake(port: number, servername: string, ca: string): Promise<{ ok: true } | { ok: false; code: string }> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca });
    socket.once('secureConnect', () => {
      socket.destroy();
      done({ ok: true });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      done({ ok: false, code: err.code ?? err.message });
    });
  });
}

describe('zenroll init --tls-name', () => {
  it('puts the given names, the host name and loopback in subjectAltName, and says so', async () => {
    const r = await cli([...ROOT, '--listen', '0.0.0.0:7099', '--tls-name', 'int1.acme.example', '--tls-name', '10.1.2.3']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const config = await loadConfig(join(dir, 'root', 'zenroll.json'));
    if (config.receiver.tls === false) throw new Error('expected TLS');
    const cert = new X509Certificate(await readFile(config.receiver.tls.cert));
    const san = (cert.subjectAltName ?? '').split(', ');
    expect(san).toEqual(expect.arrayContaining(['DNS:int1.acme.example', 'IP Address:10.1.2.3', 'DNS:localhost', 'IP Address:127.0.0.1']));
    if (tlsNameProblem(hostname()) === null) expect(san).toContain(`DNS:${hostname().toLowerCase()}`);
    expect(san.join(' ')).not.toContain('0.0.0.0');
    expect(cert.checkHost('int1.acme.example')).toBe('int1.acme.example');
    expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(r.out).toMatch(/certificate .*server\.crt .*valid for localhost, 127\.0\.0\.1, ::1, int1\.acme\.example, 10\.1\.2\.3/);
  });

  it('adds a concrete --listen host to the certificate', async () => {
    expect((await cli([...ROOT, '--listen', 'root.acme.example:7099'])).code).toBe(0);
    const cert = new X509Certificate(await readFile(join(dir, 'root', 'tls', 'server.crt')));
    expect(cert.checkHost('root.acme.example')).toBe('root.acme.example');
  });

  it('refuses a name that is neither a DNS name nor an IP address with exit 2, writing nothing', async () => {
    const r = await cli([...ROOT, '--tls-name', 'root.acme.example', '--tls-name', 'bad_name.acme']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--tls-name "bad_name.acme"');
    const comma = await cli([...ROOT, '--tls-name', 'a,DNS:evil.example']);
    expect(comma.code).toBe(2);
    expect(comma.err).toContain('"a,DNS:evil.example"');
    const leaf = await cli([
      'init',
      '--role',
      'leaf',
      '--server',
      'L',
      '--tree',
      'ACME',
      '--dir',
      'leaf',
      '--parent',
      'https://p:7099',
      '--tls-name',
      'leaf.acme.example',
    ]);
    expect(leaf.code).toBe(2);
    expect(leaf.err).toMatch(/--tls-name .*role leaf/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('makes a certificate a TLS client accepts for each listed name and refuses for another', async () => {
    expect((await cli([...ROOT, '--tls-name', 'int1.acme.example', '--tls-name', '10.1.2.3'])).code).toBe(0);
    const cert = await readFile(join(dir, 'root', 'tls', 'server.crt'), 'utf8');
    const key = await readFile(join(dir, 'root', 'tls', 'server.key'), 'utf8');
    const server: Server = createServer({ cert, key }, (_req, res) => res.end('ok'));
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    closers.push(() => new Promise((closed) => server.close(() => closed())));
    const { port } = server.address() as AddressInfo;
    expect(await handshake(port, 'int1.acme.example', cert)).toEqual({ ok: true });
    expect(await handshake(port, 'localhost', cert)).toEqual({ ok: true });
    expect(await handshake(port, 'int2.acme.example', cert)).toEqual({ ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});

describe('zenroll init --parent-ca', () => {
  it('keeps a copy in DIR/tls, so the Sender still verifies its parent once the original is gone', async () => {
    expect((await cli([...ROOT, '--listen', '127.0.0.1:0'])).code).toBe(0);
    const rootConfig = await loadConfig(join(dir, 'root', 'zenroll.json'));
    const receiver: RunningReceiver = await startReceiver(rootConfig, { log: new MemoryLog() });
    closers.push(() => receiver.close());

    await mkdir(join(dir, 'tmp'));
    const original = join(dir, 'tmp', 'root.crt');
    await copyFile(join(dir, 'root', 'tls', 'server.crt'), original);
    const r = await cli([
      'init',
      '--role',
      'leaf',
      '--server',
      'LEAF1',
      '--tree',
      'ACME',
      '--dir',
      'leaf',
      '--parent',
      `https://127.0.0.1:${receiver.port}`,
      '--parent-ca',
      'tmp/root.crt',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    await rm(join(dir, 'tmp'), { recursive: true });

    const raw = JSON.parse(await readFile(join(dir, 'leaf', 'zenroll.json'), 'utf8')) as { sender: { tls: { ca: string } } };
    expect(raw.sender.tls.ca).toBe('tls/parent-ca.crt');
    const config = await loadConfig(join(dir, 'leaf', 'zenroll.json'));
    expect(config.sender.tls.ca).toBe(join(dir, 'leaf', 'tls', 'parent-ca.crt'));
    expect(await readFile(config.sender.tls.ca as string, 'utf8')).toBe(await readFile(join(dir, 'root', 'tls', 'server.crt'), 'utf8'));
    expect((await readdir(join(dir, 'leaf', 'tls'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const client = createParentClient(config.sender, await makeDispatcher(config.sender), { ownsDispatcher: true });
    closers.push(() => client.close());
    expect(await client.info()).toMatchObject({ server: 'ROOT', tree: 'ACME' });

    const parentCheck = async () => {
      const doctor = await cli(['doctor', '--json', '-c', 'leaf/zenroll.json']);
      return (JSON.parse(doctor.out) as { name: string; ok: boolean; detail: string }[]).find((c) => c.name === 'parent');
    };
    // The parent answers through the copied CA; until it trusts the leaf's key, doctor says so and names the fix.
    const untrusted = await parentCheck();
    expect(untrusted).toMatchObject({ ok: false });
    expect(untrusted?.detail).toMatch(/answers as ROOT, but your key is not trusted at the parent.*zenroll trust add --name LEAF1/);
    expect((await cli(['trust', 'add', '-c', 'root/zenroll.json', '--name', 'LEAF1', 'leaf/keys/server.pub'])).code).toBe(0);
    const parent = await parentCheck();
    expect(parent, parent?.detail).toMatchObject({ ok: true });
    expect(parent?.detail).toContain('answers as ROOT');
  });

  it('refuses a file that is not a certificate, or is missing, with exit 2, writing nothing', async () => {
    await writeFile(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    const leaf = (ca: string) =>
      cli(['init', '--role', 'leaf', '--server', 'L', '--tree', 'ACME', '--dir', 'leaf', '--parent', 'https://p:7099', '--parent-ca', ca]);
    const notCert = await leaf('key.pem');
    expect(notCert.code).toBe(2);
    expect(notCert.err).toMatch(/--parent-ca ".*key\.pem" is not a PEM certificate: it holds no PEM certificate/);
    const missing = await leaf('nowhere.crt');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nowhere.crt');
    expect(await readdir(dir)).toEqual(['key.pem']);
  });
});
