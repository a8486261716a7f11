/**
 * The wire protocol of SPEC §4, shared by the Sender and the Receiver: the
 * paths, the `Repr-Digest` header (RFC 9530) and the error codes that exist
 * only on the wire. Pure: no fs, no net.
 */
import { ZenrollError, shown, type ErrorCode } from './errors.js';
import { decodeName, encodeName } from './names.js';

export const DEFAULT_PORT = 7099;
export const INFO_PATH = '/v1/info';
export const HEALTH_PATH = '/v1/health';
export const ZIPS_PATH = '/v1/zips/';

/**
 * The path of an upload. The outer name is one path segment, percent-encoded
 * like any other (its own `%XX` escapes become `%25XX`), so that a server
 * that decodes the path gets the exact name back.
 */
export function zipPath(outerName: string): string {
  return `${ZIPS_PATH}${encodeURIComponent(outerName)}`;
}

/**
 * The header in which a Sender names itself on an upload, encoded as in zip
 * names (SPEC §3): the Receiver's `received` record then names the hop, the
 * server that sent this upload, apart from the batch's origin (SPEC §7). It
 * is optional — an upload without it is accepted as before, its hop unknown —
 * and says who sent it, not who made it: the signature proves that.
 */
export const SENDER_HEADER = 'zenroll-sender';

export function formatSenderHeader(server: string): string {
  return encodeName(server);
}

/** The sending server an upload names, or null when it names none or no valid name. */
export function parseSenderHeader(value: string | string[] | undefined): string | null {
  if (typeof value !== 'string') return null;
  try {
    return decodeName(value);
  } catch {
    return null;
  }
}

/** Every error code may travel in an answer; the one table (errors.ts) gives each its HTTP status. */
export type WireCode = ErrorCode;

/** The body of every error answer (SPEC §4). */
export interface WireError {
  error: WireCode;
  message: string;
  /** What to do about it, when the Receiver knows (SPEC §1: a failure names its fix). */
  fix?: string;
}

/** `GET /v1/info` (SPEC §4). */
export interface ReceiverInfo {
  server: string;
  tree: string;
  role: string;
  /** ISO time, or null: Senders discard zips created before it. */
  discardBefore: string | null;
  maxZipBytes: number;
  /**
   * ISO time of the roll-up request set here (`zenroll rollup --tree`, or
   * passed on from above), or null (SPEC §8). Absent from older Receivers.
   */
  rollupRequested?: string | null;
  /** Asked with `?key=<key id>&server=<encoded server>`: whether this Receiver accepts that server's zips signed by that key. */
  keyTrusted?: boolean;
}

/** `sha-256=:<base64>:` for a SHA-256 digest. */
export function formatReprDigest(sha256: Uint8Array): string {
  if (sha256.length !== 32) throw new ZenrollError('INTERNAL', `a SHA-256 digest has 32 bytes, not ${sha256.length}`);
  return `sha-256=:${Buffer.from(sha256).toString('base64')}:`;
}

function bad(header: string, why: string): ZenrollError {
  return new ZenrollError('UPLOAD_INVALID', `Repr-Digest ${shown(header, 120)} ${why}; expected sha-256=:<base64 of 32 bytes>:`, {
    details: { header: 'repr-digest' },
  });
}

const KEY = /^[a-z*][a-z0-9_.*-]*/;
const TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*/;
const NUMBER = /^-?\d{1,15}(?:\.\d{1,3})?/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Item = { bytes: Buffer } | { other: true };

/**
 * The SHA-256 digest of a `Repr-Digest` header: an RFC 8941 dictionary whose
 * `sha-256` member is a byte sequence. Other algorithms beside it and
 * parameters are ignored; anything that is not a well-formed dictionary, or
 * has no valid `sha-256`, is UPLOAD_INVALID.
 */
export function parseReprDigest(header: string | undefined): Buffer {
  if (header === undefined || header.trim() === '') throw bad(header ?? '', 'is missing');
  let s = header.trim();
  const members = new Map<string, Item>();
  const item = (): Item => {
    if (s.startsWith(':')) {
      const end = s.indexOf(':', 1);
      if (end < 0) throw bad(header, 'has an unterminated byte sequence');
      const b64 = s.slice(1, end);
      if (!BASE64.test(b64) || b64.length % 4 !== 0) throw bad(header, 'has a byte sequence that is not base64');
      s = s.slice(end + 1);
      return { bytes: Buffer.from(b64, 'base64') };
    }
    if (s.startsWith('"')) {
      const m = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"/.exec(s);
      if (m === null) throw bad(header, 'has a malformed string');
      s = s.slice(m[0].length);
      return { other: true };
    }
    const m = /^\?[01]/.exec(s) ?? NUMBER.exec(s) ?? TOKEN.exec(s);
    if (m === null) throw bad(header, `has a malformed value at ${shown(s, 20)}`);
    s = s.slice(m[0].length);
    return { other: true };
  };
  for (;;) {
    const key = KEY.exec(s);
    if (key === null) throw bad(header, `has a malformed key at ${shown(s, 20)}`);
    s = s.slice(key[0].length);
    let value: Item = { other: true };
    if (s.startsWith('=')) {
      s = s.slice(1);
      if (s.startsWith('(')) throw bad(header, 'has an inner list, which no digest is');
      value = item();
    }
    // Parameters (`;a=b`) qualify a member; no digest algorithm uses them.
    while (s.startsWith(';')) {
      s = s.slice(1).replace(/^ +/, '');
      const p = KEY.exec(s);
      if (p === null) throw bad(header, 'has a malformed parameter');
      s = s.slice(p[0].length);
      if (s.startsWith('=')) {
        s = s.slice(1);
        item();
      }
    }
    members.set(key[0], value);
    s = s.replace(/^[ \t]+/, '');
    if (s === '') break;
    if (!s.startsWith(',')) throw bad(header, `has ${shown(s, 20)} where a comma belongs`);
    s = s.slice(1).replace(/^[ \t]+/, '');
    if (s === '') throw bad(header, 'ends with a comma');
  }
  const sha = members.get('sha-256');
  if (sha === undefined) throw bad(header, 'has no sha-256 member');
  if (!('bytes' in sha)) throw bad(header, 'has a sha-256 member that is not a byte sequence');
  if (sha.bytes.length !== 32) throw bad(header, `has a sha-256 of ${sha.bytes.length} bytes`);
  return sha.bytes;
}
