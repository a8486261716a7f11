// Figures 7 and 8 of the benchmark (issue 17, SPEC §8; docs/tree.md).
//
// 7 tree: 500 Inventory Service objects in the benchmark's slapd, each with a
//   self-description (1 root, 10 intermediates, 489 leaves). Timed: the one
//   paged subtree search (LdapDirectory.readDescriptions), the whole report
//   drawn as text, and `zenroll tree --json` as a user runs it (a new
//   process: start-up, config, bind, search, output).
// 8 poll: one ROOT (a real `zenroll serve`, TLS, with the directory) and 200
//   children polling its GET /v1/info with their description, each poll on a
//   new TLS connection (at the default sender.pollSeconds of 60 s the
//   previous one has long been closed). The children poll every second
//   instead of every 60 s, so that a few seconds show the cost; ROOT's CPU
//   per poll then gives its CPU share at 200 children every 60 s.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { loadConfig } from '@zenroll/core';
import { LdapDirectory, descriptionAttributes } from '@zenroll/directory';
import { createParentClient } from '@zenroll/sender';
import { cpuMsOf, median, progress, round, sleep } from './bench-util.mjs';
import { ldapUtil } from '@zenroll/directory/slapd';
import { initTree, startServe, stopServe } from '@zenroll/testkit';
import { CLI } from './zenroll-cli.mjs';

export const TREE_SERVERS = 500;
export const POLL_ROOT = 'POLLROOT';

const treeName = (i) => (i === 0 ? 'TROOT' : i <= 10 ? `TINT${String(i).padStart(2, '0')}` : `TLEAF${String(i).padStart(3, '0')}`);

function description(i, now) {
  const role = i === 0 ? 'root' : i <= 10 ? 'intermediate-db' : 'leaf';
  const parent = i === 0 ? null : i <= 10 ? 'TROOT' : treeName(1 + (i % 10));
  const sender = role !== 'root';
  return {
    role,
    parent,
    parentUrl: sender ? `https://${(parent ?? '').toLowerCase()}.acme.example:7099` : null,
    version: '0.1.0',
    schedule: sender ? '0 2 * * * (UTC)' : null,
    lastRollup: sender ? new Date(now - 3_600_000).toISOString() : null,
    lastRollupResult: sender
      ? i % 50 === 7
        ? 'failed zipped=1 sent=0 discarded=0 rejected=1 left=0'
        : 'ok zipped=2 sent=2 discarded=0 rejected=0 left=0'
      : null,
    backlog: { strWaiting: role === 'leaf' ? i % 7 : null, zipsWaiting: 0, zipsRejected: i % 50 === 7 ? 1 : 0 },
    sent24h: { zips: 2, files: 80, bytes: 2_000_000 },
    received24h: { zips: role === 'leaf' ? 0 : 98, files: 3920, bytes: 98_000_000 },
    described: new Date(now - 3_590_000).toISOString(),
    lateAfter: sender ? new Date(i % 40 === 3 ? now - 60_000 : now + 86_400_000).toISOString() : null,
  };
}

/** The objects and their descriptions, written as the rootdn (one ldapadd and one ldapmodify for all). */
async function seed(slapd, names) {
  await slapd.addServers(names);
  const now = Date.now();
  const ldif = names
    .map((name, i) =>
      [
        `dn: ${slapd.serverDN(name)}`,
        'changetype: modify',
        ...Object.entries(descriptionAttributes(description(i, now))).flatMap(([attr, values]) => [
          `replace: ${attr}`,
          ...values.map((v) => `${attr}: ${v}`),
          '-',
        ]),
        '',
      ].join('\n'),
    )
    .join('\n');
  await ldapUtil('ldapmodify', slapd.rootArgs(), ldif);
}

function runCli(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(process.execPath, [CLI.bin, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`zenroll ${args.join(' ')}: ${stderr}`));
      else resolve({ ms: performance.now() - t0, stdout });
    });
  });
}

