/**
 * Hostile uploads against a real Receiver (HTTPS on port 0, a quarantine
 * folder, the intermediate-db role so that both promotion targets exist).
 * Each case gets the exact status and error code of README.md's table; after
 * each: nothing of it outside the quarantine (zipdir empty, the targets hold
 * only the good zips, no temporary file anywhere), what the quarantine holds
 * is byte for byte what was refused, the service answers /v1/health 200, and
 * the next good upload is stored (201) and promoted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, innerZipName, isTempName, prpName, zipPath, type KeyPair } from '@zenroll/core';
import {
  call,
  digestOf,
  filesUnder,
  makePki,
  partialUpload,
  put,
  removeRoot,
  setupReceiver,
  start,
  tempRoot,
  type Answer,
  type Pki,
  type ReceiverSetup,
  type Started,
} from './helpers.js';
import {
  buildOuter,
  buildZip,
  localRecord,
  rawExchange,
  resign,
  setKey,
  str,
  zip64Extra,
  type Outer,
  type OuterParts,
  type RawEntry,
  type Str,
} from './hostile-kit.js';

let root: string;
let pki: Pki;
let setup: ReceiverSetup;
let running: Started;
const leaf: KeyPair = generateKeyPair();
const stranger: KeyPair = generateKeyPair();
const MAX_ZIP_BYTES = 1024 * 1024;
const TIMEOUT_MS = 1500;

/** Good zips stored so far (their incoming names). */
const good: string[] = [];
/** The last good zip, for the replays. */
let lastGood: Outer;
const figures = { cases: 0, refused: 0, quarantined: 0, goodAfter: 0 };

let clock = 0;
/** A fresh scheduled time for each zip, so that no two cases share a name. */
const nextTime = () => `2026112312${String(++clock).padStart(7, '0')}`;
const tls = () => ({ ca: pki.ca.certPath });
const zipdir = () => setup.config.dirs.zipdir as string;
const quarantine = () => setup.config.receiver.quarantineDir as string;
const inPush = (n: string) => n.replace(/_0\.zip$/, '_2.zip');
const inDb = (n: string) => n.replace(/_0\.zip$/, '_1.zip');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  root = await tempRoot('zenroll-hostile-');
  pki = await makePki(root);
  setup = await setupReceiver(join(root, 'r'), {
    tls: { cert: pki.server.certPath, key: pki.server.keyPath },
    trust: [leaf.publicKey],
    receiver: { quarantineDir: 'quarantine', maxZipBytes: MAX_ZIP_BYTES, requestTimeoutMs: TIMEOUT_MS },
  });
  running = await start(setup);
  lastGood = await sendGood();
});
afterAll(async () => {
  await running?.receiver.close();
  await removeRoot(root);
  // The long-run figures live in docs/RELIABILITY.md; print this run's for it.
  console.log(
    `hostile-http: ${figures.cases} hostile uploads, ${figures.refused} refused, ${figures.quarantined} quarantined, ${figures.goodAfter} good uploads accepted after them`,
  );
});

const strs = (): Str[] => [str(1), str(2), str(3)];
const outer = (p: Partial<OuterParts> = {}): Outer => buildOuter({ keys: leaf, strs: strs(), scheduledtime: nextTime(), ...p });
const plain = (s: Str[]): RawEntry[] => s.map((x) => ({ name: x.name, data: x.data }));
const innerWith = (i: number, change: Partial<RawEntry>) => (s: Str[]) => plain(s).map((e, j) => (j === i ? { ...e, ...change } : e));
/** The .prp's lines changed and signed again with the leaf's key. */
const prpLines = (change: (lines: string[]) => string[]) => (text: string) => resign(text, leaf, change);
/** The outer entries of `o` (inner zip, .prp), as the raw writer takes them. */
const entriesOf = (o: Outer, time: string): [RawEntry, RawEntry] => [
  { name: innerZipName(time, 'LEAF1'), data: o.innerZip, method: 0 },
  { name: prpName(time, 'LEAF1'), data: Buffer.from(o.prp), method: 0 },
];
const timeOf = (name: string) => name.slice(0, 17);

