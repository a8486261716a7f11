/**
 * A checked view of one zip inside a file, for verify.ts. yauzl parses; this
 * adds what yauzl leaves out (LIBRARY-NOTES.md): entry types, duplicates,
 * long names, local/central agreement, overlapping or hidden bytes, size and
 * ratio caps, CRC-32.
 */
import type { FileHandle } from 'node:fs/promises';
import { getFileNameLowLevel, validateFileName, type Entry, type ZipFile } from 'yauzl';
import { ZenrollError, shown, type ErrorCode } from './errors.js';
import { foldedName } from './prp.js';
import { inflateEntry, inflateEntrySync, storedEntry } from './inflater.js';
import { digestBuffer, digestStream, openZipRange, readExact, type Digest, type FileRangeReader } from './zipread.js';

// peek.ts and verify.ts map errors with it; it lives with the reader.
export { zipError } from './zipread.js';

export interface Limits {
  /** The outer zip file. */
  maxZipBytes: number;
  /** One `.str`, uncompressed. */
  maxStrBytes: number;
  /** All `.str` of one inner zip, uncompressed. */
  maxInnerUncompressedBytes: number;
  /** Uncompressed / compressed size of one entry (zip bombs)… */
  maxRatio: number;
  /** …counted only for entries larger than this: tiny files compress absurdly well. */
  ratioMinBytes: number;
  maxPrpBytes: number;
  /** Bytes of an entry name (UTF-8). */
  maxNameLength: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxZipBytes: 256 * 1024 * 1024,
  maxStrBytes: 64 * 1024 * 1024,
  maxInnerUncompressedBytes: 1024 * 1024 * 1024,
  maxRatio: 200,
  ratioMinBytes: 8 * 1024,
  maxPrpBytes: 64 * 1024,
  maxNameLength: 255,
});

