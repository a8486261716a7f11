/**
 * How the private slapd's launcher fails: with ZenrollErrors whose code says
 * what happened and whose cause is ldap-utils' own error. A missing slapd or
 * ldap-utils names the Debian packages and their preseed, since the launcher
 * ships in the installed CLI (`zenroll demo`), whose user may have no clone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZenrollError, type ZenrollError } from '@zenroll/core';
import { INSTALL_SLAPD, notInstalledError } from '../src/slapd/index.js';
import { freePort, ldapUtil, startSlapd, tempDir, type Slapd } from './helpers.js';

async function failure(p: Promise<unknown>): Promise<ZenrollError> {
  const err: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isZenrollError(err)) throw new Error(`expected a ZenrollError, got ${String(err)}`);
  return err;
}

let slapd: Slapd;
beforeAll(async () => {
  slapd = await startSlapd({ servers: ['LEAF1'] });
}, 30_000);
afterAll(async () => {
  await slapd?.destroy();
});

describe('the private slapd launcher fails with ZenrollErrors', () => {
  it('a missing slapd or ldap-utils says which Debian packages to install, preseeded, not only the clone script', () => {
    const err = notInstalledError('slapd and ldap-utils are');
    expect(err.code).toBe('PROGRAM_MISSING');
    expect(err.message).toMatch(/^slapd and ldap-utils are not installed: .*slapd and ldap-utils$/);
    expect(err.fix).toBe(INSTALL_SLAPD);
    expect(err.fix).toContain("echo 'slapd slapd/no_configuration boolean true' | sudo debconf-set-selections");
    expect(err.fix).toContain('sudo apt-get install -y --no-install-recommends slapd ldap-utils');
    // The clone's script is named as the clone's way only, after the packages.
    expect(err.fix?.indexOf('scripts/system-deps.sh')).toBeGreaterThan(err.fix?.indexOf('apt-get install') ?? 0);
    expect(err.fix).toMatch(/in a clone of zenroll, `sudo bash scripts\/system-deps\.sh`/);
  });

  it('an ldap-utils command not on PATH: PROGRAM_MISSING, with the spawn error as cause', async () => {
    const empty = await tempDir('zenroll-nopath-');
    const path = process.env.PATH;
    process.env.PATH = empty.path;
    try {
      const err = await failure(ldapUtil('ldapsearch', ['-x', '-H', slapd.url, '-b', slapd.suffix]));
      expect(err.code).toBe('PROGRAM_MISSING');
      expect(err.message).toMatch(/^ldapsearch is not installed/);
      expect(err.fix).toBe(INSTALL_SLAPD);
      expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    } finally {
      process.env.PATH = path;
      await empty.remove();
    }
  });

  it('no slapd on the port: DIRECTORY_UNREACHABLE, with the command error as cause', async () => {
    const port = await freePort();
    const err = await failure(ldapUtil('ldapsearch', ['-x', '-H', `ldap://127.0.0.1:${port}`, '-b', 'o=ACME']));
    expect(err.code).toBe('DIRECTORY_UNREACHABLE');
    expect(err.message).toContain("Can't contact LDAP server");
    expect((err.cause as { code?: unknown }).code).toBe(255);
  });

  it('a read or a write the directory refuses: DIRECTORY_READ_FAILED or DIRECTORY_WRITE_FAILED, with its words', async () => {
    const read = await failure(ldapUtil('ldapsearch', [...slapd.rootArgs(), '-b', `o=NOPE,${slapd.suffix}`, '-LLL']));
    expect(read.code).toBe('DIRECTORY_READ_FAILED');
    expect(read.message).toContain('No such object');
    expect(read.cause).toBeInstanceOf(Error);
    const write = await failure(ldapUtil('ldapadd', slapd.rootArgs(), `dn: cn=x,${slapd.suffix}\nobjectClass: noSuchClass\ncn: x\n`));
    expect(write.code).toBe('DIRECTORY_WRITE_FAILED');
    expect(write.message).toMatch(/objectClass/);
    expect(write.cause).toBeInstanceOf(Error);
  });
});
