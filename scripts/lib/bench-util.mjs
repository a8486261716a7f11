// Small helpers of the benchmark (scripts/bench.mjs): statistics, a worker
// pool, child processes, /proc figures and the clean-up that runs on success,
// failure and Ctrl-C alike.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(digits)));
export const mb = (bytes) => bytes / 1e6;

/** Run `fn` over `items` with at most `concurrency` at once; results in input order. */
export async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/** Run a command to its end; rejects with its stderr when it fails. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(`${cmd} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} failed: ${String(stderr).trim() || err.message}`),
        );
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** First line of a version command's output (stdout or stderr), or null when the tool is missing. */
export async function versionOf(cmd, args, pick = (text) => text.split('\n')[0]) {
  try {
    const { stdout, stderr } = await run(cmd, args);
    return pick(`${stdout}${stderr}`.trim()).trim();
  } catch {
    return null;
  }
}

/** Peak and current resident set of a process, in bytes (Linux /proc). */
export function rssOf(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

function statCpuMs(path) {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

/**
 * CPU time a process has used so far (user + system), in ms, in all and on
 * its main thread (the JavaScript thread; the rest is the libuv thread pool —
 * zlib, fs, crypto — and V8's helpers such as the GC's) (Linux /proc).
 */
export function cpuMsOf(pid) {
  return { total: statCpuMs(`/proc/${pid}/stat`), main: statCpuMs(`/proc/${pid}/task/${pid}/stat`) };
}

/**
 * What the benchmark started, stopped in reverse order exactly once: at the
 * end, on an error, and on SIGINT/SIGTERM. Child processes still running when
 * this process exits anyway are killed on the way out.
 */
export class Cleanup {
  #steps = [];
  #children = new Set();
  #ran = null;

  constructor() {
    const onSignal = (signal) => {
      process.stderr.write(`\n${signal}: stopping everything the benchmark started…\n`);
      this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('exit', () => {
      for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }

  add(what, fn) {
    this.#steps.push({ what, fn });
  }

  /** Track a child so that it is killed if this process exits before stopping it. */
  child(child) {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  run() {
    this.#ran ??= (async () => {
      while (this.#steps.length > 0) {
        const { what, fn } = this.#steps.pop();
        try {
          await fn();
        } catch (err) {
          process.stderr.write(`clean-up: ${what} failed: ${err.message}\n`);
        }
      }
    })();
    return this.#ran;
  }
}

/** Spawn a node script as a child and resolve with the JSON it prints last on stdout. */
export function nodeJson(script, args, { nodeArgs = [], cleanup, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    cleanup?.child(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`${script} ${args[0] ?? ''} exited ${code ?? signal}: ${err.trim().slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`${script} printed no JSON: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

export function progress(text) {
  process.stderr.write(`${text}\n`);
}

/**
 * CPU ticks of the whole machine (busy and total) and of this process with
 * every child it has reaped, so that a run can say how much of the machine
 * other programs took meanwhile (a shared machine skews every figure).
 */
export function cpuTicks() {
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = all;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    self: f[11] + f[12] + f[13] + f[14],
  };
}
