/**
 * The Sender's expectations of its parent (SPEC §4), written once and run
 * against two parents: the real Receiver (@zenroll/receiver, on port 0 with
 * real keys and a real trust folder) and the TestReceiver the Sender's and
 * the CLI's tests use (@zenroll/testkit). The real one is the truth: a case
 * that fails only for the TestReceiver means the tests built on it assume a
 * parent that does not exist.
 *
 * Every request goes through the Sender's own client (createParentClient)
 * where the Sender makes it, and what is checked is what the Sender's code
 * reads: the status, the error code and its verdict (push.ts verdictOf), the
 * Retry-After, the fix, and /v1/info's fields (the discard time above all).
 */
import { randomBytes, createHash, type KeyObject } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  MemoryLog,
  TrustStore,
  formatReprDigest,
  generateKeyPair,
  keyIdOf,
  packBatch,
  parseConfig,
  publicKeyPem,
  saveKeyPair,
  trustFileName,
  zipPath,
  isRecord,
  type KeyPair,
} from '@zenroll/core';
import { startReceiver } from '@zenroll/receiver';
import { TestReceiver } from '@zenroll/testkit';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParentClient, makeDispatcher, type ParentClient, type PutAnswer } from '../src/client.js';
import { infoDiscardSource } from '../src/discard.js';
import { verdictOf, type Verdict } from '../src/push.js';
import { makeSender, type SenderSetup } from './helpers/setup.js';

/** What both parents are set up with. */
interface ParentSetup {
  dir: string;
  server: string;
  tree: string;
  discardBefore: string | null;
  maxZipBytes: number;
  /** Keys trusted, each for the origin server named. */
  trust: { server: string; key: KeyObject }[];
}

interface Parent {
  url: string;
  close(): Promise<void>;
}

interface Target {
  name: string;
  start(s: ParentSetup): Promise<Parent>;
}

const real: Target = {
  name: 'the real Receiver',
  async start(s) {
    const json = {
      server: s.server,
      tree: s.tree,
      role: 'intermediate',
      dirs: { entpushdir: 'entpushdir' },
      sender: { parent: 'https://parent.invalid:7099' },
      receiver: {
        listen: '127.0.0.1:0',
        tls: false,
        trustDir: 'trust',
        minFreeBytes: 0,
        discardBefore: s.discardBefore,
        maxZipBytes: s.maxZipBytes,
      },
    };
    const parsed = parseConfig(json, s.dir);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const config = parsed.config;
    await mkdir(dirname(config.keys.private), { recursive: true });
    await saveKeyPair(generateKeyPair(), config.keys.private, config.keys.public);
    await mkdir(config.receiver.trustDir, { recursive: true });
    for (const t of s.trust) await writeFile(join(config.receiver.trustDir, trustFileName(t.server)), publicKeyPem(t.key));
    const r = await startReceiver(config, { log: new MemoryLog() });
    return { url: r.url, close: () => r.close() };
  },
};

const testReceiver: Target = {
  name: 'the TestReceiver',
  async start(s) {
    const trust = new TrustStore();
    for (const t of s.trust) trust.add(t.key, `trust/${t.server}.pub`, t.server);
    const r = await TestReceiver.start({
      dir: join(s.dir, 'received'),
      server: s.server,
      tree: s.tree,
      discardBefore: s.discardBefore,
      maxZipBytes: s.maxZipBytes,
      trust,
    });
    return { url: r.url, close: () => r.close() };
  },
};

/** A zip on disk as the Sender uploads it. */
interface Zip {
  name: string;
  path: string;
  bytes: number;
  sha256: Buffer;
}

/** What a case sees of one answer. */
interface Seen {
  status: number;
  body: unknown;
  retryAfterMs: number | null;
  /** Null where the request went through the Sender's client, which does not show it. */
  contentType: string | null;
}

interface Kit {
  client: ParentClient;
  url: string;
  zips: Zips;
}

interface Zips {
  /** Signed by LEAF1's key, which the parent trusts for LEAF1. */
  good: Zip;
  /** Other content under good's name. */
  other: Zip;
  /** Signed by a key the parent does not know. */
  stranger: Zip;
  /** Names LEAF3, signed by LEAF1's key (trusted for LEAF1 only). */
  impostor: Zip;
  /** good's bytes under another scheduled time. */
  renamed: Zip;
  /** Random bytes under a valid name. */
  garbage: Zip;
  /** Random bytes over maxZipBytes. */
  big: Zip;
}

interface Case {
  name: string;
  /** The answer (or answers, in order) to check. */
  act(k: Kit): Promise<Seen[]>;
  /** One per answer. */
  expect: Expected[];
}

