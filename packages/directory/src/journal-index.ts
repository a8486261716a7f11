/**
 * What the journal keeps in memory about the lines of its retained segments:
 * the live records of each log (a server's roll-up log or status log;
 * replaced ones removed), and every (id, event) written, for idempotent writes.
 */

/** One attribute of one object: the unit that `keep` trims and reads read. */
export function logOf(server: string, kind: LogKind): string {
  return `${kind}\u0000${server}`;
}

const logOfRecord = (r: RollupRecord) => logOf(r.server, kindOf(r.event));
import { kindOf, type LogKind, type LogWrite, type RollupRecord } from '@zenroll/core';
import { recordKey } from './records.js';
import { toWrite, type JournalLine } from './journal-file.js';

interface Entry {
  line: JournalLine;
  /** The segment (its first seq) holding the line. */
  segment: number;
}

export class JournalIndex {
  readonly #live = new Map<string, Map<string, Entry>>();
  readonly #written = new Map<string, number>();
  readonly #logsOf = new Map<number, Set<string>>();

  add(line: JournalLine, segment: number): void {
    const log = logOfRecord(line.record);
    const key = recordKey(line.record);
    this.#written.set(key, segment);
    let records = this.#live.get(log);
    if (records === undefined) {
      records = new Map();
      this.#live.set(log, records);
    }
    // `replaces` names a record on the same object (SPEC §7); the writer checks.
    if (line.replaces) records.delete(recordKey(line.replaces));
    records.delete(key);
    records.set(key, { line, segment });
    let logs = this.#logsOf.get(segment);
    if (logs === undefined) {
      logs = new Set();
      this.#logsOf.set(segment, logs);
    }
    logs.add(log);
  }

  has(key: string): boolean {
    return this.#written.has(key);
  }

  /** Live lines of one server's log, in journal order. */
  lines(server: string, kind: LogKind): JournalLine[] {
    return [...(this.#live.get(logOf(server, kind))?.values() ?? [])].map((e) => e.line);
  }

  /** The writes of one server's log not yet applied to the directory, in journal order. */
  pendingFor(server: string, applied: number, kind: LogKind): LogWrite[] {
    return this.lines(server, kind)
      .filter((l) => l.seq > applied)
      .sort((a, b) => a.seq - b.seq)
      .map(toWrite);
  }

  /**
   * Whether reads lose nothing without this segment: every log with a
   * record in it has at least `keep` live records in newer segments.
   */
  superseded(segment: number, keep: number): boolean {
    for (const log of this.#logsOf.get(segment) ?? []) {
      let newer = 0;
      for (const e of this.#live.get(log)?.values() ?? []) if (e.segment > segment) newer++;
      if (newer < keep) return false;
    }
    return true;
  }

  dropSegment(segment: number): void {
    for (const [key, seg] of this.#written) if (seg === segment) this.#written.delete(key);
    for (const log of this.#logsOf.get(segment) ?? []) {
      const records = this.#live.get(log);
      if (records === undefined) continue;
      for (const [key, e] of records) if (e.segment === segment) records.delete(key);
      if (records.size === 0) this.#live.delete(log);
    }
    this.#logsOf.delete(segment);
  }
}
