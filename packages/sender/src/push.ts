/**
 * Push (SPEC §1 step 4, §4): each zip, oldest first, is PUT to the parent
 * and deleted only once acknowledged (201, or 200 for one it already had).
 * A connection failure or a busy parent is retried on the schedule of
 * SPEC §1 with nothing else done meanwhile; after the last try the roll-up
 * stops and leaves the rest. A zip the parent refuses as bad goes to
 * `rejected/` with the answer beside it, and the queue goes on.
 */
import { join } from 'node:path';
import {
  crashPoint,
  ensureDir,
  isZenrollError,
  makeRecord,
  moveDurable,
  parseOuterName,
  removeDurable,
  writeFileDurable,
  type Severity,
} from '@zenroll/core';
import { retryDelayMs } from './backoff.js';
import type { ParentClient, PutAnswer } from './client.js';
import type { StepContext } from './context.js';
import { digestFile, type FileDigest } from './digest.js';
import type { LeftItem, RejectedZip, SentZip } from './events.js';
import { leavingRecord } from './leaving.js';
import { removeThenLog } from './records.js';

/** What an answer means for the zip (SPEC §4). */
export type Verdict = 'ok' | 'retry' | 'reject' | 'leave';

/**
 * 200/201 done; 401, 403, 409, 413, 422 say the zip itself is bad; 503 (and
 * 507, 408, 429, other 5xx: the parent or a proxy in front of it cannot take
 * it now) are retried like a connection failure; anything else (400: a bad
 * header or a damaged body) leaves the zip for the next roll-up.
 */
export function verdictOf(status: number): Verdict {
  if (status === 200 || status === 201) return 'ok';
  if ([401, 403, 409, 413, 422].includes(status)) return 'reject';
  if (status >= 500 || status === 408 || status === 429) return 'retry';
  return 'leave';
}

/** The `{error, message}` of an answer (SPEC §4), whatever its body held. */
export function describeAnswer(a: PutAnswer): { error: string; message: string } {
  const b = a.body as { error?: unknown; message?: unknown } | null;
  if (b !== null && typeof b === 'object') {
    return { error: typeof b.error === 'string' ? b.error : '', message: typeof b.message === 'string' ? b.message : JSON.stringify(b) };
  }
  return { error: '', message: String(a.body).slice(0, 500) };
}

export interface PushOutcome {
  sent: SentZip[];
  rejected: RejectedZip[];
  left: LeftItem[];
  /** The parent did not answer through every try: the rest was not tried. */
  stopped: boolean;
}

type OneResult =
  | { kind: 'sent'; sent: SentZip }
  | { kind: 'rejected'; rejected: RejectedZip }
  | { kind: 'left'; reason: string }
  | { kind: 'stop'; reason: string };

interface Push {
  ctx: StepContext;
  client: ParentClient;
  /** The parent's server name, for the records' `to`. */
  parent: string;
}

/**
 * Pushes zips one at a time, in the order given (the caller gives them oldest
 * first). Once the parent stopped answering through every try, or the
 * roll-up was stopped, each further zip is only reported as left.
 */
export class Pusher {
  readonly out: PushOutcome = { sent: [], rejected: [], left: [], stopped: false };
  readonly #p: Push;

  constructor(ctx: StepContext, client: ParentClient, parent: string) {
    this.#p = { ctx, client, parent };
  }

