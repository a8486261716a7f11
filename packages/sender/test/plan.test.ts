import { describe, expect, it } from 'vitest';
import { formatOuterName, formatScheduledTime } from '@zenroll/core';
import { compareArrival, planBatches, planDiscard, sendOrder, sortPushdir, type StrEntry } from '../src/plan.js';
import { parseRetryAfter, retryDelayMs, retrySchedule } from '../src/backoff.js';
import { verdictOf } from '../src/push.js';

const strs = (n: number): StrEntry[] =>
  Array.from({ length: n }, (_, i) => ({ name: `WS-${String(i).padStart(4, '0')}.str`, mtimeMs: 1_000 + i }));

const zipAt = (ms: number, server = 'LEAF1', status: 0 | 2 = 0) =>
  formatOuterName({ scheduledtime: formatScheduledTime(ms), server, tree: 'ACME', status });

describe('planBatches', () => {
  it.each([
    [1, [1]],
    [49, [49]],
    [50, [50]],
    [51, [50, 1]],
    [500, Array(10).fill(50)],
  ])('%i files make batches of %j', (n, sizes) => {
    const batches = planBatches(strs(n), 50);
    expect(batches.map((b) => b.length)).toEqual(sizes);
    expect(batches.flat().map((f) => f.name)).toEqual(strs(n).map((f) => f.name));
  });

  it('never makes a batch of more than 50, whatever batchSize says', () => {
    expect(planBatches(strs(120), 80).map((b) => b.length)).toEqual([50, 50, 20]);
  });

  it('honours a smaller batchSize', () => {
    expect(planBatches(strs(7), 3).map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('puts the files in arrival order: mtime first, then name', () => {
    const files: StrEntry[] = [
      { name: 'c.str', mtimeMs: 5 },
      { name: 'b.str', mtimeMs: 9 },
      { name: 'a.str', mtimeMs: 9 },
      { name: 'z.str', mtimeMs: 1 },
    ];
    expect(planBatches(files, 2).map((b) => b.map((f) => f.name))).toEqual([
      ['z.str', 'c.str'],
      ['a.str', 'b.str'],
    ]);
    expect([...files].sort(compareArrival).map((f) => f.name)).toEqual(['z.str', 'c.str', 'a.str', 'b.str']);
  });

  it('never puts two names equal letter case aside into one batch: the second goes into a later one', () => {
    // A.str, a.str and 60 others, all of one mtime: arrival order is by name.
    const files: StrEntry[] = [
      { name: 'A.str', mtimeMs: 1 },
      { name: 'a.str', mtimeMs: 1 },
      ...strs(60).map((f) => ({ ...f, mtimeMs: 1 })),
    ];
    const batches = planBatches(files, 50);
    expect(batches.map((b) => b.length)).toEqual([50, 12]);
    const where = (name: string) => batches.findIndex((b) => b.some((f) => f.name === name));
    expect(where('A.str')).toBe(0);
    expect(where('a.str')).toBe(1);
    // Nothing lost or doubled, and each batch is in arrival order.
    expect(
      batches
        .flat()
        .map((f) => f.name)
        .sort(),
    ).toEqual(files.map((f) => f.name).sort());
    for (const b of batches) expect([...b].sort(compareArrival)).toEqual(b);
  });

  it('fills the room a collision left with the next files, and spreads three of one name over three batches', () => {
    const files: StrEntry[] = [
      { name: 'X.STR', mtimeMs: 1 },
      { name: 'x.str', mtimeMs: 2 },
      { name: 'b.str', mtimeMs: 3 },
      { name: 'X.str', mtimeMs: 4 },
      { name: 'c.str', mtimeMs: 5 },
      { name: 'd.str', mtimeMs: 6 },
    ];
    expect(planBatches(files, 2).map((b) => b.map((f) => f.name))).toEqual([
      ['X.STR', 'b.str'],
      ['x.str', 'c.str'],
      ['X.str', 'd.str'],
    ]);
    // Names that differ in more than letter case share a batch as before.
    expect(
      planBatches(
        [
          { name: 'a.str', mtimeMs: 1 },
          { name: 'a.str.str', mtimeMs: 2 },
        ],
        50,
      ),
    ).toHaveLength(1);
  });

  it('makes no batch of no files and refuses a batch size of 0', () => {
    expect(planBatches([], 50)).toEqual([]);
    expect(() => planBatches(strs(3), 0)).toThrow(/batch size 0/);
  });
});

describe('sendOrder', () => {
  it('sends the oldest scheduled time first, then by name', () => {
    const a = zipAt(Date.UTC(2026, 0, 1), 'LEAF2');
    const b = zipAt(Date.UTC(2026, 0, 1), 'LEAF1');
    const c = zipAt(Date.UTC(2025, 11, 31, 23, 59, 59, 999), 'ZED');
    const d = zipAt(Date.UTC(2026, 0, 2), 'AAA');
    expect(sendOrder([d, a, b, c])).toEqual([c, b, a, d]);
  });
});

describe('planDiscard', () => {
  const cut = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
  const before = zipAt(cut - 1);
  const at = zipAt(cut);
  const after = zipAt(cut + 1);
  const old = zipAt(cut - 86_400_000, 'LEAF2', 2);

  it('discards exactly the zips created before the discard time; one created at it stays', () => {
    expect(planDiscard([after, at, before, old], cut)).toEqual({ discard: [old, before], keep: [at, after] });
  });

  it('discards nothing without a discard time', () => {
    expect(planDiscard([after, before], null)).toEqual({ discard: [], keep: [before, after] });
  });
});

describe('sortPushdir', () => {
  it('tells zips to send from .str to pack and from names that are neither', () => {
    const z1 = zipAt(Date.UTC(2026, 0, 2));
    const z0 = zipAt(Date.UTC(2026, 0, 1));
    const entries = [
      { name: z1, isFile: true },
      { name: z0, isFile: true },
      { name: 'WS-2.STR', isFile: true },
      { name: 'WS-1.str', isFile: true },
      { name: 'notes.txt', isFile: true },
      { name: 'zipdir', isFile: false },
      { name: 'garbage.zip', isFile: true },
      { name: `.${z0}.0123456789ab.tmp`, isFile: true },
    ];
    const out = sortPushdir(entries, (n) => n.endsWith('.tmp'));
    expect(out.zips).toEqual([z0, z1]);
    expect(out.strs).toEqual(['WS-1.str', 'WS-2.STR']);
    expect(out.invalid.map((i) => i.name)).toEqual(['garbage.zip']);
    expect(out.invalid[0]?.reason).toMatch(/fields/);
  });
});

describe('the retry schedule (SPEC §1)', () => {
  const policy = { baseMs: 10_000, factor: 2, tries: 14 };

  it('waits 10 s · 2^(k-1) before try k+1: 13 waits for 14 tries, about 22.75 h in all', () => {
    const waits = retrySchedule(policy);
    expect(waits).toEqual(Array.from({ length: 13 }, (_, i) => 10_000 * 2 ** i));
    expect(waits.reduce((a, b) => a + b, 0)).toBe(81_910_000); // 22 h 45 min 10 s
  });

  it('honours a Retry-After only when it is longer', () => {
    expect(retryDelayMs(policy, 3, 5_000)).toBe(40_000);
    expect(retryDelayMs(policy, 3, 90_000)).toBe(90_000);
    expect(retryDelayMs(policy, 3, null)).toBe(40_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});

describe('verdictOf (SPEC §1: the one error table decides)', () => {
  it.each([
    [201, undefined, 'ok'],
    [200, undefined, 'ok'],
    [401, 'PRP_SIGNER_UNKNOWN', 'hold'],
    [403, 'PRP_SIGNER_MISMATCH', 'hold'],
    [403, 'PRP_SIGNATURE_INVALID', 'reject'],
    [409, 'ZIP_CONFLICT', 'reject'],
    [413, 'ZIP_OVER_LIMIT', 'reject'],
    [422, 'ZIP_CRC_MISMATCH', 'reject'],
    [422, 'ZIP_TIME_AHEAD', 'reject'],
    [400, 'NAME_INVALID', 'reject'],
    [400, 'DIGEST_MISMATCH', 'retry'],
    [503, 'BUSY', 'retry'],
    [507, 'FS_NO_SPACE', 'retry'],
    [500, 'INTERNAL', 'retry'],
    [400, 'UPLOAD_INVALID', 'stop'],
    [404, 'NOT_FOUND', 'stop'],
    // A proxy's answer, without a code of ours: the status decides.
    [502, undefined, 'retry'],
    [429, undefined, 'retry'],
    [408, undefined, 'retry'],
    [403, undefined, 'stop'],
    [404, undefined, 'stop'],
    [400, 'SOMETHING_NEW', 'stop'],
  ] as const)('%i %s → %s', (status, code, verdict) => {
    expect(verdictOf(status, code)).toBe(verdict);
  });
});
