/**
 * The CLI stands alone (docs/SPEC.md §5): the workspace packages, packed with
 * `npm pack` and installed from those tarballs into an empty folder outside the
 * repository, run every command. The installed `zenroll` runs from a folder
 * outside the repository with an environment that names nothing in it, so a
 * path computed from the repository's layout (`../../..` from `dist`) finds
 * nothing there.
 *
 * The install asks only for @zenroll/cli; every @zenroll/* package it needs
 * comes from its tarball through `overrides`, so a dependency the CLI forgets to
 * declare is missing here as it would be for a user. Third-party packages come
 * from npm's cache when it has them (`--prefer-offline`), else from the registry.
 * `npm pack` runs each package's prepack, which builds it and drops from dist
 * what no current source makes (scripts/prune-dist.mjs): a stale file put in
 * the CLI's dist is not in its tarball.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText, readOuterPrp } from '@zenroll/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, writeScans } from '@zenroll/testkit';
import { alive } from './helpers/process.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd: o.cwd, env: o.env, timeout: o.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      if (err !== null && code === null) fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else done({ code, stdout, stderr });
    });
  });
}

/** The @zenroll/* packages the CLI needs, itself included, by folder under packages/: what it declares, transitively. */
async function cliClosure(): Promise<Map<string, string>> {
  const folderOf = new Map<string, string>();
  for (const folder of await readdir(join(REPO, 'packages'))) {
    // A folder without a package.json (a build left over from another branch) is no package.
    const text = await readFile(join(REPO, 'packages', folder, 'package.json'), 'utf8').catch(() => null);
    if (text !== null) folderOf.set((JSON.parse(text) as { name: string }).name, folder);
  }
  const needed = new Map<string, string>();
  const visit = async (name: string): Promise<void> => {
    const folder = folderOf.get(name);
    if (folder === undefined || needed.has(name)) return;
    needed.set(name, folder);
    const pkg = JSON.parse(await readFile(join(REPO, 'packages', folder, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) await visit(dep);
  };
  await visit('@zenroll/cli');
  return needed;
}

/** npm's own settings from the `npm test` that runs us (npm_package_*, npm_config_workspace …) stay out of the install. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || /^npm_config_(cache|registry)$/i.test(k)) env[k] = v;
  }
  return env;
}

/**
 * The test's PATH without what would find the repository's CLI instead of the
 * installed one: `npm test` puts the repository's node_modules/.bin first, and
 * it holds a `zenroll` linked to the repository's dist. Every entry inside the
 * repository and every node_modules/.bin goes (an empty entry is the current
 * folder); the folder of the node running us comes first, so the installed
 * `zenroll` runs on the same Node.
 */
function cleanPath(path: string, repo: string): string[] {
  const inRepo = (dir: string): boolean => !relative(repo, dir).startsWith('..');
  const kept = [dirname(process.execPath), ...path.split(delimiter)].filter(
    (dir) => dir !== '' && !inRepo(resolve(dir)) && !/(^|\/)node_modules\/\.bin\/?$/.test(dir),
  );
  return [...new Set(kept)];
}

/** The packages the README's Install section packs: the `-w` names of its `npm pack` command. */
async function readmePacks(): Promise<string[]> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const commands = readme
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^npm pack\b/.test(line.trim()));
  expect(commands, 'one `npm pack` command in README.md').toHaveLength(1);
  return [...(commands[0] ?? '').matchAll(/(?:^|\s)(?:-w|--workspace)[ =](\S+)/g)].map((m) => m[1] as string);
}

