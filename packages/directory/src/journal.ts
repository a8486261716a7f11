/**
 * The local journal (SPEC §7): every write is appended to `statedir/journal/`
 * and fsynced before `write()` resolves. Concurrent writes share one fsync.
 * Without a directory it is the log; with one, it also holds what the
 * directory has not applied yet, and how far it got (cursor.ts).
 *
 * Retention: segments rotate at `segmentBytes`. An old segment is removed once
 * it is fully applied (always, without a directory) and either every server
 * with a record in it has `keep` newer records (reads lose nothing), or more
 * than `maxSegments` segments are kept. Unapplied lines are never removed.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  serializeRecord,
  acquireLock,
  ensureDir,
  fsError,
  fsyncDir,
  ZenrollError,
  type Lock,
  type LogKind,
  type LogWrite,
  type RollupRecord,
} from '@zenroll/core';
import { Cursor } from './cursor.js';
import { formatLine, type JournalLine } from './journal-file.js';
import { JournalIndex } from './journal-index.js';
import { newestFirst, recordKey } from './records.js';
import { SegmentStore } from './segments.js';
import type { LogReadResult, ZenrollLog } from './types.js';

export interface JournalOptions {
  /** The journal folder, `statedir/journal`. */
  dir: string;
  /** Newest records per server that reads must still find (directory.keep); default 1000. */
  keep?: number;
  /** Rotate the newest segment past this size; default 1 MiB. */
  segmentBytes?: number;
  /** Applied segments kept at most, whatever `keep` asks; default 16. */
  maxSegments?: number;
  /** A directory applies this journal: track a cursor and keep unapplied lines. */
  applying?: boolean;
  /**
   * Only read (`zenroll log`, `status`): no lock, nothing written or cut, so
   * it can look at the journal of a running service. One process writes a
   * journal at a time: the others get LOCK_HELD.
   */
  readOnly?: boolean;
}

