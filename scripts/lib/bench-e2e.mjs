// Figures 3 and 4 of the benchmark: end to end through a leaf →
// intermediate-db → root tree of real `zenroll serve` processes (TLS, the
// private slapd), and the peak RSS of each of them, also with a large
// backlog of small .str at the leaf.
//
// One run: the .str are hard-linked into the leaf's entmergedir (same bytes
// and mtime each run, no copying), then the clock starts and the leaf's
// roll-up is forced on its admin socket (POST /v1/rollup). INT1 runs with
// sender.forwardOnReceive: each zip it promotes starts a roll-up of its own
// (or joins the next one), so it forwards while the leaf is still packing
// and pushing; nothing from outside drives it. The clock
// stops when the last expected zip appears in ROOT's dbdir (promotion puts
// it there by an atomic rename, so it is complete and durable).
import { link, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { askAdmin, initTree, startServe, stopServe } from '@zenroll/testkit';
import { CLI } from './zenroll-cli.mjs';
import { cpuMsOf, median, progress, round, rssOf, run, sleep } from './bench-util.mjs';

export const E2E_SERVERS = ['LEAF1', 'INT1', 'ROOT'];

async function zipsIn(dir) {
  return (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.zip') && !n.startsWith('.'));
}

async function clearZips(dir) {
  for (const n of await zipsIn(dir)) await rm(join(dir, n), { force: true });
}

async function waitUntil(what, fn, timeoutMs, everyMs = 20) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function buildE2eTree(ctx) {
  const tree = await initTree({
    cli: CLI,
    dir: join(ctx.work, 'tree'),
    slapd: ctx.slapd,
    plan: [
      { name: 'ROOT', role: 'root' },
      { name: 'INT1', role: 'intermediate-db', parent: 'ROOT' },
      { name: 'LEAF1', role: 'leaf', parent: 'INT1' },
    ],
    patch: (json) => {
      if (json.sender) {
        // Only forced roll-ups during the benchmark: this schedule fires once a year, at new year.
        json.sender.schedule = '0 0 1 1 *';
        // A parent that is slow to answer must not park the run for the default 10 s, 20 s, …
        json.sender.retry = { baseMs: 500, factor: 2, tries: 8 };
        // INT1 relays each zip as it arrives (its own trigger; see the top of this file).
        if (json.role.startsWith('intermediate')) json.sender.forwardOnReceive = true;
      }
    },
  });
  const nodes = E2E_SERVERS.map((n) => tree.node(n));
  return {
    tree,
    nodes,
    async start(nodeArgsOf = () => []) {
      for (const node of [...nodes].reverse()) await startServe(node, { nodeArgs: nodeArgsOf(node), track: (c) => ctx.cleanup.child(c) });
    },
    async stop() {
      for (const node of nodes) await stopServe(node);
    },
  };
}

/** The JSON log lines a service wrote from byte `from` on. */
async function logSince(node, from) {
  const text = (await readFile(join(node.dir, 'serve.log'))).subarray(from).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

const logSize = async (node) => (await stat(join(node.dir, 'serve.log')).catch(() => ({ size: 0 }))).size;

/**
 * Where the leaf's roll-up spent the run, from its own log (ms from the
 * forced start): collect, plan, then pack and push, which overlap (the first
 * zip is pushed while the next batches are packed): pack runs from the plan
 * to the last zip made, push from the plan to the last zip sent, and
 * `pushAfterPackMs` is how long pushing went on once packing was done; then
 * the tail until the last zip is in ROOT's dbdir.
 */
function leafPhases(lines, t0Epoch, endMs) {
  const at = (pred) => lines.find(pred)?.time;
  const last = (pred) => lines.filter(pred).at(-1)?.time;
  const started = at((l) => l.msg === 'roll-up started');
  const collected = at((l) => l.type === 'collected');
  const planned = at((l) => l.type === 'planned');
  const lastZipped = last((l) => l.type === 'zipped');
  const lastSent = last((l) => l.type === 'sent');
  const sent = lines.filter((l) => l.type === 'sent');
  return {
    adminToStartMs: started - t0Epoch,
    collectMs: collected - started,
    planMs: planned - collected,
    packMs: lastZipped - planned,
    pushMs: lastSent - planned,
    pushAfterPackMs: lastSent - lastZipped,
    pushTransferSumMs: sent.reduce((s, l) => s + (l.transferMs ?? 0), 0),
    tailMs: endMs - (lastSent - t0Epoch),
  };
}

/** Wait until every service's journal has reached LDAP and nothing is in flight. */
async function quiet(nodes, timeoutMs) {
  await waitUntil(
    'the journals to drain into slapd',
    async () => {
      for (const node of nodes) {
        const s = await askAdmin(node, 'GET', '/v1/status');
        if (s.journalBacklog > 0 || s.rollupRunning) return false;
      }
      return true;
    },
    timeoutMs,
    100,
  );
}

/**
 * One end-to-end run of `names` (in `fixtures`). Returns ms to the last zip
 * in ROOT's dbdir, the leaf's own roll-up time, ms until every journal
 * reached slapd, the number of forced INT1 roll-ups and the CPU time of each
 * process.
 */
export async function e2eRun(e2e, fixtures, names, { timeoutMs = 900_000 } = {}) {
  const [leaf, int1, root] = e2e.nodes;
  const expected = Math.ceil(names.length / leaf.config.sender.batchSize);
  for (const node of [int1, root]) await clearZips(node.config.dirs.dbdir);
  const inbox = leaf.config.dirs.entmergedir;
  for (const n of names) await link(join(fixtures, n), join(inbox, n));
  await run('sync', []);
  await quiet(e2e.nodes, 120_000);
  const cpu0 = e2e.nodes.map((n) => cpuMsOf(n.pid));
  const logFrom = await logSize(leaf);
  const intLogFrom = await logSize(int1);

  const t0Epoch = Date.now();
  const t0 = performance.now();
  let leafMs = null;
  let leafResult = null;
  let failure = null;
  const leafDone = askAdmin(leaf, 'POST', '/v1/rollup').then(
    (r) => {
      leafMs = performance.now() - t0;
      leafResult = r;
    },
    (err) => (failure ??= err),
  );
  let endMs;
  try {
    await waitUntil(
      `${expected} zips in ROOT's dbdir`,
      async () => {
        if (failure !== null) throw failure;
        if (leafResult !== null && (leafResult.left.length > 0 || leafResult.rejected.length > 0)) {
          throw new Error(`the leaf left ${JSON.stringify([...leafResult.left, ...leafResult.rejected]).slice(0, 500)}`);
        }
        return (await zipsIn(root.config.dirs.dbdir)).length >= expected;
      },
      timeoutMs,
    );
    endMs = performance.now() - t0;
  } finally {
    await leafDone;
  }
  if (failure !== null) throw failure;
  await quiet(e2e.nodes, timeoutMs);
  const logMs = performance.now() - t0;
  const cpu = e2e.nodes.map((n, i) => {
    const now = cpuMsOf(n.pid);
    return { total: now.total - cpu0[i].total, main: now.main - cpu0[i].main };
  });
  const atRoot = (await zipsIn(root.config.dirs.dbdir)).length;
  const leftAtInt = (await zipsIn(int1.config.dirs.entpushdir)).length + (await zipsIn(int1.config.dirs.zipdir)).length;
  if (atRoot !== expected || leftAtInt !== 0 || leafResult.zipped.length !== expected || leafResult.sent.length !== expected) {
    throw new Error(
      `end to end: expected ${expected} zips; the leaf zipped ${leafResult.zipped.length} and sent ${leafResult.sent.length}, ROOT's dbdir has ${atRoot}, INT1 still holds ${leftAtInt}`,
    );
  }
  const phases = leafPhases(await logSince(leaf, logFrom), t0Epoch, endMs);
  const intRollups = (await logSince(int1, intLogFrom)).filter((l) => l.msg === 'roll-up started').length;
  return {
    ms: endMs,
    leafRollupMs: leafMs,
    logDrainedMs: logMs,
    int1Rollups: intRollups,
    zips: expected,
    phases,
    cpuMs: Object.fromEntries(e2e.nodes.map((n, i) => [n.name, cpu[i]])),
  };
}

function peaks(nodes) {
  return Object.fromEntries(nodes.map((n) => [n.name, round(rssOf(n.pid).peak / 1e6, 1)]));
}

/**
 * ctx: { work, slapd, cleanup, fixtures, names, inputBytes, runs, zipSeqMs, backlog: { fixtures, names, bytes }, profileDir }.
 */
export async function benchEndToEnd(ctx) {
  const e2e = await buildE2eTree(ctx);
  ctx.cleanup.add('stop the end-to-end tree', () => e2e.stop());
  const profArgs = (node) =>
    ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, 'e2e')}`, `--cpu-prof-name=${node.name}.cpuprofile`] : [];
  await e2e.start(profArgs);
  const idle = Object.fromEntries(e2e.nodes.map((n) => [n.name, round(rssOf(n.pid).now / 1e6, 1)]));
  const runs = [];
  for (let r = 0; r < ctx.runs; r++) {
    const res = await e2eRun(e2e, ctx.fixtures, ctx.names);
    runs.push(res);
    progress(
      `  end to end run ${r + 1}/${ctx.runs}: ${(res.ms / 1000).toFixed(2)} s to the last zip at ROOT (leaf roll-up ${(res.leafRollupMs / 1000).toFixed(2)} s, log in slapd after ${(res.logDrainedMs / 1000).toFixed(2)} s, INT1 rolled up ${res.int1Rollups}×)`,
    );
  }
  const memory = { idleAfterStart: idle, peak: { endToEnd: peaks(e2e.nodes) }, backlogRuns: {} };
  await e2e.stop();
  const ms = median(runs.map((r) => r.ms));
  const endToEnd = {
    zips: runs[0].zips,
    runsMs: runs.map((r) => round(r.ms, 0)),
    medianMs: round(ms, 0),
    mbPerS: round(ctx.inputBytes / 1e6 / (ms / 1000), 1),
    ratioToZip6Sequential: ctx.zipSeqMs ? round(ms / ctx.zipSeqMs, 2) : null,
    leafRollupMs: round(median(runs.map((r) => r.leafRollupMs)), 0),
    logDrainedMs: round(median(runs.map((r) => r.logDrainedMs)), 0),
    int1Rollups: median(runs.map((r) => r.int1Rollups)),
    cpuMs: Object.fromEntries(e2e.nodes.map((n) => [n.name, round(median(runs.map((r) => r.cpuMs[n.name].total)), 0)])),
    mainThreadCpuMs: Object.fromEntries(e2e.nodes.map((n) => [n.name, round(median(runs.map((r) => r.cpuMs[n.name].main)), 0)])),
    leafPhasesMs: Object.fromEntries(Object.keys(runs[0].phases).map((k) => [k, round(median(runs.map((r) => r.phases[k])), 0)])),
  };

  // The backlogs: fresh processes (VmHWM is a high-water mark over a process's life).
  for (const b of ctx.backlogs) {
    await mkdir(e2e.tree.node('LEAF1').config.dirs.entmergedir, { recursive: true });
    await e2e.start();
    const res = await e2eRun(e2e, b.fixtures, b.names);
    const key = `backlog${b.names.length}`;
    memory.peak[key] = peaks(e2e.nodes);
    memory.backlogRuns[key] = {
      zips: res.zips,
      ms: round(res.ms, 0),
      logDrainedMs: round(res.logDrainedMs, 0),
      fileBytes: b.bytes,
      leafPhasesMs: Object.fromEntries(Object.entries(res.phases).map(([k, v]) => [k, round(v, 0)])),
    };
    progress(
      `  backlog of ${b.names.length} small .str: ${(res.ms / 1000).toFixed(1)} s end to end; peak RSS ${JSON.stringify(memory.peak[key])} MB`,
    );
    await e2e.stop();
  }
  return { endToEnd, memory };
}
