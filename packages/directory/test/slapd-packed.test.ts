/**
 * The private slapd as it ships: `@zenroll/directory/slapd` from the packed
 * tarball (npm pack), installed outside the repository beside the tarball of
 * @zenroll/core it depends on, finds the schema in its own package and starts
 * a slapd with it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const PACKAGE_DIR = join(import.meta.dirname, '..');
const CORE_DIR = join(import.meta.dirname, '..', '..', 'core');

/** npm's own settings from the `npm test` that runs us (npm_package_*, npm_config_workspace …) stay out of the install. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || /^npm_config_(cache|registry)$/i.test(k)) env[k] = v;
  }
  return env;
}

async function pack(dir: string, into: string): Promise<string> {
  const packed = await run('npm', ['pack', '--json', '--pack-destination', into], { cwd: dir, env: npmEnv() });
  const [{ filename }] = JSON.parse(packed.stdout);
  return join(into, filename);
}

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

describe('@zenroll/directory/slapd, packed', { timeout: 150_000 }, () => {
  it('is not part of the main entry', () => {
    expect(Object.keys(main)).not.toContain('startSlapd');
    expect(Object.keys(main)).not.toContain('ldapUtil');
  });

  it('runs from the installed tarball with the schema it ships', async () => {
    const scratch = await tempDir('zenroll-slapd-packed-');
    try {
      const tarballs = [await pack(CORE_DIR, scratch.path), await pack(PACKAGE_DIR, scratch.path)];
      await writeFile(join(scratch.path, 'package.json'), '{ "private": true }\n');
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], {
        cwd: scratch.path,
        env: npmEnv(),
        timeout: 120_000,
      });
      // Both from their tarballs, real folders: nothing linked back into the repository.
      const lock = JSON.parse(await readFile(join(scratch.path, 'package-lock.json'), 'utf8'));
      for (const name of ['@zenroll/core', '@zenroll/directory']) {
        const entry = lock.packages[`node_modules/${name}`];
        expect(entry?.resolved, name).toMatch(/^file:.*\.tgz$/);
        expect(entry?.link, name).toBeUndefined();
      }
      const root = join(scratch.path, 'node_modules', '@zenroll', 'directory');
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
