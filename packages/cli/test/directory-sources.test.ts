/**
 * What the directory gives besides the log (SPEC §4, §6, §7), against a real
 * private slapd: the parent's discard time for the Sender, the Receiver's own
 * for /v1/info, the public keys published on Inventory Service objects, and
 * `zenroll init --ldap-url` publishing a new server's key.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryLog,
  formatReprDigest,
  generateKeyPair,
  keyIdOf,
  loadConfig,
  loadPublicKey,
  packBatch,
  parseConfig,
  publicKeyPem,
  saveKeyPair,
  zipPath,
  type Config,
  type KeyPair,
  type ReceiverInfo,
} from '@zenroll/core';
import { startReceiver } from '@zenroll/receiver';
import { ldapUtil, startSlapd, type Slapd } from '@zenroll/testkit';
import { DISCARD_TTL_MS, directorySources } from '../src/directory-sources.js';
import { captureIo, run } from '../src/index.js';

let slapd: Slapd;
let dir: string;
const warnings: string[] = [];
const logger = { warn: (_o: object, msg: string) => void warnings.push(msg) };

beforeAll(async () => {
  slapd = await startSlapd({ servers: ['LEAF1', 'LEAF2', 'INT1', 'ROOT'] });
  dir = await mkdtemp(join(tmpdir(), 'zenroll-dirsrc-'));
});
afterAll(async () => {
  await slapd?.destroy();
  await rm(dir, { recursive: true, force: true });
});

function configOf(server: string, withDirectory = true): Config {
  const parsed = parseConfig(
    {
      server,
      tree: 'ACME',
      role: 'intermediate',
      dirs: { entpushdir: 'push' },
      sender: { parent: 'https://parent.invalid:7099' },
      receiver: { tls: false, discardBefore: '2026-01-01T00:00:00Z' },
      ...(withDirectory
        ? { directory: { url: slapd.url, bindDN: slapd.serverDN(server), passwordFile: slapd.serverPasswordFile(server) } }
        : {}),
    },
    join(dir, server),
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.config;
}

async function publishKey(server: string, pair: KeyPair): Promise<void> {
  const pem = Buffer.from(publicKeyPem(pair.publicKey)).toString('base64');
  await ldapUtil(
    'ldapmodify',
    slapd.rootArgs(),
    `dn: ${slapd.serverDN(server)}\nchangetype: modify\nreplace: zenrollPublicKey\nzenrollPublicKey:: ${pem}\n`,
  );
}

/** A real zip of origin `server`, signed with `keys`. */
async function zipOf(server: string, keys: KeyPair, scheduledtime: string): Promise<{ name: string; data: Buffer }> {
  const work = await mkdtemp(join(dir, 'zip-'));
  await writeFile(join(work, 'pc.str'), `scan of ${server}\n`);
  const packed = await packBatch({ files: [join(work, 'pc.str')], outDir: work, server, tree: 'ACME', status: 0, scheduledtime, keys });
  return { name: packed.name, data: await readFile(packed.path) };
}

async function putZip(
  url: string,
  z: { name: string; data: Buffer },
): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const res = await fetch(`${url}${zipPath(z.name)}`, {
    method: 'PUT',
    body: z.data,
    headers: { 'repr-digest': formatReprDigest(createHash('sha256').update(z.data).digest()) },
  });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
}

async function setDiscardTime(server: string, generalizedTime: string): Promise<void> {
  await ldapUtil(
    'ldapmodify',
    slapd.rootArgs(),
    `dn: ${slapd.serverDN(server)}\nchangetype: modify\nreplace: zeninvDiscardScanDataTime\nzeninvDiscardScanDataTime: ${generalizedTime}\n`,
  );
}

const parentInfo = (server: string, discardBefore: string | null) => async (): Promise<ReceiverInfo> => ({
  server,
  tree: 'ACME',
  role: 'intermediate-db',
  discardBefore,
  maxZipBytes: 1,
});

