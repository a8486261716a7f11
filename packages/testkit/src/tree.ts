/**
 * A tree of real `zenroll serve` processes on this machine, built through the
 * public command line (`zenroll init`, `zenroll trust add`) the way an
 * operator would: each server its own folder, keys and TLS certificate,
 * logging to a private slapd when one is given. Used by the benchmark, the
 * crash soak and the CLI's tree tests. The CLI is a parameter (its bin.js and
 * the node flags `serve` runs with): the kit cannot depend on @zenroll/cli,
 * whose tests depend on the kit.
 *
 *   const tree = await initTree({ cli, dir, slapd, plan: [{ name: 'ROOT', role: 'root' },
 *     { name: 'INT1', role: 'intermediate-db', parent: 'ROOT' }, { name: 'LEAF1', role: 'leaf', parent: 'INT1' }] });
 *   await startServe(tree.node('ROOT'));  …  await askAdmin(tree.node('LEAF1'), 'POST', '/v1/rollup');
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { errnoCode, isRecord, loadConfig, type Config } from '@zenroll/core';
import { freePort } from '@zenroll/directory/slapd';
import { initArgs } from './init-args.js';

/** The command line to run: `node [serveNodeFlags] bin serve …`. */
export interface ZenrollCli {
  /** The CLI's dist/bin.js. */
  bin: string;
  /** What `serve` runs with besides (@zenroll/cli SERVE_NODE_FLAGS); default none. */
  serveNodeFlags?: readonly string[];
}

/** What the tree needs of a private slapd (@zenroll/directory/slapd): where it is and each server's bind. */
export interface TreeDirectory {
  url: string;
  serverDN(name: string): string;
  serverPasswordFile(name: string): string;
}

export interface PlannedServer {
  name: string;
  role: string;
  parent?: string;
}

export interface TreeNode {
  name: string;
  role: string;
  parent: string | null;
  dir: string;
  configPath: string;
  /** The Receiver's URL; null for a server without one. */
  url: string | null;
  config: Config;
  cli: ZenrollCli;
  /** The running `zenroll serve`, once started. */
  child?: ChildProcess;
  pid?: number;
}

export interface Tree {
  nodes: Map<string, TreeNode>;
  node(name: string): TreeNode;
}

/** Run `zenroll ARGS…` to its end; rejects with what it printed when it fails. */
export function zenroll(cli: ZenrollCli, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli.bin, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`zenroll ${args.join(' ')} failed (${String(err.code)}): ${`${stderr}${stdout}`.trim().slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** Parents before children, so that a child's init can name its parent's certificate. */
function ordered(plan: readonly PlannedServer[]): PlannedServer[] {
  const done: PlannedServer[] = [];
  const left = [...plan];
  while (left.length > 0) {
    const i = left.findIndex((p) => p.parent === undefined || done.some((d) => d.name === p.parent));
    if (i < 0) throw new Error(`tree plan: ${left.map((p) => `${p.name} → ${p.parent ?? ''}`).join(', ')} name no planned parent`);
    done.push(...left.splice(i, 1));
  }
  return done;
}

export interface InitTreeOptions {
  cli: ZenrollCli;
  dir: string;
  /** The directory every server logs to; without one, no server has `ldap`. */
  slapd?: TreeDirectory | null;
  plan: readonly PlannedServer[];
  tree?: string;
  /** Changes a server's zenroll.json before it is loaded (the retry policy, the schedule …). */
  patch?: (json: Record<string, unknown>, server: PlannedServer) => void;
}

/**
 * Init every server of `plan` under `dir`, with TLS, receivers listening on
 * free loopback ports, and each Receiver trusting every server below it
 * (signatures name the origin, whatever hop forwards it). The slapd must
 * know every server's name.
 */
export async function initTree(o: InitTreeOptions): Promise<Tree> {
  const made = new Map<string, Omit<TreeNode, 'config'>>();
  for (const p of ordered(o.plan)) {
    const nodeDir = join(o.dir, p.name);
    const parent = p.parent === undefined ? undefined : made.get(p.parent);
    const listen = ['leaf', 'leaf-db', 'standalone'].includes(p.role) ? null : `127.0.0.1:${await freePort()}`;
    const args = initArgs({
      role: p.role,
      server: p.name,
      ...(o.tree === undefined ? {} : { tree: o.tree }),
      ...(listen === null ? {} : { listen }),
      ...(parent?.url ? { parent: { url: parent.url, dir: parent.dir } } : {}),
      ...(o.slapd ? { ldap: o.slapd } : {}),
    });
    await zenroll(o.cli, ['init', ...args, '--dir', nodeDir]);
    const configPath = join(nodeDir, 'zenroll.json');
    const json: unknown = JSON.parse(await readFile(configPath, 'utf8'));
    if (!isRecord(json)) throw new Error(`${configPath} holds no JSON object`);
    o.patch?.(json, p);
    await writeFile(configPath, `${JSON.stringify(json, null, 2)}\n`);
    made.set(p.name, {
      name: p.name,
      role: p.role,
      parent: p.parent ?? null,
      dir: nodeDir,
      configPath,
      url: listen === null ? null : `https://${listen}`,
      cli: o.cli,
    });
  }
  const below = (name: string): string[] => o.plan.filter((p) => p.parent === name).flatMap((p) => [p.name, ...below(p.name)]);
  const nodes = new Map<string, TreeNode>();
  for (const node of made.values()) {
    for (const child of below(node.name)) {
      const childDir = made.get(child)?.dir ?? '';
      await zenroll(o.cli, ['trust', 'add', '-c', node.configPath, '--name', child, join(childDir, 'keys', 'server.pub')]);
    }
    nodes.set(node.name, { ...node, config: await loadConfig(node.configPath) });
  }
  return {
    nodes,
    node(name) {
      const n = nodes.get(name);
      if (n === undefined) throw new Error(`no server ${name} in this tree`);
      return n;
    },
  };
}

