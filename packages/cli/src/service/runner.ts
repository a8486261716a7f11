/**
 * Never two roll-ups at once in one service: a scheduled tick that finds one
 * running is skipped (and logged); a forced roll-up (`zenroll rollup --now`)
 * waits for the running one and then runs, since new scans may have come in
 * meanwhile. Forced requests that arrive during one wait share the next run.
 */
import { join } from 'node:path';
import { readJson } from 'fs-extra/esm';
import { errnoCode, writeFileDurable, fieldOf } from '@zenroll/core';
import type { RollupResult } from '@zenroll/sender';

/** `received`: an intermediate forwarding what it just promoted (sender.forwardOnReceive); `wakeup`: asked by the parent (SPEC §8). */
export type Reason = 'scheduled' | 'forced' | 'received' | 'start' | 'wakeup';

export interface LastRollup {
  reason: Reason;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  zipped: number;
  discarded: number;
  sent: number;
  rejected: number;
  left: number;
  error?: string;
  /** Not ok without a failed step: the first zip refused or left unsent, and why (SPEC §8 shows it for `failing`). */
  problem?: string;
}

export interface RunnerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function firstProblem(r: RollupResult): string | undefined {
  const rejected = r.rejected[0];
  if (rejected !== undefined)
    return `${rejected.zip}: ${rejected.status}${rejected.error ? ` ${rejected.error}` : ''}: ${rejected.message}`;
  const left = r.left.find((l) => l.kind === 'zip');
  if (left === undefined) return undefined;
  // A zip held or stopped by a permanent failure: its reason points at the problem the CLI prints under it; say the problem itself.
  const problem = r.problems?.[0];
  return problem === undefined ? `${left.name}: ${left.reason}` : `${left.name}: not sent: ${problem.code}: ${problem.message}`;
}

export function summarize(reason: Reason, startedAt: Date, finishedAt: Date, r: RollupResult | null, error?: unknown): LastRollup {
  const problem = r === null || error !== undefined || r.errors.length > 0 ? undefined : firstProblem(r);
  return {
    reason,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    // A .str still being written waits for the next roll-up as a matter of course; a zip left, a rejection or a failed step does not.
    ok:
      r !== null &&
      error === undefined &&
      r.left.filter((l) => l.kind === 'zip').length === 0 &&
      r.rejected.length === 0 &&
      r.errors.length === 0 &&
      !r.stopped,
    zipped: r?.zipped.length ?? 0,
    discarded: r?.discarded.length ?? 0,
    sent: r?.sent.length ?? 0,
    rejected: r?.rejected.length ?? 0,
    left: r?.left.length ?? 0,
    ...(error !== undefined
      ? { error: error instanceof Error ? error.message : String(error) }
      : r !== null && r.errors.length > 0
        ? { error: r.errors.map((e) => `${e.step}: ${e.code}: ${e.message}`).join('; ') }
        : {}),
    ...(problem === undefined ? {} : { problem }),
  };
}

export function lastRollupPath(statedir: string): string {
  return join(statedir, 'last-rollup.json');
}

/** Record a roll-up for `zenroll status`, whoever ran it (the service or `zenroll rollup` in-process). */
export async function writeLastRollup(statedir: string, last: LastRollup): Promise<void> {
  await writeFileDurable(lastRollupPath(statedir), `${JSON.stringify(last)}\n`);
}

export async function readLastRollup(statedir: string): Promise<LastRollup | null> {
  try {
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: this service wrote it (remember), whole
    return (await readJson(lastRollupPath(statedir))) as LastRollup;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** When `last` finished, if it sent everything (what `zenroll_last_successful_rollup_timestamp_seconds` shows). */
export function lastSuccessOf(last: LastRollup | null): number | null {
  if (last === null || !last.ok) return null;
  const ms = Date.parse(last.finishedAt);
  return Number.isFinite(ms) ? ms : null;
}

export class RollupRunner {
  #current: Promise<RollupResult> | null = null;
  #pendingForced: Promise<RollupResult> | null = null;
  readonly #rollup: () => Promise<RollupResult>;
  readonly #statedir: string;
  readonly #logger: RunnerLogger;
  readonly #now: () => number;
  #lastSuccessMs: number | null = null;
  readonly #onFinished: (last: LastRollup) => void;

  /** `lastSuccessMs`: the last success before this runner, from last-rollup.json (so that a restart does not forget it). */
  constructor(options: {
    rollup: () => Promise<RollupResult>;
    statedir: string;
    logger: RunnerLogger;
    now?: () => number;
    lastSuccessMs?: number | null;
    /** After each roll-up, once last-rollup.json has it (the service describes itself then, SPEC §8). */
    onFinished?: (last: LastRollup) => void;
  }) {
    this.#rollup = options.rollup;
    this.#onFinished = options.onFinished ?? (() => {});
    this.#lastSuccessMs = options.lastSuccessMs ?? null;
    this.#statedir = options.statedir;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  get busy(): boolean {
    return this.#current !== null;
  }

  get lastSuccessMs(): number | null {
    return this.#lastSuccessMs;
  }

  /** A scheduled tick: skipped (resolves null) when a roll-up is running. */
  async tick(): Promise<RollupResult | null> {
    if (this.#current !== null) {
      this.#logger.warn({ reason: 'scheduled' }, 'roll-up still running: this tick is skipped');
      return null;
    }
    return this.#start('scheduled');
  }

  /** A forced roll-up: waits for a running one, then runs. */
  async force(reason: 'forced' | 'received' | 'wakeup' = 'forced'): Promise<RollupResult> {
    if (this.#current === null) return this.#start(reason);
    if (this.#pendingForced === null) {
      this.#logger.info({ reason }, 'forced roll-up waits for the running one');
      const running = this.#current;
      this.#pendingForced = running
        .catch(() => undefined)
        .then(async () => {
          // Another forced caller may have started one in between; wait for it too.
          while (this.#current !== null) await this.#current.catch(() => undefined);
          this.#pendingForced = null;
          return this.#start(reason);
        });
    }
    return this.#pendingForced;
  }

  /** Resolves once no roll-up runs (for shutdown). */
  async idle(): Promise<void> {
    while (this.#current !== null || this.#pendingForced !== null) {
      await (this.#pendingForced ?? this.#current)?.catch(() => undefined);
    }
  }

  #start(reason: Reason): Promise<RollupResult> {
    const startedAt = new Date(this.#now());
    this.#logger.info({ reason }, 'roll-up started');
    const run = this.#rollup().then(
      async (result) => {
        const last = summarize(reason, startedAt, new Date(this.#now()), result);
        this.#lastSuccessMs = lastSuccessOf(last) ?? this.#lastSuccessMs;
        this.#logger.info({ ...last }, 'roll-up finished');
        await this.#remember(last);
        return result;
      },
      async (err: unknown) => {
        const last = summarize(reason, startedAt, new Date(this.#now()), null, err);
        this.#logger.error({ ...last, code: fieldOf(err, 'code') }, 'roll-up failed');
        await this.#remember(last);
        throw err;
      },
    );
    this.#current = run;
    const clear = () => {
      if (this.#current === run) this.#current = null;
    };
    run.then(clear, clear);
    return run;
  }

  async #remember(last: LastRollup): Promise<void> {
    try {
      await writeLastRollup(this.#statedir, last);
    } catch (err) {
      this.#logger.warn({ err }, 'could not record the last roll-up');
    }
    this.#onFinished(last);
  }
}