async function sendGood(): Promise<Outer> {
  const o = buildOuter({ keys: leaf, strs: [str(1000 + clock, 3000)], scheduledtime: nextTime() });
  const a = await put(running.receiver.url, o.name, o.zip, { tls: tls() });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  good.push(o.name);
  await running.receiver.idle();
  return o;
}

interface Sent {
  answer: Answer;
  /** The zip name the Receiver logs the upload under. */
  name?: string;
  /** The body, when it should be found in the quarantine. */
  body?: Buffer;
}

interface Case {
  title: string;
  status: number;
  code: string;
  send: () => Promise<Sent>;
  /** Where the status and code are read: the answer (default), or the Receiver's log when the connection is cut. */
  seen?: 'answer' | 'log';
}

/** PUT a zip with correct headers, under its own name or `name`. */
function zipCase(title: string, status: number, code: string, build: () => Outer, name?: (o: Outer) => string): Case {
  return {
    title,
    status,
    code,
    send: async () => {
      const o = build();
      const n = name?.(o) ?? o.name;
      return { answer: await put(running.receiver.url, n, o.zip, { tls: tls() }), name: n, body: o.zip };
    },
  };
}

const unreadable = (title: string, build: () => Outer) => zipCase(title, 422, 'ZIP_UNREADABLE', build);
const unsafe = (title: string, build: () => Outer) => zipCase(title, 422, 'ZIP_ENTRY_UNSAFE', build);
const badPrp = (title: string, code: string, change: (lines: string[]) => string[]) =>
  zipCase(`.prp ${title}`, 422, code, () => outer({ prpText: prpLines(change) }));

/** A request written byte for byte; answered by the Receiver's HTTP layer or its handler. */
function rawCase(title: string, status: number, code: string, request: () => Buffer): Case {
  return {
    title,
    status,
    code,
    send: async () => {
      const a = await rawExchange(running.receiver.port, pki.ca.certPath, request());
      return { answer: { status: a.status, headers: {}, body: a.body } };
    },
  };
}

