/** A server's folder made the way an operator makes one: `zenroll init`, then edits to zenroll.json. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '@zenroll/core';
import { runCli } from './cli.js';

export interface InitOptions {
  role: string;
  server: string;
  tree?: string;
  parent?: string;
  listen?: string;
  /** false: plain HTTP for a Receiver (`--no-tls`). */
  tls?: boolean;
}

export interface ServerFolder {
  dir: string;
  configPath: string;
  config: Config;
  /** Change zenroll.json (parsed JSON in, written back) and reload `config`. */
  edit(change: (json: Record<string, unknown>) => void): Promise<void>;
}

export async function tempDir(prefix = 'zenroll-cli-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** `zenroll init` into `dir`; throws with its output when it fails. */
export async function initServer(dir: string, o: InitOptions): Promise<ServerFolder> {
  const args = ['init', '--role', o.role, '--server', o.server, '--tree', o.tree ?? 'ACME', '--dir', dir];
  if (o.parent !== undefined) args.push('--parent', o.parent);
  if (o.listen !== undefined) args.push('--listen', o.listen);
  if (o.tls === false) args.push('--no-tls');
  const r = await runCli(args);
  if (r.code !== 0) throw new Error(`zenroll init failed (${r.code}): ${r.stderr}${r.stdout}`);
  const configPath = join(dir, 'zenroll.json');
  const folder: ServerFolder = {
    dir,
    configPath,
    config: await loadConfig(configPath),
    async edit(change) {
      const json = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
      change(json);
      await writeFile(configPath, `${JSON.stringify(json, null, 2)}\n`);
      folder.config = await loadConfig(configPath);
    },
  };
  return folder;
}
