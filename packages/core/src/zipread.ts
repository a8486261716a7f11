/**
 * Reading a zip that lies in a byte range of an open file, for verify.ts:
 * yauzl over a FileHandle (so the stored inner zip is read in place inside
 * the outer one, and the handle stays the caller's to close), entry data
 * read and inflated whole, CRC-32 and SHA-256 of it, and the one mapping of
 * read errors to codes.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, inflateRaw } from 'node:zlib';
import { RandomAccessReader, fromRandomAccessReader, type Options, type ZipFile } from 'yauzl';
import { ZenrollError, fsError, type ErrorCode } from './errors.js';
import { checkDecodedLength, inflateFailure, inflateOptions } from './inflater.js';

// yauzl reports everything as a plain Error; these are its messages (3.4).
const YAUZL_MESSAGES: [RegExp, ErrorCode][] = [
  [/^(invalid characters in fileName|absolute path|invalid relative path)/, 'ZIP_ENTRY_UNSAFE'],
  [/encrypt/i, 'ZIP_ENTRY_UNSAFE'],
  [/^unsupported compression method/, 'ZIP_ENTRY_UNEXPECTED'],
  [/^compressed\/uncompressed size mismatch|^too many bytes in the stream|^not enough bytes in the stream/, 'ZIP_SIZE_MISMATCH'],
];

/**
 * The one place where a failure while reading a zip becomes a ZenrollError:
 * ours pass through, file-system errors keep their errno (FS_*), yauzl's and
 * zlib's messages get a ZIP_* code; anything unknown is an unreadable zip.
 */
export function zipError(err: unknown, where: string, path: string): ZenrollError {
  if (err instanceof ZenrollError) return err;
  const code = err !== null && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  if (/^E[A-Z]+$/.test(code)) return fsError(err, `read ${where} at`, path);
  const message = err instanceof Error ? err.message : String(err);
  const mapped = code.startsWith('Z_') ? undefined : YAUZL_MESSAGES.find(([re]) => re.test(message))?.[1];
  return new ZenrollError(mapped ?? 'ZIP_UNREADABLE', `${where}: ${message}`, { cause: err });
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

/** CRC-32, SHA-256 and size of a stream; `keep` collects the bytes (only for the small .prp). */
export async function digestStream(stream: Readable, keep?: Buffer[]): Promise<Digest> {
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc);
    hash.update(chunk);
    size += chunk.length;
    keep?.push(chunk);
  }
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

const inflateRawAsync = promisify(inflateRaw);

/**
 * An entry's content from its raw bytes: stored as is, deflated inflated in
 * one zlib call (one thread-pool job), never more than `size` bytes of
 * output. A size other than `size` fails with yauzl's own messages
 * (validateEntrySizes), so zipError maps it alike.
 */
export async function decodeEntry(raw: Buffer, method: number, size: number): Promise<Buffer> {
  let data = raw;
  if (method === 8) {
    try {
      data = await inflateRawAsync(raw, inflateOptions(size));
    } catch (err) {
      throw inflateFailure(err, size);
    }
  }
  checkDecodedLength(data.length, size);
  return data;
}

/** yauzl over [base, base + size) of `fh`, with names checked strictly and sizes validated, and its reader. */
export function openZipRange(fh: FileHandle, base: number, size: number): Promise<{ zf: ZipFile; reader: FileRangeReader }> {
  const options: Options = { lazyEntries: true, strictFileNames: true, validateEntrySizes: true, autoClose: false };
  const reader = new FileRangeReader(fh, base, size);
  return new Promise((resolve, reject) => {
    fromRandomAccessReader(reader, size, options, (err, zf) => (err ? reject(err) : resolve({ zf, reader })));
  });
}
