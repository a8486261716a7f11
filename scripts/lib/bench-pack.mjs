// Figures 1 and 2 of the benchmark: zenroll's packer against Info-ZIP
// `zip -q -6` on the same batches of 50, and zenroll's verifier against
// `unzip -tq` on the zips the packer made. Runs of the two sides alternate
// (A B, then B A, …) so that drift of the machine cancels in the medians.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVE_NODE_FLAGS } from '@zenroll/cli';
import { mb, median, nodeJson, pool, progress, round, run } from './bench-util.mjs';

// The packer and the verifier run in zenroll serve, with its node flags: so they do here.
const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'bench-worker.mjs');
const BASE_TIME = 20261122000000000n;

/** Consecutive batches of `size` names (the Sender's plan is oldest first; the fixture names sort that way). */
export function batchesOf(names, size = 50) {
  const out = [];
  for (let i = 0; i < names.length; i += size) out.push(names.slice(i, i + size));
  return out;
}

function summary(runs, inputBytes) {
  const ms = median(runs.map((r) => r.ms));
  return {
    runsMs: runs.map((r) => round(r.ms, 0)),
    medianMs: round(ms, 0),
    mbPerS: round(mb(inputBytes) / (ms / 1000), 1),
    ...(runs[0].cpuMs !== undefined
      ? {
          cpuMs: round(median(runs.map((r) => r.cpuMs)), 0),
          mainThreadCpuMs: round(median(runs.map((r) => r.mainThreadCpuMs)), 0),
          peakRssMB: round(Math.max(...runs.map((r) => r.peakRss)) / 1e6, 1),
        }
      : {}),
  };
}

