/**
 * The whole tree of issue 6, end to end: four real `zenroll serve` processes
 * — LEAF1 and LEAF2 (leaves), INT1 (intermediate-db), ROOT (root) — over
 * HTTPS with the certificates `zenroll init` made, logging to a private
 * slapd. LEAF1 and INT1 roll up on a schedule every two seconds; LEAF2 only
 * when forced with `zenroll rollup --now`, which asks LEAF2's service through
 * its admin socket. Every `.str` arrives in ROOT's dbdir exactly once, and
 * each leaf's object in the directory shows each of its zips' way up.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOuterName, readOuterPrp, type RollupRecord } from '@zenroll/core';
import { openDirectory, type LdapDirectory } from '@zenroll/directory';
import { initArgs, startSlapd, strsInZips, type Slapd } from '@zenroll/testkit';
import { captureIo, run } from '../src/index.js';
import type { Serve } from './serve-helpers.js';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir } from './helpers/server-dir.js';
import { Services, initHere, initRootAndInt, linesOf, section, terminate, waitUntil } from './helpers/service.js';

const EVERY_2_S = '*/2 * * * * *';
const RARELY = '0 0 1 1 *';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let slapd: Slapd;
let reader: LdapDirectory | null = null;
const services = new Services();

beforeAll(async () => {
  tmp = await tempDir('zenroll-tree-');
  slapd = await startSlapd({ tree: 'ACME', servers: ['LEAF1', 'LEAF2', 'INT1', 'ROOT'] });
});

afterAll(async () => {
  await services.stopAll();
  await reader?.close();
  await slapd?.destroy();
  await tmp?.remove();
});

/** How many `.str` the outer zips in `dir` hold, by their manifests. */
async function strCount(dir: string): Promise<number> {
  let n = 0;
  for (const zip of (await readdir(dir)).filter((f) => f.endsWith('.zip'))) n += (await readOuterPrp(join(dir, zip))).files.length;
  return n;
}

const zipsIn = async (dir: string | null) => (await readdir(dir as string)).filter((n) => n.endsWith('.zip')).sort();
const finished = (s: Serve) => linesOf(s, 'roll-up finished');

