#!/usr/bin/env node
// One plain closing line over every package's vitest results (written by
// its JSON reporter), so CI logs end with the totals rather than turbo's task
// count: after a run, or, with `--run -- CMD…`, around one (npm test), so
// that a failed run ends with its totals too and exits with its failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// ZENROLL_SUMMARY_ROOT: another tree's packages (this script's own test).
const root = process.env.ZENROLL_SUMMARY_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const resultFiles = () =>
  readdirSync(join(root, 'packages'))
    .sort()
    .map((pkg) => [pkg, join(root, 'packages', pkg, '.vitest-results.json')]);
const clean = () => {
  for (const [, file] of resultFiles()) rmSync(file, { force: true });
};

// --clean, before the run: results of an earlier run must never count.
if (process.argv.includes('--clean')) {
  clean();
  process.exit(0);
}
let run = null;
if (process.argv.includes('--run')) {
  const cmd = process.argv.slice(process.argv.indexOf('--') + 1);
  if (!process.argv.includes('--') || cmd.length === 0) {
    console.error('usage: test-summary.mjs --run -- COMMAND [ARG…]');
    process.exit(2);
  }
  clean();
  run = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
  if (run.error) console.error(`test-summary: ${cmd[0]}: ${run.error.message}`);
}
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const [pkg, file] of resultFiles()) {
  if (!existsSync(file)) {
    missing.push(pkg);
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  console.log(`${pkg.padEnd(10)} ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
}
if (missing.length) console.log(`no results from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
const summaryFailed = failed > 0 || missing.length > 0 || passed === 0;
// The command's own failure (a typecheck or lint error) counts as much as a failed test.
process.exitCode = run !== null && run.status !== 0 ? (run.status ?? 1) : summaryFailed ? 1 : 0;