function head(lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

const M32 = 0xffffffff;

const cases: Case[] = [
  // names inside the inner zip
  unsafe('inner: path traversal ../x.str', () => outer({ innerEntries: innerWith(0, { name: '../x.str' }) })),
  unsafe('inner: absolute name /x.str', () => outer({ innerEntries: innerWith(0, { name: '/x.str' }) })),
  unsafe('inner: absolute Windows name C:\\x.str', () => outer({ innerEntries: innerWith(0, { name: 'C:\\x.str' }) })),
  unsafe('inner: a folder a/x.str', () => outer({ innerEntries: innerWith(0, { name: 'a/x.str' }) })),
  unsafe('inner: a folder entry', () => outer({ innerEntries: innerWith(0, { name: 'd/', data: Buffer.alloc(0), method: 0 }) })),
  unsafe('inner: a symbolic link', () => outer({ innerEntries: innerWith(1, { externalAttrs: 0o120777 << 16 }) })),
  unsafe('inner: a device file', () => outer({ innerEntries: innerWith(1, { externalAttrs: 0o020644 << 16 }) })),
  unsafe('inner: a control character in a name', () => outer({ innerEntries: innerWith(0, { name: 'a\u0000b.str' }) })),
  unsafe('inner: a nested zip (not a .str)', () =>
    outer({ innerEntries: (s) => [...plain(s).slice(0, 2), { name: 'nested.zip', data: buildZip(plain(s)) }] }),
  ),
  unsafe('inner: encrypted', () => outer({ innerEntries: innerWith(2, { flags: 0x1 }) })),
  // names inside the outer zip
  unsafe('outer: path traversal in the inner zip entry', () => outer({ outerEntries: (i, p) => [{ ...i, name: `../${i.name}` }, p] })),
  unsafe('outer: absolute name of the .prp', () => outer({ outerEntries: (i, p) => [i, { ...p, name: `/${p.name}` }] })),
  unsafe('outer: the .prp as a symbolic link', () => outer({ outerEntries: (i, p) => [i, { ...p, externalAttrs: 0o120777 << 16 }] })),
  zipCase('outer: the .prp twice', 422, 'ZIP_ENTRY_DUPLICATE', () => outer({ outerEntries: (_i, p) => [p, p] })),
  zipCase('outer: a third entry', 422, 'ZIP_ENTRY_UNEXPECTED', () =>
    outer({ outerEntries: (i, p) => [i, p, { name: 'readme.txt', data: Buffer.from('x') }] }),
  ),
  zipCase('outer: the .prp missing', 422, 'ZIP_ENTRY_UNEXPECTED', () => outer({ outerEntries: (i) => [i] })),
  zipCase('outer: the inner zip deflated', 422, 'ZIP_ENTRY_UNEXPECTED', () => outer({ outerEntries: (i, p) => [{ ...i, method: 8 }, p] })),
  // duplicates, counts
  zipCase('inner: the same .str twice', 422, 'ZIP_ENTRY_DUPLICATE', () =>
    outer({ innerEntries: (s) => plain([s[0] as Str, s[0] as Str, s[2] as Str]) }),
  ),
  zipCase('inner: two .str equal but for letter case', 422, 'ZIP_ENTRY_DUPLICATE', () =>
    outer({ innerEntries: (s) => plain(s).map((e, j) => (j === 1 ? { ...e, name: (s[0] as Str).name.toLowerCase() } : e)) }),
  ),
  zipCase('inner: a .str the .prp does not list', 422, 'ZIP_MANIFEST_MISMATCH', () =>
    outer({ innerEntries: (s) => [...plain(s), { name: 'extra.str', data: Buffer.from('x') }] }),
  ),
  zipCase('inner: 51 .str', 422, 'ZIP_TOO_MANY_FILES', () => {
    const many = Array.from({ length: 51 }, (_, i) => str(i, 100));
    return buildOuter({ keys: leaf, strs: many, scheduledtime: nextTime(), body: (b) => ({ ...b, files: b.files.slice(0, 50) }) });
  }),
  zipCase('inner: the end record claims 65535 entries', 422, 'ZIP_TOO_MANY_FILES', () =>
    outer({ innerEntries: undefined, innerZip: buildZip(plain(strs()), { count: 0xffff }) }),
  ),
  // bombs
  zipCase('bomb: 20 MB of zeros in one .str', 422, 'ZIP_RATIO_EXCEEDED', () =>
    outer({ strs: [{ name: 'BOMB.str', data: Buffer.alloc(20_000_000) }] }),
  ),
  zipCase('bomb: nested, a deflated inner zip holding 900 kB stored', 422, 'ZIP_RATIO_EXCEEDED', () =>
    outer({
      strs: [{ name: 'BOMB.str', data: Buffer.alloc(900_000) }],
      innerEntries: (s) => plain(s).map((e) => ({ ...e, method: 0 })),
      outerEntries: (i, p) => [{ ...i, method: 8 }, p],
    }),
  ),
  zipCase('bomb: a .str that says it is 2 GB', 422, 'ZIP_TOO_LARGE', () =>
    outer({ innerEntries: innerWith(0, { uncompressedSize: 2_000_000_000 }) }),
  ),
  unsafe('bomb: overlapping entries (b.str inside a.str)', () => {
    const b: RawEntry = { name: 'b.str', data: Buffer.from('hidden inside a.str\r\n'.repeat(20)), method: 0 };
    const a: RawEntry = { name: 'a.str', data: localRecord(b), method: 0 };
    return outer({
      strs: [
        { name: 'a.str', data: a.data },
        { name: 'b.str', data: b.data },
      ],
      innerEntries: () => [a, { ...b, centralOnlyAt: 30 + 'a.str'.length }],
    });
  }),
  unsafe('bomb: the .prp overlapping the inner zip', () => outer({ outerEntries: (i, p) => [i, { ...p, centralOnlyAt: 0 }] })),
  // checksums and sizes
  zipCase('flipped CRC of a .str', 422, 'ZIP_CRC_MISMATCH', () => outer({ innerEntries: innerWith(1, { crc: 0x1234 }) })),
  zipCase('flipped CRC of the inner zip', 422, 'ZIP_CRC_MISMATCH', () => outer({ outerEntries: (i, p) => [{ ...i, crc: 0x1234 }, p] })),
  zipCase('flipped CRC of the .prp', 422, 'ZIP_CRC_MISMATCH', () => outer({ outerEntries: (i, p) => [i, { ...p, crc: 0x1234 }] })),
  zipCase('a .str says it is shorter than it is', 422, 'ZIP_SIZE_MISMATCH', () =>
    outer({ innerEntries: innerWith(0, { uncompressedSize: 3999 }) }),
  ),
  zipCase('a .str says it is longer than it is', 422, 'ZIP_SIZE_MISMATCH', () =>
    outer({ innerEntries: innerWith(0, { uncompressedSize: 4100 }) }),
  ),
  unsafe('a compressed size that runs into the central directory', () =>
    outer({ innerEntries: innerWith(2, { method: 0, compressedSize: 4010, uncompressedSize: 4010 }) }),
  ),
  unreadable('corrupt deflate data', () => outer({ innerEntries: innerWith(0, { raw: Buffer.alloc(500, 0xff) }) })),
  // zip64
  unreadable('zip64: end records in the outer zip', () => {
    const t = nextTime();
    const o = outer({ scheduledtime: t });
    return { ...o, zip: buildZip(entriesOf(o, t), { zip64: {}, count: 0xffff, cdSize: M32, cdOffset: M32 }) };
  }),
  unreadable('zip64: end records hidden in a central record comment', () => {
    const t = nextTime();
    const o = outer({ scheduledtime: t });
    return { ...o, zip: buildZip(entriesOf(o, t), { zip64: { inComment: true } }) };
  }),
  unreadable('zip64: a locator pointing past the end', () =>
    outer({ innerEntries: undefined, innerZip: buildZip(plain(strs()), { zip64: { recordOffset: 2n ** 62n } }) }),
  ),
  unreadable('zip64: an extra field too short for the size it stands for', () =>
    outer({ innerEntries: innerWith(0, { uncompressedSize: M32, extra: Buffer.from([1, 0, 4, 0, 1, 2, 3, 4]) }) }),
  ),
  zipCase('zip64: an extra field that says 1 TiB', 422, 'ZIP_TOO_LARGE', () =>
    outer({ innerEntries: innerWith(0, { uncompressedSize: M32, extra: zip64Extra(2n ** 40n) }) }),
  ),
  unsafe('zip64: sizes in the extra field, local header unlike the central one', () =>
    outer({ innerEntries: innerWith(0, { method: 0, compressedSize: M32, uncompressedSize: M32, extra: zip64Extra(4000n, 4000n) }) }),
  ),
  // the .prp, each field wrong and signed again: the field check refuses it, not the signature
  badPrp('format of another version', 'PRP_VALUE_INVALID', setKey('format', 'zenroll-prp/2')),
  badPrp('scheduledtime with month 13', 'PRP_VALUE_INVALID', setKey('scheduledtime', '20261322103000000')),
  badPrp('server with a slash', 'PRP_VALUE_INVALID', setKey('server', 'LE/AF1')),
  badPrp('empty tree', 'PRP_VALUE_INVALID', setKey('tree', '')),
  badPrp('created not ISO', 'PRP_VALUE_INVALID', setKey('created', '22.11.2026 10:30')),
  badPrp('files one more than listed', 'PRP_VALUE_INVALID', setKey('files', '4')),
  badPrp('files 0', 'PRP_VALUE_INVALID', setKey('files', '0')),
  badPrp('inner.name of another batch', 'PRP_VALUE_INVALID', setKey('inner.name', '20200101000000000_LEAF1.zip')),
  badPrp('inner.size not a number', 'PRP_VALUE_INVALID', setKey('inner.size', '-1')),
  badPrp('inner.sha256 in upper case', 'PRP_VALUE_INVALID', (l) =>
    l.map((x) => (x.startsWith('inner.sha256=') ? x.toUpperCase().replace('INNER.SHA256', 'inner.sha256') : x)),
  ),
  badPrp('file.1 without its digest', 'PRP_VALUE_INVALID', (l) =>
    l.map((x) => (x.startsWith('file.1=') ? x.split(' ').slice(0, 2).join(' ') : x)),
  ),
  badPrp('file.1 named ..%2Fx.str', 'PRP_VALUE_INVALID', (l) =>
    l.map((x) => (x.startsWith('file.1=') ? x.replace(/^file\.1=\S+/, 'file.1=..%2Fx.str') : x)),
  ),
  badPrp('keys out of order', 'PRP_KEY_ORDER', (l) => [l[0] as string, l[2] as string, l[1] as string, ...l.slice(3)]),
  badPrp('a key twice', 'PRP_KEY_REPEATED', (l) => [...l.slice(0, 4), l[3] as string, ...l.slice(4)]),
  badPrp('created missing', 'PRP_KEY_MISSING', (l) => l.filter((x) => !x.startsWith('created='))),
  zipCase('.prp with a line after the signature', 422, 'PRP_AFTER_SIGNATURE', () => outer({ prpText: (t) => `${t}batch.note=x\n` })),
  zipCase('.prp key.id not hex', 422, 'PRP_VALUE_INVALID', () =>
    outer({ prpText: (t) => t.replace(/key\.id=[0-9a-f]+/, `key.id=${'z'.repeat(32)}`) }),
  ),
  zipCase('.prp with CRLF line ends', 422, 'PRP_MALFORMED', () => outer({ prpText: (t) => t.replaceAll('\n', '\r\n') })),
  zipCase('.prp not UTF-8', 422, 'PRP_MALFORMED', () =>
    outer({
      outerEntries: (i, p) => [i, { ...p, data: Buffer.concat([p.data.subarray(0, 40), Buffer.from([0xff]), p.data.subarray(41)]) }],
    }),
  ),
  zipCase('.prp inner.size one byte off (signed)', 422, 'ZIP_MANIFEST_MISMATCH', () =>
    outer({ body: (b) => ({ ...b, inner: { ...b.inner, size: b.inner.size + 1 } }) }),
  ),
  // signatures
  zipCase('signed by an untrusted key', 401, 'PRP_SIGNER_UNKNOWN', () =>
    buildOuter({ keys: stranger, strs: strs(), scheduledtime: nextTime() }),
  ),
  zipCase('forged: signed by another key under the trusted key.id', 403, 'PRP_SIGNATURE_INVALID', () =>
    buildOuter({ keys: { privateKey: stranger.privateKey, publicKey: leaf.publicKey }, strs: strs(), scheduledtime: nextTime() }),
  ),
  zipCase('a signed byte changed', 403, 'PRP_SIGNATURE_INVALID', () => outer({ prpText: (t) => t.replace('tree=ACME', 'tree=ACMF') })),
  zipCase('replayed: the signed .prp of another batch around this inner zip', 422, 'ZIP_MANIFEST_MISMATCH', () => {
    const a = outer();
    const b = outer({ strs: [str(77)] });
    const [, prpOfA] = entriesOf(a, timeOf(a.name));
    return { ...a, zip: buildZip([{ name: innerZipName(timeOf(a.name), 'LEAF1'), data: b.innerZip, method: 0 }, prpOfA]) };
  }),
  zipCase(
    'replayed: an accepted zip under another scheduled time',
    422,
    'ZIP_NAME_MISMATCH',
    () => lastGood,
    (o) => `${nextTime()}${o.name.slice(17)}`,
  ),
  zipCase(
    'outer name of another server than the .prp',
    422,
    'ZIP_NAME_MISMATCH',
    () => outer(),
    (o) => o.name.replace('_LEAF1_', '_LEAF2_'),
  ),
  // replays of the exact batch: answered from the receipt, nothing stored again
  zipCase('replayed: an accepted zip under its own name', 200, '', () => lastGood),
  zipCase(
    'replayed: an accepted zip under another stored status',
    200,
    '',
    () => lastGood,
    (o) => o.name.replace(/_0\.zip$/, '_2.zip'),
  ),
  zipCase(
    'replayed: an accepted zip under another tree',
    200,
    '',
    () => lastGood,
    (o) => o.name.replace('_ACME_', '_OTHER_'),
  ),
  {
    title: 'replayed concurrently: the same batch under another status while the first still uploads',
    status: 503,
    code: 'UPLOAD_IN_PROGRESS',
    send: async () => {
      const o = buildOuter({ keys: leaf, strs: [str(4242, 3000)], scheduledtime: nextTime() });
      const first = await partialUpload(running.receiver.url, o.name, o.zip, 100, { tls: tls() });
      await running.logger.waitFor((l) => l.message === 'receiving' && l.fields.zip === o.name);
      const replay = await put(running.receiver.url, o.name.replace(/_0\.zip$/, '_2.zip'), o.zip, { tls: tls() });
      first.finish();
      expect(await first.done).toMatchObject({ status: 201 });
      good.push(o.name);
      return { answer: replay };
    },
  },
  // truncated bodies (with a Repr-Digest that matches them): see the loop below
  // the request itself
  {
    title: 'Content-Length over maxZipBytes',
    status: 413,
    code: 'ZIP_OVER_LIMIT',
    send: async () => {
      const body = randomBytes(MAX_ZIP_BYTES + 1);
      return { answer: await put(running.receiver.url, `${nextTime()}_LEAF1_ACME_0.zip`, body, { tls: tls() }) };
    },
  },
  {
    title: 'Repr-Digest missing',
    status: 400,
    code: 'UPLOAD_INVALID',
    send: async () => {
      const o = outer();
      return {
        answer: await call(running.receiver.url, {
          method: 'PUT',
          path: zipPath(o.name),
          headers: { 'content-length': String(o.zip.length) },
          body: o.zip,
          tls: tls(),
        }),
      };
    },
  },
  {
    title: 'Repr-Digest of other bytes',
    status: 400,
    code: 'DIGEST_MISMATCH',
    send: async () => {
      const o = outer();
      return {
        answer: await put(running.receiver.url, o.name, o.zip, { tls: tls(), headers: { 'repr-digest': digestOf(Buffer.from('other')) } }),
      };
    },
  },
  {
    title: 'Repr-Digest malformed',
    status: 400,
    code: 'UPLOAD_INVALID',
    send: async () => {
      const o = outer();
      return { answer: await put(running.receiver.url, o.name, o.zip, { tls: tls(), headers: { 'repr-digest': 'sha-256=deadbeef' } }) };
    },
  },
  {
    title: 'Repr-Digest with only sha-512',
    status: 400,
    code: 'UPLOAD_INVALID',
    send: async () => {
      const o = outer();
      return {
        answer: await put(running.receiver.url, o.name, o.zip, {
          tls: tls(),
          headers: { 'repr-digest': `sha-512=:${randomBytes(64).toString('base64')}:` },
        }),
      };
    },
  },
  {
    title: 'path traversal in the URL (encoded)',
    status: 400,
    code: 'NAME_INVALID',
    send: async () => {
      const o = outer();
      return {
        answer: await call(running.receiver.url, {
          method: 'PUT',
          path: `/v1/zips/${encodeURIComponent(`../../${o.name}`)}`,
          headers: { 'content-length': String(o.zip.length), 'repr-digest': digestOf(o.zip) },
          body: o.zip,
          tls: tls(),
        }),
      };
    },
  },
  {
    title: 'path traversal in the URL (raw)',
    status: 404,
    code: 'NOT_FOUND',
    send: async () => {
      const o = outer();
      return {
        answer: await call(running.receiver.url, {
          method: 'PUT',
          path: `/v1/zips/../../${o.name}`,
          headers: { 'content-length': String(o.zip.length), 'repr-digest': digestOf(o.zip) },
          body: o.zip,
          tls: tls(),
        }),
      };
    },
  },
  zipCase(
    'a name with stored status 1',
    400,
    'NAME_INVALID',
    () => outer(),
    (o) => o.name.replace(/_0\.zip$/, '_1.zip'),
  ),
  zipCase(
    'a name with a NUL byte',
    400,
    'NAME_INVALID',
    () => outer(),
    (o) => o.name.replace('LEAF1', 'LEAF\u00001'),
  ),
  rawCase('a chunked body without Content-Length', 400, 'UPLOAD_INVALID', () =>
    Buffer.concat([
      head([
        `PUT ${zipPath(`${nextTime()}_LEAF1_ACME_0.zip`)} HTTP/1.1`,
        'Host: x',
        'Transfer-Encoding: chunked',
        `Repr-Digest: ${digestOf(Buffer.from('x'))}`,
        'Connection: close',
      ]),
      Buffer.from('1\r\nx\r\n0\r\n\r\n'),
    ]),
  ),
  rawCase('Content-Length and Transfer-Encoding both (smuggling)', 400, 'UPLOAD_INVALID', () =>
    Buffer.concat([
      head([
        `PUT ${zipPath(`${nextTime()}_LEAF1_ACME_0.zip`)} HTTP/1.1`,
        'Host: x',
        'Content-Length: 1',
        'Transfer-Encoding: chunked',
        `Repr-Digest: ${digestOf(Buffer.from('x'))}`,
      ]),
      Buffer.from('1\r\nx\r\n0\r\n\r\n'),
    ]),
  ),
  rawCase('two different Content-Length headers', 400, 'UPLOAD_INVALID', () =>
    Buffer.concat([
      head([
        `PUT ${zipPath(`${nextTime()}_LEAF1_ACME_0.zip`)} HTTP/1.1`,
        'Host: x',
        'Content-Length: 1',
        'Content-Length: 2',
        `Repr-Digest: ${digestOf(Buffer.from('x'))}`,
      ]),
      Buffer.from('xx'),
    ]),
  ),
  rawCase('a negative Content-Length', 400, 'UPLOAD_INVALID', () =>
    head([
      `PUT ${zipPath(`${nextTime()}_LEAF1_ACME_0.zip`)} HTTP/1.1`,
      'Host: x',
      'Content-Length: -1',
      `Repr-Digest: ${digestOf(Buffer.from('x'))}`,
    ]),
  ),
  rawCase('64 KiB of headers', 400, 'UPLOAD_INVALID', () =>
    head([`PUT ${zipPath(`${nextTime()}_LEAF1_ACME_0.zip`)} HTTP/1.1`, 'Host: x', `X-Pad: ${'a'.repeat(65536)}`, 'Content-Length: 0']),
  ),
  rawCase('not HTTP at all', 400, 'UPLOAD_INVALID', () => Buffer.from('\u0016\u0003\u0001 this is no request\r\n\r\n', 'latin1')),
  {
    title: 'slow loris: headers dribbled a byte at a time, never finished',
    status: 408,
    code: 'REQUEST_TIMEOUT',
    send: async () => {
      const request = Buffer.from(
        `PUT ${zipPath(`${nextTime()}_LEAF1_ACME_0.zip`)} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(4000)}`,
        'latin1',
      );
      const a = await rawExchange(running.receiver.port, pki.ca.certPath, request, { chunk: 1, everyMs: 20 });
      // Cut while it was still dribbling: the server, not the client, ended it.
      expect(a.written).toBeLessThan(request.length);
      return { answer: { status: a.status, headers: {}, body: a.body } };
    },
  },
  {
    title: 'slow loris: a body that stops half way and waits',
    status: 408,
    code: 'REQUEST_TIMEOUT',
    seen: 'log',
    send: async () => {
      const o = outer();
      const request = Buffer.concat([
        head([`PUT ${zipPath(o.name)} HTTP/1.1`, 'Host: x', `Content-Length: ${o.zip.length}`, `Repr-Digest: ${digestOf(o.zip)}`]),
        o.zip.subarray(0, o.zip.length >> 1),
      ]);
      const a = await rawExchange(running.receiver.port, pki.ca.certPath, request, { thenWait: true });
      return { answer: { status: a.status, headers: {}, body: a.body }, name: o.name };
    },
  },
  {
    title: 'a body shorter than Content-Length, then the client goes',
    status: 400,
    code: 'UPLOAD_INVALID',
    seen: 'log',
    send: async () => {
      const o = outer();
      const request = Buffer.concat([
        head([`PUT ${zipPath(o.name)} HTTP/1.1`, 'Host: x', `Content-Length: ${o.zip.length}`, `Repr-Digest: ${digestOf(o.zip)}`]),
        o.zip.subarray(0, o.zip.length >> 1),
      ]);
      const a = await rawExchange(running.receiver.port, pki.ca.certPath, request);
      return { answer: { status: a.status, headers: {}, body: a.body }, name: o.name };
    },
  },
];

/** Truncated at each of these fractions of a valid zip, sent with a Repr-Digest of what is sent. */
const CUTS = [0, 1 / 1000, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, -23, -22, -1];
for (const cut of CUTS) {
  cases.push({
    title: `truncated at ${cut < 0 ? `${cut} bytes from the end` : `${cut * 100}%`}`,
    status: 422,
    code: 'ZIP_UNREADABLE',
    send: async () => {
      const o = outer();
      const at = cut < 0 ? o.zip.length + cut : Math.floor(o.zip.length * cut);
      const body = o.zip.subarray(0, at);
      return { answer: await put(running.receiver.url, o.name, body, { tls: tls() }), name: o.name, body };
    },
  });
}

async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}

