#!/usr/bin/env node
// A child process of the benchmark, so that each measured run has a process
// of its own (a clean heap, its own peak RSS and CPU time, and room for
// `node --cpu-prof`). Prints one JSON line.
//
//   node bench-worker.mjs pack   JOB.json   JOB: { batches: [{ files, server, scheduledtime }], outDir, lanes, keys: { private, public }, tree }
//   node bench-worker.mjs verify JOB.json   JOB: { zips: [path], lanes, trust: [public key path] }
//   node bench-worker.mjs fixtures JOB.json JOB: writeFixtures options (@zenroll/lab)
//
// `lanes` batches (or zips) are in work at once in this one process, the way
// one Sender packs and one Receiver verifies.
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { TrustStore, loadKeyPair, loadPublicKey, packBatch, verifyOuterZip } from '@zenroll/core';
import { pool } from './bench-util.mjs';

const [command, jobPath] = process.argv.slice(2);
const job = JSON.parse(await readFile(jobPath, 'utf8'));

async function pack() {
  // A batch may carry its own signer's keys (the load's 200 senders); loaded before the clock starts.
  const pairs = new Map();
  for (const k of [job.keys, ...job.batches.map((b) => b.keys).filter(Boolean)]) {
    if (!pairs.has(k.private)) pairs.set(k.private, await loadKeyPair(k.private, k.public));
  }
  await mkdir(job.outDir, { recursive: true });
  const t0 = performance.now();
  const made = await pool(job.batches, job.lanes, (b) =>
    packBatch({
      files: b.files,
      outDir: job.outDir,
      server: b.server,
      tree: job.tree ?? 'ACME',
      status: 0,
      scheduledtime: b.scheduledtime,
      keys: pairs.get((b.keys ?? job.keys).private),
    }),
  );
  const ms = performance.now() - t0;
  return { ms, zips: made.map((m) => m.path), bytes: made.reduce((s, m) => s + m.bytes, 0) };
}

async function verify() {
  const trust = new TrustStore();
  for (const path of job.trust) trust.add(await loadPublicKey(path), path, 'BENCH');
  const t0 = performance.now();
  const checked = await pool(job.zips, job.lanes, (zip) => verifyOuterZip(zip, { trust: trust.lookup }));
  const ms = performance.now() - t0;
  return { ms, files: checked.reduce((s, v) => s + v.files.length, 0), bytes: checked.reduce((s, v) => s + v.bytes, 0) };
}

async function fixtures() {
  const { writeFixtures } = await import('@zenroll/lab');
  const { names, ...summary } = await writeFixtures(job);
  return summary;
}

/** CPU ms of this process's main (JavaScript) thread so far. */
function mainThreadCpuMs() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuMs();
const commands = { pack, verify, fixtures };
const result = commands[command] ? await commands[command]() : null;
if (result === null) throw new Error(`bench-worker: unknown command ${command}`);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ ...result, cpuMs: (cpu.user + cpu.system) / 1000, mainThreadCpuMs: mainThreadCpuMs() - main0, peakRss: process.resourceUsage().maxRSS * 1024 })}\n`,
);
