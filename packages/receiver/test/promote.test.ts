/**
 * Promotion by role (SPEC §2) with the renamed outer names of SPEC §3,
 * checked file by file, through a real HTTPS Receiver.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair, type Role } from '@zenroll/core';
import { filesUnder, makePki, makeZip, names, put, removeRoot, setupReceiver, start, tempRoot, type Pki } from './helpers.js';

let root: string;
let pki: Pki;
let leaf: KeyPair;

beforeAll(async () => {
  root = await tempRoot();
  pki = await makePki(root);
  leaf = generateKeyPair();
});
afterAll(async () => {
  await removeRoot(root);
});

// Incoming status → [entpushdir status, dbdir status]; null: no such target for the role.
const TABLE: { role: Role; entpushdir: [number, number] | null; dbdir: [number, number] | null }[] = [
  { role: 'intermediate', entpushdir: [0, 2], dbdir: null },
  { role: 'intermediate-ws', entpushdir: [0, 2], dbdir: null },
  { role: 'intermediate-db', entpushdir: [2, 2], dbdir: [1, 2] },
  { role: 'intermediate-db-ws', entpushdir: [2, 2], dbdir: [1, 2] },
  { role: 'root', entpushdir: null, dbdir: [1, 2] },
  { role: 'root-ws', entpushdir: null, dbdir: [1, 2] },
];

describe.each(TABLE)('role $role', ({ role, entpushdir, dbdir }) => {
  it('promotes status 0 and 2 zips under the Receiver tree with the status rules, then empties zipdir', async () => {
    const dir = join(root, role);
    const setup = await setupReceiver(dir, {
      role,
      tree: 'ACME',
      tls: { cert: pki.server.certPath, key: pki.server.keyPath },
      trust: [leaf.publicKey],
    });
    const { receiver, log } = await start(setup);
    try {
      const z0 = await makeZip({ dir, keys: leaf, server: 'LE_AF', tree: 'OLD', status: 0, scheduledtime: '20261122103000000' });
      const z2 = await makeZip({ dir, keys: leaf, server: 'LE_AF', tree: 'OLD', status: 2, scheduledtime: '20261122103000001' });
      expect(z0.name).toBe('20261122103000000_LE%5FAF_OLD_0.zip');
      const tls = { ca: pki.ca.certPath };
      expect((await put(receiver.url, z0.name, z0.data, { tls })).status).toBe(201);
      expect((await put(receiver.url, z2.name, z2.data, { tls })).status).toBe(201);
      await receiver.idle();

      const { entpushdir: push, dbdir: db, zipdir } = setup.config.dirs;
      const expectedIn = (statuses: [number, number] | null) =>
        statuses === null
          ? []
          : [`20261122103000000_LE%5FAF_ACME_${statuses[0]}.zip`, `20261122103000001_LE%5FAF_ACME_${statuses[1]}.zip`].sort();
      // entpushdir also holds zipdir and the state folder; only its zips count.
      expect((await names(push!)).filter((n) => n.endsWith('.zip'))).toEqual(expectedIn(entpushdir));
      // A role that does not promote to dbdir never touches it.
      if (dbdir === null) expect(existsSync(db!)).toBe(false);
      else expect(await names(db!)).toEqual(expectedIn(dbdir));
      expect(await names(zipdir!)).toEqual([]);
      for (const [folder, statuses] of [
        [push!, entpushdir],
        [db!, dbdir],
      ] as const) {
        if (statuses === null) continue;
        expect(await readFile(join(folder, `20261122103000000_LE%5FAF_ACME_${statuses[0]}.zip`))).toEqual(z0.data);
        expect(await readFile(join(folder, `20261122103000001_LE%5FAF_ACME_${statuses[1]}.zip`))).toEqual(z2.data);
      }
      // Nothing else anywhere: no temps, no leftovers (receipts aside).
      const all = (await filesUnder(dir)).filter((f) => f.startsWith('entpushdir/') || f.startsWith('dbdir/'));
      expect(all.filter((f) => !f.startsWith('entpushdir/.zenroll/receipts/'))).toEqual(
        [...expectedIn(entpushdir).map((n) => `entpushdir/${n}`), ...expectedIn(dbdir).map((n) => `dbdir/${n}`)].sort(),
      );
      const targets = (entpushdir ? 1 : 0) + (dbdir ? 1 : 0);
      expect(log.events().filter((e) => e === 'received')).toHaveLength(2);
      expect(log.events().filter((e) => e === 'promoted')).toHaveLength(2 * targets);
      const promoted = log.writes.map((w) => w.record).filter((r) => r.event === 'promoted');
      expect(
        promoted.every((r) => r.source === 'receiver' && r.server === 'INT1' && r.from === 'INT1' && r.to === '' && r.origin === 'LE_AF'),
      ).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
