/**
 * Issue 16 / SPEC §5: one code, one exit status, whichever command meets it
 * and whether the running service relays it or not. The real executable and
 * real `zenroll serve` processes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ZenrollError } from '@zenroll/core';
import { askService, startAdmin } from '../src/service/admin.js';
import { runCli } from './helpers/cli.js';
import type { ServerFolder } from './helpers/server-dir.js';
import { serversPerTest, initHere, section, waitUntil } from './helpers/service.js';
import { initArgs } from '@zenroll/testkit';

const { services, fresh } = serversPerTest('zenroll-exit-');

const root = (listen = '127.0.0.1:0') => initHere(fresh('ROOT'), initArgs({ role: 'root', server: 'ROOT', listen: listen, noTls: true }));
const leaf = () => initHere(fresh('LEAF'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: 'http://127.0.0.1:1', dir: null } }));

describe('one code, one exit (SPEC §5)', () => {
  it('a bad cron expression is CONFIG_INVALID, exit 2, for serve, doctor and rollup --now alike', async () => {
    const l = await leaf();
    const json = JSON.parse(await readFile(l.configPath, 'utf8')) as Record<string, unknown>;
    section(json, 'sender').schedule = '61 2 * * *';
    await writeFile(l.configPath, JSON.stringify(json));
    for (const args of [['serve'], ['doctor'], ['rollup', '--now']]) {
      const r = await runCli([...args, '-c', l.configPath]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/CONFIG_INVALID.*sender\.schedule: .*cron expression/s);
    }
  });

  it('a port in use is PORT_IN_USE, exit 1 (systemd restarts it), with the fix', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as { port: number }).port;
      const r0 = await root(`127.0.0.1:${port}`);
      const r = await runCli(['serve', '-c', r0.configPath]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`zenroll: PORT_IN_USE: receiver.listen: 127.0.0.1:${port} is in use by another process\n`);
      expect(r.stderr).toMatch(/^fix: stop the other process .* or set receiver\.listen to a free port$/m);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('rollup --now on a root is USAGE, exit 2, with and without the service running', async () => {
    const r0: ServerFolder = await root();
    const alone = await runCli(['rollup', '--now', '-c', r0.configPath]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^zenroll: USAGE: role root sends nothing to a parent/);
    const svc = services.start(r0.configPath);
    await svc.url();
    await waitUntil('the admin socket', () => svc.lines.some((l) => l.msg === 'admin endpoint ready'));
    const withService = await runCli(['rollup', '--now', '-c', r0.configPath]);
    expect(withService.code).toBe(2);
    expect(withService.stderr).toBe(alone.stderr);
  });
});

describe('the service relays an error with its code, message and fix (SPEC §5)', () => {
  it.each([
    ['SETUP_INVALID', 'folder /x does not exist', 'create it'],
    ['LOCK_HELD', 'another roll-up runs', undefined],
  ] as const)('%s crosses the admin socket unchanged', async (code, message, fix) => {
    const statedir = fresh('state');
    await mkdir(statedir);
    const admin = await startAdmin(statedir, null, {
      status: async () => ({}),
      rollup: async () => {
        throw new ZenrollError(code, message, fix === undefined ? {} : { details: { fix } });
      },
      rollupTree: async () => ({}),
      health: async () => ({ status: 'ok' as const, checks: [] }),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
    });
    try {
      const err = await askService(statedir, 'POST', '/v1/rollup').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ZenrollError);
      expect(err).toMatchObject({ code, message, fix });
    } finally {
      await admin.close();
    }
  });
});
