/**
 * Set-up shared by the service tests: servers made with `zenroll init` (run
 * in this process, which is quicker than a child and runs the same code),
 * real `zenroll serve` children that are always stopped, and waiting for a
 * condition with a deadline (a hung test, never a timed assertion).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '@zenroll/core';
import { freePort, initArgs, type Slapd } from '@zenroll/testkit';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { captureIo, run } from '../../src/index.js';
import { Serve, type LogLine } from '../serve-helpers.js';
import { tempDir, type ServerFolder } from './server-dir.js';

/** `zenroll init ARGS… --dir DIR` in this process; throws with its output when it fails. */
export async function initHere(dir: string, args: string[]): Promise<ServerFolder> {
  const io = captureIo();
  const code = await run(['init', '--dir', dir, ...args], io);
  if (code !== 0) throw new Error(`zenroll init ${args.join(' ')} failed (${code}): ${io.stderr()}${io.stdout()}`);
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

/**
 * The top of a test tree made with `zenroll init` in `base/NAME`, both logging to `slapd`: ROOT, and
 * INT1 (intermediate with a database) its child, each on a free loopback port; leaves go under INT1.
 */
export async function initRootAndInt(
  base: string,
  slapd: Slapd,
): Promise<{ root: ServerFolder; int1: ServerFolder; rootPort: number; intPort: number }> {
  const [rootPort, intPort] = [await freePort(), await freePort()];
  const root = await initHere(join(base, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: `127.0.0.1:${rootPort}`, ldap: slapd }));
  const int1 = await initHere(
    join(base, 'INT1'),
    initArgs({
      role: 'intermediate-db',
      server: 'INT1',
      listen: `127.0.0.1:${intPort}`,
      parent: { url: `https://127.0.0.1:${rootPort}`, dir: join(base, 'ROOT') },
      ldap: slapd,
    }),
  );
  return { root, int1, rootPort, intPort };
}

/** Set keys of one section of zenroll.json (the `sender`, `receiver`, …). */
export function section(json: Record<string, unknown>, key: string): Record<string, unknown> {
  json[key] ??= {};
  return json[key] as Record<string, unknown>;
}

/** `zenroll serve` children of one test file, stopped (SIGKILL if still up) by `stopAll`. */
export class Services {
  readonly all: Serve[] = [];

  start(configPath: string, env: Record<string, string> = {}, args: string[] = []): Serve {
    const s = new Serve(configPath, env, args);
    this.all.push(s);
    return s;
  }

  async stopAll(): Promise<void> {
    for (const s of this.all.splice(0)) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.kill('SIGKILL');
      await s.exited;
    }
  }
}

/** Stop a service with SIGTERM; resolves with how it exited. */
export async function terminate(s: Serve): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.kill('SIGTERM');
  return s.exited;
}

/** Poll `fn` until it returns something truthy; throw naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The log lines of a service with this message (and these fields). */
export function linesOf(s: Serve, msg: string, fields: Record<string, unknown> = {}): LogLine[] {
  return s.lines.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

export interface ServersPerTest {
  services: Services;
  /** A new folder path in it on each call: `ROOT-1`, `ROOT-2` … for `fresh('ROOT')`. */
  fresh(name: string): string;
}

/**
 * The set-up of a test file whose tests each make their own servers: one temp
 * folder for the file (made before its tests, removed after them) and every
 * `zenroll serve` child stopped after each test. Call at the top of the file.
 */
export function serversPerTest(prefix: string): ServersPerTest {
  let tmp: Awaited<ReturnType<typeof tempDir>> | undefined;
  let n = 0;
  const services = new Services();
  beforeAll(async () => {
    tmp = await tempDir(prefix);
  });
  afterEach(async () => {
    await services.stopAll();
  });
  afterAll(async () => {
    await tmp?.remove();
  });
  return {
    services,
    fresh(name) {
      if (tmp === undefined) throw new Error('serversPerTest: the folder is made in beforeAll');
      return join(tmp.path, `${name}-${++n}`);
    },
  };
}
