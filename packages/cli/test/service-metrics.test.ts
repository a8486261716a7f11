/**
 * `/metrics` of a running `zenroll serve` (service/metrics.ts), as Prometheus
 * scrapes it on `admin.listen`: an upload the Receiver refuses is counted as
 * `rejected` (and as nothing else), and the last successful roll-up is the
 * one recorded in `statedir/last-rollup.json`, so a restart does not reset it
 * to 0.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, publicKeyPem } from '@zenroll/core';
import { readLastRollup } from '../src/service/runner.js';
import { makeZip, put } from './serve-helpers.js';
import { runCli } from './helpers/cli.js';
import { scrape } from './helpers/metrics.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir } from './helpers/server-dir.js';
import { Services, initHere, section, terminate, waitUntil } from './helpers/service.js';
import { TestReceiver, initArgs } from '@zenroll/testkit';
import { writeFile } from 'node:fs/promises';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
const services = new Services();

beforeEach(async () => {
  tmp = await tempDir('zenroll-metrics-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
});

afterEach(async () => {
  await services.stopAll();
  await parent.close();
  await tmp.remove();
});

/** Start the service and wait for its metrics URL. */
async function serve(configPath: string): Promise<{ svc: ReturnType<Services['start']>; metrics: string }> {
  const svc = services.start(configPath);
  const ready = await svc.waitFor((l) => l.msg === 'admin endpoint ready');
  return { svc, metrics: ready.metrics as string };
}

const LAST_SUCCESS = 'zenroll_last_successful_rollup_timestamp_seconds';

describe('/metrics', () => {
  it('counts an upload the Receiver refuses (signed by a key it does not trust) as rejected, once, and as nothing else', async () => {
    const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0', noTls: true }));
    await root.edit((json) => {
      section(json, 'receiver').minFreeBytes = 0;
      json.admin = { listen: '127.0.0.1:0' };
    });
    await writeFile(join(root.config.receiver.trustDir, 'LEAF1.pub'), publicKeyPem(generateKeyPair().publicKey));
    const { svc, metrics } = await serve(root.configPath);

    const stranger = await makeZip(tmp.path, generateKeyPair());
    const answer = await put(await svc.url(), stranger);
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 401, error: 'PRP_SIGNER_UNKNOWN' });

    const after = await waitUntil('the refusal to be counted', async () => {
      const m = await scrape(metrics);
      return m.samples.get('zenroll_zips_total{event="rejected"}') === 1 ? m : null;
    });
    // One label, the event (the reason is in the record's message and the log line, not a label).
    expect(after.text).toMatch(/^zenroll_zips_total\{event="rejected",server="ROOT"\} 1$/m);
    expect(after.samples.get('zenroll_bytes_total{event="rejected"}')).toBe(stranger.data.length);
    const zipEvents = [...after.samples.keys()].filter((k) => k.startsWith('zenroll_zips_total'));
    expect(zipEvents).toEqual(['zenroll_zips_total{event="rejected"}']);
    expect(after.samples.get('zenroll_backlog_files{folder="zipdir"}')).toBe(0);
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
  });

  it('keeps the last successful roll-up across a restart: the one in statedir/last-rollup.json, not 0', async () => {
    const leaf = await initHere(
      join(tmp.path, 'LEAF1'),
      initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parent.url, dir: null } }),
    );
    await leaf.edit((json) => {
      Object.assign(section(json, 'sender'), { schedule: '0 0 1 1 *', stableMs: 0, retry: { baseMs: 1, factor: 1, tries: 1 } });
      json.admin = { listen: '127.0.0.1:0' };
    });
    const statedir = leaf.config.dirs.statedir;
    await writeScans(leaf.config.dirs.entmergedir as string, 2);

    const first = await serve(leaf.configPath);
    expect((await scrape(first.metrics)).samples.get(LAST_SUCCESS)).toBe(0);
    expect((await runCli(['rollup', '--now', '-c', leaf.configPath])).code).toBe(0);
    const last = await readLastRollup(statedir);
    expect(last).toMatchObject({ ok: true, sent: 1 });
    const finishedS = Date.parse(last!.finishedAt) / 1000;
    expect((await scrape(first.metrics)).samples.get(LAST_SUCCESS)).toBe(finishedS);
    expect(await terminate(first.svc)).toEqual({ code: 0, signal: null });

    const second = await serve(leaf.configPath);
    expect((await scrape(second.metrics)).samples.get(LAST_SUCCESS)).toBe(finishedS);

    // A roll-up that fails after the restart (the parent is gone) is not a success: the time stays.
    await parent.close();
    await writeScans(leaf.config.dirs.entmergedir as string, 1, { startIndex: 2 });
    expect((await runCli(['rollup', '--now', '-c', leaf.configPath])).code).toBe(1);
    expect(await readLastRollup(statedir)).toMatchObject({ ok: false });
    expect((await scrape(second.metrics)).samples.get(LAST_SUCCESS)).toBe(finishedS);
    expect(await terminate(second.svc)).toEqual({ code: 0, signal: null });
  });
});
