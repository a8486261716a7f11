/**
 * The one-line form of a log record (SPEC §7, record v2). Pure: no fs, no clock.
 *
 * ```
 * 2026-11-22T10:30:05.123Z sent LEAF1>INT1 20261122103000000_LEAF1_ACME_0.zip files=50 bytes=1234567 … origin=LEAF1 source=sender severity=info id=<uuid> v=2 msg="…"
 * ```
 * Time, event and hop come first, so that the 40 characters an LDAP
 * browser's text box shows say when, what and where. Server names are
 * percent-encoded as in zip names (SPEC §3), so they hold no space and no `>`;
 * a server named `-` is written `%2D`, since a lone `-` means "none".
 */
import { ZenrollError, shown, messageOf } from './errors.js';
import { decodeName, encodeName } from './names.js';
import { isOneOf } from './narrow.js';

/** What a v2 line holds; the object that holds the value (`server`) is not in it. */
export interface RecordLine {
  time: string;
  event: string;
  from: string;
  to: string;
  zip: string;
  files: number;
  bytes: number;
  transferMs: number;
  totalMs: number;
  /** More fields, in the order written: a `rollup` record's counts, a `started` record's version. */
  fields: Readonly<Record<string, string | number>>;
  origin: string;
  source: string;
  severity: string;
  id: string;
  message: string;
}

const NUMERIC = ['files', 'bytes', 'transferMs', 'totalMs'] as const;
/** Keys with a place of their own in the line; `fields` may use none of them. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  ...NUMERIC,
  'origin',
  'source',
  'severity',
  'id',
  'v',
  'msg',
  'time',
  'event',
  'from',
  'to',
  'zip',
  'server',
  'message',
]);

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVENT = /^[a-z][a-z-]*$/;
const KEY = /^[A-Za-z][A-Za-z0-9]*$/;
/** A value written bare: printable ASCII without `"` and `=`. */
const BARE = /^[\x21\x23-\x3c\x3e-\x7e]+$/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

function invalid(line: string, why: string): ZenrollError {
  return new ZenrollError('RECORD_INVALID', `log record ${shown(line, 80)} ${why}`, { details: { value: line.slice(0, 200) } });
}

/** A string as a JSON string that stays on one line in every viewer (U+2028/9 escaped too). */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** A value bare when that reads back the same, quoted otherwise (`asText`: a bare number would read back as a number). */
function value(v: string, asText: boolean): string {
  return BARE.test(v) && !(asText && NUMBER.test(v)) ? v : quote(v);
}

function serverName(name: string): string {
  return name === '-' ? '%2D' : encodeName(name);
}

function hop(from: string, to: string): string {
  const f = from === '' ? '-' : serverName(from);
  return to === '' ? f : `${f}>${serverName(to)}`;
}

export function formatRecordLine(r: RecordLine): string {
  if (!TIME.test(r.time)) throw new ZenrollError('INTERNAL', `record time ${shown(r.time)} is not an ISO time with milliseconds in UTC`);
  if (!EVENT.test(r.event)) throw new ZenrollError('INTERNAL', `record event ${shown(r.event)} is not a lower-case word`);
  const parts = [r.time, r.event, hop(r.from, r.to), r.zip === '' ? '-' : r.zip === '-' ? quote('-') : value(r.zip, false)];
  for (const key of NUMERIC) if (r[key] !== 0) parts.push(`${key}=${r[key]}`);
  for (const [key, v] of Object.entries(r.fields)) {
    if (!KEY.test(key) || RESERVED_KEYS.has(key))
      throw new ZenrollError('INTERNAL', `record field ${shown(key)} is not a free key=value name`);
    parts.push(`${key}=${typeof v === 'number' && Number.isFinite(v) ? String(v) : value(String(v), true)}`);
  }
  if (r.origin !== '') parts.push(`origin=${serverName(r.origin)}`);
  parts.push(`source=${value(r.source, false)}`, `severity=${value(r.severity, false)}`, `id=${value(r.id, false)}`, 'v=2');
  if (r.message !== '') parts.push(`msg=${quote(r.message)}`);
  return parts.join(' ');
}

interface Token {
  text: string;
  quoted: boolean;
}

/** The JSON string starting at `at`, and where it ends. */
function readQuoted(line: string, at: number): { text: string; end: number } {
  let i = at + 1;
  while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
  if (i >= line.length) throw invalid(line, `has a quoted value at character ${at + 1} that never ends`);
  try {
    // A JSON string literal (it starts and ends with a quote), so it parses to a string or throws.
    return { text: String(JSON.parse(line.slice(at, i + 1))), end: i + 1 };
  } catch {
    throw invalid(line, `has a quoted value at character ${at + 1} that is not a JSON string`);
  }
}

