/**
 * A small Receiver that speaks the wire protocol of SPEC §4, for the
 * Sender's tests (the real one is packages/receiver). It stores each upload
 * whole under its name, checks `Content-Length` and `Repr-Digest`, answers
 * 201 / 200 / 409 by what it holds, and can be told to misbehave: answer a
 * status, drop the connection before or after storing, or never answer.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseReprDigest } from '@zenroll/core';

export type Fault =
  /** No fault: this upload is handled normally (to aim a fault at a later one). */
  | { kind: 'pass' }
  /** Answer this status (after reading the body), store nothing. */
  | { kind: 'status'; status: number; error?: string; retryAfterS?: number }
  /** Destroy the connection as soon as the request arrives. */
  | { kind: 'drop' }
  /** Store the zip (201 would follow), then destroy the connection: a lost acknowledgement. */
  | { kind: 'drop-after-store' }
  /** Read the body and never answer. */
  | { kind: 'stall' };

export interface TestReceiverOptions {
  /** Where uploads are stored, one file per outer name. */
  dir: string;
  server?: string;
  tree?: string;
  discardBefore?: string | null;
  /** HTTPS with this certificate; with `clientCa`, clients must present a certificate it signed. */
  tls?: { cert: string; key: string; clientCa?: string };
}

export interface Attempt {
  name: string;
  /** The status answered, the fault that replaced the answer, or `aborted` when the client left mid-body. */
  outcome: number | 'drop' | 'drop-after-store' | 'stall' | 'aborted';
}

export interface StoredZip {
  name: string;
  sha256: string;
  bytes: number;
  path: string;
}

export class TestReceiver {
  readonly options: TestReceiverOptions;
  readonly attempts: Attempt[] = [];
  /** Every zip stored, in arrival order (the receipts). */
  readonly stored: StoredZip[] = [];
  /** Faults for the next uploads, one per PUT, first in first out. */
  readonly faults: Fault[] = [];
  /** Faults for one zip name, each used once. */
  readonly faultsFor = new Map<string, Fault[]>();
  discardBefore: string | null;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  url = '';

  constructor(options: TestReceiverOptions) {
    this.options = options;
    this.discardBefore = options.discardBefore ?? null;
  }

  static async start(options: TestReceiverOptions): Promise<TestReceiver> {
    const r = new TestReceiver(options);
    await r.listen();
    return r;
  }

  /** Let the next `n` uploads meet `fault`. */
  failNext(n: number, fault: Fault): void {
    for (let i = 0; i < n; i++) this.faults.push(fault);
  }

  failZip(name: string, fault: Fault): void {
    this.faultsFor.set(name, [...(this.faultsFor.get(name) ?? []), fault]);
  }

  get puts(): number {
    return this.attempts.length;
  }

  async listen(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(res, 500, { error: 'INTERNAL', message: String(err) });
      });
    };
    const tls = this.options.tls;
    const server =
      tls === undefined
        ? createHttpServer(handler)
        : createHttpsServer(
            {
              cert: await readFile(tls.cert),
              key: await readFile(tls.key),
              ...(tls.clientCa === undefined ? {} : { ca: await readFile(tls.clientCa), requestCert: true, rejectUnauthorized: true }),
            },
            handler,
          );
    server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // Long enough that a client which forgets to close its connections is caught by `idle`.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Whether every client connection closed within `limitMs` (a bound for a hung test, not a timing). */
  async idle(limitMs = 5000): Promise<boolean> {
    for (const end = Date.now() + limitMs; this.#sockets.size > 0; ) {
      if (Date.now() > end) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path === '/v1/info') {
      this.#json(res, 200, {
        server: this.options.server ?? 'PARENT',
        tree: this.options.tree ?? 'ACME',
        role: 'intermediate',
        discardBefore: this.discardBefore,
        maxZipBytes: 268435456,
      });
      return;
    }
    if (req.method === 'GET' && path === '/v1/health') {
      this.#json(res, 200, { ok: true });
      return;
    }
    if (req.method !== 'PUT' || !path.startsWith('/v1/zips/')) {
      this.#json(res, 404, { error: 'NOT_FOUND', message: `no ${req.method} ${path}` });
      return;
    }
    await this.#put(decodeURIComponent(path.slice('/v1/zips/'.length)), req, res);
  }

  async #put(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const named = this.faultsFor.get(name);
    const next = named?.shift() ?? this.faults.shift();
    const fault = next?.kind === 'pass' ? undefined : next;
    if (fault?.kind === 'drop') {
      this.attempts.push({ name, outcome: 'drop' });
      req.socket.destroy();
      return;
    }
    let digest: Buffer;
    try {
      const header = req.headers['repr-digest'];
      digest = parseReprDigest(Array.isArray(header) ? header.join(', ') : header);
      if (req.headers['content-length'] === undefined) throw new Error('no Content-Length');
    } catch (err) {
      req.resume();
      this.attempts.push({ name, outcome: 400 });
      this.#json(res, 400, { error: 'UPLOAD_INVALID', message: (err as Error).message });
      return;
    }
    const temp = join(this.options.dir, `.${name}.${process.hrtime.bigint()}.tmp`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      await pipeline(
        req,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
    } catch (err) {
      // The client went away mid-body: nothing of it stays.
      await rm(temp, { force: true });
      this.attempts.push({ name, outcome: 'aborted' });
      throw err;
    }
    const sha = hash.digest();
    if (fault?.kind === 'stall') {
      await rm(temp, { force: true });
      this.attempts.push({ name, outcome: 'stall' });
      return;
    }
    if (fault?.kind === 'status') {
      await rm(temp, { force: true });
      this.attempts.push({ name, outcome: fault.status });
      const headers: Record<string, string> = fault.retryAfterS === undefined ? {} : { 'retry-after': String(fault.retryAfterS) };
      this.#json(res, fault.status, { error: fault.error ?? 'TEST_FAULT', message: `told to answer ${fault.status}` }, headers);
      return;
    }
    if (!sha.equals(digest) || bytes !== Number(req.headers['content-length'])) {
      await rm(temp, { force: true });
      this.attempts.push({ name, outcome: 400 });
      this.#json(res, 400, { error: 'DIGEST_MISMATCH', message: 'the body does not match its Repr-Digest' });
      return;
    }
    const hex = sha.toString('hex');
    const known = this.stored.find((z) => z.name === name);
    if (known !== undefined) {
      await rm(temp, { force: true });
      const status = known.sha256 === hex ? 200 : 409;
      this.attempts.push({ name, outcome: status });
      this.#json(res, status, status === 200 ? { ok: true, name } : { error: 'ZIP_CONFLICT', message: 'other content under this name' });
      return;
    }
    const final = join(this.options.dir, name);
    await rename(temp, final);
    this.stored.push({ name, sha256: hex, bytes, path: final });
    if (fault?.kind === 'drop-after-store') {
      this.attempts.push({ name, outcome: 'drop-after-store' });
      req.socket.destroy();
      return;
    }
    this.attempts.push({ name, outcome: 201 });
    this.#json(res, 201, { ok: true, name });
  }
}
