/**
 * `zenroll doctor` (SPEC §5) as the real executable, on what a leaf shares
 * with others: the parent's clock (the `Date` of its /v1/info answer), the
 * parent's HTTPS certificate (its CA against `sender.tls.ca`, its dates, the
 * host it names; each FAIL in the words a roll-up stops with), and the server's
 * Inventory Service object in a private slapd. Each is good on one run (ok)
 * and wrong on the next (one FAIL line saying what to fix, exit 1).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type CertRequest } from '@zenroll/core';
import { startSlapd, type Slapd, initArgs, writeScans } from '@zenroll/testkit';
import { runCli } from './helpers/cli.js';
import { doctor, type Check } from './helpers/doctor.js';
import { makePki, type Pki } from './helpers/fault-setup.js';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { initHere, section } from './helpers/service.js';
import { TestReceiver } from '@zenroll/testkit';

const HOUR = 3_600_000;
// The Sender's fix for a parent certificate it does not trust (sender/src/failure.ts), as a roll-up's "fix" line says it too.
const UNTRUSTED_FIX =
  "copy the parent's CA certificate (for a self-signed parent, its tls/server.crt) here and set sender.tls.ca to it; a new server: zenroll init … --parent-ca FILE";
/** Debian's libfaketime (package faketime, which scripts/system-deps.sh installs), as clock-heals.test.ts finds it. */
const faketimeLib = ['x86_64-linux-gnu', 'aarch64-linux-gnu', '.']
  .map((d) => join('/usr/lib', d, 'faketime/libfaketime.so.1'))
  .find((p) => existsSync(p));
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
let n = 0;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  tmp = await tempDir('zenroll-doctor-parent-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await parent?.close();
  await tmp?.remove();
});

const lineOf = (r: { lines: string[] }, check: string) => r.lines.find((l) => l.includes(` ${check}: `));
const failing = (r: { checks: Check[] }) => r.checks.filter((c) => !c.ok).map((c) => c.name);

async function newLeaf(parentUrl: string): Promise<ServerFolder> {
  return initHere(join(tmp.path, `LEAF1-${++n}`), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parentUrl, dir: null } }));
}

/**
 * The parent as seen through a clock `offsetMs` off: every request goes on
 * to the real test Receiver, and its answer comes back with the `Date` that
 * clock would give (HTTP dates have whole seconds, as a real server's do).
 */
async function skewedParent(target: string, offsetMs: number): Promise<string> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, date: new Date(Date.now() + offsetMs).toUTCString() });
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('zenroll doctor: the clock against the parent’s', () => {
  it('is ok in sync, and a FAIL naming the difference and NTP when the parent is hours ahead or behind', async () => {
    const inSync = await skewedParent(parent.url, 0);
    const leaf = await newLeaf(inSync);
    const good = await doctor(leaf);
    expect(good.code).toBe(0);
    expect(lineOf(good, 'parent')).toBe(`ok    parent: ${inSync} answers as INT1`);

    // Half a minute off is within what doctor allows.
    const slightly = await skewedParent(parent.url, 30_000);
    await leaf.edit((json) => {
      section(json, 'sender').parent = slightly;
    });
    expect(lineOf(await doctor(leaf), 'parent')).toBe(`ok    parent: ${slightly} answers as INT1`);

    for (const offset of [3 * HOUR, -5 * HOUR]) {
      const off = await skewedParent(parent.url, offset);
      await leaf.edit((json) => {
        section(json, 'sender').parent = off;
      });
      const r = await doctor(leaf);
      expect(r.code).toBe(1);
      expect(failing(r)).toEqual(['parent']);
      const seconds = Math.abs(offset) / 1000;
      // The Date header drops the milliseconds: the difference seen is within a second of the offset.
      expect(lineOf(r, 'parent')).toMatch(
        new RegExp(
          `^FAIL {2}parent: ${off} answers as INT1; clocks differ by (${seconds}|${seconds - 1}|${seconds + 1}) s: set up NTP on both$`,
        ),
      );
    }
  });
});

describe('zenroll doctor: an HTTPS parent', () => {
  let pki: Pki;
  let tlsParent: TestReceiver;

  beforeAll(async () => {
    pki = await makePki(join(tmp.path, 'pki'));
    tlsParent = await TestReceiver.start({ dir: join(tmp.path, 'tls-parent'), server: 'INT1', tls: pki.server });
    closers.push(() => tlsParent.close());
  });

  it("is ok with the CA that signed its certificate in sender.tls.ca; with another CA or none, a FAIL in the roll-up's words naming sender.tls.ca", async () => {
    const leaf = await newLeaf(tlsParent.url);
    await leaf.edit((json) => {
      section(json, 'sender').tls = { ca: pki.ca };
    });
    const good = await doctor(leaf);
    expect(good.code).toBe(0);
    expect(lineOf(good, 'parent')).toBe(`ok    parent: ${tlsParent.url} answers as INT1`);

    await leaf.edit((json) => {
      section(json, 'sender').tls = { ca: pki.otherCa };
    });
    const r = await doctor(leaf);
    expect(r.code).toBe(1);
    expect(failing(r)).toEqual(['parent']);
    // It answered: not "does not answer, check the firewall", but the Sender's own words for it (a roll-up's problem and fix).
    expect(lineOf(r, 'parent')).toBe(
      `FAIL  parent: parent "${tlsParent.url}": certificate not trusted: sender.tls.ca (${pki.otherCa}) did not sign it (UNABLE_TO_VERIFY_LEAF_SIGNATURE); ${UNTRUSTED_FIX}`,
    );

    await leaf.edit((json) => {
      section(json, 'sender').tls = { ca: null };
    });
    const none = await doctor(leaf);
    expect(failing(none)).toEqual(['parent']);
    expect(lineOf(none, 'parent')).toMatch(
      new RegExp(
        `^FAIL {2}parent: parent "${escaped(tlsParent.url)}": certificate not trusted: sender\\.tls\\.ca is not set and no system CA signed it \\([A-Z_]+\\); ${escaped(UNTRUSTED_FIX)}$`,
      ),
    );
  });
});

