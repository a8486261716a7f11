import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScheduledClock, newestScheduledTime } from '../src/clock.js';
import { ZenrollError } from '../src/errors.js';
import { encodeName, formatScheduledTime, parseScheduledTime } from '../src/names.js';

const T0 = Date.UTC(2026, 10, 22, 10, 30, 0, 0);
const at = (ms: number): string => formatScheduledTime(ms);

/** A `now` that returns the given values in turn, then keeps returning the last. */
function steps(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] as number;
}

describe('ScheduledClock', () => {
  it('hands out the current time when nothing came before', () => {
    const clock = new ScheduledClock({ now: () => T0 });
    expect(clock.last).toBeNull();
    expect(clock.next()).toBe('20261122103000000');
    expect(clock.last).toBe('20261122103000000');
  });

  it('bumps by 1 ms while the clock stands still', () => {
    const clock = new ScheduledClock({ now: () => T0 });
    expect([clock.next(), clock.next(), clock.next()]).toEqual(['20261122103000000', '20261122103000001', '20261122103000002']);
    expect(clock.last).toBe('20261122103000002');
  });

  it('never goes back when the wall clock steps back, and follows it again once it is ahead', () => {
    const clock = new ScheduledClock({ now: steps(T0, T0 - 1000, T0 - 3_600_000, T0 + 1, T0 + 10_000) });
    expect(clock.next()).toBe(at(T0));
    expect(clock.next()).toBe(at(T0 + 1));
    expect(clock.next()).toBe(at(T0 + 2));
    expect(clock.next()).toBe(at(T0 + 3)); // now = T0 + 1 is not past the last handed out
    expect(clock.next()).toBe(at(T0 + 10_000));
  });

  it('starts past a `last` found on disk that is ahead of now', () => {
    const clock = new ScheduledClock({ now: () => T0, last: at(T0 + 60_000) });
    expect(clock.last).toBe(at(T0 + 60_000));
    expect(clock.next()).toBe(at(T0 + 60_001));
    expect(clock.next()).toBe(at(T0 + 60_002));
  });

  it('starts past a `last` equal to now', () => {
    const clock = new ScheduledClock({ now: () => T0, last: at(T0) });
    expect(clock.next()).toBe(at(T0 + 1));
  });

  it('ignores a `last` behind now', () => {
    const clock = new ScheduledClock({ now: () => T0, last: at(T0 - 5000) });
    expect(clock.next()).toBe(at(T0));
  });

  it('treats a null `last` as nothing before', () => {
    expect(new ScheduledClock({ now: () => T0, last: null }).next()).toBe(at(T0));
  });

  it('refuses a `last` that is not a scheduled time', () => {
    const err = (() => {
      try {
        new ScheduledClock({ now: () => T0, last: '20260230000000000' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ZenrollError);
    expect((err as ZenrollError).code).toBe('NAME_INVALID');
  });

  it('observe() moves past a time seen elsewhere, but never backwards', () => {
    const clock = new ScheduledClock({ now: () => T0 });
    expect(clock.next()).toBe(at(T0));
    clock.observe(at(T0 + 500));
    expect(clock.next()).toBe(at(T0 + 501));
    clock.observe(at(T0 - 500));
    expect(clock.last).toBe(at(T0 + 501));
    expect(clock.next()).toBe(at(T0 + 502));
  });

  it('uses the real clock by default', () => {
    const before = Date.now();
    const t = parseScheduledTime(new ScheduledClock().next());
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('is strictly increasing, and never later than needed, whatever the wall clock does', () => {
    const ms = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });
    fc.assert(
      fc.property(fc.array(ms, { minLength: 1, maxLength: 50 }), fc.option(ms, { nil: undefined }), (nows, last) => {
        const clock = new ScheduledClock({ now: steps(...nows), last: last === undefined ? undefined : at(last) });
        let prev = last ?? Number.NEGATIVE_INFINITY;
        for (const now of nows) {
          const t = clock.next();
          expect(t).toMatch(/^\d{17}$/);
          const tMs = parseScheduledTime(t);
          expect(tMs).toBe(Math.max(now, prev + 1));
          prev = tMs;
          expect(clock.last).toBe(t);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('newestScheduledTime', () => {
  const LEAF1 = encodeName('LEAF1');

  it('is null for an empty list and for a list without the server', () => {
    expect(newestScheduledTime([], LEAF1)).toBeNull();
    expect(newestScheduledTime(['20261122103000000_LEAF2_ACME_0.zip', 'junk.zip'], LEAF1)).toBeNull();
  });

  it('picks the newest outer name of the server', () => {
    const names = ['20261122103000000_LEAF1_ACME_0.zip', '20261122103000900_LEAF1_ACME_2.zip', '20261122103000100_LEAF1_OTHER_1.zip'];
    expect(newestScheduledTime(names, LEAF1)).toBe('20261122103000900');
    expect(newestScheduledTime([...names].reverse(), LEAF1)).toBe('20261122103000900');
  });

  it('picks the newest inner name of the server (.zip and .prp)', () => {
    expect(newestScheduledTime(['20261122103000000_LEAF1.zip', '20261122103000007_LEAF1.prp', '20261122103000003_LEAF1.zip'], LEAF1)).toBe(
      '20261122103000007',
    );
  });

  it('mixes both forms and ignores other servers and junk', () => {
    const names = [
      '20261122103000010_LEAF1_ACME_0.zip',
      '20261122103000020_LEAF1.zip',
      '29991122103000000_LEAF2_ACME_0.zip', // another server, newer
      '29991122103000000_LEAF10_ACME_0.zip', // a server whose name starts like ours
      '29991122103000000_LEAF1X.zip',
      '29991122103000000_XLEAF1_ACME_0.zip',
      '29991122103000000_LE%5FAF_ACME_0.zip',
      '2999112210300000_LEAF1_ACME_0.zip', // 16 digits
      '299911221030000000_LEAF1_ACME_0.zip', // 18 digits
      'x29991122103000000_LEAF1_ACME_0.zip',
      '.29991122103000000_LEAF1_ACME_0.zip.0123456789ab.tmp', // a temp being written
      '29991122103000000-LEAF1_ACME_0.zip',
      '29991122103000000_LEAF1',
      'LEAF1.str',
      'zipdir',
      '',
    ];
    expect(newestScheduledTime(names, LEAF1)).toBe('20261122103000020');
  });

  it('ignores 17-digit names that are not a real time (one stray file must not stop every roll-up)', () => {
    const names = ['20261122103000010_LEAF1_ACME_0.zip', '99999999999999999_LEAF1_ACME_0.zip', '20261301000000000_LEAF1.zip'];
    const newest = newestScheduledTime(names, LEAF1);
    expect(newest).toBe('20261122103000010');
    // and what it returns seeds a clock without throwing
    expect(new ScheduledClock({ now: () => 0, last: newest }).next()).toBe('20261122103000011');
  });

  it('matches server names holding "." and encoded characters exactly', () => {
    const names = [
      '20261122103000001_srv.acme_ACME_0.zip',
      '20261122103000002_srv.acme.zip',
      '29991122103000000_srv.acme.old.zip', // the inner zip of server "srv.acme.old"
      '29991122103000000_srv_ACME_0.zip',
      '20261122103000005_LE%5FAF%C3%A9.prp',
      '20261122103000004_LE%5FAF%C3%A9_T_0.zip',
      '29991122103000000_LE%5FAF_T_0.zip',
    ];
    expect(newestScheduledTime(names, 'srv.acme')).toBe('20261122103000002');
    expect(newestScheduledTime(names, 'srv')).toBe('29991122103000000');
    expect(newestScheduledTime(names.slice(0, 3), 'srv')).toBeNull();
    expect(newestScheduledTime(names, encodeName('LE_AFé'))).toBe('20261122103000005');
  });

  it('accepts any iterable', () => {
    function* gen(): Generator<string> {
      yield '20261122103000001_LEAF1_ACME_0.zip';
      yield '20261122103000002_LEAF1_ACME_0.zip';
    }
    expect(newestScheduledTime(gen(), LEAF1)).toBe('20261122103000002');
    expect(newestScheduledTime(new Set(['20261122103000003_LEAF1.zip']), LEAF1)).toBe('20261122103000003');
  });
});

describe('ScheduledClock reserved spans (issue 16: a clock that heals)', () => {
  it('steps over each span of times already used, and never hands out one of them', () => {
    const base = Date.UTC(2026, 11, 5, 0, 0, 0);
    let now = base;
    const clock = new ScheduledClock({
      now: () => now,
      reserved: [
        [base + 10, base + 20],
        [base + 21, base + 30],
        [base + 100, base + 100],
      ],
    });
    expect(clock.next()).toBe(formatScheduledTime(base));
    now = base + 15;
    // Inside the first span, which runs on into the second: past both.
    expect(clock.next()).toBe(formatScheduledTime(base + 31));
    now = base + 100;
    expect(clock.next()).toBe(formatScheduledTime(base + 101));
    expect(clock.firstMs).toBe(base);
  });
});
