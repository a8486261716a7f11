/**
 * A replicated directory (SPEC §9): two OpenLDAP providers in multi-provider
 * replication (syncrepl, mirror mode; src/slapd), and
 * `directory.url` listing both. One provider is stopped in the middle of a
 * roll-up's records and started again: the records go on to the other one,
 * and both end with every record once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeRecord, type LogWrite } from '@zenroll/core';
import { startSlapdProviders } from '../src/slapd/index.js';
import { DirectoryLog, Journal, LdapDirectory } from '../src/index.js';
import { applyWrites } from '../src/records.js';
import { ldapOptions, rec, sentFor, sleep, tempDir, type Slapd } from './helpers.js';
import { ldapsearchLog } from './ldapsearch.js';

let a: Slapd;
let b: Slapd;
let scratch: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  [a, b] = (await startSlapdProviders({ providers: 2 })) as [Slapd, Slapd];
  scratch = await tempDir();
});

afterAll(async () => {
  await b?.destroy();
  await a?.destroy();
  await scratch?.remove();
});

describe('directory.url with two replicated providers', { timeout: 180_000 }, () => {
  it('one provider stopped in the middle of a roll-up and started again: both end with every record, once, in order', async () => {
    const server = 'LEAF1';
    const directory = new LdapDirectory({ ...ldapOptions(a, 'LEAF1', { timeoutMs: 1000 }), urls: [a.url, b.url] });
    const log = new DirectoryLog(await Journal.open({ dir: scratch.path, applying: true }), directory, {
      backoff: { initialMs: 50, maxMs: 400 },
    });
    const writes: LogWrite[] = [];
    let atStop = 0;
    let whileDown = 0;
    const write = async (w: LogWrite) => {
      await log.write(w);
      writes.push(w);
    };
    try {
      for (let i = 0; i < 300; i++) {
        const zipped = rec(server, 'zipped', { message: `zip ${i}` });
        await write({ record: zipped });
        if (i % 5 === 4) await write({ record: sentFor(zipped), replaces: zipped });
        // Let the applier keep up, so that the stop falls in the middle of its writes.
        if (i % 20 === 19) expect(await log.drain(30_000)).toBe(true);
        if (i === 100) {
          atStop = (await ldapsearchLog(b, server)).length;
          await a.stop();
        }
        if (i === 200) {
          whileDown = (await ldapsearchLog(b, server)).length;
          await a.restart();
        }
      }
      expect(await log.drain(60_000)).toBe(true);
    } finally {
      await log.close();
    }
    const expected = applyWrites([], writes).map(serializeRecord);
    expect(expected).toHaveLength(300);
    // While the first provider was down, the records went on to the second.
    expect(whileDown - atStop).toBeGreaterThanOrEqual(90);
    // Replication is asynchronous, both ways: wait until each provider has caught up. A record
    // that reached the first provider just before it stopped comes to the second only once the
    // second's syncrepl retries (every 5 s) after the restart.
    let onA: string[] = [];
    let onB: string[] = [];
    for (let i = 0; i < 300; i++) {
      onA = await ldapsearchLog(a, server);
      onB = await ldapsearchLog(b, server);
      if (onA.length === expected.length && onB.length === expected.length) break;
      await sleep(100);
    }
    expect(onB).toEqual(expected);
    expect(onA).toEqual(expected);
  });
});
