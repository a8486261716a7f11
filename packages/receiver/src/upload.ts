/**
 * `PUT /v1/zips/<name>` (SPEC §4), step by step (docs/DESIGN.md "Receive"):
 * check the request, answer a retry from its receipt, take a slot, check the
 * free space, stream the body into a temp file in zipdir, check its digest,
 * verify it, rename it into zipdir, write the receipt, answer 201, queue the
 * promotion. Any refusal removes the temp (or quarantines it) before the
 * answer goes out.
 *
 * Choices: the same name while it is being uploaded is `503 UPLOAD_IN_PROGRESS`
 * with Retry-After (the first upload may still fail; once it is stored the
 * retry is answered 200). A refusal before the body is read is answered at
 * once, with keep-alive; Node discards the rest of the body, which keeps the
 * answer readable for undici and node:http clients that are still sending
 * (`Connection: close` makes undici lose it to EPIPE over TLS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  crashPoint,
  errorSpec,
  isZenrollError,
  moveDurable,
  parseOuterName,
  parseSenderHeader,
  SENDER_HEADER,
  removeDurable,
  tempPath,
  type FreeSpace,
  type RollupLog,
  type ZenrollError,
  messageOf,
} from '@zenroll/core';
import { UploadError, sendError, sendJson } from './answer.js';
import type { Logger } from './logger.js';
import type { Promoter } from './promote.js';
import { closeIfNoBody, drainRest, expectsContinue } from './body-flow.js';
import { setAside } from './quarantine.js';
import { batchStem, type ReceiptStore } from './receipts.js';
import { writeRecord } from './records.js';
import { checkClockSkew, checkUploadRequest, type UploadRequest } from './request-checks.js';
import type { UploadSlots } from './slots.js';
import { storeBody } from './store-body.js';
import { verifyUpload, type TrustOptions } from './trust.js';

export interface UploadContext {
  server: string;
  zipdir: string;
  /** Copies promotion makes of each zip (the free-space check counts them). */
  promotionTargets: number;
  maxZipBytes: number;
  /** Zips scheduled further ahead of `now` than this are refused (ZIP_TIME_AHEAD). */
  maxClockSkewMs: number;
  minFreeBytes: number;
  /** A body that sends nothing for this long is cut. */
  idleMs: number;
  quarantineDir: string | null;
  receipts: ReceiptStore;
  promoter: Promoter;
  slots: UploadSlots;
  trust: TrustOptions;
  freeSpace: (dir: string) => Promise<FreeSpace>;
  log: RollupLog;
  logger: Logger;
  now: () => number;
  closing: () => boolean;
}

const RETRY_AFTER_S = { busy: 5, inProgress: 15, stopping: 30 } as const;

const stoppingError = () => new UploadError('SHUTTING_DOWN', 'the Receiver is stopping', { retryAfterS: RETRY_AFTER_S.stopping });

type Outcome = 'stored' | 'already-received' | 'refused' | 'busy' | 'aborted' | 'failed';

function outcomeOf(e: UploadError): Outcome {
  if (e.options.aborted === true || e.status === 408 || e.code === 'SHUTTING_DOWN') return 'aborted';
  if (e.status === 503) return 'busy';
  return e.status >= 500 && e.status !== 507 ? 'failed' : 'refused';
}

/** A signer this Receiver does not trust is fixed here, by its operator: the answer says how (SPEC §1). */
function trustFix(err: ZenrollError, self: string): string | undefined {
  const origin = typeof err.details.server === 'string' ? err.details.server : null;
  if (origin === null) return undefined;
  if (err.code === 'PRP_SIGNER_UNKNOWN') {
    return `on ${self}: zenroll trust add --name ${origin} FILE, with FILE a copy of ${origin}'s keys/server.pub`;
  }
  if (err.code === 'PRP_SIGNER_MISMATCH') {
    return `on ${self}: zenroll trust list shows whom the key is bound to; give ${origin} its own key (zenroll init makes one) and trust that one`;
  }
  return undefined;
}

function toUploadError(err: unknown, req: IncomingMessage, ctx: UploadContext): UploadError {
  if (err instanceof UploadError) return err;
  if (isZenrollError(err)) {
    const fix = err.fix ?? trustFix(err, ctx.server);
    return new UploadError(err.code, err.message, { cause: err, ...(fix === undefined ? {} : { fix }) });
  }
  if (!req.complete) {
    return ctx.closing()
      ? new UploadError('SHUTTING_DOWN', 'the Receiver stopped during the upload', { cause: err, retryAfterS: RETRY_AFTER_S.stopping })
      : new UploadError('UPLOAD_INVALID', 'the connection closed before the body was complete', { cause: err, aborted: true });
  }
  return new UploadError('INTERNAL', `the upload failed: ${messageOf(err)}`, { cause: err });
}

