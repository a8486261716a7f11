/**
 * The operators group of the shipped slapd setup (SPEC §7): the account a
 * person opens an LDAP browser with reads every object and every attribute
 * but passwords, and writes nothing. Proved against a real slapd, through
 * ldap-utils as a person would use them and through our own reader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { isZenrollError, publicKeyPem, serializeRecord } from '@zenroll/core';
import { LdapDirectory } from '../src/index.js';
import { ldapOptions, ldapUtil, rec, startSlapd, type Slapd } from './helpers.js';
import { ldifValues } from './ldapsearch.js';

describe('the operators group (a real slapd)', () => {
  let slapd: Slapd;
  let writer: LdapDirectory;
  const servers = ['LEAF1', 'INT1'];
  const written: Record<string, { rollup: string[]; status: string[] }> = {};

  beforeAll(async () => {
    slapd = await startSlapd({ servers });
    // Each server writes its own logs and publishes its key, as the service does.
    for (const s of servers) {
      writer = new LdapDirectory(ldapOptions(slapd, s));
      const zipped = rec(s, 'zipped');
      const started = rec(s, 'started', { source: 'service', zip: '', fields: { version: '0.1.0', role: 'leaf' } });
      await writer.apply({ record: zipped });
      await writer.apply({ record: started });
      await writer.publishPublicKey(s, publicKeyPem(generateKeyPairSync('ed25519').publicKey));
      written[s] = { rollup: [serializeRecord(zipped)], status: [serializeRecord(started)] };
      await writer.close();
    }
  });
  afterAll(async () => {
    await slapd?.destroy();
  });

  const asOperator = () => ['-x', '-H', slapd.url, '-D', slapd.operatorDN, '-y', slapd.operatorPasswordFile];

  it('reads every log, every key and every object of the tree', async () => {
    const ldif = await ldapUtil('ldapsearch', [...asOperator(), '-b', slapd.suffix, '-s', 'sub', '-LLL', '-o', 'ldif-wrap=no', '*']);
    const dns = ldifValues(ldif, 'dn');
    expect(dns).toEqual(
      expect.arrayContaining([
        slapd.suffix,
        slapd.serverDN('LEAF1'),
        slapd.serverDN('INT1'),
        slapd.operatorDN,
        `cn=zenroll-servers,${slapd.suffix}`,
        `cn=zenroll-operators,${slapd.suffix}`,
      ]),
    );
    for (const s of servers) {
      const entry = await ldapUtil('ldapsearch', [
        ...asOperator(),
        '-b',
        slapd.serverDN(s),
        '-s',
        'base',
        '-LLL',
        '-o',
        'ldif-wrap=no',
        'zeninvRollUpLog',
        'zenrollStatusLog',
        'zenrollPublicKey',
      ]);
      expect(ldifValues(entry, 'zeninvRollUpLog')).toEqual(written[s]?.rollup);
      expect(ldifValues(entry, 'zenrollStatusLog')).toEqual(written[s]?.status);
      expect(ldifValues(entry, 'zenrollPublicKey')[0]).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    }
    // Our own reader too, bound as the operator.
    const reader = new LdapDirectory({ ...ldapOptions(slapd), bindDN: slapd.operatorDN, passwordFile: slapd.operatorPasswordFile });
    try {
      expect((await reader.readRecords('INT1', 10)).map(serializeRecord)).toEqual(written.INT1?.rollup);
      expect((await reader.readRecords('INT1', 10, 'status')).map(serializeRecord)).toEqual(written.INT1?.status);
    } finally {
      await reader.close();
    }
  });

  it('never reads a password, not even its own', async () => {
    const ldif = await ldapUtil('ldapsearch', [
      ...asOperator(),
      '-b',
      slapd.suffix,
      '-s',
      'sub',
      '-LLL',
      '-o',
      'ldif-wrap=no',
      'userPassword',
      'cn',
    ]);
    expect(ldifValues(ldif, 'cn').length).toBeGreaterThanOrEqual(4);
    expect(ldifValues(ldif, 'userPassword')).toEqual([]);
    // The same search as a roll-up server shows no passwords either; as the admin it does (the check can fail).
    const admin = await ldapUtil('ldapsearch', [...slapd.rootArgs(), '-b', slapd.suffix, '-s', 'sub', '-LLL', 'userPassword']);
    expect(ldifValues(admin, 'userPassword').length).toBeGreaterThanOrEqual(3);
  });

  it('cannot add, delete or replace a log value, a key, a password, or an entry', async () => {
    const dn = slapd.serverDN('LEAF1');
    const [value] = written.LEAF1?.rollup ?? [];
    const tries = [
      `dn: ${dn}\nchangetype: modify\nadd: zeninvRollUpLog\nzeninvRollUpLog: ${serializeRecord(rec('LEAF1'))}\n`,
      `dn: ${dn}\nchangetype: modify\ndelete: zeninvRollUpLog\nzeninvRollUpLog: ${value}\n`,
      `dn: ${dn}\nchangetype: modify\nreplace: zenrollStatusLog\nzenrollStatusLog: ${serializeRecord(rec('LEAF1', 'stopped', { source: 'service' }))}\n`,
      `dn: ${dn}\nchangetype: modify\nreplace: zenrollPublicKey\nzenrollPublicKey: x\n`,
      `dn: ${slapd.operatorDN}\nchangetype: modify\nreplace: userPassword\nuserPassword: secret\n`,
      `dn: cn=zenroll-operators,${slapd.suffix}\nchangetype: modify\nadd: member\nmember: ${dn}\n`,
      `dn: cn=intruder,${slapd.suffix}\nchangetype: add\nobjectClass: organizationalRole\ncn: intruder\n`,
    ];
    for (const ldif of tries) {
      await expect(ldapUtil('ldapmodify', asOperator(), ldif)).rejects.toThrow(/Insufficient access \(50\)/);
    }
    const after = await ldapUtil('ldapsearch', [
      ...slapd.rootArgs(),
      '-b',
      dn,
      '-s',
      'base',
      '-LLL',
      '-o',
      'ldif-wrap=no',
      'zeninvRollUpLog',
    ]);
    expect(ldifValues(after, 'zeninvRollUpLog')).toEqual(written.LEAF1?.rollup);
    // Through our writer the refusal names the fix.
    const d = new LdapDirectory({ ...ldapOptions(slapd), bindDN: slapd.operatorDN, passwordFile: slapd.operatorPasswordFile });
    try {
      const err = await d.apply({ record: rec('LEAF1') }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isZenrollError(err, 'DIRECTORY_WRITE_FAILED')).toBe(true);
      expect((err as Error).message).toContain('insufficient access');
    } finally {
      await d.close();
    }
  });

  it('still refuses anonymous access', async () => {
    await expect(ldapUtil('ldapsearch', ['-x', '-H', slapd.url, '-b', slapd.suffix, '-LLL'])).rejects.toThrow(/anonymous bind disallowed/);
  });
});
