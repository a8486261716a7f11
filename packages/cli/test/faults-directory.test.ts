/**
 * The directory misbehaving under a real roll-up (SPEC §7): a private slapd
 * down for a whole roll-up, frozen (SIGSTOP: connections accepted, nothing
 * answered) for another, killed and restarted in the middle of a third. The
 * roll-ups are never held up by it, and once slapd answers again every
 * record reaches its object exactly once: each zip's `sent` on the leaf's
 * object (replacing its `zipped`), `received` and `promoted` on INT1's.
 *
 * The journal → LDAP mechanics alone (500 records with slapd killed, a bad
 * password, a missing object, the back-off) are packages/directory's tests
 * (directory-log.test.ts, ldap.test.ts); this file only adds the roll-up.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, parseRecord, type RollupRecord } from '@zenroll/core';
import { startSlapd, type Slapd } from '@zenroll/testkit';
import { writeScans } from '@zenroll/testkit';
import { makeLeaf, makePki, startInt, strsInZips, type LeafSide, type Pki, type ReceiverSide } from './helpers/fault-setup.js';
import { tempDir } from './helpers/server-dir.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let pki: Pki;
let slapd: Slapd;

beforeAll(async () => {
  tmp = await tempDir('zenroll-faults-dir-');
  pki = await makePki(join(tmp.path, 'pki'));
  slapd = await startSlapd({ dir: join(tmp.path, 'slapd'), servers: ['LEAF1', 'INT1'] });
});
afterAll(async () => {
  if (slapd.running()) await slapd.stop();
  await tmp.remove();
});

function directory(server: string): Record<string, unknown> {
  return {
    directory: {
      url: slapd.url,
      bindDN: slapd.serverDN(server),
      passwordFile: slapd.serverPasswordFile(server),
      serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
      timeoutMs: 500,
    },
  };
}

/** The records on a server's object, as `ldapsearch` shows them to an operator. */
async function recordsOn(server: string): Promise<RollupRecord[]> {
  return (await slapd.rollUpLog(server)).map((v) => parseRecord(v));
}

describe('the directory down, frozen, restarted: roll-ups go on, records arrive once', () => {
  it('three roll-ups (the last of 500 .str) against a misbehaving slapd; afterwards every record is on its object exactly once, in order', {
    timeout: 90_000,
  }, async () => {
    const leafKeys = generateKeyPair();
    const backoff = { backoff: { initialMs: 50, maxMs: 400 } };
    const int: ReceiverSide = await startInt(join(tmp.path, 'int'), pki, leafKeys, {
      extra: directory('INT1'),
      journal: backoff,
      directorySources: true,
    });
    const leaf: LeafSide = await makeLeaf(join(tmp.path, 'leaf'), {
      parent: int.running.url,
      keys: leafKeys,
      extra: directory('LEAF1'),
      journal: backoff,
      directorySources: true,
      sender: { tls: { ca: pki.ca } },
    });
    const all: string[] = [];
    const zips: string[] = [];
    const round = async (seed: number, count: number, onSent?: (k: number) => void) => {
      const scans = await writeScans(leaf.config.dirs.entmergedir as string, count, { seed, startIndex: seed * 1000 });
      all.push(...scans.sha256);
      let sent = 0;
      const r = await leaf.rollup({ onEvent: (e) => e.type === 'sent' && onSent?.(++sent) });
      // Never held up: everything zipped was sent in this very roll-up.
      expect(r.sent.map((s) => s.status)).toEqual(Array(Math.ceil(count / 50)).fill(201));
      expect(r.errors).toEqual([]);
      zips.push(...r.zipped.map((z) => z.zip));
    };
    try {
      // 1. Down for the whole roll-up.
      await slapd.stop();
      await round(1, 120);
      expect(leaf.journal?.backlog()).toBeGreaterThan(0);

      // 2. Frozen: it accepts connections and answers nothing; every LDAP call waits for directory.timeoutMs.
      await slapd.restart();
      process.kill(slapd.pid, 'SIGSTOP');
      try {
        await round(2, 120);
      } finally {
        process.kill(slapd.pid, 'SIGCONT');
      }

      // 3. A roll-up of 500 .str: slapd killed by pid after the first zip went up, started again after the fifth.
      let restarted: Promise<void> = Promise.resolve();
      await round(3, 500, (k) => {
        if (k === 1) restarted = slapd.kill('SIGKILL');
        if (k === 5) restarted = restarted.then(() => slapd.restart());
      });
      await restarted;
      expect(slapd.running()).toBe(true);

      expect(await leaf.journal?.drain(60_000)).toBe(true);
      expect(await int.journal?.drain(60_000)).toBe(true);
    } finally {
      await leaf.close();
      await int.running.close();
    }
    await int.running.idle();
    expect(await strsInZips(int.config.dirs.dbdir as string, leafKeys)).toEqual(all.sort());

    // The leaf's object: one `sent` per zip, no `zipped` left over, no record twice.
    const onLeaf = await recordsOn('LEAF1');
    expect(new Set(onLeaf.map((r) => r.id)).size).toBe(onLeaf.length);
    expect(onLeaf.filter((r) => r.event === 'zipped')).toEqual([]);
    expect(
      onLeaf
        .filter((r) => r.event === 'sent')
        .map((r) => r.zip)
        .sort(),
    ).toEqual([...zips].sort());
    // In order: slapd keeps a value where it was added, and the journal applied them as they were written.
    const inOrder = (rs: RollupRecord[]) => rs.map((r) => r.time).every((t, i, ts) => i === 0 || (ts[i - 1] as string) <= t);
    expect(inOrder(onLeaf)).toBe(true);
    // INT1's object: one `received` and two `promoted` (entpushdir, dbdir) per zip.
    const onInt = await recordsOn('INT1');
    expect(new Set(onInt.map((r) => r.id)).size).toBe(onInt.length);
    expect(
      onInt
        .filter((r) => r.event === 'received')
        .map((r) => r.zip)
        .sort(),
    ).toEqual([...zips].sort());
    expect(onInt.filter((r) => r.event === 'promoted')).toHaveLength(2 * zips.length);
    expect(inOrder(onInt)).toBe(true);
    console.log(
      `faults-directory: ${zips.length} zips, ${onLeaf.length + onInt.length} records applied once each after slapd was down, frozen and restarted`,
    );
  });
});
