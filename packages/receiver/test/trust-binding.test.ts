/**
 * SPEC §4: the signature proves the origin server. A trusted key signs only
 * for the server it is bound to (its trust file's name, its own server, the
 * directory object it is published on); a real Receiver refuses the rest 403.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdOf, type KeyPair } from '@zenroll/core';
import type { ExtraKeySource, ReceiverDeps } from '../src/index.js';
import { filesUnder, makeZip, names, put, type ReceiverSetup, type SetupOptions, receiverSuite } from './helpers.js';

const suite = receiverSuite('zenroll-bind-');
let leaf1: KeyPair;
let leaf2: KeyPair;

beforeAll(() => {
  leaf1 = generateKeyPair();
  leaf2 = generateKeyPair();
});

const receiver = (o: SetupOptions, deps: Partial<ReceiverDeps> = {}) => suite.receiver({ tls: false, ...o }, deps);

/** Every zip anywhere under the Receiver's folders: a refused upload leaves none. */
async function zipsStored(setup: ReceiverSetup): Promise<string[]> {
  const out: string[] = [];
  for (const d of [setup.config.dirs.entpushdir, setup.config.dirs.dbdir])
    if (d) out.push(...(await filesUnder(d)).filter((f) => f.endsWith('.zip')));
  return out;
}

const bothLeaves = () => [
  { server: 'LEAF1', key: leaf1.publicKey },
  { server: 'LEAF2', key: leaf2.publicKey },
];

describe('a key signs only for the server it is bound to', () => {
  it("refuses LEAF2's key on a batch naming server=LEAF1 (403 PRP_SIGNER_MISMATCH), storing nothing", async () => {
    const { setup, dir, receiver: r, log } = await receiver({ trust: bothLeaves() });
    expect(await names(setup.config.receiver.trustDir)).toEqual(['LEAF1.pub', 'LEAF2.pub']);
    const forged = await makeZip({ dir, keys: leaf2, server: 'LEAF1' });
    const answer = await put(r.url, forged.name, forged.data);
    expect(answer.status).toBe(403);
    expect(answer.body.error).toBe('PRP_SIGNER_MISMATCH');
    expect(answer.body.message).toContain('origin server "LEAF1"');
    expect(answer.body.message).toContain(`key ${keyIdOf(leaf2.publicKey)}, which is trusted only for "LEAF2"`);
    expect(await names(setup.config.dirs.zipdir!)).toEqual([]);
    expect(await zipsStored(setup)).toEqual([]);
    expect(log.events()).toEqual(['rejected']);
    expect(log.writes[0]?.record).toMatchObject({ server: 'INT1', from: '', to: 'INT1', origin: 'LEAF1' });

    // Each key still signs for its own server.
    for (const [keys, server] of [
      [leaf1, 'LEAF1'],
      [leaf2, 'LEAF2'],
    ] as const) {
      const z = await makeZip({ dir, keys, server });
      expect((await put(r.url, z.name, z.data)).status).toBe(201);
    }
  });

  it("binds the Receiver's own key to its own server", async () => {
    const { setup, dir, receiver: r } = await receiver({ server: 'INT1', trust: [] });
    const asLeaf = await makeZip({ dir, keys: setup.keys, server: 'LEAF1' });
    const refused = await put(r.url, asLeaf.name, asLeaf.data);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('PRP_SIGNER_MISMATCH');
    const own = await makeZip({ dir, keys: setup.keys, server: 'INT1' });
    expect((await put(r.url, own.name, own.data)).status).toBe(201);
  });

  it('reads the binding from the encoded file name: a Unicode name with an underscore', async () => {
    const { setup, dir, receiver: r } = await receiver({ trust: [{ server: 'LE_AF Zürich', key: leaf1.publicKey }] });
    expect(await names(setup.config.receiver.trustDir)).toEqual(['LE%5FAF%20Z%C3%BCrich.pub']);
    const ok = await makeZip({ dir, keys: leaf1, server: 'LE_AF Zürich' });
    expect((await put(r.url, ok.name, ok.data)).status).toBe(201);
    const other = await makeZip({ dir, keys: leaf1, server: 'LE_AF' });
    expect((await put(r.url, other.name, other.data)).status).toBe(403);
  });

  it('keeps an unbound key (named by its key id) trusted for any origin, and warns once at start', async () => {
    const { setup, dir, receiver: r, logger } = await receiver({ trust: [leaf1.publicKey] });
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(
      /^1 key\(s\) in .* are bound to no server and sign for any origin; re-add each with zenroll trust add --name SERVER$/,
    );
    expect(warnings[0]?.fields).toEqual({
      keys: [{ keyId: keyIdOf(leaf1.publicKey), file: join(setup.config.receiver.trustDir, `${keyIdOf(leaf1.publicKey)}.pub`) }],
    });
    for (const server of ['LEAF1', 'LEAF2']) {
      const z = await makeZip({ dir, keys: leaf1, server });
      expect((await put(r.url, z.name, z.data)).status).toBe(201);
    }
  });

  it('no warning when every key is bound', async () => {
    const { logger } = await receiver({ trust: bothLeaves() });
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });
});

describe('keys from the extra source (the directory) are bound to the object they are published on', () => {
  const published = (keys: KeyPair, server: string): ExtraKeySource => ({
    lookup: async (id) =>
      id === keyIdOf(keys.publicKey)
        ? { key: keys.publicKey, grants: [{ server, source: `the directory object of ${server}` }] }
        : undefined,
  });

  it('refuses a key published for LEAF2 on a batch naming LEAF1, takes it for LEAF2', async () => {
    const { setup, dir, receiver: r } = await receiver({ trust: [] }, { extraKeys: published(leaf2, 'LEAF2') });
    const forged = await makeZip({ dir, keys: leaf2, server: 'LEAF1' });
    const answer = await put(r.url, forged.name, forged.data);
    expect(answer.status).toBe(403);
    expect(answer.body.error).toBe('PRP_SIGNER_MISMATCH');
    expect(answer.body.message).toContain('"LEAF2" ("the directory object of LEAF2")');
    expect(await zipsStored(setup)).toEqual([]);
    const z = await makeZip({ dir, keys: leaf2, server: 'LEAF2' });
    expect((await put(r.url, z.name, z.data)).status).toBe(201);
  });

  it('asks the directory about a key the trust folder binds to another server: grants add up', async () => {
    const { dir, receiver: r } = await receiver(
      { trust: [{ server: 'LEAF2', key: leaf2.publicKey }] },
      { extraKeys: published(leaf2, 'LEAF3') },
    );
    const asLeaf3 = await makeZip({ dir, keys: leaf2, server: 'LEAF3' });
    expect((await put(r.url, asLeaf3.name, asLeaf3.data)).status).toBe(201);
    const asLeaf1 = await makeZip({ dir, keys: leaf2, server: 'LEAF1' });
    const refused = await put(r.url, asLeaf1.name, asLeaf1.data);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('"LEAF2"');
    expect(refused.body.message).toContain('"LEAF3"');
  });
});