/** ctx: { work, slapd, runs }. */
export async function benchTree(ctx) {
  const { slapd } = ctx;
  const names = Array.from({ length: TREE_SERVERS }, (_, i) => treeName(i));
  progress(`  writing ${TREE_SERVERS} objects with their descriptions…`);
  await seed(slapd, names);
  const reader = new LdapDirectory({
    url: slapd.url,
    bindDN: slapd.serverDN('TROOT'),
    passwordFile: slapd.serverPasswordFile('TROOT'),
    serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
    keep: 1000,
    timeoutMs: 10_000,
  });
  const { report } = await import('../../packages/cli/dist/tree/model.js');
  const { renderText } = await import('../../packages/cli/dist/tree/text.js');
  const search = [];
  const draw = [];
  let servers = 0;
  try {
    await reader.readDescriptions(); // the bind and a warm slapd cache, as in a running service
    for (let r = 0; r < Math.max(5, ctx.runs * 3); r++) {
      const t0 = performance.now();
      const all = await reader.readDescriptions();
      const t1 = performance.now();
      renderText(report(all, Date.now(), 'directory'), { color: false });
      draw.push(performance.now() - t1);
      search.push(t1 - t0);
      servers = all.filter((s) => s.description !== null).length;
    }
  } finally {
    await reader.close();
  }
  if (servers < TREE_SERVERS) throw new Error(`the subtree search found ${servers} described servers, not ${TREE_SERVERS}`);
  // zenroll tree as a user runs it, with a config of the root.
  const dir = join(ctx.work, 'tree-cli');
  await mkdir(join(dir, 'in'), { recursive: true });
  const config = join(dir, 'zenroll.json');
  await writeFile(
    config,
    JSON.stringify({
      server: 'TROOT',
      tree: 'ACME',
      role: 'root',
      dirs: { entpushdir: 'in', dbdir: 'db' },
      directory: {
        url: slapd.url,
        bindDN: slapd.serverDN('TROOT'),
        passwordFile: slapd.serverPasswordFile('TROOT'),
        serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
      },
    }),
  );
  const cli = [];
  let json = null;
  for (let r = 0; r < Math.max(3, ctx.runs); r++) {
    const out = await runCli(['tree', '--json', '-c', config]);
    cli.push(out.ms);
    json = JSON.parse(out.stdout);
  }
  if (json.servers < TREE_SERVERS) throw new Error(`zenroll tree --json showed ${json.servers} servers`);
  progress(
    `  tree: search ${round(median(search), 1)} ms, draw ${round(median(draw), 1)} ms, zenroll tree --json ${Math.round(median(cli))} ms for ${json.servers} servers`,
  );
  return {
    servers: json.servers,
    states: json.states,
    searchMs: round(median(search), 1),
    drawMs: round(median(draw), 1),
    cliMs: Math.round(median(cli)),
    searchRunsMs: search.map((x) => round(x, 1)),
    cliRunsMs: cli.map((x) => Math.round(x)),
  };
}

/** ctx: { work, slapd, cleanup, children, seconds }. */
export async function benchPoll(ctx) {
  const t = await initTree({
    cli: CLI,
    dir: join(ctx.work, 'poll'),
    slapd: ctx.slapd,
    plan: [{ name: POLL_ROOT, role: 'root' }],
  });
  const root = t.node(POLL_ROOT);
  await startServe(root, { track: (c) => ctx.cleanup.child(c) });
  ctx.cleanup.add('stop the poll bench ROOT', () => stopServe(root));
  // The children's side of the real client: sender.parent and its CA, as a leaf's config has them.
  const sender = {
    ...(await loadConfig(root.configPath)).sender,
    parent: root.url,
    tls: { ca: join(root.dir, 'tls', 'server.crt'), cert: null, key: null },
  };
  const ca = await readFile(sender.tls.ca, 'utf8');
  const header = (i) =>
    Buffer.from(
      JSON.stringify({ server: `PCHILD${i}`, description: { ...description(11 + (i % 489), Date.now()), parent: POLL_ROOT } }),
    ).toString('base64url');
  const poll = async (i) => {
    // A new connection each time, as after 60 s of quiet (the server's keep-alive is long closed).
    const agent = new Agent({ connect: { ca, timeout: 10_000 } });
    const client = createParentClient(sender, agent, { ownsDispatcher: true });
    try {
      await client.info(undefined, { 'zenroll-description': header(i) });
    } finally {
      await client.close();
    }
  };
  for (let i = 0; i < ctx.children; i++) await poll(i); // each child seen once: ROOT's children.json at its full size
  await sleep(1000);
  let done = 0;
  let errors = 0;
  const stopAt = performance.now() + ctx.seconds * 1000;
  const cpu0 = cpuMsOf(root.pid);
  const t0 = performance.now();
  // Each child polls once a second, spread over the second like children started at different times.
  await Promise.all(
    Array.from({ length: ctx.children }, async (_, i) => {
      await sleep((1000 * i) / ctx.children);
      for (let next = performance.now(); next < stopAt; next += 1000) {
        try {
          await poll(i);
          done++;
        } catch {
          errors++;
        }
        await sleep(Math.max(0, next + 1000 - performance.now()));
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = cpuMsOf(root.pid);
  await stopServe(root);
  const perPollMs = (cpu1.total - cpu0.total) / done;
  const pollsPerS = done / wallS;
  const at60 = ((ctx.children / 60) * perPollMs) / 1000;
  progress(
    `  poll: ${done} polls in ${round(wallS, 1)} s (${round(pollsPerS, 0)}/s), ROOT ${round(perPollMs, 2)} CPU ms per poll → ${round(at60 * 100, 2)} % of a core for ${ctx.children} children every 60 s`,
  );
  if (errors > 0) throw new Error(`${errors} polls failed`);
  return {
    children: ctx.children,
    seconds: round(wallS, 1),
    polls: done,
    pollsPerS: round(pollsPerS, 1),
    rootCpuPercentAtThatRate: round(((cpu1.total - cpu0.total) / (wallS * 1000)) * 100, 1),
    rootCpuMsPerPoll: round(perPollMs, 3),
    rootCpuPercentAt60s: round(at60 * 100, 2),
  };
}
