/**
 * The private slapd as it ships: `@zenroll/directory/slapd` from the packed
 * tarball (npm pack), unpacked outside the repository, finds the schema in
 * its own package and starts a slapd with it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const PACKAGE_DIR = join(import.meta.dirname, '..');

// Run by `node -e` with the launcher's URL and a folder: start a slapd, read what it made, stop it.
const USE = `
const [url, dir] = process.argv.slice(1);
const lib = await import(url);
const slapd = await lib.startSlapd({ dir: dir + '/ldap', servers: ['LEAF1'] });
let seen;
try {
  const { readFile } = await import('node:fs/promises');
  const conf = await readFile(slapd.dir + '/slapd.conf', 'utf8');
  const ldif = await lib.ldapUtil('ldapsearch', [...slapd.rootArgs(), '-b', slapd.serverDN('LEAF1'), '-s', 'base', '-LLL', 'objectClass']);
  seen = { schemaFile: lib.SCHEMA_FILE, schemaLdif: lib.SCHEMA_LDIF, conf, ldif };
} finally {
  await slapd.destroy();
}
console.log(JSON.stringify({ ...seen, runningAfter: slapd.running() }));
`;

describe('@zenroll/directory/slapd, packed', { timeout: 60_000 }, () => {
  it('is not part of the main entry', () => {
    expect(Object.keys(main)).not.toContain('startSlapd');
    expect(Object.keys(main)).not.toContain('ldapUtil');
  });

  it('runs from the unpacked tarball with the schema it ships', async () => {
    const scratch = await tempDir('zenroll-slapd-packed-');
    try {
      const packed = await run('npm', ['pack', '--json', '--pack-destination', scratch.path], { cwd: PACKAGE_DIR });
      const [{ filename }] = JSON.parse(packed.stdout);
      await run('tar', ['-xzf', join(scratch.path, filename), '-C', scratch.path]);
      const root = join(scratch.path, 'package');
      const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
      const entry = manifest.exports['./slapd'];
      expect(existsSync(join(root, entry.types))).toBe(true);
      // Plain node, as an installed CLI would run it: nothing of the repository or of vitest's loader.
      const child = await run(process.execPath, [
        '--input-type=module',
        '-e',
        USE,
        pathToFileURL(join(root, entry.default)).href,
        scratch.path,
      ]);
      const seen = JSON.parse(child.stdout);
      expect(seen.schemaFile).toBe(join(root, 'schema', 'zenroll.schema'));
      expect(seen.schemaLdif).toBe(join(root, 'schema', 'zenroll.ldif'));
      expect(existsSync(seen.schemaLdif)).toBe(true);
      expect(seen.conf).toContain(`include ${seen.schemaFile}\n`);
      // The object has the class of our schema: the demo tree loaded with the shipped schema.
      expect(seen.ldif).toContain('objectClass: zeninvRollUpTarget');
      expect(seen.runningAfter).toBe(false);
    } finally {
      await scratch.remove();
    }
  });
});
