#!/usr/bin/env node
// After `turbo run typecheck test`: one plain closing line over every
// package's vitest results (written by its JSON reporter), so CI logs end
// with the totals rather than turbo's task count.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultFiles = () => readdirSync(join(root, 'packages')).sort().map((pkg) => [pkg, join(root, 'packages', pkg, '.vitest-results.json')]);

// --clean, before the run: results of an earlier run must never count.
if (process.argv.includes('--clean')) {
  for (const [, file] of resultFiles()) rmSync(file, { force: true });
  process.exit(0);
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
process.exitCode = failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0;
