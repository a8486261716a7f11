/**
 * Log records (SPEC §7) — the roll-up log and the server status log — and
 * the interface every part writes them through. The Sender and the Receiver only know `RollupLog`; the directory
 * package implements it (a local journal, applied to LDAP when configured).
 */
import { randomUUID } from 'node:crypto';
import { ZenrollError, shown } from './errors.js';
import { isOneOf, isRecord } from './narrow.js';
import { formatRecordLine, parseRecordLine } from './record-line.js';

/** Events about one zip; the metrics count them. */
export const ZIP_EVENTS = ['zipped', 'discarded', 'sent', 'send-failed', 'received', 'promoted', 'rejected'] as const;
/**
 * The roll-up log's events (`zeninvRollUpLog`): a zip's steps, the start and
 * the end of a sending that fails (`send-failing`, then `send-recovered` or
 * `send-failed`: once each, never per try) and one `rollup` per roll-up.
 */
export const EVENTS = [...ZIP_EVENTS, 'send-failing', 'send-recovered', 'rollup'] as const;
/**
 * The server status log's events (`zenrollStatusLog`): the service's life, not a zip's.
 * SPEC §8's wake-ups: `rollup-requested` (a request set on this Receiver, by
 * `zenroll rollup --tree` or passed on from its parent), `wake-up` (this
 * server saw its parent's request and answers it), `wake-up-rollup` (the
 * roll-up that answer ran, with its counts).
 */
export const STATUS_EVENTS = ['started', 'stopped', 'problem', 'lock-taken', 'wake-up', 'rollup-requested', 'wake-up-rollup'] as const;
export type RollupEvent = (typeof EVENTS)[number];
export type StatusEvent = (typeof STATUS_EVENTS)[number];
export type LogEvent = RollupEvent | StatusEvent;
export type Severity = 'info' | 'warning' | 'error';
export type RecordSource = 'sender' | 'receiver' | 'service';
/** Which attribute a record goes to: the roll-up log or the server status log (SPEC §7). */
export type LogKind = 'rollup' | 'status';

const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];
const SOURCES: readonly RecordSource[] = ['sender', 'receiver', 'service'];

export function kindOf(event: LogEvent): LogKind {
  return isOneOf(STATUS_EVENTS, event) ? 'status' : 'rollup';
}

function isEvent(e: unknown): e is LogEvent {
  return isOneOf(EVENTS, e) || isOneOf(STATUS_EVENTS, e);
}

export interface RollupRecord {
  /** 2: the one-line form; 1: the one-line JSON of earlier versions, still read (and rewritten as it was). */
  v: 1 | 2;
  id: string;
  time: string;
  source: RecordSource;
  event: LogEvent;
  severity: Severity;
  /** The server whose Inventory Service object holds the record. */
  server: string;
  zip: string;
  bytes: number;
  files: number;
  /** The hop: the server that sent (or made) the zip in this step … */
  from: string;
  /** … and the one it went to (SPEC §7). */
  to: string;
  transferMs: number;
  totalMs: number;
  /** The server that made the batch (its signer); '' when there is no zip, or in a v1 record. */
  origin: string;
  message: string;
  /** More `key=value` fields: a `rollup` record's counts, a `started` record's version and schedule. */
  fields: Readonly<Record<string, string | number>>;
}

/** The key order of v1 records; serialising in it gives back the exact LDAP value a v1 writer made. */
const V1_ORDER = [
  'v',
  'id',
  'time',
  'source',
  'event',
  'severity',
  'server',
  'zip',
  'bytes',
  'files',
  'from',
  'to',
  'transferMs',
  'totalMs',
  'message',
] as const;

export interface RecordFactory {
  now?: () => number;
  id?: () => string;
}

const DEFAULT_SEVERITY: Partial<Record<LogEvent, Severity>> = {
  rejected: 'error',
  'send-failed': 'error',
  problem: 'error',
  'send-failing': 'warning',
  'lock-taken': 'warning',
};

export function makeRecord(
  fields: Pick<RollupRecord, 'source' | 'event' | 'server'> & Partial<RollupRecord>,
  factory: RecordFactory = {},
): RollupRecord {
  return {
    v: fields.v ?? 2,
    id: fields.id ?? (factory.id ?? randomUUID)(),
    time: fields.time ?? new Date((factory.now ?? Date.now)()).toISOString(),
    source: fields.source,
    event: fields.event,
    severity: fields.severity ?? DEFAULT_SEVERITY[fields.event] ?? 'info',
    server: fields.server,
    zip: fields.zip ?? '',
    bytes: fields.bytes ?? 0,
    files: fields.files ?? 0,
    from: fields.from ?? '',
    to: fields.to ?? '',
    transferMs: fields.transferMs ?? 0,
    totalMs: fields.totalMs ?? 0,
    origin: fields.origin ?? '',
    message: fields.message ?? '',
    fields: fields.fields ?? {},
  };
}

