/**
 * Push (SPEC §1 step 4, §4): each zip, oldest first, is PUT to the parent
 * and deleted only once acknowledged (201, or 200 for one it already had).
 * A failure that can pass by itself (no answer, a reset, a timeout, a 5xx;
 * the one error table says which codes) is retried on the schedule of
 * SPEC §1 with nothing else done meanwhile; after the last try the roll-up
 * stops and leaves the rest. A failure that waiting cannot mend stops at
 * once, naming its fix: a zip the parent refuses as bad goes to `rejected/`
 * with the answer beside it and the queue goes on; a signer the parent does
 * not trust holds back that origin's zips; anything else about the
 * connection (an untrusted certificate, http for https) stops the push, and
 * everything waits in entpushdir for the next roll-up.
 */
import { join } from 'node:path';
import {
  crashPoint,
  ensureDir,
  errorSpec,
  isErrorCode,
  isZenrollError,
  makeRecord,
  moveDurable,
  parseOuterName,
  removeDurable,
  writeFileDurable,
  type Severity,
  fieldOf,
} from '@zenroll/core';
import { retryDelayMs } from './backoff.js';
import type { ParentClient, PutAnswer } from './client.js';
import type { StepContext } from './context.js';
import { digestFile, type FileDigest } from './digest.js';
import type { LeftItem, RejectedZip, SentZip } from './events.js';
import { leavingRecord } from './leaving.js';
import { removeThenLog } from './records.js';

/**
 * What an answer means (SPEC §1, §4): `ok` done; `retry` on the SPEC §1
 * schedule; `reject` the zip itself is bad (to `rejected/`); `hold` the
 * parent does not trust the zip's signer (its origin's zips wait); `stop`
 * the parent refuses this Sender's requests as such (every zip waits).
 */
export type Verdict = 'ok' | 'retry' | 'reject' | 'hold' | 'stop';

// Codes about who signed, not about the zip: every zip of that origin meets them.
const SIGNER_CODES = new Set(['PRP_SIGNER_UNKNOWN', 'PRP_SIGNER_MISMATCH']);

/**
 * The verdict of an answer's status and error code. A known code decides by
 * the one error table (core errors.ts); an answer without one (a proxy's
 * page) by its status: 5xx, 408 and 429 can pass, another 4xx cannot.
 */
export function verdictOf(status: number, code?: string): Verdict {
  if (status === 200 || status === 201) return 'ok';
  if (code !== undefined && isErrorCode(code)) {
    if (errorSpec(code).retry) return 'retry';
    if (SIGNER_CODES.has(code)) return 'hold';
    if (code === 'NAME_INVALID' || code.startsWith('ZIP_') || code.startsWith('PRP_')) return 'reject';
    return 'stop';
  }
  if (status >= 500 || status === 408 || status === 429) return 'retry';
  return 'stop';
}

/** The `{error, message, fix}` of an answer (SPEC §4), whatever its body held. */
export function describeAnswer(a: PutAnswer): { error: string; message: string; fix?: string } {
  const b = a.body;
  if (b !== null && typeof b === 'object') {
    const [error, message, fix] = [fieldOf(b, 'error'), fieldOf(b, 'message'), fieldOf(b, 'fix')];
    return {
      error: typeof error === 'string' ? error : '',
      message: typeof message === 'string' ? message : JSON.stringify(b),
      ...(typeof fix === 'string' ? { fix } : {}),
    };
  }
  return { error: '', message: String(a.body).slice(0, 500) };
}

export interface PushOutcome {
  sent: SentZip[];
  rejected: RejectedZip[];
  left: LeftItem[];
  /** The push stopped early: the parent did not answer through every try, or failed in a way waiting cannot mend. */
  stopped: boolean;
  /** Why sending stopped (or held an origin back) for good, and its fix: what a foreground roll-up shows last. */
  problems: PushProblem[];
}

export interface PushProblem {
  code: string;
  message: string;
  fix?: string;
}

/** What happened in a few words ("certificate not trusted", "the parent answered 401 …"), for the zip's line. */
function whatOf(err: { message: string; details: Record<string, unknown> }): string {
  return typeof err.details.what === 'string' ? err.details.what : err.message;
}

type OneResult =
  | { kind: 'sent'; sent: SentZip }
  | { kind: 'rejected'; rejected: RejectedZip }
  | { kind: 'left'; reason: string }
  | { kind: 'discarded' }
  | { kind: 'hold'; reason: string; problem: PushProblem }
  | { kind: 'stop'; reason: string; problem?: PushProblem };

interface Push {
  ctx: StepContext;
  client: ParentClient;
  /** The parent's server name, for the records' `to`. */
  parent: string;
  /** Before each try: true when the zip was discarded meanwhile (the discard time, read late). */
  beforeTry?: (zip: string) => Promise<boolean>;
}

/**
 * Pushes zips one at a time, in the order given (the caller gives them oldest
 * first). Once the parent stopped answering through every try, or the
 * roll-up was stopped, each further zip is only reported as left.
 */
