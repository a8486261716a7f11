/**
 * Collect (SPEC §1 step 2, DESIGN.md "Collect"): every `.str` in
 * `entmergedir` moves durably to `entpushdir`. A `.str` changed within
 * `stableMs` is probably still being written and waits. A name that already
 * exists in `entpushdir` with the same bytes is the trace of an interrupted
 * move: the source goes; with other bytes it waits. Anything else is left
 * where it is and reported.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_LIMITS,
  checkStrName,
  crashPoint,
  errnoCode,
  fsError,
  fsyncDirs,
  isZenrollError,
  moveDurable,
  removeDurable,
  messageOf,
} from '@zenroll/core';
import { sameBytes } from './digest.js';
import type { LeftItem } from './events.js';
import { isStrName } from './plan.js';

export interface CollectOptions {
  from: string;
  to: string;
  stableMs: number;
  now: () => number;
}

export interface CollectResult {
  moved: string[];
  /** Same name and bytes were already in entpushdir: the source was removed. */
  duplicates: string[];
  waiting: LeftItem[];
  ignored: LeftItem[];
}

/** Why a `.str` cannot go into a zip as it is, or null. */
function unpackable(name: string, size: number): string | null {
  try {
    checkStrName(name);
  } catch (err) {
    return messageOf(err);
  }
  if (size > DEFAULT_LIMITS.maxStrBytes) return `it is ${size} bytes; a Receiver takes .str files up to ${DEFAULT_LIMITS.maxStrBytes}`;
  return null;
}

export async function collect(opts: CollectOptions): Promise<CollectResult> {
  const out: CollectResult = { moved: [], duplicates: [], waiting: [], ignored: [] };
  let entries;
  try {
    entries = await readdir(opts.from, { withFileTypes: true });
  } catch (err) {
    throw fsError(err, 'list', opts.from);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // The renames are fsynced once per folder at the end, not twice per .str
  // (0.75 ms each, 3.8 s for 5,000 in the bench): a crash before that leaves
  // each .str in one folder or the other, and the roll-up has relied on none yet.
  const syncLater = new Set<string>();
  try {
    await moveAll(opts, entries, out, syncLater);
  } catch (err) {
    await fsyncDirs(syncLater).catch(() => undefined);
    throw err;
  }
  await fsyncDirs(syncLater);
  return out;
}

/** How many `.str` are looked at and moved at once (each is a few thread-pool round trips). */
const LANES = 4;

type Outcome = { to: 'moved' | 'duplicates'; name: string } | { to: 'waiting' | 'ignored'; item: LeftItem } | null;

/**
 * Move the entries, LANES at a time; the result lists stay in name order.
 * On a failure the lanes stop taking entries and the first failure in name
 * order is thrown, as if they had been moved one by one.
 */
async function moveAll(opts: CollectOptions, entries: Dirent[], out: CollectResult, syncLater: Set<string>): Promise<void> {
  const outcomes: Outcome[] = new Array<Outcome>(entries.length).fill(null);
  const failures: [number, unknown][] = [];
  let next = 0;
  const lane = async () => {
    while (failures.length === 0 && next < entries.length) {
      const i = next++;
      const entry = entries[i];
      if (entry === undefined) break;
      try {
        outcomes[i] = await collectOne(opts, entry, syncLater);
      } catch (err) {
        failures.push([i, err]);
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  for (const o of outcomes) {
    if (o === null) continue;
    if ('name' in o) out[o.to].push(o.name);
    else out[o.to].push(o.item);
  }
  if (failures.length > 0) throw failures.sort((a, b) => a[0] - b[0])[0]?.[1];
}

async function collectOne(opts: CollectOptions, entry: Dirent, syncLater: Set<string>): Promise<Outcome> {
  const name = entry.name;
  if (!entry.isFile() || !isStrName(name)) {
    if (entry.isDirectory()) return null;
    return { to: 'ignored', item: { kind: 'str', name, reason: entry.isFile() ? 'not a .str file' : 'not a regular file' } };
  }
  const src = join(opts.from, name);
  let st;
  try {
    st = await lstat(src);
  } catch (err) {
    // Taken away between the listing and now (by its scanner, say): not ours any more.
    if (errnoCode(err) === 'ENOENT') return null;
    throw fsError(err, 'look at', src);
  }
  const bad = unpackable(name, st.size);
  if (bad !== null) return { to: 'ignored', item: { kind: 'str', name, reason: bad } };
  const age = opts.now() - st.mtimeMs;
  // A file is being written when it changed just now; a future mtime more
  // than stableMs ahead is a skewed clock, not a writer.
  if (Math.abs(age) < opts.stableMs) {
    return {
      to: 'waiting',
      item: { kind: 'str', name, reason: `changed ${Math.round(Math.abs(age))} ms ago; waits until unchanged for ${opts.stableMs} ms` },
    };
  }
  const dest = join(opts.to, name);
  try {
    // Within one file system the move is one rename, and the crash point is never reached.
    await moveDurable(src, dest, { afterCopy: () => crashPoint('collect-after-copy'), syncLater });
    return { to: 'moved', name };
  } catch (err) {
    if (!isZenrollError(err) || err.details.errno !== 'EEXIST') throw err;
    if (await sameBytes(src, dest)) {
      await removeDurable(src);
      return { to: 'duplicates', name };
    }
    return {
      to: 'waiting',
      item: { kind: 'str', name, reason: 'a different file of this name is still in entpushdir; it waits until that one is zipped' },
    };
  }
}
