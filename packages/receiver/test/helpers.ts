/**
 * Shared set-up of the Receiver tests: real folders, real keys, real TLS
 * certificates (made with openssl), real zips from core's packer, and a
 * small HTTP(S) client on node:https so that client certificates can be set.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  MemoryLog,
  formatReprDigest,
  generateKeyPair,
  makeCertificate,
  packBatch,
  parseConfig,
  keyIdOf,
  publicKeyPem,
  roleInfo,
  saveKeyPair,
  trustFileName,
  zipPath,
  type Config,
  type KeyPair,
  type Role,
} from '@zenroll/core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startReceiver, type ReceiverDeps, type RunningReceiver } from '../src/index.js';
import type { Logger } from '../src/logger.js';

export async function tempRoot(prefix = 'zenroll-recv-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A CA, a server certificate signed by it, and a client certificate signed by it. */
export interface Pki {
  ca: { certPath: string; keyPath: string };
  server: { certPath: string; keyPath: string };
  client: { certPath: string; keyPath: string };
}

export async function makePki(dir: string, name = 'pki'): Promise<Pki> {
  const base = join(dir, name);
  const ca = { certPath: join(base, 'ca.crt'), keyPath: join(base, 'ca.key') };
  await makeCertificate({ ...ca, hosts: [], commonName: `${name} test CA`, isCa: true });
  const server = { certPath: join(base, 'server.crt'), keyPath: join(base, 'server.key') };
  await makeCertificate({ ...server, hosts: ['localhost', '127.0.0.1'], commonName: 'receiver', ca });
  const client = { certPath: join(base, 'client.crt'), keyPath: join(base, 'client.key') };
  await makeCertificate({ ...client, hosts: [], commonName: 'LEAF1', ca });
  return { ca, server, client };
}

export interface ReceiverSetup {
  root: string;
  config: Config;
  keys: KeyPair;
}

export type TrustedFor = KeyObject | { server: string; key: KeyObject };

/** One trust file, bound or unbound (see `SetupOptions.trust`). */
export async function writeTrustFile(trustDir: string, t: TrustedFor): Promise<string> {
  const [name, key] = 'server' in t ? [trustFileName(t.server), t.key] : [`${keyIdOf(t)}.pub`, t];
  const path = join(trustDir, name);
  await writeFile(path, publicKeyPem(key));
  return path;
}

export interface SetupOptions {
  role?: Role;
  server?: string;
  tree?: string;
  /** false for plain HTTP; otherwise server cert/key and an optional client CA. */
  tls?: false | { cert: string; key: string; clientCa?: string };
  receiver?: Record<string, unknown>;
  /**
   * Keys to put in trustDir: `{ server, key }` bound to that server
   * (`<encoded server>.pub`, as `zenroll trust add --name` writes it), a bare
   * key unbound (named by its key id, as older installs have it).
   */
  trust?: TrustedFor[];
}

/** A Receiver's folder: config (parsed like a real file), its key pair, its trust folder. */
export async function setupReceiver(root: string, o: SetupOptions = {}): Promise<ReceiverSetup> {
  const role = o.role ?? 'intermediate-db';
  await mkdir(root, { recursive: true });
  const info = roleInfo(role);
  const json = {
    server: o.server ?? 'INT1',
    tree: o.tree ?? 'ACME',
    role,
    dirs: { entpushdir: 'entpushdir', dbdir: 'dbdir', ...(info.ownScans ? { entmergedir: 'entmergedir' } : {}) },
    ...(info.sender ? { sender: { parent: 'https://parent.invalid:7099' } } : {}),
    receiver: {
      listen: '127.0.0.1:0',
      tls: o.tls === undefined ? false : o.tls === false ? false : { cert: o.tls.cert, key: o.tls.key, clientCa: o.tls.clientCa ?? null },
      trustDir: 'trust',
      minFreeBytes: 0,
      ...o.receiver,
    },
  };
  const parsed = parseConfig(json, root);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const keys = generateKeyPair();
  await mkdir(dirname(parsed.config.keys.private), { recursive: true });
  await saveKeyPair(keys, parsed.config.keys.private, parsed.config.keys.public);
  await mkdir(parsed.config.receiver.trustDir, { recursive: true });
  for (const t of o.trust ?? []) await writeTrustFile(parsed.config.receiver.trustDir, t);
  return { root, config: parsed.config, keys };
}