/**
 * The project's own makeCertificate (so openssl's own -days) run in a Node
 * whose clock is `faketime` off (libfaketime, "-400d" or "+2d"): a
 * certificate dated as it would have been made then.
 */
async function certificateMadeAt(faketime: string, req: CertRequest): Promise<void> {
  expect(faketimeLib, 'libfaketime (Debian package faketime, scripts/system-deps.sh)').toBeDefined();
  const script = `import { makeCertificate } from '@zenroll/core'; await makeCertificate(${JSON.stringify(req)});`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, LD_PRELOAD: faketimeLib, FAKETIME: faketime },
  });
}

/**
 * What a roll-up of `leaf` says it stopped on (SPEC §1): its `problem` and
 * `fix` lines, from the real executable with three scans queued.
 */
async function rollupProblem(leaf: ServerFolder): Promise<{ code: number | null; problem: string | undefined; fix: string | undefined }> {
  await leaf.edit((json) => {
    section(json, 'sender').stableMs = 0;
  });
  await writeScans(leaf.config.dirs.entmergedir ?? '', 3);
  // A roll-up that retried would wait 10 s first: this is a hang guard, not a timing assertion.
  const r = await runCli(['rollup', '--now', '-c', leaf.configPath], { killAfterMs: 8_000 });
  const lines = r.stdout.split('\n');
  return {
    code: r.code,
    problem: lines.find((l) => l.startsWith('problem ')),
    fix: lines.find((l) => l.startsWith('fix ')),
  };
}

