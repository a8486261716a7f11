/**
 * Where the Sender keeps its state, all under `dirs.statedir` (DESIGN.md:
 * a cluster that moves the service to another node moves all of it).
 */
import { join } from 'node:path';
import type { Config } from '@zenroll/core';
import { ZenrollError, ensureDir } from '@zenroll/core';

export interface SenderPaths {
  entmergedir: string | null;
  entpushdir: string;
  rejecteddir: string;
  statedir: string;
  /** `statedir/intents`: one `<batch id>.json` per batch being packed (DESIGN.md "Pack"). */
  intents: string;
  /** `statedir/zip-records`: one `<zip>.json` per zip this Sender made or is finishing: its log records. */
  records: string;
  /** `statedir/sender-clock.json`: the newest scheduled time handed out, so that none repeats once its zip is gone. */
  clock: string;
  /** `statedir/rollup.lock`: held for the whole roll-up, so that two never run on one entpushdir. */
  lock: string;
}

export function senderPaths(config: Config): SenderPaths {
  const { entmergedir, entpushdir, rejecteddir, statedir } = config.dirs;
  if (entpushdir === null || rejecteddir === null) {
    throw new ZenrollError('CONFIG_INVALID', `role ${config.role} has no dirs.entpushdir; a Sender needs one`);
  }
  return {
    entmergedir,
    entpushdir,
    rejecteddir,
    statedir,
    intents: join(statedir, 'intents'),
    records: join(statedir, 'zip-records'),
    clock: join(statedir, 'sender-clock.json'),
    lock: join(statedir, 'rollup.lock'),
  };
}

/** Create the state folders (entpushdir itself must exist: a missing one is a config or mount problem). */
export async function ensureStateDirs(paths: SenderPaths): Promise<void> {
  for (const dir of [paths.statedir, paths.intents, paths.records]) await ensureDir(dir);
}
