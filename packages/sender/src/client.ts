/**
 * The Sender's side of the wire protocol (SPEC §4), over undici: TLS per
 * `sender.tls` (a CA besides the system ones, an optional client
 * certificate), an HTTP(S) proxy per `sender.proxy` (CONNECT tunnel), and an
 * inactivity timeout of `sender.timeoutMs` on every phase of a request.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, Pool, ProxyAgent, request, type Dispatcher } from 'undici';
import {
  INFO_PATH,
  ZenrollError,
  crashPoint,
  formatReprDigest,
  formatSenderHeader,
  SENDER_HEADER,
  fsError,
  shown,
  zipPath,
  type Config,
  type ReceiverInfo,
  isRecord,
} from '@zenroll/core';
import { parseRetryAfter } from './backoff.js';
import { connectionFailure, stalled } from './failure.js';

export interface PutAnswer {
  status: number;
  /** The answer's JSON (SPEC §4: every error body is `{error, message}`), or its text when it is not JSON. */
  body: unknown;
  retryAfterMs: number | null;
}

export interface ZipUpload {
  name: string;
  path: string;
  bytes: number;
  sha256: Buffer;
}

export interface ParentClient {
  readonly url: string;
  /** `headers`: what a polling service tells its parent (SPEC §8, its own description). */
  info(signal?: AbortSignal, headers?: Record<string, string>): Promise<ReceiverInfo>;
  /** Resolves with any answer; when there was none, throws RECEIVER_UNREACHABLE (may pass), RECEIVER_TLS_UNTRUSTED or RECEIVER_PROTOCOL_MISMATCH (will not). */
  putZip(zip: ZipUpload, signal?: AbortSignal): Promise<PutAnswer>;
  close(): Promise<void>;
}

type SenderConfig = Config['sender'];

// An answer body is read to show the operator; anything past this is cut.
const MAX_ANSWER_BYTES = 64 * 1024;

async function readPem(path: string | null, what: string): Promise<string | undefined> {
  if (path === null) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw fsError(err, `read sender.tls.${what}`, path);
  }
}

/** The dispatcher for `sender`: a ProxyAgent when a proxy is set, else an Agent. */
export async function makeDispatcher(sender: SenderConfig): Promise<Dispatcher> {
  const ca = await readPem(sender.tls.ca, 'ca');
  const cert = await readPem(sender.tls.cert, 'cert');
  const key = await readPem(sender.tls.key, 'key');
  // Node's `ca` replaces the system store; sender.tls.ca is trusted besides it.
  const tls = {
    ...(ca === undefined ? {} : { ca: [...rootCertificates, ca] }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
  const timeouts = { headersTimeout: sender.timeoutMs, bodyTimeout: sender.timeoutMs };
  // A cluster's floating address (SPEC §9): the parent (or the proxy) sees connections come from it.
  // undici's connector takes the local address from the client's options, not from `connect`'s.
  const from = sender.localAddress === null ? {} : { localAddress: sender.localAddress };
  if (sender.proxy !== null) {
    return new ProxyAgent({
      uri: sender.proxy,
      requestTls: tls,
      ...(ca === undefined ? {} : { proxyTls: { ca: [...rootCertificates, ca] } }),
      connect: { timeout: sender.timeoutMs },
      // The connection to the proxy is the one that leaves this node.
      ...(sender.localAddress === null ? {} : { clientFactory: (origin: URL, opts: object) => new Pool(origin, { ...opts, ...from }) }),
      ...timeouts,
    });
  }
  return new Agent({ connect: { ...tls, timeout: sender.timeoutMs }, ...from, ...timeouts });
}

async function readAnswer(body: Dispatcher.ResponseData['body']): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    // A body without an encoding yields Buffers (undici types them any).
    const buf: Buffer = chunk;
    if (size < MAX_ANSWER_BYTES) chunks.push(buf.subarray(0, MAX_ANSWER_BYTES - size));
    size += buf.length;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch {
    // Not JSON (a proxy's error page, say): keep the text for the operator.
    return text;
  }
}

/**
 * The body of an upload. It stops the upload when undici takes nothing for
 * `timeoutMs` (undici times out waiting for the answer, not a stalled
 * upload), and it is where crash point `send-mid-upload` sits.
 */
async function* uploadBody(path: string, timeoutMs: number, abort: AbortController, readFailed: (err: unknown) => void) {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  let timer = setTimeout(() => abort.abort(), timeoutMs);
  let first = true;
  try {
    for await (const chunk of stream) {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), timeoutMs);
      const buf: Buffer = chunk;
      yield buf;
      if (first) crashPoint('send-mid-upload');
      first = false;
    }
  } catch (err) {
    readFailed(err);
    throw err;
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}

