/**
 * The connection level: mutual TLS, stalled clients, shutdown with uploads
 * in flight. Each checks that no partial file stays behind.
 */
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, zipPath, type KeyPair } from '@zenroll/core';
import {
  digestOf,
  makePki,
  makeZip,
  names,
  partialUpload,
  put,
  type Answer,
  type Pki,
  type SetupOptions,
  receiverSuite,
} from './helpers.js';

const suite = receiverSuite();
let pki: Pki;
let otherPki: Pki;
let leaf: KeyPair;

beforeAll(async () => {
  pki = await makePki(suite.root, 'pki');
  otherPki = await makePki(suite.root, 'other');
  leaf = generateKeyPair();
});

const receiver = (o: SetupOptions = {}) =>
  suite.receiver({ tls: { cert: pki.server.certPath, key: pki.server.keyPath }, trust: [leaf.publicKey], ...o });

describe('mutual TLS', () => {
  const mtls = () => ({ tls: { cert: pki.server.certPath, key: pki.server.keyPath, clientCa: pki.ca.certPath } });

  it('refuses a client without a certificate in the handshake; nothing is stored', async () => {
    const { setup, dir, receiver: r, logger } = await receiver(mtls());
    const z = await makeZip({ dir, keys: leaf });
    const err = await put(r.url, z.name, z.data, { tls: { ca: pki.ca.certPath } }).then(
      (a: Answer) => a,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err).toBeInstanceOf(Error);
    await logger.waitFor((l) => l.message === 'TLS handshake refused');
    expect(logger.lines.some((l) => l.message === 'upload')).toBe(false);
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
  });

  it('refuses a client certificate from another CA', async () => {
    const { setup, dir, receiver: r, logger } = await receiver(mtls());
    const z = await makeZip({ dir, keys: leaf });
    const result = await put(r.url, z.name, z.data, {
      tls: { ca: pki.ca.certPath, cert: otherPki.client.certPath, key: otherPki.client.keyPath },
    }).then(
      (a: Answer) => a,
      (e: unknown) => e as Error,
    );
    expect(result).toBeInstanceOf(Error);
    await logger.waitFor((l) => l.message === 'TLS handshake refused');
    expect(logger.lines.some((l) => l.message === 'upload')).toBe(false);
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
  });

  it('accepts a client certificate signed by receiver.tls.clientCa', async () => {
    const { dir, receiver: r } = await receiver(mtls());
    const z = await makeZip({ dir, keys: leaf });
    const answer = await put(r.url, z.name, z.data, { tls: { ca: pki.ca.certPath, cert: pki.client.certPath, key: pki.client.keyPath } });
    expect(answer.status).toBe(201);
  });

  it('without clientCa, a client needs no certificate', async () => {
    const { dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    expect((await put(r.url, z.name, z.data, { tls: { ca: pki.ca.certPath } })).status).toBe(201);
  });

  it('a client that does not trust the server certificate never gets to send', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    await expect(put(r.url, z.name, z.data, { tls: { ca: otherPki.ca.certPath } })).rejects.toThrow();
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
  });
});

