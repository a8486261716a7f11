#!/usr/bin/env node
// Writes deterministic ZENworks-like inventory scan files (.str) for tests,
// benchmarks and demos, with @zenroll/lab's generator (packages/lab; run
// `npx turbo run build` first).
//
//   node scripts/gen-fixtures.mjs --out DIR --count N [--seed S]
//        [--min-bytes B] [--max-bytes B] [--mtime-step-ms M] [--start-index I]
//
// File i (0-based, counting from --start-index) gets the mtime
// 2026-01-01T00:00:00Z + i * M ms, so "arrival order" by mtime is the index order.

import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { writeFixtures, DEFAULT_MIN_BYTES, DEFAULT_MAX_BYTES } from '@zenroll/lab';

const USAGE = `usage: node scripts/gen-fixtures.mjs --out DIR --count N [--seed S] [--min-bytes B] [--max-bytes B] [--mtime-step-ms M] [--start-index I]
  --out DIR           folder to write into (created if missing)
  --count N           number of .str files
  --seed S            integer seed (default 1)
  --min-bytes B       smallest file size (default ${DEFAULT_MIN_BYTES})
  --max-bytes B       largest file size (default ${DEFAULT_MAX_BYTES})
  --mtime-step-ms M   mtime step between consecutive files (default 1000)
  --start-index I     index of the first file (default 0)`;

function fail(msg) {
  process.stderr.write(`gen-fixtures: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function int(name, value, def, min = 0) {
  if (value === undefined) return def;
  if (!/^-?\d+$/.test(value)) fail(`--${name} must be an integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      out: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      'min-bytes': { type: 'string' },
      'max-bytes': { type: 'string' },
      'mtime-step-ms': { type: 'string' },
      'start-index': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  fail(err.message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!args.out) fail('--out is required');
if (args.count === undefined) fail('--count is required');

const opts = {
  out: resolve(args.out),
  count: int('count', args.count, 0),
  seed: int('seed', args.seed, 1, Number.MIN_SAFE_INTEGER),
  minBytes: int('min-bytes', args['min-bytes'], DEFAULT_MIN_BYTES),
  maxBytes: int('max-bytes', args['max-bytes'], DEFAULT_MAX_BYTES),
  mtimeStepMs: int('mtime-step-ms', args['mtime-step-ms'], 1000),
  startIndex: int('start-index', args['start-index'], 0),
};
if (opts.maxBytes < opts.minBytes) fail(`--max-bytes (${opts.maxBytes}) is below --min-bytes (${opts.minBytes})`);

try {
  const s = await writeFixtures(opts);
  const mb = (s.totalBytes / 1048576).toFixed(2);
  process.stdout.write(
    `gen-fixtures: ${s.files} files, ${mb} MB (sizes ${s.minSize}..${s.maxSize} B) in ${(s.ms / 1000).toFixed(2)} s -> ${s.out}` +
      ` | seed ${opts.seed}, mtime step ${opts.mtimeStepMs} ms | deflate-6 ratio ${s.sampleRatio.toFixed(2)}x on ${s.sampleFiles} sample files\n`,
  );
} catch (err) {
  process.stderr.write(`gen-fixtures: ${err.message}\n`);
  process.exit(1);
}
