/**
 * The service's roll-up runner (service/runner.ts) with an injected roll-up
 * and clock: never two roll-ups at once, a scheduled tick that finds one
 * running is skipped and logged, forced roll-ups wait for the running one
 * and share the next run, and `statedir/last-rollup.json` says how the last
 * one went.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ZenrollError } from '@zenroll/core';
import type { RollupResult } from '@zenroll/sender';
import { RollupRunner, lastRollupPath, readLastRollup, summarize, type RunnerLogger } from '../src/service/runner.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function result(fields: Partial<RollupResult> = {}): RollupResult {
  return { zipped: [], discarded: [], sent: [], rejected: [], left: [], ignored: [], errors: [], stopped: false, ...fields };
}

const sent = (zip: string) => ({ zip, bytes: 100, status: 201 as const, tries: 1, transferMs: 5 });
const zipped = (zip: string) => ({ zip, files: 3, bytes: 100, recovered: false });

interface Line {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

function memoryLogger(): RunnerLogger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (obj: object, msg: string) => void lines.push({ level, obj: { ...obj }, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A roll-up that does nothing until the test settles it; each call is one run. */
function controlledRollup() {
  const runs: Deferred<RollupResult>[] = [];
  return {
    runs,
    rollup: () => {
      const d = deferred<RollupResult>();
      runs.push(d);
      return d.promise;
    },
    run(i: number): Deferred<RollupResult> {
      const d = runs[i];
      if (d === undefined) throw new Error(`roll-up ${i} has not started (${runs.length} started)`);
      return d;
    },
  };
}

let statedir: string;
let logger: ReturnType<typeof memoryLogger>;
let clockMs: number;
const now = () => clockMs;

beforeEach(async () => {
  statedir = await mkdtemp(join(tmpdir(), 'zenroll-runner-'));
  logger = memoryLogger();
  clockMs = Date.parse('2026-11-22T10:00:00.000Z');
});
afterEach(async () => {
  await rm(statedir, { recursive: true, force: true });
});

const messages = () => logger.lines.map((l) => `${l.level} ${l.msg}${l.obj.reason ? ` (${String(l.obj.reason)})` : ''}`);