describe('zenroll doctor: an HTTPS parent whose certificate is out of date or for another host', () => {
  let pki: Pki;

  beforeAll(async () => {
    pki = await makePki(join(tmp.path, 'pki-dates'));
  });

  async function parentWith(name: string, cert: { cert: string; key: string }): Promise<TestReceiver> {
    const p = await TestReceiver.start({ dir: join(tmp.path, name), server: 'INT1', tls: cert });
    closers.push(() => p.close());
    return p;
  }

  const OUT_OF_DATE_FIX = "renew the parent's certificate, or set this server's clock right";

  /** A leaf of parent p that trusts the CA of `pki` (sender.tls.ca). */
  async function trustingLeaf(p: TestReceiver): Promise<ServerFolder> {
    const leaf = await newLeaf(p.url);
    await leaf.edit((json) => {
      section(json, 'sender').tls = { ca: pki.ca };
    });
    return leaf;
  }

  /** doctor's parent line and the same leaf's roll-up say `problem` with `fix`, in one wording. */
  async function expectOneWording(leaf: ServerFolder, problem: string, fix: string): Promise<void> {
    const r = await doctor(leaf);
    expect(r.code).toBe(1);
    expect(failing(r)).toEqual(['parent']);
    expect(lineOf(r, 'parent')).toBe(`FAIL  parent: ${problem}; ${fix}`);

    // The same leaf's roll-up stops on it in the same words, with the same fix.
    const rollup = await rollupProblem(leaf);
    expect(rollup.code).toBe(1);
    expect(rollup.problem).toBe(`problem   RECEIVER_TLS_UNTRUSTED: ${problem}`);
    expect(rollup.fix).toBe(`fix       ${fix}`);
  }

  for (const [when, faketime, errno] of [
    ['expired 370 days ago', '-400d', 'CERT_HAS_EXPIRED'],
    ['valid only from 2 days on', '+2d', 'CERT_NOT_YET_VALID'],
  ] as const) {
    it(`signed by the CA in sender.tls.ca but ${when}: a FAIL in the roll-up's words (${errno}), naming renewal or this server's clock`, async () => {
      // Made by the CA the leaf trusts, 30 days' validity, dated by a clock that was (or will be) then.
      const dir = join(tmp.path, `pki-${errno}`);
      const cert = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
      await certificateMadeAt(faketime, {
        certPath: cert.cert,
        keyPath: cert.key,
        hosts: ['127.0.0.1', 'localhost'],
        commonName: 'INT1',
        days: 30,
        ca: { certPath: pki.ca, keyPath: pki.ca.replace(/\.crt$/, '.key') },
      });
      const p = await parentWith(`parent-${errno}`, cert);
      await expectOneWording(
        await trustingLeaf(p),
        `parent "${p.url}": certificate outside its validity period (${errno})`,
        OUT_OF_DATE_FIX,
      );
    });
  }

  it("made for localhost only, reached as 127.0.0.1: a FAIL in the roll-up's words naming sender.parent and init --tls-name", async () => {
    const dir = join(tmp.path, 'pki-name');
    const cert = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
    await makeCertificate({
      certPath: cert.cert,
      keyPath: cert.key,
      hosts: ['localhost'],
      commonName: 'INT1',
      ca: { certPath: pki.ca, keyPath: pki.ca.replace(/\.crt$/, '.key') },
    });
    const p = await parentWith('parent-name', cert);
    expect(p.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expectOneWording(
      await trustingLeaf(p),
      `parent "${p.url}": certificate not made for host 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID)`,
      "write sender.parent with a name the parent's certificate holds, or give the parent a certificate for this one (zenroll init --tls-name on the parent)",
    );
  });
});

describe('zenroll doctor: an HTTPS parent that requires client certificates', () => {
  it('is a FAIL naming the missing client certificate and sender.tls.cert, as a roll-up names it; ok once the leaf presents one', async () => {
    const pki = await makePki(join(tmp.path, 'pki-mtls'));
    const mtls = await TestReceiver.start({
      dir: join(tmp.path, 'mtls-parent'),
      server: 'INT1',
      tls: { ...pki.server, clientCa: pki.ca },
    });
    closers.push(() => mtls.close());
    const leaf = await newLeaf(mtls.url);
    await leaf.edit((json) => {
      section(json, 'sender').tls = { ca: pki.ca };
    });
    const r = await doctor(leaf);
    expect(r.code).toBe(1);
    expect(failing(r)).toEqual(['parent']);
    expect(lineOf(r, 'parent')).toBe(
      `FAIL  parent: parent "${mtls.url}": requires a TLS client certificate, and this Sender presents none (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required); ` +
        'get a certificate for this server signed by the CA the parent names in receiver.tls.clientCa, and set sender.tls.cert and sender.tls.key to it and its key',
    );

    await leaf.edit((json) => {
      section(json, 'sender').tls = { ca: pki.ca, cert: pki.client.cert, key: pki.client.key };
    });
    const good = await doctor(leaf);
    expect(good.code).toBe(0);
    expect(lineOf(good, 'parent')).toBe(`ok    parent: ${mtls.url} answers as INT1`);
  });
});

describe('zenroll doctor: the server’s Inventory Service object', () => {
  let slapd: Slapd;

  beforeAll(async () => {
    // A directory that knows INT1 only: LEAF1's object was never made.
    slapd = await startSlapd({ tree: 'ACME', servers: ['INT1'] });
    closers.push(() => slapd.destroy());
  });

  it('is a FAIL saying the object is missing and what to do, and ok once it exists', async () => {
    const leaf = await newLeaf(parent.url);
    // Bound as the directory's administrator, which can read any object: the bind itself is fine.
    await leaf.edit((json) => {
      json.directory = { url: slapd.url, bindDN: slapd.rootDN, passwordFile: slapd.rootPasswordFile };
    });
    const r = await doctor(leaf);
    expect(r.code).toBe(1);
    expect(failing(r)).toEqual(['directory']);
    // What is missing (the DN) and the two ways out; not the bind keys, which are right.
    expect(lineOf(r, 'directory')).toBe(
      `FAIL  directory: the directory ${slapd.url} refused a read on "cn=LEAF1_ZenInvService,o=ACME": ` +
        'no such object: create the Inventory Service object or fix directory.serviceDN (LDAP result 32)',
    );

    await slapd.addServers(['LEAF1']);
    const fixed = await doctor(leaf);
    expect(fixed.code).toBe(0);
    expect(lineOf(fixed, 'directory')).toBe(`ok    directory: bound as ${slapd.rootDN}; object of LEAF1 found`);
  });

  it('bound as its own object (as zenroll init --bind-dn sets it up), a missing object fails the bind: the line says it may be missing', async () => {
    const folder = await initHere(
      join(tmp.path, `LEAF2-${++n}`),
      initArgs({ role: 'leaf', server: 'LEAF2', parent: { url: parent.url, dir: null } }),
    );
    const own = 'cn=LEAF2_ZenInvService,o=ACME';
    await folder.edit((json) => {
      json.directory = { url: slapd.url, bindDN: own, passwordFile: slapd.serverPasswordFile('INT1') };
    });
    const r = await doctor(folder);
    expect(r.code).toBe(1);
    expect(failing(r)).toEqual(['directory']);
    expect(lineOf(r, 'directory')).toBe(
      `FAIL  directory: the directory ${slapd.url} refused a read on "${own}" as "${own}": invalid credentials: check directory.bindDN and directory.passwordFile (LDAP result 49); ` +
        "if they are right, LEAF2's Inventory Service object (the bind DN) may not exist, which the directory answers the same way: create it",
    );
  });
});
