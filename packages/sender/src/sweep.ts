/**
 * Temporaries a crash left (DESIGN.md: swept at start-up). entpushdir and
 * statedir are shared: a Receiver of the same server may be writing there
 * right now (it promotes into entpushdir; receipts and the journal live in
 * statedir). So only the temps of names the Sender alone writes are removed
 * at once; in entpushdir, others once they are an hour old.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeName, errnoCode, fsError, fsyncDir, isTempName } from '@zenroll/core';
import { isStrName } from './plan.js';

const FOREIGN_TEMP_MS = 60 * 60 * 1000;

/** The final name a temp stands for: `.<name>.<hex>.tmp` → `<name>`. */
export function tempTarget(temp: string): string {
  return temp.slice(1).replace(/\.[0-9a-f]{12}\.tmp$/, '');
}

/** Remove the temps in `dir` whose final name `ours` claims, and others older than `foreignMs`. */
export async function sweepOwnTemps(
  dir: string,
  ours: (target: string) => boolean,
  now: () => number,
  foreignMs = Infinity,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw fsError(err, 'list', dir);
  }
  const removed: string[] = [];
  for (const name of names.filter(isTempName)) {
    const path = join(dir, name);
    try {
      const st = await lstat(path);
      if (!st.isFile()) continue;
      if (!ours(tempTarget(name)) && !(now() - st.mtimeMs >= foreignMs)) continue;
      await unlink(path);
      removed.push(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'remove the leftover temp', path);
    }
  }
  if (removed.length > 0) await fsyncDir(dir);
  return removed;
}

/** entpushdir: this server's own zips and `.str` are the Sender's alone. */
export function sweepPushdir(dir: string, server: string, now: () => number): Promise<string[]> {
  const own = new RegExp(`^\\d{17}_${encodeName(server).replace(/[.]/g, '\\.')}_`);
  return sweepOwnTemps(dir, (target) => isStrName(target) || own.test(target), now, FOREIGN_TEMP_MS);
}