describe('RollupRunner', () => {
  it('skips a scheduled tick while a roll-up runs, and logs it', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    const first = runner.tick();
    expect(runner.busy).toBe(true);
    expect(await runner.tick()).toBeNull();
    expect(await runner.tick()).toBeNull();
    expect(c.runs).toHaveLength(1);
    const r = result({ zipped: [zipped('a.zip')], sent: [sent('a.zip')] });
    c.run(0).resolve(r);
    expect(await first).toBe(r);
    expect(runner.busy).toBe(false);
    expect(messages()).toEqual([
      'info roll-up started (scheduled)',
      'warn roll-up still running: this tick is skipped (scheduled)',
      'warn roll-up still running: this tick is skipped (scheduled)',
      'info roll-up finished (scheduled)',
    ]);
    // Once it is done, the next tick runs.
    const next = runner.tick();
    expect(c.runs).toHaveLength(2);
    c.run(1).resolve(result());
    expect(await next).toEqual(result());
  });

  it('runs a forced roll-up once, after the running one has finished', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    const scheduled = runner.tick();
    const forced = runner.force();
    let forcedDone = false;
    void forced.then(() => (forcedDone = true));
    // It waits: nothing new starts while the scheduled one runs.
    await new Promise((r) => setImmediate(r));
    expect(c.runs).toHaveLength(1);
    expect(forcedDone).toBe(false);

    const first = result({ sent: [sent('a.zip')] });
    c.run(0).resolve(first);
    expect(await scheduled).toBe(first);
    await vi.waitFor(() => expect(c.runs).toHaveLength(2));
    expect(runner.busy).toBe(true);
    expect(forcedDone).toBe(false);
    const second = result({ sent: [sent('b.zip')] });
    c.run(1).resolve(second);
    expect(await forced).toBe(second);
    expect(c.runs).toHaveLength(2);
    expect(messages()).toEqual([
      'info roll-up started (scheduled)',
      'info forced roll-up waits for the running one (forced)',
      'info roll-up finished (scheduled)',
      'info roll-up started (forced)',
      'info roll-up finished (forced)',
    ]);
  });

  it('lets forced roll-ups asked for during one run share the next run', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    const scheduled = runner.tick();
    const forced = [runner.force(), runner.force(), runner.force()];
    c.run(0).resolve(result());
    await scheduled;
    await vi.waitFor(() => expect(c.runs).toHaveLength(2));
    // A tick while the shared forced run runs is skipped, like any other.
    expect(await runner.tick()).toBeNull();
    const shared = result({ sent: [sent('b.zip')] });
    c.run(1).resolve(shared);
    const answers = await Promise.all(forced);
    expect(answers).toEqual([shared, shared, shared]);
    expect(c.runs).toHaveLength(2);
    // A forced roll-up after that is a new run.
    const later = runner.force();
    expect(c.runs).toHaveLength(3);
    c.run(2).resolve(result());
    await later;
    expect(logger.lines.filter((l) => l.msg === 'roll-up started').map((l) => l.obj.reason)).toEqual(['scheduled', 'forced', 'forced']);
  });

  it('makes a forced roll-up asked for while a forced one runs wait for it too', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    const a = runner.force();
    const b = runner.force();
    expect(c.runs).toHaveLength(1);
    const ra = result({ sent: [sent('a.zip')] });
    c.run(0).resolve(ra);
    expect(await a).toBe(ra);
    await vi.waitFor(() => expect(c.runs).toHaveLength(2));
    const rb = result();
    c.run(1).resolve(rb);
    expect(await b).toBe(rb);
  });

  it('writes last-rollup.json with what the roll-up did and the clock’s times', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    expect(await readLastRollup(statedir)).toBeNull();
    expect(runner.lastSuccessMs).toBeNull();
    const run = runner.tick();
    clockMs += 1500;
    c.run(0).resolve(
      result({
        zipped: [zipped('a.zip'), zipped('b.zip')],
        discarded: ['old.zip'],
        sent: [sent('a.zip'), sent('b.zip')],
        left: [{ kind: 'str', name: 'busy.str', reason: 'changed in the last 5 s' }],
      }),
    );
    await run;
    expect(await readLastRollup(statedir)).toEqual({
      reason: 'scheduled',
      startedAt: '2026-11-22T10:00:00.000Z',
      finishedAt: '2026-11-22T10:00:01.500Z',
      ok: true,
      zipped: 2,
      discarded: 1,
      sent: 2,
      rejected: 0,
      left: 1,
    });
    expect(runner.lastSuccessMs).toBe(Date.parse('2026-11-22T10:00:01.500Z'));
    // One JSON object on one line, written whole.
    expect((await readFile(lastRollupPath(statedir), 'utf8')).split('\n')).toHaveLength(2);
  });

  it('records a roll-up that left a zip unsent as not ok, and keeps the last success time', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    const ok = runner.force();
    c.run(0).resolve(result({ sent: [sent('a.zip')] }));
    await ok;
    const successAt = runner.lastSuccessMs;
    clockMs += 60_000;
    const incomplete = runner.force();
    c.run(1).resolve(result({ left: [{ kind: 'zip', name: 'b.zip', reason: 'the parent did not answer' }], stopped: true }));
    await incomplete;
    expect(await readLastRollup(statedir)).toMatchObject({ reason: 'forced', ok: false, left: 1, sent: 0 });
    expect(runner.lastSuccessMs).toBe(successAt);
  });

  it('records a failed roll-up (it threw), rethrows, and lets a waiting forced one run', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    const scheduled = runner.tick();
    const forced = runner.force();
    c.run(0).reject(new ZenrollError('FS_FAILED', 'folder /srv/x does not exist'));
    await expect(scheduled).rejects.toThrow('folder /srv/x does not exist');
    expect(runner.lastSuccessMs).toBeNull();
    const failed = logger.lines.find((l) => l.msg === 'roll-up failed');
    expect(failed).toMatchObject({
      level: 'error',
      obj: { reason: 'scheduled', ok: false, code: 'FS_FAILED', error: 'folder /srv/x does not exist' },
    });
    expect(await readLastRollup(statedir)).toMatchObject({
      reason: 'scheduled',
      ok: false,
      zipped: 0,
      sent: 0,
      error: 'folder /srv/x does not exist',
    });
    await vi.waitFor(() => expect(c.runs).toHaveLength(2));
    c.run(1).resolve(result({ sent: [sent('a.zip')] }));
    expect((await forced).sent).toHaveLength(1);
    expect(await readLastRollup(statedir)).toMatchObject({ reason: 'forced', ok: true, sent: 1 });
    expect(runner.busy).toBe(false);
  });

  it('still answers when last-rollup.json cannot be written, and says so', async () => {
    const runner = new RollupRunner({ rollup: async () => result(), statedir: join(statedir, 'missing', 'folder'), logger, now });
    expect(await runner.force()).toEqual(result());
    expect(logger.lines.at(-1)).toMatchObject({ level: 'warn', msg: 'could not record the last roll-up' });
  });

  it('idle() resolves only once the running and the waiting forced roll-ups are done', async () => {
    const c = controlledRollup();
    const runner = new RollupRunner({ rollup: c.rollup, statedir, logger, now });
    void runner.tick();
    const forced = runner.force();
    let idle = false;
    const done = runner.idle().then(() => (idle = true));
    c.run(0).resolve(result());
    await vi.waitFor(() => expect(c.runs).toHaveLength(2));
    expect(idle).toBe(false);
    c.run(1).resolve(result());
    await forced;
    await done;
    expect(idle).toBe(true);
    expect(runner.busy).toBe(false);
  });
});

