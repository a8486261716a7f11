/**
 * Set-up for the `zenroll serve` tests: a server's folder written like a real
 * one, the built executable spawned as a real process, its JSON log lines
 * read from stdout, and a small HTTP(S) client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, type KeyObject } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  formatReprDigest,
  generateKeyPair,
  packBatch,
  keyIdOf,
  publicKeyPem,
  roleInfo,
  saveKeyPair,
  trustFileName,
  zipPath,
  type KeyPair,
  type Role,
} from '@zenroll/core';

export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/bin.js');

export interface ServerDir {
  dir: string;
  configPath: string;
  zipdir: string;
  entpushdir: string;
  dbdir: string;
  statedir: string;
}

/** A receiver's folder and zenroll.json (listening on 127.0.0.1:0), trusting `trust`. */
export interface ServerSpec {
  role: Role;
  /** `{ server, key }` is bound to that server (`<encoded server>.pub`); a bare key is unbound (`<key id>.pub`, as older installs have it). */
  trust: (KeyObject | { server: string; key: KeyObject })[];
  tls?: { cert: string; key: string } | false;
  server?: string;
  /** For roles that send: the parent's URL and the CA its certificate is signed by. */
  parent?: { url: string; ca?: string };
  /** The server's key pair; default a new one. */
  keys?: KeyPair;
  /** More `sender` keys, for roles that send. */
  sender?: Record<string, unknown>;
}

export async function writeServer(dir: string, o: ServerSpec): Promise<ServerDir> {
  const info = roleInfo(o.role);
  const json = {
    server: o.server ?? 'INT1',
    tree: 'ACME',
    role: o.role,
    dirs: { entpushdir: 'entpushdir', dbdir: 'dbdir', ...(info.ownScans ? { entmergedir: 'entmergedir' } : {}) },
    ...(info.sender
      ? { sender: { parent: o.parent?.url ?? 'https://parent.invalid:7099', stableMs: 0, tls: { ca: o.parent?.ca ?? null }, ...o.sender } }
      : {}),
    receiver: { listen: '127.0.0.1:0', tls: o.tls ?? false, trustDir: 'trust', minFreeBytes: 0 },
  };
  if (info.ownScans) await mkdir(join(dir, 'entmergedir'), { recursive: true });
  if (info.sender) await mkdir(join(dir, 'entpushdir'), { recursive: true });
  await mkdir(join(dir, 'keys'), { recursive: true });
  await mkdir(join(dir, 'trust'), { recursive: true });
  await saveKeyPair(o.keys ?? generateKeyPair(), join(dir, 'keys/server.key'), join(dir, 'keys/server.pub'));
  for (const t of o.trust) {
    const [name, key] = 'server' in t ? [trustFileName(t.server), t.key] : [`${keyIdOf(t)}.pub`, t];
    await writeFile(join(dir, 'trust', name), publicKeyPem(key));
  }
  const configPath = join(dir, 'zenroll.json');
  await writeFile(configPath, JSON.stringify(json, null, 2));
  const entpushdir = join(dir, 'entpushdir');
  return {
    dir,
    configPath,
    zipdir: join(entpushdir, 'zipdir'),
    entpushdir,
    dbdir: join(dir, 'dbdir'),
    statedir: join(entpushdir, '.zenroll'),
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A running `zenroll serve`; its stdout parsed line by line. */
export class Serve {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }[] = [];

  constructor(configPath: string, env: Record<string, string> = {}, args: string[] = []) {
    this.child = spawn(process.execPath, [BIN, 'serve', '-c', configPath, ...args], {
      env: { ...process.env, ZENROLL_LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      buffered += text;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const raw = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        this.#add(JSON.parse(raw) as LogLine);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`zenroll serve exited before the awaited line; stderr: ${this.stderr}`));
    });
  }

  #add(line: LogLine): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  waitFor(match: (l: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.reject(new Error(`zenroll serve has exited; stderr: ${this.stderr}`));
    }
    return new Promise((resolve, reject) => this.#waiters.push({ match, resolve, reject }));
  }

  /** The Receiver's URL once it listens. */
  async url(): Promise<string> {
    return (await this.waitFor((l) => l.msg === 'serving')).url as string;
  }

  /** Lines of `promoted` for zip `name` (the incoming name). */
  promoted(name: string, target: 'entpushdir' | 'dbdir'): Promise<LogLine> {
    return this.waitFor((l) => l.msg === 'promoted' && l.zip === name && l.target === target);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

export interface TestZip {
  name: string;
  data: Buffer;
}

let seq = 0;
export async function makeZip(dir: string, keys: KeyPair, o: { scheduledtime?: string; status?: 0 | 2 } = {}): Promise<TestZip> {
  seq += 1;
  const work = join(dir, `zip-${seq}`);
  await mkdir(work, { recursive: true });
  const str = join(work, `pc${seq}.str`);
  await writeFile(str, `scan ${seq}\n`.repeat(50));
  const packed = await packBatch({
    files: [str],
    outDir: work,
    server: 'LEAF1',
    tree: 'ACME',
    status: o.status ?? 0,
    scheduledtime: o.scheduledtime ?? `202611221030${String(seq).padStart(5, '0')}`,
    keys,
  });
  return { name: packed.name, data: await readFile(packed.path) };
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export function reprDigest(data: Buffer): string {
  return formatReprDigest(createHash('sha256').update(data).digest());
}

/** PUT a zip; rejects when the connection ends without an answer. */
export function put(url: string, zip: TestZip, o: { ca?: Buffer; firstBytes?: number; onFirstBytes?: () => void } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path: zipPath(zip.name),
        agent: false,
        headers: { 'content-length': String(zip.data.length), 'repr-digest': reprDigest(zip.data) },
        ...(o.ca === undefined ? {} : { ca: o.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    if (o.firstBytes === undefined) req.end(zip.data);
    else {
      req.write(zip.data.subarray(0, o.firstBytes));
      o.onFirstBytes?.();
    }
  });
}

/** Every file under `dir`, relative, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** The data files of a server's folders: everything but keys, config, receipts, journal and lock. */
export async function dataFiles(s: ServerDir): Promise<string[]> {
  const all = await filesUnder(s.dir);
  return all.filter((f) => f.startsWith('entpushdir/') || f.startsWith('dbdir/')).filter((f) => !f.startsWith('entpushdir/.zenroll/'));
}