describe('hostile uploads to a real Receiver', () => {
  it('has at least 40 hostile cases, each titled once', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
    figures.cases += 1;
    const quarantinedBefore = await filesIn(quarantine());
    const sent = await c.send();
    if (c.seen === 'log') {
      // The client may be gone before an answer: the Receiver's log line says how it ended.
      if (sent.answer.status !== 0) expect(sent.answer.status).toBe(c.status);
      const line = await running.logger.upload(sent.name ?? '');
      expect({ status: line.fields.status, error: line.fields.error }).toEqual({ status: c.status, error: c.code });
    } else {
      expect({ status: sent.answer.status, error: sent.answer.body.error ?? '' }, JSON.stringify(sent.answer.body)).toEqual({
        status: c.status,
        error: c.code,
      });
    }
    if (c.status >= 400) figures.refused += 1;
    await running.receiver.idle();

    // Only a refusal for the zip's content (401, 403, 422) is quarantined: the body byte for byte, and why.
    const added = (await filesIn(quarantine())).filter((f) => !quarantinedBefore.includes(f));
    if ([401, 403, 422].includes(c.status)) {
      expect(added).toHaveLength(2);
      const zip = added.find((f) => f.endsWith('.zip')) as string;
      expect(added).toContain(`${zip}.json`);
      if (sent.body !== undefined) expect(sha(await readFile(join(quarantine(), zip)))).toBe(sha(sent.body));
      const reason = JSON.parse(await readFile(join(quarantine(), `${zip}.json`), 'utf8')) as Record<string, unknown>;
      expect(reason).toMatchObject({ status: c.status, error: c.code });
      figures.quarantined += 1;
    } else {
      expect(added).toEqual([]);
    }

    // Nothing outside the quarantine: zipdir empty, the targets hold the good zips only, no temp anywhere.
    expect(await readdir(zipdir())).toEqual([]);
    expect(await filesIn(setup.config.dirs.entpushdir as string)).toEqual(good.map(inPush).sort());
    expect(await filesIn(setup.config.dirs.dbdir as string)).toEqual(good.map(inDb).sort());
    expect((await filesUnder(setup.root)).filter((f) => isTempName(basename(f)))).toEqual([]);

    // Still up, and the next good upload is stored and promoted.
    expect((await call(running.receiver.url, { path: '/v1/health', tls: tls() })).status).toBe(200);
    lastGood = await sendGood();
    figures.goodAfter += 1;
    expect(await filesIn(setup.config.dirs.dbdir as string)).toEqual(good.map(inDb).sort());
  });
});