export interface ZipSpec {
  dir: string;
  keys: KeyPair | { privateKey: KeyObject; publicKey: KeyObject };
  server?: string;
  tree?: string;
  status?: 0 | 2;
  scheduledtime?: string;
  /** Contents of the .str files, by name. */
  files?: Record<string, string>;
}

export interface TestZip {
  name: string;
  path: string;
  data: Buffer;
  digest: string;
}

let seq = 0;
/** A real outer zip made by core's packer, in a folder of its own. */
export async function makeZip(s: ZipSpec): Promise<TestZip> {
  seq += 1;
  const work = join(s.dir, `zip-${seq}`);
  await mkdir(join(work, 'str'), { recursive: true });
  const files = s.files ?? { [`pc${seq}.str`]: `scan data ${seq}\n`.repeat(20) };
  const paths: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const p = join(work, 'str', name);
    await writeFile(p, content);
    paths.push(p);
  }
  const packed = await packBatch({
    files: paths,
    outDir: work,
    server: s.server ?? 'LEAF1',
    tree: s.tree ?? 'OLDTREE',
    status: s.status ?? 0,
    scheduledtime: s.scheduledtime ?? `2026112210300${String(seq).padStart(4, '0')}`,
    keys: s.keys,
  });
  const data = await readFile(packed.path);
  return { name: packed.name, path: packed.path, data, digest: digestOf(data) };
}

export function digestOf(data: Buffer): string {
  return formatReprDigest(createHash('sha256').update(data).digest());
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface RequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  tls?: { ca: string; cert?: string; key?: string };
}

