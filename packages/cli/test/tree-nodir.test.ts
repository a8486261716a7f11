/**
 * `zenroll tree` without a directory (SPEC §8): the Receiver knows its
 * children from their polls, each of which carries the child's own
 * description; and `rollup --tree` works the same without LDAP.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOuterPrp } from '@zenroll/core';
import { freePort, initArgs } from '@zenroll/testkit';
import type { TreeReport } from '../src/tree/model.js';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir } from './helpers/server-dir.js';
import { Services, initHere, section, terminate, waitUntil } from './helpers/service.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
const services = new Services();
beforeAll(async () => {
  tmp = await tempDir('zenroll-tree-nodir-');
});
afterAll(async () => {
  await services.stopAll();
  await tmp?.remove();
});

describe('zenroll tree without a directory', () => {
  it('shows the Receiver and the children that polled it, and rollup --tree still brings their scans up', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: `127.0.0.1:${port}` }));
    const leaf = await initHere(
      join(tmp.path, 'LEAF1'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: `https://127.0.0.1:${port}`, dir: root.dir } }),
    );
    await leaf.edit((json) => Object.assign(section(json, 'sender'), { schedule: '0 0 1 1 *', pollSeconds: 0.5, stableMs: 0 }));
    expect((await runCli(['trust', 'add', '-c', root.configPath, '--name', 'LEAF1', leaf.config.keys.public])).code).toBe(0);
    const scans = await writeScans(leaf.config.dirs.entmergedir as string, 12, { seed: 21 });

    // Before any service ran: ROOT alone, nothing written yet.
    const empty = JSON.parse((await runCli(['tree', '--json', '-c', root.configPath])).stdout) as TreeReport;
    expect(empty).toMatchObject({ source: 'receiver', servers: 1, tree: [{ server: 'ROOT', state: 'unknown', children: [] }] });

    for (const s of [root, leaf]) await services.start(s.configPath).waitFor((l) => l.msg === 'admin endpoint ready');
    const seen = await waitUntil('ROOT to know LEAF1 from its polls', async () => {
      const r = JSON.parse((await runCli(['tree', '--json', '-c', root.configPath])).stdout) as TreeReport;
      return r.tree[0]?.children[0]?.server === 'LEAF1' ? r : null;
    });
    expect(seen).toMatchObject({
      source: 'receiver',
      servers: 2,
      states: { ok: 2, late: 0, failing: 0, unknown: 0 },
      tree: [
        {
          server: 'ROOT',
          role: 'root',
          state: 'ok',
          children: [{ server: 'LEAF1', role: 'leaf', parent: 'ROOT', state: 'ok', backlog: { strWaiting: 12, zipsWaiting: 0 } }],
        },
      ],
    });

    const asked = await runCli(['rollup', '--tree', '-c', root.configPath]);
    expect(asked.code, asked.stderr).toBe(0);
    const dbdir = root.config.dirs.dbdir as string;
    await waitUntil("LEAF1's scans in ROOT's dbdir", async () => {
      let n = 0;
      for (const z of (await readdir(dbdir)).filter((f) => f.endsWith('.zip'))) n += (await readOuterPrp(join(dbdir, z))).files.length;
      return n === scans.sha256.length;
    });
    const after = await waitUntil("LEAF1's next description to reach ROOT", async () => {
      const r = JSON.parse((await runCli(['tree', '--json', '-c', root.configPath])).stdout) as TreeReport;
      return r.tree[0]?.children[0]?.lastRollup ? r : null;
    });
    expect(after.tree[0]?.children[0]).toMatchObject({
      backlog: { strWaiting: 0 },
      sent24h: { zips: 1, files: 12 },
      lastRollupResult: expect.stringMatching(/^ok /),
    });
    for (const s of services.all) expect(await terminate(s)).toEqual({ code: 0, signal: null });
  });
});
