/**
 * Pack one batch of .str files into an outer zip (SPEC §3): the inner zip
 * (deflated .str under their base names) and the signed .prp, both stored.
 * A batch is at most 50 files, so it is held in memory once; archiver makes
 * both zips (ziparchive.ts), the outer one put in place durably (STYLE.md).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathExists, removeDurable } from './durable.js';
import { ZenrollError, errnoCode, shown, messageOf } from './errors.js';
import { formatOuterName, innerZipName, prpName } from './names.js';
import { MAX_FILES, checkStrName, foldedName, signPrp, type PrpFile } from './prp.js';
import { DEFAULT_LIMITS, type Limits } from './zipcheck.js';
import { innerZip, storedZipBytes, writeStoredZipDurable, type ArchiveEntry } from './ziparchive.js';

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

/**
 * How many batches one Sender packs at once (sender pack-all.ts): archiver
 * deflates one archive's entries one after another, on one core, so that
 * a few batches in flight keep the others busy (docs/PERFORMANCE.md, packing).
 */
export const PACK_LANES = 2;

/** How many .str are read at once. */
const READ_LANES = 4;

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
  for (const path of opts.files) {
    const name = basename(path);
    try {
      checkStrName(name);
    } catch (cause) {
      throw invalid(messageOf(cause), cause, { path, problem: 'name' });
    }
    // The Receiver refuses longer entry names (zipcheck.ts).
    const bytes = Buffer.byteLength(name);
    if (bytes > limits.maxNameLength) {
      throw invalid(`.str name ${shown(name)} is ${bytes} bytes; the Receiver takes names up to ${limits.maxNameLength}`, undefined, {
        path,
        problem: 'name',
      });
    }
  }
  // Letter case aside: the names would collide on a case-insensitive file system.
  const folded = names.map(foldedName);
  const dupeAt = folded.findIndex((f, i) => folded.indexOf(f) !== i);
  const dupePath = opts.files[dupeAt];
  if (dupePath !== undefined) {
    throw invalid(
      `two files of the batch are named ${shown(names[dupeAt])} (letter case aside); an inner zip holds each name once`,
      undefined,
      {
        path: dupePath,
        problem: 'same-name',
      },
    );
  }
  const name = formatOuterName({ scheduledtime: opts.scheduledtime, server: opts.server, tree: opts.tree, status: opts.status });
  const path = join(opts.outDir, name);
  if (await pathExists(path)) throw invalid(`${shown(path, 200)} already exists; a scheduled time is used once per server`);

  const { files, entries } = await readAll(opts.files, names, limits.maxStrBytes);
  // The inner zip is made while onRead runs (the Sender's intent); nothing is written before both are done.
  const making = innerZip(entries, level, created, limits);
  making.catch(() => undefined); // awaited below, after onRead
  try {
    await opts.onRead?.(files);
  } finally {
    await making.catch(() => undefined);
  }
  const zip = await making;
  entries.length = 0; // the .str data is in the inner zip now; let it go
  const inner = { name: innerZipName(opts.scheduledtime, opts.server), size: zip.length, sha256: sha256(zip) };
  const prp = Buffer.from(
    signPrp(
      {
        scheduledtime: opts.scheduledtime,
        server: opts.server,
        tree: opts.tree,
        created: created.toISOString(),
        inner,
        files,
        extra: opts.extra ?? [],
      },
      opts.keys.privateKey,
      opts.keys.publicKey,
    ),
    'utf8',
  );
  const outer = [
    { name: inner.name, data: zip },
    { name: prpName(opts.scheduledtime, opts.server), data: prp },
  ];
  // A zip too large is not written at all; its size is checked again once written.
  const expected = storedZipBytes(outer);
  if (expected > limits.maxZipBytes) throw tooLarge(expected, limits);
  const bytes = await writeStoredZipDurable(path, outer, created);
  if (bytes > limits.maxZipBytes) {
    await removeDurable(path);
    throw tooLarge(bytes, limits);
  }
  return { name, path, bytes, files, inner };
}

function tooLarge(bytes: number, limits: Limits): ZenrollError {
  return invalid(`the zip would be ${bytes} bytes; the Receiver takes at most ${limits.maxZipBytes}: make smaller batches`);
}

/**
 * Read and hash every .str of the batch, READ_LANES at a time. On a failure
 * the error is that of the first failing file in batch order, as if they
 * had been read one by one.
 */
async function readAll(paths: string[], names: string[], maxBytes: number): Promise<{ files: PrpFile[]; entries: ArchiveEntry[] }> {
  const files: PrpFile[] = new Array<PrpFile>(paths.length);
  const entries: ArchiveEntry[] = new Array<ArchiveEntry>(paths.length);
  const failures: [number, unknown][] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (failures.length === 0 && next < paths.length) {
      const i = next++;
      const path = paths[i];
      const name = names[i];
      if (path === undefined || name === undefined) break;
      try {
        const data = await readSource(path, maxBytes);
        files[i] = { name, size: data.length, sha256: sha256(data) };
        entries[i] = { name, data };
      } catch (err) {
        failures.push([i, err]);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_LANES, paths.length) }, lane));
  if (failures.length > 0) throw failures.sort((a, b) => a[0] - b[0])[0]?.[1];
  return { files, entries };
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
      throw invalid(`${shown(file, 200)} is ${size} bytes; the Receiver takes .str files up to ${maxBytes}`, undefined, {
        path: file,
        problem: 'too-large',
      });
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
