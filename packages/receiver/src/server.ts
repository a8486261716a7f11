/**
 * The Receiver's HTTP(S) server (SPEC §4): routes, TLS and timeouts.
 * HTTPS unless `receiver.tls` is false; with `clientCa`, a client without a
 * certificate signed by it fails the TLS handshake, so its request never
 * reaches a handler and no byte of it is stored.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { access, constants, readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import {
  HEALTH_PATH,
  INFO_PATH,
  ZIPS_PATH,
  fsError,
  healthReasons,
  runHealthChecks,
  type FreeSpace,
  type HealthCheck,
  type HealthReport,
  type HealthResult,
  type ReceiverInfo,
} from '@zenroll/core';
import { UploadError, sendError, sendJson } from './answer.js';
import type { Logger } from './logger.js';
import { handleUpload, type UploadContext } from './upload.js';

export interface TlsFiles {
  cert: string;
  key: string;
  clientCa: string | null;
}

export interface ServerContext {
  upload: UploadContext;
  /** `GET /v1/info`; the request is there for what a polling child sends with it (SPEC §8). */
  info: (req: IncomingMessage) => Promise<ReceiverInfo>;
  freeSpace: (dir: string) => Promise<FreeSpace>;
  logger: Logger;
  /** The running service's health report (SPEC §9), when the Receiver runs in one. */
  serviceHealth?: () => Promise<HealthReport>;
}

function methodNotAllowed(res: ServerResponse, allow: string, method: string | undefined): void {
  sendError(res, new UploadError('METHOD_NOT_ALLOWED', `${method ?? '?'} is not allowed here; use ${allow}`), { allow });
}

/** The Receiver's own check (SPEC §4): ok when an upload could be accepted now: not stopping, zipdir writable, free space above minFreeBytes. */
export async function receiverHealth(
  u: UploadContext,
  freeSpace: ServerContext['freeSpace'],
): Promise<HealthResult & { freeBytes?: number }> {
  if (u.closing()) return { state: 'failing', reason: 'the Receiver is stopping' };
  try {
    await access(u.zipdir, constants.W_OK);
    const freeBytes = (await freeSpace(u.zipdir)).availableBytes;
    if (freeBytes < u.minFreeBytes)
      return { state: 'failing', reason: `zipdir has ${freeBytes} bytes free, under minFreeBytes ${u.minFreeBytes}`, freeBytes };
    return { state: 'ok', freeBytes };
  } catch (err) {
    return { state: 'failing', reason: fsError(err, 'write into zipdir', u.zipdir).message };
  }
}

/**
 * 200 when the service is healthy or degraded, 503 (UNHEALTHY, with the
 * reasons) when a check fails: the service's whole report (SPEC §9) when it
 * gave one, else the Receiver's own check.
 */
async function health(ctx: ServerContext, res: ServerResponse): Promise<void> {
  const u = ctx.upload;
  let freeBytes: number | undefined;
  const own: HealthCheck = {
    name: 'receiver',
    run: async () => {
      const r = await receiverHealth(u, ctx.freeSpace);
      freeBytes = r.freeBytes;
      return r.reason === undefined ? { state: r.state } : { state: r.state, reason: r.reason };
    },
  };
  const report = ctx.serviceHealth ? await ctx.serviceHealth() : await runHealthChecks([own]);
  if (report.status === 'failing') {
    sendJson(res, 503, { error: 'UNHEALTHY', message: healthReasons(report), ...report });
    return;
  }
  if (ctx.serviceHealth) freeBytes = (await receiverHealth(u, ctx.freeSpace)).freeBytes;
  sendJson(res, 200, { ...report, freeBytes, uploads: u.slots.active, waiting: u.slots.waiting, promotionsPending: u.promoter.pending });
}

export function requestHandler(ctx: ServerContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (path === INFO_PATH || path === HEALTH_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD', req.method);
        if (path === INFO_PATH) return sendJson(res, 200, await ctx.info(req));
        return await health(ctx, res);
      }
      if (path.startsWith(ZIPS_PATH) && path.length > ZIPS_PATH.length && !path.slice(ZIPS_PATH.length).includes('/')) {
        if (req.method !== 'PUT') return methodNotAllowed(res, 'PUT', req.method);
        const done = handleUpload(ctx.upload, req, res, path.slice(ZIPS_PATH.length));
        ctx.upload.slots.track(req, done);
        return await done;
      }
      sendError(res, new UploadError('NOT_FOUND', `no such path ${JSON.stringify(path.slice(0, 100))}; see docs/SPEC.md §4`));
    } catch (err) {
      ctx.logger.error({ err, path }, 'request failed');
      sendError(res, new UploadError('INTERNAL', 'the Receiver failed; see its log'));
    }
  };
}

export interface ServerOptions {
  tls: TlsFiles | false;
  /** Inactivity limit for headers and body (`receiver.requestTimeoutMs`). */
  timeoutMs: number;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fsError(err, `read the ${what}`, path);
  }
}

export async function createReceiverServer(ctx: ServerContext, o: ServerOptions): Promise<Server> {
  const handler = requestHandler(ctx);
  // Node checks headersTimeout on this interval; the default (30 s) is coarser than short timeouts.
  const checking = { connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(o.timeoutMs / 2))) };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handler(req, res);
  let server: Server;
  if (o.tls === false) {
    server = createHttpServer({ ...checking }, onRequest);
  } else {
    const clientCa = o.tls.clientCa === null ? undefined : await readPem(o.tls.clientCa, 'client CA certificate');
    server = createHttpsServer(
      {
        ...checking,
        cert: await readPem(o.tls.cert, 'TLS certificate'),
        key: await readPem(o.tls.key, 'TLS key'),
        minVersion: 'TLSv1.2',
        ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }),
      },
      onRequest,
    );
    server.on('tlsClientError', (err: Error & { code?: string }, socket) => {
      ctx.logger.warn({ remote: socket.remoteAddress, error: err.code, message: err.message }, 'TLS handshake refused');
    });
  }
  // Headers get timeoutMs, and so does each pause in a body (the upload's own idle timer). An
  // upload as a whole has no limit, since a large zip on a slow link may rightly take long, and
  // the socket has no idle limit of its own: it would also cut the wait for a long verification.
  // `Expect: 100-continue`: the same handler, which sends 100 only once the checks before the body pass.
  server.on('checkContinue', onRequest);
  server.headersTimeout = o.timeoutMs;
  server.requestTimeout = 0;
  server.timeout = 0;
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    ctx.logger.warn(
      { remote: socket instanceof Socket ? socket.remoteAddress : undefined, error: err.code, message: err.message },
      'bad request',
    );
    if (socket.writable && err.code !== 'ECONNRESET') {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      const body = JSON.stringify({ error: status.startsWith('408') ? 'REQUEST_TIMEOUT' : 'UPLOAD_INVALID', message: err.message });
      socket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.destroy();
    }
  });
  return server;
}
