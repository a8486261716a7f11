import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKeyPem, serializeRecord, type RollupRecord, type ZenrollError } from '@zenroll/core';
import { LdapDirectory, type ClientFactory, type LdapDirectoryOptions } from '../src/index.js';
import { freePort, freshServer, ldapOptions, ldapUtil, rec, sentFor, startSlapd, tempDir, type Slapd } from './helpers.js';
import { ldapsearchLog } from './ldapsearch.js';

/** Counts the requests a real client sends (not a mock: it still talks to slapd). */
function counting(): { createClient: ClientFactory; calls: Record<string, number> } {
  const calls: Record<string, number> = { modify: 0, search: 0, bind: 0 };
  const createClient: ClientFactory = (o) => {
    const c = new Client(o);
    for (const name of ['modify', 'search', 'bind'] as const) {
      const real = c[name].bind(c) as (...a: unknown[]) => Promise<unknown>;
      (c as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return real(...a);
      };
    }
    return c;
  };
  return { createClient, calls };
}

async function failure(p: Promise<unknown>): Promise<ZenrollError> {
  try {
    await p;
  } catch (err) {
    return err as ZenrollError;
  }
  throw new Error('expected a failure');
}

describe('LdapDirectory against a private slapd', { timeout: 60_000 }, () => {
  let slapd: Slapd;
  const open: LdapDirectory[] = [];
  const dir = (extra: Partial<LdapDirectoryOptions> = {}, as = 'LEAF1') => {
    const d = new LdapDirectory(ldapOptions(slapd, as, extra));
    open.push(d);
    return d;
  };

  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    for (const d of open) await d.close();
    await slapd?.destroy();
  });

  it('adds one value per record with one modify each, and trims to exactly the newest keep', async () => {
    const server = await freshServer(slapd);
    const { createClient, calls } = counting();
    const d = dir({ keep: 5, createClient });
    const records = Array.from({ length: 12 }, () => rec(server));
    for (const record of records) await d.apply({ record });
    expect(await d.readRecords(server, 100)).toEqual(records.slice(-5).reverse());
    expect(await ldapsearchLog(slapd, server)).toEqual(records.slice(-5).map(serializeRecord));
    // One search to learn the object, then nothing but one modify per record.
    expect(calls).toMatchObject({ bind: 1, modify: 12, search: 2 });
  });

  it('replaces zipped by sent in one modify, trimming in the same one', async () => {
    const server = await freshServer(slapd);
    const d = dir({ keep: 3 });
    const [a, b, c] = [rec(server), rec(server), rec(server)];
    for (const record of [a, b, c]) await d.apply({ record });
    const sent = sentFor(a);
    await d.apply({ record: sent, replaces: a });
    expect(await ldapsearchLog(slapd, server)).toEqual([b, c, sent].map(serializeRecord));
    const next = rec(server);
    await d.apply({ record: next });
    expect(await d.readRecords(server, 10)).toEqual([next, sent, c]);
  });

  it('replaces a v1 zipped value an earlier version wrote by a v2 sent record, and reads both forms', async () => {
    const server = await freshServer(slapd);
    const v1 =
      `{"v":1,"id":"old-1","time":"2026-11-01T10:00:00.000Z","source":"sender","event":"zipped","severity":"info","server":"${server}",` +
      `"zip":"20261101100000000_${server}_ACME_0.zip","bytes":10,"files":2,"from":"${server}","to":"","transferMs":0,"totalMs":5,"message":"été"}`;
    const other = v1.replaceAll('old-1', 'old-2').replace('10:00:00.000Z', '10:00:01.000Z');
    await ldapUtil(
      'ldapmodify',
      slapd.rootArgs(),
      `dn: ${slapd.serverDN(server)}\nchangetype: modify\nadd: zeninvRollUpLog\nzeninvRollUpLog:: ${Buffer.from(v1).toString('base64')}\nzeninvRollUpLog:: ${Buffer.from(other).toString('base64')}\n`,
    );
    const d = dir();
    const [newer, zipped] = await d.readRecords(server, 10);
    expect(zipped).toMatchObject({ v: 1, id: 'old-1', event: 'zipped', message: 'été', server });
    expect(newer?.id).toBe('old-2');
    const sent = { ...sentFor(zipped as RollupRecord), v: 2 as const, origin: server };
    await d.apply({ record: sent, replaces: zipped as RollupRecord });
    expect(await ldapsearchLog(slapd, server)).toEqual([other, serializeRecord(sent)]);
  });

  it('is idempotent: applying again, or after another writer changed the object, leaves each record once', async () => {
    const server = await freshServer(slapd);
    const d = dir();
    const zipped = rec(server);
    await d.apply({ record: zipped });
    await d.apply({ record: zipped });
    const sent = sentFor(zipped);
    await d.apply({ record: sent, replaces: zipped });
    await d.apply({ record: sent, replaces: zipped });
    // Another server adds a record the first one has not seen: its cache is stale.
    const other = dir({}, 'INT1');
    const theirs = rec(server, 'sent');
    await other.apply({ record: theirs });
    // A value that is already there (code 20) and a replaced one that is gone (16): both "already applied".
    const mine = rec(server);
    await other.apply({ record: mine });
    await d.apply({ record: mine });
    const mineSent = sentFor(mine);
    await d.apply({ record: mineSent, replaces: mine });
    await other.apply({ record: mineSent, replaces: mine });
    const values = await ldapsearchLog(slapd, server);
    expect(values).toHaveLength(3);
    expect(new Set(values).size).toBe(3);
    expect(values).toEqual([sent, theirs, mineSent].map(serializeRecord));
  });

  it('matches what ldapsearch shows, non-ASCII included', async () => {
    const server = await freshServer(slapd);
    const d = dir();
    const records = [rec(server, 'zipped', { message: 'Größe überschritten: "50" \\ files' }), rec(server, 'discarded')];
    for (const record of records) await d.apply({ record });
    const viaLdapsearch = await ldapsearchLog(slapd, server);
    expect(viaLdapsearch).toEqual(records.map(serializeRecord));
    expect((await d.readRecords(server, 10)).map(serializeRecord)).toEqual([...viaLdapsearch].reverse());
  });

  it('reads the discard scan data time, or null', async () => {
    const d = dir();
    expect(await d.readDiscardBefore('INT1')).toBeNull();
    await ldapUtil(
      'ldapmodify',
      slapd.rootArgs(),
      `dn: ${slapd.serverDN('INT1')}\nchangetype: modify\nreplace: zeninvDiscardScanDataTime\nzeninvDiscardScanDataTime: 20261122103000.250Z\n`,
    );
    expect((await d.readDiscardBefore('INT1'))?.toISOString()).toBe('2026-11-22T10:30:00.250Z');
  });

  it('publishes a PEM key on its own object only, and lists the published keys', async () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
    const leaf2 = dir({}, 'LEAF2');
    await leaf2.publishPublicKey('LEAF2', pem);
    expect(await dir().readPublicKey('LEAF2')).toBe(pem);
    expect(await dir().readPublicKey('LEAF1')).toBeNull();
    const refused = await failure(leaf2.publishPublicKey('ROOT', pem));
    expect(refused.code).toBe('DIRECTORY_WRITE_FAILED');
    expect(refused.details).toMatchObject({ resultCode: 50, scope: 'session' });
    expect(await dir().listPublicKeys()).toEqual([{ server: 'LEAF2', pem }]);
    // In the directory it is one line (SPEC §7), as ldapsearch shows it.
    const shown = await ldapUtil('ldapsearch', [
      ...slapd.rootArgs(),
      '-b',
      slapd.serverDN('LEAF2'),
      '-s',
      'base',
      '-LLL',
      '-o',
      'ldif-wrap=no',
      'zenrollPublicKey',
    ]);
    expect(shown).toContain(
      'zenrollPublicKey: -----BEGIN PUBLIC KEY----- MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE= -----END PUBLIC KEY-----\n',
    );
  });

  it('reads a published key whose line breaks a browser dropped (one "Update Object" click)', async () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
    await ldapUtil(
      'ldapmodify',
      slapd.rootArgs(),
      `dn: ${slapd.serverDN('LEAF2')}\nchangetype: modify\nreplace: zenrollPublicKey\nzenrollPublicKey: ${pem.replaceAll('\n', '')}\n`,
    );
    expect(await dir().readPublicKey('LEAF2')).toBe(pem);
    expect(await dir().listPublicKeys()).toContainEqual({ server: 'LEAF2', pem });
    expect(parsePublicKeyPem((await dir().readPublicKey('LEAF2')) ?? '').asymmetricKeyType).toBe('ed25519');
  });

  it('handles server names that need DN escaping, there and back', async () => {
    const name = 'LE,AF é+1';
    await slapd.addServers([name]);
    const r = rec(name);
    await dir().apply({ record: r });
    expect(await dir().readRecords(name, 5)).toEqual([r]);
    const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAm0Vn4K7ekZD0h2LwFN0XdY4xk8cgbDxj0t1kCqL2Tk0=\n-----END PUBLIC KEY-----\n';
    await dir({}, name).publishPublicKey(name, pem);
    expect(await dir().listPublicKeys()).toContainEqual({ server: name, pem });
  });

  it('says clearly what is wrong: bad password, unknown object, no server', async () => {
    const scratch = await tempDir();
    const wrong = join(scratch.path, 'wrong.pw');
    await writeFile(wrong, 'not-the-password\n');
    const bad = await failure(dir({ passwordFile: wrong }).apply({ record: rec('LEAF1') }));
    expect(bad.code).toBe('DIRECTORY_WRITE_FAILED');
    expect(bad.details).toMatchObject({ resultCode: 49, scope: 'session' });
    expect(bad.message).toContain('directory.passwordFile');

    const missing = await failure(dir().apply({ record: rec('NOSUCH') }));
    expect(missing.code).toBe('DIRECTORY_WRITE_FAILED');
    expect(missing.details).toMatchObject({ resultCode: 32, scope: 'record' });
    expect(missing.message).toContain('cn=NOSUCH_ZenInvService');

    // A refused connection is reported as refused, from the socket's own error: with timeouts far
    // beyond the test's (60 s), one left to a timeout would hang, and vitest fails the test.
    const port = await freePort();
    const { createClient, calls } = counting();
    const never = 10 * 60_000;
    const down = await failure(dir({ url: `ldap://127.0.0.1:${port}`, timeoutMs: never, createClient }).readRecords('LEAF1', 1));
    expect(down.code).toBe('DIRECTORY_UNREACHABLE');
    expect(down.message).toContain('ECONNREFUSED');
    expect(down.details).toMatchObject({ scope: 'session', errno: 'ECONNREFUSED' });
    expect(calls).toEqual({ modify: 0, search: 0, bind: 1 }); // one try, no retry
    await scratch.remove();
  });

  it('allows no anonymous access at all', async () => {
    const server = await freshServer(slapd);
    const c = new Client({ url: slapd.url, timeout: 2000, connectTimeout: 2000 });
    const value = serializeRecord(rec(server));
    const add = new Change({ operation: 'add', modification: new Attribute({ type: 'zeninvRollUpLog', values: [value] }) });
    // `require authc`: slapd refuses anything unauthenticated: a modify with 8
    // (strong authentication required), a search with 53 (unwilling).
    await expect(c.modify(`cn=${server}_ZenInvService,${slapd.suffix}`, add)).rejects.toMatchObject({ code: 8 });
    await expect(c.search(slapd.suffix, { scope: 'sub' })).rejects.toMatchObject({ code: 53 });
    await expect(c.bind('', '')).rejects.toMatchObject({ code: 48 }); // disallow bind_anon
    await expect(ldapUtil('ldapsearch', ['-x', '-H', slapd.url, '-b', slapd.suffix])).rejects.toThrow(/anonymous bind disallowed/);
    expect(await ldapsearchLog(slapd, server)).toEqual([]);
    await c.unbind();
  });

  it('is authenticated again after slapd restarts (anonymous writes would be refused)', async () => {
    const server = await freshServer(slapd);
    const { createClient, calls } = counting();
    const d = dir({ createClient });
    await d.apply({ record: rec(server) });
    await slapd.restart();
    const after = rec(server);
    await d.apply({ record: after });
    expect((await d.readRecords(server, 1))[0]).toEqual(after);
    expect(calls.bind).toBe(2); // ours, then the one ldapts replays (autoRebind)
  });
});
