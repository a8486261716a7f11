/**
 * Issue 17, end to end: ROOT, INT1 (intermediate-db) and three leaves as real
 * `zenroll serve` processes over HTTPS, logging to a private slapd.
 * - LEAF3 rolls up on its own schedule, then stops: `late`.
 * - LEAF2 signs with a key nobody trusts: `failing` after its first roll-up.
 * - LEAF1 and INT1 never roll up on their own (a yearly schedule): only
 *   `zenroll rollup --tree` at ROOT, seen through their polls of their
 *   parent's `/v1/info`, makes them; no command is run on any leaf.
 * `zenroll tree --json` at ROOT shows the shape, the states and the backlogs;
 * every waiting `.str` of the running, trusted leaves reaches ROOT's dbdir, once.
 */
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, saveKeyPair } from '@zenroll/core';
import { freePort, initArgs, startSlapd, strsInZips, type Slapd } from '@zenroll/testkit';
import { launchBrowser } from '@zenroll/testkit';
import type { TreeNode, TreeReport } from '../src/tree/model.js';
import type { Serve } from './serve-helpers.js';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, initRootAndInt, linesOf, section, terminate, waitUntil } from './helpers/service.js';

const EVERY_2_S = '*/2 * * * * *';
const YEARLY = '0 0 1 1 *';
/** Scaled from 60 s: the test takes seconds, the behaviour is the same. */
const POLL_SECONDS = 0.5;

let tmp: Awaited<ReturnType<typeof tempDir>>;
let slapd: Slapd;
const services = new Services();

beforeAll(async () => {
  tmp = await tempDir('zenroll-tree5-');
  slapd = await startSlapd({ tree: 'ACME', servers: ['ROOT', 'INT1', 'LEAF1', 'LEAF2', 'LEAF3'] });
});

afterAll(async () => {
  await services.stopAll();
  await slapd?.destroy();
  await tmp?.remove();
});

/** SHA-256 of every `.str` inside the outer zips of `dir` (unzip(1)), one entry per copy, sorted. */
const strsAt = async (dir: string, work: string): Promise<string[]> => (await strsInZips(dir, work)).flatMap((z) => z.sha256).sort();

