import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog } from '@zenroll/core';
import { runRollup } from '../src/rollup.js';
import type { SenderEvent } from '../src/events.js';
import { fakeTimers, makeSender, type SenderSetup } from './helpers/setup.js';
import { writeStrs } from './helpers/strs.js';
import { TestReceiver } from '@zenroll/testkit';

let receiver: TestReceiver;
let s: SenderSetup;
let log: MemoryLog;
let receiverDir: string;

beforeEach(async () => {
  receiverDir = await mkdtemp(join(tmpdir(), 'zenroll-parent-'));
  receiver = await TestReceiver.start({ dir: receiverDir });
  s = await makeSender({ parent: receiver.url });
  log = new MemoryLog();
});

afterEach(async () => {
  await receiver.close();
  await s.cleanup();
  await rm(receiverDir, { recursive: true, force: true });
});

const zipsIn = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.zip')).sort();

describe('retries (SPEC §1)', () => {
  it('waits 10 s · 2^(k-1) before each of 14 tries, then stops with the zips still in entpushdir', async () => {
    await writeStrs(s.entmergedir, 70);
    receiver.failNext(1000, { kind: 'drop' });
    const timers = fakeTimers();
    const events: SenderEvent[] = [];
    const result = await runRollup(s.config, { log, keys: s.keys, timers, onEvent: (e) => events.push(e) });

    expect(timers.sleeps).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 40960].map((x) => x * 1000));
    expect(receiver.puts).toBe(14);
    // Nothing else was tried meanwhile: every try was for the oldest zip.
    const [first, second] = result.zipped.map((z) => z.zip) as [string, string];
    expect(new Set(receiver.attempts.map((a) => a.name))).toEqual(new Set([first]));
    expect(result.stopped).toBe(true);
    expect(result.sent).toEqual([]);
    expect(result.left.map((l) => l.name)).toEqual([first, second]);
    expect(result.left[0]?.reason).toMatch(/try 14 of 14/);
    expect(await zipsIn(s.entpushdir)).toEqual([first, second]);
    const failed = log.writes.map((w) => w.record).filter((r) => r.event === 'send-failed');
    expect(failed).toEqual([expect.objectContaining({ zip: first, severity: 'error' })]);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e.type === 'retry' ? e.tries : 0))).toEqual(
      Array.from({ length: 13 }, (_, i) => i + 1),
    );

    // The next roll-up, with the parent back, sends both.
    receiver.faults.length = 0;
    const next = await runRollup(s.config, { log, keys: s.keys, timers: fakeTimers() });
    expect(next.sent.map((z) => z.zip)).toEqual([first, second]);
    expect(await zipsIn(s.entpushdir)).toEqual([]);
  });

  it('gets everything through when the parent comes back on try 5', async () => {
    await writeStrs(s.entmergedir, 70);
    receiver.failNext(4, { kind: 'drop' });
    const timers = fakeTimers();
    const result = await runRollup(s.config, { log, keys: s.keys, timers });
    expect(timers.sleeps).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(result.sent.map((z) => z.tries)).toEqual([5, 1]);
    expect(result.sent.map((z) => z.zip)).toEqual(result.zipped.map((z) => z.zip));
    expect(receiver.stored).toHaveLength(2);
    expect(result.left).toEqual([]);
  });

  it('honours a Retry-After longer than the backoff, and not a shorter one', async () => {
    await writeStrs(s.entmergedir, 5);
    receiver.failNext(2, { kind: 'status', status: 503, error: 'BUSY', retryAfterS: 600 });
    receiver.failNext(1, { kind: 'status', status: 503, error: 'BUSY', retryAfterS: 1 });
    const timers = fakeTimers();
    const result = await runRollup(s.config, { log, keys: s.keys, timers });
    expect(timers.sleeps).toEqual([600_000, 600_000, 40_000]);
    expect(result.sent).toEqual([expect.objectContaining({ tries: 4, status: 201 })]);
  });

  it('counts a time-out (the parent never answers) as a failed try', async () => {
    const quick = await makeSender({ parent: receiver.url, sender: { timeoutMs: 300 } });
    try {
      await writeStrs(quick.entmergedir, 2);
      receiver.failNext(1, { kind: 'stall' });
      const timers = fakeTimers();
      const events: SenderEvent[] = [];
      const result = await runRollup(quick.config, { log, keys: quick.keys, timers, onEvent: (e) => events.push(e) });
      expect(result.sent).toEqual([expect.objectContaining({ tries: 2 })]);
      const retry = events.find((e) => e.type === 'retry');
      expect(retry?.type === 'retry' && retry.reason).toMatch(/timed out/);
      expect(retry?.type === 'retry' && retry.reason).not.toMatch(/did not answer/);
    } finally {
      await quick.cleanup();
    }
  });

  it('follows sender.retry: base, factor and tries from the config', async () => {
    const custom = await makeSender({ parent: receiver.url, sender: { retry: { baseMs: 500, factor: 3, tries: 4 } } });
    try {
      await writeStrs(custom.entmergedir, 2);
      receiver.failNext(1000, { kind: 'status', status: 503 });
      const timers = fakeTimers();
      const result = await runRollup(custom.config, { log, keys: custom.keys, timers });
      expect(timers.sleeps).toEqual([500, 1500, 4500]);
      expect(receiver.puts).toBe(4);
      expect(result.stopped).toBe(true);
    } finally {
      await custom.cleanup();
    }
  });
});

describe('stopping and cleaning up', () => {
  it('stops at once when aborted during a wait, leaving the zips for the next roll-up', async () => {
    await writeStrs(s.entmergedir, 70);
    receiver.failNext(1000, { kind: 'drop' });
    const abort = new AbortController();
    const result = await runRollup(s.config, {
      log,
      keys: s.keys,
      timers: fakeTimers(),
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'retry' && e.tries === 2) abort.abort();
      },
    });
    expect(receiver.puts).toBe(2);
    expect(result.stopped).toBe(true);
    expect(result.left.map((l) => l.reason)).toEqual([
      expect.stringMatching(/stopped while it waited/),
      expect.stringMatching(/not tried/),
    ]);
    expect(await zipsIn(s.entpushdir)).toHaveLength(2);
  });

  it('leaves no socket, timer or lock behind, whether it sent everything or gave up', async () => {
    const count = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout').length;
    const before = count();
    await writeStrs(s.entmergedir, 3);
    const sent = await runRollup(s.config, { log, keys: s.keys });
    expect(sent.sent).toHaveLength(1);
    expect(count()).toBeLessThanOrEqual(before);
    expect(await receiver.idle()).toBe(true);

    await writeStrs(s.entmergedir, 3, { startIndex: 3 });
    receiver.failNext(1000, { kind: 'drop' });
    const gaveUp = await runRollup(s.config, { log, keys: s.keys, timers: fakeTimers() });
    expect(gaveUp.stopped).toBe(true);
    expect(count()).toBeLessThanOrEqual(before);
    expect((await readdir(s.config.dirs.statedir)).includes('rollup.lock')).toBe(false);
  });
});
