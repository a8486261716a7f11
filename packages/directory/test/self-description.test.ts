/**
 * SPEC §8: each server writes what it is onto its own object, and one
 * subtree search reads every server's description back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_TYPES,
  LdapDirectory,
  SELF_DESCRIPTION_ATTRS,
  descriptionAttributes,
  descriptionFrom,
  parseTraffic,
  trafficText,
  type ServerDescription,
} from '../src/index.js';
import type { ZenrollError } from '@zenroll/core';
import { ldapOptions, ldapUtil, startSlapd, type Slapd } from './helpers.js';
import { ldifValues } from './ldapsearch.js';

const leaf: ServerDescription = {
  role: 'leaf',
  parent: 'INT1',
  parentUrl: 'https://127.0.0.1:7099',
  version: '0.1.0',
  schedule: '0 2 * * * (UTC)',
  lastRollup: '2026-11-22T10:30:05.123Z',
  lastRollupResult: 'ok zipped=2 sent=2 discarded=0 rejected=0 left=0',
  backlog: { strWaiting: 7, zipsWaiting: 1, zipsRejected: 0 },
  sent24h: { zips: 2, files: 100, bytes: 123456 },
  received24h: { zips: 0, files: 0, bytes: 0 },
  described: '2026-11-22T10:30:06.000Z',
  lateAfter: '2026-11-24T02:00:00.000Z',
};

const fromRecord = (attrs: Record<string, string[]>) => descriptionFrom((a) => attrs[a]?.[0]);

describe('the self-description, pure', () => {
  it('goes to attributes and back unchanged', () => {
    expect(fromRecord(descriptionAttributes(leaf))).toEqual(leaf);
    const root: ServerDescription = {
      ...leaf,
      role: 'root',
      parent: null,
      parentUrl: null,
      schedule: null,
      lastRollup: null,
      lastRollupResult: null,
      lateAfter: null,
      backlog: { strWaiting: null, zipsWaiting: 3, zipsRejected: 1 },
    };
    const attrs = descriptionAttributes(root);
    // An absent value is written as no value, which removes the attribute (the object says nothing false).
    expect(attrs.zenrollParent).toEqual([]);
    expect(attrs.zenrollStrWaiting).toEqual([]);
    expect(fromRecord(attrs)).toEqual(root);
  });

  it('is nothing (unknown) on an object that has no role or no time written', () => {
    expect(descriptionFrom(() => undefined)).toBeNull();
    const attrs = descriptionAttributes(leaf);
    expect(fromRecord({ ...attrs, zenrollRole: [] })).toBeNull();
    expect(fromRecord({ ...attrs, zenrollDescribed: [] })).toBeNull();
  });

  it('reads traffic text as written, and what is missing as 0', () => {
    expect(trafficText({ zips: 3, files: 120, bytes: 99 })).toBe('zips=3 files=120 bytes=99');
    expect(parseTraffic('zips=3 files=120 bytes=99')).toEqual({ zips: 3, files: 120, bytes: 99 });
    expect(parseTraffic('zips=3')).toEqual({ zips: 3, files: 0, bytes: 0 });
    expect(parseTraffic(undefined)).toEqual({ zips: 0, files: 0, bytes: 0 });
  });

  it('has one attribute type per name in the schema, and writes exactly those attributes', () => {
    const names = ATTRIBUTE_TYPES.map((a) => a.name);
    for (const a of SELF_DESCRIPTION_ATTRS) expect(names).toContain(a);
    expect(Object.keys(descriptionAttributes(leaf))).toEqual([...SELF_DESCRIPTION_ATTRS]);
  });
});

describe('the self-description in a private slapd', { timeout: 60_000 }, () => {
  let slapd: Slapd;
  const open: LdapDirectory[] = [];
  const dir = (as: string) => {
    const d = new LdapDirectory(ldapOptions(slapd, as));
    open.push(d);
    return d;
  };

  beforeAll(async () => {
    slapd = await startSlapd({ servers: ['ROOT', 'INT1', 'LEAF1', 'LEAF2'] });
  });
  afterAll(async () => {
    for (const d of open) await d.close();
    await slapd?.destroy();
  });

  it('is written by the server on its own object, replaced whole, and read for every server in one search', async () => {
    await dir('LEAF1').writeDescription('LEAF1', leaf);
    const next = { ...leaf, backlog: { strWaiting: 0, zipsWaiting: 0, zipsRejected: 0 }, described: '2026-11-22T10:40:00.000Z' };
    await dir('LEAF1').writeDescription('LEAF1', next);
    await dir('LEAF1').writeDescription('LEAF1', next);
    const root = { ...leaf, role: 'root', parent: null, parentUrl: null, schedule: null, lateAfter: null };
    await dir('ROOT').writeDescription('ROOT', root);
    const all = await dir('INT1').readDescriptions();
    expect(all).toEqual([
      { server: 'INT1', description: null },
      { server: 'LEAF1', description: next },
      { server: 'LEAF2', description: null },
      { server: 'ROOT', description: root },
    ]);
    // Readable in ldapsearch as plain values.
    const out = await ldapUtil('ldapsearch', [
      ...slapd.rootArgs(),
      '-b',
      slapd.serverDN('LEAF1'),
      '-s',
      'base',
      '-LLL',
      'zenrollStrWaiting',
      'zenrollSent24h',
      'zenrollLastRollup',
    ]);
    expect(ldifValues(out, 'zenrollStrWaiting')).toEqual(['0']);
    expect(ldifValues(out, 'zenrollSent24h')).toEqual(['zips=2 files=100 bytes=123456']);
    expect(ldifValues(out, 'zenrollLastRollup')).toEqual(['20261122103005.123Z']);
    // The operators (a person's LDAP browser) read it too, and cannot write it.
    const operator = ['-x', '-H', slapd.url, '-D', slapd.operatorDN, '-y', slapd.operatorPasswordFile];
    const seen = await ldapUtil('ldapsearch', [
      ...operator,
      '-b',
      slapd.serverDN('LEAF1'),
      '-s',
      'base',
      '-LLL',
      'zenrollRole',
      'zenrollParent',
    ]);
    expect([ldifValues(seen, 'zenrollRole'), ldifValues(seen, 'zenrollParent')]).toEqual([['leaf'], ['INT1']]);
    await expect(
      ldapUtil('ldapmodify', operator, `dn: ${slapd.serverDN('LEAF1')}\nchangetype: modify\nreplace: zenrollRole\nzenrollRole: root\n`),
    ).rejects.toThrow(/Insufficient access/);
  });

  it('cannot be written on another server’s object', async () => {
    const err = (await dir('LEAF2')
      .writeDescription('LEAF1', leaf)
      .catch((e: unknown) => e)) as ZenrollError;
    expect(err.code).toBe('DIRECTORY_WRITE_FAILED');
    expect(err.details).toMatchObject({ resultCode: 50 });
  });
});
