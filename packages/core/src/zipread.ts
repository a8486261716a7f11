/**
 * Reading a zip that lies in a byte range of an open file, for verify.ts:
 * yauzl over a FileHandle (so the stored inner zip is read in place inside
 * the outer one, and the handle stays the caller's to close), CRC-32 and
 * SHA-256 of entry data, and the one mapping of read errors to codes.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { RandomAccessReader, fromRandomAccessReader, type Options, type ZipFile } from 'yauzl';
import { ZenrollError, fsError } from './errors.js';
import { sizeMismatch } from './inflater.js';

/**
 * The one place where a failure while reading a zip becomes a ZenrollError:
 * ours pass through, file-system errors keep their errno (FS_*), and the
 * rest, yauzl's (which carry no code) and zlib's (Z_DATA_ERROR, Z_BUF_ERROR),
 * make the zip unreadable. Whatever else a zip can be refused for, zipcheck.ts
 * finds itself before yauzl or zlib would fail on it.
 */
export function zipError(err: unknown, where: string, path: string): ZenrollError {
  if (err instanceof ZenrollError) return err;
  const code = err !== null && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  if (/^E[A-Z]+$/.test(code)) return fsError(err, `read ${where} at`, path);
  const message = err instanceof Error ? err.message : String(err);
  return new ZenrollError('ZIP_UNREADABLE', `${where}: ${message}`, { cause: err });
}

const CHUNK = 256 * 1024;

/** Reads [start, end) of a file and fails, rather than ending early, at `limit`. */
class RangeStream extends Readable {
  readonly #fh: FileHandle;
  #pos: number;
  readonly #end: number;
  readonly #limit: number;

  constructor(fh: FileHandle, start: number, end: number, limit: number) {
    super({ highWaterMark: CHUNK });
    this.#fh = fh;
    this.#pos = start;
    this.#end = end;
    this.#limit = limit;
  }

  override _read(): void {
    if (this.#pos >= this.#end) {
      this.push(null);
      return;
    }
    const want = Math.min(CHUNK, this.#end - this.#pos, this.#limit - this.#pos);
    if (want <= 0) {
      this.destroy(new Error('unexpected EOF'));
      return;
    }
    // A fresh buffer per chunk: consumers may keep what they are pushed.
    const buf = Buffer.allocUnsafe(want);
    this.#fh.read(buf, 0, want, this.#pos).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error('unexpected EOF'));
        this.#pos += bytesRead;
        this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      },
      (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

/** What a read that misses the block fetches: yauzl's headers come in runs (the central directory). */
const READ_AHEAD = 32 * 1024;

/** A run of bytes read at once, at `at` of the range. */
interface Block {
  at: number;
  data: Buffer;
}

/**
 * yauzl's view of [base, base + size) of the file; it can never read
 * outside it. It keeps two blocks: the last one yauzl's own reads missed
 * (read ahead: its small header reads come in runs through the central
 * directory) and the last one CheckedZip loaded (an entry's local header
 * and data, and the entries after it), so that walking the central
 * directory and reading the entries do not evict each other, and checking
 * and reading an entry costs at most one read.
 */
export class FileRangeReader extends RandomAccessReader {
  readonly #fh: FileHandle;
  readonly #base: number;
  readonly #size: number;
  #ahead: Block = { at: 0, data: Buffer.alloc(0) };
  #loaded: Block = { at: 0, data: Buffer.alloc(0) };

  constructor(fh: FileHandle, base: number, size: number) {
    super();
    this.#fh = fh;
    this.#base = base;
    this.#size = size;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return new RangeStream(this.#fh, this.#base + start, this.#base + end, this.#base + this.#size);
  }

  /** [position, position + length) of the range, if a block holds it; the block's own memory, never changed. */
  cached(position: number, length: number): Buffer | undefined {
    for (const { at, data } of [this.#loaded, this.#ahead]) {
      const from = position - at;
      if (from >= 0 && from + length <= data.length) return data.subarray(from, from + length);
    }
    return undefined;
  }

  /** Read up to `length` bytes at `position` of the range (fewer at its end) and keep them as the loaded block. */
  async load(position: number, length: number): Promise<Buffer> {
    this.#loaded = await this.#read(position, length);
    return this.#loaded.data;
  }

  async #read(position: number, length: number): Promise<Block> {
    const want = Math.max(0, Math.min(length, this.#size - position));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.#fh.read(buf, got, want - got, this.#base + position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { at: position, data: buf.subarray(0, got) };
  }

  // yauzl's own read() builds a stream of four pipes for every 30- or
  // 46-byte header; a block or one positioned read does it. yauzl wants bytesRead back.
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: yauzl calls back with bytesRead, which its types leave out
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    const want = Math.max(0, Math.min(length, this.#size - position));
    const hit = this.cached(position, want);
    if (hit !== undefined) {
      hit.copy(buffer, offset);
      process.nextTick(done, null, want);
      return;
    }
    // The block this read returns, not this.#ahead: another read may replace that meanwhile.
    this.#read(position, Math.max(want, READ_AHEAD)).then(
      (block) => {
        this.#ahead = block;
        done(null, block.data.copy(buffer, offset, 0, Math.min(want, block.data.length)));
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  // The FileHandle belongs to verifyOuterZip, which closes it on every path.
  override close(callback: (err: Error | null) => void): void {
    setImmediate(callback, null);
  }
}

export interface Digest {
  size: number;
  sha256: string;
  crc32: number;
}

/**
 * CRC-32, SHA-256 and size of an entry's decoded stream, which must be
 * exactly `expected` bytes: it is stopped at the first byte beyond.
 * `keep` collects the bytes (only for the small .prp).
 */
export async function digestStream(stream: Readable, expected: number, what: string, keep?: Buffer[]): Promise<Digest> {
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: a Readable without an encoding yields Buffers; Node types them any
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > expected) {
      stream.destroy();
      throw sizeMismatch(what, expected, { atLeast: size });
    }
    crc = crc32(chunk, crc);
    hash.update(chunk);
    keep?.push(chunk);
  }
  if (size !== expected) throw sizeMismatch(what, expected, { exactly: size });
  return { size, sha256: hash.digest('hex'), crc32: crc };
}

/** CRC-32, SHA-256 and size of data in memory. */
export function digestBuffer(data: Buffer): Digest {
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex'), crc32: crc32(data) };
}

/** Exactly `length` bytes at `pos` of `fh`, in one read (fails with "unexpected EOF" if the file ends first). */
export async function readExact(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  for (let at = 0; at < length; ) {
    const { bytesRead } = await fh.read(buf, at, length - at, pos + at);
    if (bytesRead === 0) throw new Error('unexpected EOF');
    at += bytesRead;
  }
  return buf;
}

/**
 * yauzl over [base, base + size) of `fh`, and its reader. Names come raw
 * and sizes unchecked: zipcheck.ts checks both itself (with yauzl's public
 * getFileNameLowLevel and validateFileName for names), so that each
 * problem gets its own code rather than one of yauzl's messages.
 */
export function openZipRange(fh: FileHandle, base: number, size: number): Promise<{ zf: ZipFile; reader: FileRangeReader }> {
  const options: Options = { lazyEntries: true, decodeStrings: false, validateEntrySizes: false, autoClose: false };
  const reader = new FileRangeReader(fh, base, size);
  return new Promise((resolve, reject) => {
    fromRandomAccessReader(reader, size, options, (err, zf) => (err ? reject(err) : resolve({ zf, reader })));
  });
}