interface Expected {
  status: number;
  /** The error code; absent for a success. */
  error?: string;
  verdict: Verdict;
  /** Fields of the body (a subset); a function where they name the case's zips. */
  body?: Record<string, unknown> | ((zips: Zips) => Record<string, unknown>);
  retryAfterMs?: number;
  /** The answer names a fix (SPEC §1: a refusal names its fix). */
  fix?: RegExp;
}

const MAX_ZIP_BYTES = 256 * 1024;
const DISCARD_BEFORE = '2026-01-01T00:00:00.000Z';

/** The Sender's client reads no Content-Type (it parses the body as JSON or keeps its text): not seen. */
function seen(a: PutAnswer): Seen {
  return { status: a.status, body: a.body, retryAfterMs: a.retryAfterMs, contentType: null };
}

/** A request the Sender's client does not make (a path or header it never sends), on undici like the client. */
async function raw(url: string, method: 'GET' | 'PUT', path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Seen> {
  const answer = await request(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await answer.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  const type = answer.headers['content-type'];
  return { status: answer.statusCode, body: parsed, retryAfterMs: null, contentType: typeof type === 'string' ? type : '' };
}

/**
 * An upload that has begun and waits half-way: it asks `Expect: 100-continue`,
 * which both parents answer only once the upload holds its name, then sends
 * half its body and nothing more until destroyed.
 */
async function holdUpload(url: string, zip: Zip): Promise<ClientRequest> {
  const data = await readFile(zip.path);
  const req = httpRequest(`${url}${zipPath(zip.name)}`, {
    method: 'PUT',
    agent: false,
    headers: {
      'content-type': 'application/zip',
      'content-length': String(data.length),
      'repr-digest': formatReprDigest(zip.sha256),
      expect: '100-continue',
    },
  });
  await new Promise<void>((resolve, reject) => {
    // Until the parent says continue, a connection error fails the case at once (not at the timeout).
    req.once('error', reject);
    req.once('continue', () => {
      // From here the case destroys the request itself: that error is expected.
      req.off('error', reject);
      req.on('error', () => undefined);
      req.write(data.subarray(0, data.length >> 1));
      resolve();
    });
    req.once('response', (res) => {
      req.off('error', reject);
      req.on('error', () => undefined);
      req.destroy();
      reject(new Error(`answered ${res.statusCode} before the body`));
    });
  });
  return req;
}

const put = async (k: Kit, zip: Zip): Promise<Seen> => seen(await k.client.putZip(zip));

const cases: Case[] = [
  {
    name: 'a new zip is stored: 201 {status: stored, zip, sha256, bytes}',
    act: async (k) => [await put(k, k.zips.good)],
    expect: [
      {
        status: 201,
        verdict: 'ok',
        body: (z) => ({ status: 'stored', zip: z.good.name, sha256: z.good.sha256.toString('hex'), bytes: z.good.bytes }),
      },
    ],
  },
  {
    name: 'the same zip again (an acknowledgement lost) is acknowledged: 200 already-received, nothing stored twice',
    act: async (k) => [await put(k, k.zips.good), await put(k, k.zips.good)],
    expect: [
      { status: 201, verdict: 'ok', body: { status: 'stored' } },
      { status: 200, verdict: 'ok', body: { status: 'already-received' } },
    ],
  },
  {
    name: 'other content under a name received before: 409 ZIP_CONFLICT, the zip rejected',
    act: async (k) => [await put(k, k.zips.good), await put(k, k.zips.other)],
    expect: [
      { status: 201, verdict: 'ok' },
      { status: 409, error: 'ZIP_CONFLICT', verdict: 'reject' },
    ],
  },
  {
    name: 'a body that does not match its Repr-Digest: 400 DIGEST_MISMATCH, sent again',
    act: async (k) => [await put(k, { ...k.zips.good, sha256: createHash('sha256').update('something else').digest() })],
    expect: [{ status: 400, error: 'DIGEST_MISMATCH', verdict: 'retry' }],
  },
  {
    name: 'an upload without Repr-Digest: 400 UPLOAD_INVALID, sending stops',
    act: async (k) => {
      const body = k.zips.good;
      return [await raw(k.url, 'PUT', zipPath(body.name), { 'content-type': 'application/zip' }, await readFile(body.path))];
    },
    expect: [{ status: 400, error: 'UPLOAD_INVALID', verdict: 'stop' }],
  },
  {
    name: 'a zip whose content does not match its name: 422 ZIP_NAME_MISMATCH, the zip rejected',
    act: async (k) => [await put(k, k.zips.renamed)],
    expect: [{ status: 422, error: 'ZIP_NAME_MISMATCH', verdict: 'reject' }],
  },
  {
    name: 'bytes that are no zip: 422 ZIP_UNREADABLE, the zip rejected',
    act: async (k) => [await put(k, k.zips.garbage)],
    expect: [{ status: 422, error: 'ZIP_UNREADABLE', verdict: 'reject' }],
  },
  {
    name: 'a zip over maxZipBytes: 413 ZIP_OVER_LIMIT, the zip rejected',
    act: async (k) => [await put(k, k.zips.big)],
    expect: [{ status: 413, error: 'ZIP_OVER_LIMIT', verdict: 'reject' }],
  },
  {
    name: 'a name that is no outer zip name: 400 NAME_INVALID, the zip rejected',
    act: async (k) => [await put(k, { ...k.zips.good, name: 'not-a-batch.zip' })],
    expect: [{ status: 400, error: 'NAME_INVALID', verdict: 'reject' }],
  },
  {
    name: 'a signer the parent does not know: 401 PRP_SIGNER_UNKNOWN, its origin held, the fix says trust add',
    act: async (k) => [await put(k, k.zips.stranger)],
    expect: [{ status: 401, error: 'PRP_SIGNER_UNKNOWN', verdict: 'hold', fix: /zenroll trust add --name LEAF2/ }],
  },
  {
    name: 'a key trusted for another origin: 403 PRP_SIGNER_MISMATCH, its origin held',
    act: async (k) => [await put(k, k.zips.impostor)],
    expect: [{ status: 403, error: 'PRP_SIGNER_MISMATCH', verdict: 'hold', fix: /zenroll trust list/ }],
  },
  {
    name: 'a refused zip is not stored: the same name with good content is stored afterwards',
    act: async (k) => [
      await put(k, { ...k.zips.good, path: k.zips.garbage.path, bytes: k.zips.garbage.bytes, sha256: k.zips.garbage.sha256 }),
      await put(k, k.zips.good),
    ],
    expect: [
      { status: 422, error: 'ZIP_UNREADABLE', verdict: 'reject' },
      { status: 201, verdict: 'ok', body: { status: 'stored' } },
    ],
  },
  {
    name: 'the same zip while it is being uploaded: 503 UPLOAD_IN_PROGRESS with Retry-After, sent again',
    act: async (k) => {
      const first = await holdUpload(k.url, k.zips.good);
      try {
        return [await put(k, k.zips.good)];
      } finally {
        first.destroy();
      }
    },
    expect: [{ status: 503, error: 'UPLOAD_IN_PROGRESS', verdict: 'retry', retryAfterMs: 15_000 }],
  },
  {
    name: 'an unknown path: 404 NOT_FOUND',
    act: async (k) => [await raw(k.url, 'GET', '/v1/nothing')],
    expect: [{ status: 404, error: 'NOT_FOUND', verdict: 'stop' }],
  },
  {
    name: 'GET on a zip: 405 METHOD_NOT_ALLOWED',
    act: async (k) => [await raw(k.url, 'GET', zipPath(k.zips.good.name))],
    expect: [{ status: 405, error: 'METHOD_NOT_ALLOWED', verdict: 'stop' }],
  },
  {
    name: 'GET /v1/health: 200',
    act: async (k) => [await raw(k.url, 'GET', '/v1/health')],
    expect: [{ status: 200, verdict: 'ok' }],
  },
];

async function zipOf(path: string, name: string): Promise<Zip> {
  const data = await readFile(path);
  return { name, path, bytes: data.length, sha256: createHash('sha256').update(data).digest() };
}

let root: string;
let zips: Zips;
let leaf: KeyPair;
let sender: SenderSetup;

async function pack(dir: string, server: string, keys: KeyPair, scheduledtime: string, content: string): Promise<Zip> {
  await mkdir(join(dir, 'str'), { recursive: true });
  const str = join(dir, 'str', 'pc1.str');
  await writeFile(str, content);
  const packed = await packBatch({ files: [str], outDir: dir, server, tree: 'ACME', status: 0, scheduledtime, keys });
  return zipOf(packed.path, packed.name);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'zenroll-contract-'));
  leaf = generateKeyPair();
  const stranger = generateKeyPair();
  const when = '20261122103000000';
  const good = await pack(join(root, 'good'), 'LEAF1', leaf, when, 'scan data\n'.repeat(50));
  const other = await pack(join(root, 'other'), 'LEAF1', leaf, when, 'other scan data\n'.repeat(50));
  expect(other.name).toBe(good.name);
  const renamedPath = join(root, 'renamed.zip');
  await copyFile(good.path, renamedPath);
  const garbagePath = join(root, 'garbage.zip');
  await writeFile(garbagePath, randomBytes(4096));
  const bigPath = join(root, 'big.zip');
  await writeFile(bigPath, randomBytes(MAX_ZIP_BYTES + 1));
  zips = {
    good,
    other,
    stranger: await pack(join(root, 'stranger'), 'LEAF2', stranger, when, 'scan data\n'.repeat(50)),
    impostor: await pack(join(root, 'impostor'), 'LEAF3', leaf, when, 'scan data\n'.repeat(50)),
    renamed: await zipOf(renamedPath, good.name.replace(when, '20261122103100000')),
    garbage: await zipOf(garbagePath, good.name.replace(when, '20261122103200000')),
    big: await zipOf(bigPath, good.name.replace(when, '20261122103300000')),
  };
  sender = await makeSender({ parent: 'http://127.0.0.1:9' });
});

