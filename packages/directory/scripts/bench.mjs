#!/usr/bin/env node
// Figures for the roll-up log (STYLE.md: benchmarks print, they do not assert):
// the journal alone, the journal applied to a private slapd, and the LDAP
// writer by itself. Run after a build: `node packages/directory/scripts/bench.mjs [N]`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord } from '@zenroll/core';
import { DirectoryLog, Journal, LdapDirectory } from '../dist/index.js';
import { startSlapd } from '../dist/slapd/index.js';

const N = Number(process.argv[2] ?? 1000);
const base = Date.now();
let n = 0;
const record = (server) =>
  makeRecord({ source: 'sender', event: 'zipped', server, zip: `z${++n}.zip`, time: new Date(base + n).toISOString(), bytes: n });
const rate = (count, ms) => `${Math.round((count / ms) * 1000)} records/s (${ms.toFixed(0)} ms for ${count})`;
const time = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const scratch = await mkdtemp(join(tmpdir(), 'zenroll-bench-'));
const slapd = await startSlapd();
try {
  let j = await Journal.open({ dir: join(scratch, 'j1') });
  console.log(
    `journal, one write at a time:     ${rate(
      N,
      await time(async () => {
        for (let i = 0; i < N; i++) await j.write({ record: record('LEAF1') });
      }),
    )}`,
  );
  await j.close();
  j = await Journal.open({ dir: join(scratch, 'j2') });
  const concurrent = await time(() => Promise.all(Array.from({ length: N }, () => j.write({ record: record('LEAF1') }))));
  console.log(`journal, ${N} at once:            ${rate(N, concurrent)}, ${j.stats.fsyncs} fsyncs`);
  await j.close();

  const options = (keep) => ({
    url: slapd.url,
    bindDN: slapd.serverDN('LEAF1'),
    passwordFile: slapd.serverPasswordFile('LEAF1'),
    serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
    keep,
    timeoutMs: 10_000,
  });
  const log = new DirectoryLog(await Journal.open({ dir: join(scratch, 'j3'), applying: true }), new LdapDirectory(options(1000)));
  const start = performance.now();
  const writes = await time(async () => {
    for (let i = 0; i < N; i++) await log.write({ record: record('LEAF2') });
  });
  const backlogAfterWrites = log.backlog();
  await log.drain(600_000);
  const total = performance.now() - start;
  console.log(`journal + slapd, writes resolved:  ${rate(N, writes)} (backlog then ${backlogAfterWrites})`);
  console.log(`journal + slapd, all in LDAP:      ${rate(N, total)}`);
  await log.close();

  for (const [server, keep] of [
    ['INT1', 1000],
    ['ROOT', 100],
  ]) {
    const d = new LdapDirectory(options(keep));
    const ms = await time(async () => {
      for (let i = 0; i < N; i++) await d.apply({ record: record(server) });
    });
    console.log(`LDAP writer alone, keep ${String(keep).padEnd(5)}:   ${rate(N, ms)}`);
    await d.close();
  }
} finally {
  await slapd.destroy();
  await rm(scratch, { recursive: true, force: true });
}