interface Queued {
  write: LogWrite;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Journal implements ZenrollLog {
  readonly #queue: Queued[] = [];
  readonly #inFlight = new Map<string, Promise<void>>();
  #flushing: Promise<void> | null = null;
  #closed = false;
  /** fsyncs of appended lines and lines appended, since open (group commit makes the first smaller). */
  readonly stats = { fsyncs: 0, lines: 0 };
  /** Unapplied lines of the segment the applier reads, and how many of its bytes they cover: each byte is read once. */
  #cache: { first: number; bytes: number; next: number; lines: JournalLine[] } | null = null;

  readonly #store: SegmentStore;
  readonly #index: JournalIndex;
  readonly #cursor: Cursor | null;
  readonly #opts: Required<Omit<JournalOptions, 'applying' | 'readOnly'>>;
  #nextSeq: number;
  readonly #lock: Lock | null;
  readonly #appliedAtOpen: number | null;

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(
    store: SegmentStore,
    index: JournalIndex,
    cursor: Cursor | null,
    opts: Required<Omit<JournalOptions, 'applying' | 'readOnly'>>,
    nextSeq: number,
    lock: Lock | null,
    /** Read-only: the cursor as it was at open (null without a directory). */
    appliedAtOpen: number | null,
  ) {
    this.#store = store;
    this.#index = index;
    this.#cursor = cursor;
    this.#opts = opts;
    this.#nextSeq = nextSeq;
    this.#lock = lock;
    this.#appliedAtOpen = appliedAtOpen;
  }

  static async open(options: JournalOptions): Promise<Journal> {
    const opts = { keep: 1000, segmentBytes: 1024 * 1024, maxSegments: 16, ...options };
    const readOnly = opts.readOnly === true;
    const index = new JournalIndex();
    let lock: Lock | null = null;
    if (!readOnly) {
      await ensureDir(opts.dir);
      lock = await acquireLock(join(opts.dir, 'journal.lock'), { purpose: 'the roll-up log journal' });
    }
    try {
      const store = await SegmentStore.open(opts.dir, (line, seg) => index.add(line, seg), readOnly);
      const cursorPath = join(opts.dir, 'applied.log');
      const cursor = opts.applying === true && !readOnly ? await Cursor.open(cursorPath) : null;
      const peeked = opts.applying === true && readOnly ? await Cursor.peek(cursorPath) : null;
      // Never below the cursor: a journal emptied by hand must not reuse applied numbers.
      const next = Math.max((store.newest?.last ?? 0) + 1, (cursor?.value ?? peeked ?? 0) + 1);
      if (!readOnly && (store.newest === undefined || store.newest.last + 1 !== next)) await store.rotate(next);
      const { applying: _a, readOnly: _r, ...rest } = opts;
      const journal = new Journal(store, index, cursor, rest, next, lock, peeked);
      if (readOnly) journal.#closed = true;
      else await journal.#prune();
      return journal;
    } catch (err) {
      await lock?.release();
      throw err;
    }
  }

  /** Durable once it resolves. A second write of the same record id and event is a no-op. */
  write(entry: LogWrite): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new ZenrollError('INTERNAL', this.#lock === null ? 'write to a journal opened read-only' : 'write to a closed journal'),
      );
    }
    const { record, replaces } = entry;
    if (replaces && replaces.server !== record.server) {
      return Promise.reject(
        new ZenrollError(
          'INTERNAL',
          `record ${record.id} on ${record.server} replaces one on ${replaces.server}: a replacement stays on the same object (docs/SPEC.md §7)`,
        ),
      );
    }
    const key = recordKey(record);
    if (this.#index.has(key)) return Promise.resolve();
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const done = new Promise<void>((resolve, reject) => this.#queue.push({ write: entry, resolve, reject }));
    this.#inFlight.set(key, done);
    const forget = () => void this.#inFlight.delete(key);
    done.then(forget, forget);
    this.#flushing ??= this.#flush();
    return done;
  }

  // Group commit: whatever queued while one fsync ran goes out with the next.
  // `flushing` is cleared in the same tick as the last look at the queue, so
  // that a write never joins a loop that has already ended.
  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      try {
        const newest = this.#store.newest;
        if (newest !== undefined && newest.bytes >= this.#opts.segmentBytes) await this.#store.rotate(this.#nextSeq);
        // A process paused past the lock's staleness, whose journal another node took over, must not write once more (SPEC §9).
        if (this.#lock !== null && !(await this.#lock.stillHeld())) {
          throw new ZenrollError(
            'LOCK_LOST',
            `${join(this.#opts.dir, 'journal.lock')} was taken over by another process: this one writes no more records`,
          );
        }
        const lines = batch.map((q, i): JournalLine => ({ seq: this.#nextSeq + i, ...q.write }));
        await this.#store.append(Buffer.from(lines.map((l) => formatLine(l.seq, l)).join('')), lines.length);
        this.#nextSeq += lines.length;
        this.stats.fsyncs++;
        this.stats.lines += lines.length;
        const first = this.#store.newest?.first;
        if (first === undefined) throw new ZenrollError('INTERNAL', 'the journal appended to no segment');
        for (const line of lines) this.#index.add(line, first);
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err);
        continue;
      }
      if (this.#store.segments.length > 1) await this.#prune().catch(() => undefined);
    }
    this.#flushing = null;
  }

  async read(server: string, limit: number, kind: LogKind = 'rollup'): Promise<RollupRecord[]> {
    return newestFirst(
      this.#index.lines(server, kind).map((l) => l.record),
      limit,
    );
  }

  async readFrom(server: string, limit: number, kind: LogKind = 'rollup'): Promise<LogReadResult> {
    return { records: await this.read(server, limit, kind), source: 'journal' };
  }

  /** The seq of the last line the directory applied. */
  get applied(): number {
    return this.#cursor?.value ?? this.#appliedAtOpen ?? this.#nextSeq - 1;
  }

  backlog(): number {
    return this.#nextSeq - 1 - this.applied;
  }

  async drain(): Promise<boolean> {
    await this.#flushing;
    return this.backlog() === 0;
  }

  /** Up to `max` unapplied lines, in journal order. */
  async pending(max: number): Promise<JournalLine[]> {
    const from = this.applied + 1;
    const seg = this.#store.segments.find((s) => s.last >= from);
    if (seg === undefined) return [];
    if (this.#cache?.first !== seg.first) this.#cache = { first: seg.first, bytes: 0, next: seg.first, lines: [] };
    const cache = this.#cache;
    const upTo = seg.bytes;
    if (upTo > cache.bytes) {
      const more = await this.#store.readRange(seg, cache.bytes, upTo, cache.next);
      cache.lines.push(...more);
      cache.bytes = upTo;
      cache.next += more.length;
    }
    cache.lines = cache.lines.filter((l) => l.seq >= from);
    return cache.lines.slice(0, max);
  }

  /** The unapplied writes of one server's log, for reading the directory plus what it has not seen yet. */
  pendingFor(server: string, kind: LogKind = 'rollup'): LogWrite[] {
    return this.#index.pendingFor(server, this.applied, kind);
  }

  async markApplied(seq: number): Promise<void> {
    const cursor = this.#cursor;
    if (cursor === null) return;
    const before = this.#store.segments.find((s) => s.last > cursor.value);
    await cursor.advance(seq);
    if (before !== undefined && before.last <= seq && this.#store.segments.length > 1) await this.#prune();
  }

  /** Keep a record the directory refuses for good in `rejected.jsonl`, with the reason. */
  async setAside(line: JournalLine, err: ZenrollError): Promise<void> {
    const path = join(this.#opts.dir, 'rejected.jsonl');
    const at = new Date().toISOString();
    const text = `${JSON.stringify({
      at,
      error: err.code,
      reason: err.message,
      seq: line.seq,
      server: line.record.server,
      record: serializeRecord(line.record),
      replaces: line.replaces && serializeRecord(line.replaces),
    })}\n`;
    try {
      await appendFile(path, text, { flush: true });
    } catch (e) {
      throw fsError(e, 'append to', path);
    }
    await fsyncDir(this.#opts.dir);
  }

  async #prune(): Promise<void> {
    for (;;) {
      const oldest = this.#store.segments[0];
      if (oldest === undefined || this.#store.segments.length < 2 || oldest.last > this.applied) return;
      const tooMany = this.#store.segments.length > this.#opts.maxSegments;
      if (!tooMany && !this.#index.superseded(oldest.first, this.#opts.keep)) return;
      await this.#store.removeOldest();
      this.#index.dropSegment(oldest.first);
      if (this.#cache?.first === oldest.first) this.#cache = null;
    }
  }

  /** Opened with readOnly: nothing can be written or applied through it. */
  get readOnly(): boolean {
    return this.#lock === null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#flushing;
    await this.#store.close();
    await this.#cursor?.close();
    await this.#lock?.release();
  }
}