export interface StartServeOptions {
  /** For node itself (e.g. --cpu-prof), after the CLI's serve flags. */
  nodeArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Lets the caller kill the child if the caller dies first. */
  track?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

/** Start `zenroll serve` for a node (its log in serve.log) and wait until its admin endpoint answers. */
export async function startServe(node: TreeNode, o: StartServeOptions = {}): Promise<ChildProcess> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const log = createWriteStream(join(node.dir, 'serve.log'), { flags: 'a' });
  const child = spawn(
    process.execPath,
    [...(node.cli.serveNodeFlags ?? []), ...(o.nodeArgs ?? []), node.cli.bin, 'serve', '-c', node.configPath],
    { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env, cwd: node.dir },
  );
  o.track?.(child);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  node.child = child;
  if (child.pid !== undefined) node.pid = child.pid;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = await readFile(join(node.dir, 'serve.log'), 'utf8').catch(() => '');
      throw new Error(`zenroll serve of ${node.name} exited (${child.exitCode ?? child.signalCode}):\n${text.slice(-2000)}`);
    }
    if ((await askAdmin(node, 'GET', '/v1/status').catch(() => null)) !== null) return child;
    if (Date.now() > until) {
      throw new Error(`zenroll serve of ${node.name} did not answer within ${timeoutMs} ms (see ${join(node.dir, 'serve.log')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM (a clean stop, which also writes a --cpu-prof profile), SIGKILL after graceMs. */
export async function stopServe(node: Pick<TreeNode, 'child'>, graceMs = 20_000): Promise<void> {
  const child = node.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Ask a running service on its admin socket (statedir/admin.sock): the JSON
 * answer; null when no service listens; an error for any other status.
 */
export function askAdmin(node: Pick<TreeNode, 'name' | 'config'>, method: string, path: string): Promise<unknown> {
  const socketPath = join(node.config.dirs.statedir, 'admin.sock');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (answer) => {
      let text = '';
      answer.setEncoding('utf8');
      answer.on('data', (c: string) => {
        text += c;
      });
      answer.on('end', () => {
        if (answer.statusCode === 200) {
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(err);
          }
          return;
        }
        reject(new Error(`${node.name} answered ${method} ${path} with ${answer.statusCode}: ${text.slice(0, 500)}`));
      });
      answer.on('error', reject);
    });
    req.on('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ECONNREFUSED') resolve(null);
      else reject(err);
    });
    req.end();
  });
}