afterAll(async () => {
  await sender?.cleanup();
  await rm(root, { recursive: true, force: true });
});

let dirs = 0;
async function withParent<T>(target: Target, setup: Partial<ParentSetup>, body: (k: Kit) => Promise<T>): Promise<T> {
  dirs += 1;
  const dir = join(root, `parent-${dirs}`);
  await mkdir(dir, { recursive: true });
  const parent = await target.start({
    dir,
    server: 'INT1',
    tree: 'ACME',
    discardBefore: null,
    maxZipBytes: MAX_ZIP_BYTES,
    trust: [{ server: 'LEAF1', key: leaf.publicKey }],
    ...setup,
  });
  const config = { ...sender.config.sender, parent: parent.url };
  const client = createParentClient(config, await makeDispatcher(config), { ownsDispatcher: true, server: 'INT2' });
  try {
    return await body({ client, url: parent.url, zips });
  } finally {
    await client.close();
    await parent.close();
  }
}

describe.each([real, testReceiver])('the parent the Sender expects: $name', (target) => {
  it.each(cases)('$name', async (c) => {
    const answers = await withParent(target, {}, (k) => c.act(k));
    expect(answers).toHaveLength(c.expect.length);
    for (const [i, e] of c.expect.entries()) {
      const a = answers[i];
      if (a === undefined) throw new Error(`answer ${i} missing`);
      const body = isRecord(a.body) ? a.body : {};
      expect({ status: a.status, error: body.error }).toEqual({ status: e.status, error: e.error });
      expect(verdictOf(a.status, typeof body.error === 'string' ? body.error : undefined)).toBe(e.verdict);
      // SPEC §4: every answer is JSON (the body parsed as such); every error answer is {error, message}.
      expect(isRecord(a.body), JSON.stringify(a.body)).toBe(true);
      if (a.contentType !== null) expect(a.contentType).toMatch(/^application\/json\b/);
      if (e.status >= 400) expect(typeof body.message).toBe('string');
      if (e.body !== undefined) expect(body).toMatchObject(typeof e.body === 'function' ? e.body(zips) : e.body);
      if (e.retryAfterMs !== undefined) expect(a.retryAfterMs).toBe(e.retryAfterMs);
      if (e.fix !== undefined) expect(body.fix).toMatch(e.fix);
    }
  });

  it('GET /v1/info names the parent and its discard time, which the Sender reads as a time', async () => {
    await withParent(target, { discardBefore: DISCARD_BEFORE }, async (k) => {
      const info = await k.client.info();
      expect(info).toMatchObject({
        server: 'INT1',
        tree: 'ACME',
        discardBefore: DISCARD_BEFORE,
        maxZipBytes: MAX_ZIP_BYTES,
        rollupRequested: null,
      });
      expect(typeof info.role).toBe('string');
      const at = await infoDiscardSource({ parentInfo: async () => info });
      expect(at?.toISOString()).toBe(DISCARD_BEFORE);
    });
  });

  it('GET /v1/info without a discard time: null, and the Sender discards nothing', async () => {
    await withParent(target, {}, async (k) => {
      const info = await k.client.info();
      expect(info.discardBefore).toBeNull();
      expect(await infoDiscardSource({ parentInfo: async () => info })).toBeNull();
    });
  });

  it("GET /v1/info?key=…&server=… says whether that server's key is trusted (zenroll doctor asks, issue 16)", async () => {
    await withParent(target, {}, async (k) => {
      const ask = (keys: KeyPair, server: string) => raw(k.url, 'GET', `/v1/info?key=${keyIdOf(keys.publicKey)}&server=${server}`);
      expect((await ask(leaf, 'LEAF1')).body).toMatchObject({ keyTrusted: true });
      expect((await ask(leaf, 'LEAF3')).body).toMatchObject({ keyTrusted: false });
      expect((await ask(generateKeyPair(), 'LEAF1')).body).toMatchObject({ keyTrusted: false });
    });
  });
});
