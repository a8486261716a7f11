#!/usr/bin/env node
/**
 * Part of the `prepack` of every workspace package (`npm run build && node
 * ../../scripts/prune-dist.mjs`, run by npm in the package's folder before
 * `npm pack` reads the files). A package packs `dist` (`files`), and `tsc -b`
 * never removes the output of a source that was deleted or renamed, nor one an
 * option no longer makes (a .map once `sourceMap` is off): a working copy's dist
 * can hold files no source makes any more, and they would ship. After the build
 * has brought every output of the current sources up to date, this removes
 * every file in dist that is not one of them, as TypeScript itself names them
 * from tsconfig.json (`getOutputFileNames`, the list `tsc -b` checks), nor the
 * tsbuildinfo.
 *
 * Not `rm -rf dist && tsc -b`: while dist is gone every process importing the
 * package fails, and the tests that pack (cli's packed.test.ts, directory's
 * slapd-packed.test.ts) do so while other tests import the same dist. And not a
 * second build from nothing: that is a full compile of each package, which took
 * `npm pack` of the CLI's six packages from 2.6 s to 60 s here.
 */
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const configFile = resolve('tsconfig.json');
const parsed = ts.getParsedCommandLineOfConfigFile(
  configFile,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!parsed || parsed.errors.length > 0) {
  throw new Error(`${configFile}: ${(parsed?.errors ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
}
const { outDir, tsBuildInfoFile } = parsed.options;
if (!outDir) throw new Error(`${configFile}: a packed package names its outDir`);

const ignoreCase = !ts.sys.useCaseSensitiveFileNames;
const current = new Set(
  [...(tsBuildInfoFile ? [tsBuildInfoFile] : []), ...parsed.fileNames.flatMap((f) => ts.getOutputFileNames(parsed, f, ignoreCase))].map(
    (f) => resolve(f),
  ),
);

const entries = readdirSync(outDir, { recursive: true, withFileTypes: true }).map((e) => ({ path: join(e.parentPath, e.name), e }));
const stale = entries.filter(({ path, e }) => !e.isDirectory() && !current.has(path));
for (const { path } of stale) {
  rmSync(path, { force: true });
  process.stderr.write(`prune-dist: removed ${relative(process.cwd(), path)}, which no current source makes\n`);
}
// Folders that held only stale files, deepest first.
const folders = entries.filter(({ e }) => e.isDirectory()).map(({ path }) => path);
for (const folder of folders.sort((a, b) => b.length - a.length)) {
  try {
    rmdirSync(folder);
  } catch (err) {
    // Still holding current files, or removed already by another pack of this package.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'ENOENT') throw err;
  }
}
