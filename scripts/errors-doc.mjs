#!/usr/bin/env node
// Writes docs/errors.md from the one error table in packages/core/src/errors.ts
// (build first: npx turbo run build). `--check` exits 1 when the file is not current.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorTableMarkdown } from '@zenroll/core';

const file = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
const text = errorTableMarkdown();
if (process.argv.includes('--check')) {
  const now = await readFile(file, 'utf8').catch(() => '');
  if (now !== text) {
    process.stderr.write('docs/errors.md is not current: run npm run docs:errors\n');
    process.exit(1);
  }
} else {
  await writeFile(file, text);
  process.stdout.write(`wrote ${file}\n`);
}
