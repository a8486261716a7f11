/**
 * The journal's segment files on disk: reading them at open (dropping a torn
 * last line), appending durably to the newest, rotating, removing old ones.
 */
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, errnoCode, fsError, fsyncDir, removeDurable, ZenrollError } from '@zenroll/core';
import { parseSegment, segmentFirstSeq, segmentName, type JournalLine } from './journal-file.js';

export interface Segment {
  /** The seq of its first line; also its name. */
  first: number;
  path: string;
  /** Durable bytes: everything before is fsynced whole lines. */
  bytes: number;
  /** The seq of its last line, or first - 1 while empty. */
  last: number;
}

export class SegmentStore {
  readonly segments: Segment[] = [];
  #handle: FileHandle | null = null;
  /** Set when a failed append could not be undone: appending more would corrupt the file. */
  #broken: ZenrollError | null = null;

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(readonly dir: string) {}

  /** Open the folder, calling `onLine` for every line of every segment, oldest first. */
  static async open(dir: string, onLine: (line: JournalLine, segment: number) => void, readOnly = false): Promise<SegmentStore> {
    if (!readOnly) await ensureDir(dir);
    const store = new SegmentStore(dir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      // A reader of a journal nobody has written yet sees it empty.
      if (readOnly && errnoCode(err) === 'ENOENT') return store;
      throw fsError(err, 'list the journal', dir);
    }
    const firsts = names
      .map(segmentFirstSeq)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
    for (const [i, first] of firsts.entries()) {
      const path = join(dir, segmentName(first));
      const newest = i === firsts.length - 1;
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (err) {
        throw fsError(err, 'read the journal segment', path);
      }
      const parsed = parseSegment(data, path, newest, first);
      // A reader leaves a torn line to the writer (it may be an append in progress).
      if (parsed.tornBytes > 0 && !readOnly) await store.#truncate(path, parsed.goodBytes);
      for (const line of parsed.lines) onLine(line, first);
      store.segments.push({ first, path, bytes: parsed.goodBytes, last: first + parsed.lines.length - 1 });
    }
    return store;
  }

  get newest(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }

  async #truncate(path: string, bytes: number): Promise<void> {
    let h: FileHandle | undefined;
    try {
      h = await open(path, 'r+');
      await h.truncate(bytes);
      await h.sync();
    } catch (err) {
      throw fsError(err, 'cut the torn last line of', path);
    } finally {
      await h?.close();
    }
  }

  /** Start a new newest segment whose first line will be `first`. */
  async rotate(first: number): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
    const path = join(this.dir, segmentName(first));
    try {
      this.#handle = await open(path, 'wx');
    } catch (err) {
      throw fsError(err, 'create the journal segment', path);
    }
    await fsyncDir(this.dir);
    this.segments.push({ first, path, bytes: 0, last: first - 1 });
  }

  /** Append whole lines to the newest segment and fsync them; undone on failure. */
  async append(data: Buffer, lines: number): Promise<void> {
    if (this.#broken) throw this.#broken;
    const seg = this.newest;
    if (seg === undefined) throw new ZenrollError('INTERNAL', 'journal appended before a segment exists');
    try {
      this.#handle ??= await open(seg.path, 'r+');
      for (let done = 0; done < data.length; ) {
        const { bytesWritten } = await this.#handle.write(data, done, data.length - done, seg.bytes + done);
        done += bytesWritten;
      }
      await this.#handle.datasync();
    } catch (err) {
      const failure = fsError(err, 'append to the journal segment', seg.path);
      // A partly written batch must go, or the next append would follow a broken line.
      try {
        await this.#handle?.truncate(seg.bytes);
      } catch {
        this.#broken = failure;
      }
      throw failure;
    }
    seg.bytes += data.length;
    seg.last += lines;
  }

  /** The whole lines between two byte offsets of a segment (both at line starts, within its durable size). */
  async readRange(seg: Segment, from: number, to: number, firstSeq: number): Promise<JournalLine[]> {
    const data = Buffer.alloc(to - from);
    let h: FileHandle | undefined;
    try {
      h = await open(seg.path, 'r');
      for (let done = 0; done < data.length; ) {
        const { bytesRead } = await h.read(data, done, data.length - done, from + done);
        if (bytesRead === 0) throw new Error(`the file ends at byte ${from + done}, before ${to}`);
        done += bytesRead;
      }
    } catch (err) {
      throw fsError(err, 'read the journal segment', seg.path);
    } finally {
      await h?.close();
    }
    return parseSegment(data, `${seg.path} from byte ${from}`, false, firstSeq).lines;
  }

  /** Remove the oldest segment (never the newest). */
  async removeOldest(): Promise<Segment> {
    const seg = this.segments[0];
    if (seg === undefined || this.segments.length < 2) throw new ZenrollError('INTERNAL', 'no old journal segment to remove');
    await removeDurable(seg.path);
    this.segments.shift();
    return seg;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }
}
