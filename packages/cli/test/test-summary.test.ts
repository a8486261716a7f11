/**
 * `npm test` ends with its totals line even when a test fails (issue 16):
 * scripts/test-summary.mjs --run runs the command, then sums every
 * package's vitest results, and exits with the command's failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/server-dir.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/test-summary.mjs', import.meta.url));
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeEach(async () => {
  tmp = await tempDir('zenroll-summary-');
  for (const pkg of ['core', 'sender']) await mkdir(join(tmp.path, 'packages', pkg), { recursive: true });
});

afterEach(async () => {
  await tmp.remove();
});

/** A command that writes each package's results as vitest's JSON reporter would, then exits with `code`. */
function fakeRun(results: Record<string, [number, number]>, code: number) {
  const writes = Object.entries(results).map(
    ([pkg, [ok, bad]]) =>
      `fs.writeFileSync(${JSON.stringify(join(tmp.path, 'packages', pkg, '.vitest-results.json'))}, JSON.stringify({ numPassedTests: ${ok}, numFailedTests: ${bad}, numPendingTests: 0, numTodoTests: 0 }));`,
  );
  const body = `const fs = require('node:fs'); ${writes.join(' ')} process.exit(${code});`;
  return spawnSync(process.execPath, [SCRIPT, '--run', '--', process.execPath, '-e', body], {
    encoding: 'utf8',
    env: { ...process.env, ZENROLL_SUMMARY_ROOT: tmp.path },
  });
}

describe('scripts/test-summary.mjs --run', () => {
  it('prints the totals line when a test failed, and exits 1', () => {
    const r = fakeRun({ core: [10, 0], sender: [7, 2] }, 1);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('17 passed, 2 failed');
    expect(r.status).toBe(1);
  });

  it("exits with the command's failure even when every test that ran passed (a type error), naming what gave no results", () => {
    const r = fakeRun({ core: [10, 0] }, 2);
    expect(r.stdout).toContain('no results from: sender');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('10 passed, 0 failed');
    expect(r.status).toBe(2);
  });

  it('exits 0 when the command and every test passed', () => {
    const r = fakeRun({ core: [10, 0], sender: [3, 0] }, 0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('13 passed, 0 failed');
    expect(r.status).toBe(0);
  });
});
