/**
 * The name codec of SPEC §3. Pure: no fs, no clock.
 *
 * Outer zip: `scheduledtime_server_tree_storedstatus.zip`;
 * inner entries: `scheduledtime_server.zip` and `scheduledtime_server.prp`.
 */
import { ZenrollError, shown } from './errors.js';

export type StoredStatus = 0 | 1 | 2;

export interface OuterName {
  /** 17 digits, UTC `YYYYMMDDHHmmssSSS`. */
  scheduledtime: string;
  server: string;
  tree: string;
  status: StoredStatus;
}

/**
 * The longest encoded server or tree name. Two of them, the time and the
 * separators stay under the 255-byte file name limit of Linux and Windows.
 */
export const MAX_ENCODED_NAME = 110;

const SAFE = /^[A-Za-z0-9.-]$/;
const ENCODED = /^(?:[A-Za-z0-9.-]|%[0-9A-F]{2})+$/;
// ignoreBOM keeps a leading U+FEFF in the text: a name may start with one.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(message: string, value: string): ZenrollError {
  return new ZenrollError('NAME_INVALID', message, { details: { value } });
}

/** Percent-encode a name so it holds only `A–Z a–z 0–9 . -` and `%XX`. */
export function encodeName(name: string): string {
  if (name.length === 0) throw invalid('a name may not be empty', name);
  if (!name.isWellFormed()) throw invalid(`name ${shown(name)} is not well-formed Unicode`, name);
  let out = '';
  for (const ch of name) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/**
 * Decode an encoded name. Only the canonical encoding is accepted (upper-case
 * hex, safe characters never escaped), so that one name has one spelling.
 */
export function decodeName(encoded: string): string {
  if (!ENCODED.test(encoded)) {
    throw invalid(`encoded name ${shown(encoded)} holds a character other than A–Z a–z 0–9 . - %XX`, encoded);
  }
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; ) {
    if (encoded[i] === '%') {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(encoded.charCodeAt(i));
      i += 1;
    }
  }
  let name: string;
  try {
    name = utf8.decode(Uint8Array.from(bytes));
  } catch (cause) {
    throw new ZenrollError('NAME_INVALID', `encoded name ${shown(encoded)} is not UTF-8`, { cause });
  }
  if (encodeName(name) !== encoded) {
    throw invalid(`encoded name ${shown(encoded)} is not in canonical form (expected ${shown(encodeName(name))})`, encoded);
  }
  return name;
}

/** Check a server or tree name; returns its encoding. */
export function checkName(kind: 'server' | 'tree', name: string): string {
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw invalid(`${kind} name ${shown(name)} holds a control character`, name);
  }
  const encoded = encodeName(name);
  if (encoded.length > MAX_ENCODED_NAME) {
    throw invalid(
      `${kind} name ${shown(name)} is ${encoded.length} characters once encoded; at most ${MAX_ENCODED_NAME} fit a file name`,
      name,
    );
  }
  return encoded;
}

const TIME = /^\d{17}$/;

/** UTC `YYYYMMDDHHmmssSSS` of a time in ms since the epoch. */
export function formatScheduledTime(ms: number): string {
  const date = new Date(ms);
  // NaN, ±Infinity and times past ±8.64e15 ms are an Invalid Date, which toISOString throws on.
  const iso = Number.isNaN(date.getTime()) ? '' : date.toISOString(); // 2026-11-22T10:30:00.000Z
  if (iso.length !== 24) throw invalid(`time ${ms} is outside years 0000–9999`, String(ms));
  return iso.replace(/[-:T.Z]/g, '');
}