  async push(zip: string): Promise<void> {
    const { out } = this;
    if (out.stopped) {
      out.left.push({ kind: 'zip', name: zip, reason: 'not tried: the roll-up stopped when the parent did not answer' });
      return;
    }
    if (this.#p.ctx.signal?.aborted === true) {
      out.left.push({ kind: 'zip', name: zip, reason: 'the roll-up was stopped before this zip' });
      return;
    }
    const r = await pushOne(this.#p, zip);
    if (r.kind === 'sent') out.sent.push(r.sent);
    else if (r.kind === 'rejected') out.rejected.push(r.rejected);
    else out.left.push({ kind: 'zip', name: zip, reason: r.reason });
    if (r.kind === 'stop') out.stopped = true;
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
    const started = ctx.timers.now();
    let answer: PutAnswer | null = null;
    let failure = 'no answer';
    try {
      answer = await client.putZip({ name: zip, path, bytes: digest.bytes, sha256: digest.sha256 }, ctx.signal);
    } catch (err) {
      if (ctx.signal?.aborted === true) return stopped('the roll-up was stopped during the upload');
      if (!isZenrollError(err, 'RECEIVER_UNREACHABLE')) throw err;
      failure = err.message;
    }
    if (answer !== null) {
      const verdict = verdictOf(answer.status);
      const transferMs = Math.round(ctx.timers.now() - started);
      if (verdict === 'ok') {
        const totalMs = Math.round(ctx.timers.now() - firstTry);
        if (failing) await logSend(p, zip, digest, 'send-recovered', `sent at try ${k} of ${retry.tries}, ${Math.round(totalMs / 1000)} s after the first`);
        return acknowledged(p, zip, digest, answer.status as 200 | 201, k, transferMs, totalMs);
      }
      if (verdict === 'reject') return rejected(p, zip, digest, answer);
      const { error, message } = describeAnswer(answer);
      failure = `the parent answered ${answer.status}${error ? ` ${error}` : ''}: ${message}`;
      if (verdict === 'leave') {
        await logFailure(p, zip, digest, `${failure}; the zip stays for the next roll-up`);
        ctx.emit({ type: 'send-failed', zip, reason: failure, final: false });
        return { kind: 'left', reason: failure };
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
      await logSend(p, zip, digest, 'send-failing', `${failure}; trying again (${retry.tries} tries in all), the next in ${Math.round(delayMs / 1000)} s`);
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
  await removeThenLog(ctx.records, ctx.log, zip, write, () => removeDurable(path).then(() => undefined), () => crashPoint('send-between-records'));
  const sent: SentZip = { zip, bytes: digest.bytes, status, tries, transferMs };
  ctx.emit({ type: 'sent', ...sent });
  return { kind: 'sent', sent };
}

async function rejected(p: Push, zip: string, digest: FileDigest, answer: PutAnswer): Promise<OneResult> {
  const { ctx, client } = p;
  const { error, message } = describeAnswer(answer);
  const dest = join(ctx.paths.rejecteddir, zip);
  await ensureDir(ctx.paths.rejecteddir);
  // The answer first: a zip in rejected/ always has its reason beside it.
  const note = { zip, status: answer.status, answer: answer.body, parent: client.url, time: new Date(ctx.now()).toISOString() };
  await writeFileDurable(`${dest}.json`, `${JSON.stringify(note, null, 2)}\n`);
  const reason = `the parent refused it with ${answer.status}${error ? ` ${error}` : ''}: ${message}; moved to ${dest}`;
  const write = { record: failureRecord(p, zip, digest, reason) };
  await removeThenLog(ctx.records, ctx.log, zip, write, () => moveDurable(join(ctx.paths.entpushdir, zip), dest, { overwrite: true }));
  const r: RejectedZip = { zip, status: answer.status, error, message, path: dest };
  ctx.emit({ type: 'rejected', ...r });
  return { kind: 'rejected', rejected: r };
}

type SendEvent = 'send-failing' | 'send-recovered' | 'send-failed';

// Trouble sending is this server's: it goes on its own object.
function sendRecord(p: Push, zip: string, digest: FileDigest, event: SendEvent, message: string, severity?: Severity) {
  const { server } = p.ctx.config;
  return makeRecord(
    { source: 'sender', event, server, zip, bytes: digest.bytes, from: server, to: p.parent, origin: parseOuterName(zip).server, message, ...(severity ? { severity } : {}) },
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
