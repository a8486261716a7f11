import { join } from 'node:path';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate } from '@zenroll/core';
import { LdapDirectory, type ClientFactory, type LdapDirectoryOptions } from '../src/index.js';
import { freshServer, ldapOptions, openHandles, rec, sleep, startSlapd, tempDir, type Slapd } from './helpers.js';

/**
 * Far beyond the test's own timeout (60 s): a call that waits for ldapts to time
 * out a request hangs, and vitest fails the test, whatever the machine's load.
 */
const NEVER_MS = 10 * 60_000;

/** Each real client the session makes, and the requests sent on each (not a mock: they still talk to slapd). */
function recording(): { createClient: ClientFactory; requests: string[][] } {
  const requests: string[][] = [];
  const createClient: ClientFactory = (o) => {
    const c = new Client(o);
    const sent: string[] = [];
    requests.push(sent);
    for (const name of ['modify', 'search', 'bind', 'startTLS', 'unbind'] as const) {
      const real = c[name].bind(c) as (...a: unknown[]) => Promise<unknown>;
      (c as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        sent.push(name);
        return real(...a);
      };
    }
    return c;
  };
  return { createClient, requests };
}

describe('TLS towards the directory: ldaps:// and StartTLS with a CA file', { timeout: 60_000 }, () => {
  let slapd: Slapd;
  let certs: { path: string; remove: () => Promise<void> };
  let caFile: string;
  const open: LdapDirectory[] = [];
  const dir = (extra: Partial<LdapDirectoryOptions>) => {
    const d = new LdapDirectory(ldapOptions(slapd, 'LEAF1', extra));
    open.push(d);
    return d;
  };

  beforeAll(async () => {
    certs = await tempDir('zenroll-ldap-tls-');
    caFile = join(certs.path, 'ca.crt');
    const ca = { certPath: caFile, keyPath: join(certs.path, 'ca.key') };
    await makeCertificate({ ...ca, hosts: [], commonName: 'zenroll test CA', isCa: true });
    const tls = { cert: join(certs.path, 'slapd.crt'), key: join(certs.path, 'slapd.key') };
    await makeCertificate({ certPath: tls.cert, keyPath: tls.key, hosts: ['127.0.0.1', 'localhost'], commonName: 'localhost', ca });
    slapd = await startSlapd({ tls });
  });
  afterAll(async () => {
    for (const d of open) await d.close();
    await slapd?.destroy();
    await certs?.remove();
  });

  it('writes and reads over ldaps:// trusting the CA file', async () => {
    const server = await freshServer(slapd);
    const d = dir({ url: slapd.ldapsUrl as string, caFile });
    const r = rec(server);
    await d.apply({ record: r });
    expect(await d.readRecords(server, 5)).toEqual([r]);
  });

  it('refuses a server certificate it cannot verify, as unreachable with the TLS reason', async () => {
    const err = await dir({ url: slapd.ldapsUrl as string })
      .readRecords('LEAF1', 1)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIRECTORY_UNREACHABLE', message: expect.stringMatching(/certificate/i) });
  });

  it('upgrades ldap:// with StartTLS, and after a restart upgrades and binds again itself', async () => {
    const server = await freshServer(slapd);
    const { createClient, requests } = recording();
    const d = dir({ startTls: true, caFile, timeoutMs: NEVER_MS, createClient });
    await d.apply({ record: rec(server) });
    expect(requests).toEqual([['startTLS', 'bind', 'search', 'modify']]);
    await slapd.restart();
    const after = rec(server);
    await d.apply({ record: after });
    // ldapts does not notice that an upgraded connection closed; we do: nothing more went into the
    // dropped connection (ldapts would wait out its request there), and one new connection upgraded,
    // bound and wrote, on the first try.
    expect(requests).toEqual([
      ['startTLS', 'bind', 'search', 'modify'],
      ['startTLS', 'bind', 'modify'],
    ]);
    expect((await d.readRecords(server, 1))[0]).toEqual(after);
  });

  it('closes a StartTLS session at once, leaving no socket or timer', async () => {
    const before = openHandles();
    const { createClient, requests } = recording();
    const d = new LdapDirectory(ldapOptions(slapd, 'LEAF1', { startTls: true, caFile, timeoutMs: NEVER_MS, createClient }));
    await d.readRecords('LEAF1', 1);
    // close ends the connection without a request (ldapts's unbind() on an upgraded connection the
    // server dropped waits out its timeout: here longer than vitest lets the test run), so it cannot wait on the server.
    await d.close();
    expect(requests).toEqual([['startTLS', 'bind', 'search']]);
    // The socket's handle goes a moment after destroy(): wait for the count to come back rather
    // than race it. A socket or timer left open keeps this waiting, and vitest fails the test.
    const leftOpen = () => {
      const now = openHandles();
      return now.sockets > before.sockets || now.timers > before.timers;
    };
    while (leftOpen()) await sleep(10);
  });

  it('does not send the password before TLS when the StartTLS handshake fails', async () => {
    const err = await dir({ startTls: true })
      .readRecords('LEAF1', 1)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIRECTORY_UNREACHABLE', message: expect.stringMatching(/certificate/i) });
  });
});
