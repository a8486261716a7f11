// Figure 6 of the benchmark: roll-up log records per second into slapd
// through the journal, built by `openLog` exactly as `zenroll serve` builds
// it (the measurements of packages/directory/scripts/bench.mjs, on the
// benchmark's slapd and in its report).
//   journal alone      — writes awaited one at a time, no directory (fsync-bound)
//   one at a time      — writes awaited one at a time, until slapd has every record
//   burst              — N writes at once (a busy Receiver), until slapd has every record
import { join } from 'node:path';
import { makeRecord } from '@zenroll/core';
import { openLog } from '@zenroll/directory';
import { median, progress, round } from './bench-util.mjs';

export const DIRECTORY_SERVER = 'DIRBENCH';

let seq = 0;
const base = Date.now();
const record = () => {
  seq++;
  return makeRecord({
    source: 'sender',
    event: 'zipped',
    server: DIRECTORY_SERVER,
    zip: `20261122000000000_B${seq}_ACME_0.zip`,
    time: new Date(base + seq).toISOString(),
    bytes: seq,
    files: 50,
  });
};

async function measure(statedir, directory, n, burst) {
  const log = await openLog({ dirs: { statedir }, directory });
  try {
    const t0 = performance.now();
    if (burst) await Promise.all(Array.from({ length: n }, () => log.write({ record: record() })));
    else for (let i = 0; i < n; i++) await log.write({ record: record() });
    const writtenMs = performance.now() - t0;
    if (directory !== null && !(await log.drain(600_000))) throw new Error('the journal did not drain into slapd within 10 minutes');
    const ms = performance.now() - t0;
    return { ms, writtenMs };
  } finally {
    await log.close();
  }
}

/** ctx: { work, slapd, records, runs }. */
export async function benchDirectory(ctx) {
  const { slapd } = ctx;
  const directory = {
    url: slapd.url,
    bindDN: slapd.serverDN(DIRECTORY_SERVER),
    passwordFile: slapd.serverPasswordFile(DIRECTORY_SERVER),
    serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
    keep: 1000,
    timeoutMs: 10_000,
    startTls: false,
    tls: { ca: null },
  };
  const kinds = { journalAlone: [null, false], oneAtATime: [directory, false], burst: [directory, true] };
  const got = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  let k = 0;
  for (let r = 0; r < ctx.runs; r++) {
    for (const [kind, [dir, burst]] of Object.entries(kinds)) {
      got[kind].push(await measure(join(ctx.work, 'directory', String(k++)), dir, ctx.records, burst));
    }
    progress(
      `  directory run ${r + 1}/${ctx.runs}: ${Object.entries(got)
        .map(([kind, v]) => `${kind} ${Math.round((ctx.records / v.at(-1).ms) * 1000)}/s`)
        .join(', ')}`,
    );
  }
  const out = { records: ctx.records, keep: directory.keep };
  for (const [kind, v] of Object.entries(got)) {
    const ms = median(v.map((x) => x.ms));
    out[kind] = { recordsPerS: round((ctx.records / ms) * 1000, 0), medianMs: round(ms, 0), runsMs: v.map((x) => round(x.ms, 0)) };
  }
  return out;
}
