/**
 * Every answer of SPEC §4, provoked for real against an HTTPS Receiver:
 * what the client gets, and that nothing of a refused upload stays in zipdir.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryLog, generateKeyPair, keyIdOf, zipPath, type KeyPair, type RollupLog } from '@zenroll/core';
import {
  call,
  digestOf,
  makePki,
  makeZip,
  names,
  partialUpload,
  put,
  removeRoot,
  writeTrustFile,
  type Pki,
  type ReceiverSetup,
  type SetupOptions,
  receiverSuite,
} from './helpers.js';
import type { ReceiverDeps } from '../src/index.js';

const suite = receiverSuite();
let pki: Pki;
let leaf: KeyPair;

beforeAll(async () => {
  pki = await makePki(suite.root);
  leaf = generateKeyPair();
});

const tls = () => ({ ca: pki.ca.certPath });

const receiver = (o: SetupOptions = {}, deps: Partial<ReceiverDeps> = {}) =>
  suite.receiver({ tls: { cert: pki.server.certPath, key: pki.server.keyPath }, trust: [leaf.publicKey], ...o }, deps);

const zipdirOf = (s: ReceiverSetup) => s.config.dirs.zipdir!;

describe('201 and 200: exactly once', () => {
  it('stores a zip (201), answers its retry 200 without a second copy, also after promotion', async () => {
    const { setup, dir, receiver: r, log, logger } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    const first = await put(r.url, z.name, z.data, { tls: tls() });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'stored', zip: z.name, bytes: z.data.length, files: 1 });
    // The retry of a lost acknowledgement, before promotion may have run.
    const again = await put(r.url, z.name, z.data, { tls: tls() });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'already-received', zip: z.name });
    await r.idle();
    const later = await put(r.url, z.name, z.data, { tls: tls() });
    expect(later.status).toBe(200);
    await r.idle();
    const promoted = z.name.replace('_OLDTREE_0.zip', '_ACME_2.zip');
    expect((await names(setup.config.dirs.entpushdir!)).filter((f) => f.endsWith('.zip'))).toEqual([promoted]);
    expect(await names(setup.config.dirs.dbdir!)).toEqual([z.name.replace('_OLDTREE_0.zip', '_ACME_1.zip')]);
    expect(log.events().filter((e) => e === 'received')).toHaveLength(1);
    const lines = logger.lines.filter((l) => l.message === 'upload').map((l) => l.fields.outcome);
    expect(lines).toEqual(['stored', 'already-received', 'already-received']);
  });

  it('records the hop the upload names (Zenroll-Sender) apart from the origin, and an unknown hop without it (SPEC §7)', async () => {
    const { setup, dir, receiver: r, log } = await receiver();
    const forwarded = await makeZip({ dir, keys: leaf, server: 'LEAF1', scheduledtime: '20261122103000001' });
    expect((await put(r.url, forwarded.name, forwarded.data, { tls: tls(), headers: { 'zenroll-sender': 'INT%5F0' } })).status).toBe(201);
    const older = await makeZip({ dir, keys: leaf, server: 'LEAF1', scheduledtime: '20261122103000002' });
    expect((await put(r.url, older.name, older.data, { tls: tls() })).status).toBe(201);
    await r.idle();
    const received = log.writes.map((w) => w.record).filter((rec) => rec.event === 'received');
    expect(received.every((rec) => Number.isInteger(rec.transferMs) && rec.transferMs >= 0)).toBe(true);
    expect(received.map((rec) => [rec.zip, rec.from, rec.to, rec.origin, rec.server])).toEqual([
      [forwarded.name, 'INT_0', 'INT1', 'LEAF1', 'INT1'],
      [older.name, '', 'INT1', 'LEAF1', 'INT1'],
    ]);
    // Promotion is a step inside this server: its hop is the server alone.
    const promoted = log.writes.map((w) => w.record).filter((rec) => rec.event === 'promoted');
    expect(promoted.map((rec) => [rec.from, rec.to, rec.origin])).toEqual(Array(4).fill(['INT1', '', 'LEAF1']));
    expect(setup.config.server).toBe('INT1');
  });

  it('a retry sent the moment the 201 arrives is answered 200, even while the first upload still writes its record', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const log = new MemoryLog();
    const slowLog: RollupLog = {
      write: async (w) => {
        await gate;
        await log.write(w);
      },
      read: (s, l) => log.read(s, l),
      close: async () => {},
    };
    const { dir, receiver: r } = await receiver({}, { log: slowLog });
    const z = await makeZip({ dir, keys: leaf });
    try {
      expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(201);
      expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(200);
    } finally {
      open();
    }
    await r.idle();
    expect(log.events()).toEqual(['received', 'promoted', 'promoted']);
  });

  it('a second retry still answers 200 once the promoted copies were taken by their consumers', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(201);
    await r.idle();
    for (const folder of [setup.config.dirs.entpushdir!, setup.config.dirs.dbdir!]) {
      for (const f of (await names(folder)).filter((x) => x.endsWith('.zip'))) await removeRoot(join(folder, f));
    }
    expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(200);
    await r.idle();
    expect((await names(setup.config.dirs.dbdir!)).length).toBe(0);
  });

  it('accepts other digest algorithms beside sha-256 and a name sent raw instead of percent-encoded', async () => {
    const { dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: leaf, server: 'LE_AF' });
    const other = `sha-512=:${randomBytes(64).toString('base64')}:`;
    const answer = await call(r.url, {
      method: 'PUT',
      path: `/v1/zips/${z.name}`, // `%5F` raw, not `%255F`
      headers: { 'content-length': String(z.data.length), 'repr-digest': `${other}, ${digestOf(z.data)};x=1` },
      body: z.data,
      tls: tls(),
    });
    expect(answer.status).toBe(201);
    expect(answer.body.zip).toBe(z.name);
  });
});

describe('400: bad name or header, before the body is read', () => {
  const cases: [string, (name: string, data: Buffer) => { path: string; headers: Record<string, string> }, string][] = [
    ['a name with the wrong field count', (_n, d) => ({ path: zipPath('20261122103000000_LEAF1_0.zip'), headers: std(d) }), 'NAME_INVALID'],
    [
      'a name with status 1 (never on the wire)',
      (nm, d) => ({ path: zipPath(nm.replace(/_0\.zip$/, '_1.zip')), headers: std(d) }),
      'NAME_INVALID',
    ],
    [
      'a name with a path separator',
      (_n, d) => ({ path: `/v1/zips/${encodeURIComponent('../20261122103000000_LEAF1_ACME_0.zip')}`, headers: std(d) }),
      'NAME_INVALID',
    ],
    ['a name with a bad time', (_n, d) => ({ path: zipPath('20261322103000000_LEAF1_ACME_0.zip'), headers: std(d) }), 'NAME_INVALID'],
    ['no Repr-Digest', (nm, d) => ({ path: zipPath(nm), headers: { 'content-length': String(d.length) } }), 'UPLOAD_INVALID'],
    [
      'a Repr-Digest that is not a dictionary of byte sequences',
      (nm, d) => ({ path: zipPath(nm), headers: { 'content-length': String(d.length), 'repr-digest': 'sha-256=abc' } }),
      'UPLOAD_INVALID',
    ],
    [
      'a Repr-Digest without sha-256',
      (nm, d) => ({
        path: zipPath(nm),
        headers: { 'content-length': String(d.length), 'repr-digest': `sha-512=:${randomBytes(64).toString('base64')}:` },
      }),
      'UPLOAD_INVALID',
    ],
    [
      'a sha-256 of the wrong length',
      (nm, d) => ({
        path: zipPath(nm),
        headers: { 'content-length': String(d.length), 'repr-digest': `sha-256=:${randomBytes(20).toString('base64')}:` },
      }),
      'UPLOAD_INVALID',
    ],
    [
      'no Content-Length (a chunked body)',
      (nm, d) => ({ path: zipPath(nm), headers: { 'transfer-encoding': 'chunked', 'repr-digest': digestOf(d) } }),
      'UPLOAD_INVALID',
    ],
  ];
  function std(d: Buffer): Record<string, string> {
    return { 'content-length': String(d.length), 'repr-digest': digestOf(d) };
  }

  it.each(cases)('%s', async (_label, make, code) => {
    const { setup, dir, receiver: r, log } = await receiver();
    const z = await makeZip({ dir, keys: leaf });
    const { path, headers } = make(z.name, z.data);
    const answer = await call(r.url, { method: 'PUT', path, headers, body: z.data, tls: tls() });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe(code);
    expect(typeof answer.body.message).toBe('string');
    expect(await names(zipdirOf(setup))).toEqual([]);
    expect(log.events()).toEqual(['rejected']);
  });

  it('DIGEST_MISMATCH when the body is not what Repr-Digest says; nothing stays, not even in the quarantine', async () => {
    const { setup, dir, receiver: r, log } = await receiver({ receiver: { quarantineDir: 'quarantine' } });
    const z = await makeZip({ dir, keys: leaf });
    const answer = await put(r.url, z.name, z.data, { tls: tls(), headers: { 'repr-digest': digestOf(Buffer.from('other bytes')) } });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('DIGEST_MISMATCH');
    expect(await names(zipdirOf(setup))).toEqual([]);
    expect(await names(setup.config.receiver.quarantineDir!)).toEqual([]);
    expect(log.writes[0]?.record).toMatchObject({ event: 'rejected', severity: 'warning', zip: z.name });
    // Sent again intact, it is stored.
    expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(201);
  });
});

describe('401, 403, 422: the zip itself is refused', () => {
  it('401 for a signer the trust store does not know', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: generateKeyPair() });
    const answer = await put(r.url, z.name, z.data, { tls: tls() });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('PRP_SIGNER_UNKNOWN');
    expect(await names(zipdirOf(setup))).toEqual([]);
  });

  it('403 for a signature that does not verify under the key it names', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const forger = generateKeyPair();
    const z = await makeZip({ dir, keys: { privateKey: forger.privateKey, publicKey: leaf.publicKey } });
    const answer = await put(r.url, z.name, z.data, { tls: tls() });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toBe('PRP_SIGNATURE_INVALID');
    expect(await names(zipdirOf(setup))).toEqual([]);
  });

  it('a key added to or removed from trustDir counts from the next upload on, without a restart', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const trustDir = setup.config.receiver.trustDir;
    const newcomer = generateKeyPair();
    const before = await makeZip({ dir, keys: newcomer, server: 'LEAF7' });
    expect((await put(r.url, before.name, before.data, { tls: tls() })).status).toBe(401);
    // What `zenroll trust add --name LEAF7` does: a new file in the folder (the store read for the first upload is stale now).
    const file = await writeTrustFile(trustDir, { server: 'LEAF7', key: newcomer.publicKey });
    const after = await makeZip({ dir, keys: newcomer, server: 'LEAF7' });
    expect((await put(r.url, after.name, after.data, { tls: tls() })).status).toBe(201);
    // And revoked: the file removed.
    await rm(file);
    const revoked = await makeZip({ dir, keys: newcomer, server: 'LEAF7' });
    expect((await put(r.url, revoked.name, revoked.data, { tls: tls() })).status).toBe(401);
    await r.idle();
  });

  it('trusts its own key and a key from the extra source', async () => {
    const published = generateKeyPair();
    const {
      setup,
      dir,
      receiver: r,
    } = await receiver(
      {},
      {
        extraKeys: {
          lookup: async (id) =>
            id === keyIdOf(published.publicKey)
              ? { key: published.publicKey, grants: [{ server: 'LEAF9', source: 'directory' }] }
              : undefined,
        },
      },
    );
    const own = await makeZip({ dir, keys: setup.keys, server: 'INT1' });
    expect((await put(r.url, own.name, own.data, { tls: tls() })).status).toBe(201);
    const fromDirectory = await makeZip({ dir, keys: published, server: 'LEAF9' });
    expect((await put(r.url, fromDirectory.name, fromDirectory.data, { tls: tls() })).status).toBe(201);
  });

  it('422 for bodies that are not valid outer zips, each quarantined with its reason', async () => {
    const { setup, dir, receiver: r, log } = await receiver({ receiver: { quarantineDir: 'quarantine' } });
    const z = await makeZip({ dir, keys: leaf });
    const flipped = Buffer.from(z.data);
    const at = Math.floor(flipped.length / 3);
    flipped[at] = (flipped[at] ?? 0) ^ 0xff;
    const renamed = z.name.replace(/^2026/, '2025');
    const cases: [string, Buffer, string | RegExp][] = [
      [z.name, randomBytes(3000), 'ZIP_UNREADABLE'],
      [z.name, z.data.subarray(0, z.data.length - 30), 'ZIP_UNREADABLE'],
      [z.name, flipped, /^ZIP_/],
      [renamed, z.data, 'ZIP_NAME_MISMATCH'],
    ];
    for (const [name, body, code] of cases) {
      const answer = await put(r.url, name, body, { tls: tls() });
      expect(answer.status, `${String(code)}`).toBe(422);
      expect(answer.body.error).toMatch(code);
    }
    expect(await names(zipdirOf(setup))).toEqual([]);
    const q = await names(setup.config.receiver.quarantineDir!);
    const base = z.name.replace(/\.zip$/, '');
    expect(q).toEqual(
      [
        z.name,
        `${z.name}.json`,
        `${base}~2.zip`,
        `${base}~2.zip.json`,
        `${base}~3.zip`,
        `${base}~3.zip.json`,
        renamed,
        `${renamed}.json`,
      ].sort(),
    );
    const reason = JSON.parse(await readFile(join(setup.config.receiver.quarantineDir!, `${renamed}.json`), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(reason).toMatchObject({ zip: renamed, status: 422, error: 'ZIP_NAME_MISMATCH', bytes: z.data.length });
    expect(await readFile(join(setup.config.receiver.quarantineDir!, renamed))).toEqual(z.data);
    expect(log.events()).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    // The valid zip is still welcome under its own name.
    expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(201);
  });
});

describe('409, 413, 503, 507', () => {
  it('409 for the same name with other content, before and after promotion', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const a = await makeZip({ dir, keys: leaf, scheduledtime: '20261122103000000', files: { 'a.str': 'first' } });
    const b = await makeZip({ dir, keys: leaf, scheduledtime: '20261122103000000', files: { 'a.str': 'second' } });
    expect(a.name).toBe(b.name);
    expect((await put(r.url, a.name, a.data, { tls: tls() })).status).toBe(201);
    const conflict = await put(r.url, b.name, b.data, { tls: tls() });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('ZIP_CONFLICT');
    await r.idle();
    expect((await put(r.url, b.name, b.data, { tls: tls() })).status).toBe(409);
    expect(await readFile(join(setup.config.dirs.dbdir!, a.name.replace('_OLDTREE_0', '_ACME_1')))).toEqual(a.data);
  });

  it('413 at once when Content-Length is over maxZipBytes', async () => {
    const { setup, dir, receiver: r } = await receiver({ receiver: { maxZipBytes: 2048 } });
    const z = await makeZip({ dir, keys: leaf, files: { 'big.str': randomBytes(4096).toString('base64') } });
    expect(z.data.length).toBeGreaterThan(2048);
    const answer = await put(r.url, z.name, z.data, { tls: tls() });
    expect(answer.status).toBe(413);
    expect(answer.body.error).toBe('ZIP_OVER_LIMIT');
    expect(await names(zipdirOf(setup))).toEqual([]);
  });

  /** A Receiver with one upload slot (and `line` as its line), that slot held by a slow upload still sending its body. */
  async function slotTaken(line: { maxQueuedUploads: number; queueWaitMs?: number }) {
    const started = await receiver({ receiver: { maxConcurrentUploads: 1, ...line } });
    const slow = await makeZip({ dir: started.dir, keys: leaf });
    const upload = await partialUpload(started.receiver.url, slow.name, slow.data, 100, { tls: tls() });
    await started.logger.waitFor((l) => l.message === 'receiving' && l.fields.zip === slow.name);
    return { ...started, slow, upload };
  }

  it('503 BUSY with Retry-After over maxConcurrentUploads (no line to wait in), 503 UPLOAD_IN_PROGRESS for the same name', async () => {
    const { setup, dir, receiver: r, slow, upload } = await slotTaken({ maxQueuedUploads: 0 });
    const other = await makeZip({ dir, keys: leaf });

    const busy = await put(r.url, other.name, other.data, { tls: tls() });
    expect(busy.status).toBe(503);
    expect(busy.body.error).toBe('BUSY');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
    const same = await put(r.url, slow.name, slow.data, { tls: tls() });
    expect(same.status).toBe(503);
    expect(same.body.error).toBe('UPLOAD_IN_PROGRESS');
    expect(Number(same.headers['retry-after'])).toBeGreaterThan(0);

    upload.finish();
    const done = await upload.done;
    expect(done).toMatchObject({ status: 201 });
    expect((await put(r.url, other.name, other.data, { tls: tls() })).status).toBe(201);
    await r.idle();
    expect(await names(zipdirOf(setup))).toEqual([]);
  });

  it('over maxConcurrentUploads an upload waits in line for a slot: stored once the slot frees; a full line or a wait past queueWaitMs gets 503', async () => {
    const { setup, dir, receiver: r, upload } = await slotTaken({ maxQueuedUploads: 1, queueWaitMs: 30_000 });
    const queued = await makeZip({ dir, keys: leaf });
    const third = await makeZip({ dir, keys: leaf });

    // The second waits (its body unread) while the first holds the one slot…
    let queuedAnswer: Awaited<ReturnType<typeof put>> | undefined;
    const waiting = put(r.url, queued.name, queued.data, { tls: tls() }).then((a) => (queuedAnswer = a));
    const until = Date.now() + 10_000;
    while ((await call(r.url, { path: '/v1/health', tls: tls() })).body.waiting !== 1 && Date.now() < until)
      await new Promise((res) => setTimeout(res, 20));
    expect(queuedAnswer).toBeUndefined();
    // …so the line is full and a third is sent away at once.
    const busy = await put(r.url, third.name, third.data, { tls: tls() });
    expect(busy.status).toBe(503);
    expect(busy.body.error).toBe('BUSY');
    expect(busy.body.message).toMatch(/receiving 1 uploads, as many as it may, and 1 more wait for one/);

    upload.finish();
    expect(await upload.done).toMatchObject({ status: 201 });
    await waiting;
    expect(queuedAnswer?.status).toBe(201);
    await r.idle();
    expect(await names(zipdirOf(setup))).toEqual([]);
  });

  it('an upload that waited queueWaitMs in line for a slot gets 503 BUSY and leaves nothing', async () => {
    const { setup, dir, receiver: r, upload } = await slotTaken({ maxQueuedUploads: 4, queueWaitMs: 300 });
    const other = await makeZip({ dir, keys: leaf });
    const busy = await put(r.url, other.name, other.data, { tls: tls() });
    expect(busy.status).toBe(503);
    expect(busy.body.error).toBe('BUSY');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
    upload.finish();
    expect(await upload.done).toMatchObject({ status: 201 });
    await r.idle();
    expect(await names(zipdirOf(setup))).toEqual([]);
  });

  it('507 when the free space cannot hold the zip, its copies and minFreeBytes; health says 503', async () => {
    let free = 10_000;
    const {
      setup,
      dir,
      receiver: r,
    } = await receiver({ receiver: { minFreeBytes: 5000 } }, { freeSpace: async () => ({ availableBytes: free, totalBytes: 1e9 }) });
    const z = await makeZip({ dir, keys: leaf });
    // intermediate-db: the zip and 2 promoted copies + minFreeBytes.
    free = z.data.length * 3 + 5000 - 1;
    const answer = await put(r.url, z.name, z.data, { tls: tls() });
    expect(answer.status).toBe(507);
    expect(answer.body.error).toBe('FS_NO_SPACE');
    expect(await names(zipdirOf(setup))).toEqual([]);
    free = 4999;
    const health = await call(r.url, { path: '/v1/health', tls: tls() });
    expect(health.status).toBe(503);
    expect(health.body.error).toBe('UNHEALTHY');
    free = z.data.length * 3 + 5000;
    expect((await put(r.url, z.name, z.data, { tls: tls() })).status).toBe(201);
    expect((await call(r.url, { path: '/v1/health', tls: tls() })).status).toBe(200);
  });
});

