/**
 * The service's admin endpoint: HTTP on a Unix socket in `statedir` (only
 * users who may open the state folder reach it; no port to configure), and
 * the same routes on `admin.listen` (loopback TCP) for Prometheus.
 *   GET  /v1/status   the service's status (JSON)
 *   POST /v1/rollup   a forced roll-up; answers when it is done, with its result
 *   POST /v1/rollup-tree  a roll-up request for every server below (SPEC §8)
 *   GET  /v1/health   the health report (SPEC §9): 200 ok or degraded, 503 failing, with the reasons
 *   GET  /metrics     Prometheus text
 *   GET  /tree, /tree/server/NAME   the tree page (SPEC §8), on admin.listen only
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readdir, readlink, rename, symlink } from 'node:fs/promises';
import { remove } from 'fs-extra/esm';
import {
  ZenrollError,
  errnoCode,
  errorSpec,
  fieldOf,
  healthHttpStatus,
  isErrorCode,
  listenError,
  messageOf,
  splitHostPort,
  isRecord,
  type ErrorCode,
  type HealthReport,
} from '@zenroll/core';

export function adminSocketPath(statedir: string): string {
  return join(statedir, 'admin.sock');
}

/**
 * A Unix socket's path holds at most 107 bytes on Linux (103 on macOS and
 * the BSDs). Node cuts a longer one short without a word and binds the
 * socket somewhere else, where two servers' sockets could even meet.
 */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

function socketFits(socket: string): boolean {
  return Buffer.byteLength(socket) <= MAX_SOCKET_PATH_BYTES;
}

export interface AdminRoutes {
  status(): Promise<unknown>;
  /** `onEvent` hears the roll-up's events as they happen (`POST /v1/rollup?events=1`: NDJSON). */
  rollup(onEvent?: (event: unknown) => void): Promise<unknown>;
  /** `zenroll rollup --tree`: set a roll-up request for every server below (SPEC §8). */
  rollupTree(): Promise<unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The health report (SPEC §9); 503 when failing. */
  health(): Promise<HealthReport & Record<string, unknown>>;
  /** `GET /tree` and `GET /tree/server/NAME`, only on admin.listen (SPEC §8); null: no such page. */
  page?(path: string): Promise<{ status: number; body: string } | null>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A ZenrollError crosses the socket with its code (and fix), so the CLI exits as if it had run the work itself. */
function errorBody(err: unknown): { error: ErrorCode; message: string; fix?: string } {
  const [code, fix] = [fieldOf(err, 'code'), fieldOf(err, 'fix')];
  return { error: isErrorCode(code) ? code : 'INTERNAL', message: messageOf(err), ...(typeof fix === 'string' ? { fix } : {}) };
}

function handler(routes: AdminRoutes, pages: boolean) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const route = `${req.method} ${req.url}`;
    const answer = async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (pages && routes.page && req.method === 'GET' && (path === '/tree' || path.startsWith('/tree/'))) {
        const p = await routes.page(path);
        if (p !== null) {
          res.writeHead(p.status, {
            'content-type': 'text/html; charset=utf-8',
            'content-length': Buffer.byteLength(p.body),
            'cache-control': 'no-store',
          });
          return res.end(p.body);
        }
      }
      switch (route) {
        case 'GET /v1/status':
          return send(res, 200, await routes.status());
        case 'GET /v1/health': {
          const report = await routes.health();
          return send(res, healthHttpStatus(report), report);
        }
        case 'POST /v1/rollup':
          return send(res, 200, await routes.rollup());
        case 'POST /v1/rollup?events=1': {
          // SPEC §1: no command sits silent, not even one the service runs: each event a line, then the result (or the error).
          res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
          const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
          try {
            line({ result: await routes.rollup((event) => line({ event })) });
          } catch (err) {
            line(errorBody(err));
          }
          return res.end();
        }
        case 'POST /v1/rollup-tree':
          return send(res, 200, await routes.rollupTree());
        case 'GET /metrics': {
          const m = await routes.metrics();
          res.writeHead(200, { 'content-type': m.contentType });
          return res.end(m.body);
        }
        default:
          return send(res, 404, { error: 'NOT_FOUND', message: `no admin route ${route}` });
      }
    };
    req.resume();
    answer().catch((err: unknown) => {
      const body = errorBody(err);
      if (!res.headersSent) send(res, errorSpec(body.error).http ?? 500, body);
      else res.destroy();
    });
  };
}

async function listen(server: Server, target: string | { host: string; port: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(typeof target === 'string' ? err : listenError('admin.listen', target.host, target.port, err)));
    if (typeof target === 'string') server.listen(target, resolve);
    else server.listen(target.port, target.host, resolve);
  });
}

export interface AdminServer {
  socket: string;
  tcp: string | null;
  close(): Promise<void>;
}

/**
 * The socket is bound at a name of its own (`<hex>.admin.sock`) and
 * `admin.sock` is a symlink to it, replaced atomically: closing a Unix
 * socket server unlinks the name it was bound to, so a holder that stops
 * after another node took serve.lock over must not have bound the name the
 * new holder's socket is reached by.
 */
