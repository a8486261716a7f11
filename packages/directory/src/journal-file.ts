/**
 * The journal's file format: segments `seg-<first seq>.jsonl`, one JSON line
 * per write, `{"seq":N,"server":"LEAF1","record":"<value>","replaces":"<value>"}`:
 * each record is its exact LDAP value (serializeRecord), the one-line form of
 * SPEC §7, and `server` names the object it goes on. Lines that earlier
 * versions wrote hold the v1 record as a JSON object (which names its
 * server): they are still read, and applied as they were.
 */
import { parseRecord, serializeRecord, ZenrollError, messageOf, isRecord, type LogWrite, type RollupRecord } from '@zenroll/core';

export interface JournalLine {
  seq: number;
  record: RollupRecord;
  replaces?: RollupRecord;
}

const SEGMENT = /^seg-(\d{12})\.jsonl$/;

export function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(12, '0')}.jsonl`;
}

/** The first seq of a segment file name, or null for any other file. */
export function segmentFirstSeq(name: string): number | null {
  const m = SEGMENT.exec(name);
  return m === null ? null : Number(m[1]);
}

// A v1 record stays a JSON object, as a v1 journal held it; a v2 record is its line, as a JSON string.
function recordText(r: RollupRecord): string {
  return r.v === 1 ? serializeRecord(r) : JSON.stringify(serializeRecord(r));
}

export function formatLine(seq: number, w: LogWrite): string {
  const replaces = w.replaces ? `,"replaces":${recordText(w.replaces)}` : '';
  return `{"seq":${seq},"server":${JSON.stringify(w.record.server)},"record":${recordText(w.record)}${replaces}}\n`;
}

function readRecord(value: unknown, server: unknown): RollupRecord {
  if (typeof value === 'string') {
    if (typeof server !== 'string') throw new ZenrollError('RECORD_INVALID', 'the line has no "server" for its record');
    return parseRecord(value, server);
  }
  return parseRecord(JSON.stringify(value));
}

export function toWrite(line: JournalLine): LogWrite {
  return line.replaces ? { record: line.record, replaces: line.replaces } : { record: line.record };
}

function corrupt(where: string, why: string, cause?: unknown): ZenrollError {
  return new ZenrollError('JOURNAL_CORRUPT', `journal ${where} ${why}; move the file aside to start past it`, {
    cause,
    details: { where },
  });
}

function parseLine(text: string, where: string): JournalLine {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (cause) {
    throw corrupt(where, 'is not JSON', cause);
  }
  if (!isRecord(obj) || typeof obj.seq !== 'number' || !Number.isSafeInteger(obj.seq) || obj.seq < 1) {
    throw corrupt(where, 'has no valid "seq"');
  }
  try {
    const record = readRecord(obj.record, obj.server);
    const line: JournalLine = { seq: obj.seq, record };
    // A replaced record lies on the same object as its replacement (SPEC §7).
    if (obj.replaces !== undefined) line.replaces = readRecord(obj.replaces, record.server);
    return line;
  } catch (cause) {
    throw corrupt(where, `does not hold a zenroll record: ${messageOf(cause)}`, cause);
  }
}

export interface ParsedSegment {
  lines: JournalLine[];
  /** Bytes up to the end of the last whole line. */
  goodBytes: number;
  /** Bytes of a torn last line (a crash mid-append); only the newest segment may have them. */
  tornBytes: number;
}

/**
 * Parse a segment. A last line without its newline is what a crash during an
 * append leaves: it is reported as torn (the caller truncates it) when
 * `newest`, and is corruption anywhere else, as is any bad whole line.
 */
export function parseSegment(data: Buffer, path: string, newest: boolean, expectSeq: number | null): ParsedSegment {
  const lines: JournalLine[] = [];
  let start = 0;
  let lineNo = 0;
  let next = expectSeq;
  for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
    lineNo++;
    const where = `${path}:${lineNo} (byte ${start})`;
    const line = parseLine(data.subarray(start, nl).toString('utf8'), where);
    if (next !== null && line.seq !== next) throw corrupt(where, `has seq ${line.seq} where ${next} was expected`);
    next = line.seq + 1;
    lines.push(line);
    start = nl + 1;
  }
  const tornBytes = data.length - start;
  if (tornBytes > 0 && !newest) {
    throw corrupt(`${path}:${lineNo + 1} (byte ${start})`, 'ends without a newline, yet newer segments follow');
  }
  return { lines, goodBytes: start, tornBytes };
}
