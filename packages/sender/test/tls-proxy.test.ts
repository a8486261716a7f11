import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLog, makeCertificate } from '@zenroll/core';
import { createParentClient, makeDispatcher } from '../src/client.js';
import { runRollup } from '../src/rollup.js';
import { startConnectProxy, type ConnectProxy } from '@zenroll/testkit';
import { fakeTimers, makeSender } from './helpers/setup.js';
import { writeStrs } from './helpers/strs.js';
import { TestReceiver } from '@zenroll/testkit';

let pki: string;
const ca = () => ({ certPath: join(pki, 'ca.crt'), keyPath: join(pki, 'ca.key') });
const server = () => ({ cert: join(pki, 'server.crt'), key: join(pki, 'server.key') });
const client = () => ({ cert: join(pki, 'client.crt'), key: join(pki, 'client.key') });

beforeAll(async () => {
  pki = await mkdtemp(join(tmpdir(), 'zenroll-pki-'));
  await makeCertificate({ ...ca(), hosts: [], commonName: 'zenroll test CA', isCa: true });
  await makeCertificate({
    certPath: server().cert,
    keyPath: server().key,
    hosts: ['127.0.0.1', 'localhost'],
    commonName: 'INT1',
    ca: ca(),
  });
  await makeCertificate({ certPath: client().cert, keyPath: client().key, hosts: [], commonName: 'LEAF1', ca: ca() });
}, 60_000);

afterAll(async () => {
  await rm(pki, { recursive: true, force: true });
});

/** One roll-up of 3 .str against `receiver` with `sender` settings; cleans up after itself. */
async function rollUpTo(receiver: TestReceiver, sender: Record<string, unknown>) {
  const s = await makeSender({ parent: receiver.url, sender: { retry: { tries: 1 }, ...sender } });
  try {
    await writeStrs(s.entmergedir, 3);
    return await runRollup(s.config, { log: new MemoryLog(), keys: s.keys, timers: fakeTimers() });
  } finally {
    await s.cleanup();
  }
}

async function withReceiver<T>(tls: TestReceiver['options']['tls'], body: (r: TestReceiver) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'zenroll-parent-'));
  const r = await TestReceiver.start({ dir, ...(tls === undefined ? {} : { tls }) });
  try {
    return await body(r);
  } finally {
    await r.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('TLS towards the parent (sender.tls)', () => {
  it('sends over HTTPS to a parent whose certificate sender.tls.ca signed', async () => {
    await withReceiver(server(), async (r) => {
      const result = await rollUpTo(r, { tls: { ca: ca().certPath } });
      expect(result.sent.map((z) => z.status)).toEqual([201]);
      expect(r.stored).toHaveLength(1);
    });
  });

  it('does not trust that certificate without sender.tls.ca, and says so naming sender.tls.ca (the words zenroll doctor uses too)', async () => {
    await withReceiver(server(), async (r) => {
      const result = await rollUpTo(r, {});
      expect(result.sent).toEqual([]);
      expect(result.left[0]?.reason).toContain('certificate not trusted: sender.tls.ca is not set and no system CA signed it');
      expect(result.problems).toEqual([
        expect.objectContaining({
          code: 'RECEIVER_TLS_UNTRUSTED',
          fix: "copy the parent's CA certificate (for a self-signed parent, its tls/server.crt) here and set sender.tls.ca to it; a new server: zenroll init … --parent-ca FILE",
        }),
      ]);
      expect(r.stored).toHaveLength(0);
    });
  });

  it('presents sender.tls.cert to a parent that requires client certificates', async () => {
    await withReceiver({ ...server(), clientCa: ca().certPath }, async (r) => {
      const refused = await rollUpTo(r, { tls: { ca: ca().certPath } });
      expect(refused.sent).toEqual([]);
      expect(refused.problems).toEqual([expect.objectContaining({ code: 'RECEIVER_TLS_CLIENT_CERT' })]);
      const result = await rollUpTo(r, { tls: { ca: ca().certPath, ...client() } });
      expect(result.sent.map((z) => z.status)).toEqual([201]);
      expect(r.stored).toHaveLength(1);
    });
  });
});

describe('a parent that requires a client certificate the Sender does not present', () => {
  it('is named as such, not as a closed connection: its "certificate required" alert, asked again by a handshake of its own', async () => {
    await withReceiver({ ...server(), clientCa: ca().certPath }, async (r) => {
      const s = await makeSender({ parent: r.url, sender: { tls: { ca: ca().certPath } } });
      const client = createParentClient(s.config.sender, await makeDispatcher(s.config.sender), { ownsDispatcher: true });
      try {
        // GET /v1/info: the parent closes before undici reads its alert ("other side closed"), so the Sender probes.
        const err = await client.info().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'RECEIVER_TLS_CLIENT_CERT' });
        expect(err).toHaveProperty('details.fix', expect.stringContaining('sender.tls.cert and sender.tls.key'));
        expect(String(err)).toContain('requires a TLS client certificate, and this Sender presents none');
      } finally {
        await client.close();
        await s.cleanup();
      }
    });
  });
});

describe('an HTTP proxy between the levels (sender.proxy)', () => {
  let proxy: ConnectProxy;
  beforeAll(async () => {
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('tunnels a plain HTTP parent through CONNECT', async () => {
    await withReceiver(undefined, async (r) => {
      const before = proxy.connects.length;
      const result = await rollUpTo(r, { proxy: proxy.url });
      expect(result.sent.map((z) => z.status)).toEqual([201]);
      expect(proxy.connects.slice(before).map((c) => c.target)).toEqual([new URL(r.url).host]);
    });
  });

  it('tunnels an HTTPS parent, checked against sender.tls.ca end to end', async () => {
    await withReceiver(server(), async (r) => {
      const before = proxy.connects.length;
      const result = await rollUpTo(r, { proxy: proxy.url, tls: { ca: ca().certPath } });
      expect(result.sent.map((z) => z.status)).toEqual([201]);
      expect(r.stored).toHaveLength(1);
      expect(proxy.connects.slice(before).map((c) => c.target)).toEqual([new URL(r.url).host]);
    });
  });

  it('connects to the proxy from sender.localAddress (a floating address, SPEC §9)', async () => {
    await withReceiver(undefined, async (r) => {
      const before = proxy.connects.length;
      const result = await rollUpTo(r, { proxy: proxy.url, localAddress: '127.0.0.4' });
      expect(result.sent.map((z) => z.status)).toEqual([201]);
      expect(proxy.connects.slice(before).map((c) => c.from)).toEqual(['127.0.0.4']);
    });
  });
});
