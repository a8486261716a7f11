/** scripts/slapd.mjs from the shell: start detached, describe itself in slapd.json, stop by pid. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ldapUtil, ldifValues, slapdAlive } from '../src/slapd/index.js';
import { tempDir } from './helpers.js';

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
      // Bound as LEAF1 with its password file, INT1's object is there, its log still empty.
      const bind = ['-x', '-H', info.url, '-D', info.servers.LEAF1.dn, '-y', info.servers.LEAF1.file];
      const found = await ldapUtil('ldapsearch', [...bind, '-b', info.servers.INT1.dn, '-s', 'base', 'zeninvRollUpLog', '-LLL']);
      expect(ldifValues(found, 'dn')).toEqual([info.servers.INT1.dn]);
      expect(ldifValues(found, 'zeninvRollUpLog')).toEqual([]);
      await expect(run(process.execPath, [SCRIPT, 'start', '--dir', dir])).rejects.toMatchObject({ code: 1 });
      await run(process.execPath, [SCRIPT, 'stop', '--dir', dir]);
      expect(slapdAlive(pid)).toBe(false);
      await expect(run(process.execPath, [SCRIPT, 'status', '--dir', dir])).rejects.toMatchObject({ code: 1 });
      // Started again: same port, same passwords, same data.
      await run(process.execPath, [SCRIPT, 'start', '--dir', dir]);
      const again = JSON.parse(await readFile(join(dir, 'slapd.json'), 'utf8'));
      pid = again.pid;
      expect(again.url).toBe(info.url);
      // Bound as INT1 with the password file of the first start, LEAF1's object is there again.
      const bindInt = ['-x', '-H', again.url, '-D', info.servers.INT1.dn, '-y', info.servers.INT1.file];
      const kept = await ldapUtil('ldapsearch', [...bindInt, '-b', info.servers.LEAF1.dn, '-s', 'base', 'zeninvRollUpLog', '-LLL']);
      expect(ldifValues(kept, 'dn')).toEqual([info.servers.LEAF1.dn]);
      expect(ldifValues(kept, 'zeninvRollUpLog')).toEqual([]);
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