/** Stale files put in the CLI's dist before packing (beforeAll): the prepack (scripts/prune-dist.mjs) must drop them. */
const CLI_DIR = join(REPO, 'packages', 'cli');
const STRAYS = [join(CLI_DIR, 'dist', 'stale-from-deleted-source.js'), join(CLI_DIR, 'dist', 'commands', 'stale-from-deleted-source.d.ts')];
/** The strays still in the working copy's dist right after the pack. */
let straysLeft: string[];
let cliTarball: string;
let tmp: string;
/** The folder the tarballs are installed into; `zenroll` is its node_modules/.bin/zenroll. */
let install: string;
/** Where the installed `zenroll` runs: outside the repository and outside `install`. */
let work: string;
/** The installed `zenroll`'s environment: PATH (node, openssl, slapd) and a HOME of its own; nothing names the repository. */
let cleanEnv: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

const zenroll = (args: string[], timeoutMs?: number): Promise<Run> =>
  run(join(install, 'node_modules', '.bin', 'zenroll'), args, { cwd: work, env: cleanEnv, ...(timeoutMs ? { timeoutMs } : {}) });

beforeAll(async () => {
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'zenroll-packed-')));
  expect(relative(REPO, tmp).startsWith('..')).toBe(true);
  const packs = join(tmp, 'packs');
  install = join(tmp, 'install');
  work = join(tmp, 'work');
  for (const d of [packs, install, work, join(tmp, 'home')]) await mkdir(d);
  cleanEnv = { PATH: cleanPath(process.env.PATH ?? '/usr/bin:/bin', REPO).join(delimiter), HOME: join(tmp, 'home'), LANG: 'C.UTF-8' };

  const needed = await cliClosure();
  const workspaces = [...needed.values()].flatMap((folder) => ['--workspace', `packages/${folder}`]);
  // Files of dist no source makes any more, as a deleted source leaves them (tsc -b never removes them), written
  // just for this pack and removed after it whatever happens. In the CLI's dist: no other test packs it (so no other
  // pack prunes them first), and a file more in dist changes nothing for the tests running its code meanwhile.
  let packed: Run;
  try {
    for (const stray of STRAYS) await writeFile(stray, '// the output of a deleted source\n', { flag: 'wx' });
    packed = await run('npm', ['pack', ...workspaces, '--pack-destination', packs, '--json'], { cwd: REPO, env: npmEnv() });
    straysLeft = STRAYS.filter((stray) => existsSync(stray));
  } finally {
    for (const stray of STRAYS) await rm(stray, { force: true });
  }
  expect(packed.code, packed.stderr).toBe(0);
  const tarballs = JSON.parse(packed.stdout) as { name: string; filename: string }[];
  expect(tarballs.map((t) => t.name).sort()).toEqual([...needed.keys()].sort());
  cliTarball = join(packs, (tarballs.find((t) => t.name === '@zenroll/cli') ?? { filename: '' }).filename);

  const fileOf = (name: string): string => {
    const t = tarballs.find((x) => x.name === name);
    if (t === undefined) throw new Error(`${name} was not packed`);
    return `file:${join(packs, t.filename)}`;
  };
  const overrides = Object.fromEntries([...needed.keys()].filter((n) => n !== '@zenroll/cli').map((n) => [n, fileOf(n)]));
  await writeFile(
    join(install, 'package.json'),
    `${JSON.stringify({ private: true, dependencies: { '@zenroll/cli': fileOf('@zenroll/cli') }, overrides }, null, 2)}\n`,
  );
  const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: install,
    env: npmEnv(),
    timeoutMs: 150_000,
  });
  expect(installed.code, installed.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe('zenroll installed from the packed packages', { timeout: 60_000 }, () => {
  it("runs with a PATH that leads into no node_modules/.bin and nowhere in the repository (npm test's PATH starts with the repository's)", () => {
    const entries = (cleanEnv.PATH ?? '').split(delimiter);
    expect(entries.length).toBeGreaterThan(0);
    for (const dir of entries) {
      expect(dir, 'an empty entry is the current folder').not.toBe('');
      expect(relative(REPO, resolve(dir)).startsWith('..'), dir).toBe(true);
      expect(dir).not.toMatch(/node_modules\/\.bin/);
    }
    // The filter itself drops what npm test puts first.
    const npmTestPath = [
      join(REPO, 'packages', 'cli', 'node_modules', '.bin'),
      join(REPO, 'node_modules', '.bin'),
      '/x/node_modules/.bin',
      '/usr/bin',
    ];
    expect(cleanPath(npmTestPath.join(delimiter), REPO)).toEqual(
      [dirname(process.execPath), '/usr/bin'].filter((d, i, a) => a.indexOf(d) === i),
    );
  });

  it('packs no file of dist that no source makes any more: the prepack removed them from the working copy too', async () => {
    const listed = await run('tar', ['-tzf', cliTarball], { cwd: tmp, env: process.env });
    expect(listed.code, listed.stderr).toBe(0);
    const entries = listed.stdout.split('\n');
    expect(entries).toContain('package/dist/bin.js');
    expect(entries.filter((e) => e.startsWith('package/dist/commands/')).length).toBeGreaterThan(0);
    for (const stray of STRAYS) expect(entries).not.toContain(`package/${relative(CLI_DIR, stray)}`);
    expect(straysLeft).toEqual([]);
    // tsc -b's record of its last build is for a working copy, not an install.
    expect(entries).not.toContain('package/dist/.tsbuildinfo');
  });

  it("the README's Install section packs exactly the packages the CLI is made of", async () => {
    expect((await readmePacks()).sort()).toEqual([...(await cliClosure()).keys()].sort());
  });

  it('every packed package is private: nothing is published', async () => {
    for (const name of (await cliClosure()).keys()) {
      const manifest = JSON.parse(await readFile(join(install, 'node_modules', name, 'package.json'), 'utf8')) as { private?: boolean };
      expect(manifest.private, name).toBe(true);
    }
  });

  it('has every @zenroll package as a real folder from its tarball, none linked back into the repository', async () => {
    const lock = JSON.parse(await readFile(join(install, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; link?: boolean }>;
    };
    const zenrollEntries = Object.entries(lock.packages).filter(([path]) => path.includes('node_modules/@zenroll/'));
    // One copy of each, at the top: no nested second copy fetched from elsewhere.
    expect(zenrollEntries.map(([path]) => path).sort()).toEqual([...(await cliClosure()).keys()].map((n) => `node_modules/${n}`).sort());
    for (const [path, entry] of zenrollEntries) {
      expect(entry.link, path).toBeUndefined();
      expect(entry.resolved, path).toMatch(/^file:.*\.tgz$/);
      expect((await lstat(join(install, path))).isSymbolicLink(), path).toBe(false);
    }
    // No installed file names the repository by its absolute path; a path relative to the package leads
    // into the install folder, and the environment names nothing there: the runs below find only what shipped.
    const repo = REPO.replace(/\/$/, '');
    for (const entry of await readdir(join(install, 'node_modules', '@zenroll'), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const text = await readFile(join(entry.parentPath, entry.name), 'utf8');
      expect(text.includes(repo), join(entry.parentPath, entry.name)).toBe(false);
    }
  });

  it('--help lists every command', async () => {
    const r = await zenroll(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const command of ['init', 'verify', 'demo', 'trust', 'status', 'doctor', 'serve', 'rollup', 'log']) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });

  it('init writes a $schema that resolves to the JSON Schema in the installed @zenroll/core', async () => {
    const r = await zenroll([
      'init',
      '--role',
      'leaf',
      '--server',
      'L0',
      '--tree',
      'ACME',
      '--dir',
      'nested/l0',
      '--parent',
      'https://127.0.0.1:7099',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const written = JSON.parse(await readFile(join(work, 'nested', 'l0', 'zenroll.json'), 'utf8')) as { $schema: string };
    expect(written.$schema).toMatch(/^\.\.?\//);
    const target = resolve(work, 'nested', 'l0', written.$schema);
    expect(target).toBe(join(install, 'node_modules', '@zenroll', 'core', 'zenroll-config.schema.json'));
    expect(await readFile(target, 'utf8')).toBe(configJsonSchemaText());
  });

  it('a leaf and a root made with init: serve, trust add, rollup, doctor, status and verify', async () => {
    const port = await freePort();
    const root = join(work, 'root');
    const leaf = join(work, 'leaf');
    const made = await zenroll([...'init --role root --server ROOT --tree ACME --dir'.split(' '), root, '--listen', `127.0.0.1:${port}`]);
    expect(made.code, made.stderr).toBe(0);
    const leafMade = await zenroll([
      ...'init --role leaf --server LEAF1 --tree ACME --dir'.split(' '),
      leaf,
      ...['--parent', `https://127.0.0.1:${port}`, '--parent-ca', join(root, 'tls', 'server.crt')],
    ]);
    expect(leafMade.code, leafMade.stderr).toBe(0);
    const trusted = await zenroll(['trust', 'add', '--name', 'LEAF1', join(leaf, 'keys', 'server.pub'), '-c', join(root, 'zenroll.json')]);
    expect(trusted.code, trusted.stderr).toBe(0);

    const serve = spawn(join(install, 'node_modules', '.bin', 'zenroll'), ['serve', '-c', join(root, 'zenroll.json')], {
      cwd: work,
      env: cleanEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(serve);
    let log = '';
    await new Promise<void>((ready, fail) => {
      serve.stdout.setEncoding('utf8').on('data', (s: string) => {
        log += s;
        if (/"msg":"serving"/.test(log)) ready();
      });
      serve.stderr.setEncoding('utf8').on('data', (s: string) => {
        log += s;
      });
      serve.once('exit', (code) => fail(new Error(`zenroll serve exited (${code}): ${log}`)));
    });

    const scans = await writeScans(join(leaf, 'entmergedir'), 3);
    const rolled = await zenroll(['rollup', '--now', '--json', '-c', join(leaf, 'zenroll.json')]);
    expect(rolled.stderr).toBe('');
    expect(rolled.code).toBe(0);

    const doctor = await zenroll(['doctor', '-c', join(leaf, 'zenroll.json')]);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toMatch(/^ok {4}parent: https:\/\/127\.0\.0\.1:\d+ answers as ROOT$/m);
    // status --json reads the running service: ROOT serving on its port, the leaf's roll-up done and sent.
    const status = await zenroll(['status', '--json', '-c', join(root, 'zenroll.json')]);
    expect(status.code, status.stderr).toBe(0);
    const rootStatus = JSON.parse(status.stdout) as {
      server: string;
      role: string;
      service: { running: boolean; pid?: number; receiver?: string | null };
      parent: unknown;
    };
    expect(rootStatus).toMatchObject({ server: 'ROOT', role: 'root', service: { running: true, pid: serve.pid }, parent: null });
    expect(rootStatus.service.receiver).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${port}/?$`));
    const leafStatus = await zenroll(['status', '--json', '-c', join(leaf, 'zenroll.json')]);
    expect(leafStatus.code, leafStatus.stderr).toBe(0);
    expect(JSON.parse(leafStatus.stdout)).toMatchObject({
      server: 'LEAF1',
      role: 'leaf',
      backlog: { entmergedir: 0 },
      lastRollup: { ok: true },
      parent: { url: `https://127.0.0.1:${port}`, reachable: true, server: 'ROOT' },
    });

    // What the leaf sent, in ROOT's dbdir: each scan once, byte for byte.
    const dbdir = join(root, 'dbdir');
    const zips = (await readdir(dbdir)).filter((n) => n.endsWith('.zip'));
    expect(zips.length).toBeGreaterThan(0);
    const inRoot: string[] = [];
    for (const zip of zips) {
      const v = await zenroll(['verify', '--json', '-c', join(root, 'zenroll.json'), join(dbdir, zip)]);
      expect(v.code, v.stdout + v.stderr).toBe(0);
      const verified = JSON.parse(v.stdout) as { ok: boolean; server: string; files: { name: string; sha256: string }[] };
      expect(verified.ok).toBe(true);
      expect(verified.server).toBe('LEAF1');
      for (const f of verified.files) inRoot.push(`${f.name} ${f.sha256}`);
      expect((await readOuterPrp(join(dbdir, zip))).files.map((f) => f.name).sort()).toEqual(verified.files.map((f) => f.name).sort());
    }
    expect(inRoot.sort()).toEqual(scans.names.map((n, i) => `${n} ${scans.sha256[i]}`).sort());

    // A zip changed by one byte is refused: verify really checks.
    const first = zips[0] as string;
    const bytes = await readFile(join(dbdir, first));
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    const bad = join(work, first);
    await writeFile(bad, bytes);
    const refused = await zenroll(['verify', '--json', '-c', join(root, 'zenroll.json'), bad]);
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stdout) as { ok: boolean }).ok).toBe(false);

    const stopped = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
    serve.kill('SIGTERM');
    expect(await stopped).toBe(0);
  });

  it('demo rolls every generated .str up to ROOT once; doctor and verify read the tree it leaves with --keep; demo --stop stops it', async () => {
    const dir = join(work, 'demo');
    const files = 3;
    const r = await zenroll(['demo', '--files', String(files), '--keep', '--dir', dir], 100_000);
    try {
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`ROOT's dbdir: \\d+ zips holding ${2 * files} \\.str \\(${2 * files} distinct\\) of the ${2 * files} generated`),
      );
      // The commands it suggests run the installed CLI, which spawned the four services;
      // slapd loaded the schema shipped in the installed @zenroll/directory.
      expect(r.stdout).toContain(`node ${join(install, 'node_modules', '@zenroll', 'cli', 'dist', 'bin.js')} log -c `);
      const slapdConf = await readFile(join(dir, 'slapd', 'slapd.conf'), 'utf8');
      expect(slapdConf).toMatch(/^include\s+\S*zenroll\.schema$/m);
      expect(slapdConf).toContain(join(install, 'node_modules', '@zenroll', 'directory', 'schema', 'zenroll.schema'));

      const dbdir = join(dir, 'ROOT', 'dbdir');
      const atRoot: string[] = [];
      for (const zip of (await readdir(dbdir)).filter((n) => n.endsWith('.zip'))) {
        const v = await zenroll(['verify', '--json', '-c', join(dir, 'ROOT', 'zenroll.json'), join(dbdir, zip)]);
        expect(v.code, v.stdout + v.stderr).toBe(0);
        atRoot.push(...(JSON.parse(v.stdout) as { files: { name: string }[] }).files.map((f) => f.name));
      }
      expect(atRoot.length).toBe(2 * files);
      expect(new Set(atRoot).size).toBe(2 * files);

      for (const server of ['LEAF1', 'INT1', 'ROOT']) {
        const d = await zenroll(['doctor', '-c', join(dir, server, 'zenroll.json')]);
        expect(d.code, `${server}: ${d.stdout}${d.stderr}`).toBe(0);
        expect(d.stdout).toMatch(new RegExp(`^ok {4}directory: bound as cn=${server}_ZenInvService,o=ACME`, 'm'));
      }

      // The four services (their serve locks) and slapd, all gone once demo --stop has stopped them.
      const pids: number[] = [];
      for (const server of ['LEAF1', 'LEAF2', 'INT1', 'ROOT']) {
        const lock = join(dir, server, 'entpushdir', '.zenroll', 'serve.lock');
        pids.push((JSON.parse(await readFile(lock, 'utf8')) as { pid: number }).pid);
      }
      pids.push((JSON.parse(await readFile(join(dir, 'slapd', 'slapd.json'), 'utf8')) as { pid: number }).pid);
      const stopped = await zenroll(['demo', '--stop', '--dir', dir]);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stdout).toMatch(/^stopped 5 process\(es\) of the demo/m);
      await vi.waitFor(() => expect(pids.filter(alive)).toEqual([]), { timeout: 20_000, interval: 100 });
    } finally {
      await zenroll(['demo', '--stop', '--dir', dir]);
    }
  });
});
