/**
 * The journal's file format: segments `seg-<first seq>.jsonl`, one JSON line
 * per write, `{"seq":N,"record":{…},"replaces":{…}}`. The record keeps the key
 * order of SPEC §7 (serializeRecord), so its text is exactly the LDAP value.
 */
import { parseRecord, serializeRecord, ZenrollError, type LogWrite, type RollupRecord } from '@zenroll/core';

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

export function formatLine(seq: number, w: LogWrite): string {
  const replaces = w.replaces ? `,"replaces":${serializeRecord(w.replaces)}` : '';
  return `{"seq":${seq},"record":${serializeRecord(w.record)}${replaces}}\n`;
}

export function toWrite(line: JournalLine): LogWrite {
  return line.replaces ? { record: line.record, replaces: line.replaces } : { record: line.record };
}

function corrupt(where: string, why: string, cause?: unknown): ZenrollError {
  return new ZenrollError('JOURNAL_CORRUPT', `journal ${where} ${why}; move the file aside to start past it`, { cause, details: { where } });
}

function parseLine(text: string, where: string): JournalLine {
  let obj: { seq?: unknown; record?: unknown; replaces?: unknown };
  try {
    obj = JSON.parse(text) as typeof obj;
  } catch (cause) {
    throw corrupt(where, 'is not JSON', cause);
  }
  if (obj === null || typeof obj !== 'object' || !Number.isSafeInteger(obj.seq) || (obj.seq as number) < 1) {
    throw corrupt(where, 'has no valid "seq"');
  }
  try {
    const record = parseRecord(JSON.stringify(obj.record));
    const line: JournalLine = { seq: obj.seq as number, record };
    if (obj.replaces !== undefined) line.replaces = parseRecord(JSON.stringify(obj.replaces));
    return line;
  } catch (cause) {
    throw corrupt(where, 'does not hold a zenroll v1 record', cause);
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
