/** The read step: what entpushdir holds right now. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, fsError, isTempName } from '@zenroll/core';
import { sortPushdir, type PushdirContents, type StrEntry } from './plan.js';

export async function listDir(dir: string): Promise<{ name: string; isFile: boolean }[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).map((e) => ({ name: e.name, isFile: e.isFile() }));
  } catch (err) {
    throw fsError(err, 'list', dir);
  }
}

/** Like listDir, but null when the folder does not exist. */
export async function listDirIfExists(dir: string): Promise<{ name: string; isFile: boolean }[] | null> {
  try {
    return (await readdir(dir, { withFileTypes: true })).map((e) => ({ name: e.name, isFile: e.isFile() }));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw fsError(err, 'list', dir);
  }
}

export async function readPushdir(dir: string): Promise<PushdirContents> {
  return sortPushdir(await listDir(dir), isTempName);
}

/** The `.str` with their mtimes, for the arrival order. */
export async function statStrs(dir: string, names: readonly string[]): Promise<StrEntry[]> {
  const out: StrEntry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      out.push({ name, mtimeMs: (await lstat(path)).mtimeMs });
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'look at', path);
    }
  }
  return out;
}
