/**
 * Pack one batch of .str files into an outer zip (SPEC §3): the inner zip
 * (deflated .str under their base names) and the signed .prp, both stored.
 * A batch is at most 50 files, so it is held in memory once; the outer zip
 * is streamed to a temp file and put in place durably (STYLE.md).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ZipArchive } from 'archiver';
import { fromBuffer, type Entry, type ZipFile } from 'yauzl';
import { fsyncDir, fsyncFile, tempPath } from './durable.js';
import { ZenrollError, errnoCode, fsError, shown } from './errors.js';
import { formatOuterName, innerZipName, prpName } from './names.js';
import { MAX_FILES, checkStrName, signPrp, type PrpFile } from './prp.js';
import { DEFAULT_LIMITS, type Limits } from './zipcheck.js';

export interface PackOptions {
  /** 1 to 50 `.str` paths; they go into the inner zip in this order. */
  files: string[];
  outDir: string;
  server: string;
  tree: string;
  status: 0 | 2;
  scheduledtime: string;
  keys: { privateKey: KeyObject; publicKey: KeyObject };
  /** Deflate level of the inner zip, 0 (store) to 9; default 6. */
  level?: number;
  /** The .prp `created` and every entry's date; default now. */
  created?: Date;
  /** Extra signed .prp keys, e.g. `batch.id`. */
  extra?: [string, string][];
  /** The Receiver's limits, so that no zip is made that it would refuse; default DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
}

export interface PackResult {
  name: string;
  path: string;
  bytes: number;
  files: PrpFile[];
  inner: { name: string; size: number; sha256: string };
}

interface Source {
  name: string;
  data: Buffer;
  /** Store instead of deflate: deflated it would exceed the Receiver's ratio cap. */
  store: boolean;
}

function invalid(message: string, cause?: unknown): ZenrollError {
  return new ZenrollError('PACK_INPUT_INVALID', message, { cause });
}

export async function packBatch(opts: PackOptions): Promise<PackResult> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const level = opts.level ?? 6;
  const created = opts.created ?? new Date();
  if (opts.files.length < 1 || opts.files.length > MAX_FILES) {
    throw invalid(`a batch holds 1 to ${MAX_FILES} .str files, not ${opts.files.length}`);
  }
  if (!Number.isInteger(level) || level < 0 || level > 9) throw invalid(`compression level ${shown(level)} is not 0–9`);
  // SPEC §3: a server makes its own zips with 0 (no database) or 2; 1 is only for dbdir.
  if (opts.status !== 0 && opts.status !== 2) throw invalid(`stored status ${shown(opts.status)} of a new zip is not 0 or 2`);
  if (Number.isNaN(created.getTime())) throw invalid('created is not a valid date');
  const names = opts.files.map((f) => basename(f));
  for (const name of names) {
    try {
      checkStrName(name);
    } catch (cause) {
      throw invalid((cause as Error).message, cause);
    }
    // archiver drops a leading `word:` from entry names, and verify refuses DEL.
    if (/[:\u007f]/.test(name)) throw invalid(`.str name ${shown(name)} holds ":" or DEL, which a zip entry name may not`);
  }
  // Letter case aside: the names would collide on a case-insensitive file system.
  const folded = names.map((n) => n.toLowerCase());
  const dupe = names.find((_, i) => folded.indexOf(folded[i] as string) !== i);
  if (dupe !== undefined) throw invalid(`two files of the batch are named ${shown(dupe)} (letter case aside); an inner zip holds each name once`);
  const name = formatOuterName({ scheduledtime: opts.scheduledtime, server: opts.server, tree: opts.tree, status: opts.status });
  const path = join(opts.outDir, name);
  if (await exists(path)) throw invalid(`${shown(path, 200)} already exists; a scheduled time is used once per server`);

  const sources: Source[] = [];
  for (const [i, file] of opts.files.entries()) {
    sources.push({ name: names[i] as string, data: await readSource(file, limits.maxStrBytes), store: false });
  }
  const files = sources.map((s) => ({ name: s.name, size: s.data.length, sha256: sha256(s.data) }));

  let innerZip = await zipToBuffer(sources, level, created);
  const tooCompressible = overRatio(await listEntries(innerZip, names), limits);
  if (tooCompressible.size > 0) {
    for (const s of sources) s.store = tooCompressible.has(s.name);
    innerZip = await zipToBuffer(sources, level, created);
    await listEntries(innerZip, names);
  }
  sources.length = 0; // the .str data is in innerZip now; let it go
  const inner = { name: innerZipName(opts.scheduledtime, opts.server), size: innerZip.length, sha256: sha256(innerZip) };
  const prp = signPrp(
    { scheduledtime: opts.scheduledtime, server: opts.server, tree: opts.tree, created: created.toISOString(), inner, files, extra: opts.extra ?? [] },
    opts.keys.privateKey,
    opts.keys.publicKey,
  );
  const outer = [
    { name: inner.name, data: innerZip, store: true },
    { name: prpName(opts.scheduledtime, opts.server), data: Buffer.from(prp, 'utf8'), store: true },
  ];
  const bytes = await writeZipDurable(path, outer, created, limits.maxZipBytes);
  return { name, path, bytes, files, inner };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw fsError(err, 'look at', path);
  }
}

