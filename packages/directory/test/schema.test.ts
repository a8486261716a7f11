import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_TYPES, OID_ARC, SELF_DESCRIPTION_ATTRS, schemaFile, schemaLdif } from '../src/index.js';
import { accessLdifFile } from '../src/slapd/config.js';
import { ldapUtil, startSlapd, tempDir } from './helpers.js';
import { ldifValues } from './ldapsearch.js';

const SCHEMA_DIR = join(import.meta.dirname, '..', 'schema');
const run = promisify(execFile);

describe('the LDAP schema', { timeout: 60_000 }, () => {
  it('is committed exactly as src/schema.ts generates it (npm run schema -w @zenroll/directory)', async () => {
    expect(await readFile(join(SCHEMA_DIR, 'zenroll.schema'), 'utf8')).toBe(schemaFile());
    expect(await readFile(join(SCHEMA_DIR, 'zenroll.ldif'), 'utf8')).toBe(schemaLdif());
  });

  it('states its OID arc once: every OID is under it, none repeated', () => {
    const oids = [...schemaFile().matchAll(/\( ([0-9.]+) NAME/g)].map((m) => m[1]);
    expect(oids).toHaveLength(ATTRIBUTE_TYPES.length + 1);
    expect(new Set(oids).size).toBe(oids.length);
    for (const oid of oids) expect(oid?.startsWith(`${OID_ARC}.`)).toBe(true);
    expect(ATTRIBUTE_TYPES.map((a) => a.name)).toEqual([
      'zeninvRollUpLog',
      'zeninvDiscardScanDataTime',
      'zenrollPublicKey',
      'zenrollStatusLog',
      ...SELF_DESCRIPTION_ATTRS,
    ]);
  });

  it('is accepted by slaptest through a slapd.conf that includes it (and a broken one is not)', async () => {
    const scratch = await tempDir();
    const conf = (schema: string) =>
      [
        'include /etc/ldap/schema/core.schema',
        'include /etc/ldap/schema/cosine.schema',
        `include ${schema}`,
        'modulepath /usr/lib/ldap',
        'moduleload back_mdb',
        'database mdb',
        'suffix "o=ACME"',
        `directory ${scratch.path}`,
        '',
      ].join('\n');
    await writeFile(join(scratch.path, 'good.conf'), conf(join(SCHEMA_DIR, 'zenroll.schema')));
    const good = await run('slaptest', ['-u', '-f', join(scratch.path, 'good.conf')]);
    expect(good.stderr).toContain('config file testing succeeded');
    const broken = join(scratch.path, 'broken.schema');
    await writeFile(broken, schemaFile().replace('EQUALITY caseExactMatch', 'EQUALITY noSuchMatch'));
    await writeFile(join(scratch.path, 'bad.conf'), conf(broken));
    await expect(run('slaptest', ['-u', '-f', join(scratch.path, 'bad.conf')])).rejects.toThrow(/noSuchMatch/);
    await scratch.remove();
  });

  it('ships the ACL for cn=config as generated from the rules the tests run under (npm run schema)', async () => {
    expect(await readFile(join(SCHEMA_DIR, 'zenroll-access.ldif'), 'utf8')).toBe(accessLdifFile('ACME'));
  });

  it('an existing cn=config OpenLDAP with zenroll.ldif and zenroll-access.ldif loaded: servers write logs, operators only read', async () => {
    // As the README tells an administrator: schema and ACL over ldapi as root, then the class on each object.
    const slapd = await startSlapd({ cnConfig: true, schema: false, servers: ['LEAF1'] });
    try {
      const external = ['-Y', 'EXTERNAL', '-H', slapd.ldapiUrl];
      await ldapUtil('ldapadd', [...external, '-f', join(SCHEMA_DIR, 'zenroll.ldif')]);
      await ldapUtil('ldapmodify', [...external, '-f', join(SCHEMA_DIR, 'zenroll-access.ldif')]);
      const dn = slapd.serverDN('LEAF1');
      await ldapUtil('ldapmodify', slapd.rootArgs(), `dn: ${dn}\nchangetype: modify\nadd: objectClass\nobjectClass: zeninvRollUpTarget\n`);
      const value =
        '2026-11-22T10:30:05.123Z zipped LEAF1 20261122103000000_LEAF1_ACME_0.zip files=1 origin=LEAF1 source=sender severity=info id=a v=2';
      const asLeaf = ['-x', '-H', slapd.url, '-D', dn, '-y', slapd.serverPasswordFile('LEAF1')];
      const asOperator = ['-x', '-H', slapd.url, '-D', slapd.operatorDN, '-y', slapd.operatorPasswordFile];
      await ldapUtil('ldapmodify', asLeaf, `dn: ${dn}\nchangetype: modify\nadd: zeninvRollUpLog\nzeninvRollUpLog: ${value}\n`);
      const seen = await ldapUtil('ldapsearch', [
        ...asOperator,
        '-b',
        dn,
        '-s',
        'base',
        '-LLL',
        '-o',
        'ldif-wrap=no',
        'zeninvRollUpLog',
        'userPassword',
      ]);
      expect(ldifValues(seen, 'zeninvRollUpLog')).toEqual([value]);
      expect(ldifValues(seen, 'userPassword')).toEqual([]);
      await expect(
        ldapUtil('ldapmodify', asOperator, `dn: ${dn}\nchangetype: modify\ndelete: zeninvRollUpLog\nzeninvRollUpLog: ${value}\n`),
      ).rejects.toThrow(/Insufficient access \(50\)/);
      await expect(ldapUtil('ldapsearch', ['-x', '-H', slapd.url, '-b', slapd.suffix, '-LLL'])).rejects.toThrow(
        /anonymous bind disallowed/,
      );
    } finally {
      await slapd.destroy();
    }
  });

  it('loads into a running cn=config slapd with ldapadd -Y EXTERNAL over ldapi, then serves the class', async () => {
    const slapd = await startSlapd({ cnConfig: true, schema: false, servers: [] });
    try {
      const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
      const entry = [
        'dn: cn=X_ZenInvService,o=ACME',
        'objectClass: applicationProcess',
        'objectClass: zeninvRollUpTarget',
        'cn: X_ZenInvService',
        'zeninvRollUpLog: {"v":1}',
        'zeninvDiscardScanDataTime: 20261122103000Z',
        `zenrollPublicKey:: ${Buffer.from(pem).toString('base64')}`,
        '',
      ].join('\n');
      // Before: slapd does not know the class ("objectClass: value #1 invalid per syntax").
      await expect(ldapUtil('ldapadd', slapd.rootArgs(), entry)).rejects.toThrow(/objectClass: value #1 invalid/);
      await ldapUtil('ldapadd', ['-Y', 'EXTERNAL', '-H', slapd.ldapiUrl, '-f', join(SCHEMA_DIR, 'zenroll.ldif')]);
      await ldapUtil('ldapadd', slapd.rootArgs(), entry);
      const out = await ldapUtil('ldapsearch', [
        ...slapd.rootArgs(),
        '-b',
        'cn=X_ZenInvService,o=ACME',
        '-s',
        'base',
        '-LLL',
        'zenrollPublicKey',
        'zeninvRollUpLog',
      ]);
      expect(ldifValues(out, 'zenrollPublicKey')).toEqual([pem]);
      expect(ldifValues(out, 'zeninvRollUpLog')).toEqual(['{"v":1}']);
      // cn=config keeps it: it is still there after a restart.
      await slapd.restart();
      const schema = await ldapUtil('ldapsearch', [
        '-Y',
        'EXTERNAL',
        '-H',
        slapd.ldapiUrl,
        '-b',
        'cn=schema,cn=config',
        '-LLL',
        '(cn=*zenroll)',
        'dn',
      ]);
      expect(schema).toMatch(/dn: cn=\{\d+\}zenroll,cn=schema,cn=config/);
    } finally {
      await slapd.destroy();
    }
  });
});