async function checkSpace(ctx: UploadContext, length: number): Promise<void> {
  const { availableBytes } = await ctx.freeSpace(ctx.zipdir);
  const need = length * (1 + ctx.promotionTargets) + ctx.minFreeBytes;
  if (availableBytes < need) {
    throw new UploadError(
      'FS_NO_SPACE',
      `zipdir has ${availableBytes} bytes free; this upload needs ${need} (the zip, ${ctx.promotionTargets} promoted copies and minFreeBytes ${ctx.minFreeBytes})`,
    );
  }
}

interface UploadState {
  /** Our temp file in zipdir, while there is one. */
  temp: string | null;
  bytes: number;
  /** Let the next upload of this name in (idempotent). */
  releaseName: () => void;
  /** 100 Continue was sent: the client sends its body. */
  continued: boolean;
}

async function receive(
  ctx: UploadContext,
  req: IncomingMessage,
  res: ServerResponse,
  r: UploadRequest,
  state: UploadState,
): Promise<Outcome> {
  // The same batch under another tree or stored status (a replay) is the same zip: never stored twice.
  const receipt = (await ctx.receipts.get(r.name)) ?? (await ctx.receipts.findBatch(r.name));
  if (receipt !== null) {
    const as = receipt.name === r.name ? '' : ` as ${receipt.name}`;
    if (receipt.sha256 !== r.digest.toString('hex')) {
      throw new UploadError(
        'ZIP_CONFLICT',
        `zip ${r.name} was received${as} on ${receipt.receivedAt} with SHA-256 ${receipt.sha256}; this one has ${r.digest.toString('hex')}`,
      );
    }
    sendJson(
      res,
      200,
      {
        status: 'already-received',
        zip: r.name,
        ...(as ? { receivedAs: receipt.name } : {}),
        sha256: receipt.sha256,
        bytes: receipt.bytes,
        receivedAt: receipt.receivedAt,
      },
      closeIfNoBody(req, state.continued),
    );
    return 'already-received';
  }
  if (ctx.closing()) throw stoppingError();
  const slot = await ctx.slots.waitForBody(req);
  try {
    // Stopping while we waited in line: a slot we got meanwhile is not ours to use.
    if (ctx.closing()) throw stoppingError();
    if (!slot) {
      throw new UploadError(
        'BUSY',
        `the Receiver is receiving ${ctx.slots.max} uploads, as many as it may, and ${ctx.slots.waiting} more wait for one`,
        { retryAfterS: RETRY_AFTER_S.busy },
      );
    }
    await checkSpace(ctx, r.length);
    // Every check that needs no body passed: now ask for it (curl sends `Expect: 100-continue` for large bodies).
    if (expectsContinue(req)) {
      res.writeContinue();
      state.continued = true;
    }
    const temp = tempPath(join(ctx.zipdir, r.name));
    const bodyStarted = ctx.now();
    // storeBody removes its file when it fails; from here on the file is ours to remove.
    const body = await storeBody(req, temp, {
      maxBytes: ctx.maxZipBytes,
      expectedBytes: r.length,
      idleMs: ctx.idleMs,
      onOpen: () => ctx.logger.debug({ zip: r.name, bytes: r.length, temp }, 'receiving'),
    });
    state.temp = temp;
    state.bytes = body.bytes;
    const transferMs = Math.max(0, Math.round(ctx.now() - bodyStarted));
    if (!body.sha256.equals(r.digest)) {
      throw new UploadError(
        'DIGEST_MISMATCH',
        `the body's SHA-256 is ${body.sha256.toString('base64')}; Repr-Digest says ${r.digest.toString('base64')}`,
      );
    }
    let files: number;
    try {
      files = (await verifyUpload(temp, r.name, { maxZipBytes: ctx.maxZipBytes }, ctx.trust)).files.length;
    } catch (err) {
      const e = toUploadError(err, req, ctx);
      if (e.status === 401 || e.status === 403 || e.status === 422) {
        state.temp = null;
        const reason = {
          status: e.status,
          error: e.code,
          message: e.message,
          receivedAt: new Date(ctx.now()).toISOString(),
          bytes: body.bytes,
          sha256: body.sha256.toString('hex'),
          remoteAddress: req.socket.remoteAddress ?? null,
        };
        await setAside(temp, r.name, reason, ctx);
      }
      throw e;
    }
    const stored = join(ctx.zipdir, r.name);
    await moveDurable(temp, stored);
    state.temp = null;
    crashPoint('receive-after-store');
    const receipt = await ctx.receipts
      .create({ name: r.name, sha256: body.sha256.toString('hex'), bytes: body.bytes, files })
      .catch(async (err: unknown) => {
        // A zip in zipdir without its receipt would make every retry of its name fail (it exists) until a restart
        // recovers it: take it back, so that the answer (507 on a full disk) means what it says, nothing stored.
        await removeDurable(stored).catch((cause: unknown) =>
          ctx.logger.error({ zip: r.name, err: cause }, 'could not take back a zip whose receipt failed; the next start recovers it'),
        );
        throw err;
      });
    // From here the receipt answers a retry (200): one sent the moment it reads our 201 must not get 503.
    state.releaseName();
    sendJson(res, 201, { status: 'stored', zip: r.name, sha256: receipt.sha256, bytes: receipt.bytes, files });
    // The hop is the server that sent this upload (it names itself); the origin made the batch (SPEC §7).
    await writeRecord(ctx, {
      event: 'received',
      zip: r.name,
      bytes: body.bytes,
      files,
      from: r.sender ?? '',
      to: ctx.server,
      origin: parseOuterName(r.name).server,
      transferMs,
    });
    ctx.promoter.enqueue(r.name);
    return 'stored';
  } finally {
    if (slot) ctx.slots.releaseBody();
  }
}