describe('info, health, unknown paths and methods', () => {
  it('answers /v1/info and /v1/health with JSON', async () => {
    const { receiver: r } = await receiver({ receiver: { discardBefore: '2026-01-01T00:00:00Z', maxZipBytes: 100_000 } });
    const info = await call(r.url, { path: '/v1/info', tls: tls() });
    expect(info.status).toBe(200);
    expect(info.headers['content-type']).toMatch(/^application\/json/);
    expect(info.body).toEqual({
      rollupRequested: null,
      server: 'INT1',
      tree: 'ACME',
      role: 'intermediate-db',
      discardBefore: '2026-01-01T00:00:00Z',
      maxZipBytes: 100_000,
    });
    const health = await call(r.url, { path: '/v1/health', tls: tls() });
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });

  it('announces the discard time of the injected source', async () => {
    const { receiver: r } = await receiver({}, { discardBefore: async () => '2026-03-01T00:00:00.000Z' });
    expect((await call(r.url, { path: '/v1/info', tls: tls() })).body.discardBefore).toBe('2026-03-01T00:00:00.000Z');
  });

  it('404 for unknown paths, 405 with Allow for wrong methods', async () => {
    const { receiver: r } = await receiver();
    const missing = await call(r.url, { path: '/v2/zips', tls: tls() });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('NOT_FOUND');
    const zipsGet = await call(r.url, { path: zipPath('20261122103000000_LEAF1_ACME_0.zip'), tls: tls() });
    expect(zipsGet.status).toBe(405);
    expect(zipsGet.headers.allow).toBe('PUT');
    const infoPost = await call(r.url, { method: 'POST', path: '/v1/info', tls: tls() });
    expect(infoPost.status).toBe(405);
    expect(infoPost.body.error).toBe('METHOD_NOT_ALLOWED');
  });

  it('speaks plain HTTP when receiver.tls is false', async () => {
    const { dir, receiver: r } = await receiver({ tls: false });
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const z = await makeZip({ dir, keys: leaf });
    expect((await put(r.url, z.name, z.data)).status).toBe(201);
  });
});

describe('the outer name must match the signed content', () => {
  it('refuses a good zip sent under another origin server', async () => {
    const { setup, dir, receiver: r } = await receiver();
    const z = await makeZip({ dir, keys: leaf, server: 'LEAF1' });
    // Same bytes, other origin server in the name: the .prp says LEAF1.
    const name = z.name.replace('_LEAF1_', '_LEAF2_');
    const answer = await put(r.url, name, z.data, { tls: tls() });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toBe('ZIP_NAME_MISMATCH');
    expect(await names(zipdirOf(setup))).toEqual([]);
  });
});
