/**
 * The `.prp` manifest of SPEC §3: write, parse, sign, verify. Pure: no fs,
 * no net; keys come in as `KeyObject`s.
 */
import { createHash, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ZenrollError, shown, messageOf, type ErrorCode } from './errors.js';
import { checkName, decodeName, encodeName, innerZipName, parseScheduledTime } from './names.js';

/** SPEC §3 `key.id`: hex of the first 16 bytes of SHA-256 of the raw 32-byte public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256')
    .update(der.subarray(der.length - 32))
    .digest('hex')
    .slice(0, 32);
}

export const PRP_FORMAT = 'zenroll-prp/1';
export const MAX_FILES = 50;

export interface PrpFile {
  /** The `.str` base name, decoded. */
  name: string;
  size: number;
  sha256: string;
}

export interface PrpBody {
  scheduledtime: string;
  server: string;
  tree: string;
  /** ISO-8601 UTC with milliseconds, as `Date.toISOString()` gives. */
  created: string;
  inner: { name: string; size: number; sha256: string };
  files: PrpFile[];
  /** Keys of our own or of later versions, signed like the rest (e.g. `batch.id`). */
  extra: [string, string][];
}

export interface Prp extends PrpBody {
  keyId: string;
  signature: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const KEY = /^[a-z][a-z0-9.-]*$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FIXED_HEAD = ['format', 'scheduledtime', 'server', 'tree', 'created', 'files', 'inner.name', 'inner.size', 'inner.sha256'];
// ignoreBOM keeps a leading BOM in the text, where it fails the key check: the
// signature covers every byte, and a BOM would be a byte it does not cover.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(code: ErrorCode, message: string): ZenrollError {
  return new ZenrollError(code, message);
}

function isKnownKey(key: string): boolean {
  return FIXED_HEAD.includes(key) || key === 'key.id' || key === 'signature' || /^file\.\d+$/.test(key);
}

/**
 * A name as a case-insensitive file system sees it. Two entries of one zip
 * (and two `.str` of one batch) may not be equal under it: the plan keeps
 * them apart, the packer, the `.prp` parser and the verifier refuse them.
 */
export function foldedName(name: string): string {
  return name.toLowerCase();
}

/**
 * A `.str` base name: no folders, not `.`/`..`, ends in `.str`, and nothing
 * Windows reads as a drive or a stream (`:`), nor control characters.
 */
export function checkStrName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\:\u0000-\u001f\u007f]/.test(name) || !/\.str$/i.test(name)) {
    throw fail('ZIP_ENTRY_UNSAFE', `.str name ${shown(name)} is not a plain file name ending in .str`);
  }
}

function bodyLines(body: PrpBody): string[] {
  if (body.files.length < 1 || body.files.length > MAX_FILES) {
    throw fail('PACK_INPUT_INVALID', `a batch holds 1 to ${MAX_FILES} .str files, not ${body.files.length}`);
  }
  const lines = [
    `format=${PRP_FORMAT}`,
    `scheduledtime=${body.scheduledtime}`,
    `server=${body.server}`,
    `tree=${body.tree}`,
    `created=${body.created}`,
    `files=${body.files.length}`,
    `inner.name=${body.inner.name}`,
    `inner.size=${body.inner.size}`,
    `inner.sha256=${body.inner.sha256}`,
    ...body.files.map((f, i) => `file.${i + 1}=${encodeName(f.name)} ${f.size} ${f.sha256}`),
  ];
  // A line break in a value would forge lines (tree "ACME\nbatch.id=x") that the parser then reads back as valid.
  const broken = lines.find((line) => /[\r\n]/.test(line));
  if (broken !== undefined) throw fail('PRP_VALUE_INVALID', `.prp line ${shown(broken)} holds a line break`);
  for (const [key, value] of body.extra) {
    // A lone surrogate would be signed as U+FFFD and read back changed.
    if (!KEY.test(key) || isKnownKey(key) || /[\r\n]/.test(value) || !value.isWellFormed()) {
      throw fail('PRP_VALUE_INVALID', `extra .prp key ${shown(key)} is not allowed`);
    }
    lines.push(`${key}=${value}`);
  }
  return lines;
}

/** Sign a manifest with the origin server's private key; returns the file's text. */
export function signPrp(body: PrpBody, privateKey: KeyObject, publicKey: KeyObject): string {
  const text = `${bodyLines(body).join('\n')}\nkey.id=${keyIdOf(publicKey)}\n`;
  const signature = edSign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
  const signed = `${text}signature=${signature}\n`;
  // What we sign must pass the very parser the Receiver runs.
  parseFields(signed);
  return signed;
}

