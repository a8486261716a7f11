// A tree of real `zenroll serve` processes on this machine, built through the
// public command line (`zenroll init`, `zenroll trust add`) the way an
// operator would: each server its own folder, keys and TLS certificate,
// logging to a private slapd (scripts/lib/slapd.mjs). Used by the benchmark;
// `zenroll demo` does the same in-process and could use this too.
//
//   const tree = await initTree({ dir, slapd, plan: [{ name: 'ROOT', role: 'root' },
//     { name: 'INT1', role: 'intermediate-db', parent: 'ROOT' }, { name: 'LEAF1', role: 'leaf', parent: 'INT1' }] });
//   await startServe(tree.node('ROOT'));  …  await askAdmin(tree.node('LEAF1'), 'POST', '/v1/rollup');
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@zenroll/core';
import { SERVE_NODE_FLAGS } from '@zenroll/cli';
import { freePort } from './slapd.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

/** Run `zenroll ARGS…` to its end; rejects with what it printed when it fails. */
export function zenroll(args) {
  return new Promise((res, rej) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`zenroll ${args.join(' ')} failed (${err.code}): ${`${stderr}${stdout}`.trim().slice(-2000)}`));
      else res(stdout);
    });
  });
}

/** Parents before children, so that a child's init can name its parent's certificate. */
function ordered(plan) {
  const done = [];
  const left = [...plan];
  while (left.length > 0) {
    const i = left.findIndex((p) => !p.parent || done.some((d) => d.name === p.parent));
    if (i < 0) throw new Error(`tree plan: ${left.map((p) => `${p.name} → ${p.parent}`).join(', ')} name no planned parent`);
    done.push(...left.splice(i, 1));
  }
  return done;
}

/**
 * Init every server of `plan` ([{ name, role, parent? }]) under `dir`, with
 * TLS, receivers listening on free loopback ports, and each Receiver trusting
 * every server below it (signatures name the origin, whatever hop forwards
 * it). `patch(json, plan)` may change a config before it is loaded, e.g. the
 * retry policy or the schedule. The slapd must know every server's name.
 */
export async function initTree({ dir, slapd, plan, tree = 'ACME', patch = () => {} }) {
  const nodes = new Map();
  for (const p of ordered(plan)) {
    const nodeDir = join(dir, p.name);
    const parent = p.parent ? nodes.get(p.parent) : null;
    const listen = ['leaf', 'leaf-db', 'standalone'].includes(p.role) ? null : `127.0.0.1:${await freePort()}`;
    const args = ['init', '--role', p.role, '--server', p.name, '--tree', tree, '--dir', nodeDir];
    if (listen) args.push('--listen', listen);
    if (parent) args.push('--parent', parent.url, '--parent-ca', join(parent.dir, 'tls', 'server.crt'));
    if (slapd) args.push('--ldap-url', slapd.url, '--bind-dn', slapd.serverDN(p.name), '--password-file', slapd.serverPasswordFile(p.name));
    await zenroll(args);
    const configPath = join(nodeDir, 'zenroll.json');
    const json = JSON.parse(await readFile(configPath, 'utf8'));
    patch(json, p);
    await writeFile(configPath, `${JSON.stringify(json, null, 2)}\n`);
    nodes.set(p.name, {
      name: p.name,
      role: p.role,
      parent: p.parent ?? null,
      dir: nodeDir,
      configPath,
      url: listen ? `https://${listen}` : null,
    });
  }
  const below = (name) => plan.filter((p) => p.parent === name).flatMap((p) => [p.name, ...below(p.name)]);
  for (const node of nodes.values()) {
    for (const child of below(node.name)) {
      await zenroll(['trust', 'add', '-c', node.configPath, '--name', child, join(nodes.get(child).dir, 'keys', 'server.pub')]);
    }
    node.config = await loadConfig(node.configPath);
  }
  return {
    nodes,
    node(name) {
      const n = nodes.get(name);
      if (!n) throw new Error(`no server ${name} in this tree`);
      return n;
    },
  };
}

/**
 * Start `zenroll serve` for a node (its log in serve.log) and wait until its
 * admin endpoint answers. `nodeArgs` go to node itself (e.g. --cpu-prof);
 * `track(child)` lets the caller kill it if the caller dies first.
 */
export async function startServe(node, { nodeArgs = [], env = process.env, track = () => {}, timeoutMs = 30_000 } = {}) {
  const log = createWriteStream(join(node.dir, 'serve.log'), { flags: 'a' });
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...nodeArgs, BIN, 'serve', '-c', node.configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    cwd: node.dir,
  });
  track(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  node.child = child;
  node.pid = child.pid;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = await readFile(join(node.dir, 'serve.log'), 'utf8').catch(() => '');
      throw new Error(`zenroll serve of ${node.name} exited (${child.exitCode ?? child.signalCode}):\n${text.slice(-2000)}`);
    }
    if ((await askAdmin(node, 'GET', '/v1/status').catch(() => null)) !== null) return child;
    if (Date.now() > until)
      throw new Error(`zenroll serve of ${node.name} did not answer within ${timeoutMs} ms (see ${join(node.dir, 'serve.log')})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM (a clean stop, which also writes a --cpu-prof profile), SIGKILL after graceMs. */
export async function stopServe(node, graceMs = 20_000) {
  const child = node.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Ask a running service on its admin socket (statedir/admin.sock): the JSON
 * answer; null when no service listens; an error for any other status.
 */
export function askAdmin(node, method, path) {
  const socketPath = join(node.config.dirs.statedir, 'admin.sock');
  return new Promise((res, rej) => {
    const req = request({ socketPath, method, path }, (answer) => {
      let text = '';
      answer.setEncoding('utf8');
      answer.on('data', (c) => (text += c));
      answer.on('end', () => {
        if (answer.statusCode === 200) return res(JSON.parse(text));
        rej(new Error(`${node.name} answered ${method} ${path} with ${answer.statusCode}: ${text.slice(0, 500)}`));
      });
      answer.on('error', rej);
    });
    req.on('error', (err) => (['ENOENT', 'ECONNREFUSED'].includes(err.code) ? res(null) : rej(err)));
    req.end();
  });
}
