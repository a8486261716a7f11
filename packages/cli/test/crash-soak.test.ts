/**
 * The CI version of the crash soak (@zenroll/testkit's CrashSoak; the long
 * run is `node scripts/crash-soak.mjs`): a real leaf → intermediate-db →
 * root tree of `zenroll serve` processes with a private slapd; SIGKILL at
 * three named crash points, one in each server, and once at a random moment;
 * after every round ROOT's (and INT1's) dbdir holds every .str exactly once
 * by SHA-256, nothing temporary or partial is left, and each zip's `sent`
 * records are on LEAF1's object once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrashSoak, type Kill } from '@zenroll/testkit';
import { CLI } from './helpers/cli.js';

let dir: string;
let soak: CrashSoak;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-soak-ci-'));
  const seed = Date.now() % 2 ** 31;
  lines.push(`crash soak (CI), random kills seeded with ${seed}: node scripts/crash-soak.mjs --random --seed ${seed} repeats them`);
  soak = new CrashSoak({
    cli: CLI,
    dir,
    filesPerRound: 120,
    seed,
    log: (l) => void lines.push(l),
  });
  await soak.start();
}, 60_000);
afterAll(async () => {
  await soak?.stop();
  await rm(dir, { recursive: true, force: true });
  console.log(lines.join('\n'));
});

describe('kill -9 in a real three-server tree, then recovery', { timeout: 90_000 }, () => {
  it.each<Kill>([
    { server: 'LEAF1', point: 'send-between-records' },
    { server: 'INT1', point: 'promote-mid' },
    { server: 'ROOT', point: 'receive-after-store' },
  ])('$server at $point: killed there, restarted, every .str at ROOT once', async (kill) => {
    const { killed, problems } = await soak.runRound(kill);
    expect(killed).toEqual([{ server: kill.server, point: kill.point }]);
    expect(problems).toEqual([]);
  });

  it('a random server at a random moment (seeded; see the printed line to repeat it)', async () => {
    const { problems } = await soak.runRound(soak.randomKill());
    expect(problems).toEqual([]);
    expect(soak.figures).toMatchObject({ lost: 0, doubled: 0, leftovers: 0, notReached: [] });
    expect(soak.figures.strsGiven).toBe(4 * 120);
  });
});
