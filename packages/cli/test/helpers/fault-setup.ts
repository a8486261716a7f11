/**
 * A leaf Sender and a real Receiver (intermediate-db, HTTPS) in this
 * process, for the fault suites: real folders, certificates, keys and
 * sockets; the Sender's retry waits injected (they are 10 s, 20 s, 40 s … by
 * SPEC §1) and recorded, everything else real. Plus what every fault test
 * checks: which `.str` reached the Receiver's database, by SHA-256.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  MemoryLog,
  TrustStore,
  trustFileName,
  generateKeyPair,
  isTempName,
  makeCertificate,
  parseConfig,
  publicKeyPem,
  saveKeyPair,
  verifyOuterZip,
  type Config,
  type FreeSpace,
  type KeyPair,
} from '@zenroll/core';
import { openLog, type OpenLogOptions, type ZenrollLog } from '@zenroll/directory';
import { directorySources } from '../../src/directory-sources.js';
import { startReceiver, type RunningReceiver } from '@zenroll/receiver';
import { runRollup, type RollupResult, type SenderEvent } from '@zenroll/sender';

export interface Pki {
  ca: string;
  otherCa: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

export async function makePki(dir: string): Promise<Pki> {
  const ca = { certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key') };
  await makeCertificate({ ...ca, hosts: [], commonName: 'fault CA', isCa: true });
  const other = { certPath: join(dir, 'other-ca.crt'), keyPath: join(dir, 'other-ca.key') };
  await makeCertificate({ ...other, hosts: [], commonName: 'another CA', isCa: true });
  const server = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  await makeCertificate({ certPath: server.cert, keyPath: server.key, hosts: ['127.0.0.1', 'localhost'], commonName: 'INT1', ca });
  const client = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
  await makeCertificate({ certPath: client.cert, keyPath: client.key, hosts: [], commonName: 'LEAF1', ca });
  return { ca: ca.certPath, otherCa: other.certPath, server, client };
}

/** A logger that keeps its lines, for the Receiver's operational log. */
export class Recorder {
  readonly lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  #waiters: { match: (l: Recorder['lines'][number]) => boolean; resolve: () => void }[] = [];
  #add(level: string, fields: object, msg = ''): void {
    const line = { level, msg, fields: fields as Record<string, unknown> };
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve();
      return false;
    });
  }
  debug = (f: object, m?: string) => this.#add('debug', f, m);
  info = (f: object, m?: string) => this.#add('info', f, m);
  warn = (f: object, m?: string) => this.#add('warn', f, m);
  error = (f: object, m?: string) => this.#add('error', f, m);
  /** Resolves once a matching line was logged (before or after the call). */
  waitFor(match: (l: Recorder['lines'][number]) => boolean): Promise<void> {
    if (this.lines.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
  uploads(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.msg === 'upload').map((l) => l.fields);
  }
}

export interface ReceiverSide {
  config: Config;
  running: RunningReceiver;
  logger: Recorder;
  log: MemoryLog;
  /** With `journal`, the log the Receiver writes instead of `log`. */
  journal: ZenrollLog | null;
  port: number;
}

export interface ReceiverOptions {
  dirs?: { entpushdir?: string; dbdir?: string; statedir?: string };
  receiver?: Record<string, unknown>;
  freeSpace?: (dir: string) => Promise<FreeSpace>;
  maintenanceMs?: number;
  port?: number;
  /** More top-level config keys (e.g. `directory`). */
  extra?: Record<string, unknown>;
  /** Log through the real journal (applied to the directory when one is configured) instead of memory. */
  journal?: OpenLogOptions;
  /** Wire the directory like `zenroll serve` does: its discard time and published keys. */
  directorySources?: boolean;
}

export async function startInt(root: string, pki: Pki, leafKey: KeyPair, o: ReceiverOptions = {}): Promise<ReceiverSide> {
  await mkdir(join(root, 'trust'), { recursive: true });
  await writeFile(join(root, 'trust', trustFileName('LEAF1')), publicKeyPem(leafKey.publicKey));
  const json = {
    server: 'INT1',
    tree: 'ACME',
    role: 'intermediate-db',
    dirs: { entpushdir: o.dirs?.entpushdir ?? 'entpushdir', dbdir: o.dirs?.dbdir ?? 'dbdir', statedir: o.dirs?.statedir ?? 'state' },
    sender: { parent: 'https://parent.invalid:7099' },
    receiver: {
      listen: `127.0.0.1:${o.port ?? 0}`,
      tls: { cert: pki.server.cert, key: pki.server.key },
      trustDir: 'trust',
      minFreeBytes: 0,
      ...o.receiver,
    },
    ...o.extra,
  };
  const parsed = parseConfig(json, root);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const config = parsed.config;
  await mkdir(join(root, 'keys'), { recursive: true });
  await saveKeyPair(generateKeyPair(), config.keys.private, config.keys.public);
  const logger = new Recorder();
  const log = new MemoryLog();
  const journal = o.journal === undefined ? null : await openLog(config, o.journal);
  const sources = o.directorySources === true ? directorySources(config, logger) : null;
  const running = await startReceiver(config, {
    log: journal ?? log,
    logger,
    ...(o.freeSpace ? { freeSpace: o.freeSpace } : {}),
    ...(o.maintenanceMs ? { maintenanceMs: o.maintenanceMs } : {}),
    ...(sources ? { discardBefore: sources.discardBefore, ...(sources.extraKeys ? { extraKeys: sources.extraKeys } : {}) } : {}),
  });
  const close = running.close.bind(running);
  running.close = async () => {
    await close();
    await sources?.close();
    await journal?.close();
  };
  return { config, running, logger, log, journal, port: running.port };
}

