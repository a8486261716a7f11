/**
 * Clocks: a leaf whose clock is hours off, or steps back and forth between
 * roll-ups (SPEC §3: names unique per server, back to the right time once
 * the clock is; §1 step 3:
 * discard by the zip's scheduled time), and the service's schedule across
 * midnight, a month and year end, a leap day and DST changes in
 * `sender.timezone` (service/scheduler.ts on node-cron, driven by vitest's
 * fake Date and timers).
 *
 * What fake timers cannot fake: the clock of a `zenroll serve` process (no
 * libfaketime here), the time-zone rules (Intl's ICU data of this Node
 * build, real), and anything that needs real I/O while time is frozen.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyPair, parseOuterName, parseScheduledTime } from '@zenroll/core';
import { startSchedule } from '../src/service/scheduler.js';
import { writeScans } from '@zenroll/testkit';
import { makeLeaf, makePki, startInt, strsInZips, type Pki } from './helpers/fault-setup.js';
import { tempDir } from './helpers/server-dir.js';

const HOUR = 3_600_000;
// The Receiver's limit on zips named ahead (receiver.maxClockSkewMs, tested in
// clock-heals.test.ts) set past the 6 h these leaves are off: what these tests
// watch is the Sender's naming and discard, not the Receiver's refusal.
const SKEW_PAST_6H = 7 * HOUR;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let pki: Pki;
let n = 0;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  tmp = await tempDir('zenroll-faults-clock-');
  pki = await makePki(join(tmp.path, 'pki'));
});
afterEach(async () => {
  vi.useRealTimers();
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await tmp.remove();
});

describe('a leaf whose clock is hours off', () => {
  it('names stay unique while its clock jumps 6 h ahead, 12 h back and 6 h ahead again, and heal to the corrected time; every .str arrives once', async () => {
    const dir = join(tmp.path, `c${++n}`);
    const leafKeys = generateKeyPair();
    // A discard time 12 h back: the round 6 h slow is not discarded (the next test is about discard).
    const int = await startInt(join(dir, 'int'), pki, leafKeys, {
      receiver: { discardBefore: new Date(Date.now() - 12 * HOUR).toISOString(), maxClockSkewMs: SKEW_PAST_6H },
    });
    closers.push(() => int.running.close());
    const leaf = await makeLeaf(join(dir, 'leaf'), {
      parent: int.running.url,
      keys: leafKeys,
      sender: { tls: { ca: pki.ca }, batchSize: 10 },
    });
    const all: string[] = [];
    const rounds: number[][] = [];
    const names: string[] = [];
    const offsets = [6 * HOUR, -6 * HOUR, 6 * HOUR];
    for (const [round, offset] of offsets.entries()) {
      const scans = await writeScans(leaf.config.dirs.entmergedir as string, 25, { seed: 40 + round, startIndex: round * 25 });
      all.push(...scans.sha256);
      const before = Date.now() + offset;
      const r = await leaf.rollup({ clock: () => Date.now() + offset });
      expect(r.discarded).toEqual([]);
      expect(r.sent.map((s) => s.status)).toEqual([201, 201, 201]);
      names.push(...r.zipped.map((z) => z.zip));
      const times = r.zipped.map((z) => parseScheduledTime(parseOuterName(z.zip).scheduledtime));
      // Each round's names carry the time of the clock it ran with (SPEC §3, issue 16: a clock that heals).
      for (const t of times) expect(t).toBeGreaterThanOrEqual(before);
      for (const t of times) expect(t).toBeLessThan(Date.now() + offset + 60_000);
      rounds.push(times);
    }
    // Never twice, whatever the clock did.
    expect(new Set(names).size).toBe(9);
    // After the step back, the names went back with the clock: corrected, not held 12 h ahead.
    expect(Math.max(...(rounds[1] ?? []))).toBeLessThan(Math.min(...(rounds[0] ?? [])));
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual(all.sort());
  });

  it('discard goes by the scheduled time in the name, whatever the clock says now: a leaf 6 h slow discards (and logs) what it stamps before the discard time', async () => {
    const dir = join(tmp.path, `c${++n}`);
    const leafKeys = generateKeyPair();
    const discardBefore = Date.now() - HOUR;
    const int = await startInt(join(dir, 'int'), pki, leafKeys, {
      receiver: { discardBefore: new Date(discardBefore).toISOString(), maxClockSkewMs: SKEW_PAST_6H },
    });
    closers.push(() => int.running.close());
    const slow = await makeLeaf(join(dir, 'slow'), {
      parent: int.running.url,
      keys: leafKeys,
      sender: { tls: { ca: pki.ca }, batchSize: 10 },
    });
    await writeScans(slow.config.dirs.entmergedir as string, 20, { seed: 50 });
    const r = await slow.rollup({ clock: () => Date.now() - 6 * HOUR });
    expect(r.zipped).toHaveLength(2);
    // Each zip is stamped 6 h back, before the discard time: discarded, each with its record, none sent.
    expect(r.zipped.every((z) => parseScheduledTime(parseOuterName(z.zip).scheduledtime) < discardBefore)).toBe(true);
    expect([...r.discarded].sort()).toEqual(r.zipped.map((z) => z.zip).sort());
    expect(slow.log.events().filter((e) => e === 'discarded')).toHaveLength(2);
    expect(r.sent).toEqual([]);

    // The same scans from a leaf 6 h fast: stamped after the discard time, all sent.
    const fast = await makeLeaf(join(dir, 'fast'), {
      parent: int.running.url,
      keys: leafKeys,
      sender: { tls: { ca: pki.ca }, batchSize: 10 },
    });
    const scans = await writeScans(fast.config.dirs.entmergedir as string, 20, { seed: 50 });
    const f = await fast.rollup({ clock: () => Date.now() + 6 * HOUR });
    expect(f.discarded).toEqual([]);
    expect(f.sent.map((s) => s.status)).toEqual([201, 201]);
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual([...scans.sha256].sort());
  });
});

describe('the schedule in sender.timezone (node-cron 4 under fake Date and timers)', () => {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };

  /** The ticks of `expression` in `timezone` over `hours` from `from`, as UTC instants. */
  async function ticks(expression: string, timezone: string, from: string, hours: number): Promise<string[]> {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date(from));
    const at: string[] = [];
    const schedule = startSchedule({
      expression,
      timezone,
      randomizeMinutes: 0,
      logger,
      tick: async () => void at.push(new Date().toISOString()),
    });
    try {
      for (let step = 0; step < hours * 6; step++) await vi.advanceTimersByTimeAsync(10 * 60_000);
    } finally {
      await schedule.stop();
      vi.useRealTimers();
    }
    return at;
  }

  it('runs once a day across midnight, a year end and a leap day', async () => {
    expect(await ticks('0 0 * * *', 'UTC', '2026-12-30T12:00:00Z', 72)).toEqual([
      '2026-12-31T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2027-01-02T00:00:00.000Z',
    ]);
    expect(await ticks('59 23 * * *', 'Pacific/Kiritimati', '2028-02-27T00:00:00Z', 96)).toEqual([
      '2028-02-27T09:59:00.000Z',
      '2028-02-28T09:59:00.000Z',
      '2028-02-29T09:59:00.000Z',
      '2028-03-01T09:59:00.000Z',
    ]);
    // Midnight in New York, across the night the clocks go back: still 24 h of local time apart, once a day.
    expect(await ticks('0 0 * * *', 'America/New_York', '2026-10-31T00:00:00Z', 72)).toEqual([
      '2026-10-31T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ]);
  });

  it('runs once, not twice, when the clocks go back and its local time happens twice', async () => {
    // Europe/Berlin, 2026-10-25: 02:30 is 00:30Z (summer time) and again 01:30Z (winter time).
    expect(await ticks('30 2 * * *', 'Europe/Berlin', '2026-10-23T12:00:00Z', 96)).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('runs right after the jump when the clocks go forward over its local time, once, as Vixie cron does', async () => {
    // Europe/Berlin, 2026-03-29: 02:00–02:59 does not exist. node-cron alone runs nothing that night; the
    // gap watch (service/dst-gap.ts) runs it at the first minute after the jump, 03:00 CEST.
    expect(await ticks('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 96)).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    // SPEC §6's example schedule, 02:00, in New York: 2026-03-08 has no 02:00; it runs at 03:00 EDT.
    expect(await ticks('0 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 72)).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:00:00.000Z',
      '2026-03-10T06:00:00.000Z',
    ]);
    // Lord Howe Island goes forward by half an hour (2026-10-04, 02:00 +10:30 → 02:30 +11:00): 02:15 runs at 02:30.
    expect(await ticks('15 2 * * *', 'Australia/Lord_Howe', '2026-10-03T00:00:00Z', 48)).toEqual([
      '2026-10-03T15:30:00.000Z',
      '2026-10-04T15:15:00.000Z',
    ]);
    // A schedule outside the lost hour gets nothing extra that night.
    expect(await ticks('30 4 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 48)).toEqual([
      '2026-03-29T02:30:00.000Z',
      '2026-03-30T02:30:00.000Z',
    ]);
  });
});
