/** The saved clock heals (issue 16): times used while the wall clock was ahead are stepped over, not a floor for good. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatScheduledTime, parseScheduledTime } from '@zenroll/core';
import { ClockKeeper, HEAL_AHEAD_MS, loadClock, readSavedClock } from '../src/sender-clock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-clock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const t = (ms: number) => formatScheduledTime(ms);

describe('loadClock', () => {
  it('a saved clock a little ahead (an NTP step) stays the floor: the next time is past it', async () => {
    const now = Date.UTC(2026, 11, 5, 2, 0, 0);
    const path = join(dir, 'sender-clock.json');
    await writeFile(path, JSON.stringify({ last: t(now + 5_000), runs: [[t(now + 4_000), t(now + 5_000)]] }));
    const loaded = await loadClock(path, 'LEAF1', [], () => now);
    expect(loaded.healedFrom).toBeNull();
    expect(loaded.clock.next()).toBe(t(now + 5_001));
  });

  it('a saved clock 400 days ahead heals: right times again, stepping over every time used ahead, and a zip on disk named ahead', async () => {
    const now = Date.UTC(2026, 11, 5, 2, 0, 0);
    const ahead = now + 400 * DAY;
    const path = join(dir, 'sender-clock.json');
    // One roll-up the day before (right), one while the clock was 400 days ahead.
    await writeFile(
      path,
      JSON.stringify({
        last: t(ahead + 900),
        runs: [
          [t(now - DAY), t(now - DAY + 50)],
          [t(ahead), t(ahead + 900)],
        ],
      }),
    );
    let clock = now;
    const loaded = await loadClock(path, 'LEAF1', [`${t(ahead + 2_000)}_LEAF1_ACME_0.zip`], () => clock);
    expect(loaded.healedFrom).toBe(ahead + 2_000);
    expect(loaded.clock.next()).toBe(t(now));
    // 400 days on, the clock meets the times used ahead: it steps over them.
    clock = ahead + 500;
    expect(loaded.clock.next()).toBe(t(ahead + 901));
    clock = ahead + 2_000;
    expect(loaded.clock.next()).toBe(t(ahead + 2_001));

    // What it saves remembers the span still ahead, and the run it made.
    const keeper = new ClockKeeper(path, loaded);
    await keeper.save();
    const saved = JSON.parse(await readFile(path, 'utf8')) as { last: string; runs: [string, string][] };
    expect(saved.last).toBe(t(ahead + 2_001));
    expect(saved.runs).toContainEqual([t(ahead), t(ahead + 900)]);
    expect(saved.runs.at(-1)).toEqual([t(now), t(ahead + 2_001)]);
  });

  it('readSavedClock says what a doctor compares with now', async () => {
    const path = join(dir, 'sender-clock.json');
    expect(await readSavedClock(path)).toBeNull();
    const last = Date.UTC(2028, 0, 8);
    await writeFile(path, JSON.stringify({ last: t(last) }));
    const saved = await readSavedClock(path);
    expect(saved && parseScheduledTime(saved.last)).toBe(last);
    expect(HEAL_AHEAD_MS).toBe(60_000);
  });
});
