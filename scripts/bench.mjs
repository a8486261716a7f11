#!/usr/bin/env node
// `npm run bench [-- --quick] [--profile] [--only pack,e2e,load,directory,tree,poll] [--keep]`
//
// zenroll against Info-ZIP in the same run (issue 8; docs/PERFORMANCE.md says
// what each figure means): 1 packing, 2 verification, 3 end to end through
// real `zenroll serve` processes, 4 their peak RSS, also with a large
// backlog, 5 one Receiver under many senders, 6 log records into slapd,
// 7 `zenroll tree` over 500 servers, 8 a parent polled by 200 children.
// Prints a table and writes the same figures to bench/results.json (a quick
// or partial run: bench/out/results-quick.json). Everything it starts is
// stopped and every temp folder removed at the end, on failure and on Ctrl-C.
// Build first: `npx tsc -b`.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = ['pack', 'e2e', 'load', 'directory', 'tree', 'poll'];
const WORKER = join(ROOT, 'scripts', 'lib', 'bench-worker.mjs');

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    backlog: { type: 'string' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--profile] [--only ${SECTIONS.join(',')}] [--runs N] [--backlog N] [--keep] [--out FILE]
  --quick    500 .str, 1 run each, 20 senders, a backlog of 5,000 (about a minute)
  --profile  also write node --cpu-prof profiles of the packer, the verifier and the three services to bench/out/profiles
  --only     run only these sections (pack is 1 and 2; e2e is 3 and 4; tree is 7, poll 8)
  --runs N   runs of each measurement (default 3; quick 1)
  --backlog N  small .str in the backlog run of figure 4 (default 50000; quick 5000; 0 skips it)
  --keep     keep the temp folder (its path is printed) instead of removing it
`);
  process.exit(0);
}
const only = opt.only ? opt.only.split(',').map((s) => s.trim()) : SECTIONS;
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${s}; the sections are ${SECTIONS.join(', ')}`);

const SIZES = opt.quick
  ? { files: 500, runs: 1, verifyRuns: 1, senders: 20, backlogs: [5_000], directoryRecords: 500, pollChildren: 200, pollSeconds: 5 }
  : { files: 5_000, runs: 3, verifyRuns: 3, senders: 200, backlogs: [50_000], directoryRecords: 1_000, pollChildren: 200, pollSeconds: 15 };
if (opt.runs) SIZES.runs = SIZES.verifyRuns = Number(opt.runs);
if (opt.backlog) SIZES.backlogs = Number(opt.backlog) > 0 ? [Number(opt.backlog)] : [];
const BACKLOG_BYTES = { minBytes: 2_048, maxBytes: 6_144 };

for (const file of ['packages/cli/dist/bin.js', 'packages/core/dist/index.js', 'packages/directory/dist/slapd/index.js']) {
  if (!existsSync(join(ROOT, file))) {
    process.stderr.write(`${file} is missing: build first (npx tsc -b)\n`);
    process.exit(2);
  }
}

// Imported after the build check: these load packages/*/dist.
const { generateKeyPair, saveKeyPair } = await import('@zenroll/core');
const { Cleanup, cpuTicks, nodeJson, progress, versionOf } = await import('./lib/bench-util.mjs');
const { startSlapd } = await import('@zenroll/directory/slapd');
const { benchPackAndVerify } = await import('./lib/bench-pack.mjs');
const { benchEndToEnd, E2E_SERVERS } = await import('./lib/bench-e2e.mjs');
const { benchLoad, LOAD_ROOT } = await import('./lib/bench-load.mjs');
const { benchDirectory, DIRECTORY_SERVER } = await import('./lib/bench-directory.mjs');
const { benchTree, benchPoll, POLL_ROOT } = await import('./lib/bench-tree.mjs');
const { table, verdicts } = await import('./lib/bench-report.mjs');

for (const tool of ['zip', 'unzip']) {
  if ((await versionOf(tool, ['-v'])) === null) {
    process.stderr.write(`${tool} is not installed: sudo apt-get install zip unzip\n`);
    process.exit(2);
  }
}

