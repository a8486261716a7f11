/**
 * Writing zips with archiver (SPEC §3): the inner zip of a batch in memory,
 * the outer zip durably to disk (STYLE.md "Durability"). One archive
 * deflates its entries one after another on one core; the Sender keeps
 * several batches in flight to use the others (sender pack-all.ts).
 *
 * Every entry is a regular file of mode 0o644 dated `created` (UTC DOS
 * time). archiver's `warning` (a source that vanished) is an error here.
 */
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ArchiverOptions, ZipArchive } from 'archiver';
import { fromBuffer, type Entry } from 'yauzl';
import { fsyncDir, fsyncFile, tempPath } from './durable.js';
import { ZenrollError, errnoCode, fsError } from './errors.js';

export interface ArchiveEntry {
  name: string;
  data: Buffer;
}

/** When a deflated entry is kept deflated: the Receiver refuses one that expands beyond its ratio cap (zipcheck.ts). */
export interface RatioCap {
  maxRatio: number;
  ratioMinBytes: number;
}

function packFailed(what: string, err: unknown): ZenrollError {
  return new ZenrollError('PACK_FAILED', `cannot ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

// Loaded on first use: ~5 MB of RSS that a process which never packs (a root, most commands) does without.
let archiver: Promise<typeof import('archiver')> | undefined;

/** A new archive that fails on `warning` as on `error`: `failed` rejects with the first of them. */
async function newArchive(options: ArchiverOptions): Promise<{ archive: ZipArchive; failed: Promise<never> }> {
  archiver ??= import('archiver');
  const { ZipArchive } = await archiver;
  const archive = new ZipArchive(options);
  const failed = new Promise<never>((_, reject) => {
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  failed.catch(() => undefined); // raced below; never unhandled
  return { archive, failed };
}

function appendAll(archive: ZipArchive, entries: readonly ArchiveEntry[], created: Date, store: (name: string) => boolean): void {
  for (const e of entries) archive.append(e.data, { name: e.name, date: created, mode: 0o644, store: store(e.name) });
  // finalize()'s own rejection repeats an 'error' event, which `failed` reports.
  archive.finalize().catch(() => undefined);
}

/** The zip of `entries`, in order, in memory; deflated at `level` except the names `store` picks. */
async function zipInMemory(
  entries: readonly ArchiveEntry[],
  level: number,
  created: Date,
  store: (name: string) => boolean,
): Promise<Buffer> {
  // memLevel 9 (zlib's default is 8): ~8 % less CPU per MB at level 6 on .str text for the same size.
  const { archive, failed } = await newArchive({ zlib: { level, memLevel: 9, chunkSize: 64 * 1024 } });
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => archive.on('end', resolve));
  appendAll(archive, entries, created, store);
  try {
    await Promise.race([ended, failed]);
  } catch (err) {
    archive.abort();
    throw packFailed('make the inner zip', err);
  }
  return Buffer.concat(chunks);
}

/** The entries of a zip made here (names and sizes from its central directory, through yauzl). */
async function sizesOf(zip: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    fromBuffer(zip, { lazyEntries: true }, (err, zf) => {
      if (err) return reject(err);
      zf.on('entry', (e: Entry) => {
        entries.push(e);
        zf.readEntry();
      });
      zf.on('end', resolve);
      zf.on('error', reject);
      zf.readEntry();
    });
  });
  return entries;
}

/** Whether a deflated entry should have been stored: deflate did not shrink it, or it expands past the cap. */
export function storeInstead(size: number, compressedSize: number, cap: RatioCap): boolean {
  return compressedSize >= size || (size > cap.ratioMinBytes && size > cap.maxRatio * compressedSize);
}

/**
 * The inner zip of a batch, in memory: every entry deflated at `level`
 * (0 stores all), except that an entry that deflate does not shrink, or
 * that would expand past the Receiver's ratio cap, is stored, as Info-ZIP
 * stores what does not shrink. Those are found in the first zip and the
 * zip is made again with them stored (rare: .str are text).
 */
export async function innerZip(entries: readonly ArchiveEntry[], level: number, created: Date, cap: RatioCap): Promise<Buffer> {
  if (level === 0) return zipInMemory(entries, 0, created, () => true);
  const first = await zipInMemory(entries, level, created, () => false);
  let listed: Entry[];
  try {
    listed = await sizesOf(first);
  } catch (err) {
    throw packFailed('read back the inner zip', err);
  }
  const stored = new Set(
    listed.filter((e) => e.compressionMethod === 8 && storeInstead(e.uncompressedSize, e.compressedSize, cap)).map((e) => e.fileName),
  );
  if (stored.size === 0) return first;
  return zipInMemory(entries, level, created, (name) => stored.has(name));
}

/** Size of the zip writeStoredZipDurable makes of `entries`: a local header (30 bytes) and a central record (46) per entry, with its name, and the end record (22). */
export function storedZipBytes(entries: readonly ArchiveEntry[]): number {
  return entries.reduce((n, e) => n + 76 + 2 * Buffer.byteLength(e.name) + e.data.length, 22);
}

/**
 * Write the zip of `entries`, all stored, to `path`: a temp name in the same
 * folder, archiver's output stream closed, fsync, rename, fsync the folder.
 * On any failure nothing stays behind. Returns the zip's size.
 */
export async function writeStoredZipDurable(path: string, entries: readonly ArchiveEntry[], created: Date): Promise<number> {
  const temp = tempPath(path);
  let renamed = false;
  try {
    const { archive, failed } = await newArchive({ store: true });
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    const closed = new Promise<void>((resolve, reject) => {
      out.on('error', reject);
      out.on('close', resolve);
    });
    archive.pipe(out);
    appendAll(archive, entries, created, () => true);
    try {
      // finalize() resolves before the file is closed: wait for the stream's 'close' (LIBRARY-NOTES.md).
      await Promise.race([closed, failed]);
    } catch (err) {
      archive.abort();
      out.destroy();
      await closed.catch(() => undefined);
      throw /^E[A-Z0-9]+$/.test(errnoCode(err) ?? '') ? fsError(err, 'write', path) : packFailed(`write ${path}`, err);
    }
    const bytes = archive.pointer();
    await fsyncFile(temp);
    try {
      await rename(temp, path);
    } catch (err) {
      throw fsError(err, 'rename into place', path);
    }
    renamed = true;
    await fsyncDir(dirname(path));
    return bytes;
  } catch (err) {
    // The first error is the one to report; a leftover temp is swept at the next start.
    await unlink(renamed ? path : temp).catch(() => undefined);
    throw err;
  }
}