/** `server`: this server's name, sent with each upload so that the parent's record names the hop (core wire.ts). */
export function createParentClient(
  sender: SenderConfig,
  dispatcher: Dispatcher,
  options: { ownsDispatcher: boolean; server?: string },
): ParentClient {
  if (sender.parent === null) throw new ZenrollError('CONFIG_INVALID', 'sender.parent is not set; a Sender needs its parent Receiver');
  const base = sender.parent.replace(/\/+$/, '');
  return {
    url: base,

    async info(signal, headers) {
      const url = `${base}${INFO_PATH}`;
      let answer: Dispatcher.ResponseData;
      try {
        answer = await request(url, {
          method: 'GET',
          dispatcher,
          ...(signal === undefined ? {} : { signal }),
          ...(headers === undefined ? {} : { headers }),
        });
      } catch (err) {
        throw await connectionFailure(err, { sender, url: base });
      }
      let body: unknown;
      try {
        body = await readAnswer(answer.body);
      } catch (err) {
        throw await connectionFailure(err, { sender, url: base });
      }
      if (answer.statusCode !== 200) {
        // SPEC §1: a 5xx can pass by itself; a 4xx cannot.
        throw new ZenrollError(
          answer.statusCode >= 500 || answer.statusCode === 408 || answer.statusCode === 429 ? 'RECEIVER_BUSY' : 'RECEIVER_REJECTED',
          `GET ${url} answered ${answer.statusCode}: ${shown(JSON.stringify(body), 200)}`,
          { details: { status: answer.statusCode, body } },
        );
      }
      if (
        !isRecord(body) ||
        typeof body.server !== 'string' ||
        !(body.discardBefore === null || typeof body.discardBefore === 'string') ||
        !(body.rollupRequested === undefined || body.rollupRequested === null || typeof body.rollupRequested === 'string')
      ) {
        throw new ZenrollError(
          'RECEIVER_REJECTED',
          `GET ${url} answered ${shown(JSON.stringify(body), 200)}, which is not {server, tree, role, discardBefore, maxZipBytes}`,
        );
      }
      // biome-ignore lint/nursery/noUnsafeTypeAssertion: what the Sender acts on (server, discardBefore, rollupRequested) is checked above
      return body as unknown as ReceiverInfo;
    },

    async putZip(zip, signal) {
      const url = `${base}${zipPath(zip.name)}`;
      const stall = new AbortController();
      const signals = signal === undefined ? [stall.signal] : [stall.signal, signal];
      let readError: unknown;
      let answer: Dispatcher.ResponseData;
      try {
        answer = await request(url, {
          method: 'PUT',
          dispatcher,
          signal: AbortSignal.any(signals),
          headers: {
            'content-type': 'application/zip',
            'content-length': String(zip.bytes),
            'repr-digest': formatReprDigest(zip.sha256),
            ...(options.server === undefined ? {} : { [SENDER_HEADER]: formatSenderHeader(options.server) }),
          },
          body: Readable.from(
            uploadBody(zip.path, sender.timeoutMs, stall, (err) => {
              readError = err;
            }),
            {
              objectMode: false,
              highWaterMark: 64 * 1024,
            },
          ),
        });
      } catch (err) {
        if (readError !== undefined) throw fsError(readError, 'read', zip.path);
        if (signal?.aborted === true) throw err;
        if (stall.signal.aborted) throw stalled({ sender, url: base });
        throw await connectionFailure(err, { sender, url: base });
      }
      let body: unknown;
      try {
        body = await readAnswer(answer.body);
      } catch (err) {
        throw await connectionFailure(err, { sender, url: base });
      }
      const retryAfter = answer.headers['retry-after'];
      return {
        status: answer.statusCode,
        body,
        retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()),
      };
    },

    async close() {
      if (options.ownsDispatcher) await dispatcher.close();
    },
  };
}
