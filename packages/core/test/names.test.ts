import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZenrollError } from '../src/errors.js';
import {
  MAX_ENCODED_NAME,
  checkName,
  compareOuterNames,
  createdStatus,
  decodeName,
  encodeName,
  formatOuterName,
  formatScheduledTime,
  innerZipName,
  parseOuterName,
  parseScheduledTime,
  promotedName,
  promotedStatus,
  prpName,
  type OuterName,
  type StoredStatus,
} from '../src/names.js';

/** The ZenrollError `fn` throws; fails the test when it returns or throws anything else. */
function caught(fn: () => unknown): ZenrollError {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    if (err instanceof ZenrollError) return err;
    throw new Error(`expected a ZenrollError, got ${String(err)}`, { cause: err });
  }
  throw new Error(`expected a ZenrollError, got a result: ${JSON.stringify(result)}`);
}

const T = '20261122103000000';
const SAFE_OUTPUT = /^[A-Za-z0-9.%-]+$/;
const FORBIDDEN = ['_', '/', '\\', ':', '*', '?', '"', '<', '>', '|', ' '];
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const CONTROL = /[\u0000-\u001f\u007f]/;

describe('encodeName / decodeName', () => {
  it.each([
    ['LEAF1', 'LEAF1'],
    ['srv.acme-1', 'srv.acme-1'],
    ['LE_AF', 'LE%5FAF'],
    ['my server', 'my%20server'],
    ['é', '%C3%A9'],
    ['LE_AFé', 'LE%5FAF%C3%A9'],
    ['東京', '%E6%9D%B1%E4%BA%AC'],
    ['🚀', '%F0%9F%9A%80'],
    ['100%', '100%25'],
    ['%41', '%2541'],
    ['a/b\\c:d*e?f"g<h>i|j', 'a%2Fb%5Cc%3Ad%2Ae%3Ff%22g%3Ch%3Ei%7Cj'],
    ['~!', '%7E%21'],
    ['\uFEFFLEAF', '%EF%BB%BFLEAF'],
  ])('%j encodes to %j and decodes back', (name, encoded) => {
    expect(encodeName(name)).toBe(encoded);
    expect(decodeName(encoded)).toBe(name);
  });

  it('round-trips any well-formed Unicode string (code points)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (s) => {
        const encoded = encodeName(s);
        expect(encoded).toMatch(SAFE_OUTPUT);
        for (const ch of FORBIDDEN) expect(encoded).not.toContain(ch);
        expect(decodeName(encoded)).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips any well-formed Unicode string (graphemes)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), (s) => {
        const encoded = encodeName(s);
        expect(encoded).toMatch(SAFE_OUTPUT);
        expect(decodeName(encoded)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it('gives every name exactly one spelling: decodeName accepts only what encodeName produces', () => {
    const alphabet = fc.constantFrom(...'AaZz09.-%_/CFEBD38'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 12 }), (s) => {
        let decoded: string;
        try {
          decoded = decodeName(s);
        } catch (err) {
          expect(err).toBeInstanceOf(ZenrollError);
          expect((err as ZenrollError).code).toBe('NAME_INVALID');
          return;
        }
        expect(encodeName(decoded)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['', 'holds a character other than'],
    ['le%5faf', 'holds a character other than'],
    ['LE%5', 'holds a character other than'],
    ['LE%ZZ', 'holds a character other than'],
    ['LE_AF', 'holds a character other than'],
    ['LE AF', 'holds a character other than'],
    ['LE/AF', 'holds a character other than'],
    ['é', 'holds a character other than'],
    ['%41', 'not in canonical form'],
    ['%2E', 'not in canonical form'],
    ['%C3', 'is not UTF-8'],
    ['%C3%28', 'is not UTF-8'],
    ['%C0%AF', 'is not UTF-8'],
    ['%ED%A0%80', 'is not UTF-8'],
    ['%FF', 'is not UTF-8'],
  ])('decodeName(%j) is NAME_INVALID (%s)', (encoded, fragment) => {
    const err = caught(() => decodeName(encoded));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain(fragment);
  });

  it.each([
    ['', 'may not be empty'],
    ['\uD800', 'not well-formed Unicode'],
    ['a\uDC00b', 'not well-formed Unicode'],
  ])('encodeName(%j) is NAME_INVALID (%s)', (name, fragment) => {
    const err = caught(() => encodeName(name));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain(fragment);
  });
});

describe('checkName', () => {
  it.each(['\u0000', 'LE\tAF', 'LE\nAF', 'LE\rAF', '\u001f', 'LE\u007fAF'])('refuses the control character in %j', (name) => {
    for (const kind of ['server', 'tree'] as const) {
      const err = caught(() => checkName(kind, name));
      expect(err.code).toBe('NAME_INVALID');
      expect(err.message).toContain(`${kind} name`);
      expect(err.message).toContain('control character');
    }
  });

  it(`accepts an encoded length of exactly ${MAX_ENCODED_NAME} and refuses one more`, () => {
    expect(checkName('server', 'A'.repeat(MAX_ENCODED_NAME))).toBe('A'.repeat(MAX_ENCODED_NAME));
    const err = caught(() => checkName('server', 'A'.repeat(MAX_ENCODED_NAME + 1)));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain(`${MAX_ENCODED_NAME + 1} characters once encoded`);
  });

  it('measures the encoded length, not the number of characters', () => {
    // 19 × "é" is 19 characters but 114 once encoded (%C3%A9 each).
    const err = caught(() => checkName('tree', 'é'.repeat(19)));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain('114 characters once encoded');
    expect(checkName('tree', 'é'.repeat(18))).toHaveLength(108);
  });

  it('refuses an empty name', () => {
    expect(caught(() => checkName('server', '')).code).toBe('NAME_INVALID');
  });
});

describe('formatScheduledTime / parseScheduledTime', () => {
  it.each([
    [0, '19700101000000000'],
    [Date.UTC(2026, 10, 22, 10, 30, 0, 0), '20261122103000000'],
    [Date.UTC(2026, 10, 22, 10, 30, 0, 7), '20261122103000007'],
    [Date.UTC(2028, 1, 29, 23, 59, 59, 999), '20280229235959999'],
    [Date.UTC(2000, 1, 29, 12, 0, 0, 0), '20000229120000000'],
    [LAST_MS, '99991231235959999'],
  ])('%d ⇄ %s', (ms, text) => {
    expect(formatScheduledTime(ms)).toBe(text);
    expect(parseScheduledTime(text)).toBe(ms);
  });

  it('round-trips every millisecond from 1970 to the end of 9999, and sorts as text the way it sorts as time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_MS }), fc.integer({ min: 0, max: LAST_MS }), (a, b) => {
        const ta = formatScheduledTime(a);
        const tb = formatScheduledTime(b);
        expect(ta).toMatch(/^\d{17}$/);
        expect(parseScheduledTime(ta)).toBe(a);
        expect(Math.sign(ta < tb ? -1 : ta > tb ? 1 : 0)).toBe(Math.sign(a - b));
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['2026112210300000', 'not 17 digits'],
    ['202611221030000000', 'not 17 digits'],
    ['2026112210300000a', 'not 17 digits'],
    ['', 'not 17 digits'],
    [' 20261122103000000', 'not 17 digits'],
    ['20261301000000000', 'not a valid UTC time'],
    ['20261200000000000', 'not a valid UTC time'],
    ['20260230000000000', 'not a valid UTC time'],
    ['20270229000000000', 'not a valid UTC time'],
    ['21000229000000000', 'not a valid UTC time'],
    ['20261122240000000', 'not a valid UTC time'],
    ['20261122106000000', 'not a valid UTC time'],
    ['20261122103060000', 'not a valid UTC time'],
    ['19691231235959999', 'not a valid UTC time'],
    ['00000101000000000', 'not a valid UTC time'],
  ])('parseScheduledTime(%j) is NAME_INVALID (%s)', (text, fragment) => {
    const err = caught(() => parseScheduledTime(text));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain(fragment);
  });

  it.each([LAST_MS + 1, -1e15, Number.NaN, Number.POSITIVE_INFINITY, 9e15])(
    'formatScheduledTime(%d) is NAME_INVALID, not a RangeError',
    (ms) => {
      expect(caught(() => formatScheduledTime(ms)).code).toBe('NAME_INVALID');
    },
  );
});

describe('formatOuterName / parseOuterName', () => {
  const cases: [OuterName, string][] = [
    [{ scheduledtime: T, server: 'LEAF1', tree: 'ACME', status: 0 }, `${T}_LEAF1_ACME_0.zip`],
    [{ scheduledtime: T, server: 'LE_AF', tree: 'AC_ME', status: 2 }, `${T}_LE%5FAF_AC%5FME_2.zip`],
    [{ scheduledtime: T, server: 'my server', tree: 'the tree', status: 1 }, `${T}_my%20server_the%20tree_1.zip`],
    [{ scheduledtime: T, server: 'LE_AFé', tree: 'Café', status: 0 }, `${T}_LE%5FAF%C3%A9_Caf%C3%A9_0.zip`],
    [{ scheduledtime: T, server: '東京', tree: '木', status: 0 }, `${T}_%E6%9D%B1%E4%BA%AC_%E6%9C%A8_0.zip`],
    [{ scheduledtime: T, server: '🚀', tree: 'x', status: 2 }, `${T}_%F0%9F%9A%80_x_2.zip`],
    [{ scheduledtime: T, server: '100%', tree: '%5F', status: 0 }, `${T}_100%25_%255F_0.zip`],
    [{ scheduledtime: T, server: 'srv.acme', tree: 'a-b.c', status: 0 }, `${T}_srv.acme_a-b.c_0.zip`],
    [{ scheduledtime: T, server: '.', tree: '-', status: 0 }, `${T}_._-_0.zip`],
    [{ scheduledtime: '99991231235959999', server: 'a', tree: 'b', status: 0 }, '99991231235959999_a_b_0.zip'],
    [{ scheduledtime: '20280229000000000', server: 'a', tree: 'b', status: 0 }, '20280229000000000_a_b_0.zip'],
  ];

  it.each(cases)('%j ⇄ %s', (outer, name) => {
    expect(formatOuterName(outer)).toBe(name);
    expect(parseOuterName(name)).toEqual(outer);
    expect(parseOuterName(formatOuterName(outer))).toEqual(outer);
  });

  const nameArb = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
    .filter((s) => !CONTROL.test(s) && encodeName(s).length <= MAX_ENCODED_NAME);
  const outerArb = fc.record({
    scheduledtime: fc.integer({ min: 0, max: LAST_MS }).map(formatScheduledTime),
    server: nameArb,
    tree: nameArb,
    status: fc.constantFrom<StoredStatus>(0, 1, 2),
  });

  it('round-trips arbitrary outer names, whose text is file-name safe', () => {
    fc.assert(
      fc.property(outerArb, (outer) => {
        const name = formatOuterName(outer);
        expect(name).toMatch(/^\d{17}_[A-Za-z0-9.%-]+_[A-Za-z0-9.%-]+_[012]\.zip$/);
        expect(name.split('_')).toHaveLength(4);
        for (const ch of ['/', '\\', ':', '*', '?', '"', '<', '>', '|', ' ']) expect(name).not.toContain(ch);
        expect(parseOuterName(name)).toEqual(outer);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips arbitrary code-point names too', () => {
    const cp = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 20 })
      .filter((s) => !CONTROL.test(s) && encodeName(s).length <= MAX_ENCODED_NAME);
    fc.assert(
      fc.property(cp, cp, (server, tree) => {
        const outer: OuterName = { scheduledtime: T, server, tree, status: 0 };
        expect(parseOuterName(formatOuterName(outer))).toEqual(outer);
      }),
      { numRuns: 500 },
    );
  });

  it('parseOuterName throws only NAME_INVALID, and whatever it accepts formats back to the same text', () => {
    const piece = fc.constantFrom('_', '.zip', '%5F', '%', 'A', '0', '1', '2', '3', T, '20260230000000000', '%C3', '%c3%a9', '/', '.');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }).map((a) => a.join('')),
        (s) => {
          let parsed: OuterName;
          try {
            parsed = parseOuterName(s);
          } catch (err) {
            expect(err).toBeInstanceOf(ZenrollError);
            expect((err as ZenrollError).code).toBe('NAME_INVALID');
            return;
          }
          expect(formatOuterName(parsed)).toBe(s);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    [`${T}_LEAF1_0.zip`, 'has 3 fields'],
    [`${T}_LEAF1_ACME_X_0.zip`, 'has 5 fields'],
    [`${T}.zip`, 'has 1 fields'],
    [`${T}_LE_AF_ACME_0.zip`, 'has 5 fields'],
    [`2026112210300000_LEAF1_ACME_0.zip`, 'not 17 digits'],
    [`202611221030000000_LEAF1_ACME_0.zip`, 'not 17 digits'],
    [`20261301000000000_LEAF1_ACME_0.zip`, 'not a valid UTC time'],
    [`20260230000000000_LEAF1_ACME_0.zip`, 'not a valid UTC time'],
    [`${T}_LEAF1_ACME_3.zip`, 'stored status "3"'],
    [`${T}_LEAF1_ACME_a.zip`, 'stored status "a"'],
    [`${T}_LEAF1_ACME_00.zip`, 'stored status "00"'],
    [`${T}_LEAF1_ACME_.zip`, 'stored status ""'],
    [`${T}_le%5faf_ACME_0.zip`, 'holds a character other than'],
    [`${T}_LEAF1_caf%c3%a9_0.zip`, 'holds a character other than'],
    [`${T}_%41_ACME_0.zip`, 'not in canonical form'],
    [`${T}_%C3_ACME_0.zip`, 'is not UTF-8'],
    [`${T}_LEAF1_%C3_0.zip`, 'is not UTF-8'],
    [`${T}_LE/AF_ACME_0.zip`, 'path separator'],
    [`${T}_LE\\AF_ACME_0.zip`, 'path separator'],
    [`../${T}_LEAF1_ACME_0.zip`, 'path separator'],
    [`${T}_LEAF1_ACME_0`, 'does not end in .zip'],
    [`${T}_LEAF1_ACME_0.ZIP`, 'does not end in .zip'],
    [`${T}_LEAF1_ACME_0.zip.tmp`, 'does not end in .zip'],
    [`${T}__ACME_0.zip`, 'encoded name ""'],
    [`${T}_LEAF1__0.zip`, 'encoded name ""'],
    [`${T}_LE AF_ACME_0.zip`, 'holds a character other than'],
    [`${T}_LE%0AAF_ACME_0.zip`, 'control character'],
    [`${T}_${'A'.repeat(MAX_ENCODED_NAME + 1)}_ACME_0.zip`, 'once encoded'],
    [`${T}_LEAF1_${'%C3%A9'.repeat(19)}_0.zip`, 'once encoded'],
  ])('parseOuterName(%j) is NAME_INVALID (%s)', (name, fragment) => {
    const err = caught(() => parseOuterName(name));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain(fragment);
  });

  it.each([
    [{ scheduledtime: T, server: 'LEAF1', tree: 'ACME', status: 3 as StoredStatus }, 'stored status "3"'],
    [{ scheduledtime: '2026112210300000', server: 'LEAF1', tree: 'ACME', status: 0 as StoredStatus }, 'not 17 digits'],
    [{ scheduledtime: T, server: '', tree: 'ACME', status: 0 as StoredStatus }, 'may not be empty'],
    [{ scheduledtime: T, server: 'LEAF1', tree: 'AC\nME', status: 0 as StoredStatus }, 'tree name'],
    [{ scheduledtime: T, server: 'A'.repeat(111), tree: 'ACME', status: 0 as StoredStatus }, 'server name'],
  ])('formatOuterName(%j) is NAME_INVALID (%s)', (outer, fragment) => {
    const err = caught(() => formatOuterName(outer));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain(fragment);
  });
});

describe('inner entry names', () => {
  it('encode the server exactly as the outer name does', () => {
    expect(innerZipName(T, 'LE_AFé')).toBe(`${T}_LE%5FAF%C3%A9.zip`);
    expect(prpName(T, 'LE_AFé')).toBe(`${T}_LE%5FAF%C3%A9.prp`);
    const outer = formatOuterName({ scheduledtime: T, server: 'LE_AFé', tree: 'ACME', status: 0 });
    expect(outer.startsWith(`${innerZipName(T, 'LE_AFé').slice(0, -4)}_`)).toBe(true);
  });

  it('refuse bad times and names', () => {
    expect(caught(() => innerZipName('20260230000000000', 'LEAF1')).code).toBe('NAME_INVALID');
    expect(caught(() => prpName(T, 'LE\nAF')).code).toBe('NAME_INVALID');
  });
});

describe('compareOuterNames', () => {
  it('orders oldest scheduled time first, then by name (code units, not locale)', () => {
    const names = [
      '20261122103000001_A_T_0.zip',
      '20261122103000000_a_T_0.zip',
      '20261122103000000_Z_T_0.zip',
      '20261122103000000_B_T_2.zip',
      '20270101000000000_0_T_0.zip',
      '20261122103000000_B_T_0.zip',
      '19991231235959999_zzz_T_2.zip',
    ];
    expect([...names].sort(compareOuterNames)).toEqual([
      '19991231235959999_zzz_T_2.zip',
      '20261122103000000_B_T_0.zip',
      '20261122103000000_B_T_2.zip',
      '20261122103000000_Z_T_0.zip',
      '20261122103000000_a_T_0.zip',
      '20261122103000001_A_T_0.zip',
      '20270101000000000_0_T_0.zip',
    ]);
  });

  it('is a consistent total order that follows the scheduled time', () => {
    const nameArb = fc.record({
      t: fc.integer({ min: 0, max: LAST_MS }),
      server: fc.constantFrom('A', 'B', 'LE%5FAF', 'z'),
      status: fc.constantFrom(0, 2),
    });
    fc.assert(
      fc.property(fc.array(nameArb, { maxLength: 20 }), (items) => {
        const names = items.map((i) => `${formatScheduledTime(i.t)}_${i.server}_T_${i.status}.zip`);
        const sorted = [...names].sort(compareOuterNames);
        for (let i = 1; i < sorted.length; i++) {
          const a = sorted[i - 1] as string;
          const b = sorted[i] as string;
          expect(compareOuterNames(a, b)).toBeLessThanOrEqual(0);
          expect(Math.sign(compareOuterNames(b, a)) + Math.sign(compareOuterNames(a, b))).toBe(0);
          expect(parseOuterName(a).scheduledtime <= parseOuterName(b).scheduledtime).toBe(true);
        }
        for (const n of names) expect(compareOuterNames(n, n)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('stored status (SPEC §3)', () => {
  it('a server creates its own zips with 0, or 2 when it has a database', () => {
    expect(createdStatus(false)).toBe(0);
    expect(createdStatus(true)).toBe(2);
  });

  it.each([
    // incoming, hasDatabase, target, result
    [0, false, 'entpushdir', 0],
    [2, false, 'entpushdir', 2],
    [0, true, 'entpushdir', 2],
    [2, true, 'entpushdir', 2],
    [0, false, 'dbdir', 1],
    [0, true, 'dbdir', 1],
    [2, false, 'dbdir', 2],
    [2, true, 'dbdir', 2],
  ] as const)('promotedStatus(%d, hasDatabase %s, %s) = %d', (incoming, hasDatabase, target, result) => {
    expect(promotedStatus(incoming, hasDatabase, target)).toBe(result);
  });

  it.each([
    [false, 'entpushdir'],
    [true, 'entpushdir'],
    [false, 'dbdir'],
    [true, 'dbdir'],
  ] as const)('an incoming status 1 is refused (hasDatabase %s, %s)', (hasDatabase, target) => {
    const err = caught(() => promotedStatus(1, hasDatabase, target));
    expect(err.code).toBe('NAME_INVALID');
    expect(err.message).toContain('never travels on the wire');
  });

  it('promotedName takes the Receiver tree and the new status, and keeps time and origin server', () => {
    const incoming = `${T}_LE%5FAF%C3%A9_LEAFTREE_0.zip`;
    expect(promotedName(incoming, { tree: 'ROOT é', hasDatabase: true }, 'dbdir')).toBe(`${T}_LE%5FAF%C3%A9_ROOT%20%C3%A9_1.zip`);
    expect(promotedName(incoming, { tree: 'ROOT é', hasDatabase: true }, 'entpushdir')).toBe(`${T}_LE%5FAF%C3%A9_ROOT%20%C3%A9_2.zip`);
    expect(promotedName(incoming, { tree: 'MID', hasDatabase: false }, 'entpushdir')).toBe(`${T}_LE%5FAF%C3%A9_MID_0.zip`);
    const stored = `${T}_LEAF1_LEAFTREE_2.zip`;
    expect(promotedName(stored, { tree: 'ROOT', hasDatabase: true }, 'dbdir')).toBe(`${T}_LEAF1_ROOT_2.zip`);
    expect(promotedName(stored, { tree: 'MID', hasDatabase: false }, 'entpushdir')).toBe(`${T}_LEAF1_MID_2.zip`);
  });

  it('promotedName keeps time and server for any name, and agrees with promotedStatus', () => {
    const nameArb = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
      .filter((s) => !CONTROL.test(s) && encodeName(s).length <= MAX_ENCODED_NAME);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LAST_MS }),
        nameArb,
        nameArb,
        nameArb,
        fc.constantFrom<StoredStatus>(0, 2),
        fc.boolean(),
        fc.constantFrom('entpushdir' as const, 'dbdir' as const),
        (ms, server, tree, receiverTree, status, hasDatabase, target) => {
          const incoming = formatOuterName({ scheduledtime: formatScheduledTime(ms), server, tree, status });
          const out = parseOuterName(promotedName(incoming, { tree: receiverTree, hasDatabase }, target));
          expect(out).toEqual({
            scheduledtime: formatScheduledTime(ms),
            server,
            tree: receiverTree,
            status: promotedStatus(status, hasDatabase, target),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('promotedName refuses an incoming status 1 and a bad name', () => {
    expect(caught(() => promotedName(`${T}_LEAF1_ACME_1.zip`, { tree: 'ROOT', hasDatabase: true }, 'dbdir')).code).toBe('NAME_INVALID');
    expect(caught(() => promotedName(`${T}_LEAF1_0.zip`, { tree: 'ROOT', hasDatabase: true }, 'dbdir')).code).toBe('NAME_INVALID');
    expect(caught(() => promotedName(`${T}_LEAF1_ACME_0.zip`, { tree: 'RO\u0000OT', hasDatabase: true }, 'dbdir')).code).toBe(
      'NAME_INVALID',
    );
  });
});
