/**
 * The plan of a roll-up (STYLE.md "read, plan, apply"): pure functions over
 * what the read step found. No fs, no net, no clock.
 */
import {
  MAX_FILES,
  ZenrollError,
  checkStrName,
  compareOuterNames,
  foldedName,
  parseOuterName,
  parseScheduledTime,
  messageOf,
} from '@zenroll/core';

/** A `.str` as the read step saw it. */
export interface StrEntry {
  name: string;
  mtimeMs: number;
}

/** Whether a file name is a scan file: a `.str` suffix in any case (scanners on Windows write `.STR`). */
export function isStrName(name: string): boolean {
  return /\.str$/i.test(name) && !name.startsWith('.');
}

/** Arrival order (SPEC §1 via the issue): oldest mtime first, then by name. */
export function compareArrival(a: StrEntry, b: StrEntry): number {
  if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Batches of at most `batchSize` `.str` (and never more than 50, SPEC §1), in
 * arrival order: the oldest scans travel in the oldest zip. Two names that
 * are equal letter case aside (`A.str`, `a.str`) never share a batch, since
 * an inner zip unpacked on a case-insensitive file system could not hold
 * both: each `.str` goes into the first batch with room and without its
 * name, so the second one travels in a later zip.
 */
export function planBatches<T extends StrEntry>(files: readonly T[], batchSize: number): T[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ZenrollError('INTERNAL', `batch size ${batchSize} is not a whole number from 1 to ${MAX_FILES}`);
  }
  const size = Math.min(batchSize, MAX_FILES);
  type Batch = { files: T[]; names: Set<string> };
  const batches: Batch[] = [];
  // Batches before `open` are full; only a name collision leaves room behind it.
  let open = 0;
  for (const file of [...files].sort(compareArrival)) {
    const name = foldedName(file.name);
    let target: Batch | undefined;
    for (let i = open; i < batches.length && target === undefined; i++) {
      const b = batches[i];
      if (b !== undefined && b.files.length < size && !b.names.has(name)) target = b;
    }
    if (target === undefined) {
      target = { files: [], names: new Set() };
      batches.push(target);
    }
    target.files.push(file);
    target.names.add(name);
    while ((batches[open]?.files.length ?? 0) >= size) open++;
  }
  return batches.map((b) => b.files);
}

/** Send order (SPEC §1): oldest scheduled time first, then by name. */
export function sendOrder(zips: readonly string[]): string[] {
  return [...zips].sort(compareOuterNames);
}

export interface DiscardPlan {
  /** Created before the discard time: deleted without being sent, in send order. */
  discard: string[];
  /** Everything else, in send order. */
  keep: string[];
}

/**
 * Which zips were created before the parent's discard scan data time (SPEC §1
 * step 3), judged by the scheduled time in the name. A zip created exactly at
 * the discard time is kept: only "before" is discarded.
 */
export function planDiscard(zips: readonly string[], discardBeforeMs: number | null): DiscardPlan {
  const plan: DiscardPlan = { discard: [], keep: [] };
  for (const zip of sendOrder(zips)) {
    const created = parseScheduledTime(parseOuterName(zip).scheduledtime);
    if (discardBeforeMs !== null && created < discardBeforeMs) plan.discard.push(zip);
    else plan.keep.push(zip);
  }
  return plan;
}

/** A folder entry as the read step saw it. */
export interface DirEntry {
  name: string;
  isFile: boolean;
}

export interface PushdirContents {
  /** Valid outer zip names (SPEC §3). */
  zips: string[];
  /** `.str` names (only a role that zips its own scans packs them). */
  strs: string[];
  /** `.zip` files whose name is not a valid outer name, `.str` no zip may hold: never sent, reported. */
  invalid: { name: string; reason: string }[];
}

/** Sort what `entpushdir` holds into zips to send, `.str` to pack and names to report. */
export function sortPushdir(entries: readonly DirEntry[], isTemp: (name: string) => boolean): PushdirContents {
  const out: PushdirContents = { zips: [], strs: [], invalid: [] };
  for (const { name, isFile } of entries) {
    if (!isFile || isTemp(name)) continue;
    if (isStrName(name)) {
      try {
        checkStrName(name);
        out.strs.push(name);
      } catch (err) {
        out.invalid.push({ name, reason: messageOf(err) });
      }
    } else if (name.toLowerCase().endsWith('.zip')) {
      try {
        parseOuterName(name);
        out.zips.push(name);
      } catch (err) {
        out.invalid.push({ name, reason: messageOf(err) });
      }
    }
  }
  out.zips = sendOrder(out.zips);
  out.strs.sort();
  out.invalid.sort((a, b) => (a.name < b.name ? -1 : 1));
  return out;
}
