#!/usr/bin/env node
// Writes schema/zenroll.schema and schema/zenroll.ldif from src/schema.ts
// (through dist: run `tsc -b` first; `npm run schema` does both).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFile, schemaLdif } from '../dist/schema.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema');
writeFileSync(join(dir, 'zenroll.schema'), schemaFile());
writeFileSync(join(dir, 'zenroll.ldif'), schemaLdif());
console.log(`wrote ${join(dir, 'zenroll.schema')} and zenroll.ldif`);
