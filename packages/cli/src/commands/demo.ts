/**
 * `zenroll demo` (SPEC §5): a tree of four servers on this machine — LEAF1
 * and LEAF2 (leaves), INT1 (intermediate with a database), ROOT — each its
 * own `zenroll serve` process with its own folders, keys and TLS certificate,
 * logging to a private slapd. It generates scan files at the leaves, forces a
 * roll-up bottom-up and prints where everything went.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDir, remove } from 'fs-extra/esm';
import { readOuterPrp, fieldOf, ZenrollError, type Config } from '@zenroll/core';
import type * as SlapdKit from '@zenroll/directory/slapd';
import type * as Lab from '@zenroll/lab';
import { usageError, type Program } from '../main.js';
import { askService } from '../service/admin.js';
import { init } from './init.js';
import { trustAdd } from './trust.js';
import { EXIT_FAILED, EXIT_OK } from '../exit.js';
import { SERVE_NODE_FLAGS } from '../node-flags.js';

/**
 * What only the demo needs: the private slapd launcher (it registers a process
 * 'exit' handler) and the scan generator (a large vocabulary). The demo's
 * action loads them with import(), so that no other command, serve included,
 * loads either (test/lazy-demo.test.ts).
 */
export interface DemoKit {
  slapd: typeof SlapdKit;
  lab: typeof Lab;
}

/** Load the demo's kit: only from the demo's action. */
export async function loadDemoKit(): Promise<DemoKit> {
  const [slapd, lab] = await Promise.all([import('@zenroll/directory/slapd'), import('@zenroll/lab')]);
  return { slapd, lab };
}

interface DemoOptions {
  dir: string;
  keep?: boolean;
  files: string;
  providers?: string;
}

interface Node {
  name: string;
  role: string;
  dir: string;
  config: Config;
  child?: ChildProcess;
}

/** This CLI's own executable (dist/bin.js beside dist/commands/), wherever it is installed. */
const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
const MARKER = '.zenroll-demo';

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > until) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function countFiles(dir: string | null, suffix: string): Promise<number> {
  if (dir === null) return 0;
  return (await readdir(dir).catch((): string[] => [])).filter((n) => n.endsWith(suffix) && !n.startsWith('.')).length;
}

/** Every .str in a folder of outer zips, by name, from their manifests. */
async function strsIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const zip of (await readdir(dir)).filter((n) => n.endsWith('.zip')).sort()) {
    const prp = await readOuterPrp(join(dir, zip));
    names.push(...prp.files.map((f) => f.name));
  }
  return names;
}