describe('summarize and readLastRollup', () => {
  const t0 = new Date('2026-11-22T10:00:00Z');
  const t1 = new Date('2026-11-22T10:00:02Z');

  it.each([
    ['everything sent', result({ sent: [sent('a.zip')] }), true],
    ['a .str still being written', result({ left: [{ kind: 'str', name: 'a.str', reason: 'changed in the last 5 s' }] }), true],
    ['a zip left', result({ left: [{ kind: 'zip', name: 'a.zip', reason: 'the parent did not answer' }] }), false],
    [
      'a zip rejected',
      result({ rejected: [{ zip: 'a.zip', status: 403, error: 'PRP_SIGNATURE_INVALID', message: 'bad', path: '/x' }] }),
      false,
    ],
    ['the push stopped', result({ stopped: true }), false],
    ['a step failed', result({ errors: [{ step: 'pack', code: 'FS_NO_SPACE', message: 'no space left in /srv' }] }), false],
  ])('%s → ok %s', (_what, r, ok) => {
    expect(summarize('scheduled', t0, t1, r).ok).toBe(ok);
  });

  it('names the failed steps of a roll-up that went on after them', () => {
    const r = result({
      errors: [
        { step: 'collect', code: 'FS_FAILED', message: 'cannot read /m' },
        { step: 'pack', code: 'FS_NO_SPACE', message: 'disk full' },
      ],
    });
    expect(summarize('forced', t0, t1, r).error).toBe('collect: FS_FAILED: cannot read /m; pack: FS_NO_SPACE: disk full');
  });

  it('names the first zip refused or left when no step failed (what `failing` shows, SPEC §8)', () => {
    const rejected = result({ rejected: [{ zip: 'a.zip', status: 403, error: 'PRP_SIGNATURE_INVALID', message: 'bad', path: '/x' }] });
    expect(summarize('forced', t0, t1, rejected)).toMatchObject({ ok: false, problem: 'a.zip: 403 PRP_SIGNATURE_INVALID: bad' });
    const left = result({
      left: [
        { kind: 'str', name: 'b.str', reason: 'still written' },
        { kind: 'zip', name: 'a.zip', reason: 'the parent did not answer' },
      ],
    });
    expect(summarize('forced', t0, t1, left).problem).toBe('a.zip: the parent did not answer');
    expect(summarize('forced', t0, t1, result({ sent: [sent('a.zip')] }))).not.toHaveProperty('problem');
  });

  it('names the problem itself for a zip held by a permanent failure, not "the problem below" the CLI prints', () => {
    const held = result({
      left: [{ kind: 'zip', name: 'a.zip', reason: 'not sent: refused (401); waiting cannot mend it (see the problem below), …' }],
      problems: [{ code: 'PRP_SIGNER_UNKNOWN', message: 'INT1 does not trust the key that signed a.zip', fix: 'zenroll trust add …' }],
    });
    expect(summarize('forced', t0, t1, held).problem).toBe(
      'a.zip: not sent: PRP_SIGNER_UNKNOWN: INT1 does not trust the key that signed a.zip',
    );
  });

  it('throws on a damaged last-rollup.json instead of pretending there was none', async () => {
    await writeFile(lastRollupPath(statedir), '{"reason": "sched');
    await expect(readLastRollup(statedir)).rejects.toThrow(SyntaxError);
  });
});