describe('a four-server tree with scheduled and forced roll-ups', () => {
  it('brings every .str to ROOT’s dbdir exactly once and logs each zip’s way up in the directory', { timeout: 90_000 }, async () => {
    const at = (name: string) => join(tmp.path, name);
    const { root, int1, rootPort, intPort } = await initRootAndInt(tmp.path, slapd);
    const leafArgs = (name: string) =>
      initArgs({ role: 'leaf', server: name, parent: { url: `https://127.0.0.1:${intPort}`, dir: at('INT1') }, ldap: slapd });
    const leaf1 = await initHere(at('LEAF1'), leafArgs('LEAF1'));
    const leaf2 = await initHere(at('LEAF2'), leafArgs('LEAF2'));
    const sender = (schedule: string) => (json: Record<string, unknown>) => {
      Object.assign(section(json, 'sender'), { schedule, retry: { baseMs: 200, factor: 2, tries: 6 } });
    };
    await leaf1.edit(sender(EVERY_2_S));
    await int1.edit(sender(EVERY_2_S));
    await leaf2.edit(sender(RARELY));
    // INT1 trusts the leaves through its trust store; ROOT through the keys
    // `zenroll init` published in the directory (SPEC §4), with none of its own.
    for (const leaf of [leaf1, leaf2]) {
      const io = captureIo();
      expect(await run(['trust', 'add', '-c', int1.configPath, '--name', leaf.config.server, leaf.config.keys.public], io)).toBe(0);
    }
    expect(await readdir(root.config.receiver.trustDir)).toEqual([]);

    const scans1 = await writeScans(leaf1.config.dirs.entmergedir as string, 120, { seed: 1 });
    const scans2 = await writeScans(leaf2.config.dirs.entmergedir as string, 70, { seed: 2, startIndex: 1000 });

    const started = new Map<string, Serve>();
    for (const s of [root, int1, leaf1, leaf2]) {
      const svc = services.start(s.configPath);
      await svc.waitFor((l) => l.msg === 'admin endpoint ready');
      started.set(s.config.server, svc);
    }
    const svc = (name: string) => started.get(name) as Serve;
    expect(await svc('ROOT').url()).toBe(`https://127.0.0.1:${rootPort}`);

    // LEAF2 rolls up only when forced: the CLI asks its service and prints the service's result.
    const forced = await runCli(['rollup', '--now', '-c', leaf2.configPath]);
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: '' });
    expect(forced.stdout.match(/^sent {6}\S+_LEAF2_ACME_0\.zip {2}stored \(201\)/gm)).toHaveLength(2);
    expect(forced.stdout).toMatch(/2 zipped, 0 discarded, 2 sent, 0 rejected, nothing left\n$/);
    expect(linesOf(svc('LEAF2'), 'roll-up started').map((l) => l.reason)).toEqual(['forced']);
    expect(linesOf(svc('LEAF2'), 'roll-up finished', { reason: 'forced' })).toMatchObject([{ zipped: 2, sent: 2, ok: true }]);

    // LEAF1's schedule sends its 120 scans; 40 more that arrive meanwhile go with a later tick.
    await waitUntil('LEAF1 to send its first three zips', () => finished(svc('LEAF1')).reduce((n, l) => n + (l.sent as number), 0) >= 3);
    const scans3 = await writeScans(leaf1.config.dirs.entmergedir as string, 40, { seed: 3, startIndex: 120 });

    const expected = [...scans1.sha256, ...scans2.sha256, ...scans3.sha256];
    const rootDb = root.config.dirs.dbdir as string;
    await waitUntil(`ROOT's dbdir to hold all ${expected.length} scans`, async () => (await strCount(rootDb)) >= expected.length, 60_000);
    await waitUntil(
      'INT1 and ROOT to have promoted everything',
      async () => (await zipsIn(int1.config.dirs.zipdir)).length === 0 && (await zipsIn(root.config.dirs.zipdir)).length === 0,
    );

    // Two more rounds of both schedules change nothing: nothing was left to send twice.
    const after = { leaf1: finished(svc('LEAF1')).length, int1: finished(svc('INT1')).length };
    await waitUntil(
      'two more scheduled roll-ups of LEAF1 and INT1',
      () => finished(svc('LEAF1')).length >= after.leaf1 + 2 && finished(svc('INT1')).length >= after.int1 + 2,
    );
    expect(finished(svc('LEAF1')).every((l) => l.reason === 'scheduled' && l.ok === true)).toBe(true);
    expect(finished(svc('INT1')).every((l) => l.reason === 'scheduled' && l.ok === true)).toBe(true);
    expect(linesOf(svc('LEAF1'), 'roll-up started', { reason: 'forced' })).toEqual([]);

    // ROOT's dbdir: six zips (3 + 1 from LEAF1, 2 from LEAF2), stored below (status 2), each scan once, byte for byte.
    const rootZips = await zipsIn(rootDb);
    expect(
      rootZips
        .map((n) => parseOuterName(n))
        .map((p) => `${p.server}_${p.status}`)
        .sort(),
    ).toEqual(['LEAF1_2', 'LEAF1_2', 'LEAF1_2', 'LEAF1_2', 'LEAF2_2', 'LEAF2_2']);
    const arrived = await strsInZips(rootDb, join(tmp.path, 'unzipped'));
    expect(arrived.flatMap((z) => z.sha256).sort()).toEqual([...expected].sort());
    // INT1's database stored the same zips first (status 1).
    expect((await zipsIn(int1.config.dirs.dbdir)).map((n) => n.replace(/_1\.zip$/, '_2.zip'))).toEqual(rootZips);
    // Nothing waits anywhere.
    for (const s of [leaf1, leaf2]) expect(await readdir(s.config.dirs.entmergedir as string)).toEqual([]);
    for (const s of [leaf1, leaf2, int1, root]) expect(await zipsIn(s.config.dirs.entpushdir)).toEqual([]);

    // The directory: on each leaf's object, one `sent` record per zip for each hop, the `zipped` ones replaced.
    reader = openDirectory(root.config);
    const dir = reader as LdapDirectory;
    const hops = (r: RollupRecord) => `${r.event} ${r.zip} ${r.from}→${r.to} ${r.files}`;
    const want = async (leaf: string) => {
      const lines: string[] = [];
      for (const zip of rootZips.filter((n) => parseOuterName(n).server === leaf)) {
        const files = (await readOuterPrp(join(rootDb, zip))).files.length;
        lines.push(`sent ${zip.replace(/_2\.zip$/, '_0.zip')} ${leaf}→INT1 ${files}`, `sent ${zip} INT1→ROOT ${files}`);
      }
      return lines.sort();
    };
    for (const leaf of ['LEAF1', 'LEAF2']) {
      const expectedHops = await want(leaf);
      // Besides them, the leaf's own `rollup` summaries (SPEC §7).
      const zipRecords = async () => (await dir.readAll(leaf)).filter((r) => r.event !== 'rollup');
      await waitUntil(
        `the directory to show ${leaf}'s zips' way up`,
        async () => JSON.stringify((await zipRecords()).map(hops).sort()) === JSON.stringify(expectedHops),
      );
      const records = await dir.readAll(leaf);
      expect(records.every((r) => r.source === 'sender' && r.server === leaf && r.severity === 'info')).toBe(true);
      expect(records.filter((r) => r.event === 'rollup').length).toBeGreaterThanOrEqual(1);
    }
    // The Receivers logged on their own objects: INT1 received and promoted (twice: entpushdir and dbdir), ROOT received.
    const events = async (server: string) => (await dir.readAll(server)).filter((r) => r.source === 'receiver').map((r) => r.event);
    await waitUntil(
      "INT1's and ROOT's receiver records",
      async () =>
        (await events('INT1')).filter((e) => e === 'received').length === 6 &&
        (await events('ROOT')).filter((e) => e === 'received').length === 6,
    );
    expect((await events('INT1')).filter((e) => e === 'promoted')).toHaveLength(12);
    expect((await events('ROOT')).filter((e) => e === 'rejected')).toEqual([]);

    // Each service reports its journal applied to the directory, and stops cleanly.
    for (const name of ['LEAF1', 'LEAF2', 'INT1', 'ROOT']) {
      const status = async () =>
        JSON.parse((await runCli(['status', '--json', '-c', join(at(name), 'zenroll.json')])).stdout) as {
          service: { running: boolean; pid: number };
          journalBacklog: number;
          lastRollup: { ok: boolean } | null;
        };
      const s = await waitUntil(`${name}'s journal to be applied`, async () => {
        const now = await status();
        return now.journalBacklog === 0 ? now : null;
      });
      expect(s, name).toMatchObject({ service: { running: true, pid: svc(name).child.pid } });
      if (name !== 'ROOT') expect(s.lastRollup, name).toMatchObject({ ok: true });
      expect(await terminate(svc(name)), name).toEqual({ code: 0, signal: null });
    }
  });
});