/** Handle one upload; never rejects. */
export async function handleUpload(ctx: UploadContext, req: IncomingMessage, res: ServerResponse, segment: string): Promise<void> {
  const started = ctx.now();
  let name: string | undefined;
  /** The batch claimed in the slots: one upload of a batch at a time, whatever name it comes under. */
  let claimed: string | undefined;
  const state: UploadState = {
    temp: null,
    bytes: 0,
    continued: false,
    releaseName: () => {
      if (claimed !== undefined) ctx.slots.releaseName(claimed);
      claimed = undefined;
    },
  };
  let outcome: Outcome = 'failed';
  let error: UploadError | undefined;
  try {
    const r = checkUploadRequest(segment, req.headers, ctx.maxZipBytes);
    name = r.name;
    checkClockSkew(r.name, r.sender, ctx.now(), ctx.maxClockSkewMs);
    const batch = batchStem(r.name);
    if (!ctx.slots.claimName(batch)) {
      throw new UploadError('UPLOAD_IN_PROGRESS', `zip ${r.name} (or its batch under another name) is being uploaded right now`, {
        retryAfterS: RETRY_AFTER_S.inProgress,
      });
    }
    claimed = batch;
    outcome = await receive(ctx, req, res, r, state);
  } catch (err) {
    error = toUploadError(err, req, ctx);
    outcome = outcomeOf(error);
    if (state.temp !== null) await unlink(state.temp).catch(() => undefined);
    sendError(res, error, closeIfNoBody(req, state.continued));
  } finally {
    state.releaseName();
  }
  if (!req.complete && !req.destroyed) drainRest(req, ctx.idleMs);
  // Refusals are worth a `rejected` record; busy, aborted and our own failures go to the operational log only.
  if (error !== undefined && outcome === 'refused') {
    const transient = errorSpec(error.code).retry;
    await writeRecord(ctx, {
      event: 'rejected',
      severity: transient ? 'warning' : 'error',
      zip: name ?? segment.slice(0, 200),
      bytes: state.bytes,
      from: parseSenderHeader(req.headers[SENDER_HEADER]) ?? '',
      to: ctx.server,
      origin: name === undefined ? '' : parseOuterName(name).server,
      message: `${error.status} ${error.code}: ${error.message}${error.options.fix === undefined ? '' : `; fix: ${error.options.fix}`}`,
    });
  }
  const line = {
    zip: name ?? segment.slice(0, 200),
    bytes: state.bytes,
    ms: ctx.now() - started,
    outcome,
    status: error?.status ?? res.statusCode,
    ...(error === undefined
      ? {}
      : { error: error.code, message: error.message, ...(error.options.fix === undefined ? {} : { fix: error.options.fix }) }),
    remote: req.socket.remoteAddress,
  };
  if (outcome === 'failed') ctx.logger.error({ ...line, err: error?.cause }, 'upload');
  else if (error !== undefined) ctx.logger.warn(line, 'upload');
  else ctx.logger.info(line, 'upload');
}