/** Read a whole .str; one that vanished or cannot be read fails the batch, never silently drops out of it. */
async function readSource(file: string, maxBytes: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
    const { size } = await fh.stat();
    if (size > maxBytes) throw invalid(`${shown(file, 200)} is ${size} bytes; the Receiver takes .str files up to ${maxBytes}`);
    return await fh.readFile();
  } catch (err) {
    if (err instanceof ZenrollError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ZenrollError('PACK_SOURCE_UNREADABLE', `cannot read ${shown(file, 200)}: ${reason}`, {
      cause: err,
      details: { path: file, errno: errnoCode(err) },
    });
  } finally {
    await fh?.close();
  }
}

function archiveFor(level: number): ZipArchive {
  return new ZipArchive(level === 0 ? { store: true } : { zlib: { level } });
}

function appendAll(archive: ZipArchive, sources: Source[], date: Date): void {
  for (const s of sources) {
    // `store` only when set: zip-stream spreads it over the archive's default.
    archive.append(s.data, { name: s.name, date, mode: 0o644, ...(s.store ? { store: true } : {}) });
  }
}

function archiverError(err: unknown): ZenrollError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ZenrollError('PACK_FAILED', `archiver failed: ${reason}`, { cause: err });
}

async function zipToBuffer(sources: Source[], level: number, date: Date): Promise<Buffer> {
  const archive = archiveFor(level);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    archive.on('data', (chunk: Buffer) => chunks.push(chunk));
    archive.on('end', resolve);
    archive.on('error', (err) => reject(archiverError(err)));
    archive.on('warning', (err) => reject(archiverError(err)));
    appendAll(archive, sources, date);
    archive.finalize().catch((err: unknown) => reject(archiverError(err)));
  });
  return Buffer.concat(chunks);
}

/**
 * The central directory of a zip we just made, checked to hold exactly
 * `names` in order: archiver rewrites some names (normalize-path), and a zip
 * whose names differ from its .prp would be refused upstream forever.
 */
async function listEntries(zip: Buffer, names: string[]): Promise<Entry[]> {
  const entries: Entry[] = [];
  const zf = await new Promise<ZipFile>((resolve, reject) =>
    fromBuffer(zip, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  await new Promise<void>((resolve, reject) => {
    zf.on('entry', (e: Entry) => {
      entries.push(e);
      zf.readEntry();
    });
    zf.on('end', resolve);
    zf.on('error', reject);
    zf.readEntry();
  }).catch((err: unknown) => {
    throw new ZenrollError('PACK_FAILED', `archiver wrote a zip yauzl cannot read: ${String(err)}`, { cause: err });
  });
  const got = entries.map((e) => e.fileName);
  if (got.length !== names.length || got.some((n, i) => n !== names[i])) {
    throw new ZenrollError('PACK_FAILED', `archiver wrote entries ${shown(got.join(', '))}; expected ${shown(names.join(', '))}`);
  }
  return entries;
}

/** Names of entries whose deflated ratio the Receiver would refuse. */
function overRatio(entries: Entry[], limits: Limits): Set<string> {
  const big = entries.filter((e) => e.uncompressedSize > limits.ratioMinBytes && e.uncompressedSize > limits.maxRatio * e.compressedSize);
  return new Set(big.map((e) => e.fileName));
}

/**
 * Write a zip to `path`: a temp name in the same folder, wait for the file's
 * `close` (archiver's finalize() resolves earlier), fsync, rename, fsync the
 * folder. On any failure nothing stays behind, not even the renamed file.
 */
async function writeZipDurable(path: string, sources: Source[], date: Date, maxBytes: number): Promise<number> {
  const temp = tempPath(path);
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
  const archive = archiveFor(0);
  let renamed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      out.on('error', (err) => reject(fsError(err, 'write', path)));
      out.on('close', resolve);
      archive.on('error', (err) => reject(archiverError(err)));
      archive.on('warning', (err) => reject(archiverError(err)));
      archive.pipe(out);
      appendAll(archive, sources, date);
      archive.finalize().catch((err: unknown) => reject(archiverError(err)));
    });
    if (out.bytesWritten > maxBytes) {
      throw invalid(`the zip would be ${out.bytesWritten} bytes; the Receiver takes at most ${maxBytes}: make smaller batches`);
    }
    await fsyncFile(temp);
    try {
      await rename(temp, path);
    } catch (err) {
      throw fsError(err, 'rename into place', path);
    }
    renamed = true;
    await fsyncDir(dirname(path));
    return out.bytesWritten;
  } catch (err) {
    archive.abort().destroy();
    if (!out.closed) {
      await new Promise<void>((resolve) => out.destroy().once('close', () => resolve()));
    }
    // The first error is the one to report; a leftover temp is swept at the next start.
    await unlink(renamed ? path : temp).catch(() => undefined);
    throw err;
  }
}
