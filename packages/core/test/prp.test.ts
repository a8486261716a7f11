import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZenrollError, type ErrorCode } from '../src/errors.js';
import { MAX_ENCODED_NAME, encodeName, formatScheduledTime, innerZipName } from '../src/names.js';
import { MAX_FILES, PRP_FORMAT, keyIdOf, parsePrp, signPrp, verifyPrp, type KeyLookup, type PrpBody } from '../src/prp.js';

interface Pair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const A: Pair = generateKeyPairSync('ed25519');
const B: Pair = generateKeyPairSync('ed25519');

/** SPEC §3 key.id, computed independently of keyIdOf: from the JWK's raw `x`. */
function rawKeyId(publicKey: KeyObject): string {
  const x = publicKey.export({ format: 'jwk' }).x as string;
  const raw = Buffer.from(x, 'base64url');
  expect(raw).toHaveLength(32);
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

/** Unbound keys (any origin), unless `server` binds them all to one server. */
function trust(...pairs: Pair[]): KeyLookup {
  return trustFor(null, ...pairs);
}

function trustFor(server: string | null, ...pairs: Pair[]): KeyLookup {
  const map = new Map(pairs.map((p) => [rawKeyId(p.publicKey), { key: p.publicKey, grants: [{ server, source: `test:${server}` }] }]));
  return (id) => map.get(id);
}

const TRUST_A = trust(A);
const TRUST_AB = trust(A, B);
const T = '20261122103000000';
const HEX_A = 'a'.repeat(64);
const HEX_B = '0123456789abcdef'.repeat(4);

function body(over: Partial<PrpBody> = {}): PrpBody {
  const server = over.server ?? 'LEAF1';
  return {
    scheduledtime: T,
    server,
    tree: 'ACME',
    created: '2026-11-22T10:30:00.000Z',
    inner: over.inner ?? { name: innerZipName(over.scheduledtime ?? T, server), size: 1234, sha256: HEX_B },
    files: [{ name: 'a.str', size: 10, sha256: HEX_A }],
    extra: [],
    ...over,
  };
}

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

/** Apply `fn` to the lines of `text` (without their newlines). */
function edit(text: string, fn: (lines: string[]) => string[]): string {
  return `${fn(text.slice(0, -1).split('\n')).join('\n')}\n`;
}

/** Drop the signature line and sign what is left with `pair`, whatever key.id says. */
function resign(text: string, pair: Pair): string {
  const head = text.slice(0, text.lastIndexOf('signature='));
  return `${head}signature=${sign(null, Buffer.from(head, 'utf8'), pair.privateKey).toString('base64')}\n`;
}

/** The `signature=…` line of a manifest, without its newline. */
const signatureLine = (text: string): string => text.slice(text.lastIndexOf('signature='), -1);
const files = (n: number) => (l: string[]) => l.map((x) => (x.startsWith('files=') ? `files=${n}` : x));
const replaceLine = (key: string, line: string) => (lines: string[]) => lines.map((l) => (l.startsWith(`${key}=`) ? line : l));
const dropLine = (key: string) => (lines: string[]) => lines.filter((l) => !l.startsWith(`${key}=`));

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

const BASE = signPrp(
  body({
    server: 'LE_AFé',
    files: [
      { name: 'café 1.str', size: 10, sha256: HEX_A },
      { name: 'LE_X.str', size: 0, sha256: HEX_B },
    ],
    extra: [['batch.id', 'b-1']],
  }),
  A.privateKey,
  A.publicKey,
);

describe('keyIdOf', () => {
  it('is the first 16 bytes of SHA-256 of the raw public key, in hex', () => {
    for (const pair of [A, B, generateKeyPairSync('ed25519')]) {
      expect(keyIdOf(pair.publicKey)).toBe(rawKeyId(pair.publicKey));
      expect(keyIdOf(pair.publicKey)).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(keyIdOf(A.publicKey)).not.toBe(keyIdOf(B.publicKey));
  });
});

describe('signPrp: the text of SPEC §3', () => {
  it('writes the lines in order, raw UTF-8 values, encoded .str names, every line ending in \\n', () => {
    const b = body({
      server: 'LE_AFé',
      created: '2026-11-22T10:30:00.123Z',
      inner: { name: `${T}_LE%5FAF%C3%A9.zip`, size: 1234567, sha256: HEX_B },
      files: [
        { name: 'café 1.str', size: 10, sha256: HEX_A },
        { name: 'LE_X.str', size: 0, sha256: HEX_B },
      ],
      extra: [
        ['batch.id', 'b-1'],
        ['note', 'é=x y'],
      ],
    });
    const text = signPrp(b, A.privateKey, A.publicKey);
    const head = [
      'format=zenroll-prp/1',
      `scheduledtime=${T}`,
      'server=LE_AFé',
      'tree=ACME',
      'created=2026-11-22T10:30:00.123Z',
      'files=2',
      `inner.name=${T}_LE%5FAF%C3%A9.zip`,
      'inner.size=1234567',
      `inner.sha256=${HEX_B}`,
      `file.1=caf%C3%A9%201.str 10 ${HEX_A}`,
      `file.2=LE%5FX.str 0 ${HEX_B}`,
      'batch.id=b-1',
      'note=é=x y',
      `key.id=${rawKeyId(A.publicKey)}`,
      '',
    ].join('\n');
    // Ed25519 is deterministic: the signature can be recomputed independently.
    const signature = sign(null, Buffer.from(head, 'utf8'), A.privateKey).toString('base64');
    expect(text).toBe(`${head}signature=${signature}\n`);
    expect(signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(Buffer.from(signature, 'base64')).toHaveLength(64);
    expect(verify(null, Buffer.from(head, 'utf8'), A.publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    // raw UTF-8, not encoded: "server=LE_AF" C3 A9 "\n"
    expect(Buffer.from(text, 'utf8').includes(Buffer.from([...Buffer.from('server=LE_AF'), 0xc3, 0xa9, 0x0a]))).toBe(true);
    expect(text.endsWith('==\n')).toBe(true);
    expect(text).not.toContain('\r');
  });

  it.each([
    [[], 'PACK_INPUT_INVALID'],
    [Array.from({ length: MAX_FILES + 1 }, (_, i) => ({ name: `f${i}.str`, size: 1, sha256: HEX_A })), 'PACK_INPUT_INVALID'],
  ] as const)('refuses a batch of %#: %s', (files, code) => {
    expect(caught(() => signPrp(body({ files: [...files] }), A.privateKey, A.publicKey)).code).toBe(code);
  });

  it(`signs a batch of exactly ${MAX_FILES} files`, () => {
    const files = Array.from({ length: MAX_FILES }, (_, i) => ({ name: `f${i}.str`, size: i, sha256: HEX_A }));
    const prp = verifyPrp(bytes(signPrp(body({ files }), A.privateKey, A.publicKey)), trust(A));
    expect(prp.files).toEqual(files);
  });

  it.each<[string, [string, string][], ErrorCode]>([
    ['a known key', [['format', 'x']], 'PRP_VALUE_INVALID'],
    ['key.id', [['key.id', 'x']], 'PRP_VALUE_INVALID'],
    ['signature', [['signature', 'x']], 'PRP_VALUE_INVALID'],
    ['a file.N key', [['file.2', 'x']], 'PRP_VALUE_INVALID'],
    ['an upper-case key', [['Batch', 'x']], 'PRP_VALUE_INVALID'],
    ['an empty key', [['', 'x']], 'PRP_VALUE_INVALID'],
    ['a key with =', [['a=b', 'x']], 'PRP_VALUE_INVALID'],
    ['a value with \\n', [['batch.id', 'x\nsignature=y']], 'PRP_VALUE_INVALID'],
    ['a value with \\r', [['batch.id', 'x\r']], 'PRP_VALUE_INVALID'],
    ['a value that is not well-formed Unicode', [['batch.id', 'x\uD800']], 'PRP_VALUE_INVALID'],
    [
      'a repeated extra key',
      [
        ['batch.id', '1'],
        ['batch.id', '2'],
      ],
      'PRP_KEY_REPEATED',
    ],
  ])('refuses %s in extra', (_what, extra, code) => {
    expect(caught(() => signPrp(body({ extra }), A.privateKey, A.publicKey)).code).toBe(code);
  });

  it.each<[string, Partial<PrpBody>]>([
    ['a server with \\n', { server: 'LE\nAF', inner: { name: `${T}_LE%0AAF.zip`, size: 1, sha256: HEX_A } }],
    ['a tree that forges an extra key', { tree: 'ACME\nbatch.id=x' }],
    ['a tree that forges a known key', { tree: 'ACME\nkey.id=0' }],
    ['a tree with \\r', { tree: 'ACME\r' }],
    ['a created that forges a line', { created: '2026-11-22T10:30:00.000Z\nnote=x' }],
    ['an inner.name with \\n', { inner: { name: `${T}_LEAF1.zip\nnote=x`, size: 1, sha256: HEX_A } }],
  ])('refuses to sign %s: a line break in a value would forge lines (PRP_VALUE_INVALID)', (_what, over) => {
    const err = caught(() => signPrp(body(over), A.privateKey, A.publicKey));
    expect(err.code).toBe('PRP_VALUE_INVALID');
    expect(err.message).toContain('line break');
  });

  it.each<[string, Partial<PrpBody>]>([
    ['an empty server', { server: '', inner: { name: `${T}_.zip`, size: 1, sha256: HEX_A } }],
    ['a server with a tab', { server: 'LE\tAF', inner: { name: `${T}_LE%09AF.zip`, size: 1, sha256: HEX_A } }],
    ['a bad time', { scheduledtime: '20260230000000000', inner: { name: '20260230000000000_LEAF1.zip', size: 1, sha256: HEX_A } }],
    ['a created in month 13', { created: '2026-13-22T10:30:00.000Z' }],
    ['a wrong inner name', { inner: { name: `${T}_OTHER.zip`, size: 1, sha256: HEX_A } }],
    ['a bad sha', { inner: { name: `${T}_LEAF1.zip`, size: 1, sha256: HEX_A.toUpperCase() } }],
    ['a .str name without .str', { files: [{ name: 'a.txt', size: 1, sha256: HEX_A }] }],
    ['a .str name with a folder', { files: [{ name: 'x/a.str', size: 1, sha256: HEX_A }] }],
    [
      'twice the same .str',
      {
        files: [
          { name: 'a.str', size: 1, sha256: HEX_A },
          { name: 'a.str', size: 2, sha256: HEX_A },
        ],
      },
    ],
    ['a bad created', { created: '2026-11-22T10:30:00Z' }],
  ])('refuses to sign %s (PRP_VALUE_INVALID)', (_what, over) => {
    expect(caught(() => signPrp(body(over), A.privateKey, A.publicKey)).code).toBe('PRP_VALUE_INVALID');
  });
});

describe('signPrp then verifyPrp', () => {
  it('round-trips, with extra keys, a non-ASCII server and .str names needing encoding', () => {
    const b = body({
      server: 'LE_AFé',
      tree: 'Tree 東京 🚀',
      files: [
        { name: 'café 1.str', size: 10, sha256: HEX_A },
        { name: '100%_x.STR', size: 0, sha256: HEX_B },
        { name: '.str', size: 5, sha256: HEX_B },
      ],
      extra: [
        ['batch.id', 'b-1'],
        ['x.y-z', ''],
        ['note', 'é = 🚀'],
      ],
    });
    const text = signPrp(b, A.privateKey, A.publicKey);
    const expected = { ...b, keyId: rawKeyId(A.publicKey), signature: text.slice(text.lastIndexOf('signature=') + 10, -1) };
    expect(verifyPrp(bytes(text), trust(A))).toEqual(expected);
    expect(verifyPrp(bytes(text), trust(B, A))).toEqual(expected);
    expect(parsePrp(text)).toEqual(expected);
    expect(parsePrp(bytes(text))).toEqual(expected);
  });

  it('asks the trust lookup for the key.id written in the file', () => {
    const asked: string[] = [];
    verifyPrp(bytes(BASE), (id) => {
      asked.push(id);
      return id === rawKeyId(A.publicKey) ? { key: A.publicKey, grants: [{ server: null, source: 'test' }] } : undefined;
    });
    expect(asked).toEqual([rawKeyId(A.publicKey)]);
  });

  const name = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
    .filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && encodeName(s).length <= MAX_ENCODED_NAME);
  const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((u) => Buffer.from(u).toString('hex'));
  const fileArb = fc.record({
    name: fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 15 })
      .filter((s) => !/[/\\:\u0000-\u001f\u007f]/.test(s))
      .map((s) => `${s}.str`),
    size: fc.nat(),
    sha256: hex,
  });
  const extraArb = fc.uniqueArray(
    fc.tuple(
      fc
        .stringMatching(/^[a-z][a-z0-9.-]{0,12}$/)
        .filter((k) => !/^(format|scheduledtime|server|tree|created|files|inner\.(name|size|sha256)|key\.id|signature|file\.\d+)$/.test(k)),
      fc.string({ unit: 'binary', maxLength: 20 }).filter((v) => !/[\r\n]/.test(v)),
    ),
    { selector: ([k]) => k, maxLength: 4 },
  );
  const bodyArb = fc
    .record({
      ms: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      server: name,
      tree: name,
      createdMs: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      innerSize: fc.nat(),
      innerSha: hex,
      files: fc.uniqueArray(fileArb, { selector: (f) => f.name.toLowerCase(), minLength: 1, maxLength: 6 }),
      extra: extraArb,
    })
    .map(
      (r): PrpBody => ({
        scheduledtime: formatScheduledTime(r.ms),
        server: r.server,
        tree: r.tree,
        created: new Date(r.createdMs).toISOString(),
        inner: { name: innerZipName(formatScheduledTime(r.ms), r.server), size: r.innerSize, sha256: r.innerSha },
        files: r.files,
        extra: r.extra,
      }),
    );

  it('round-trips arbitrary manifests', () => {
    fc.assert(
      fc.property(bodyArb, (b) => {
        const text = signPrp(b, A.privateKey, A.publicKey);
        expect(text.endsWith('\n')).toBe(true);
        const prp = verifyPrp(bytes(text), trust(A));
        const { keyId, signature, ...rest } = prp;
        expect(rest).toEqual(b);
        expect(keyId).toBe(rawKeyId(A.publicKey));
        expect(signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
        // Every file.N name is encoded: the line is "encoded size sha" with no other space.
        for (const line of text.split('\n').filter((l) => l.startsWith('file.'))) {
          expect(line).toMatch(/^file\.\d+=[A-Za-z0-9.%-]+ \d+ [0-9a-f]{64}$/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('verifyPrp: who signed it', () => {
  it('refuses a signer not in the trust store (PRP_SIGNER_UNKNOWN)', () => {
    for (const lookup of [trust(), trust(B)]) {
      const err = caught(() => verifyPrp(bytes(BASE), lookup));
      expect(err.code).toBe('PRP_SIGNER_UNKNOWN');
      expect(err.message).toContain(rawKeyId(A.publicKey));
      expect(err.details).toMatchObject({ keyId: rawKeyId(A.publicKey), server: 'LE_AFé' });
    }
  });

  it('refuses a file whose key.id names a trusted key but which another key signed (PRP_SIGNATURE_INVALID)', () => {
    const forged = resign(BASE, B); // key.id still says A
    expect(forged).toContain(`key.id=${rawKeyId(A.publicKey)}\n`);
    expect(forged).not.toBe(BASE);
    for (const lookup of [trust(A), trust(A, B)]) {
      expect(caught(() => verifyPrp(bytes(forged), lookup)).code).toBe('PRP_SIGNATURE_INVALID');
    }
    // parsePrp does not check signatures: it still reads it.
    expect(parsePrp(forged).keyId).toBe(rawKeyId(A.publicKey));
  });

  it('takes a key bound to the origin server the .prp names, and an unbound one for any origin', () => {
    expect(verifyPrp(bytes(BASE), trustFor('LE_AFé', A)).server).toBe('LE_AFé');
    expect(verifyPrp(bytes(BASE), trust(A)).server).toBe('LE_AFé');
    const both = {
      key: A.publicKey,
      grants: [
        { server: 'LEAF2', source: 'a' },
        { server: 'LE_AFé', source: 'b' },
      ],
    };
    expect(verifyPrp(bytes(BASE), () => both).server).toBe('LE_AFé');
  });

  it('refuses a good signature by a key bound to another server (PRP_SIGNER_MISMATCH), naming both servers', () => {
    const err = caught(() => verifyPrp(bytes(BASE), trustFor('LEAF2', A)));
    expect(err.code).toBe('PRP_SIGNER_MISMATCH');
    expect(err.message).toBe(
      `.prp names origin server "LE_AFé" but is signed by key ${rawKeyId(A.publicKey)}, which is trusted only for "LEAF2" ("test:LEAF2")`,
    );
    expect(err.details).toMatchObject({ keyId: rawKeyId(A.publicKey), server: 'LE_AFé', keyServers: ['LEAF2'] });
    // Letter case is part of a name: LE_AFÉ is another server.
    expect(caught(() => verifyPrp(bytes(BASE), trustFor('LE_AFÉ', A))).code).toBe('PRP_SIGNER_MISMATCH');
    // A forged signature is a bad signature first, whoever the key is bound to.
    expect(caught(() => verifyPrp(bytes(resign(BASE, B)), trustFor('LEAF2', A))).code).toBe('PRP_SIGNATURE_INVALID');
  });

  it('refuses a file signed by A whose key.id was changed to B', () => {
    const swapped = edit(BASE, replaceLine('key.id', `key.id=${rawKeyId(B.publicKey)}`));
    expect(caught(() => verifyPrp(bytes(swapped), trust(A, B))).code).toBe('PRP_SIGNATURE_INVALID');
    expect(caught(() => verifyPrp(bytes(swapped), trust(A))).code).toBe('PRP_SIGNER_UNKNOWN');
  });

  it.each<[string, (text: string) => string]>([
    ['a changed value', (t) => edit(t, replaceLine('tree', 'tree=ACMF'))],
    ['a changed size', (t) => edit(t, replaceLine('inner.size', 'inner.size=1235'))],
    ['a changed extra value', (t) => edit(t, replaceLine('batch.id', 'batch.id=b-2'))],
    ['a removed extra key', (t) => edit(t, dropLine('batch.id'))],
    ['an added extra key', (t) => edit(t, (l) => [...l.slice(0, 1), 'added=1', ...l.slice(1)])],
    [
      'the signature of another manifest',
      (t) => edit(t, replaceLine('signature', signatureLine(signPrp(body(), A.privateKey, A.publicKey)))),
    ],
  ])('refuses %s that was not re-signed (PRP_SIGNATURE_INVALID)', (_what, change) => {
    const changed = change(BASE);
    expect(changed).not.toBe(BASE);
    expect(caught(() => verifyPrp(bytes(changed), trust(A))).code).toBe('PRP_SIGNATURE_INVALID');
  });

  it('refuses every single-bit flip anywhere in the file', () => {
    const small = signPrp(body(), A.privateKey, A.publicKey);
    const original = Buffer.from(small, 'utf8');
    expect(verifyPrp(original, trust(A))).toBeDefined();
    const seen = new Map<string, number>();
    for (let pos = 0; pos < original.length; pos++) {
      for (let bit = 0; bit < 8; bit++) {
        const mutated = Buffer.from(original);
        mutated[pos] = (mutated[pos] as number) ^ (1 << bit);
        const err = caught(() => verifyPrp(mutated, trust(A)));
        expect(err.code, `byte ${pos} bit ${bit}`).toMatch(/^PRP_/);
        seen.set(err.code, (seen.get(err.code) ?? 0) + 1);
      }
    }
    // The flips land in values (signature check), in structure and in key.id.
    expect(seen.get('PRP_SIGNATURE_INVALID')).toBeGreaterThan(0);
    expect(seen.get('PRP_MALFORMED')).toBeGreaterThan(0);
    expect(seen.get('PRP_SIGNER_UNKNOWN')).toBeGreaterThan(0);
    expect(seen.get('PRP_VALUE_INVALID')).toBeGreaterThan(0);
  });

  it('refuses a signature spelt in non-canonical base64 (unused low bits set)', () => {
    const sig = BASE.slice(BASE.lastIndexOf('signature=') + 10, -1);
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = digits.indexOf(sig[85] as string);
    // The 86th digit carries 2 bits of the signature and 4 unused ones.
    const other = digits[last ^ 0b0001] as string;
    const respelt = `${sig.slice(0, 85)}${other}==`;
    expect(Buffer.from(respelt, 'base64').equals(Buffer.from(sig, 'base64'))).toBe(true);
    const text = edit(BASE, replaceLine('signature', `signature=${respelt}`));
    expect(caught(() => verifyPrp(bytes(text), trust(A))).code).toBe('PRP_VALUE_INVALID');
  });

  it('refuses a byte-order mark before the manifest (a byte the signature does not cover)', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BASE, 'utf8')]);
    expect(caught(() => verifyPrp(withBom, trust(A))).code).toBe('PRP_MALFORMED');
    expect(caught(() => parsePrp(withBom)).code).toBe('PRP_MALFORMED');
  });
});

describe('parsePrp / verifyPrp: bad manifests', () => {
  /** Both entry points give `code`; verifyPrp with the signer trusted. */
  function expectCode(data: string | Uint8Array, code: ErrorCode): ZenrollError {
    const asBytes = typeof data === 'string' ? bytes(data) : data;
    const err = caught(() => verifyPrp(asBytes, TRUST_A));
    expect(err.code).toBe(code);
    expect(caught(() => parsePrp(asBytes)).code).toBe(code);
    if (typeof data === 'string') expect(caught(() => parsePrp(data)).code).toBe(code);
    return err;
  }

  it.each<[string, () => string | Uint8Array]>([
    ['no final newline', () => BASE.slice(0, -1)],
    ['CRLF line ends', () => BASE.replace(/\n/g, '\r\n')],
    ['one CR', () => edit(BASE, replaceLine('tree', 'tree=ACME\r'))],
    ['an empty file', () => ''],
    ['a lone newline', () => '\n'],
    ['an empty line', () => edit(BASE, (l) => [...l.slice(0, 3), '', ...l.slice(3)])],
    ['a line without =', () => edit(BASE, (l) => [...l.slice(0, 3), 'garbage', ...l.slice(3)])],
    ['a line with an empty key', () => edit(BASE, (l) => [...l.slice(0, 3), '=x', ...l.slice(3)])],
    ['an upper-case key', () => edit(BASE, replaceLine('format', `Format=${PRP_FORMAT}`))],
    ['a key with a space', () => edit(BASE, replaceLine('tree', 'tree =ACME'))],
    ['a 0xFF byte', () => Buffer.from(BASE.replace('ACME', 'AC\u0000E')).map((x) => (x === 0 ? 0xff : x))],
    [
      'a truncated UTF-8 sequence',
      () => Buffer.concat([Buffer.from('server=LE'), Buffer.from([0xc3]), Buffer.from('\n'), Buffer.from(BASE)]),
    ],
    [
      'an overlong UTF-8 "/"',
      () => Buffer.concat([Buffer.from(BASE.slice(0, 10)), Buffer.from([0xc0, 0xaf]), Buffer.from(BASE.slice(10))]),
    ],
    [
      'a UTF-8 encoded surrogate',
      () => Buffer.concat([Buffer.from(BASE.slice(0, 10)), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(BASE.slice(10))]),
    ],
  ])('%s is PRP_MALFORMED', (_what, make) => {
    expectCode(make(), 'PRP_MALFORMED');
  });

  it.each(['format', 'scheduledtime', 'server', 'tree', 'created', 'files', 'inner.name', 'inner.size', 'inner.sha256', 'key.id'])(
    'a missing %s is PRP_KEY_MISSING',
    (key) => {
      const err = expectCode(resign(edit(BASE, dropLine(key)), A), 'PRP_KEY_MISSING');
      expect(err.message).toContain(key);
    },
  );

  it('a missing file.1 (files=1, the one line is file.2) is PRP_KEY_MISSING', () => {
    const text = resign(
      edit(BASE, (l) => files(1)(dropLine('file.1')(l))),
      A,
    );
    expect(expectCode(text, 'PRP_KEY_MISSING').message).toContain('file.1');
  });

  it('file.01 instead of file.1 is PRP_KEY_MISSING', () => {
    const text = resign(
      edit(BASE, (l) => l.map((x) => x.replace(/^file\.1=/, 'file.01='))),
      A,
    );
    expect(expectCode(text, 'PRP_KEY_MISSING').message).toContain('file.1');
  });

  it('a missing signature is PRP_KEY_MISSING', () => {
    expect(expectCode(edit(BASE, dropLine('signature')), 'PRP_KEY_MISSING').message).toContain('signature');
  });

  it.each<[string, (l: string[]) => string[]]>([
    ['tree', (l) => [...l.slice(0, 4), 'tree=ACME', ...l.slice(4)]],
    ['format', (l) => [...l.slice(0, 1), `format=${PRP_FORMAT}`, ...l.slice(1)]],
    ['file.1', (l) => l.flatMap((x) => (x.startsWith('file.1=') ? [x, x] : [x]))],
    ['batch.id', (l) => l.flatMap((x) => (x.startsWith('batch.id=') ? [x, 'batch.id=other'] : [x]))],
    ['key.id', (l) => l.flatMap((x) => (x.startsWith('key.id=') ? [x, x] : [x]))],
  ])('a repeated %s is PRP_KEY_REPEATED', (key, change) => {
    expect(expectCode(resign(edit(BASE, change), A), 'PRP_KEY_REPEATED').message).toContain(key);
  });

  const move = (from: number, to: number) => (l: string[]) => {
    const out = [...l];
    const [x] = out.splice(from, 1);
    out.splice(to, 0, x as string);
    return out;
  };
  it.each<[string, (l: string[]) => string[]]>([
    ['server and tree swapped', move(2, 3)],
    ['format last before key.id', (l) => move(0, l.length - 3)(l)],
    ['file.2 before file.1', move(10, 9)],
    ['key.id before the files', (l) => move(l.length - 2, 9)(l)],
    ['inner.sha256 after the files', move(8, 10)],
    ['files after inner.name', move(5, 6)],
  ])('%s is PRP_KEY_ORDER', (_what, change) => {
    expectCode(resign(edit(BASE, change), A), 'PRP_KEY_ORDER');
  });

  it.each<[string, (t: string) => string]>([
    ['an extra key', (t) => `${t}after=1\n`],
    ['a second signature', (t) => `${t}${t.slice(t.lastIndexOf('signature='))}`],
    ['an empty line', (t) => `${t}\n`],
    ['a line without =', (t) => `${t}junk\n`],
  ])('%s after the signature is PRP_AFTER_SIGNATURE', (_what, change) => {
    expectCode(change(BASE), 'PRP_AFTER_SIGNATURE');
  });

  it.each<[string, (l: string[]) => string[], string]>([
    ['another format', replaceLine('format', 'format=zenroll-prp/2'), 'zenroll-prp/2'],
    ['files=0', files(0), 'files is 0'],
    ['files=51', files(51), '"51"'],
    ['files=-1', files(-1), '"-1"'],
    ['files=02', (l) => l.map((x) => (x === 'files=2' ? 'files=02' : x)), '"02"'],
    ['files=1 with two file lines', files(1), '2 file.N lines'],
    ['files=3 with two file lines', files(3), '2 file.N lines'],
    ['a file.0 line besides file.1 and file.2', (l) => [...l.slice(0, 9), `file.0=z.str 1 ${HEX_A}`, ...l.slice(9)], '3 file.N lines'],
    ['an upper-case inner.sha256', replaceLine('inner.sha256', `inner.sha256=${HEX_B.toUpperCase()}`), 'hex'],
    ['a short inner.sha256', replaceLine('inner.sha256', `inner.sha256=${HEX_B.slice(1)}`), 'hex'],
    ['a bad file sha', replaceLine('file.1', `file.1=caf%C3%A9%201.str 10 ${'g'.repeat(64)}`), 'hex'],
    ['a negative inner.size', replaceLine('inner.size', 'inner.size=-1'), 'inner.size'],
    ['a huge inner.size', replaceLine('inner.size', 'inner.size=99999999999999999'), 'inner.size'],
    ['a file size that is not a number', replaceLine('file.1', `file.1=caf%C3%A9%201.str 1e3 ${HEX_A}`), 'size'],
    ['a file line with two fields', replaceLine('file.1', `file.1=caf%C3%A9%201.str ${HEX_A}`), 'name size sha256'],
    ['a file name with a raw space', replaceLine('file.1', `file.1=café 1.str 10 ${HEX_A}`), 'name size sha256'],
    ['a raw UTF-8 file name', replaceLine('file.1', `file.1=café.str 10 ${HEX_A}`), 'file.1'],
    ['a lower-case %xx file name', replaceLine('file.1', `file.1=caf%c3%a9.str 10 ${HEX_A}`), 'file.1'],
    ['a file name without .str', replaceLine('file.1', `file.1=cafe.txt 10 ${HEX_A}`), '.str'],
    ['a file name with /', replaceLine('file.1', `file.1=x%2Fa.str 10 ${HEX_A}`), 'file.1'],
    ['a file name with \\', replaceLine('file.1', `file.1=x%5Ca.str 10 ${HEX_A}`), 'file.1'],
    ['the file name ..', replaceLine('file.1', `file.1=.. 10 ${HEX_A}`), 'file.1'],
    ['the same file twice', replaceLine('file.2', `file.2=caf%C3%A9%201.str 0 ${HEX_B}`), 'twice'],
    ['created without ms', replaceLine('created', 'created=2026-11-22T10:30:00Z'), 'created'],
    ['created on 30 Feb', replaceLine('created', 'created=2026-02-30T10:30:00.000Z'), 'created'],
    ['created in month 13', replaceLine('created', 'created=2026-13-22T10:30:00.000Z'), 'created'],
    ['created at hour 25', replaceLine('created', 'created=2026-11-22T25:30:00.000Z'), 'created'],
    ['created with an offset', replaceLine('created', 'created=2026-11-22T10:30:00.000+00:00'), 'created'],
    ['created with a space', replaceLine('created', 'created=2026-11-22 10:30:00.000Z'), 'created'],
    ['a bad scheduledtime', replaceLine('scheduledtime', 'scheduledtime=20261301000000000'), 'scheduled time'],
    ['an empty server', replaceLine('server', 'server='), 'empty'],
    ['a server with a tab', replaceLine('server', 'server=LE\tAF'), 'control character'],
    ['a server too long', replaceLine('server', `server=${'A'.repeat(MAX_ENCODED_NAME + 1)}`), 'once encoded'],
    ['an empty tree', replaceLine('tree', 'tree='), 'empty'],
    ['another inner.name', replaceLine('inner.name', `inner.name=${T}_LEAF1.zip`), 'inner.name'],
    ['an inner.name with the server not encoded', replaceLine('inner.name', `inner.name=${T}_LE_AFé.zip`), 'inner.name'],
    ['a key.id that is not 32 hex digits', replaceLine('key.id', `key.id=${rawKeyId(A.publicKey).slice(1)}`), 'key.id'],
    ['an upper-case key.id', replaceLine('key.id', `key.id=${rawKeyId(A.publicKey).toUpperCase()}`), 'key.id'],
  ])('%s is PRP_VALUE_INVALID, even when properly signed', (_what, change, fragment) => {
    const err = expectCode(resign(edit(BASE, change), A), 'PRP_VALUE_INVALID');
    expect(err.message).toContain(fragment);
  });

  it.each<[string, string]>([
    ['short', 'signature=AAAA'],
    ['without padding', `signature=${'A'.repeat(88)}`],
    ['not base64', `signature=${'!'.repeat(86)}==`],
    ['empty', 'signature='],
  ])('a signature that is %s is PRP_VALUE_INVALID', (_what, line) => {
    expectCode(edit(BASE, replaceLine('signature', line)), 'PRP_VALUE_INVALID');
  });

  it('throws nothing but a PRP_* ZenrollError on arbitrary byte mutations, and never accepts a changed file', () => {
    const original = Buffer.from(signPrp(body({ server: 'LE_AFé', extra: [['batch.id', 'b']] }), A.privateKey, A.publicKey), 'utf8');
    const interesting = fc.constantFrom(...Buffer.from('\n\r=%._ 0129afAF+/'), 0x00, 0x7f, 0x80, 0xc3, 0xa9, 0xef, 0xbb, 0xbf, 0xff);
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), interesting);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 6 }), (ops) => {
        const data = [...original];
        for (const o of ops) {
          const at = o.at % (data.length + 1);
          if (o.kind === 'set' && at < data.length) data[at] = o.byte;
          else if (o.kind === 'insert') data.splice(at, 0, o.byte);
          else if (o.kind === 'delete') data.splice(at, 1);
        }
        const mutated = Uint8Array.from(data);
        for (const run of [() => parsePrp(mutated), () => verifyPrp(mutated, TRUST_AB)]) {
          try {
            run();
          } catch (err) {
            expect(err).toBeInstanceOf(ZenrollError);
            expect((err as ZenrollError).code).toMatch(/^PRP_/);
          }
        }
        if (!Buffer.from(mutated).equals(original)) {
          expect(caught(() => verifyPrp(mutated, TRUST_AB)).code).toMatch(/^PRP_/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