export interface LeafSide {
  config: Config;
  keys: KeyPair;
  log: MemoryLog;
  /** The real journal, with `journal: true`; the roll-ups log to it instead of `log`. */
  journal: ZenrollLog | null;
  /** Every retry wait asked for, in ms. */
  waits: number[];
  events: SenderEvent[];
  rollup(extra?: { clock?: () => number; onEvent?: (e: SenderEvent) => void }): Promise<RollupResult>;
  /** Close the journal and the directory connection, if any. */
  close(): Promise<void>;
}

export interface LeafOptions {
  parent: string;
  sender?: Record<string, unknown>;
  dirs?: { entmergedir?: string; entpushdir?: string };
  keys?: KeyPair;
  /** Skip `GET /v1/info` (no discard time), so that a fault aimed at the first connection meets an upload. */
  noInfo?: boolean;
  /** Log to the real journal in statedir (on the same disk as the state) instead of memory; options for it. */
  journal?: boolean | OpenLogOptions;
  /** More top-level config keys (e.g. `directory`). */
  extra?: Record<string, unknown>;
  /** Wire the directory like `zenroll serve` does (the parent's discard time from its object). */
  directorySources?: boolean;
  /** dirs.statedir; default `state` beside the other folders. */
  statedir?: string;
}

/** A leaf whose retry waits return at once (recorded); `onWait` runs at each, e.g. to bring the parent back. */
export async function makeLeaf(root: string, o: LeafOptions, onWait: (k: number) => Promise<void> = async () => {}): Promise<LeafSide> {
  const json = {
    server: 'LEAF1',
    tree: 'ACME',
    role: 'leaf',
    dirs: {
      entmergedir: o.dirs?.entmergedir ?? 'entmergedir',
      entpushdir: o.dirs?.entpushdir ?? 'entpushdir',
      statedir: o.statedir ?? 'state',
    },
    sender: { parent: o.parent, stableMs: 0, timeoutMs: 2000, ...o.sender },
    ...o.extra,
  };
  const parsed = parseConfig(json, root);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const config = parsed.config;
  for (const d of [config.dirs.entmergedir, config.dirs.entpushdir]) await mkdir(d as string, { recursive: true });
  const keys = o.keys ?? generateKeyPair();
  const log = new MemoryLog();
  const journal = o.journal === undefined || o.journal === false ? null : await openLog(config, o.journal === true ? {} : o.journal);
  const sources = o.directorySources === true ? directorySources(config, { warn: () => {} }) : null;
  const waits: number[] = [];
  const events: SenderEvent[] = [];
  let t = 0;
  const timers = {
    now: () => performance.now() + t,
    async sleep(ms: number) {
      waits.push(ms);
      t += ms;
      await onWait(waits.length);
    },
  };
  return {
    config,
    keys,
    log,
    journal,
    waits,
    events,
    rollup: ({ onEvent, ...extra } = {}) =>
      runRollup(config, {
        log: journal ?? log,
        keys,
        timers,
        onEvent: (e) => {
          events.push(e);
          onEvent?.(e);
        },
        ...(o.noInfo ? { discardSource: async () => null } : sources ? { discardSource: sources.discardSource } : {}),
        ...extra,
      }),
    close: async () => {
      await sources?.close();
      await journal?.close();
    },
  };
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** SHA-256 of every `.str` in the zips of `dir`, verified against `trust` (sorted; a double shows twice). */
export async function strsInZips(dir: string, key: KeyPair): Promise<string[]> {
  const trust = new TrustStore();
  trust.add(key.publicKey, 'leaf', 'LEAF1');
  const out: string[] = [];
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.zip') && !isTempName(f))) {
    out.push(...(await verifyOuterZip(join(dir, name), { trust: trust.lookup })).files.map((f) => f.sha256));
  }
  return out.sort();
}

/** SHA-256 of the `.str` files in `dir`, sorted. */
export async function strsIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.str') && !isTempName(f));
  return (await Promise.all(names.map(async (n) => sha256(await readFile(join(dir, n)))))).sort();
}

/** Files with a temporary name anywhere under `dir`. */
export async function tempsUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && isTempName(e.name)).map((e) => join(e.parentPath, e.name));
}

/** GET a path of a Receiver over HTTPS trusting `ca`: the status. */
export async function getStatus(url: string, ca: string): Promise<number> {
  const { request } = await import('node:https');
  const caPem = await readFile(ca);
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Poll `check` until it holds; the test's timeout bounds it (a wait for a background step, not a timing). */
export async function until(check: () => Promise<boolean>, everyMs = 50): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, everyMs));
}