/** Milliseconds since the epoch of a 17-digit scheduled time; throws if it is not a real UTC time. */
export function parseScheduledTime(value: string): number {
  if (!TIME.test(value)) throw invalid(`scheduled time ${shown(value)} is not 17 digits YYYYMMDDHHmmssSSS`, value);
  const digits = (from: number, to: number) => Number(value.slice(from, to));
  const y = digits(0, 4);
  const t = Date.UTC(y, digits(4, 6) - 1, digits(6, 8), digits(8, 10), digits(10, 12), digits(12, 14), digits(14, 17));
  if (Number.isNaN(t) || y < 1970 || formatScheduledTime(t) !== value) {
    throw invalid(`scheduled time ${shown(value)} is not a valid UTC time`, value);
  }
  return t;
}

export function formatOuterName(n: OuterName): string {
  parseScheduledTime(n.scheduledtime);
  if (n.status !== 0 && n.status !== 1 && n.status !== 2) {
    throw invalid(`stored status ${shown(n.status)} is not 0, 1 or 2`, String(n.status));
  }
  return `${n.scheduledtime}_${checkName('server', n.server)}_${checkName('tree', n.tree)}_${n.status}.zip`;
}

export function parseOuterName(name: string): OuterName {
  if (/[/\\]/.test(name)) throw invalid(`zip name ${shown(name)} holds a path separator`, name);
  if (!name.endsWith('.zip')) throw invalid(`zip name ${shown(name)} does not end in .zip`, name);
  const fields = name.slice(0, -4).split('_');
  if (fields.length !== 4) {
    throw invalid(`zip name ${shown(name)} has ${fields.length} fields; expected scheduledtime_server_tree_storedstatus.zip`, name);
  }
  const [scheduledtime = '', server = '', tree = '', status = ''] = fields;
  parseScheduledTime(scheduledtime);
  if (!/^[012]$/.test(status)) throw invalid(`zip name ${shown(name)} has stored status ${shown(status)}; expected 0, 1 or 2`, name);
  const parsed: OuterName = {
    scheduledtime,
    server: decodeName(server),
    tree: decodeName(tree),
    status: status === '0' ? 0 : status === '1' ? 1 : 2,
  };
  if (formatOuterName(parsed) !== name) throw invalid(`zip name ${shown(name)} is not in canonical form`, name);
  return parsed;
}

/** `scheduledtime_server.zip`: the inner zip's entry name. */
export function innerZipName(scheduledtime: string, server: string): string {
  parseScheduledTime(scheduledtime);
  return `${scheduledtime}_${checkName('server', server)}.zip`;
}

/** `scheduledtime_server.prp`: the manifest's entry name. */
export function prpName(scheduledtime: string, server: string): string {
  parseScheduledTime(scheduledtime);
  return `${scheduledtime}_${checkName('server', server)}.prp`;
}

/** Send order (SPEC §1): oldest scheduled time first, then by name. */
export function compareOuterNames(a: string, b: string): number {
  const ta = a.slice(0, 17);
  const tb = b.slice(0, 17);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Status a server gives the zips it creates itself (SPEC §3). */
export function createdStatus(hasDatabase: boolean): 0 | 2 {
  return hasDatabase ? 2 : 0;
}

/**
 * Status of a promoted copy (SPEC §3). Into `dbdir`: 1 when this database
 * stores it first (it arrived as 0), 2 when it was stored below. Into
 * `entpushdir`: 2 once a database here has stored it, else as it arrived.
 * A status of 1 never travels on the wire.
 */
export function promotedStatus(incoming: StoredStatus, hasDatabase: boolean, target: 'entpushdir' | 'dbdir'): StoredStatus {
  if (incoming === 1) throw invalid('stored status 1 is only for dbdir; it never travels on the wire', '1');
  if (target === 'dbdir') return incoming === 0 ? 1 : 2;
  return hasDatabase ? 2 : incoming;
}

/** The outer name of a promoted copy: the Receiver's tree, the new status; time and origin stay. */
export function promotedName(incoming: string, receiver: { tree: string; hasDatabase: boolean }, target: 'entpushdir' | 'dbdir'): string {
  const n = parseOuterName(incoming);
  return formatOuterName({ ...n, tree: receiver.tree, status: promotedStatus(n.status, receiver.hasDatabase, target) });
}
