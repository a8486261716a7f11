/**
 * A small Receiver that speaks the wire protocol of SPEC §4, for the tests
 * of the Sender and the CLI (the real one is @zenroll/receiver). It stores
 * each upload whole under its name and answers as the real one does — the
 * contract test (packages/sender/test/contract.test.ts) runs the same cases
 * against both — and it can be told to misbehave: answer a status, drop the
 * connection before or after storing, or never answer.
 *
 * What it leaves out: promotion, receipts on disk, records, slots (BUSY),
 * clock skew (ZIP_TIME_AHEAD), TLS client-certificate names. It verifies a
 * zip (signature, content, name) only when given `trust`; without it any
 * signer is accepted, as the Sender's tests sign with keys made per test.
 *
 * The answers themselves (routes, /v1/info, refusals) are test-receiver-http.ts;
 * the faults it can be told to meet, test-receiver-faults.ts.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isZenrollError, verifyOuterZip, type KeyLookup } from '@zenroll/core';
import { portOf } from './net.js';
import { answerFault, checkFault, takeFault, type Fault } from './test-receiver-faults.js';
import { Refusal, batchStem, checkHeaders, refuse, route, sendJson, trustFix, zipNameOf, type InfoState } from './test-receiver-http.js';

export type { Fault } from './test-receiver-faults.js';

export interface TestReceiverOptions {
  /** Where uploads are stored, one file per outer name. */
  dir: string;
  server?: string;
  tree?: string;
  role?: string;
  discardBefore?: string | null;
  /** Default 256 MiB, as the real one's. */
  maxZipBytes?: number;
  /** Verify each upload against these keys (a real TrustStore's `lookup`), and answer `keyTrusted` by them. */
  trust?: { lookup: KeyLookup };
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
  /** The roll-up request /v1/info carries (SPEC §8). */
  rollupRequested: string | null = null;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  /** Batches being uploaded right now. */
  readonly #receiving = new Set<string>();
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
    checkFault(fault);
    for (let i = 0; i < n; i++) this.faults.push(fault);
  }

  failZip(name: string, fault: Fault): void {
    checkFault(fault);
    this.faultsFor.set(name, [...(this.faultsFor.get(name) ?? []), fault]);
  }

  get puts(): number {
    return this.attempts.length;
  }

  get maxZipBytes(): number {
    return this.options.maxZipBytes ?? 268_435_456;
  }

  async listen(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      route(req, res, { info: () => this.#infoState(), put: (segment) => this.#put(segment, req, res) }).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: String(err) });
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
    this.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${portOf(server)}`;
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

  #infoState(): InfoState {
    return {
      server: this.options.server ?? 'PARENT',
      tree: this.options.tree ?? 'ACME',
      role: this.options.role ?? 'intermediate',
      discardBefore: this.discardBefore,
      maxZipBytes: this.maxZipBytes,
      rollupRequested: this.rollupRequested,
      trust: this.options.trust,
    };
  }

  async #put(segment: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let name = segment;
    try {
      name = zipNameOf(segment);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.attempts.push({ name, outcome: err.status });
      refuse(res, err);
      return;
    }
    const fault = takeFault(name, this.faultsFor, this.faults);
    if (fault?.kind === 'drop') {
      this.attempts.push({ name, outcome: 'drop' });
      req.socket.destroy();
      return;
    }
    const batch = batchStem(name);
    let claimed = false;
    try {
      const digest = checkHeaders(name, req, this.maxZipBytes);
      // A fault that answers after the body is told to answer whatever this upload would meet.
      if (fault?.kind === 'status' || fault?.kind === 'stall') {
        await this.#receive(name, digest, fault, req, res);
        return;
      }
      // The real one answers from its receipt before the body: 200 for the same bytes, 409 for others.
      const known = this.stored.find((z) => z.name === name);
      if (known !== undefined) {
        if (known.sha256 !== digest.toString('hex')) {
          throw new Refusal(
            'ZIP_CONFLICT',
            `zip ${name} was received with SHA-256 ${known.sha256}; this one has ${digest.toString('hex')}`,
          );
        }
        req.resume();
        this.attempts.push({ name, outcome: 200 });
        sendJson(res, 200, {
          status: 'already-received',
          zip: name,
          sha256: known.sha256,
          bytes: known.bytes,
          receivedAt: new Date().toISOString(),
        });
        return;
      }
      if (this.#receiving.has(batch)) {
        throw new Refusal('UPLOAD_IN_PROGRESS', `zip ${name} (or its batch under another name) is being uploaded right now`, {
          retryAfterS: 15,
        });
      }
      this.#receiving.add(batch);
      claimed = true;
      await this.#receive(name, digest, fault, req, res);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      req.resume();
      this.attempts.push({ name, outcome: err.status });
      refuse(res, err);
    } finally {
      if (claimed) this.#receiving.delete(batch);
    }
  }

  async #receive(name: string, digest: Buffer, fault: Fault | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      answerFault(res, fault);
      return;
    }
    let files: number | undefined;
    try {
      if (!sha.equals(digest) || bytes !== Number(req.headers['content-length'])) {
        throw new Refusal(
          'DIGEST_MISMATCH',
          `the body's SHA-256 is ${sha.toString('base64')}; Repr-Digest says ${digest.toString('base64')}`,
        );
      }
      files = await this.#verify(temp, name);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const final = join(this.options.dir, name);
    await rename(temp, final);
    const hex = sha.toString('hex');
    this.stored.push({ name, sha256: hex, bytes, path: final });
    if (fault?.kind === 'drop-after-store') {
      this.attempts.push({ name, outcome: 'drop-after-store' });
      req.socket.destroy();
      return;
    }
    this.attempts.push({ name, outcome: 201 });
    sendJson(res, 201, { status: 'stored', zip: name, sha256: hex, bytes, ...(files === undefined ? {} : { files }) });
  }

  /** The .str count of a verified zip; undefined when this Receiver was given no trust (it verifies nothing then). */
  async #verify(path: string, name: string): Promise<number | undefined> {
    const trust = this.options.trust;
    if (trust === undefined) return undefined;
    try {
      return (await verifyOuterZip(path, { trust: trust.lookup, name, limits: { maxZipBytes: this.maxZipBytes } })).files.length;
    } catch (err) {
      if (!isZenrollError(err)) throw err;
      const fix = err.fix ?? trustFix(err, this.options.server ?? 'PARENT');
      throw new Refusal(err.code, err.message, fix === undefined ? {} : { fix });
    }
  }
}
