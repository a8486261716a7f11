#!/usr/bin/env node
// The long run of the zip verifier fuzz (the CI runs 500 cases in
// packages/core/test/fuzz-verify.test.ts): N mutants of valid outer zips made
// by the real packer, each verified by the built core (npx tsc -b first).
// Prints the figures; exits 1 when any mutant crashed the verifier, hung it,
// was verified differently from its original, or leaked a file handle.
//
//   node scripts/fuzz.mjs --cases 20000 [--seed 42] [--deadline-ms 10000]
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { TrustStore, generateKeyPair, isZenrollError, packBatch, verifyOuterZip } from '@zenroll/core';
import { writeFixtures } from '@zenroll/lab';
import { describeMutations, essence, mutantArb, mutate, runMutant } from '@zenroll/lab/zipcraft';

const usage = 'usage: node scripts/fuzz.mjs [--cases N] [--seed S] [--deadline-ms MS]';
let args;
try {
  args = parseArgs({
    options: {
      cases: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      'deadline-ms': { type: 'string', default: '10000' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  process.stderr.write(`fuzz.mjs: ${err.message}\n${usage}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const cases = Number(args.cases);
const seed = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
const deadlineMs = Number(args['deadline-ms']);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed) || !Number.isInteger(deadlineMs)) {
  process.stderr.write(`fuzz.mjs: --cases, --seed and --deadline-ms take whole numbers\n${usage}\n`);
  process.exit(2);
}

const NAME = '20261122103000000_LEAF1_ACME_0.zip';
const work = await mkdtemp(join(tmpdir(), 'zenroll-fuzz-'));
const keys = generateKeyPair();
const trust = new TrustStore();
trust.add(keys.publicKey, 'fuzz', null);
const verify = (path) => verifyOuterZip(path, { trust: trust.lookup, name: NAME });
const openFds = async () => (await readdir('/proc/self/fd')).length;

/** Real packer output: one .str, seven, and fifty small ones. */
async function seeds() {
  const out = [];
  for (const [i, count, maxBytes] of [
    [0, 1, 20_000],
    [1, 7, 8_000],
    [2, 50, 2_500],
  ]) {
    const dir = join(work, `seed${i}`);
    const { names } = await writeFixtures({ out: dir, count, seed: 100 + i, minBytes: 1000, maxBytes });
    const packed = await packBatch({
      files: names.map((n) => join(dir, n)),
      outDir: dir,
      server: 'LEAF1',
      tree: 'ACME',
      status: 0,
      scheduledtime: '20261122103000000',
      keys,
    });
    out.push({ what: `${count} .str`, zip: await readFile(packed.path), original: essence(await verify(packed.path)) });
  }
  return out;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

try {
  const zips = await seeds();
  const arb = fc.nat({ max: zips.length - 1 }).chain((i) => mutantArb(zips[i].zip.length).map((m) => ({ i, m })));
  const outcomes = new Map();
  const codes = new Map();
  const findings = [];
  const times = [];
  const base = process.memoryUsage();
  let peakHeap = 0;
  let peakRss = 0;
  // The first write to stderr opens a handle when it is a pipe: written before the count it is compared with.
  process.stderr.write(`0/${cases} mutants`);
  const fds = await openFds();
  const started = Date.now();
  const CHUNK = 1000;
  for (let done = 0; done < cases; done += CHUNK) {
    const batch = fc.sample(arb, { numRuns: Math.min(CHUNK, cases - done), seed: seed + done });
    for (const [k, { i, m }] of batch.entries()) {
      const s = zips[i];
      const r = await runMutant({
        path: join(work, 'mutant.zip'),
        bytes: mutate(s.zip, m),
        verify,
        original: s.original,
        isZenrollError,
        deadlineMs,
      });
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      if (r.code) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      times.push(r.ms);
      const leaked = (await openFds()) !== fds;
      if (!['identical', 'rejected'].includes(r.outcome) || leaked) {
        findings.push({
          case: done + k,
          seed: s.what,
          mutations: describeMutations(m),
          outcome: leaked ? `${r.outcome}, file handle leaked` : r.outcome,
          code: r.code,
          message: r.message?.slice(0, 300),
        });
      }
      const mem = process.memoryUsage();
      peakHeap = Math.max(peakHeap, mem.heapUsed + mem.arrayBuffers - base.heapUsed - base.arrayBuffers);
      peakRss = Math.max(peakRss, mem.rss);
    }
    process.stderr.write(`\r${Math.min(cases, done + CHUNK)}/${cases} mutants`);
  }
  process.stderr.write('\n');
  times.sort((a, b) => a - b);
  const fmt = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const lines = [
    `zip verifier fuzz: ${cases} mutants of ${zips.length} packer zips (${zips.map((z) => `${z.what}, ${z.zip.length} B`).join('; ')}), seed ${seed}`,
    `outcomes: ${fmt(outcomes)}`,
    `refusal codes: ${fmt(codes)}`,
    `time per mutant: p50 ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms, max ${(times.at(-1) ?? 0).toFixed(1)} ms (deadline ${deadlineMs} ms); ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
    `memory: peak heap growth ${(peakHeap / 1e6).toFixed(1)} MB, peak RSS ${(peakRss / 1e6).toFixed(1)} MB; file handles open at the end ${await openFds()} (at the start ${fds})`,
    `findings: ${findings.length}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (findings.length > 0) {
    const report = join(tmpdir(), `zenroll-fuzz-findings-${seed}.json`);
    await writeFile(report, `${JSON.stringify(findings, null, 2)}\n`);
    for (const f of findings.slice(0, 10))
      process.stdout.write(`  #${f.case} (${f.seed}) ${f.mutations} → ${f.outcome} ${f.code ?? ''} ${f.message ?? ''}\n`);
    process.stdout.write(`all findings: ${report}\n`);
    process.exitCode = 1;
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
