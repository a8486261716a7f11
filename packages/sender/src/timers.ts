/**
 * Time the Sender waits on, injectable (STYLE.md "inject what is slow to wait
 * for") so that the 22-hour retry schedule runs instantly in a test.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface Timers {
  /** Milliseconds on a clock that only measures durations. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// setTimeout fires at once for delays past 2^31-1 ms (about 24.8 days): wait in slices.
const MAX_SLICE = 2 ** 31 - 1;

export const realTimers: Timers = {
  now: () => performance.now(),
  async sleep(ms, signal) {
    let left = ms;
    while (left > 0) {
      const slice = Math.min(left, MAX_SLICE);
      await delay(slice, undefined, signal === undefined ? undefined : { signal });
      left -= slice;
    }
  },
};