export async function startAdmin(statedir: string, tcpListen: string | null, routes: AdminRoutes): Promise<AdminServer> {
  const socket = adminSocketPath(statedir);
  const own = `${randomBytes(3).toString('hex')}.admin.sock`;
  const bound = join(statedir, own);
  if (!socketFits(bound)) {
    throw new ZenrollError(
      'CONFIG_INVALID',
      `the admin socket ${bound} would be ${Buffer.byteLength(bound)} bytes long, more than the ${MAX_SOCKET_PATH_BYTES} a Unix socket path may have: set dirs.statedir to a shorter folder`,
    );
  }
  // The serve lock is held, so other sockets here are left over from a process that died (or one paused and taken over).
  for (const name of await readdir(statedir)) {
    if (/^[0-9a-f]{6}\.admin\.sock$/.test(name)) await remove(join(statedir, name));
  }
  const servers: Server[] = [];
  // A forced roll-up answers when it is done, which may take as long as its retries: no request time limit.
  const unix = createServer({ requestTimeout: 0 }, handler(routes, false));
  await listen(unix, bound);
  servers.push(unix);
  const link = `${socket}.${own}.tmp`;
  await remove(link);
  await symlink(own, link);
  await rename(link, socket);
  let tcp: string | null = null;
  if (tcpListen !== null) {
    const hp = splitHostPort(tcpListen);
    if (hp === null) throw new ZenrollError('CONFIG_INVALID', `admin.listen ${JSON.stringify(tcpListen)} is not HOST:PORT`);
    const server = createServer({ requestTimeout: 0 }, handler(routes, true));
    await listen(server, hp);
    const addr = server.address();
    tcp =
      typeof addr === 'object' && addr !== null
        ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
        : null;
    servers.push(server);
  }
  return {
    socket,
    tcp,
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      if ((await readlink(socket).catch(() => null)) === own) await remove(socket);
    },
  };
}

/** Ask the running service; null when none runs for these folders. */
export async function askService<T>(
  statedir: string,
  method: 'GET' | 'POST',
  path: string,
  o: { timeoutMs?: number /** Events as they happen (`POST /v1/rollup` only). */; onEvent?: (event: unknown) => void } = {},
): Promise<T | null> {
  // No service can listen there (startAdmin refuses): none runs.
  if (!socketFits(adminSocketPath(statedir))) return null;
  return new Promise<T | null>((resolve, reject) => {
    // --max-wait: stop waiting for the service, which goes on with the work (exit 1).
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            req.destroy();
            reject(
              new ZenrollError(
                'WAIT_EXCEEDED',
                `the running service has not finished ${path} within --max-wait (${Math.round((o.timeoutMs ?? 0) / 1000)} s); it goes on with it, and zenroll status shows how it ends`,
              ),
            );
          }, o.timeoutMs);
    const asked = o.onEvent === undefined ? path : `${path}?events=1`;
    const req = request({ socketPath: adminSocketPath(statedir), method, path: asked }, (res) => {
      res.on('close', () => clearTimeout(timer));
      const chunks: Buffer[] = [];
      const onEvent = o.onEvent;
      if (onEvent !== undefined && String(res.headers['content-type']).startsWith('application/x-ndjson')) {
        // One JSON object a line: events as they happen, then {result} or {error, message, fix}.
        let pending = '';
        let last: Record<string, unknown> = {};
        res.setEncoding('utf8').on('data', (t: string) => {
          pending += t;
          for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
            const obj: unknown = JSON.parse(pending.slice(0, i));
            pending = pending.slice(i + 1);
            if (!isRecord(obj)) continue;
            if ('event' in obj) onEvent(obj.event);
            else last = obj;
          }
        });
        res.on('end', () => {
          // biome-ignore lint/nursery/noUnsafeTypeAssertion: this server's own service answered (same version); the caller names the route's type
          if ('result' in last) return resolve(last.result as T);
          const message = typeof last.message === 'string' ? last.message : `the service answered ${path} with no result`;
          const details = { remote: last.error, ...(typeof last.fix === 'string' ? { fix: last.fix } : {}) };
          reject(new ZenrollError(isErrorCode(last.error) ? last.error : 'INTERNAL', message, { details }));
        });
        res.on('error', reject);
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (cause) {
          return reject(new ZenrollError('INTERNAL', `the service answered ${path} with something other than JSON`, { cause }));
        }
        // biome-ignore lint/nursery/noUnsafeTypeAssertion: this server's own service answered (same version); the caller names the route's type
        if (res.statusCode === 200) return resolve(body as T);
        // The service's error keeps its code, its message and its fix (SPEC §5: a relayed code stays the same code).
        const [error, said, fix] = [fieldOf(body, 'error'), fieldOf(body, 'message'), fieldOf(body, 'fix')];
        const message = typeof said === 'string' ? said : `the service answered ${path} with ${res.statusCode}`;
        const details = { remote: error, ...(typeof fix === 'string' ? { fix } : {}) };
        if (isErrorCode(error)) return reject(new ZenrollError(error, message, { details }));
        reject(new ZenrollError('INTERNAL', `the service answered ${path}: ${String(error ?? res.statusCode)}: ${message}`, { details }));
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ECONNREFUSED') resolve(null);
      else reject(err);
    });
    req.end();
  });
}

/**
 * GET a route of the running service whatever its status (`/v1/health` answers
 * 503 with a body); null when none runs for these folders. A service that
 * does not answer within `timeoutMs` (frozen, its disk hung) is an error.
 */
export async function getFromService(statedir: string, path: string, timeoutMs: number): Promise<{ status: number; body: unknown } | null> {
  if (!socketFits(adminSocketPath(statedir))) return null;
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: adminSocketPath(statedir), method: 'GET', path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (cause) {
          reject(new ZenrollError('INTERNAL', `the service answered ${path} with something other than JSON`, { cause }));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new ZenrollError('INTERNAL', `the service did not answer ${path} within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ECONNREFUSED') resolve(null);
      else reject(err);
    });
    req.end();
  });
}