const started = performance.now();
const ticks0 = cpuTicks();
const load0 = loadavg()[0];
if (load0 > 0.7)
  process.stderr.write(`note: the load average is ${load0.toFixed(2)}: other programs are running, and the figures will show it\n`);
const cleanup = new Cleanup();
const work = await mkdtemp(join(tmpdir(), 'zenroll-bench-'));
if (opt.keep) process.stderr.write(`keeping ${work}\n`);
else cleanup.add(`remove ${work}`, () => rm(work, { recursive: true, force: true }));
const profileDir = opt.profile ? join(ROOT, 'bench', 'out', 'profiles') : null;
if (profileDir) {
  await rm(profileDir, { recursive: true, force: true });
  await mkdir(profileDir, { recursive: true });
}

/** The fixture set, written by two processes at once (every file depends only on seed and index). */
async function fixtureSet(name, count, seed, sizes = {}) {
  const out = join(work, name);
  const half = Math.ceil(count / 2);
  const parts = await Promise.all(
    [
      [0, half],
      [half, count - half],
    ].map(async ([startIndex, n], i) => {
      const job = join(work, `${name}-${i}.json`);
      await writeFile(job, JSON.stringify({ out, count: n, seed, startIndex, ...sizes }));
      return nodeJson(WORKER, ['fixtures', job], { cleanup });
    }),
  );
  const names = (await readdir(out)).filter((n) => n.endsWith('.str')).sort();
  return { fixtures: out, names, bytes: parts[0].totalBytes + parts[1].totalBytes, ratio: parts[0].sampleRatio };
}

const results = {
  date: new Date().toISOString(),
  mode: opt.quick ? 'quick' : 'full',
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null, memoryGB: Math.round(totalmem() / 1e9), kernel: release() },
  versions: {
    node: process.version,
    zip: await versionOf('zip', ['-v'], (t) => /This is (Zip [^ ]+)/.exec(t)?.[1] ?? t.split('\n')[0]),
    unzip: await versionOf('unzip', ['-v'], (t) => /^(UnZip [^ ]+)/.exec(t)?.[1] ?? t.split('\n')[0]),
    slapd: await versionOf('/usr/sbin/slapd', ['-VV'], (t) => /slapd ([^ ]+)/.exec(t)?.[1] ?? t.split('\n')[0]),
  },
};

