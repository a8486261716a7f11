/**
 * Wake-up requests (SPEC §8): set with `zenroll rollup --tree`, kept durably
 * (a restart of the parent keeps it), idempotent, carried by `GET /v1/info`.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { get } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, initArgs } from '@zenroll/testkit';
import { RequestStore, requestPath } from '../src/service/wakeup.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/server-dir.js';
import { Services, initHere, terminate } from './helpers/service.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
const services = new Services();
beforeAll(async () => {
  tmp = await tempDir('zenroll-wakeup-');
});
afterAll(async () => {
  await services.stopAll();
  await tmp?.remove();
});

function info(url: string, ca: Buffer): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get(`${url}/v1/info`, { ca }, (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (text += c))
        .on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    }).on('error', reject);
  });
}

describe('the roll-up request store', () => {
  it('takes a newer request durably, and a request it has (or an older one) changes nothing', async () => {
    let now = Date.parse('2026-12-05T01:00:00.000Z');
    const dir = join(tmp.path, 'store');
    await mkdir(dir);
    const store = await RequestStore.open(dir, () => now);
    expect(store.requested).toBeNull();
    expect(store.forwarding(60)).toBe(false);
    expect(await store.set('2026-12-05T00:59:00.000Z', 'ROOT')).toBe(true);
    expect(await store.set('2026-12-05T00:59:00.000Z', 'ROOT')).toBe(false);
    expect(await store.set('2026-12-05T00:58:00.000Z', 'ROOT')).toBe(false);
    expect(JSON.parse(await readFile(requestPath(dir), 'utf8'))).toEqual({
      requested: '2026-12-05T00:59:00.000Z',
      taken: '2026-12-05T01:00:00.000Z',
      from: 'ROOT',
    });
    // Forwarding for 10 poll periods after it was taken here, 30 s at least.
    expect(store.forwarding(1)).toBe(true);
    now += 29_999;
    expect(store.forwarding(1)).toBe(true);
    now += 1;
    expect(store.forwarding(1)).toBe(false);
    expect(store.forwarding(60)).toBe(true);
    expect((await RequestStore.open(dir)).requested).toBe('2026-12-05T00:59:00.000Z');
  });
});

describe('zenroll rollup --tree', () => {
  it('sets a request that GET /v1/info carries, before the service starts and after it restarts; a leaf has none to set', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const root = await initHere(join(tmp.path, 'ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: `127.0.0.1:${port}` }));
    const ca = await readFile(join(root.dir, 'tls', 'server.crt'));
    const url = `https://127.0.0.1:${port}`;

    const offline = await runCli(['rollup', '--tree', '--json', '-c', root.configPath]);
    expect(offline.code, offline.stderr).toBe(0);
    const first = JSON.parse(offline.stdout) as { requested: string; service: boolean };
    expect(first).toMatchObject({ ok: true, server: 'ROOT', service: false });
    // Kept in the journal's status log too (no service holds it).
    const status = await runCli(['log', '--status', '--json', '-c', root.configPath]);
    expect(status.stdout).toContain(`"event":"rollup-requested"`);
    expect(status.stdout).toContain(`"requested":"${first.requested}"`);

    let svc = services.start(root.configPath);
    await svc.waitFor((l) => l.msg === 'admin endpoint ready');
    expect(await info(url, ca)).toMatchObject({ server: 'ROOT', rollupRequested: first.requested });
    const text = await runCli(['rollup', '--tree', '-c', root.configPath]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^roll-up requested at \S+ for every server below ROOT\nits children see it at their next poll/);
    const second = (await info(url, ca)).rollupRequested as string;
    expect(second > first.requested).toBe(true);

    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
    svc = services.start(root.configPath);
    await svc.waitFor((l) => l.msg === 'admin endpoint ready');
    expect((await info(url, ca)).rollupRequested).toBe(second);
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });

    const leaf = await initHere(join(tmp.path, 'LEAF1'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: url, dir: null } }));
    const refused = await runCli(['rollup', '--tree', '-c', leaf.configPath]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'zenroll: USAGE: zenroll rollup --tree asks the servers below a Receiver; role "leaf" of LEAF1 has none',
    );
  });
});
