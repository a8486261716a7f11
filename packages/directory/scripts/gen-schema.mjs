#!/usr/bin/env node
// Writes schema/zenroll.schema and schema/zenroll.ldif from src/schema.ts
// (through dist: run `tsc -b` first; `npm run schema` does both), and
// schema/zenroll-access.ldif, the ACL of the shipped slapd setup for cn=config.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaFile, schemaLdif } from '../dist/schema.js';
import { accessLdifFile } from '../dist/slapd/config.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema');
writeFileSync(join(dir, 'zenroll.schema'), schemaFile());
writeFileSync(join(dir, 'zenroll.ldif'), schemaLdif());
writeFileSync(join(dir, 'zenroll-access.ldif'), accessLdifFile('ACME'));
console.log(`wrote ${join(dir, 'zenroll.schema')}, zenroll.ldif and zenroll-access.ldif`);
