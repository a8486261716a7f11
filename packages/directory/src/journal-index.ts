/**
 * What the journal keeps in memory about the lines of its retained segments:
 * the live records of each server (replaced ones removed), and every
 * (id, event) written, for idempotent writes.
 */
import type { LogWrite } from '@zenroll/core';
import { recordKey } from './records.js';
import { toWrite, type JournalLine } from './journal-file.js';

interface Entry {
  line: JournalLine;
  /** The segment (its first seq) holding the line. */
  segment: number;
}

export class JournalIndex {
  private readonly live = new Map<string, Map<string, Entry>>();
  private readonly written = new Map<string, number>();
  private readonly serversOf = new Map<number, Set<string>>();

  add(line: JournalLine, segment: number): void {
    const server = line.record.server;
    const key = recordKey(line.record);
    this.written.set(key, segment);
    let records = this.live.get(server);
    if (records === undefined) this.live.set(server, (records = new Map()));
    // `replaces` names a record on the same object (SPEC §7); the writer checks.
    if (line.replaces) records.delete(recordKey(line.replaces));
    records.delete(key);
    records.set(key, { line, segment });
    let servers = this.serversOf.get(segment);
    if (servers === undefined) this.serversOf.set(segment, (servers = new Set()));
    servers.add(server);
  }

  has(key: string): boolean {
    return this.written.has(key);
  }

  /** Live lines of one server, in journal order. */
  lines(server: string): JournalLine[] {
    return [...(this.live.get(server)?.values() ?? [])].map((e) => e.line);
  }

  /** The writes of one server not yet applied to the directory, in journal order. */
  pendingFor(server: string, applied: number): LogWrite[] {
    return this.lines(server).filter((l) => l.seq > applied).sort((a, b) => a.seq - b.seq).map(toWrite);
  }

  /**
   * Whether reads lose nothing without this segment: every server with a
   * record in it has at least `keep` live records in newer segments.
   */
  superseded(segment: number, keep: number): boolean {
    for (const server of this.serversOf.get(segment) ?? []) {
      let newer = 0;
      for (const e of this.live.get(server)?.values() ?? []) if (e.segment > segment) newer++;
      if (newer < keep) return false;
    }
    return true;
  }

  dropSegment(segment: number): void {
    for (const [key, seg] of this.written) if (seg === segment) this.written.delete(key);
    for (const server of this.serversOf.get(segment) ?? []) {
      const records = this.live.get(server);
      if (records === undefined) continue;
      for (const [key, e] of records) if (e.segment === segment) records.delete(key);
      if (records.size === 0) this.live.delete(server);
    }
    this.serversOf.delete(segment);
  }
}
