/**
 * Only `zenroll demo` loads what only the demo needs: the private slapd
 * launcher (@zenroll/directory/slapd, which registers a process 'exit'
 * handler) and the scan generator (@zenroll/lab, a large vocabulary). Every
 * other command, serve included, runs without them. The real `zenroll` runs as
 * a child process with a module hook (node:module register) that writes down
 * every module it loads.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './helpers/cli.js';
import { initServer, tempDir } from './helpers/server-dir.js';

// The hook runs on the loader's own thread: it appends each URL it is asked to load to a file.
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.ZENROLL_TEST_LOADED, url + '\\n');
  return next(url, context);
}
`;
const REGISTER = `
import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
`;

const DEMO_ONLY = [/\/packages\/lab\//, /\/packages\/directory\/(dist|src)\/slapd\//];

let scratch: Awaited<ReturnType<typeof tempDir>>;
let runs = 0;

/** Environment for a child whose loaded modules are written to a file of its own; the file's path. */
function watched(): { env: Record<string, string>; log: string } {
  const log = join(scratch.path, `loaded-${++runs}.txt`);
  const register = pathToFileURL(join(scratch.path, 'register.mjs')).href;
  return { env: { NODE_OPTIONS: `--import=${register}`, ZENROLL_TEST_LOADED: log }, log };
}

async function loaded(log: string): Promise<string[]> {
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '');
}

const demoOnly = (urls: string[]): string[] => urls.filter((u) => DEMO_ONLY.some((re) => re.test(u)));

beforeAll(async () => {
  scratch = await tempDir('zenroll-lazy-demo-');
  await writeFile(join(scratch.path, 'hooks.mjs'), HOOKS);
  await writeFile(join(scratch.path, 'register.mjs'), REGISTER);
});

afterAll(async () => {
  await scratch?.remove();
});

describe('the demo kit is loaded by the demo only', { timeout: 60_000 }, () => {
  it('zenroll --help loads the CLI and its commands but neither the slapd launcher nor the generator', async () => {
    const w = watched();
    const r = await runCli(['--help'], { env: w.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const urls = await loaded(w.log);
    // The hook sees the commands' modules, demo's own included: an empty list would prove nothing.
    expect(urls.some((u) => u.endsWith('/cli/dist/commands/demo.js'))).toBe(true);
    expect(urls.some((u) => u.endsWith('/cli/dist/commands/serve.js'))).toBe(true);
    expect(demoOnly(urls)).toEqual([]);
  });

  it('zenroll serve runs a root without them', async () => {
    const root = await initServer(join(scratch.path, 'root'), { role: 'root', server: 'ROOT', listen: '127.0.0.1:0', tls: false });
    const w = watched();
    const serve = spawnCli(['serve', '-c', root.configPath], { env: w.env });
    let out = '';
    await new Promise<void>((ready, fail) => {
      serve.child.stdout?.on('data', (s: Buffer | string) => {
        out += String(s);
        if (/"msg":"serving"/.test(out)) ready();
      });
      serve.child.once('exit', (code) => fail(new Error(`zenroll serve exited (${code}): ${out}`)));
    });
    serve.child.kill('SIGTERM');
    const r = await serve.result;
    expect(r.code, r.stderr).toBe(0);
    const urls = await loaded(w.log);
    expect(urls.some((u) => u.includes('/packages/receiver/'))).toBe(true);
    expect(demoOnly(urls)).toEqual([]);
  });

  it('zenroll demo loads both (the hook sees them when they are loaded)', async () => {
    const w = watched();
    // --stop on a folder with no demo: stops nothing, but runs the demo's action.
    const r = await runCli(['demo', '--stop', '--dir', join(scratch.path, 'no-demo')], { env: w.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stopped 0 process\(es\)/m);
    const urls = demoOnly(await loaded(w.log));
    expect(urls.some((u) => /\/packages\/lab\/dist\/index\.js$/.test(u))).toBe(true);
    expect(urls.some((u) => /\/packages\/directory\/dist\/slapd\/handle\.js$/.test(u))).toBe(true);
  });
});
