/** The pure parts: trimming plans, GeneralizedTime, DN templates. No disk, no LDAP. */
import { describe, expect, it } from 'vitest';
import { formatGeneralizedTime, parseGeneralizedTime } from '../src/index.js';
import { baseOfTemplate, serverOfDn, splitDn, unescapeDnValue } from '../src/dn.js';
import { planModify, type TimedValue } from '../src/records.js';

const v = (value: string, time: number): TimedValue => ({ value, time });

describe('planModify', () => {
  const three = [v('a', 1), v('b', 2), v('c', 3)];
  it.each([
    ['adds below keep', three, v('d', 4), null, 5, { add: 'd', remove: [], after: ['a', 'b', 'c', 'd'] }],
    ['adds and drops the oldest at keep', three, v('d', 4), null, 3, { add: 'd', remove: ['a'], after: ['b', 'c', 'd'] }],
    ['replaces in the same modify', three, v('B', 5), 'b', 3, { add: 'B', remove: ['b'], after: ['a', 'c', 'B'] }],
    ['trims several when keep went down', three, v('d', 4), null, 1, { add: 'd', remove: ['a', 'b', 'c'], after: ['d'] }],
    ['does nothing when already applied', three, v('c', 3), null, 3, { add: null, remove: [], after: ['a', 'b', 'c'] }],
    ['does nothing when the replacement already happened', three, v('c', 3), 'x', 3, { add: null, remove: [], after: ['a', 'b', 'c'] }],
    ['does not add a value older than everything kept', three, v('z', 0), null, 3, { add: null, remove: [], after: ['a', 'b', 'c'] }],
    ['keeps write order among equal times', [v('a', 1), v('b', 1)], v('c', 1), null, 5, { add: 'c', remove: [], after: ['a', 'b', 'c'] }],
    ['places an older record by its time', [v('a', 1), v('c', 3)], v('b', 2), null, 5, { add: 'b', remove: [], after: ['a', 'b', 'c'] }],
  ] as const)('%s', (_, current, add, replaces, keep, want) => {
    const plan = planModify(current, add, replaces, keep);
    expect({ add: plan.add, remove: plan.remove, after: plan.after.map((x) => x.value) }).toEqual(want);
  });
});

describe('GeneralizedTime', () => {
  it.each([
    ['20261122103000Z', '2026-11-22T10:30:00.000Z'],
    ['20261122103000.25Z', '2026-11-22T10:30:00.250Z'],
    ['202611221030Z', '2026-11-22T10:30:00.000Z'],
    ['2026112210Z', '2026-11-22T10:00:00.000Z'],
    ['2026112210.5Z', '2026-11-22T10:30:00.000Z'],
    ['20261122113000+0100', '2026-11-22T10:30:00.000Z'],
    ['20261122053000-05', '2026-11-22T10:30:00.000Z'],
  ])('parses %s', (text, iso) => {
    expect(parseGeneralizedTime(text)?.toISOString()).toBe(iso);
  });
  it.each(['', '2026-11-22T10:30:00Z', '20261122103000', '20261322103000Z', '20260230103000Z', '20261122250000Z'])('refuses %j', (text) => {
    expect(parseGeneralizedTime(text)).toBeNull();
  });
  it('formats what it parses', () => {
    for (const iso of ['2026-11-22T10:30:00.000Z', '2026-01-02T03:04:05.678Z']) {
      expect(parseGeneralizedTime(formatGeneralizedTime(new Date(iso)))?.toISOString()).toBe(iso);
    }
    expect(formatGeneralizedTime(new Date('2026-11-22T10:30:00.000Z'))).toBe('20261122103000Z');
  });
});

describe('DN templates', () => {
  const template = 'cn={server}_ZenInvService,o=ACME';
  it('splits at unescaped commas only', () => {
    expect(splitDn('cn=a\\,b,o=ACME')).toEqual(['cn=a\\,b', 'o=ACME']);
  });
  it('finds the search base', () => {
    expect(baseOfTemplate(template)).toBe('o=ACME');
    expect(baseOfTemplate('cn=Inventory,ou={server},ou=Servers,o=ACME')).toBe('ou=Servers,o=ACME');
  });
  it.each([
    ['cn=LEAF1_ZenInvService,o=ACME', 'LEAF1'],
    ['CN=LEAF1_ZenInvService, O=acme', 'LEAF1'],
    ['cn=LE\\2CAF_ZenInvService,o=ACME', 'LE,AF'],
    ['cn=LE\\,AF_ZenInvService,o=ACME', 'LE,AF'],
    ['cn=\\C3\\A9t\\C3\\A9_ZenInvService,o=ACME', 'été'],
    ['cn=LEAF1,o=ACME', null],
    ['cn=LEAF1_ZenInvService,o=OTHER', null],
    ['cn=_ZenInvService,o=ACME', null],
  ])('maps %s to %j', (dn, server) => {
    expect(serverOfDn(template, dn)).toBe(server);
  });
  it('unescapes hex pairs as UTF-8', () => {
    expect(unescapeDnValue('a\\20b\\\\c')).toBe('a b\\c');
  });
});
