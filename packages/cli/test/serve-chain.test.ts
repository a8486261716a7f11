/**
 * The whole way up (SPEC §1, §2): a leaf's Sender pushes to an
 * intermediate-db `zenroll serve`, whose Sender pushes what it promoted to a
 * root `zenroll serve`, over HTTPS. Every `.str` arrives in the root's dbdir
 * exactly once and byte-identical; the intermediate's database got its copy.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryLog,
  TrustStore,
  generateKeyPair,
  loadConfig,
  loadKeyPair,
  makeCertificate,
  verifyOuterZip,
  type Config,
} from '@zenroll/core';
import { runRollup } from '@zenroll/sender';
import { Serve, writeServer, type ServerDir } from './serve-helpers.js';
import { runCli } from './helpers/cli.js';

let root: string;
let caCert: string;
let tls: { cert: string; key: string };
const children: Serve[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'zenroll-chain-'));
  const ca = { certPath: join(root, 'pki/ca.crt'), keyPath: join(root, 'pki/ca.key') };
  await makeCertificate({ ...ca, hosts: [], commonName: 'chain CA', isCa: true });
  tls = { cert: join(root, 'pki/server.crt'), key: join(root, 'pki/server.key') };
  await makeCertificate({ certPath: tls.cert, keyPath: tls.key, hosts: ['127.0.0.1'], commonName: 'receivers', ca });
  caCert = ca.certPath;
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rollup(s: ServerDir): Promise<Awaited<ReturnType<typeof runRollup>>> {
  const config: Config = await loadConfig(s.configPath);
  const keys = await loadKeyPair(config.keys.private, config.keys.public);
  return runRollup(config, { log: new MemoryLog(), keys });
}

const zipsIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.zip')).sort();
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('leaf → intermediate-db → root', () => {
  it('every .str reaches the root database once, byte for byte', async () => {
    // Each Receiver trusts the leaf: the origin, whose signature travels up.
    const leafKeys = generateKeyPair();
    const leafKey = leafKeys.publicKey;

    const rootSrv = await writeServer(join(root, 'root'), {
      role: 'root',
      server: 'ROOT1',
      trust: [{ server: 'LEAF_1', key: leafKey }],
      tls,
    });
    const rootProc = new Serve(rootSrv.configPath);
    children.push(rootProc);
    const rootUrl = await rootProc.url();

    const int = await writeServer(join(root, 'int'), {
      role: 'intermediate-db',
      server: 'INT1',
      trust: [{ server: 'LEAF_1', key: leafKey }],
      tls,
      parent: { url: rootUrl, ca: caCert },
    });
    const intProc = new Serve(int.configPath);
    children.push(intProc);
    const intUrl = await intProc.url();

    const leafDir = join(root, 'leaf');
    const leaf = await writeServer(leafDir, {
      role: 'leaf',
      server: 'LEAF_1',
      trust: [],
      keys: leafKeys,
      parent: { url: intUrl, ca: caCert },
    });
    const scans = new Map<string, string>();
    for (let i = 1; i <= 120; i++) {
      const name = `ws${String(i).padStart(3, '0')}.str`;
      const content = `workstation ${i}\n${'inventory line\n'.repeat(i)}`;
      scans.set(name, sha(content));
      await writeFile(join(leafDir, 'entmergedir', name), content);
    }

    const fromLeaf = await rollup(leaf);
    expect(fromLeaf.sent.map((s) => s.status)).toEqual([201, 201, 201]);
    expect(fromLeaf.left).toEqual([]);
    for (const s of fromLeaf.sent) await intProc.promoted(s.zip, 'dbdir');

    const fromInt = await rollup(int);
    expect(fromInt.sent.map((s) => s.status)).toEqual([201, 201, 201]);
    for (const s of fromInt.sent) await rootProc.promoted(s.zip, 'dbdir');

    // The root's database: three zips from LEAF_1, renamed for this tree, status 2 (stored below).
    const atRoot = await zipsIn(rootSrv.dbdir);
    expect(atRoot).toHaveLength(3);
    expect(atRoot.every((n) => /^\d{17}_LEAF%5F1_ACME_2\.zip$/.test(n))).toBe(true);
    const trust = new TrustStore();
    trust.add(leafKey, 'leaf', 'LEAF_1');
    const arrived = new Map<string, string>();
    for (const name of atRoot) {
      const v = await verifyOuterZip(join(rootSrv.dbdir, name), { trust: trust.lookup });
      for (const f of v.files) {
        expect(arrived.has(f.name), `${f.name} arrived twice`).toBe(false);
        arrived.set(f.name, f.sha256);
      }
    }
    expect(arrived).toEqual(scans);
    // The intermediate's database stored them first (status 1); the same bytes went up.
    const atInt = await zipsIn(int.dbdir);
    expect(atInt.map((n) => n.replace(/_1\.zip$/, '_2.zip'))).toEqual(atRoot);
    for (const name of atInt) {
      expect(await readFile(join(int.dbdir, name))).toEqual(await readFile(join(rootSrv.dbdir, name.replace(/_1\.zip$/, '_2.zip'))));
    }
    // Nothing waits anywhere: entmergedir, entpushdirs and zipdirs are empty of scans and zips.
    expect(await readdir(join(leafDir, 'entmergedir'))).toEqual([]);
    for (const s of [leaf, int, rootSrv]) expect(await zipsIn(s.entpushdir)).toEqual([]);
    for (const s of [int, rootSrv]) expect(await readdir(s.zipdir)).toEqual([]);

    // A second round sends nothing and changes nothing.
    expect((await rollup(leaf)).sent).toEqual([]);
    expect((await rollup(int)).sent).toEqual([]);
    expect(await zipsIn(rootSrv.dbdir)).toEqual(atRoot);

    for (const p of [intProc, rootProc]) p.kill('SIGTERM');
    expect((await intProc.exited).code).toBe(0);
    expect((await rootProc.exited).code).toBe(0);

    // The records name each hop (SPEC §7): ROOT1 received from INT1 what LEAF_1 made.
    const received = async (s: ServerDir) => {
      const shown = await runCli(['log', '--json', '-c', s.configPath]);
      expect(shown.code).toBe(0);
      return shown.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.event === 'received');
    };
    const hops = (rs: Record<string, unknown>[]) => rs.map((r) => `${String(r.from)}>${String(r.to)} origin=${String(r.origin)}`);
    expect(hops(await received(rootSrv))).toEqual(Array(3).fill('INT1>ROOT1 origin=LEAF_1'));
    expect(hops(await received(int))).toEqual(Array(3).fill('LEAF_1>INT1 origin=LEAF_1'));
    // As the values read in LDAP or the journal: time, event and hop first, names encoded.
    const journal = join((await loadConfig(rootSrv.configPath)).dirs.statedir, 'journal');
    const values: string[] = [];
    for (const seg of (await readdir(journal)).filter((n) => n.startsWith('seg-'))) {
      for (const line of (await readFile(join(journal, seg), 'utf8')).trimEnd().split('\n'))
        values.push((JSON.parse(line) as { record: string }).record);
    }
    const receivedValues = values.filter((v) => / received /.test(v));
    expect(receivedValues).toHaveLength(3);
    for (const v of receivedValues)
      expect(v).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z received INT1>ROOT1 \d{17}_LEAF%5F1_ACME_2\.zip .* origin=LEAF%5F1 source=receiver /,
      );
  });

  it('with sender.forwardOnReceive the intermediate forwards each zip as soon as it is promoted, without a roll-up of its own', async () => {
    const leafKeys = generateKeyPair();
    const trust = [{ server: 'LEAF2', key: leafKeys.publicKey }];
    const rootSrv = await writeServer(join(root, 'fwd-root'), { role: 'root', server: 'ROOT1', trust, tls });
    const rootProc = new Serve(rootSrv.configPath);
    children.push(rootProc);
    const int = await writeServer(join(root, 'fwd-int'), {
      role: 'intermediate',
      server: 'INT2',
      trust,
      tls,
      parent: { url: await rootProc.url(), ca: caCert },
      // Never on its schedule during the test: only what it receives starts its roll-ups.
      sender: { forwardOnReceive: true, schedule: '0 0 1 1 *' },
    });
    const intProc = new Serve(int.configPath);
    children.push(intProc);
    const leafDir = join(root, 'fwd-leaf');
    const leaf = await writeServer(leafDir, {
      role: 'leaf',
      server: 'LEAF2',
      trust: [],
      keys: leafKeys,
      parent: { url: await intProc.url(), ca: caCert },
    });
    for (let i = 1; i <= 130; i++)
      await writeFile(join(leafDir, 'entmergedir', `ws${String(i).padStart(3, '0')}.str`), `workstation ${i}\n`);

    const fromLeaf = await rollup(leaf);
    expect(fromLeaf.sent.map((s) => s.status)).toEqual([201, 201, 201]);
    // No rollup of INT2 is asked for: its own roll-ups (reason "received") bring all three to ROOT1.
    for (const s of fromLeaf.sent) await rootProc.promoted(s.zip, 'dbdir');
    expect(await zipsIn(rootSrv.dbdir)).toHaveLength(3);
    // INT2 deletes a zip once ROOT1 answered; wait for its roll-ups to end.
    const count = (msg: string) => intProc.lines.filter((l) => l.msg === msg).length;
    const until = Date.now() + 20_000;
    while ((count('sender sent') < 3 || count('roll-up finished') < count('roll-up started')) && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(await zipsIn(int.entpushdir)).toEqual([]);
    const started = intProc.lines.filter((l) => l.msg === 'roll-up started');
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((l) => l.reason === 'received')).toBe(true);
    // Three arrivals, at most three roll-ups: one that finds a zip already sent (by the one before) sends nothing twice.
    expect(started.length).toBeLessThanOrEqual(3);
    expect(intProc.lines.filter((l) => l.msg === 'sender sent')).toHaveLength(3);

    for (const p of [intProc, rootProc]) p.kill('SIGTERM');
    expect((await intProc.exited).code).toBe(0);
    expect((await rootProc.exited).code).toBe(0);
  });

  it('refuses sender.forwardOnReceive on a role that does not both receive and send', async () => {
    const leaf = await writeServer(join(root, 'fwd-bad'), { role: 'leaf', server: 'LEAF3', trust: [], sender: { forwardOnReceive: true } });
    await expect(loadConfig(leaf.configPath)).rejects.toThrow(
      /sender\.forwardOnReceive: is only for roles that receive and send \(intermediate\*\), not "leaf"/,
    );
  });
});
