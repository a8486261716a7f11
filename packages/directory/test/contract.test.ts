import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryLog, Journal, LdapDirectory } from '../src/index.js';
import { logContract, type Harness } from './contract.js';
import { freshServer, ldapOptions, openHandles, rec, startSlapd, tempDir, type Slapd } from './helpers.js';

// The journal alone (no directory configured).
const journals = new Map<Harness, () => Promise<void>>();
logContract(
  'Journal',
  async () => {
    const dir = await tempDir('zenroll-journal-');
    const open = () => Journal.open({ dir: dir.path });
    const h: Harness = {
      log: await open(),
      servers: ['LEAF1', 'LE_AF é'],
      reopen: async () => {
        await h.log.close();
        return open();
      },
    };
    journals.set(h, dir.remove);
    return h;
  },
  async (h) => {
    await h.log.close();
    await journals.get(h)?.();
  },
);

// The journal applied to a real slapd.
describe('over slapd', { timeout: 60_000 }, () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.destroy();
  });

  const cleanups = new Map<Harness, () => Promise<void>>();

  logContract(
    'DirectoryLog over slapd',
    async () => {
      const dir = await tempDir('zenroll-dirlog-');
      const open = async () =>
        new DirectoryLog(await Journal.open({ dir: dir.path, applying: true }), new LdapDirectory(ldapOptions(slapd)));
      const h: Harness = {
        log: await open(),
        servers: [await freshServer(slapd), await freshServer(slapd, 'T')],
        reopen: async () => {
          await h.log.close();
          return open();
        },
      };
      cleanups.set(h, dir.remove);
      return h;
    },
    async (h) => {
      // What the contract read through the journal must also be what LDAP holds on its own.
      expect(await h.log.drain(10_000)).toBe(true);
      const direct = new LdapDirectory(ldapOptions(slapd));
      for (const server of h.servers) expect(await direct.readRecords(server, 1000)).toEqual(await h.log.read(server, 1000));
      await direct.close();
      await h.log.close();
      await cleanups.get(h)?.();
    },
  );

  it('leaves no socket or timer behind once closed', async () => {
    const before = openHandles();
    const dir = await tempDir();
    const log = new DirectoryLog(await Journal.open({ dir: dir.path, applying: true }), new LdapDirectory(ldapOptions(slapd)));
    await log.write({ record: rec(await freshServer(slapd)) });
    expect(await log.drain(5000)).toBe(true);
    await log.close();
    await dir.remove();
    const after = openHandles();
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });
});