let failed = false;
results.sectionSeconds = {};
let lap = performance.now();
const timed = (name) => {
  const now = performance.now();
  results.sectionSeconds[name] = Math.round((now - lap) / 1000);
  lap = now;
};
try {
  // Only packing, end to end and load read the fixture set.
  const set = only.some((s) => ['pack', 'e2e', 'load'].includes(s))
    ? await (async () => {
        progress(`generating ${SIZES.files} .str (20–200 KB) in ${work}…`);
        const f = await fixtureSet('fixtures', SIZES.files, 1);
        results.input = {
          files: SIZES.files,
          bytes: f.bytes,
          mb: Number((f.bytes / 1e6).toFixed(1)),
          deflateRatioSample: Number(f.ratio.toFixed(2)),
          runs: SIZES.runs,
        };
        progress(`  ${results.input.mb} MB`);
        return f;
      })()
    : { fixtures: null, names: [], bytes: 0 };
  const keyDir = join(work, 'keys');
  await mkdir(keyDir, { recursive: true });
  const keys = { private: join(keyDir, 'bench.key'), public: join(keyDir, 'bench.pub') };
  await saveKeyPair(generateKeyPair(), keys.private, keys.public);
  const base = { work, cleanup, keys, fixtures: set.fixtures, names: set.names, inputBytes: set.bytes, runs: SIZES.runs, profileDir };
  timed('fixtures');

  let zipSeqMs = null;
  if (only.includes('pack')) {
    progress('1–2 packing and verification…');
    const p = await benchPackAndVerify({ ...base, verifyRuns: SIZES.verifyRuns });
    results.pack = p.pack;
    results.verify = p.verify;
    zipSeqMs = p.zipSeqMs;
    await rm(join(work, 'packed'), { recursive: true, force: true });
    timed('packAndVerify');
  }

  let slapd = null;
  if (only.some((s) => s !== 'pack')) {
    slapd = await startSlapd({ dir: join(work, 'slapd'), tree: 'ACME', servers: [...E2E_SERVERS, LOAD_ROOT, DIRECTORY_SERVER, POLL_ROOT] });
    cleanup.add('stop slapd', () => slapd.destroy());
  }

  if (only.includes('e2e')) {
    const backlogs = [];
    for (const count of SIZES.backlogs) {
      progress(`generating a backlog of ${count} small .str (2–6 KB)…`);
      const b = await fixtureSet(`backlog${count}`, count, 2, BACKLOG_BYTES);
      backlogs.push(b);
    }
    progress('3–4 end to end and memory…');
    const e = await benchEndToEnd({ ...base, slapd, zipSeqMs, backlogs });
    results.endToEnd = e.endToEnd;
    results.memory = e.memory;
    for (const b of backlogs) await rm(b.fixtures, { recursive: true, force: true });
    timed('endToEndAndMemory');
  }

  if (only.includes('load')) {
    progress(`5 load: ${SIZES.senders} senders…`);
    results.load = await benchLoad({ ...base, slapd, senders: SIZES.senders, zipsPerSender: 5, filesPerZip: 5 });
    timed('load');
  }

  if (only.includes('directory')) {
    progress('6 directory…');
    results.directory = await benchDirectory({ work, slapd, records: SIZES.directoryRecords, runs: SIZES.runs });
    timed('directory');
  }

  if (only.includes('tree')) {
    progress('7 zenroll tree over 500 servers…');
    results.tree = await benchTree({ work, slapd, runs: SIZES.runs });
    timed('tree');
  }

  if (only.includes('poll')) {
    progress(`8 a parent polled by ${SIZES.pollChildren} children…`);
    results.poll = await benchPoll({ work, slapd, cleanup, children: SIZES.pollChildren, seconds: SIZES.pollSeconds });
    timed('poll');
  }
} catch (err) {
  failed = true;
  process.stderr.write(`\nbenchmark failed: ${err.stack ?? err}\n`);
} finally {
  await cleanup.run();
  timed('cleanUp');
}

results.benchSeconds = Math.round((performance.now() - started) / 1000);
const ticks1 = cpuTicks();
const total = ticks1.total - ticks0.total;
results.machine.loadAverageAtStart = Number(load0.toFixed(2));
// Busy ticks of the machine not spent by this process and its children: other programs'.
results.machine.otherProgramsCpuShare = Number((Math.max(0, ticks1.busy - ticks0.busy - (ticks1.self - ticks0.self)) / total).toFixed(3));
results.targets = verdicts(results);
process.stdout.write(
  `\nzenroll benchmark, ${results.mode} run of ${results.date}: ${results.machine.cores} cores (${results.machine.cpu}), node ${results.versions.node}, ${results.versions.zip}, ${results.versions.unzip}, slapd ${results.versions.slapd}\n`,
);
if (results.input)
  process.stdout.write(`input: ${results.input.files} .str, ${results.input.mb} MB; medians of ${results.input.runs} run(s)\n\n`);
process.stdout.write(
  `${table(results)}\n\nthe benchmark took ${results.benchSeconds} s; other programs used ${(results.machine.otherProgramsCpuShare * 100).toFixed(0)} % of the machine meanwhile (load average ${load0.toFixed(2)} at the start)\n`,
);
const complete = !failed && !opt.quick && only.length === SECTIONS.length && !opt.runs && !opt.backlog && !opt.profile;
const outFile = resolve(
  opt.out ?? join(ROOT, 'bench', complete ? 'results.json' : join('out', `results-${opt.profile ? 'profile' : 'quick'}.json`)),
);
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`figures written to ${outFile}\n`);
if (profileDir) {
  const { summarizeProfiles } = await import('./lib/bench-profile.mjs');
  process.stdout.write(`\n${await summarizeProfiles(profileDir)}\n`);
}
process.exit(failed ? 1 : 0);
