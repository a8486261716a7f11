/**
 * Pack one batch of .str files into an outer zip (SPEC §3): the inner zip
 * (deflated .str under their base names) and the signed .prp, both stored.
 * A batch is at most 50 files, so it is held in memory once. Every .str is
 * deflated by one zlib call of its own, so the batch's entries compress at
 * the same time on the thread pool (both cores); zipwrite.ts lays out the
 * zips; the outer zip is put in place durably (STYLE.md).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';
import { fsyncDir, pathExists, tempPath } from './durable.js';
import { ZenrollError, errnoCode, fsError, shown } from './errors.js';
import { formatOuterName, innerZipName, prpName } from './names.js';
import { MAX_FILES, checkStrName, foldedName, signPrp, type PrpFile } from './prp.js';
import { DEFAULT_LIMITS, type Limits } from './zipcheck.js';
import { chooseEntry, partsLength, zipParts, type ZipEntry } from './zipwrite.js';

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
  /**
   * Called once every .str is read and hashed, before anything is written,
   * with what the .prp will list (e.g. for the Sender's crash intent). If it
   * throws, packBatch throws that error and writes nothing.
   */
  onRead?: (files: PrpFile[]) => Promise<void>;
}

export interface PackResult {
  name: string;
  path: string;
  bytes: number;
  files: PrpFile[];
  inner: { name: string; size: number; sha256: string };
}


/** How many .str are read at once; their deflates run on the thread pool meanwhile. */
const READ_LANES = 4;
const deflateRawAsync = promisify(deflateRaw);

/**
 * Why a batch cannot be packed as it is. When one `.str` is to blame,
 * `details.path` names it and `details.problem` says whether it can never
 * go into a zip (`name`, `too-large`) or only not beside another of the
 * batch (`same-name`), so that a caller can pack the rest. (A source that
 * cannot be read is PACK_SOURCE_UNREADABLE, with its path too.)
 */
export type PackProblem = 'name' | 'too-large' | 'same-name';

function invalid(message: string, cause?: unknown, blame?: { path: string; problem: PackProblem }): ZenrollError {
  return new ZenrollError('PACK_INPUT_INVALID', message, { cause, ...(blame === undefined ? {} : { details: blame }) });
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
  for (const [i, name] of names.entries()) {
    const path = opts.files[i] as string;
    try {
      checkStrName(name);
    } catch (cause) {
      throw invalid((cause as Error).message, cause, { path, problem: 'name' });
    }
    // The Receiver refuses longer entry names (zipcheck.ts).
    const bytes = Buffer.byteLength(name);
    if (bytes > limits.maxNameLength) {
      throw invalid(`.str name ${shown(name)} is ${bytes} bytes; the Receiver takes names up to ${limits.maxNameLength}`, undefined, { path, problem: 'name' });
    }
  }
  // Letter case aside: the names would collide on a case-insensitive file system.
  const folded = names.map(foldedName);
  const dupeAt = names.findIndex((_, i) => folded.indexOf(folded[i] as string) !== i);
  if (dupeAt !== -1) {
    throw invalid(`two files of the batch are named ${shown(names[dupeAt])} (letter case aside); an inner zip holds each name once`, undefined, {
      path: opts.files[dupeAt] as string,
      problem: 'same-name',
    });
  }
  const name = formatOuterName({ scheduledtime: opts.scheduledtime, server: opts.server, tree: opts.tree, status: opts.status });
  const path = join(opts.outDir, name);
  if (await pathExists(path)) throw invalid(`${shown(path, 200)} already exists; a scheduled time is used once per server`);

  const { files, entries } = await readAndDeflate(opts.files, names, level, limits, opts.onRead);
  const innerZip = Buffer.concat(zipParts(entries, created));
  entries.length = 0; // the .str data is in innerZip now; let it go
  const inner = { name: innerZipName(opts.scheduledtime, opts.server), size: innerZip.length, sha256: sha256(innerZip) };
  const prp = Buffer.from(
    signPrp(
      { scheduledtime: opts.scheduledtime, server: opts.server, tree: opts.tree, created: created.toISOString(), inner, files, extra: opts.extra ?? [] },
      opts.keys.privateKey,
      opts.keys.publicKey,
    ),
    'utf8',
  );
  const outer = zipParts(
    [
      { name: inner.name, method: 0, data: innerZip, crc32: crc32(innerZip), size: innerZip.length },
      { name: prpName(opts.scheduledtime, opts.server), method: 0, data: prp, crc32: crc32(prp), size: prp.length },
    ],
    created,
  );
  const bytes = partsLength(outer);
  if (bytes > limits.maxZipBytes) {
    throw invalid(`the zip would be ${bytes} bytes; the Receiver takes at most ${limits.maxZipBytes}: make smaller batches`);
  }
  await writeDurable(path, outer);
  return { name, path, bytes, files, inner };
}

