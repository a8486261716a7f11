/**
 * Durable file operations (STYLE.md "Durability"): every file another step
 * trusts is written under a temporary name in its final folder, fsynced,
 * renamed, and the folder fsynced, so a reader never sees a partial file and
 * a crash leaves either the old state or the new one (plus a temp to sweep).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, rename, statfs, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoCode, fsError, shown, ZenrollError } from './errors.js';

// A leading dot and a `.tmp` suffix: scanners that list `*.zip` or `*.str`
// never pick up a file that is still being written.
const TEMP_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** A fresh temporary name in the folder of `finalPath`. */
export function tempPath(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Whether a file name (or path) is one `tempPath` makes. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(basename(name));
}

/** Flush a folder's entries (a rename, a new or removed name) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some file systems (CIFS, some FUSE) cannot sync a folder at all; they
    // say EINVAL, and there is nothing better to do than carry on.
    if (errnoCode(err) !== 'EINVAL') throw fsError(err, 'sync the folder', dir);
  } finally {
    await handle?.close();
  }
}

/** fsyncDir each of `dirs`, once each. */
export async function fsyncDirs(dirs: Iterable<string>): Promise<void> {
  for (const dir of new Set(dirs)) await fsyncDir(dir);
}

/** Flush a file's content to disk. */
export async function fsyncFile(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (err) {
    throw fsError(err, 'sync', path);
  } finally {
    await handle?.close();
  }
}

// Cleanup after a failure: the first error is the one worth reporting, and a
// temp left behind anyway is removed by sweepTemps at the next start.
async function discard(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Whether anything is at `path` (a dangling symlink too); an error other than
 * ENOENT is thrown. Not fs-extra's pathExists, which follows symlinks and
 * answers false for any error: this one guards durable moves and copies
 * against replacing a file, where "cannot look" must not read as "free".
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw fsError(err, 'look at', path);
  }
}

/**
 * The first of `candidate(1)`, `candidate(2)`, … that is free in `dir`, with
 * no `<name>.json` beside it either: for a file set aside with its reason.
 */
export async function freeNameWithReason(dir: string, candidate: (n: number) => string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = candidate(n);
    if (!(await pathExists(join(dir, name))) && !(await pathExists(join(dir, `${name}.json`)))) return name;
  }
}

function alreadyExists(action: string, dest: string): ZenrollError {
  return new ZenrollError('FS_FAILED', `cannot ${action} to ${shown(dest, 200)}: it already exists`, {
    details: { errno: 'EEXIST', path: dest },
  });
}

export interface WriteOptions {
  /** File mode of a new file (before the umask); default 0o666. */
  mode?: number;
}

/** Write `data` to `path` atomically and durably, replacing any old file. */
export async function writeFileDurable(path: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const temp = tempPath(path);
  let handle;
  try {
    handle = await open(temp, 'wx', opts.mode ?? 0o666);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await discard(temp);
    throw fsError(err, 'write', path);
  }
  await fsyncDir(dirname(path));
}

export interface PlaceOptions {
  /** Replace an existing `dest`; without it an existing `dest` is FS_FAILED with errno EEXIST. */
  overwrite?: boolean;
  /** Take the copy path even on one file system (lets tests exercise the EXDEV branch). */
  forceCopy?: boolean;
  /** moveDurable across file systems: called once the copy is in place, before src is removed (a crash point). */
  afterCopy?: () => void;
  /**
   * moveDurable within one file system: add both folders to this set instead
   * of fsyncing them, for a caller that moves many files and then fsyncs each
   * folder once (`fsyncDirs`). Until then a crash may undo some renames, never
   * half-do one. A move across file systems still fsyncs at once: its source
   * may only go once the copy is durable.
   */
  syncLater?: Set<string>;
}

// Copy into a temp beside dest, fsync, rename into place, fsync dest's folder.
async function copyIntoPlace(src: string, dest: string): Promise<void> {
  const temp = tempPath(dest);
  try {
    await copyFile(src, temp, constants.COPYFILE_EXCL);
    await fsyncFile(temp);
    await rename(temp, dest);
  } catch (err) {
    await discard(temp);
    throw fsError(err, `copy ${shown(src, 200)} to`, dest);
  }
  await fsyncDir(dirname(dest));
}

/**
 * Move a file. On one file system: rename, then fsync both folders. Across
 * file systems (EXDEV): copy to a temp in dest's folder, fsync, rename, fsync
 * the folder, and only then remove src and fsync its folder, so a crash
 * leaves at worst two copies, never none.
 *
 * Without `overwrite` the existence check and the rename are two steps: one
 * zenroll process owns a folder at a time (its lock), so nothing races them.
 */
export async function moveDurable(src: string, dest: string, opts: PlaceOptions = {}): Promise<void> {
  if (opts.overwrite !== true && (await pathExists(dest))) throw alreadyExists(`move ${shown(src, 200)}`, dest);
  if (opts.forceCopy !== true) {
    try {
      await rename(src, dest);
      if (opts.syncLater !== undefined) {
        opts.syncLater.add(resolve(dirname(dest))).add(resolve(dirname(src)));
        return;
      }
      await fsyncDir(dirname(dest));
      if (resolve(dirname(src)) !== resolve(dirname(dest))) await fsyncDir(dirname(src));
      return;
    } catch (err) {
      if (errnoCode(err) !== 'EXDEV') throw fsError(err, `move ${shown(src, 200)} to`, dest);
    }
  }
  await copyIntoPlace(src, dest);
  opts.afterCopy?.();
  await removeDurable(src);
}

