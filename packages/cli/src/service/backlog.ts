/** What waits in a server's folders: read at the moment it is asked (status, metrics). */
import { readdir } from 'node:fs/promises';
import { errnoCode, isTempName, type Config } from '@zenroll/core';

export interface Backlog {
  entmergedir: number | null;
  entpushdir: number | null;
  zipdir: number | null;
  rejected: number | null;
  quarantine: number | null;
}

async function count(dir: string | null, suffix: RegExp): Promise<number | null> {
  if (dir === null) return null;
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() && suffix.test(e.name) && !isTempName(e.name)).length;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw err;
  }
}

export async function readBacklog(config: Config): Promise<Backlog> {
  const zip = /\.zip$/i;
  return {
    entmergedir: await count(config.dirs.entmergedir, /\.str$/i),
    entpushdir: await count(config.dirs.entpushdir, zip),
    zipdir: await count(config.dirs.zipdir, zip),
    rejected: await count(config.dirs.rejecteddir, zip),
    quarantine: await count(config.receiver.quarantineDir, zip),
  };
}
