/**
 * Run the real, built `zenroll` executable (packages/cli/dist/bin.js) as a
 * child process: the way an operator or a cron job runs it. Build first:
 * `npx tsc -b` at the repository root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ZenrollCli } from '@zenroll/testkit';
import { SERVE_NODE_FLAGS } from '../../src/node-flags.js';

export const CLI_BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

/** This CLI as the kit's tree helpers and crash soak take it (the kit cannot depend on @zenroll/cli). */
export const CLI: ZenrollCli = { bin: CLI_BIN, serveNodeFlags: SERVE_NODE_FLAGS };

export interface CliResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to (or, with undefined, removed from) the test process's environment. */
  env?: Record<string, string | undefined>;
  /** Kill the process if it runs longer than this (a hung test, not a timed assertion); default 60 s. */
  killAfterMs?: number;
}

export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
}

function environment(extra: CliOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A crash point of the test process's own environment must not leak into the child.
  delete env.ZENROLL_CRASH_AT;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Start `zenroll ARGS…`; `result` settles when it exits. */
export function spawnCli(args: string[], opts: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: environment(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 60_000);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, result };
}

/** Run `zenroll ARGS…` to its end. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, opts).result;
}