async function freshDir(dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Info-ZIP: one `zip -q -6` per batch, `lanes` at a time. */
async function zipRun(fixtures, batches, outDir, lanes) {
  await freshDir(outDir);
  const t0 = performance.now();
  await pool(batches, lanes, (names, i) =>
    run('zip', ['-q', '-6', join(outDir, `b${String(i).padStart(5, '0')}.zip`), ...names], { cwd: fixtures }),
  );
  return { ms: performance.now() - t0 };
}

async function packRun(ctx, batches, outDir, lanes, nodeArgs = []) {
  await freshDir(outDir);
  const job = {
    outDir,
    lanes,
    keys: ctx.keys,
    tree: 'ACME',
    batches: batches.map((names, i) => ({
      files: names.map((n) => join(ctx.fixtures, n)),
      server: 'BENCH',
      scheduledtime: String(BASE_TIME + BigInt(i)),
    })),
  };
  const jobFile = join(ctx.work, 'pack-job.json');
  await writeFile(jobFile, JSON.stringify(job));
  return nodeJson(WORKER, ['pack', jobFile], { nodeArgs: [...SERVE_NODE_FLAGS, ...nodeArgs], cleanup: ctx.cleanup });
}

async function verifyRun(ctx, zips, lanes, nodeArgs = []) {
  const jobFile = join(ctx.work, 'verify-job.json');
  await writeFile(jobFile, JSON.stringify({ zips, lanes, trust: [ctx.keys.public] }));
  return nodeJson(WORKER, ['verify', jobFile], { nodeArgs: [...SERVE_NODE_FLAGS, ...nodeArgs], cleanup: ctx.cleanup });
}

async function unzipRun(paths, lanes) {
  const t0 = performance.now();
  await pool(paths, lanes, (zip) => run('unzip', ['-tq', zip]));
  return { ms: performance.now() - t0 };
}

async function settle() {
  // Write-back of the last run's files is not the next run's cost.
  await run('sync', []);
}

/**
 * ctx: { fixtures, names, inputBytes, work, runs, keys: { private, public }, cleanup, profileDir }.
 * Returns { pack, verify, zips } — zips: the outer zips of the last sequential packing run, kept for others.
 */
export async function benchPackAndVerify(ctx) {
  const batches = batchesOf(ctx.names);
  const sides = {
    'zip-seq': () => zipRun(ctx.fixtures, batches, join(ctx.work, 'zip6'), 1),
    'zip-par': () => zipRun(ctx.fixtures, batches, join(ctx.work, 'zip6'), 2),
    'zen-seq': () => packRun(ctx, batches, join(ctx.work, 'packed'), 1),
    'zen-par': () => packRun(ctx, batches, join(ctx.work, 'packed-par'), 2),
  };
  const got = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  let zenBytes = 0;
  for (let r = 0; r < ctx.runs; r++) {
    const order = r % 2 === 0 ? ['zip-seq', 'zen-seq', 'zip-par', 'zen-par'] : ['zen-seq', 'zip-seq', 'zen-par', 'zip-par'];
    for (const side of order) {
      await settle();
      const res = await sides[side]();
      got[side].push(res);
      if (side === 'zen-seq') zenBytes = res.bytes;
      progress(`  packing run ${r + 1}/${ctx.runs} ${side}: ${(res.ms / 1000).toFixed(2)} s`);
    }
  }
  const zipBytes = Number((await run('du', ['-sb', '--apparent-size', join(ctx.work, 'zip6')])).stdout.split('\t')[0]);
  await rm(join(ctx.work, 'zip6'), { recursive: true, force: true });
  await rm(join(ctx.work, 'packed-par'), { recursive: true, force: true });
  const zips = got['zen-seq'].at(-1).zips;

  const pack = { batches: batches.length };
  for (const [mode, z, p] of [
    ['sequential', 'zip-seq', 'zen-seq'],
    ['parallel2', 'zip-par', 'zen-par'],
  ]) {
    const zen = summary(got[p], ctx.inputBytes);
    const zip = summary(got[z], ctx.inputBytes);
    pack[mode] = { zenroll: zen, zip6: zip, speedRatio: round(zen.mbPerS / zip.mbPerS, 2) };
  }
  pack.outputBytes = {
    zenroll: zenBytes,
    zip6: zipBytes,
    compression: { zenroll: round(ctx.inputBytes / zenBytes, 2), zip6: round(ctx.inputBytes / zipBytes, 2) },
  };

  // unzip -tq on an outer zip checks only the stored inner zip's CRC; the
  // same work as verifyOuterZip (inflate and check every .str) also needs
  // `unzip -tq` on each inner zip, taken out once beforehand, untimed.
  const innerDir = await freshDir(join(ctx.work, 'inner'));
  await pool(zips, 2, (zip) => run('unzip', ['-q', '-o', zip, '*.zip', '-d', innerDir]));
  const inners = zips.map((z) => join(innerDir, `${z.split('/').pop().split('_').slice(0, 2).join('_')}.zip`));
  const both = zips.flatMap((z, i) => [z, inners[i]]);
  const vsides = {
    'zen-seq': () => verifyRun(ctx, zips, 1),
    'zen-par': () => verifyRun(ctx, zips, 2),
    'outer-seq': () => unzipRun(zips, 1),
    'outer-par': () => unzipRun(zips, 2),
    'both-seq': () => unzipRun(both, 1),
    'both-par': () => unzipRun(both, 2),
  };
  const vgot = Object.fromEntries(Object.keys(vsides).map((k) => [k, []]));
  const vruns = Math.max(ctx.runs, ctx.verifyRuns ?? ctx.runs);
  for (let r = 0; r < vruns; r++) {
    const order =
      r % 2 === 0
        ? ['both-seq', 'zen-seq', 'outer-seq', 'both-par', 'zen-par', 'outer-par']
        : ['zen-seq', 'both-seq', 'outer-seq', 'zen-par', 'both-par', 'outer-par'];
    for (const side of order) {
      const res = await vsides[side]();
      vgot[side].push(res);
    }
    progress(
      `  verification run ${r + 1}/${vruns}: zenroll ${(vgot['zen-seq'].at(-1).ms / 1000).toFixed(2)} s, unzip -tq outer+inner ${(vgot['both-seq'].at(-1).ms / 1000).toFixed(2)} s`,
    );
  }
  const verify = { zips: zips.length };
  for (const [mode, suffix] of [
    ['sequential', 'seq'],
    ['parallel2', 'par'],
  ]) {
    const zen = summary(vgot[`zen-${suffix}`], ctx.inputBytes);
    const outerAndInner = summary(vgot[`both-${suffix}`], ctx.inputBytes);
    const outerOnly = summary(vgot[`outer-${suffix}`], ctx.inputBytes);
    verify[mode] = {
      zenroll: zen,
      unzipOuterAndInner: outerAndInner,
      unzipOuterOnly: outerOnly,
      speedRatio: round(outerAndInner.medianMs / zen.medianMs, 2),
      speedRatioOuterOnly: round(outerOnly.medianMs / zen.medianMs, 2),
    };
  }
  await rm(innerDir, { recursive: true, force: true });

  if (ctx.profileDir) {
    progress('  profiling the packer and the verifier (node --cpu-prof)…');
    const pdir = join(ctx.profileDir, 'pack');
    await packRun(ctx, batches, join(ctx.work, 'packed-prof'), 1, [
      '--cpu-prof',
      `--cpu-prof-dir=${pdir}`,
      '--cpu-prof-name=pack-seq.cpuprofile',
    ]);
    await packRun(ctx, batches, join(ctx.work, 'packed-prof'), 2, [
      '--cpu-prof',
      `--cpu-prof-dir=${pdir}`,
      '--cpu-prof-name=pack-par.cpuprofile',
    ]);
    await rm(join(ctx.work, 'packed-prof'), { recursive: true, force: true });
    await verifyRun(ctx, zips, 1, ['--cpu-prof', `--cpu-prof-dir=${pdir}`, '--cpu-prof-name=verify-seq.cpuprofile']);
  }
  return { pack, verify, zips, zipSeqMs: pack.sequential.zip6.medianMs };
}