interface Parsed {
  prp: Prp;
  signed: Buffer;
}

function int(key: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^(0|[1-9]\d{0,15})$/.test(value) || Number(value) > max) {
    throw fail('PRP_VALUE_INVALID', `.prp ${key} ${shown(value)} is not a whole number up to ${max}`);
  }
  return Number(value);
}

function parseFields(text: string): Parsed {
  if (!text.endsWith('\n')) throw fail('PRP_MALFORMED', '.prp does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const seen = new Map<string, string>();
  const order: string[] = [];
  let signedEnd = -1;
  let offset = 0;
  for (const [i, line] of lines.entries()) {
    if (seen.has('signature')) throw fail('PRP_AFTER_SIGNATURE', `.prp line ${i + 1} follows the signature`);
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq);
    if (!KEY.test(key) || line.includes('\r')) {
      throw fail('PRP_MALFORMED', `.prp line ${i + 1} ${shown(line)} is not key=value`);
    }
    if (seen.has(key)) throw fail('PRP_KEY_REPEATED', `.prp key ${shown(key)} appears twice`);
    if (key === 'signature') signedEnd = offset;
    seen.set(key, line.slice(eq + 1));
    order.push(key);
    offset += Buffer.byteLength(line, 'utf8') + 1;
  }
  const get = (key: string): string => {
    const v = seen.get(key);
    if (v === undefined) throw fail('PRP_KEY_MISSING', `.prp has no ${key}`);
    return v;
  };
  for (const key of FIXED_HEAD) get(key);
  const count = int('files', get('files'), MAX_FILES);
  if (count < 1) throw fail('PRP_VALUE_INVALID', '.prp files is 0; a batch holds at least one .str');
  const fileLines = order.filter((k) => /^file\.\d+$/.test(k)).length;
  if (fileLines !== count) throw fail('PRP_VALUE_INVALID', `.prp files is ${count} but it has ${fileLines} file.N lines`);
  const expected = [...FIXED_HEAD, ...Array.from({ length: count }, (_, i) => `file.${i + 1}`), 'key.id', 'signature'];
  for (const key of expected) get(key);
  const known = order.filter(isKnownKey);
  if (known.length !== expected.length || known.some((k, i) => k !== expected[i])) {
    const at = known.findIndex((k, i) => k !== expected[i]);
    throw fail('PRP_KEY_ORDER', `.prp key ${shown(known[at] ?? '(end)')} is out of place; expected ${shown(expected[at] ?? '(end)')}`);
  }

  if (get('format') !== PRP_FORMAT) throw fail('PRP_VALUE_INVALID', `.prp format ${shown(get('format'))} is not ${PRP_FORMAT}`);
  const scheduledtime = get('scheduledtime');
  const server = get('server');
  const tree = get('tree');
  try {
    parseScheduledTime(scheduledtime);
    checkName('server', server);
    checkName('tree', tree);
  } catch (cause) {
    throw new ZenrollError('PRP_VALUE_INVALID', `.prp: ${messageOf(cause)}`, { cause });
  }
  const created = get('created');
  // Month 13 or hour 25 is an Invalid Date, on which toISOString would throw a RangeError.
  if (!ISO.test(created) || Number.isNaN(Date.parse(created)) || new Date(created).toISOString() !== created) {
    throw fail('PRP_VALUE_INVALID', `.prp created ${shown(created)} is not an ISO-8601 UTC time`);
  }
  const innerName = get('inner.name');
  if (innerName !== innerZipName(scheduledtime, server)) {
    throw fail('PRP_VALUE_INVALID', `.prp inner.name ${shown(innerName)} is not ${shown(innerZipName(scheduledtime, server))}`);
  }
  const sha = (key: string, v: string): string => {
    if (!HEX64.test(v)) throw fail('PRP_VALUE_INVALID', `.prp ${key} ${shown(v)} is not 64 lower-case hex digits`);
    return v;
  };
  const files: PrpFile[] = [];
  for (let i = 1; i <= count; i++) {
    const v = get(`file.${i}`);
    const [encoded, size, digest, ...more] = v.split(' ');
    if (encoded === undefined || size === undefined || digest === undefined || more.length > 0) {
      throw fail('PRP_VALUE_INVALID', `.prp file.${i} ${shown(v)} is not "name size sha256"`);
    }
    let name: string;
    try {
      name = decodeName(encoded);
      checkStrName(name);
    } catch (cause) {
      throw new ZenrollError('PRP_VALUE_INVALID', `.prp file.${i}: ${messageOf(cause)}`, { cause });
    }
    // Twice, or twice but for case: they would collide on a case-insensitive file system.
    if (files.some((f) => foldedName(f.name) === foldedName(name))) {
      throw fail('PRP_VALUE_INVALID', `.prp names ${shown(name)} twice (letter case aside)`);
    }
    files.push({ name, size: int(`file.${i} size`, size), sha256: sha(`file.${i}`, digest) });
  }
  const keyId = get('key.id');
  if (!/^[0-9a-f]{32}$/.test(keyId)) throw fail('PRP_VALUE_INVALID', `.prp key.id ${shown(keyId)} is not 32 hex digits`);
  const signature = get('signature');
  // Canonical base64 only: the unused low bits of the last digit must be zero,
  // or one signature would have several spellings and a flipped byte go unseen.
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature) || Buffer.from(signature, 'base64').toString('base64') !== signature) {
    throw fail('PRP_VALUE_INVALID', '.prp signature is not a base64 Ed25519 signature');
  }
  const extra = order.filter((k) => !isKnownKey(k)).map((k): [string, string] => [k, seen.get(k) ?? '']);
  const prp: Prp = {
    scheduledtime,
    server,
    tree,
    created,
    inner: { name: innerName, size: int('inner.size', get('inner.size')), sha256: sha('inner.sha256', get('inner.sha256')) },
    files,
    extra,
    keyId,
    signature,
  };
  return { prp, signed: Buffer.from(text, 'utf8').subarray(0, signedEnd) };
}

