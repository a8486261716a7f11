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
import { ZenrollError, fsError, type ErrorCode } from './errors.js';

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

const CHUNK = 64 * 1024;

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

/** yauzl's view of [base, base + size) of the file; it can never read outside it. */
class FileRangeReader extends RandomAccessReader {
  readonly #fh: FileHandle;
  readonly #base: number;
  readonly #size: number;

  constructor(fh: FileHandle, base: number, size: number) {
    super();
    this.#fh = fh;
    this.#base = base;
    this.#size = size;
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return new RangeStream(this.#fh, this.#base + start, this.#base + end, this.#base + this.#size);
  }

  // yauzl's own read() builds a stream of four pipes for every 30- or
  // 46-byte header; one positioned read does it. yauzl wants bytesRead back.
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    const done = callback as (err: Error | null, bytesRead?: number) => void;
    const want = Math.max(0, Math.min(length, this.#size - position));
    this.#fh.read(buffer, offset, want, this.#base + position).then(
      ({ bytesRead }) => done(null, bytesRead),
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

/** yauzl over [base, base + size) of `fh`, with names checked strictly and sizes validated. */
export function openZipRange(fh: FileHandle, base: number, size: number): Promise<ZipFile> {
  const options: Options = { lazyEntries: true, strictFileNames: true, validateEntrySizes: true, autoClose: false };
  return new Promise((resolve, reject) => {
    fromRandomAccessReader(new FileRangeReader(fh, base, size), size, options, (err, zf) => (err ? reject(err) : resolve(zf)));
  });
}