/** Split on single spaces; a value may be a JSON string. Returns [key or null, value] pairs. */
function tokenize(line: string): { key: string | null; value: Token }[] {
  const out: { key: string | null; value: Token }[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') throw invalid(line, `has two spaces in a row at character ${i + 1}`);
    let key: string | null = null;
    const start = i;
    if (line[i] !== '"') {
      let j = i;
      while (j < line.length && line[j] !== ' ' && line[j] !== '=' && line[j] !== '"') j++;
      if (line[j] === '=') {
        key = line.slice(i, j);
        if (!KEY.test(key)) throw invalid(line, `has the key ${shown(key)}, not a word`);
        i = j + 1;
      }
    }
    let token: Token;
    if (line[i] === '"') {
      const q = readQuoted(line, i);
      token = { text: q.text, quoted: true };
      i = q.end;
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ') j++;
      token = { text: line.slice(i, j), quoted: false };
      if (!BARE.test(token.text))
        throw invalid(
          line,
          `has ${shown(line.slice(start, j))} at character ${start + 1}: a value with a space, a quote or "=" must be a JSON string`,
        );
      i = j;
    }
    if (i < line.length && line[i] !== ' ') throw invalid(line, `has no space after the value ending at character ${i}`);
    if (i === line.length - 1) throw invalid(line, 'ends with a space');
    if (i < line.length) i++;
    out.push({ key, value: token });
  }
  return out;
}

function decodeServer(line: string, text: string, what: string): string {
  if (text === '%2D') return '-';
  try {
    return decodeName(text);
  } catch (cause) {
    throw invalid(line, `has ${what} ${shown(text)}, not a server name encoded as in zip names (docs/SPEC.md §3): ${messageOf(cause)}`);
  }
}

function parseHop(line: string, text: string): { from: string; to: string } {
  const parts = text.split('>');
  if (parts.length > 2) throw invalid(line, `has the hop ${shown(text)} with more than one ">"`);
  const [f = '', t] = parts;
  const from = f === '-' ? '' : decodeServer(line, f, 'the hop sender');
  if (t === undefined) return { from, to: '' };
  if (t === '-' || t === '') throw invalid(line, `has the hop ${shown(text)} with no server after ">"`);
  return { from, to: decodeServer(line, t, 'the hop receiver') };
}

/** Parse a v2 line; every error is RECORD_INVALID and says what is wrong where. */
export function parseRecordLine(line: string): RecordLine {
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(line)) throw invalid(line, 'holds a line break or another control character');
  const tokens = tokenize(line);
  const [time, event, hopText, zipToken] = tokens.slice(0, 4).map((t) => (t.key === null ? t.value : undefined));
  if (time === undefined || event === undefined || hopText === undefined || zipToken === undefined) {
    throw invalid(line, 'does not start with time, event, hop and zip (docs/SPEC.md §7)');
  }
  if (time.quoted || !TIME.test(time.text))
    throw invalid(line, `starts with ${shown(time.text)}, not a time such as 2026-11-22T10:30:05.123Z`);
  if (Number.isNaN(Date.parse(time.text))) throw invalid(line, `has the time ${shown(time.text)}, which is no date`);
  if (event.quoted || !EVENT.test(event.text)) throw invalid(line, `has the event ${shown(event.text)}, not a lower-case word`);
  if (hopText.quoted) throw invalid(line, 'has a quoted hop');
  const { from, to } = parseHop(line, hopText.text);
  const r: RecordLine = {
    time: time.text,
    event: event.text,
    from,
    to,
    zip: zipToken.text === '-' && !zipToken.quoted ? '' : zipToken.text,
    files: 0,
    bytes: 0,
    transferMs: 0,
    totalMs: 0,
    fields: {},
    origin: '',
    source: '',
    severity: '',
    id: '',
    message: '',
  };
  const fields: Record<string, string | number> = {};
  const seen = new Set<string>();
  const rest = tokens.slice(4);
  for (const [i, { key, value: v }] of rest.entries()) {
    if (key === null) throw invalid(line, `has ${shown(v.text)} where a key=value pair belongs`);
    if (seen.has(key)) throw invalid(line, `has the key ${key} twice`);
    seen.add(key);
    if (isOneOf(NUMERIC, key)) {
      if (v.quoted || !/^\d+$/.test(v.text) || !Number.isSafeInteger(Number(v.text)))
        throw invalid(line, `has ${key}=${shown(v.text)}, not a whole number`);
      r[key] = Number(v.text);
    } else if (key === 'origin') {
      r.origin = decodeServer(line, v.text, 'the origin');
    } else if (key === 'source' || key === 'severity' || key === 'id') {
      r[key] = v.text;
    } else if (key === 'v') {
      if (v.text !== '2' || v.quoted) throw invalid(line, `has v=${shown(v.text)}; this reader knows v=2`);
    } else if (key === 'msg') {
      if (!v.quoted) throw invalid(line, 'has a msg that is not a JSON string');
      if (i !== rest.length - 1) throw invalid(line, 'has key=value pairs after msg, which comes last');
      r.message = v.text;
    } else {
      fields[key] = !v.quoted && NUMBER.test(v.text) ? Number(v.text) : v.text;
    }
  }
  for (const key of ['source', 'severity', 'id', 'v']) if (!seen.has(key)) throw invalid(line, `lacks ${key}=`);
  r.fields = fields;
  return r;
}