describe('directory sources', () => {
  it("gives the Sender its parent's discard time from the parent's object, not /v1/info", async () => {
    await setDiscardTime('INT1', '20261120083000Z');
    const s = directorySources(configOf('LEAF1'), logger);
    try {
      const at = await s.discardSource({ parentInfo: parentInfo('INT1', '2020-01-01T00:00:00.000Z') });
      expect(at?.toISOString()).toBe('2026-11-20T08:30:00.000Z');
    } finally {
      await s.close();
    }
  });

  it("falls back to the parent's /v1/info when the directory cannot be read", async () => {
    const config = configOf('LEAF1');
    const broken = { ...config, directory: { ...config.directory!, url: 'ldap://127.0.0.1:1', timeoutMs: 2000 } } as Config;
    const s = directorySources(broken, logger);
    try {
      const at = await s.discardSource({ parentInfo: parentInfo('INT1', '2025-05-05T00:00:00.000Z') });
      expect(at?.toISOString()).toBe('2025-05-05T00:00:00.000Z');
      expect(warnings.some((w) => w.includes('/v1/info'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('remembers its own discard time for DISCARD_TTL_MS: a change in the directory is announced once that has passed', async () => {
    await setDiscardTime('ROOT', '20261122000000Z');
    let clock = 1_000_000;
    const s = directorySources(configOf('ROOT'), logger, () => clock);
    try {
      expect(await s.discardBefore()).toBe('2026-11-22T00:00:00.000Z');
      await setDiscardTime('ROOT', '20261123000000Z');
      clock += DISCARD_TTL_MS - 1;
      expect(await s.discardBefore()).toBe('2026-11-22T00:00:00.000Z');
      clock += 1;
      expect(await s.discardBefore()).toBe('2026-11-23T00:00:00.000Z');
    } finally {
      await s.close();
    }
  });

  it("announces the Receiver's own discard time from its object (the directory's value wins over the config's)", async () => {
    await setDiscardTime('ROOT', '20261121000000Z');
    const withDir = directorySources(configOf('ROOT'), logger);
    const without = directorySources(configOf('ROOT', false), logger);
    try {
      expect(await withDir.discardBefore()).toBe('2026-11-21T00:00:00.000Z');
      expect(await without.discardBefore()).toBe('2026-01-01T00:00:00Z');
    } finally {
      await withDir.close();
      await without.close();
    }
  });

  it('finds a key published on an Inventory Service object by its key id, and nothing for an unknown one', async () => {
    const pair = generateKeyPair();
    await ldapUtil(
      'ldapmodify',
      slapd.rootArgs(),
      `dn: ${slapd.serverDN('LEAF1')}\nchangetype: modify\nreplace: zenrollPublicKey\nzenrollPublicKey:: ${Buffer.from(publicKeyPem(pair.publicKey)).toString('base64')}\n`,
    );
    const s = directorySources(configOf('ROOT'), logger);
    try {
      const found = await s.extraKeys?.lookup(keyIdOf(pair.publicKey));
      expect(found && keyIdOf(found.key)).toBe(keyIdOf(pair.publicKey));
      // Bound to the server whose object it is published on.
      expect(found?.grants.map((g) => g.server)).toEqual(['LEAF1']);
      expect(await s.extraKeys?.lookup(keyIdOf(generateKeyPair().publicKey))).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('binds a published key to the server whose object it is on: a real Receiver refuses LEAF2’s key on a batch naming LEAF1 (403)', async () => {
    const [leaf1, leaf2] = [generateKeyPair(), generateKeyPair()];
    await publishKey('LEAF1', leaf1);
    await publishKey('LEAF2', leaf2);
    const root = join(dir, 'int1-receiver');
    const parsed = parseConfig(
      {
        server: 'INT1',
        tree: 'ACME',
        role: 'intermediate',
        dirs: { entpushdir: 'push' },
        sender: { parent: 'https://parent.invalid:7099' },
        receiver: { tls: false, listen: '127.0.0.1:0', minFreeBytes: 0 },
        directory: { url: slapd.url, bindDN: slapd.serverDN('INT1'), passwordFile: slapd.serverPasswordFile('INT1') },
      },
      root,
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const config = parsed.config;
    await mkdir(join(root, 'keys'), { recursive: true });
    await saveKeyPair(generateKeyPair(), config.keys.private, config.keys.public);
    const sources = directorySources(config, logger);
    const log = new MemoryLog();
    const receiver = await startReceiver(config, { log, ...(sources.extraKeys ? { extraKeys: sources.extraKeys } : {}) });
    try {
      const forged = await zipOf('LEAF1', leaf2, '20261122103000000');
      const answer = await putZip(receiver.url, forged);
      expect(answer.status).toBe(403);
      expect(answer.body.error).toBe('PRP_SIGNER_MISMATCH');
      expect(answer.body.message).toContain('origin server "LEAF1"');
      expect(answer.body.message).toContain('trusted only for "LEAF2" ("the directory object of LEAF2")');
      expect(await readdir(config.dirs.zipdir!)).toEqual([]);
      expect((await readdir(config.dirs.entpushdir!)).filter((f) => f.endsWith('.zip'))).toEqual([]);
      expect(log.events()).toEqual(['rejected']);

      // Each published key still signs for its own server.
      for (const [server, keys, at] of [
        ['LEAF1', leaf1, '20261122103000001'],
        ['LEAF2', leaf2, '20261122103000002'],
      ] as const) {
        expect((await putZip(receiver.url, await zipOf(server, keys, at))).status).toBe(201);
      }
    } finally {
      await receiver.close();
      await sources.close();
    }
  });

  it('zenroll init --ldap-url publishes the new public key on the server object', async () => {
    const io = captureIo(dir);
    const code = await run(
      [
        'init',
        '--role',
        'leaf',
        '--server',
        'LEAF1',
        '--tree',
        'ACME',
        '--dir',
        'leaf1',
        '--parent',
        'https://int1:7099',
        '--ldap-url',
        slapd.url,
        '--bind-dn',
        slapd.serverDN('LEAF1'),
        '--password-file',
        slapd.serverPasswordFile('LEAF1'),
      ],
      io,
    );
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const config = await loadConfig(join(dir, 'leaf1', 'zenroll.json'));
    expect(config.directory?.bindDN).toBe(slapd.serverDN('LEAF1'));
    // On one line (SPEC §7): a plain LDIF value, no base64, that a browser's text box cannot change.
    const out = await ldapUtil('ldapsearch', [
      ...slapd.rootArgs(),
      '-b',
      slapd.serverDN('LEAF1'),
      '-s',
      'base',
      '-LLL',
      '-o',
      'ldif-wrap=no',
      'zenrollPublicKey',
    ]);
    const pem = publicKeyPem(await loadPublicKey(config.keys.public));
    expect(out).toContain(`\nzenrollPublicKey: ${pem.trim().split('\n').join(' ')}\n`);
  });
});