describe('slow and stalled clients', () => {
  it('cuts a body that stalls for requestTimeoutMs and removes the partial file', async () => {
    // Long enough for the partial file to be seen on a loaded machine, short enough for a test.
    const { setup, dir, receiver: r, logger } = await receiver({ receiver: { requestTimeoutMs: 1000 } });
    const z = await makeZip({ dir, keys: leaf });
    const upload = await partialUpload(r.url, z.name, z.data, 200, { tls: { ca: pki.ca.certPath } });
    const receiving = await logger.waitFor((l) => l.message === 'receiving' && l.fields.zip === z.name);
    const temp = receiving.fields.temp as string;
    expect((await names(setup.config.dirs.zipdir!)).map((f) => join(setup.config.dirs.zipdir!, f))).toEqual([temp]);
    const line = await logger.upload(z.name);
    expect(line.fields).toMatchObject({ outcome: 'aborted', error: 'REQUEST_TIMEOUT' });
    expect(await upload.done).toBeInstanceOf(Error);
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
    // The same zip sent whole afterwards is stored.
    expect((await put(r.url, z.name, z.data, { tls: { ca: pki.ca.certPath } })).status).toBe(201);
  });

  it('answers 408 to headers that never end, and closes', async () => {
    const { receiver: r } = await receiver({ tls: false, receiver: { requestTimeoutMs: 300 } });
    const socket = netConnect(r.port, '127.0.0.1');
    socket.write('PUT /v1/zips/20261122103000000_LEAF1_ACME_0.zip HTTP/1.1\r\nHost: x\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('removes the partial file of a client that goes away mid-body', async () => {
    const { setup, dir, receiver: r, logger } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    const upload = await partialUpload(r.url, z.name, z.data, 200, { tls: { ca: pki.ca.certPath } });
    await logger.waitFor((l) => l.message === 'receiving' && l.fields.zip === z.name);
    upload.destroy();
    const line = await logger.upload(z.name);
    expect(line.fields.outcome).toBe('aborted');
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
  });
});

describe('Expect: 100-continue (curl sends it for large bodies)', () => {
  /** A PUT that sends its body only on 100 Continue; says whether it did. */
  function putExpecting(
    url: string,
    name: string,
    data: Buffer,
  ): Promise<{ status: number; continued: boolean; connection: string | undefined }> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      let continued = false;
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          method: 'PUT',
          path: zipPath(name),
          agent: false,
          headers: { 'content-length': String(data.length), 'repr-digest': digestOf(data), expect: '100-continue' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, continued, connection: res.headers.connection }));
        },
      );
      req.on('continue', () => {
        continued = true;
        req.end(data);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  it('asks for the body only once the checks before it pass', async () => {
    const { dir, receiver: r } = await receiver({ tls: false });
    const z = await makeZip({ dir, keys: leaf });
    expect(await putExpecting(r.url, z.name, z.data)).toMatchObject({ status: 201, continued: true });
    // The retry is answered from the receipt: its body is never asked for, and the connection ends.
    expect(await putExpecting(r.url, z.name, z.data)).toEqual({ status: 200, continued: false, connection: 'close' });
    expect(await putExpecting(r.url, 'bad.zip', z.data)).toEqual({ status: 400, continued: false, connection: 'close' });
  });
});

describe('close()', () => {
  it('aborts an upload still receiving its body, leaves no partial file, and closes every socket', async () => {
    const { setup, dir, receiver: r, logger } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    const upload = await partialUpload(r.url, z.name, z.data, 200, { tls: { ca: pki.ca.certPath } });
    await logger.waitFor((l) => l.message === 'receiving' && l.fields.zip === z.name);
    // An idle keep-alive TLS connection must not keep close() waiting either.
    const idle = tlsConnect({ host: '127.0.0.1', port: r.port, ca: await readFile(pki.ca.certPath) });
    await new Promise((resolve) => idle.once('secureConnect', resolve));
    const idleClosed = new Promise((resolve) => idle.once('close', resolve));
    await r.close();
    expect(await upload.done).toBeInstanceOf(Error);
    await idleClosed;
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
    expect((await logger.upload(z.name)).fields.outcome).toBe('aborted');
    // Closing twice is harmless.
    await r.close();
  });

  it('lets an upload past its body finish: it is stored and answered before close() resolves', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    const answer = put(r.url, z.name, z.data, { tls: { ca: pki.ca.certPath } });
    const stored = await answer;
    await r.close();
    expect(stored.status).toBe(201);
    // Promoted, or left in zipdir for the next start: never lost, never partial.
    const everywhere = [...(await names(setup.config.dirs.zipdir!)), ...(await names(setup.config.dirs.dbdir!))];
    expect(everywhere.length).toBeGreaterThan(0);
  });
});
