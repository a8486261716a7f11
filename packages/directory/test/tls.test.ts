import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate } from '@zenroll/core';
import { LdapDirectory, type LdapDirectoryOptions } from '../src/index.js';
import { freshServer, ldapOptions, openHandles, rec, sleep, startSlapd, tempDir, type Slapd } from './helpers.js';

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
    const d = dir({ startTls: true, caFile });
    await d.apply({ record: rec(server) });
    await slapd.restart();
    const started = Date.now();
    const after = rec(server);
    await d.apply({ record: after });
    // ldapts does not notice that an upgraded connection closed; we do, rather than wait out timeoutMs (2 s).
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await d.readRecords(server, 1))[0]).toEqual(after);
  });

  it('closes a StartTLS session at once, leaving no socket or timer', async () => {
    const before = openHandles();
    const d = new LdapDirectory(ldapOptions(slapd, 'LEAF1', { startTls: true, caFile }));
    await d.readRecords('LEAF1', 1);
    const started = Date.now();
    await d.close();
    expect(Date.now() - started).toBeLessThan(500);
    await sleep(50);
    const after = openHandles();
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });

  it('does not send the password before TLS when the StartTLS handshake fails', async () => {
    const err = await dir({ startTls: true })
      .readRecords('LEAF1', 1)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DIRECTORY_UNREACHABLE', message: expect.stringMatching(/certificate/i) });
  });
});