function fail(code: ErrorCode, message: string): ZenrollError {
  return new ZenrollError(code, message);
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const DOS_DIRECTORY = 0x10;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DESCRIPTOR = 0x8;
const FLAG_STRONG_ENCRYPTION = 0x40;
const FLAG_UTF8 = 0x800;
const CENTRAL_SIG = 0x02014b50;
const DESCRIPTOR_SIG = 0x08074b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
/**
 * Entries up to this size (compressed and uncompressed) are read in one
 * read and inflated in one zlib call; larger ones, far beyond any real .str,
 * are streamed so that memory stays bounded whatever a zip claims.
 */
const WHOLE_ENTRY_MAX = 8 * 1024 * 1024;
/** Bytes of a local header's extra field that the read ahead of an entry makes room for. */
const LOCAL_EXTRA_ROOM = 64;
/**
 * Entries up to this size are read with their local header: a .str. The
 * stored inner zip is not, because its block would be gone (the .prp's
 * replaces it) before verify.ts reads the inner zip.
 */
const READ_WITH_HEADER_MAX = 1024 * 1024;
/**
 * How entries are inflated (docs/PERFORMANCE.md, verification). zlib's round
 * trip through the thread pool costs more CPU than inflating a typical .str
 * on the calling thread, so an entry up to SYNC_MAX is inflated on this
 * thread (well under a millisecond for a .str), except that POOL_INFLATES
 * at a time go to the thread pool, so that the other core inflates while
 * this one hashes. Larger entries always go to the pool.
 */
const SYNC_MAX = 1024 * 1024;
const POOL_INFLATES = 1;
/** Inflates on the thread pool now, over every zip this process is verifying. */
let poolInflates = 0;
/** At least this much is read at once for the local header and data of small entries (and the entries after them). */
const READ_BLOCK = 256 * 1024;

export interface EntryCheck {
  /** Largest uncompressed size accepted (ZIP_TOO_LARGE above it). */
  maxBytes: number;
  /** Name rules of this kind of entry, run right after the generic ones. */
  checkName?: (name: string) => void;
}

/** One zip at [base, base + size) of `fh`, read entry by entry with every check on the way. */
export class CheckedZip {
  readonly #fh: FileHandle;
  readonly #zf: ZipFile;
  readonly #reader: FileRangeReader;
  readonly #base: number;
  readonly #size: number;
  #cdStart = 0;
  #cdEnd = 0;
  /** Where the next central directory record starts: yauzl's records follow each other from #cdStart. */
  #cursor = 0;
  readonly #limits: Limits;
  readonly label: string;
  readonly #names = new Set<string>();
  /** [first byte, end, what] of each entry: local header, data, data descriptor. */
  readonly #ranges: [number, number, string][] = [];
  /** Where each checked entry's data starts, from its local header. */
  readonly #dataStarts = new WeakMap<Entry, number>();
  #lateError: unknown;

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(fh: FileHandle, zf: ZipFile, reader: FileRangeReader, base: number, size: number, limits: Limits, label: string) {
    this.#fh = fh;
    this.#zf = zf;
    this.#reader = reader;
    this.#base = base;
    this.#size = size;
    this.#limits = limits;
    this.label = label;
    // yauzl emits at most one error; `next` reports it. This keeps one that
    // comes while nobody waits (it cannot today) from crashing the process.
    zf.on('error', (err: unknown) => {
      this.#lateError = err;
    });
  }

  static async open(fh: FileHandle, base: number, size: number, limits: Limits, label: string): Promise<CheckedZip> {
    const { zf, reader } = await openZipRange(fh, base, size);
    const zip = new CheckedZip(fh, zf, reader, base, size, limits, label);
    try {
      await zip.#checkEnd();
    } catch (err) {
      zip.close();
      throw err;
    }
    return zip;
  }

  // The central directory must end where the end record begins: anything
  // else is a truncated zip whose last bytes happen to look like an end
  // record (e.g. the inner zip's), bytes smuggled in between, or zip64,
  // which no zenroll zip needs.
  async #checkEnd(): Promise<void> {
    // The comment comes raw (decodeStrings: false): its length is in bytes.
    const eocd = this.#size - 22 - this.#zf.comment.length;
    // yauzl goes zip64 whenever a locator signature precedes the end record,
    // even one hidden in the last central record's comment, where the sizes
    // below still add up; other readers then see another zip (or none).
    if (eocd >= 20 && (await this.#readUInt32(eocd - 20)) === ZIP64_LOCATOR_SIG) {
      throw fail('ZIP_UNREADABLE', `${this.label}: it has zip64 end records, which no zenroll zip needs`);
    }
    const cdSize = await this.#readUInt32(eocd + 12);
    // Where yauzl starts reading records, as it found it in the end record (no zip64 here).
    const cdStart = await this.#readUInt32(eocd + 16);
    if (cdSize === undefined || cdStart === undefined || cdStart + cdSize !== eocd) {
      throw fail('ZIP_UNREADABLE', `${this.label}: the central directory does not end where the end record begins (truncated, or zip64)`);
    }
    this.#cdStart = cdStart;
    this.#cursor = cdStart;
    this.#cdEnd = eocd;
  }

  get entryCount(): number {
    return this.#zf.entryCount;
  }

  /**
   * The next central directory record, or undefined at the end, with the
   * checks yauzl would make with decodeStrings and validateEntrySizes, in
   * its order, each with its own code: strong encryption, then the name
   * (its fileName is set to the decoded name), then a stored entry's sizes.
   */
  async next(): Promise<Entry | undefined> {
    let entry: Entry | undefined;
    try {
      entry = await this.#nextRecord();
    } catch (err) {
      // yauzl refuses a record flagged for strong encryption; it is our own check that says so.
      const flags = (await this.#readUInt32(this.#cursor)) === CENTRAL_SIG ? await this.#readUInt16(this.#cursor + 8) : undefined;
      if (flags !== undefined && (flags & FLAG_STRONG_ENCRYPTION) !== 0) {
        throw fail('ZIP_ENTRY_UNSAFE', `${this.label}: the entry at byte ${this.#cursor} uses strong encryption`);
      }
      throw err;
    }
    if (entry === undefined) return undefined;
    this.#cursor += 46 + entry.fileNameLength + entry.extraFieldLength + entry.fileCommentLength;
    const raw = entry.fileNameRaw;
    const name = getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
    const unsafe = validateFileName(name);
    if (unsafe !== null) throw fail('ZIP_ENTRY_UNSAFE', `${this.label}: ${unsafe}`);
    entry.fileName = name;
    const stored = entry.compressedSize - (entry.isEncrypted() ? 12 : 0);
    if (entry.compressionMethod === 0 && stored !== entry.uncompressedSize) {
      throw fail(
        'ZIP_SIZE_MISMATCH',
        `${this.label}: stored entry ${shown(name)} is ${entry.compressedSize} bytes; the zip says ${entry.uncompressedSize} uncompressed`,
      );
    }
    return entry;
  }

  #nextRecord(): Promise<Entry | undefined> {
    if (this.#lateError !== undefined) return Promise.reject(this.#lateError);
    return new Promise((resolve, reject) => {
      const settle = (err: unknown, entry?: Entry): void => {
        this.#zf.off('entry', onEntry).off('end', onEnd).off('error', onError);
        if (err === null) resolve(entry);
        else reject(err);
      };
      const onEntry = (entry: Entry): void => settle(null, entry);
      const onEnd = (): void => settle(null);
      const onError = (err: unknown): void => settle(err);
      this.#zf.on('entry', onEntry).on('end', onEnd).on('error', onError);
      this.#zf.readEntry();
    });
  }

  /** Every check that needs no entry data; throws the first that fails. */
  async check(entry: Entry, rules: EntryCheck): Promise<void> {
    const name = entry.fileName;
    const what = `${this.label}: entry ${shown(name)}`;
    const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (name.endsWith('/') || (entry.externalFileAttributes & DOS_DIRECTORY) !== 0 || type === 0o040000) {
      throw fail('ZIP_ENTRY_UNSAFE', `${what} is a folder; only plain files are allowed`);
    }
    if (type !== 0 && type !== S_IFREG) {
      const kind = type === 0o120000 ? 'a symbolic link' : `of file type 0o${type.toString(8)}`;
      throw fail('ZIP_ENTRY_UNSAFE', `${what} is ${kind}; only plain files are allowed`);
    }
    // yauzl shows bytes < 0x20 of a name without the UTF-8 flag as CP437 symbols.
    if (entry.fileNameRaw.some((b) => b < 0x20 || b === 0x7f)) {
      throw fail('ZIP_ENTRY_UNSAFE', `${what} has a control character in its name`);
    }
    if (entry.fileNameRaw.length > this.#limits.maxNameLength) {
      throw fail('ZIP_ENTRY_UNSAFE', `${what} has a ${entry.fileNameRaw.length}-byte name; at most ${this.#limits.maxNameLength}`);
    }
    if (entry.generalPurposeBitFlag & FLAG_ENCRYPTED) throw fail('ZIP_ENTRY_UNSAFE', `${what} is encrypted`);
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw fail('ZIP_ENTRY_UNEXPECTED', `${what} uses compression method ${entry.compressionMethod}; expected 0 (stored) or 8 (deflate)`);
    }
    // Letter case aside: such names collide when extracted on a case-insensitive file system.
    if (this.#names.has(foldedName(name))) throw fail('ZIP_ENTRY_DUPLICATE', `${what} appears twice (letter case aside)`);
    this.#names.add(foldedName(name));
    rules.checkName?.(name);

    if (entry.uncompressedSize > rules.maxBytes) {
      throw fail('ZIP_TOO_LARGE', `${what} is ${entry.uncompressedSize} bytes uncompressed; at most ${rules.maxBytes}`);
    }
    const { maxRatio, ratioMinBytes } = this.#limits;
    if (entry.uncompressedSize > ratioMinBytes && entry.uncompressedSize > maxRatio * entry.compressedSize) {
      const ratio = entry.compressedSize === 0 ? 'infinitely' : `${Math.round(entry.uncompressedSize / entry.compressedSize)}×`;
      throw fail(
        'ZIP_RATIO_EXCEEDED',
        `${what} expands ${ratio} (${entry.compressedSize} → ${entry.uncompressedSize} bytes); at most ${maxRatio}×`,
      );
    }
    await this.#checkLocalHeader(entry, what);
  }

  // Two readers must never see two different zips: the local header has to
  // agree with the central record, and no byte may belong to two entries
  // (overlapping entries are the "better zip bomb"), so both are UNSAFE.
  async #checkLocalHeader(entry: Entry, what: string): Promise<void> {
    // The local header and the data after it in one read, for the checks below and digest().
    // Entries follow each other, so a block read for one holds the next few: one read for many small .str.
    const offset = entry.relativeOffsetOfLocalHeader;
    const need = Math.min(30 + entry.fileNameRaw.length + LOCAL_EXTRA_ROOM + entry.compressedSize, this.#size - offset);
    if (entry.compressedSize <= READ_WITH_HEADER_MAX && this.#reader.cached(offset, need) === undefined) {
      await this.#reader.load(offset, Math.max(need, READ_BLOCK));
    }
    const local = await this.#zf.readLocalFileHeaderPromise(entry);
    const flags = FLAG_ENCRYPTED | FLAG_UTF8;
    const sizesInLocal = (local.generalPurposeBitFlag & FLAG_DESCRIPTOR) === 0;
    if (
      !local.fileName.equals(entry.fileNameRaw) ||
      local.compressionMethod !== entry.compressionMethod ||
      (local.generalPurposeBitFlag & flags) !== (entry.generalPurposeBitFlag & flags) ||
      (sizesInLocal &&
        (local.crc32 !== entry.crc32 || local.compressedSize !== entry.compressedSize || local.uncompressedSize !== entry.uncompressedSize))
    ) {
      throw fail('ZIP_ENTRY_UNSAFE', `${what}: its local header disagrees with the central directory`);
    }
    let end = local.fileDataStart + entry.compressedSize;
    if (!sizesInLocal) end += (await this.#readUInt32(end)) === DESCRIPTOR_SIG ? 16 : 12;
    const start = entry.relativeOffsetOfLocalHeader;
    for (const [s, e, other] of [...this.#ranges, [this.#cdStart, this.#size, 'the central directory'] as const]) {
      if (start < e && s < end) throw fail('ZIP_ENTRY_UNSAFE', `${what} (bytes ${start}–${end}) overlaps ${other}`);
    }
    this.#ranges.push([start, end, `entry ${shown(entry.fileName)}`]);
    this.#dataStarts.set(entry, local.fileDataStart);
  }

  async #readUInt32(pos: number): Promise<number | undefined> {
    return (await this.#readBytes(pos, 4))?.readUInt32LE(0);
  }

  async #readUInt16(pos: number): Promise<number | undefined> {
    return (await this.#readBytes(pos, 2))?.readUInt16LE(0);
  }

  async #readBytes(pos: number, length: number): Promise<Buffer | undefined> {
    if (pos + length > this.#size) return undefined;
    // A data descriptor (archiver writes one after each deflated .str) is in the block read with its entry.
    const cached = this.#reader.cached(pos, length);
    if (cached !== undefined) return cached;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.#fh.read(buf, 0, length, this.#base + pos);
    return bytesRead === length ? buf : undefined;
  }

  /**
   * Decoded data of a checked entry, its length and CRC-32 checked: read
   * whole and inflated in one zlib call, or streamed through yauzl if large.
   * Several may run at once (verify.ts checks a few entries concurrently).
   */
  async digest(entry: Entry, keep?: Buffer[]): Promise<Digest> {
    const start = this.#dataStarts.get(entry);
    const what = `${this.label}: entry ${shown(entry.fileName)}`;
    const size = entry.uncompressedSize;
    let d: Digest;
    if (start !== undefined && entry.compressedSize <= WHOLE_ENTRY_MAX && size <= WHOLE_ENTRY_MAX) {
      // The block check() loaded with the local header, unless another entry has been loaded since.
      const raw = this.#reader.cached(start, entry.compressedSize) ?? (await readExact(this.#fh, this.#base + start, entry.compressedSize));
      let data: Buffer;
      if (entry.compressionMethod === 0) {
        data = storedEntry(raw, size, what);
      } else if (size <= SYNC_MAX && poolInflates >= POOL_INFLATES) {
        data = inflateEntrySync(raw, size, what);
      } else {
        poolInflates++;
        try {
          data = await inflateEntry(raw, size, what);
        } finally {
          poolInflates--;
        }
      }
      d = digestBuffer(data);
      keep?.push(data);
    } else {
      d = await digestStream(await this.#zf.openReadStreamPromise(entry), size, what, keep);
    }
    if (d.crc32 !== entry.crc32 >>> 0) {
      throw fail(
        'ZIP_CRC_MISMATCH',
        `${this.label}: entry ${shown(entry.fileName)} has CRC-32 ${hex(d.crc32)}; the zip says ${hex(entry.crc32)}`,
      );
    }
    return d;
  }

  /** Where a checked entry's data starts within the file (for reading a stored zip in place). */
  async dataStart(entry: Entry): Promise<number> {
    const { fileDataStart } = await this.#zf.readLocalFileHeaderPromise(entry, { minimal: true });
    return this.#base + fileDataStart;
  }

  /**
   * After the last entry: the central directory holds no record beyond the
   * count in the end record, and the entries fill the zip up to it with
   * nothing hidden between them.
   */
  finish(): void {
    if (this.#cursor !== this.#cdEnd) {
      throw fail('ZIP_UNREADABLE', `${this.label}: the central directory holds more records than the end record counts`);
    }
    let at = 0;
    for (const [start, end, name] of [...this.#ranges].sort((a, b) => a[0] - b[0])) {
      if (start !== at) throw fail('ZIP_UNREADABLE', `${this.label}: bytes ${at}–${start} before ${name} belong to no entry`);
      at = end;
    }
    if (at !== this.#cdStart)
      throw fail('ZIP_UNREADABLE', `${this.label}: bytes ${at}–${this.#cdStart} before the central directory belong to no entry`);
  }

  close(): void {
    this.#zf.close();
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