/** One request on a fresh connection; the answer's JSON body parsed. */
export async function call(url: string, o: RequestOptions): Promise<Answer> {
  const u = new URL(url);
  const tls =
    o.tls === undefined
      ? undefined
      : {
          ca: await readFile(o.tls.ca),
          ...(o.tls.cert === undefined ? {} : { cert: await readFile(o.tls.cert) }),
          ...(o.tls.key === undefined ? {} : { key: await readFile(o.tls.key) }),
        };
  return new Promise((resolve, reject) => {
    const options = {
      host: u.hostname,
      port: u.port,
      method: o.method ?? 'GET',
      path: o.path,
      headers: o.headers ?? {},
      agent: false as const,
      ...tls,
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        if (text !== '') body = JSON.parse(text) as Record<string, unknown>;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** PUT a zip with the headers SPEC §4 asks for; `headers` adds or overrides. */
export function put(
  url: string,
  name: string,
  data: Buffer,
  o: { headers?: Record<string, string>; tls?: RequestOptions['tls'] } = {},
): Promise<Answer> {
  return call(url, {
    method: 'PUT',
    path: zipPath(name),
    headers: { 'content-length': String(data.length), 'repr-digest': digestOf(data), ...o.headers },
    body: data,
    ...(o.tls === undefined ? {} : { tls: o.tls }),
  });
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A Logger that keeps its lines and lets a test wait for one. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  #waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  #add(level: LogLine['level'], fields: object, message = ''): void {
    const line = { level, fields: fields as Record<string, unknown>, message };
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  debug = (fields: object, message?: string) => this.#add('debug', fields, message);
  info = (fields: object, message?: string) => this.#add('info', fields, message);
  warn = (fields: object, message?: string) => this.#add('warn', fields, message);
  error = (fields: object, message?: string) => this.#add('error', fields, message);

  /** The first line (already logged or still to come) that matches. */
  waitFor(match: (l: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** The per-upload line of zip `name` (the n-th one, from 1). */
  upload(name: string, n = 1): Promise<LogLine> {
    let count = 0;
    return this.waitFor((l) => l.message === 'upload' && l.fields.zip === name && ++count === n);
  }
}

export interface Started {
  receiver: RunningReceiver;
  log: MemoryLog;
  logger: RecordingLogger;
}

export async function start(setup: ReceiverSetup, deps: Partial<ReceiverDeps> = {}): Promise<Started> {
  const log = new MemoryLog();
  const logger = new RecordingLogger();
  const receiver = await startReceiver(setup.config, { log, logger, ...deps });
  return { receiver, log, logger };
}

export interface ReceiverSuite {
  /** The suite's temp folder (made before its first test). */
  readonly root: string;
  /** What openHandles() gave before the first test: all that may be open between tests. */
  readonly handlesBefore: string[];
  /** A fresh folder under the root, set up with `o`. */
  folder(o: SetupOptions): Promise<{ dir: string; setup: ReceiverSetup }>;
  /** A Receiver on `setup`, closed after the test. */
  run(setup: ReceiverSetup, deps?: Partial<ReceiverDeps>): Promise<Started>;
  /** folder(o), then run() on it. */
  receiver(o: SetupOptions, deps?: Partial<ReceiverDeps>): Promise<{ setup: ReceiverSetup; dir: string } & Started>;
}

/**
 * What a suite of real Receivers shares, its hooks registered here: a temp
 * root made before the first test, every Receiver it started closed after
 * each test, and then no server, socket or file handle of theirs left open,
 * and the root removed at the end. Call it at the top of the test file,
 * before the file's own hooks that use `root`.
 */
export function receiverSuite(prefix?: string): ReceiverSuite {
  let root = '';
  let before: string[] = [];
  let n = 0;
  const running: Started[] = [];
  beforeAll(async () => {
    before = await openHandles();
    root = await tempRoot(prefix);
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.receiver.close();
    // Closed means closed: no server, socket or file handle of the Receiver outlives close().
    expect(await openHandles()).toEqual(before);
  });
  afterAll(async () => {
    await removeRoot(root);
  });
  const folder = async (o: SetupOptions) => {
    n += 1;
    const dir = join(root, `r${n}`);
    return { dir, setup: await setupReceiver(dir, o) };
  };
  const run = async (setup: ReceiverSetup, deps: Partial<ReceiverDeps> = {}) => {
    const started = await start(setup, deps);
    running.push(started);
    return started;
  };
  return {
    get root() {
      return root;
    },
    get handlesBefore() {
      return before;
    },
    folder,
    run,
    async receiver(o, deps = {}) {
      const { dir, setup } = await folder(o);
      return { setup, dir, ...(await run(setup, deps)) };
    },
  };
}

/** Every file under `dir`, relative, sorted; folders left out. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

export async function removeRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

export interface PartialUpload {
  /** The answer, or the error that ended the request. */
  done: Promise<Answer | Error>;
  /** Send the rest of the body. */
  finish(): void;
  /** Cut the connection. */
  destroy(): void;
}

/** A PUT whose body stops after `firstBytes` until `finish()`: a slow or stalled client. */
export async function partialUpload(
  url: string,
  name: string,
  data: Buffer,
  firstBytes: number,
  o: { tls?: RequestOptions['tls'] } = {},
): Promise<PartialUpload> {
  const u = new URL(url);
  const tls = o.tls === undefined ? undefined : { ca: await readFile(o.tls.ca) };
  let req!: ReturnType<typeof httpRequest>;
  const done = new Promise<Answer | Error>((resolve) => {
    const options = {
      host: u.hostname,
      port: u.port,
      method: 'PUT',
      path: zipPath(name),
      agent: false as const,
      ...tls,
      headers: { 'content-length': String(data.length), 'repr-digest': digestOf(data) },
    };
    req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', resolve);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        });
      });
    });
    req.on('error', resolve);
  });
  req.write(data.subarray(0, firstBytes));
  return {
    done,
    finish: () => req.end(data.subarray(firstBytes)),
    destroy: () => req.destroy(),
  };
}

/**
 * Servers, sockets and file handles this process holds, once the
 * event loop has turned (a closed server's handle goes a tick after its
 * 'close'). Tests compare it with what they held before they started.
 */
export async function openHandles(): Promise<string[]> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return process
    .getActiveResourcesInfo()
    .filter((r) => /^(TCPServerWrap|TCPSocketWrap|TLSWrap|FileHandle)$/.test(r))
    .sort();
}
