#!/usr/bin/env node
// A private slapd for zenroll (@zenroll/directory/slapd), from the shell:
//   node scripts/slapd.mjs start --dir D [--port P] [--tree ACME] [--servers LEAF1,LEAF2,INT1,ROOT] [--cn-config]
//   node scripts/slapd.mjs stop --dir D
//   node scripts/slapd.mjs status --dir D
// `start` leaves slapd running detached and writes D/slapd.json (url, pid,
// DNs, password files); starting a folder again reuses its data and passwords.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = 'usage: node scripts/slapd.mjs start|stop|status --dir D [--port P] [--tree T] [--servers A,B] [--cn-config] [--providers N]';

function fail(message, code = 2) {
  process.stderr.write(`slapd.mjs: ${message}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      tree: { type: 'string' },
      servers: { type: 'string' },
      'cn-config': { type: 'boolean' },
      providers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail(`${err.message}\n${usage}`);
}
const { values: o, positionals } = parsed;
const [command] = positionals;
if (o.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!['start', 'stop', 'status'].includes(command ?? '') || !o.dir) fail(usage);
// The launcher is in @zenroll/directory's dist: imported once the build is known to be there.
const built = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'directory', 'dist', 'slapd', 'index.js');
if (!existsSync(built)) fail(`${built} is missing: build first (npx turbo run build)`, 1);
const { slapdAlive: alive, startSlapd, startSlapdProviders, stopPid } = await import('@zenroll/directory/slapd');
const dir = resolve(o.dir);
const stateFile = join(dir, 'slapd.json');
const readState = () => (existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : null);
// Replicated providers (--providers N, SPEC §9) live in dir/p1, dir/p2, …
const providerDirs = () => {
  const dirs = [];
  for (let i = 1; existsSync(join(dir, `p${i}`, 'slapd.json')); i++) dirs.push(join(dir, `p${i}`));
  return dirs;
};
const providers = o.providers === undefined ? 1 : Number(o.providers);
if (!(Number.isInteger(providers) && providers >= 1 && providers <= 9)) fail(`--providers ${o.providers} is not a number from 1 to 9`);

if (command !== 'start' && !existsSync(stateFile) && providerDirs().length > 0) {
  let allRunning = true;
  for (const d of providerDirs()) {
    const state = JSON.parse(readFileSync(join(d, 'slapd.json'), 'utf8'));
    const running = state.pid > 0 && alive(state.pid);
    allRunning &&= running;
    if (command === 'status') process.stdout.write(running ? `running: ${state.url} pid ${state.pid}\n` : `stopped (was ${state.url})\n`);
    else {
      if (running) await stopPid(state.pid);
      process.stdout.write(running ? `stopped slapd pid ${state.pid} (${state.url})\n` : `slapd ${state.url} was not running\n`);
    }
  }
  process.exit(command === 'status' && !allRunning ? 1 : 0);
}

if (command === 'start' && providers > 1) {
  for (const d of providerDirs()) {
    const state = JSON.parse(readFileSync(join(d, 'slapd.json'), 'utf8'));
    if (alive(state.pid)) fail(`slapd already runs for ${d} (pid ${state.pid}, ${state.url})`, 1);
  }
  try {
    const all = await startSlapdProviders({
      dir,
      providers,
      port: o.port === undefined ? undefined : Number(o.port),
      tree: o.tree,
      servers: o.servers
        ?.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      detached: true,
    });
    process.stdout.write(`${all.length} slapd providers in multi-provider replication (syncrepl, mirror mode), suffix ${all[0].suffix}\n`);
    for (const s of all) process.stdout.write(`  ${s.url} pid ${s.pid} (${s.dir})\n`);
    process.stdout.write(`directory.url: ${JSON.stringify(all.map((s) => s.url))}\n`);
    for (const server of all[0].servers) {
      process.stdout.write(`  ${server}: ${all[0].serverDN(server)}  password file ${all[0].serverPasswordFile(server)}\n`);
    }
    process.stdout.write(`stop with: node scripts/slapd.mjs stop --dir ${dir}\n`);
    process.exit(0);
  } catch (err) {
    fail(err.message, 1);
  }
}

if (command === 'start') {
  const before = readState();
  if (before && alive(before.pid)) fail(`slapd already runs for ${dir} (pid ${before.pid}, ${before.url})`, 1);
  const port = o.port === undefined ? undefined : Number(o.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) fail(`--port ${o.port} is not a port number`);
  try {
    const s = await startSlapd({
      dir,
      port,
      tree: o.tree,
      servers: o.servers
        ?.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      cnConfig: o['cn-config'] === true,
      detached: true,
    });
    process.stdout.write(`slapd ${s.url} pid ${s.pid} suffix ${s.suffix}\n`);
    for (const server of s.servers) {
      process.stdout.write(`  ${server}: ${s.serverDN(server)}  password file ${s.serverPasswordFile(server)}\n`);
    }
    if (s.operatorDN)
      process.stdout.write(`  operator (reads the logs, writes nothing): ${s.operatorDN}  password file ${s.operatorPasswordFile}\n`);
    process.stdout.write(`details: ${stateFile}\nstop with: node scripts/slapd.mjs stop --dir ${dir}\n`);
  } catch (err) {
    fail(err.message, 1);
  }
} else {
  const state = readState();
  if (!state) fail(`no slapd.json in ${dir}: nothing was started there`, 1);
  const running = state.pid > 0 && alive(state.pid);
  if (command === 'status') {
    process.stdout.write(running ? `running: ${state.url} pid ${state.pid}\n` : `stopped (was ${state.url})\n`);
    process.exit(running ? 0 : 1);
  }
  if (running) await stopPid(state.pid);
  process.stdout.write(running ? `stopped slapd pid ${state.pid}\n` : `slapd for ${dir} was not running\n`);
}
