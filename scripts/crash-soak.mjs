#!/usr/bin/env node
// The crash soak from the shell (@zenroll/testkit's CrashSoak, packages/testkit/src/crash-soak.ts,
// says what it checks). Build first: npx tsc -b. Needs slapd (scripts/system-deps.sh).
//
//   node scripts/crash-soak.mjs --rounds 15            one kill per round at each named crash point in turn
//   node scripts/crash-soak.mjs --rounds 50 --random   a kill at a random moment of a random server per round
//   options: --seed S (random mode), --files N (.str per round, default 120), --points SERVER:point,…, --keep (leave the folder)
//
// Prints a line per round and the figures; exits 1 when anything was lost,
// doubled or left behind, a record was missing or twice, or a named point
// was never reached.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CrashSoak, NAMED } from '@zenroll/testkit';
import { CLI } from './lib/zenroll-cli.mjs';

const usage = 'usage: node scripts/crash-soak.mjs --rounds N [--random] [--seed S] [--files N] [--points SERVER:point,…] [--keep]';
let o;
try {
  o = parseArgs({
    options: {
      rounds: { type: 'string' },
      random: { type: 'boolean' },
      seed: { type: 'string' },
      files: { type: 'string', default: '120' },
      points: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  process.stderr.write(`crash-soak.mjs: ${err.message}\n${usage}\n`);
  process.exit(2);
}
if (o.help) {
  process.stdout.write(`${usage}\nnamed points: ${NAMED.map((k) => `${k.server}:${k.point}`).join(', ')}\n`);
  process.exit(0);
}
const rounds = Number(o.rounds ?? (o.random ? 20 : NAMED.length));
const seed = o.seed === undefined ? Date.now() % 2 ** 31 : Number(o.seed);
const files = Number(o.files);
if (![rounds, seed, files].every((v) => Number.isInteger(v) && v >= 0) || rounds < 1 || files < 1) {
  process.stderr.write(`crash-soak.mjs: --rounds, --seed and --files take whole numbers\n${usage}\n`);
  process.exit(2);
}
let named = NAMED;
if (o.points) {
  const wanted = o.points.split(',').map((s) => s.trim());
  named = NAMED.filter((k) => wanted.includes(`${k.server}:${k.point}`));
  const unknown = wanted.filter((w) => !named.some((k) => `${k.server}:${k.point}` === w));
  if (unknown.length > 0) {
    process.stderr.write(
      `crash-soak.mjs: unknown point(s) ${unknown.join(', ')}; known: ${NAMED.map((k) => `${k.server}:${k.point}`).join(', ')}\n`,
    );
    process.exit(2);
  }
}

const dir = await mkdtemp(join(tmpdir(), 'zenroll-soak-'));
const soak = new CrashSoak({ cli: CLI, dir, seed, filesPerRound: files, log: (line) => process.stdout.write(`${line}\n`) });
const started = Date.now();
let code = 0;
const stop = async () => {
  await soak.stop();
  if (!o.keep) await rm(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void stop().then(() => process.exit(130)));
try {
  await soak.start();
  for (let i = 0; i < rounds; i++) {
    await soak.runRound(o.random ? soak.randomKill() : named[i % named.length]);
  }
} catch (err) {
  process.stdout.write(`stopped: ${err.stack ?? err}\n`);
  code = 1;
} finally {
  await stop();
}
const f = soak.figures;
const lines = [
  `crash soak (${o.random ? `random, seed ${seed}` : 'named points'}): ${f.rounds} rounds in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  `kills: ${f.namedKills} at named points, ${f.randomKills} at random moments (${f.killsAtStartup} during a start-up's recovery); ${f.restarts} restarts; ${f.lockWaits} roll-ups met a lock a kill left behind`,
  `checked: ${f.strsGiven} .str given to the leaf; after every round ROOT's and INT1's dbdirs counted by SHA-256 (${f.strsChecked} .str in all, from ${f.zipsVerified} zips each verified once); ${f.recordsChecked} sent records on LEAF1's object`,
  `lost ${f.lost}, doubled ${f.doubled}, temp or stray files ${f.leftovers}, points never reached ${f.notReached.length ? f.notReached.join(', ') : 0}`,
  `rounds with problems: ${f.failures.length}`,
  ...f.failures.map((x) => `  round ${x.round} (${x.kill}): ${x.problems.join('; ')}`),
  ...(o.keep ? [`folders kept in ${dir}`] : []),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (f.failures.length > 0 || f.notReached.length > 0) code = 1;
process.exit(code);