export class Pusher {
  readonly out: PushOutcome = { sent: [], rejected: [], left: [], stopped: false, problems: [] };
  readonly #p: Push;
  #stopReason = '';
  /** Origins whose signer the parent does not trust: their zips wait (SPEC §1). */
  readonly #held = new Map<string, string>();

  constructor(ctx: StepContext, client: ParentClient, parent: string, beforeTry?: (zip: string) => Promise<boolean>) {
    this.#p = { ctx, client, parent, ...(beforeTry === undefined ? {} : { beforeTry }) };
  }

  async push(zip: string): Promise<void> {
    const { out } = this;
    if (out.stopped) {
      out.left.push({ kind: 'zip', name: zip, reason: `not tried: ${this.#stopReason}` });
      return;
    }
    if (this.#p.ctx.signal?.aborted === true) {
      out.left.push({ kind: 'zip', name: zip, reason: 'the roll-up was stopped before this zip' });
      return;
    }
    const origin = originOf(zip);
    const held = origin === null ? undefined : this.#held.get(origin);
    if (held !== undefined) {
      out.left.push({ kind: 'zip', name: zip, reason: `not tried: ${held}` });
      return;
    }
    const r = await pushOne(this.#p, zip);
    if (r.kind === 'sent') out.sent.push(r.sent);
    else if (r.kind === 'rejected') out.rejected.push(r.rejected);
    else if (r.kind !== 'discarded') out.left.push({ kind: 'zip', name: zip, reason: r.reason });
    if (r.kind === 'hold') {
      if (origin !== null) this.#held.set(origin, `the parent refuses the signer of ${origin}'s zips (see the problem below)`);
      out.problems.push(r.problem);
    }
    if (r.kind === 'stop') {
      out.stopped = true;
      this.#stopReason =
        r.problem === undefined ? 'the roll-up stopped when the parent did not answer' : 'sending stopped on the problem below';
      if (r.problem !== undefined) out.problems.push(r.problem);
    }
  }
}

function originOf(zip: string): string | null {
  try {
    return parseOuterName(zip).server;
  } catch {
    return null;
  }
}

async function pushOne(p: Push, zip: string): Promise<OneResult> {
  const { ctx, client } = p;
  const { retry } = ctx.config.sender;
  const path = join(ctx.paths.entpushdir, zip);
  const digest = await digestFile(path);
  const firstTry = ctx.timers.now();
  // An episode (SPEC §7): one record when sending this zip starts failing, one when it recovers or gives up; none per try.
  let failing = false;
  const stopped = async (reason: string): Promise<OneResult> => {
    if (failing) await logSend(p, zip, digest, 'send-failed', `${reason}; the zip stays for the next roll-up`, 'warning');
    return { kind: 'stop', reason };
  };
  for (let k = 1; ; k++) {
    if (p.beforeTry !== undefined && (await p.beforeTry(zip))) return { kind: 'discarded' };
    const started = ctx.timers.now();
    let answer: PutAnswer | null = null;
    let failure = 'no answer';
    try {
      answer = await client.putZip({ name: zip, path, bytes: digest.bytes, sha256: digest.sha256 }, ctx.signal);
    } catch (err) {
      if (ctx.signal?.aborted === true) return stopped('the roll-up was stopped during the upload');
      if (!isZenrollError(err) || !err.code.startsWith('RECEIVER_')) throw err;
      // An untrusted certificate, http for https: waiting mends nothing (SPEC §1).
      if (!errorSpec(err.code).retry) {
        return permanent(p, zip, digest, 'stop', whatOf(err), {
          code: err.code,
          message: err.message,
          ...(err.fix === undefined ? {} : { fix: err.fix }),
        });
      }
      failure = err.message;
    }
    if (answer !== null) {
      const { error, message, fix } = describeAnswer(answer);
      const verdict = verdictOf(answer.status, error || undefined);
      const transferMs = Math.round(ctx.timers.now() - started);
      if (verdict === 'ok') {
        const totalMs = Math.round(ctx.timers.now() - firstTry);
        if (failing)
          await logSend(
            p,
            zip,
            digest,
            'send-recovered',
            `sent at try ${k} of ${retry.tries}, ${Math.round(totalMs / 1000)} s after the first`,
          );
        return acknowledged(p, zip, digest, answer.status === 201 ? 201 : 200, k, transferMs, totalMs);
      }
      if (verdict === 'reject') return rejected(p, zip, digest, answer);
      failure = `the parent answered ${answer.status}${error ? ` ${error}` : ''}: ${message}`;
      if (verdict === 'stop' || verdict === 'hold') {
        const what = `the parent answered ${answer.status}${error ? ` ${error}` : ''}`;
        return permanent(p, zip, digest, verdict, what, {
          code: error || 'RECEIVER_REJECTED',
          message: failure,
          ...(fix === undefined ? {} : { fix }),
        });
      }
    }
    if (k >= retry.tries) {
      const reason = `${failure} (try ${k} of ${retry.tries}; the roll-up stops, the rest waits for the next one)`;
      await logFailure(p, zip, digest, reason);
      ctx.emit({ type: 'send-failed', zip, reason, final: true });
      return { kind: 'stop', reason };
    }
    const delayMs = retryDelayMs(retry, k, answer?.retryAfterMs ?? null);
    if (!failing) {
      failing = true;
      await logSend(
        p,
        zip,
        digest,
        'send-failing',
        `${failure}; trying again (${retry.tries} tries in all), the next in ${Math.round(delayMs / 1000)} s`,
      );
    }
    ctx.emit({ type: 'retry', zip, tries: k, of: retry.tries, delayMs, reason: failure });
    try {
      await ctx.timers.sleep(delayMs, ctx.signal);
    } catch (err) {
      if (ctx.signal?.aborted === true) return stopped('the roll-up was stopped while it waited to retry');
      throw err;
    }
  }
}

/**
 * A failure that waiting cannot mend (SPEC §1): one record and one event that
 * name the fix, and the zip stays in entpushdir for the next roll-up.
 */
async function permanent(
  p: Push,
  zip: string,
  digest: FileDigest,
  kind: 'stop' | 'hold',
  what: string,
  problem: PushProblem,
): Promise<OneResult> {
  const next = kind === 'stop' ? 'sending stops' : `${originOf(zip) ?? 'its origin'}'s zips wait`;
  // The record holds it all (the log is read alone); the zip's line only what happened.
  const full = `${problem.message}; ${next} until it is fixed, and the next roll-up tries again${problem.fix === undefined ? '' : `; fix: ${problem.fix}`}`;
  await logFailure(p, zip, digest, full);
  p.ctx.emit({
    type: 'send-failed',
    zip,
    reason: problem.message,
    final: true,
    permanent: true,
    ...(problem.fix === undefined ? {} : { fix: problem.fix }),
  });
  const reason = `not sent: ${what}; waiting cannot mend it (see the problem below), the next roll-up tries again`;
  return kind === 'stop' ? { kind: 'stop', reason, problem } : { kind: 'hold', reason, problem };
}

async function acknowledged(
  p: Push,
  zip: string,
  digest: FileDigest,
  status: 200 | 201,
  tries: number,
  transferMs: number,
  totalMs: number,
): Promise<OneResult> {
  const { ctx } = p;
  crashPoint('send-after-ack');
  const path = join(ctx.paths.entpushdir, zip);
  const write = await leavingRecord(ctx, zip, { event: 'sent', bytes: digest.bytes, to: p.parent, transferMs, totalMs });
  await removeThenLog(
    ctx.records,
    ctx.log,
    zip,
    write,
    () => removeDurable(path).then(() => undefined),
    () => crashPoint('send-between-records'),
  );
  const sent: SentZip = { zip, bytes: digest.bytes, status, tries, transferMs };
  ctx.emit({ type: 'sent', ...sent });
  return { kind: 'sent', sent };
}

async function rejected(p: Push, zip: string, digest: FileDigest, answer: PutAnswer): Promise<OneResult> {
  const { ctx, client } = p;
  const { error, message, fix } = describeAnswer(answer);
  const dest = join(ctx.paths.rejecteddir, zip);
  await ensureDir(ctx.paths.rejecteddir);
  // The answer first: a zip in rejected/ always has its reason beside it.
  const note = { zip, status: answer.status, answer: answer.body, parent: client.url, time: new Date(ctx.now()).toISOString() };
  await writeFileDurable(`${dest}.json`, `${JSON.stringify(note, null, 2)}\n`);
  const reason = `the parent refused it with ${answer.status}${error ? ` ${error}` : ''}: ${message}; moved to ${dest}`;
  const write = { record: failureRecord(p, zip, digest, reason) };
  await removeThenLog(ctx.records, ctx.log, zip, write, () => moveDurable(join(ctx.paths.entpushdir, zip), dest, { overwrite: true }));
  const r: RejectedZip = { zip, status: answer.status, error, message, path: dest, ...(fix === undefined ? {} : { fix }) };
  ctx.emit({ type: 'rejected', ...r });
  return { kind: 'rejected', rejected: r };
}

type SendEvent = 'send-failing' | 'send-recovered' | 'send-failed';

// Trouble sending is this server's: it goes on its own object.
function sendRecord(p: Push, zip: string, digest: FileDigest, event: SendEvent, message: string, severity?: Severity) {
  const { server } = p.ctx.config;
  return makeRecord(
    {
      source: 'sender',
      event,
      server,
      zip,
      bytes: digest.bytes,
      from: server,
      to: p.parent,
      origin: parseOuterName(zip).server,
      message,
      ...(severity ? { severity } : {}),
    },
    { now: p.ctx.now, id: p.ctx.newId },
  );
}

function failureRecord(p: Push, zip: string, digest: FileDigest, message: string) {
  return sendRecord(p, zip, digest, 'send-failed', message);
}

async function logSend(p: Push, zip: string, digest: FileDigest, event: SendEvent, message: string, severity?: Severity): Promise<void> {
  await p.ctx.log.write({ record: sendRecord(p, zip, digest, event, message, severity) });
}

async function logFailure(p: Push, zip: string, digest: FileDigest, message: string): Promise<void> {
  await logSend(p, zip, digest, 'send-failed', message);
}
