/**
 * The contract every ZenrollLog keeps (STYLE.md: one suite, two
 * implementations): the local journal and the journal applied to slapd.
 */
import { describe, expect, it } from 'vitest';
import type { ZenrollLog } from '../src/index.js';
import { rec, sentFor } from './helpers.js';

export interface Harness {
  log: ZenrollLog;
  /** Servers whose objects exist and are empty. */
  servers: [string, string];
  /** Close this log and open another on the same storage. */
  reopen(): Promise<ZenrollLog>;
}

export function logContract(name: string, make: () => Promise<Harness>, cleanup: (h: Harness) => Promise<void>): void {
  describe(`RollupLog contract: ${name}`, () => {
    const withLog = (fn: (h: Harness) => Promise<void>) => async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await cleanup(h);
      }
    };

    it(
      'reads back what was written, exactly',
      withLog(async ({ log, servers: [a] }) => {
        const r = rec(a, 'zipped', { message: 'été, "quoted", \\ back' });
        await log.write({ record: r });
        expect(await log.read(a, 10)).toEqual([r]);
      }),
    );

    it(
      'keeps the server status log apart from the roll-up log, in the same form, across a reopen',
      withLog(async (h) => {
        const [a] = h.servers;
        const started = rec(a, 'started', {
          source: 'service',
          zip: '',
          fields: { version: '0.1.0', role: 'leaf', schedule: '0 2 * * *' },
        });
        const zipped = rec(a);
        const stopped = rec(a, 'stopped', { source: 'service', zip: '', message: 'zenroll stopped' });
        for (const r of [started, zipped, stopped]) await h.log.write({ record: r });
        expect(await h.log.read(a, 10, 'status')).toEqual([stopped, started]);
        expect(await h.log.read(a, 10)).toEqual([zipped]);
        h.log = await h.reopen();
        expect(await h.log.read(a, 10, 'status')).toEqual([stopped, started]);
        expect(await h.log.read(a, 10, 'rollup')).toEqual([zipped]);
      }),
    );

    it(
      'reads newest first, up to the limit',
      withLog(async ({ log, servers: [a] }) => {
        const rs = [rec(a), rec(a, 'discarded'), rec(a), rec(a, 'send-failed')];
        for (const r of rs) await log.write({ record: r });
        expect(await log.read(a, 10)).toEqual([...rs].reverse());
        expect(await log.read(a, 2)).toEqual([rs[3], rs[2]]);
        expect(await log.read(a, 0)).toEqual([]);
      }),
    );

    it(
      'keeps each server to its own object',
      withLog(async ({ log, servers: [a, b] }) => {
        const ra = rec(a);
        const rb = rec(b, 'received');
        await Promise.all([log.write({ record: ra }), log.write({ record: rb })]);
        expect(await log.read(a, 10)).toEqual([ra]);
        expect(await log.read(b, 10)).toEqual([rb]);
      }),
    );

    it(
      'replaces a zipped record by its sent record: it shows once',
      withLog(async ({ log, servers: [a] }) => {
        const before = rec(a);
        const zipped = rec(a);
        const after = rec(a);
        for (const r of [before, zipped, after]) await log.write({ record: r });
        const sent = sentFor(zipped);
        await log.write({ record: sent, replaces: zipped });
        expect(await log.read(a, 10)).toEqual([sent, after, before]);
      }),
    );

    it(
      'takes a second write of the same id and event as a no-op',
      withLog(async ({ log, servers: [a] }) => {
        const zipped = rec(a);
        const sent = sentFor(zipped);
        await log.write({ record: zipped });
        await log.write({ record: zipped });
        await log.write({ record: sent, replaces: zipped });
        await log.write({ record: sent, replaces: zipped });
        await Promise.all([log.write({ record: zipped }), log.write({ record: zipped })]);
        expect(await log.read(a, 10)).toEqual([sent]);
      }),
    );

    it(
      'keeps all of many concurrent writes, in write order',
      withLog(async ({ log, servers: [a] }) => {
        const rs = Array.from({ length: 60 }, () => rec(a));
        await Promise.all(rs.map((record) => log.write({ record })));
        expect(await log.read(a, 100)).toEqual([...rs].reverse());
      }),
    );

    it(
      'still has every record after it is closed and opened again',
      withLog(async (h) => {
        const [a] = h.servers;
        const zipped = rec(a);
        const other = rec(a, 'discarded');
        await h.log.write({ record: zipped });
        await h.log.write({ record: other });
        await h.log.write({ record: sentFor(zipped), replaces: zipped });
        const before = await h.log.read(a, 10);
        h.log = await h.reopen();
        expect(await h.log.read(a, 10)).toEqual(before);
        await h.log.write({ record: zipped }); // an old id+event after reopening: still a no-op
        expect(await h.log.read(a, 10)).toEqual(before);
      }),
    );
  });
}
