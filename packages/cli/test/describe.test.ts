/**
 * A server's self-description (SPEC §8): what it says, the 24-hour counts,
 * and that a directory outage loses nothing of it — the newest description
 * is written once slapd answers again.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, makeRecord } from '@zenroll/core';
import { LdapDirectory, type ServerDescription } from '@zenroll/directory';
import { startSlapd, type Slapd, initArgs } from '@zenroll/testkit';
import { Activity } from '../src/service/activity.js';
import { Describer, descriptionPath, makeDescription } from '../src/service/describe.js';
import { tempDir } from './helpers/server-dir.js';
import { initHere, waitUntil } from './helpers/service.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let slapd: Slapd;
beforeAll(async () => {
  tmp = await tempDir('zenroll-describe-');
  slapd = await startSlapd({ tree: 'ACME', servers: ['LEAF1', 'INT1'] });
});
afterAll(async () => {
  await slapd?.destroy();
  await tmp?.remove();
});

const HOUR = 3_600_000;
const sent = (files: number, bytes: number) => ({ record: makeRecord({ source: 'sender', event: 'sent', server: 'LEAF1', files, bytes }) });
const received = (files: number, bytes: number) => ({
  record: makeRecord({ source: 'receiver', event: 'received', server: 'INT1', files, bytes }),
});

describe('the 24-hour counts', () => {
  it('sum sent and received records by the hour over the last 24 hours, and survive a restart', async () => {
    const dir = join(tmp.path, 'activity');
    await mkdir(dir);
    let now = Date.parse('2026-12-05T10:30:00.000Z');
    const a = await Activity.open(dir, () => now);
    a.count(sent(50, 1000));
    a.count(received(20, 400));
    a.count({ record: makeRecord({ source: 'sender', event: 'zipped', server: 'LEAF1', files: 50, bytes: 1000 }) });
    now += 5 * HOUR;
    a.count(sent(10, 100));
    expect(a.last24h()).toEqual({ sent: { zips: 2, files: 60, bytes: 1100 }, received: { zips: 1, files: 20, bytes: 400 } });
    await a.save();
    // 24 hours after the first hour began, it no longer counts.
    now = Date.parse('2026-12-06T10:00:00.000Z');
    const b = await Activity.open(dir, () => now);
    expect(b.last24h()).toEqual({ sent: { zips: 1, files: 10, bytes: 100 }, received: { zips: 0, files: 0, bytes: 0 } });
  });
});

describe('a description', () => {
  it('says role, parent, schedule, backlog and when the server is late', async () => {
    const leaf = await initHere(
      join(tmp.path, 'LEAF1'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: 'https://127.0.0.1:7099', dir: null } }),
    );
    await leaf.edit((json) =>
      Object.assign(json.sender as object, { schedule: '0 2 * * *', timezone: 'Europe/Berlin', randomizeMinutes: 30 }),
    );
    const config = await loadConfig(leaf.configPath);
    const activity = await Activity.open(config.dirs.statedir);
    const d = makeDescription({
      config,
      now: Date.parse('2026-12-05T10:00:00.000Z'),
      startedMs: Date.parse('2026-12-05T09:00:00.000Z'),
      parent: 'INT1',
      backlog: { entmergedir: 4, entpushdir: 1, zipdir: null, rejected: 0, quarantine: null },
      activity,
      last: {
        reason: 'scheduled',
        startedAt: '2026-12-05T01:00:00.000Z',
        finishedAt: '2026-12-05T01:00:05.000Z',
        ok: false,
        zipped: 1,
        discarded: 0,
        sent: 0,
        rejected: 1,
        left: 0,
      },
    });
    expect(d).toEqual({
      role: 'leaf',
      parent: 'INT1',
      parentUrl: 'https://127.0.0.1:7099',
      version: '0.1.0',
      schedule: '0 2 * * * (Europe/Berlin)',
      lastRollup: '2026-12-05T01:00:05.000Z',
      lastRollupResult: 'failed zipped=1 sent=0 discarded=0 rejected=1 left=0',
      backlog: { strWaiting: 4, zipsWaiting: 1, zipsRejected: 0 },
      sent24h: { zips: 0, files: 0, bytes: 0 },
      received24h: { zips: 0, files: 0, bytes: 0 },
      described: '2026-12-05T10:00:00.000Z',
      // Since the service started after the last roll-up: the second 02:00 Berlin (01:00Z) after 09:00Z, plus the 30 minutes' spread.
      lateAfter: '2026-12-07T01:30:00.000Z',
    });
  });
});

describe('a directory outage', () => {
  it('loses nothing: the newest description waits and is written when slapd answers again', { timeout: 60_000 }, async () => {
    const statedir = join(tmp.path, 'outage');
    await mkdir(statedir);
    const options = {
      url: slapd.url,
      bindDN: slapd.serverDN('INT1'),
      passwordFile: slapd.serverPasswordFile('INT1'),
      serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
      keep: 1000,
      timeoutMs: 1000,
    };
    const directory = new LdapDirectory(options);
    const reader = new LdapDirectory({ ...options, bindDN: slapd.serverDN('LEAF1'), passwordFile: slapd.serverPasswordFile('LEAF1') });
    let n = 0;
    const desc = (): ServerDescription => ({
      role: 'intermediate-db',
      parent: 'ROOT',
      parentUrl: null,
      version: '0.1.0',
      schedule: null,
      lastRollup: null,
      lastRollupResult: null,
      backlog: { strWaiting: null, zipsWaiting: ++n, zipsRejected: 0 },
      sent24h: { zips: 0, files: 0, bytes: 0 },
      received24h: { zips: n, files: 0, bytes: 0 },
      described: new Date(Date.parse('2026-12-05T10:00:00.000Z') + n * 1000).toISOString(),
      lateAfter: null,
    });
    const warnings: string[] = [];
    const describer = new Describer({
      server: 'INT1',
      statedir,
      directory,
      retryMs: 300,
      make: async () => desc(),
      logger: { info: () => {}, warn: (_o, msg) => warnings.push(msg) },
    });
    try {
      await describer.describe();
      const int1 = async () => (await reader.readDescriptions()).find((s) => s.server === 'INT1')?.description;
      expect((await int1())?.backlog.zipsWaiting).toBe(1);

      await slapd.stop();
      await describer.describe();
      await describer.describe();
      // Kept on disk meanwhile, newest first.
      expect(
        (JSON.parse(await readFile(descriptionPath(statedir), 'utf8')) as ServerDescription).backlog.zipsWaiting,
      ).toBeGreaterThanOrEqual(3);
      expect(warnings).toEqual(['could not write this server’s description to the directory; trying again']);
      await slapd.restart();
      const back = await waitUntil('the description to reach slapd again', async () => {
        const d = await int1();
        return d !== undefined && d !== null && d.backlog.zipsWaiting! >= 3 ? d : null;
      });
      // The one written is the newest made, not the one that failed first.
      const onDisk = JSON.parse(await readFile(descriptionPath(statedir), 'utf8')) as ServerDescription;
      expect(back).toEqual(onDisk);
    } finally {
      await describer.close();
      await directory.close();
      await reader.close();
    }
  });
});