export async function runDemo(o: {
  dir: string;
  keep: boolean;
  files: number;
  providers?: number;
  out: (s: string) => void;
  kit: DemoKit;
}): Promise<boolean> {
  const { out } = o;
  const { freePort, startSlapd, startSlapdProviders } = o.kit.slapd;
  const dir = resolve(o.dir);
  if ((await stat(join(dir, MARKER)).catch(() => null)) !== null) {
    out(`removing the previous demo in ${dir}\n`);
    await stopLeftovers(dir, o.kit.slapd);
    await remove(dir);
  } else if ((await readdir(dir).catch(() => [])).length > 0) {
    throw usageError(`${dir} exists and is not a demo folder; name another with --dir`);
  }
  await ensureDir(dir);
  await writeFile(join(dir, MARKER), 'made by zenroll demo\n');

  const providers = o.providers ?? 1;
  const slapdOptions = { dir: join(dir, 'slapd'), tree: 'ACME', servers: ['LEAF1', 'LEAF2', 'INT1', 'ROOT'], detached: o.keep };
  out(
    providers > 1
      ? `starting ${providers} private slapd providers in multi-provider replication… `
      : 'starting a private slapd with the zenroll schema… ',
  );
  // SPEC §9: with providers, every server's directory.url lists them all.
  const all = providers > 1 ? await startSlapdProviders({ ...slapdOptions, providers }) : [await startSlapd(slapdOptions)];
  const slapd = all[0];
  if (slapd === undefined) throw new ZenrollError('INTERNAL', 'the demo started no slapd');
  const directoryUrl = providers > 1 ? all.map((s) => s.url) : slapd.url;
  out(`${all.map((s) => s.url).join(' ')}\n`);
  const nodes: Node[] = [];
  try {
    const rootPort = await freePort();
    const intPort = await freePort();
    const plan = [
      { name: 'ROOT', role: 'root', listen: `127.0.0.1:${rootPort}` },
      { name: 'INT1', role: 'intermediate-db', listen: `127.0.0.1:${intPort}`, parent: `https://127.0.0.1:${rootPort}` },
      { name: 'LEAF1', role: 'leaf', parent: `https://127.0.0.1:${intPort}` },
      { name: 'LEAF2', role: 'leaf', parent: `https://127.0.0.1:${intPort}` },
    ];
    for (const p of plan) {
      const nodeDir = join(dir, p.name);
      const parentDir = p.parent ? join(dir, p.parent.endsWith(String(rootPort)) ? 'ROOT' : 'INT1') : null;
      const config = await init({
        role: p.role,
        server: p.name,
        tree: 'ACME',
        dir: nodeDir,
        tls: true,
        ...(p.listen ? { listen: p.listen } : {}),
        ...(p.parent ? { parent: p.parent } : {}),
        ...(parentDir ? { parentCa: join(parentDir, 'tls', 'server.crt') } : {}),
        directory: { url: directoryUrl, bindDN: slapd.serverDN(p.name), passwordFile: slapd.serverPasswordFile(p.name) },
        // A demo should not wait 22 hours for a parent that is not up yet.
        retry: { baseMs: 500, factor: 2, tries: 6 },
      });
      nodes.push({ name: p.name, role: p.role, dir: nodeDir, config });
      out(`  ${p.name.padEnd(6)} ${p.role.padEnd(16)} ${nodeDir}${p.listen ? `  https://${p.listen}` : ''}\n`);
    }
    const node = (name: string): Node => {
      const found = nodes.find((n) => n.name === name);
      if (found === undefined) throw new ZenrollError('INTERNAL', `the demo has no server ${name}`);
      return found;
    };
    // Signatures name the origin: ROOT trusts the leaves too, not only INT1.
    for (const [receiver, children] of [
      ['INT1', ['LEAF1', 'LEAF2']],
      ['ROOT', ['LEAF1', 'LEAF2', 'INT1']],
    ] as const) {
      for (const child of children) await trustAdd(join(node(receiver).dir, 'zenroll.json'), node(child).config.keys.public, child);
    }

    for (const [i, leaf] of ['LEAF1', 'LEAF2'].entries()) {
      const entmergedir = node(leaf).config.dirs.entmergedir;
      if (entmergedir === null) throw new ZenrollError('INTERNAL', `the demo's ${leaf} has no entmergedir`);
      const s = await o.kit.lab.writeFixtures({ out: entmergedir, count: o.files, seed: 7 + i, startIndex: i * o.files });
      out(`generated ${s.files} .str (${(s.totalBytes / 1e6).toFixed(1)} MB) in ${leaf}'s entmergedir\n`);
    }

    for (const n of nodes) {
      // The log file itself as stdout and stderr, no pipe: a --keep tree outlives this process.
      const log = openSync(join(n.dir, 'serve.log'), 'a');
      try {
        n.child = spawn(process.execPath, [...SERVE_NODE_FLAGS, BIN, 'serve', '-c', join(n.dir, 'zenroll.json')], {
          stdio: ['ignore', log, log],
          detached: o.keep,
        });
      } finally {
        closeSync(log);
      }
      await waitFor(`${n.name} to start (see ${join(n.dir, 'serve.log')})`, () => askService(n.config.dirs.statedir, 'GET', '/v1/status'));
    }
    out(`started 4 zenroll serve processes (pids ${nodes.map((n) => n.child?.pid).join(', ')})\n\n`);

    const t0 = Date.now();
    for (const leaf of ['LEAF1', 'LEAF2']) {
      const r = await askService<{ zipped: unknown[]; sent: unknown[]; left: unknown[] }>(
        node(leaf).config.dirs.statedir,
        'POST',
        '/v1/rollup',
      );
      out(`${leaf}: roll-up zipped ${r?.zipped.length}, sent ${r?.sent.length} to INT1, left ${r?.left.length}\n`);
    }
    const int1 = node('INT1').config;
    await waitFor('INT1 to promote what it received', async () => (await countFiles(int1.dirs.zipdir, '.zip')) === 0);
    out(
      `INT1: received and promoted ${await countFiles(int1.dirs.entpushdir, '.zip')} zips to entpushdir and ${await countFiles(int1.dirs.dbdir, '.zip')} to dbdir\n`,
    );
    const r = await askService<{ sent: unknown[]; left: unknown[] }>(int1.dirs.statedir, 'POST', '/v1/rollup');
    out(`INT1: roll-up forwarded ${r?.sent.length} zips to ROOT, left ${r?.left.length}\n`);
    const root = node('ROOT').config;
    await waitFor('ROOT to promote what it received', async () => (await countFiles(root.dirs.zipdir, '.zip')) === 0);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);

    // ROOT and INT1 are made with a database (roles root-db and intermediate-db above).
    const atRoot = await strsIn(root.dirs.dbdir ?? '');
    const atInt = await strsIn(int1.dirs.dbdir ?? '');
    const expected = 2 * o.files;
    const unique = new Set(atRoot).size;
    out(
      `\nROOT's dbdir: ${await countFiles(root.dirs.dbdir, '.zip')} zips holding ${atRoot.length} .str (${unique} distinct) of the ${expected} generated, in ${seconds} s\n`,
    );
    out(`INT1's dbdir: ${atInt.length} .str (stored status 1: INT1's database stored them first; ROOT's copies have 2)\n`);
    out(o.keep ? `\nwhere to look:\n` : `\nwith --keep the tree and slapd stay up, to look around with:\n`);
    out(`  ls ${root.dirs.dbdir}\n`);
    out(`  node ${BIN} log -c ${join(node('LEAF1').dir, 'zenroll.json')}\n`);
    out(`  node ${BIN} log -c ${join(node('ROOT').dir, 'zenroll.json')}\n`);
    out(`  node ${BIN} log --status -c ${join(node('INT1').dir, 'zenroll.json')}\n`);
    out(`  node ${BIN} status -c ${join(int1.dirs.statedir, '..', '..', 'zenroll.json')}\n`);
    out(
      `  ldapsearch -x -H ${slapd.url} -D '${slapd.operatorDN}' -y ${slapd.operatorPasswordFile} -b '${slapd.serverDN('LEAF1')}' -s base zeninvRollUpLog zenrollStatusLog -LLL -o ldif-wrap=no\n`,
    );
    out(`\nan LDAP browser (docs/ldap-browser.md) logs in as the operator, who reads every log and writes nothing:\n`);
    out(`  ${slapd.url}  login DN ${slapd.operatorDN}  password ${slapd.operatorPassword}\n`);
    const ok = atRoot.length === expected && unique === expected;
    if (!ok) out(`\nFAILED: expected ${expected} distinct .str at ROOT\n`);
    if (o.keep) {
      for (const n of nodes) n.child?.unref();
      out(`\nthe tree keeps running. Stop it with: node ${BIN} demo --stop --dir ${dir}\n`);
    }
    return ok;
  } finally {
    if (!o.keep) {
      await Promise.all(nodes.map((n) => stopChild(n.child)));
      for (const s of all.reverse()) await s.destroy();
      out('\nstopped the four services and slapd.\n');
    }
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Stop what a `--keep` demo left running in `dir`: the services (by their locks) and slapd. */
export async function stopLeftovers(dir: string, slapdKit: typeof SlapdKit): Promise<number> {
  const { slapdAlive, stopPid } = slapdKit;
  let stopped = 0;
  for (const name of ['LEAF1', 'LEAF2', 'INT1', 'ROOT']) {
    for (const sub of ['entpushdir/.zenroll', 'state']) {
      const lock = join(dir, name, sub, 'serve.lock');
      const holder = await readFile(lock, 'utf8').catch(() => null);
      if (holder === null) continue;
      const pid = fieldOf(JSON.parse(holder), 'pid');
      if (typeof pid !== 'number') continue;
      try {
        process.kill(pid, 'SIGTERM');
        stopped++;
      } catch {
        // already gone
      }
    }
  }
  // One slapd in slapd/, or replicated providers in slapd/p1, slapd/p2, … (--providers).
  for (const sub of ['', 'p1', 'p2', 'p3']) {
    const state = await readFile(join(dir, 'slapd', sub, 'slapd.json'), 'utf8').catch(() => null);
    if (state === null) continue;
    const pid = fieldOf(JSON.parse(state), 'pid');
    if (typeof pid !== 'number') continue;
    if (slapdAlive(pid)) {
      await stopPid(pid);
      stopped++;
    }
  }
  return stopped;
}

export function registerDemo(p: Program): void {
  p.command
    .command('demo')
    .description('build a tree of four servers on this machine, roll scan files up it end to end, and print where everything went')
    .option('--dir <dir>', 'where the demo tree lives', '.zenroll-demo')
    .option('--files <n>', '.str files to generate at each leaf', '150')
    .option('--keep', 'leave the tree and slapd running afterwards')
    .option('--stop', 'stop what an earlier `demo --keep` left running')
    .option('--providers <n>', 'LDAP providers in multi-provider replication (1 or 2); every server lists them all in directory.url', '1')
    .addHelpText('after', '\nExample:\n  zenroll demo --files 300 --keep\n  zenroll demo --stop\n')
    .action(
      p.action(async (o: DemoOptions & { stop?: boolean }) => {
        const dir = resolve(p.io.cwd, o.dir);
        const kit = await loadDemoKit();
        if (o.stop) {
          p.io.out(`stopped ${await stopLeftovers(dir, kit.slapd)} process(es) of the demo in ${dir}\n`);
          return EXIT_OK;
        }
        const files = Number(o.files);
        if (!Number.isInteger(files) || files < 1 || files > 100_000)
          throw usageError(`--files ${o.files} is not a whole number from 1 to 100000`);
        const providers = Number(o.providers ?? '1');
        if (providers !== 1 && providers !== 2) throw usageError(`--providers ${o.providers} is not 1 or 2`);
        const ok = await runDemo({ dir, keep: o.keep === true, files, providers, out: (s) => p.io.out(s), kit });
        return ok ? EXIT_OK : EXIT_FAILED;
      }),
    );
}
