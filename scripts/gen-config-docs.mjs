#!/usr/bin/env node
// Writes docs/config.md and the JSON Schema of zenroll.json from the zod schema
// (packages/core/src/config.ts). Run by `npm run docs:config`, which builds
// core first; `--check` only says whether the files are current (exit 1 if not).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText, configReference, writeFileDurable } from '@zenroll/core';

const root = join(import.meta.dirname, '..');
const outputs = [
  [join(root, 'docs', 'config.md'), configReference()],
  [join(root, 'packages', 'core', CONFIG_SCHEMA_FILE), configJsonSchemaText()],
];
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of outputs) {
  const now = await readFile(path, 'utf8').catch((err) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
  if (now === text) continue;
  if (check) {
    stale++;
    console.error(`${path} is stale: run npm run docs:config`);
  } else {
    await writeFileDurable(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
