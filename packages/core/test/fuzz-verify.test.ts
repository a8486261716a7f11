/**
 * Fuzzing verifyOuterZip with mutants of valid outer zips (@zenroll/lab/zipcraft:
 * byte flips, extreme 32-bit values, truncations, insertions, deletions,
 * copied ranges at random offsets). Every mutant is either verified exactly
 * as the original (same manifest, same files and digests) or refused with a
 * ZIP_* / PRP_* ZenrollError; none crashes the verifier, none hangs it (each
 * case has a deadline), memory stays bounded and no file handle is left
 * open. `node scripts/fuzz.mjs --cases N` is the long run.
 */
import fc from 'fast-check';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeMutations, essence, mutantArb, mutate, runMutant, type MutantOutcome } from '@zenroll/lab/zipcraft';
import { describe, expect, it } from 'vitest';
import { isZenrollError } from '../src/errors.js';
import { TrustStore, generateKeyPair } from '../src/keys.js';
import { packBatch } from '../src/pack.js';
import { verifyOuterZip } from '../src/verify.js';
import { buildOuter, openFds, str, useTempDir } from './helpers/outer.js';

const RUNS = 500;
const keys = generateKeyPair();
const trust = new TrustStore();
trust.add(keys.publicKey, 'fuzz', null);
const dir = useTempDir('zenroll-fuzz-');
const NAME = '20261122103000000_LEAF1_ACME_0.zip';

interface Seed {
  what: string;
  zip: Buffer;
  original: string;
}

/** The packer's zip (archiver, deflated .str) and the raw writer's: two layouts to mutate. */
async function seeds(): Promise<Seed[]> {
  const files: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const s = str(i, 1500 + i * 700);
    files.push(join(dir(), s.name));
    await writeFile(join(dir(), s.name), s.data);
  }
  const packed = await packBatch({
    files,
    outDir: dir(),
    server: 'LEAF1',
    tree: 'ACME',
    status: 0,
    scheduledtime: '20261122103000000',
    keys,
  });
  const raw = buildOuter({ keys, strs: [str(7, 3000), str(8, 100)] });
  const out: Seed[] = [];
  for (const [what, path] of [
    ['packBatch', packed.path],
    ['raw writer', join(dir(), 'raw.zip')],
  ] as const) {
    if (what === 'raw writer') await writeFile(path, raw.zip);
    const zip = await readFile(path);
    out.push({ what, zip, original: essence(await verifyOuterZip(path, { trust: trust.lookup, name: NAME })) });
  }
  return out;
}

describe('verifyOuterZip on mutated valid zips', () => {
  it(`verifies each of ${RUNS} mutants exactly as the original or refuses it with a zip or .prp code`, async () => {
    const zips = await seeds();
    const verify = (path: string) => verifyOuterZip(path, { trust: trust.lookup, name: NAME });
    const tally = new Map<string, number>();
    const base = process.memoryUsage();
    let peak = 0;
    const arb = fc
      .nat({ max: zips.length - 1 })
      .chain((i) => mutantArb((zips[i] as Seed).zip.length).map((m) => ({ seed: zips[i] as Seed, m })));
    await fc.assert(
      fc.asyncProperty(arb, async ({ seed, m }) => {
        const fds = openFds();
        const r: MutantOutcome = await runMutant({
          path: join(dir(), 'mutant.zip'),
          bytes: mutate(seed.zip, m),
          verify,
          original: seed.original,
          isZenrollError: (err): err is { code: string } => isZenrollError(err),
          deadlineMs: 10_000,
        });
        const key = r.outcome === 'rejected' ? (r.code ?? '') : r.outcome;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        const mem = process.memoryUsage();
        peak = Math.max(peak, mem.heapUsed + mem.arrayBuffers - base.heapUsed - base.arrayBuffers);
        expect(
          ['identical', 'rejected'],
          `${seed.what}: ${describeMutations(m)} → ${r.outcome} ${r.code ?? ''} ${r.message ?? ''}`,
        ).toContain(r.outcome);
        expect(openFds()).toBe(fds);
      }),
      { numRuns: RUNS },
    );
    // A mutant never costs more than a few read buffers, whatever sizes it claims.
    expect(peak).toBeLessThan(128 * 1024 * 1024);
    const cases = [...tally.values()].reduce((a, b) => a + b, 0);
    expect(cases).toBeGreaterThanOrEqual(RUNS);
    console.log(
      `fuzz-verify: ${cases} mutants; ${[...tally]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; peak heap growth ${(peak / 1e6).toFixed(1)} MB`,
    );
  }, 120_000);
});
