/** What every step of one roll-up shares. */
import type { Config, KeyPair, RollupLog } from '@zenroll/core';
import type { SenderEvent } from './events.js';
import type { RecordStore } from './records.js';
import type { SenderPaths } from './state.js';
import type { Timers } from './timers.js';

export interface StepContext {
  config: Config;
  paths: SenderPaths;
  keys: KeyPair;
  log: RollupLog;
  records: RecordStore;
  /** Wall clock, ms since the epoch: names and record times. */
  now: () => number;
  /** Durations and waits. */
  timers: Timers;
  newId: () => string;
  emit: (event: SenderEvent) => void;
  signal: AbortSignal | undefined;
}
