#!/usr/bin/env node
// Summaries of `node --cpu-prof` profiles (main thread only: work node hands
// to the libuv thread pool — async zlib, fs, crypto — shows there as idle):
// busy share, the top frames by self time, self time by package, and the
// heaviest zenroll functions by inclusive time.
//
//   node scripts/lib/bench-profile.mjs FILE.cpuprofile…   or   summarizeProfiles(dir)
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Which package or part of node a frame belongs to. */
export function packageOf(frame) {
  const { url, functionName } = frame;
  if (SPECIAL.has(functionName) && !url) return functionName;
  if (!url) return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const pkg = /\/packages\/([^/]+)\/dist\//.exec(url);
  if (pkg) return `@zenroll/${pkg[1]}`;
  if (url.startsWith('node:internal/')) {
    const part = url.slice(14).split('/')[0].replace(/\.js$/, '');
    return `node:${part === 'streams' || part === 'webstreams' ? 'stream' : part}`;
  }
  if (url.startsWith('node:')) return url.replace(/\.js$/, '');
  if (url.includes('/scripts/')) return 'scripts';
  return url.split('/').slice(-2).join('/');
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  const pkg = /\/packages\/(.+)$/.exec(url);
  if (pkg) return pkg[1];
  return url.replace(/^file:\/\/.*\/scripts\//, 'scripts/');
}

const keyOf = (f) =>
  SPECIAL.has(f.functionName) && !f.url ? f.functionName : `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;

export function analyze(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const incl = new Map();
  const pkgs = new Map();
  let total = 0;
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = (timeDeltas[i + 1] ?? 0) / 1000; // ms until the next sample
    total += dt;
    const node = byId.get(samples[i]);
    add(self, keyOf(node.callFrame), dt);
    add(pkgs, packageOf(node.callFrame), dt);
    const seen = new Set();
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      if (!/\/packages\/[^/]+\/dist\//.test(f.url)) continue;
      const k = keyOf(f);
      if (!seen.has(k)) {
        seen.add(k);
        add(incl, k, dt);
      }
    }
  }
  const idle = self.get('(idle)') ?? 0;
  const sorted = (m, n) =>
    [...m]
      .filter(([k]) => k !== '(idle)' && k !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  return {
    totalMs: total,
    idleMs: idle,
    busyMs: total - idle,
    gcMs: self.get('(garbage collector)') ?? 0,
    topSelf: sorted(self, 15),
    packages: sorted(pkgs, 12),
    zenrollInclusive: sorted(incl, 10),
  };
}

export function formatAnalysis(name, a) {
  const pct = (ms) => `${((ms / a.busyMs) * 100).toFixed(1).padStart(5)} %`;
  const rows = (list) => list.map(([k, ms]) => `    ${ms.toFixed(0).padStart(7)} ms ${pct(ms)}  ${k}`);
  return [
    `${name}: ${(a.totalMs / 1000).toFixed(1)} s profiled, main thread busy ${(a.busyMs / 1000).toFixed(1)} s (${((a.busyMs / a.totalMs) * 100).toFixed(0)} %), GC ${(a.gcMs / 1000).toFixed(2)} s — shares below are of busy time`,
    '  self time by package:',
    ...rows(a.packages),
    '  top frames by self time:',
    ...rows(a.topSelf),
    '  zenroll functions by inclusive time:',
    ...rows(a.zenrollInclusive),
  ].join('\n');
}

async function files(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await files(join(dir, e.name))));
    else if (e.name.endsWith('.cpuprofile')) out.push(join(dir, e.name));
  }
  return out.sort();
}

export async function summarizeProfile(path) {
  return formatAnalysis(basename(path), analyze(JSON.parse(await readFile(path, 'utf8'))));
}

export async function summarizeProfiles(dir) {
  const list = await files(dir);
  if (list.length === 0) return `no profiles in ${dir}`;
  const parts = [`profiles in ${dir}:`];
  for (const f of list) parts.push(await summarizeProfile(f));
  return parts.join('\n\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const f of process.argv.slice(2)) process.stdout.write(`${await summarizeProfile(f)}\n\n`);
}
