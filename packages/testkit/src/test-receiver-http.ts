/**
 * The TestReceiver's answers, as the real Receiver gives them (SPEC §4):
 * the routes, /v1/info, the checks made before a byte of the body, and the
 * refusals with their status from core's one error table. What it does
 * with an upload and with the faults it is told to meet is test-receiver.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  HEALTH_PATH,
  INFO_PATH,
  ZIPS_PATH,
  encodeName,
  errorSpec,
  isErrorCode,
  messageOf,
  parseOuterName,
  parseReprDigest,
  parseSenderHeader,
  type KeyLookup,
  type ZenrollError,
} from '@zenroll/core';

/** An answer of the real Receiver's (receiver answer.ts UploadError): the status from the one error table. */
export class Refusal extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    readonly extra: { fix?: string; retryAfterS?: number } = {},
  ) {
    super(message);
    this.status = isErrorCode(code) ? (errorSpec(code).http ?? 500) : 500;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function refuse(res: ServerResponse, e: Refusal, headers: Record<string, string> = {}): void {
  const retry: Record<string, string> = e.extra.retryAfterS === undefined ? {} : { 'retry-after': String(e.extra.retryAfterS) };
  sendJson(
    res,
    e.status,
    { error: e.code, message: e.message, ...(e.extra.fix === undefined ? {} : { fix: e.extra.fix }) },
    {
      ...headers,
      ...retry,
    },
  );
}

/** The fix the real Receiver names for a signer it does not trust (receiver upload.ts trustFix). */
export function trustFix(err: ZenrollError, self: string): string | undefined {
  const origin = typeof err.details.server === 'string' ? err.details.server : null;
  if (origin === null) return undefined;
  if (err.code === 'PRP_SIGNER_UNKNOWN')
    return `on ${self}: zenroll trust add --name ${origin} FILE, with FILE a copy of ${origin}'s keys/server.pub`;
  if (err.code === 'PRP_SIGNER_MISMATCH') return `on ${self}: zenroll trust list shows whom the key is bound to`;
  return undefined;
}

/** The outer name of a path segment, as the real one reads it (receiver request-checks.ts zipNameOf, its common case). */
export function zipNameOf(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    name = segment;
  }
  try {
    if (parseOuterName(name).status === 1)
      throw new Refusal('NAME_INVALID', `zip name ${name} has stored status 1, which only a dbdir holds`);
  } catch (err) {
    if (err instanceof Refusal) throw err;
    throw new Refusal('NAME_INVALID', messageOf(err));
  }
  return name;
}

/** One upload of a batch at a time, whatever stored status its name carries (receiver receipts.ts batchStem). */
export function batchStem(name: string): string {
  const n = parseOuterName(name);
  return `${n.scheduledtime}_${encodeName(n.server)}_`;
}

/** What the real one checks before a byte of the body (receiver request-checks.ts): the digest the body must have. */
export function checkHeaders(name: string, req: IncomingMessage, maxZipBytes: number): Buffer {
  const header = req.headers['repr-digest'];
  let digest: Buffer;
  try {
    digest = parseReprDigest(Array.isArray(header) ? header.join(', ') : header);
  } catch (err) {
    throw new Refusal('UPLOAD_INVALID', messageOf(err));
  }
  const length = req.headers['content-length'];
  if (length === undefined || !/^\d+$/.test(length)) throw new Refusal('UPLOAD_INVALID', 'Content-Length is required (a byte count)');
  if (Number(length) > maxZipBytes) {
    throw new Refusal('ZIP_OVER_LIMIT', `zip ${name} is ${length} bytes; this Receiver accepts at most ${maxZipBytes}`);
  }
  return digest;
}

/** What /v1/info tells (SPEC §4), from the receiver's state at the time of asking. */
export interface InfoState {
  server: string;
  tree: string;
  role: string;
  discardBefore: string | null;
  maxZipBytes: number;
  rollupRequested: string | null;
  trust: { lookup: KeyLookup } | undefined;
}

export function infoBody(req: IncomingMessage, state: InfoState): Record<string, unknown> {
  // `?key=<key id>&server=<encoded name>`: a child asks whether its key is trusted here (issue 16).
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const key = query.get('key');
  const asker = parseSenderHeader(query.get('server') ?? undefined);
  let keyTrusted: boolean | undefined;
  if (key !== null && /^[0-9a-f]{32}$/.test(key) && asker !== null) {
    const grants = state.trust === undefined ? [{ server: null }] : (state.trust.lookup(key)?.grants ?? []);
    keyTrusted = grants.some((g) => g.server === null || g.server === asker);
  }
  return {
    server: state.server,
    tree: state.tree,
    role: state.role,
    discardBefore: state.discardBefore,
    maxZipBytes: state.maxZipBytes,
    rollupRequested: state.rollupRequested,
    ...(keyTrusted === undefined ? {} : { keyTrusted }),
  };
}

/** Answer /v1/info and /v1/health, refuse unknown paths and methods; hand a PUT of a zip to `put` with its path segment. */
export async function route(
  req: IncomingMessage,
  res: ServerResponse,
  on: { info(): InfoState; put(segment: string): Promise<void> },
): Promise<void> {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (path === INFO_PATH || path === HEALTH_PATH) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, new Refusal('METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed here; use GET, HEAD`), {
        allow: 'GET, HEAD',
      });
    } else if (path === INFO_PATH) {
      sendJson(res, 200, infoBody(req, on.info()));
    } else {
      sendJson(res, 200, { status: 'ok', checks: [] });
    }
    return;
  }
  const segment = path.startsWith(ZIPS_PATH) ? path.slice(ZIPS_PATH.length) : '';
  if (segment === '' || segment.includes('/')) {
    refuse(res, new Refusal('NOT_FOUND', `no such path ${JSON.stringify(path.slice(0, 100))}; see docs/SPEC.md §4`));
    return;
  }
  if (req.method !== 'PUT') {
    refuse(res, new Refusal('METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed here; use PUT`), { allow: 'PUT' });
    return;
  }
  await on.put(segment);
}
