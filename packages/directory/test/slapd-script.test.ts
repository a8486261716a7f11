/** scripts/slapd.mjs from the shell: start detached, describe itself in slapd.json, stop by pid. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { slapdAlive } from '../src/slapd/index.js';
import { tempDir } from './helpers.js';
import { ldapsearchLog } from './ldapsearch.js';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '..', '..', '..', 'scripts', 'slapd.mjs');

describe('node scripts/slapd.mjs', { timeout: 60_000 }, () => {
  it('starts a detached slapd with the demo tree, reports it, restarts it on the same data, and stops it by pid', async () => {
    const scratch = await tempDir('zenroll-slapd-cli-');
    const dir = join(scratch.path, 'ldap');
    let pid = 0;
    try {
      const started = await run(process.execPath, [SCRIPT, 'start', '--dir', dir, '--servers', 'LEAF1,INT1']);
      expect(started.stdout).toMatch(/^slapd ldap:\/\/127\.0\.0\.1:\d+ pid \d+ suffix o=ACME/);
      const info = JSON.parse(await readFile(join(dir, 'slapd.json'), 'utf8'));
      pid = info.pid;
      expect(slapdAlive(pid)).toBe(true);
      expect(info).toMatchObject({
        suffix: 'o=ACME',
        rootDN: 'cn=admin,o=ACME',
        servers: { LEAF1: { dn: 'cn=LEAF1_ZenInvService,o=ACME' } },
      });
      expect(await readFile(info.servers.INT1.file, 'utf8')).toBe(info.servers.INT1.password);
      const slapd = {
        url: info.url,
        suffix: info.suffix,
        serverDN: (s: string) => info.servers[s].dn,
        serverPasswordFile: (s: string) => info.servers[s].file,
      };
      expect(await ldapsearchLog(slapd as never, 'INT1')).toEqual([]);
      await expect(run(process.execPath, [SCRIPT, 'start', '--dir', dir])).rejects.toMatchObject({ code: 1 });
      await run(process.execPath, [SCRIPT, 'stop', '--dir', dir]);
      expect(slapdAlive(pid)).toBe(false);
      await expect(run(process.execPath, [SCRIPT, 'status', '--dir', dir])).rejects.toMatchObject({ code: 1 });
      // Started again: same port, same passwords, same data.
      await run(process.execPath, [SCRIPT, 'start', '--dir', dir]);
      const again = JSON.parse(await readFile(join(dir, 'slapd.json'), 'utf8'));
      pid = again.pid;
      expect(again.url).toBe(info.url);
      expect(await ldapsearchLog(slapd as never, 'LEAF1', 'INT1')).toEqual([]);
    } finally {
      await run(process.execPath, [SCRIPT, 'stop', '--dir', dir]).catch(() => undefined);
      expect(slapdAlive(pid)).toBe(false);
      await scratch.remove();
    }
  });

  it('says how to use it', async () => {
    await expect(run(process.execPath, [SCRIPT, 'start'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
  });
});