/**
 * Read, hash and deflate every .str of the batch: READ_LANES reads at a
 * time, each .str's deflate started as soon as it is read, `onRead` once all
 * are read and hashed (the deflates go on meanwhile). On a failure nothing
 * is left running, and the error is that of the first failing file in batch
 * order, as if they had been read one by one.
 */
async function readAndDeflate(
  paths: string[],
  names: string[],
  level: number,
  limits: Limits,
  onRead: PackOptions['onRead'],
): Promise<{ files: PrpFile[]; entries: ZipEntry[] }> {
  const files: PrpFile[] = new Array<PrpFile>(paths.length);
  const pending: Promise<ZipEntry>[] = new Array<Promise<ZipEntry>>(paths.length);
  const failures: [number, unknown][] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (failures.length === 0 && next < paths.length) {
      const i = next++;
      try {
        const content = await readSource(paths[i] as string, limits.maxStrBytes);
        const crc = crc32(content);
        files[i] = { name: names[i] as string, size: content.length, sha256: sha256(content) };
        pending[i] = deflateEntry(names[i] as string, content, crc, level, limits);
        // Settled later, all together; this keeps a failure meanwhile from being unhandled.
        pending[i].catch(() => undefined);
      } catch (err) {
        failures.push([i, err]);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_LANES, paths.length) }, lane));
  try {
    if (failures.length > 0) throw failures.sort((a, b) => a[0] - b[0])[0]?.[1];
    await onRead?.(files);
    return { files, entries: await Promise.all(pending) };
  } finally {
    await Promise.allSettled(pending.filter((p) => p !== undefined));
  }
}

async function deflateEntry(name: string, content: Buffer, crc: number, level: number, limits: Limits): Promise<ZipEntry> {
  if (level === 0) return chooseEntry(name, content, undefined, limits, crc);
  let deflated: Buffer;
  try {
    // One thread-pool job for a typical .str: an output chunk about as large as what it deflates to.
    // memLevel 9 (zlib's default is 8): a larger hash table, ~8 % less CPU per MB at
    // level 6 on .str text for the same size (docs/PERFORMANCE.md, packing), 384 KB of
    // zlib state per deflate running instead of 256.
    deflated = await deflateRawAsync(content, { level, memLevel: 9, chunkSize: Math.min(Math.max(content.length >>> 2, 16 * 1024), 1024 * 1024) });
  } catch (err) {
    throw new ZenrollError('PACK_FAILED', `cannot deflate ${shown(name)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return chooseEntry(name, content, deflated, limits, crc);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Read a whole .str; one that vanished or cannot be read fails the batch, never silently drops out of it. */
async function readSource(file: string, maxBytes: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
    const { size } = await fh.stat();
    if (size > maxBytes) {
      throw invalid(`${shown(file, 200)} is ${size} bytes; the Receiver takes .str files up to ${maxBytes}`, undefined, { path: file, problem: 'too-large' });
    }
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

/**
 * Write the zip's parts to `path`: a temp name in the same folder, write,
 * fsync, rename, fsync the folder. On any failure nothing stays behind, not
 * even the renamed file.
 */
async function writeDurable(path: string, parts: Buffer[]): Promise<void> {
  const temp = tempPath(path);
  let fh: FileHandle | undefined;
  let renamed = false;
  try {
    try {
      fh = await open(temp, 'wx', 0o644);
      // The small parts in one write; the inner zip, most of the bytes, as it is.
      for (const part of coalesce(parts)) await writeAll(fh, part);
      await fh.sync();
      await fh.close();
      fh = undefined;
    } catch (err) {
      throw fsError(err, 'write', path);
    }
    try {
      await rename(temp, path);
    } catch (err) {
      throw fsError(err, 'rename into place', path);
    }
    renamed = true;
    await fsyncDir(dirname(path));
  } catch (err) {
    await fh?.close().catch(() => undefined);
    // The first error is the one to report; a leftover temp is swept at the next start.
    await unlink(renamed ? path : temp).catch(() => undefined);
    throw err;
  }
}

/** Runs of small buffers joined, so that a zip goes out in a few writes. */
function coalesce(parts: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let run: Buffer[] = [];
  for (const p of parts) {
    if (p.length < 64 * 1024) {
      run.push(p);
      continue;
    }
    if (run.length > 0) out.push(Buffer.concat(run));
    run = [];
    out.push(p);
  }
  if (run.length > 0) out.push(Buffer.concat(run));
  return out;
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const { bytesWritten } = await fh.write(data, at, data.length - at);
    at += bytesWritten;
  }
}