/** Copy a file so that dest appears whole or not at all (the Receiver puts one zip into two folders). */
export async function copyDurable(src: string, dest: string, opts: Pick<PlaceOptions, 'overwrite'> = {}): Promise<void> {
  if (opts.overwrite !== true && (await pathExists(dest))) throw alreadyExists(`copy ${shown(src, 200)}`, dest);
  await copyIntoPlace(src, dest);
}

// Hard links are refused across file systems (EXDEV), on file systems
// without them (EPERM, ENOTSUP) and past the link limit (EMLINK): copy then.
const LINK_FALLBACK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK']);

/** Hard-link src at dest when possible (then fsync the folder), else copyDurable. */
export async function linkOrCopyDurable(src: string, dest: string, opts: PlaceOptions = {}): Promise<void> {
  if (opts.overwrite !== true && (await pathExists(dest))) throw alreadyExists(`link ${shown(src, 200)}`, dest);
  if (opts.forceCopy !== true) {
    // Linked under a temp name and renamed, so that `overwrite` replaces dest atomically.
    const temp = tempPath(dest);
    try {
      await link(src, temp);
      await rename(temp, dest);
      await fsyncDir(dirname(dest));
      return;
    } catch (err) {
      await discard(temp);
      const errno = errnoCode(err);
      if (errno === undefined || !LINK_FALLBACK.has(errno)) throw fsError(err, `link ${shown(src, 200)} to`, dest);
    }
  }
  await copyIntoPlace(src, dest);
}

/** Remove a file and fsync its folder. Returns false when it was already gone. */
export async function removeDurable(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw fsError(err, 'remove', path);
  }
  await fsyncDir(dirname(path));
  return true;
}

export interface RemoveManyOptions {
  /** Called after the first file is unlinked, before any folder is fsynced (a crash point). */
  afterFirst?: () => void;
}

/**
 * Remove several files, then fsync each of their folders once: one folder
 * fsync for a batch of `.str` instead of one per file. Until the fsync a
 * crash may bring back any of the names, so a caller that needs them gone
 * keeps a durable record of what it removes (the pack intent does). Returns,
 * per path, false when it was already gone. Stops at the first other error,
 * having fsynced the folders of what it removed so far.
 */
export async function removeManyDurable(paths: readonly string[], opts: RemoveManyOptions = {}): Promise<boolean[]> {
  const removed: boolean[] = [];
  const dirs = new Set<string>();
  try {
    for (const path of paths) {
      try {
        await unlink(path);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'remove', path);
        removed.push(false);
        continue;
      }
      removed.push(true);
      const first = dirs.size === 0;
      dirs.add(dirname(path));
      if (first) opts.afterFirst?.();
    }
  } finally {
    for (const dir of dirs) await fsyncDir(dir);
  }
  return removed;
}

export interface FreeSpace {
  /** Bytes an unprivileged process may still write. */
  availableBytes: number;
  totalBytes: number;
}

/** The free and total space of the file system holding `dir`. */
export async function freeSpace(dir: string): Promise<FreeSpace> {
  try {
    const s = await statfs(dir);
    return { availableBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch (err) {
    throw fsError(err, 'measure the free space of', dir);
  }
}

export interface SweepOptions {
  /** Keep temps younger than this (another process may still be writing them); default 0. */
  olderThanMs?: number;
  now?: () => number;
}

/** Remove the temps a crash left in `dir` (recovery at startup); returns the paths removed. */
export async function sweepTemps(dir: string, opts: SweepOptions = {}): Promise<string[]> {
  const cutoff = (opts.now ?? Date.now)() - (opts.olderThanMs ?? 0);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw fsError(err, 'list', dir);
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !isTempName(entry.name)) continue;
    const path = join(dir, entry.name);
    try {
      if ((opts.olderThanMs ?? 0) > 0 && (await lstat(path)).mtimeMs > cutoff) continue;
      await unlink(path);
      removed.push(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'remove the leftover temp', path);
    }
  }
  if (removed.length > 0) await fsyncDir(dir);
  return removed.sort();
}

/**
 * Create `dir` and its missing parents, durably: each new folder's name
 * lives in its parent, so every parent from the first created folder down
 * is fsynced (fs-extra's ensureDir does not; the CLI uses that one for
 * folders that hold nothing yet).
 */
export async function ensureDir(dir: string): Promise<void> {
  const target = resolve(dir);
  let first: string | undefined;
  try {
    first = await mkdir(target, { recursive: true });
  } catch (err) {
    throw fsError(err, 'create the folder', target);
  }
  if (first === undefined) return;
  const top = resolve(first);
  for (let d = target; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === top || dirname(d) === d) break;
  }
}
