// Figure 5 of the benchmark: one ROOT Receiver (a real `zenroll serve`, TLS,
// logging to the private slapd) and many concurrent senders, each pushing
// its zips one after the other, oldest first, like a leaf (SPEC §4): PUT
// /v1/zips/<name> with Repr-Digest, each sender on its own connection. The
// zips are made beforehand by zenroll's packer, signed by a key ROOT trusts.
// A 503 is answered by waiting its Retry-After and trying again (counted,
// not an error); any other failure is an error.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { formatReprDigest, generateKeyPair, publicKeyPem, saveKeyPair, trustFileName, zipPath } from '@zenroll/core';
import { initTree, startServe, stopServe } from '@zenroll/testkit';
import { CLI } from './zenroll-cli.mjs';
import { nodeJson, percentile, progress, round, rssOf, sleep } from './bench-util.mjs';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'bench-worker.mjs');
export const LOAD_ROOT = 'LOADROOT';
const MAX_TRIES = 200;

const senderName = (s) => `LOAD${String(s + 1).padStart(3, '0')}`;

/**
 * Each sender its own key pair, trusted by ROOT for that server only, as
 * `zenroll trust add --name LOADnnn` would (a key signs for the server it is
 * bound to, SPEC §4); the files are written directly, since 200 runs of the
 * CLI would take a minute of the benchmark.
 */
async function senderKeys(ctx, trustDir) {
  const keys = new Map();
  const dir = join(ctx.work, 'load-keys');
  await mkdir(dir, { recursive: true });
  await mkdir(trustDir, { recursive: true });
  for (let s = 0; s < ctx.senders; s++) {
    const server = senderName(s);
    const pair = generateKeyPair();
    const paths = { private: join(dir, `${server}.key`), public: join(dir, `${server}.pub`) };
    await saveKeyPair(pair, paths.private, paths.public);
    await writeFile(join(trustDir, trustFileName(server)), publicKeyPem(pair.publicKey));
    keys.set(server, paths);
  }
  return keys;
}

/** Each sender `LOADnnn` gets `perSender` zips of `filesPerZip` .str, taken round the fixture set, signed with its key of `keys`. */
async function makeZips(ctx, keys, outDir) {
  const batches = [];
  let at = 0;
  for (let s = 0; s < ctx.senders; s++) {
    for (let k = 0; k < ctx.zipsPerSender; k++) {
      const files = [];
      for (let f = 0; f < ctx.filesPerZip; f++) files.push(join(ctx.fixtures, ctx.names[at++ % ctx.names.length]));
      const server = senderName(s);
      batches.push({ files, server, keys: keys.get(server), scheduledtime: String(20261122000000000n + BigInt(k)) });
    }
  }
  const jobFile = join(ctx.work, 'load-job.json');
  await writeFile(jobFile, JSON.stringify({ outDir, lanes: 2, keys: ctx.keys, tree: 'ACME', batches }));
  const { zips } = await nodeJson(WORKER, ['pack', jobFile], { cleanup: ctx.cleanup });
  const loaded = [];
  for (const path of zips) {
    const body = await readFile(path);
    loaded.push({ name: basename(path), body, digest: formatReprDigest(createHash('sha256').update(body).digest()) });
  }
  return loaded;
}

async function push(client, zip, stats) {
  const started = performance.now();
  for (let tries = 1; tries <= MAX_TRIES; tries++) {
    const t = performance.now();
    let status;
    let retryAfter;
    try {
      const res = await client.request({
        path: zipPath(zip.name),
        method: 'PUT',
        body: zip.body,
        headers: { 'content-type': 'application/zip', 'content-length': String(zip.body.length), 'repr-digest': zip.digest },
      });
      await res.body.text();
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
    } catch (err) {
      stats.errors.push({ zip: zip.name, error: `${err.code ?? ''} ${err.message}`.trim() });
      return;
    }
    if (status === 201 || status === 200) {
      stats.attemptMs.push(performance.now() - t);
      stats.totalMs.push(performance.now() - started);
      stats.ok++;
      stats.bytes += zip.body.length;
      return;
    }
    if (status !== 503) {
      stats.errors.push({ zip: zip.name, error: `HTTP ${status}` });
      return;
    }
    stats.busy++;
    await sleep(Number(retryAfter ?? 1) * 1000);
  }
  stats.errors.push({ zip: zip.name, error: `still 503 after ${MAX_TRIES} tries` });
}

/** ctx: { work, slapd, cleanup, keys, fixtures, names, senders, zipsPerSender, filesPerZip }. */
export async function benchLoad(ctx) {
  const tree = await initTree({
    cli: CLI,
    dir: join(ctx.work, 'load'),
    slapd: ctx.slapd,
    plan: [{ name: LOAD_ROOT, role: 'root' }],
  });
  const root = tree.node(LOAD_ROOT);
  const keys = await senderKeys(ctx, root.config.receiver.trustDir);
  progress(`  packing ${ctx.senders * ctx.zipsPerSender} zips of ${ctx.filesPerZip} .str for ${ctx.senders} senders…`);
  const zips = await makeZips(ctx, keys, join(ctx.work, 'load-zips'));
  const ca = await readFile(join(root.dir, 'tls', 'server.crt'), 'utf8');
  await startServe(root, { track: (c) => ctx.cleanup.child(c) });
  ctx.cleanup.add('stop the load ROOT', () => stopServe(root));
  const clients = Array.from(
    { length: ctx.senders },
    () => new Client(root.url, { connect: { ca }, headersTimeout: 120_000, bodyTimeout: 120_000 }),
  );
  const stats = { ok: 0, busy: 0, bytes: 0, errors: [], attemptMs: [], totalMs: [] };
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (client, s) => {
      for (const zip of zips.slice(s * ctx.zipsPerSender, (s + 1) * ctx.zipsPerSender)) await push(client, zip, stats);
    }),
  );
  const ms = performance.now() - t0;
  await Promise.all(clients.map((c) => c.close()));
  // Stored (201) is not yet promoted: wait for ROOT's dbdir to hold them all.
  const until = Date.now() + 600_000;
  while ((await readdir(root.config.dirs.dbdir)).filter((n) => n.endsWith('.zip')).length < stats.ok) {
    if (Date.now() > until) throw new Error('ROOT did not promote every stored upload within 10 minutes');
    await sleep(20);
  }
  const promotedMs = performance.now() - t0;
  const rss = rssOf(root.pid);
  await stopServe(root);
  const ms2 = (v) => round(v, 0);
  return {
    senders: ctx.senders,
    zipsPerSender: ctx.zipsPerSender,
    filesPerZip: ctx.filesPerZip,
    uploads: zips.length,
    zipBytesAvg: Math.round(zips.reduce((s, z) => s + z.body.length, 0) / zips.length),
    stored: stats.ok,
    errors: stats.errors.length,
    errorSamples: stats.errors.slice(0, 5),
    busy503: stats.busy,
    ms: ms2(ms),
    allPromotedMs: ms2(promotedMs),
    zipsPerS: round((stats.ok / ms) * 1000, 1),
    mbPerS: round(stats.bytes / 1e6 / (ms / 1000), 1),
    attemptP50Ms: ms2(percentile(stats.attemptMs, 50)),
    attemptP99Ms: ms2(percentile(stats.attemptMs, 99)),
    totalP50Ms: ms2(percentile(stats.totalMs, 50)),
    totalP99Ms: ms2(percentile(stats.totalMs, 99)),
    rootPeakRssMB: round(rss.peak / 1e6, 1),
  };
}