async function tree(at: ServerFolder): Promise<TreeReport> {
  const r = await runCli(['tree', '--json', '-c', at.configPath]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as TreeReport;
}

function find(r: TreeReport, server: string): TreeNode {
  const walk = (list: TreeNode[]): TreeNode | undefined => {
    for (const n of list) {
      if (n.server === server) return n;
      const below = walk(n.children);
      if (below) return below;
    }
    return undefined;
  };
  const n = walk(r.tree);
  if (n === undefined) throw new Error(`${server} is not in the tree`);
  return n;
}

const shape = (n: TreeNode): unknown => (n.children.length === 0 ? n.server : { [n.server]: n.children.map(shape) });
const states = (r: TreeReport) => Object.fromEntries(['ROOT', 'INT1', 'LEAF1', 'LEAF2', 'LEAF3'].map((s) => [s, find(r, s).state]));

describe('a five-server tree: zenroll tree and rollup --tree', () => {
  it('shows shape, states and backlogs, and one request at ROOT brings every waiting scan up, once', { timeout: 180_000 }, async () => {
    const at = (name: string) => join(tmp.path, name);
    const { root, int1, intPort } = await initRootAndInt(tmp.path, slapd);
    const adminPort = await freePort();
    const leaves: ServerFolder[] = [];
    for (const name of ['LEAF1', 'LEAF2', 'LEAF3']) {
      leaves.push(
        await initHere(
          at(name),
          initArgs({ role: 'leaf', server: name, parent: { url: `https://127.0.0.1:${intPort}`, dir: at('INT1') }, ldap: slapd }),
        ),
      );
    }
    const [leaf1, leaf2, leaf3] = leaves as [ServerFolder, ServerFolder, ServerFolder];
    const sender = (schedule: string) => (json: Record<string, unknown>) => {
      Object.assign(section(json, 'sender'), {
        schedule,
        pollSeconds: POLL_SECONDS,
        stableMs: 0,
        retry: { baseMs: 200, factor: 2, tries: 4 },
      });
    };
    await root.edit((json) => Object.assign(section(json, 'admin'), { listen: `127.0.0.1:${adminPort}` }));
    await int1.edit(sender(YEARLY));
    await leaf1.edit(sender(YEARLY));
    await leaf2.edit(sender(YEARLY));
    await leaf3.edit(sender(EVERY_2_S));
    // LEAF2 signs with a new key: the one `zenroll init` published in the directory is not it, and no trust store has it.
    await saveKeyPair(generateKeyPair(), leaf2.config.keys.private, leaf2.config.keys.public);

    // Waiting before the services start, so that their first description counts them.
    const scans1 = await writeScans(leaf1.config.dirs.entmergedir as string, 60, { seed: 11 });
    const scans2 = await writeScans(leaf2.config.dirs.entmergedir as string, 20, { seed: 12, startIndex: 1000 });
    const scans3 = await writeScans(leaf3.config.dirs.entmergedir as string, 30, { seed: 13, startIndex: 2000 });

    const started = new Map<string, Serve>();
    for (const s of [root, int1, leaf1, leaf2, leaf3]) {
      const svc = services.start(s.configPath);
      await svc.waitFor((l) => l.msg === 'admin endpoint ready');
      started.set(s.config.server, svc);
    }
    const svc = (name: string) => started.get(name) as Serve;

    // LEAF3 rolls up on its schedule (its zips wait in INT1's entpushdir), then stops; 5 more scans stay behind.
    await waitUntil('LEAF3 to send its scans', () =>
      linesOf(svc('LEAF3'), 'roll-up finished').some((l) => l.ok === true && (l.sent as number) > 0),
    );
    await waitUntil(
      'LEAF3 to have described itself after it',
      async () => find(await tree(root), 'LEAF3').lastRollupResult?.startsWith('ok') === true,
    );
    expect(await terminate(svc('LEAF3'))).toEqual({ code: 0, signal: null });
    const late3 = await writeScans(leaf3.config.dirs.entmergedir as string, 5, { seed: 14, startIndex: 3000 });

    // The tree before any request: the shape from what each server wrote; LEAF3 late once two of its periods pass.
    const before = await waitUntil('LEAF3 to be late and every parent known', async () => {
      const r = await tree(root);
      return find(r, 'LEAF3').state === 'late' && find(r, 'LEAF1').parent === 'INT1' && find(r, 'LEAF2').parent === 'INT1' ? r : null;
    });
    expect(before).toMatchObject({ format: 'zenroll-tree/1', source: 'directory', servers: 5 });
    expect(before.tree.map(shape)).toEqual([{ ROOT: [{ INT1: ['LEAF1', 'LEAF2', 'LEAF3'] }] }]);
    expect(states(before)).toEqual({ ROOT: 'ok', INT1: 'ok', LEAF1: 'ok', LEAF2: 'ok', LEAF3: 'late' });
    expect(find(before, 'LEAF1')).toMatchObject({
      role: 'leaf',
      parent: 'INT1',
      lastRollup: null,
      backlog: { strWaiting: 60, zipsWaiting: 0, zipsRejected: 0 },
    });
    expect(find(before, 'LEAF2').backlog.strWaiting).toBe(20);
    expect(find(before, 'LEAF3').why).toMatch(/^no roll-up since \S+ \S+Z; due by \S+ \S+Z$/);
    expect(find(before, 'INT1')).toMatchObject({ role: 'intermediate-db', parent: 'ROOT' });
    expect(find(before, 'ROOT')).toMatchObject({ role: 'root', parent: null, schedule: null, lateAfter: null });
    // INT1 has LEAF3's zips waiting; it received them.
    await waitUntil("INT1's description to count LEAF3's zips", async () => {
      const n = find(await tree(root), 'INT1');
      return n.backlog.zipsWaiting === 1 && n.received24h.zips === 1 && n.received24h.files === 30;
    });
    // The same tree for people, at 80 columns.
    const text = await runCli(['tree', '-c', root.configPath]);
    expect(text.code).toBe(0);
    for (const line of text.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text.stdout).toMatch(/^ROOT {2}root +ok$/m);
    expect(text.stdout).toMatch(/^ {3}└─ LEAF3 {2}leaf +late$/m);
    expect(text.stdout).toContain('5 servers: 4 ok, 1 late, 0 failing, 0 unknown (from the directory)');

    // One request at ROOT: INT1 and the running leaves roll up; INT1 forwards what they send as it arrives.
    const rootDb = root.config.dirs.dbdir as string;
    const t0 = Date.now();
    const asked = await runCli(['rollup', '--tree', '--json', '-c', root.configPath]);
    expect(asked.code).toBe(0);
    const request = JSON.parse(asked.stdout) as { ok: boolean; requested: string; service: boolean };
    expect(request).toMatchObject({ ok: true, server: 'ROOT', service: true });
    const want = [...scans1.sha256, ...scans3.sha256].sort();
    await waitUntil(
      "ROOT's dbdir to hold LEAF1's and LEAF3's scans",
      async () => (await strsAt(rootDb, join(tmp.path, 'unz'))).length >= want.length,
      60_000,
    );
    const took = Date.now() - t0;
    await waitUntil('LEAF2 to be failing', async () => find(await tree(root), 'LEAF2').state === 'failing');
    expect(await strsAt(rootDb, join(tmp.path, 'unz'))).toEqual(want);
    console.log(
      `rollup --tree: LEAF1's and LEAF3's ${want.length} scans in ROOT's dbdir ${took} ms after the request (pollSeconds ${POLL_SECONDS})`,
    );

    // The server status logs (SPEC §7): the request at ROOT, passed on at INT1; each child saw it once and rolled up once for it.
    const status = async (f: ServerFolder, event: string) => {
      const r = await runCli(['log', '--status', '--json', '--limit', '1000', '-c', f.configPath]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((x) => x.event === event);
    };
    expect(await status(root, 'rollup-requested')).toMatchObject([{ requested: request.requested, from: 'ROOT' }]);
    for (const [name, f, parent] of [
      ['INT1', int1, 'ROOT'],
      ['LEAF1', leaf1, 'INT1'],
      ['LEAF2', leaf2, 'INT1'],
    ] as const) {
      await waitUntil(`${name}'s status log to show its answer`, async () => (await status(f, 'wake-up-rollup')).length > 0);
      expect(await status(f, 'wake-up'), name).toMatchObject([{ requested: request.requested, from: parent, to: name }]);
      expect(await status(f, 'wake-up-rollup'), name).toMatchObject([{ requested: request.requested, from: parent, to: name }]);
      expect(linesOf(svc(name), 'roll-up started', { reason: 'wakeup' }), name).toHaveLength(1);
    }
    expect(await status(int1, 'rollup-requested')).toMatchObject([{ requested: request.requested, from: 'ROOT', to: 'INT1' }]);
    expect((await status(leaf1, 'wake-up-rollup'))[0]).toMatchObject({ zipped: 2, sent: 2, rejected: 0, left: 0 });
    // Its zip refused (401, a key not trusted): set aside as rejected, or kept for a later roll-up — either way not sent.
    const leaf2Answer = (await status(leaf2, 'wake-up-rollup'))[0] as Record<string, number>;
    expect(leaf2Answer).toMatchObject({ zipped: 1, sent: 0 });
    expect(leaf2Answer.rejected! + leaf2Answer.left!).toBe(1);
    // No leaf ran a roll-up of its own: only the one asked for.
    expect(linesOf(svc('LEAF1'), 'roll-up started').map((l) => l.reason)).toEqual(['wakeup']);

    const after = await waitUntil('the tree to show the roll-ups', async () => {
      const r = await tree(root);
      return find(r, 'LEAF1').lastRollup !== null && find(r, 'INT1').lastRollup !== null && find(r, 'INT1').backlog.zipsWaiting === 0
        ? r
        : null;
    });
    expect(states(after)).toEqual({ ROOT: 'ok', INT1: 'ok', LEAF1: 'ok', LEAF2: 'failing', LEAF3: 'late' });
    expect(find(after, 'LEAF1')).toMatchObject({
      backlog: { strWaiting: 0, zipsWaiting: 0, zipsRejected: 0 },
      sent24h: { zips: 2, files: 60 },
    });
    expect(find(after, 'LEAF2').why).toMatch(/^last roll-up: failed zipped=1 sent=0 .* error="\S+_LEAF2_ACME_0\.zip: .*PRP_SIGNER_UNKNOWN/);
    expect(find(after, 'LEAF3').backlog.strWaiting).toBe(0); // what LEAF3 wrote before it stopped; its late scans it never saw
    expect(await readdir(leaf3.config.dirs.entmergedir as string)).toHaveLength(late3.sha256.length);

    // The same tree as a page on ROOT's admin listener, in headless Chromium with scripts off (readable without them).
    const browser = await launchBrowser({ width: 1100, height: 900 });
    try {
      const { page } = browser;
      await page.setJavaScriptEnabled(false);
      const answer = await page.goto(`http://127.0.0.1:${adminPort}/tree`);
      expect(answer?.status()).toBe(200);
      expect(await page.$eval('meta[http-equiv="refresh"]', (m) => m.getAttribute('content'))).toBe('30');
      const nodes = await page.$$eval('a.node', (as) =>
        as.map((a) => ({
          name: a.querySelector('.name')?.textContent,
          state: a.querySelector('.state')?.textContent,
          cls: a.className,
          href: a.getAttribute('href'),
          depth: (() => {
            let d = 0;
            for (let e = a.parentElement; e; e = e.parentElement) if (e.tagName === 'UL') d++;
            return d;
          })(),
        })),
      );
      expect(nodes).toEqual([
        { name: 'ROOT', state: 'ok', cls: 'node ok', href: '/tree/server/ROOT', depth: 1 },
        { name: 'INT1', state: 'ok', cls: 'node ok', href: '/tree/server/INT1', depth: 2 },
        { name: 'LEAF1', state: 'ok', cls: 'node ok', href: '/tree/server/LEAF1', depth: 3 },
        { name: 'LEAF2', state: 'failing', cls: 'node failing', href: '/tree/server/LEAF2', depth: 3 },
        { name: 'LEAF3', state: 'late', cls: 'node late', href: '/tree/server/LEAF3', depth: 3 },
      ]);
      // Coloured by state: the border of each box is its state's colour.
      const colours = await page.$$eval('a.node', (as) =>
        as.map(
          (a) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { borderLeftColor: string } }).getComputedStyle(a).borderLeftColor,
        ),
      );
      expect(new Set(colours).size).toBe(3);
      if (process.env.ZENROLL_TREE_SCREENSHOT) await page.screenshot({ path: process.env.ZENROLL_TREE_SCREENSHOT, fullPage: true });
      // A click shows the server's recent records (the v2 lines) and its status log.
      await Promise.all([page.waitForNavigation(), page.click('a.node.failing')]);
      expect(page.url()).toBe(`http://127.0.0.1:${adminPort}/tree/server/LEAF2`);
      const pres = await page.$$eval('pre', (ps) => ps.map((p) => p.textContent ?? ''));
      expect(pres).toHaveLength(2);
      expect(pres[0]).toMatch(/^\S+Z send-failed LEAF2>INT1 \S+_LEAF2_ACME_0\.zip .*PRP_SIGNER_UNKNOWN/m);
      expect(pres[1]).toMatch(new RegExp(`^\\S+Z wake-up INT1>LEAF2 - requested=${request.requested.replaceAll('.', '\\.')} `, 'm'));
      expect(browser.offsite).toEqual([]);
    } finally {
      await browser.close();
    }

    // Only on admin.listen: the admin socket (statedir/admin.sock) has no such page.
    const onSocket = await new Promise<number | undefined>((resolve, reject) => {
      httpRequest({ socketPath: join(root.config.dirs.statedir, 'admin.sock'), path: '/tree' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end();
    });
    expect(onSocket).toBe(404);

    // LEAF2's key trusted at INT1 and ROOT: the next request brings its scans too, and it is ok again.
    for (const s of [int1, root]) {
      const r = await runCli(['trust', 'add', '-c', s.configPath, '--name', 'LEAF2', leaf2.config.keys.public]);
      expect(r.code, r.stderr).toBe(0);
    }
    const more2 = await writeScans(leaf2.config.dirs.entmergedir as string, 10, { seed: 15, startIndex: 4000 });
    const again = JSON.parse((await runCli(['rollup', '--tree', '--json', '-c', root.configPath])).stdout) as { requested: string };
    expect(again.requested > request.requested).toBe(true);
    const want2 = [...want, ...more2.sha256].sort();
    await waitUntil(
      "ROOT's dbdir to hold LEAF2's new scans",
      async () => (await strsAt(rootDb, join(tmp.path, 'unz'))).length >= want2.length,
      60_000,
    );
    // Each once. (LEAF2's first zip, refused, may come along if the Sender kept it for a later roll-up.)
    const arrived = await strsAt(rootDb, join(tmp.path, 'unz'));
    const extra = arrived.filter((h) => !want2.includes(h));
    expect(extra.every((h) => scans2.sha256.includes(h))).toBe(true);
    expect(arrived.filter((h) => want2.includes(h))).toEqual(want2);
    expect(new Set(arrived).size).toBe(arrived.length);
    await waitUntil('LEAF2 to be ok again', async () => find(await tree(root), 'LEAF2').state === 'ok');

    for (const name of ['ROOT', 'INT1', 'LEAF1', 'LEAF2']) expect(await terminate(svc(name)), name).toEqual({ code: 0, signal: null });
  });
});