/** Parse without checking the signature (for display); every structural check applies. */
export function parsePrp(data: Uint8Array | string): Prp {
  let text: string;
  try {
    text = typeof data === 'string' ? data : utf8.decode(data);
  } catch (cause) {
    throw new ZenrollError('PRP_MALFORMED', '.prp is not UTF-8', { cause });
  }
  return parseFields(text).prp;
}

/**
 * A trusted key and the origin servers (`.prp` `server`) it may sign for
 * (SPEC §4: the signature proves the origin). `server: null` is an unbound
 * key, trusted for any origin: a trust file of an older install, see
 * `TrustStore.fromDir`.
 */
export interface TrustedKey {
  key: KeyObject;
  grants: readonly { server: string | null; source: string }[];
}

export type KeyLookup = (keyId: string) => TrustedKey | undefined;

/** The servers a key may sign for, for a message: `"LEAF2" (trust/LEAF2.pub)`. */
function grantsShown(grants: TrustedKey['grants']): string {
  return grants.map((g) => `${g.server === null ? 'any server' : shown(g.server)} (${shown(g.source, 200)})`).join(', ');
}

/**
 * Parse and verify: the signer must be trusted, the signature must cover
 * every byte before it, and the signer's key must be bound to the origin
 * server the .prp names.
 */
export function verifyPrp(data: Uint8Array, trusted: KeyLookup): Prp {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch (cause) {
    throw new ZenrollError('PRP_MALFORMED', '.prp is not UTF-8', { cause });
  }
  const { prp, signed } = parseFields(text);
  const found = trusted(prp.keyId);
  if (found === undefined) {
    throw new ZenrollError('PRP_SIGNER_UNKNOWN', `.prp was signed by key ${prp.keyId}, which is not in the trust store`, {
      details: { keyId: prp.keyId, server: prp.server },
    });
  }
  if (!edVerify(null, signed, found.key, Buffer.from(prp.signature, 'base64'))) {
    throw new ZenrollError('PRP_SIGNATURE_INVALID', `.prp of ${shown(prp.server)} does not verify under key ${prp.keyId}`, {
      details: { keyId: prp.keyId, server: prp.server },
    });
  }
  if (!found.grants.some((g) => g.server === null || g.server === prp.server)) {
    const bound = found.grants.flatMap((g) => (g.server === null ? [] : [g.server]));
    throw new ZenrollError(
      'PRP_SIGNER_MISMATCH',
      `.prp names origin server ${shown(prp.server)} but is signed by key ${prp.keyId}, which is trusted only for ${grantsShown(found.grants)}`,
      { details: { keyId: prp.keyId, server: prp.server, keyServers: bound } },
    );
  }
  return prp;
}
