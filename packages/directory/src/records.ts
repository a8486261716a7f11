/**
 * Pure rules over log records shared by the journal and the LDAP writer, so
 * that both answer `read` the same way (one contract suite runs on both).
 */
import type { LogWrite, RollupRecord } from '@zenroll/core';

/** A write is the same write when its record has the same id and event (a Sender retrying after a crash). */
export function recordKey(r: Pick<RollupRecord, 'id' | 'event'>): string {
  return `${r.id}\u0000${r.event}`;
}

/** Milliseconds of a record time; an unreadable time sorts as the oldest. */
export function timeMs(time: string): number {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * Oldest first by record time. Equal times keep the given order: the journal's
 * order, or the value order slapd returns (the order values were added in),
 * so records written in one millisecond still read back in write order.
 */
export function oldestFirst<T>(items: readonly T[], timeOf: (item: T) => number): T[] {
  return items
    .map((item, i) => ({ item, i, t: timeOf(item) }))
    .sort((a, b) => (a.t !== b.t ? a.t - b.t : a.i - b.i))
    .map((x) => x.item);
}

export function newestFirst(records: readonly RollupRecord[], limit: number): RollupRecord[] {
  return oldestFirst(records, (r) => timeMs(r.time))
    .reverse()
    .slice(0, Math.max(0, limit));
}

/**
 * Apply writes, in order, to records in stored order: a write replaces the
 * record its `replaces` names (same object, SPEC §7: zipped → sent) and any
 * earlier copy of itself, then goes last.
 */
export function applyWrites(base: readonly RollupRecord[], writes: readonly LogWrite[]): RollupRecord[] {
  const byKey = new Map<string, RollupRecord>();
  for (const r of base) byKey.set(recordKey(r), r);
  for (const { record, replaces } of writes) {
    if (replaces) byKey.delete(recordKey(replaces));
    byKey.delete(recordKey(record));
    byKey.set(recordKey(record), record);
  }
  return [...byKey.values()];
}

/** One attribute value with its record time, for trimming. */
export interface TimedValue {
  value: string;
  time: number;
}

export interface ModifyPlan {
  /** The value to add, or null when it is already there (or would be trimmed at once). */
  add: string | null;
  /** Exact values to delete: the replaced record, then the oldest beyond `keep`. */
  remove: string[];
  /** The values after the modify, oldest first. */
  after: TimedValue[];
}

/**
 * What one modify must do so that the attribute holds `add`, not `replaces`,
 * and at most `keep` values, dropping the oldest. `current` is oldest first.
 * An empty plan (add null, nothing to remove) means the write is already applied.
 */
export function planModify(current: readonly TimedValue[], add: TimedValue, replaces: string | null, keep: number): ModifyPlan {
  const remove: string[] = [];
  let after = current.filter((v) => {
    const drop = replaces !== null && v.value === replaces && v.value !== add.value;
    if (drop) remove.push(v.value);
    return !drop;
  });
  let adding = !after.some((v) => v.value === add.value);
  if (adding) {
    // After the last value that is not newer, so equal times keep write order.
    let at = after.length;
    while (at > 0 && (after[at - 1]?.time ?? 0) > add.time) at--;
    after = [...after.slice(0, at), add, ...after.slice(at)];
  }
  const excess = after.length - keep;
  if (excess > 0) {
    for (const v of after.slice(0, excess)) {
      if (adding && v.value === add.value) adding = false;
      else remove.push(v.value);
    }
    after = after.slice(excess);
  }
  return { add: adding ? add.value : null, remove, after };
}