/** The LDAP value of a record: the one-line form (v2), or the v1 JSON it was read as. */
export function serializeRecord(r: RollupRecord): string {
  if (r.v === 2) return formatRecordLine(r);
  const ordered: Record<string, unknown> = {};
  for (const key of V1_ORDER) ordered[key] = r[key];
  return JSON.stringify(ordered);
}

function invalid(text: string, why: string, cause?: unknown): ZenrollError {
  return new ZenrollError('RECORD_INVALID', `log record ${shown(text, 80)} ${why}`, { cause, details: { value: text.slice(0, 200) } });
}

function parseV1(text: string): RollupRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid(text, 'is not JSON', cause);
  }
  const r = value;
  if (
    !isRecord(r) ||
    r.v !== 1 ||
    typeof r.id !== 'string' ||
    typeof r.time !== 'string' ||
    typeof r.server !== 'string' ||
    !isOneOf(EVENTS, r.event)
  ) {
    throw invalid(text, 'is not a zenroll v1 record');
  }
  // A v1 record has no origin and no fields: never guessed, so that it serialises back to its exact text.
  // Past the checks above it is one zenroll wrote (JSON.stringify of a record); the rest of it is taken as written.
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: the fields that tell a v1 record from anything else are checked above
  return makeRecord({ ...(r as unknown as RollupRecord), v: 1, origin: '', fields: {} });
}

/**
 * Parse an LDAP value or journaled record of either form. A v2 line does not
 * name the object that holds it: `server` says whose it is (a v1 record
 * carries its own).
 */
export function parseRecord(text: string, server = ''): RollupRecord {
  // v1 was a JSON object; anything else is read as a line, and told what it lacks.
  if (text.startsWith('{')) return parseV1(text);
  const line = parseRecordLine(text);
  if (!isEvent(line.event)) throw invalid(text, `has the event ${shown(line.event)}, which zenroll does not write (docs/SPEC.md §7)`);
  const { source, severity } = line;
  if (!isOneOf(SOURCES, source)) throw invalid(text, `has source=${shown(line.source)}, not sender, receiver or service`);
  if (!isOneOf(SEVERITIES, severity)) throw invalid(text, `has severity=${shown(line.severity)}, not info, warning or error`);
  if (line.id === '') throw invalid(text, 'has an empty id');
  return { ...line, v: 2, server, event: line.event, source, severity };
}

/**
 * A record as the JSON object `zenroll log --json` prints: the fields of the
 * line, in its order, whichever form it was read from, plus `server`, the
 * object that holds it.
 */
export function recordJson(r: RollupRecord): Record<string, unknown> {
  return {
    time: r.time,
    event: r.event,
    server: r.server,
    from: r.from,
    to: r.to,
    zip: r.zip,
    files: r.files,
    bytes: r.bytes,
    transferMs: r.transferMs,
    totalMs: r.totalMs,
    ...r.fields,
    origin: r.origin,
    source: r.source,
    severity: r.severity,
    id: r.id,
    v: r.v,
    msg: r.message,
  };
}

/**
 * One write: add `record` to the object of `record.server`. With `replaces`,
 * the value with that exact text is removed in the same modify (the Sender's
 * `zipped` record becomes its `sent` record, SPEC §7).
 */
export interface LogWrite {
  record: RollupRecord;
  replaces?: RollupRecord;
}

export interface RollupLog {
  /** Durable once it resolves (the journal is fsynced); reaching the directory may come later. */
  write(entry: LogWrite): Promise<void>;
  /** Records on one server's object, newest first: its roll-up log, or with `kind` 'status' its server status log. */
  read(server: string, limit: number, kind?: LogKind): Promise<RollupRecord[]>;
  close(): Promise<void>;
}

/** A log that keeps records in memory: for tests of the Sender and Receiver that look at what they logged. */
export class MemoryLog implements RollupLog {
  readonly writes: LogWrite[] = [];

  async write(entry: LogWrite): Promise<void> {
    this.writes.push(entry);
  }

  async read(server: string, limit: number, kind: LogKind = 'rollup'): Promise<RollupRecord[]> {
    const byId = new Map<string, RollupRecord>();
    for (const { record, replaces } of this.writes) {
      if (record.server !== server || kindOf(record.event) !== kind) continue;
      if (replaces) byId.delete(replaces.id);
      byId.set(record.id, record);
    }
    return [...byId.values()].reverse().slice(0, limit);
  }

  events(): LogEvent[] {
    return this.writes.map((w) => w.record.event);
  }

  async close(): Promise<void> {}
}
