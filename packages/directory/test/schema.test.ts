import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_TYPES, OID_ARC, SELF_DESCRIPTION_ATTRS, schemaFile, schemaLdif } from '../src/index.js';
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
    expect(ATTRIBUTE_TYPES.map((a) => a.name)).toEqual(['zeninvRollUpLog', 'zeninvDiscardScanDataTime', 'zenrollPublicKey', 'zenrollStatusLog', ...SELF_DESCRIPTION_ATTRS]);
  });

  it('is accepted by slaptest through a slapd.conf that includes it (and a broken one is not)', async () => {
    const scratch = await tempDir();
    const conf = (schema: string) => [
      'include /etc/ldap/schema/core.schema', 'include /etc/ldap/schema/cosine.schema', `include ${schema}`,
      'modulepath /usr/lib/ldap', 'moduleload back_mdb', 'database mdb', 'suffix "o=ACME"', `directory ${scratch.path}`, '',
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

  it('loads into a running cn=config slapd with ldapadd -Y EXTERNAL over ldapi, then serves the class', async () => {
    const slapd = await startSlapd({ cnConfig: true, schema: false, servers: [] });
    try {
      const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
      const entry = [
        'dn: cn=X_ZenInvService,o=ACME', 'objectClass: applicationProcess', 'objectClass: zeninvRollUpTarget',
        'cn: X_ZenInvService', 'zeninvRollUpLog: {"v":1}', 'zeninvDiscardScanDataTime: 20261122103000Z',
        `zenrollPublicKey:: ${Buffer.from(pem).toString('base64')}`, '',
      ].join('\n');
      // Before: slapd does not know the class ("objectClass: value #1 invalid per syntax").
      await expect(ldapUtil('ldapadd', slapd.rootArgs(), entry)).rejects.toThrow(/objectClass: value #1 invalid/);
      await ldapUtil('ldapadd', ['-Y', 'EXTERNAL', '-H', slapd.ldapiUrl, '-f', join(SCHEMA_DIR, 'zenroll.ldif')]);
      await ldapUtil('ldapadd', slapd.rootArgs(), entry);
      const out = await ldapUtil('ldapsearch', [...slapd.rootArgs(), '-b', 'cn=X_ZenInvService,o=ACME', '-s', 'base', '-LLL', 'zenrollPublicKey', 'zeninvRollUpLog']);
      expect(ldifValues(out, 'zenrollPublicKey')).toEqual([pem]);
      expect(ldifValues(out, 'zeninvRollUpLog')).toEqual(['{"v":1}']);
      // cn=config keeps it: it is still there after a restart.
      await slapd.restart();
      const schema = await ldapUtil('ldapsearch', ['-Y', 'EXTERNAL', '-H', slapd.ldapiUrl, '-b', 'cn=schema,cn=config', '-LLL', '(cn=*zenroll)', 'dn']);
      expect(schema).toMatch(/dn: cn=\{\d+\}zenroll,cn=schema,cn=config/);
    } finally {
      await slapd.destroy();
    }
  });
});
