/**
 * The pure parts of SPEC §8: states, the tree's shape, its text at 80
 * columns, the schedule's slots (for `late`), and what a poll carries.
 */
import { describe, expect, it } from 'vitest';
import type { ServerDescription } from '@zenroll/directory';
import { buildTree, report, stateOf, type Described } from '../src/tree/model.js';
import { renderText } from '../src/tree/text.js';
import { serverPage, treePage } from '../src/tree/html.js';
import { slotsAfter } from '../src/service/schedule-slots.js';
import { isNewRequest } from '../src/service/wakeup.js';
import { descriptionHeader, parseDescriptionHeader } from '../src/service/children.js';
import { rollupResultText } from '../src/service/describe.js';

const NOW = Date.parse('2026-12-05T01:00:00.000Z');

function desc(over: Partial<ServerDescription> = {}): ServerDescription {
  return {
    role: 'leaf',
    parent: 'INT1',
    parentUrl: 'https://127.0.0.1:7099',
    version: '0.1.0',
    schedule: '0 2 * * * (UTC)',
    lastRollup: '2026-12-05T00:59:00.000Z',
    lastRollupResult: 'ok zipped=1 sent=1 discarded=0 rejected=0 left=0',
    backlog: { strWaiting: 3, zipsWaiting: 0, zipsRejected: 0 },
    sent24h: { zips: 2, files: 100, bytes: 2_500_000 },
    received24h: { zips: 0, files: 0, bytes: 0 },
    described: '2026-12-05T00:59:01.000Z',
    lateAfter: '2026-12-06T02:00:00.000Z',
    ...over,
  };
}

describe('state of a server (SPEC §8)', () => {
  it('is unknown with nothing written, late past lateAfter, failing after a failed roll-up, else ok', () => {
    expect(stateOf(null, NOW)).toEqual({ state: 'unknown', why: 'nothing written yet' });
    expect(stateOf(desc(), NOW).state).toBe('ok');
    expect(stateOf(desc({ lateAfter: '2026-12-05T00:30:00.000Z' }), NOW)).toMatchObject({
      state: 'late',
      why: 'no roll-up since 2026-12-05 00:59:00Z; due by 2026-12-05 00:30:00Z',
    });
    expect(stateOf(desc({ lastRollupResult: 'failed zipped=1 sent=0 discarded=0 rejected=1 left=0' }), NOW)).toMatchObject({
      state: 'failing',
    });
    // Late wins: a server that stopped rolling up says nothing current about its sending.
    expect(stateOf(desc({ lastRollupResult: 'failed zipped=1', lateAfter: '2026-12-05T00:00:00.000Z' }), NOW).state).toBe('late');
    // A root has no schedule: never late.
    expect(stateOf(desc({ role: 'root', lateAfter: null, lastRollup: null, lastRollupResult: null }), NOW).state).toBe('ok');
  });

  it('writes a roll-up result as ok or failed with its counts', () => {
    const base = { reason: 'scheduled' as const, startedAt: '', finishedAt: '', zipped: 2, discarded: 0, sent: 1, rejected: 1, left: 0 };
    expect(rollupResultText({ ...base, ok: true })).toBe('ok zipped=2 sent=1 discarded=0 rejected=1 left=0');
    expect(rollupResultText({ ...base, ok: false, error: 'push: X' })).toBe(
      'failed zipped=2 sent=1 discarded=0 rejected=1 left=0 error="push: X"',
    );
    expect(rollupResultText({ ...base, ok: false, problem: 'Z.zip: 401 PRP_SIGNER_UNKNOWN: not trusted' })).toBe(
      'failed zipped=2 sent=1 discarded=0 rejected=1 left=0 error="Z.zip: 401 PRP_SIGNER_UNKNOWN: not trusted"',
    );
  });
});

describe('the tree', () => {
  const servers: Described[] = [
    { server: 'LEAF2', description: desc() },
    {
      server: 'ROOT',
      description: desc({
        role: 'root',
        parent: null,
        lateAfter: null,
        schedule: null,
        lastRollup: null,
        backlog: { strWaiting: null, zipsWaiting: 1, zipsRejected: 0 },
      }),
    },
    { server: 'LEAF1', description: desc() },
    { server: 'INT1', description: desc({ role: 'intermediate-db', parent: 'ROOT' }) },
    { server: 'LEAF3', description: null },
    { server: 'ORPHAN', description: desc({ parent: 'GONE' }) },
    { server: 'A', description: desc({ parent: 'B' }) },
    { server: 'B', description: desc({ parent: 'A' }) },
  ];

  it('puts children under their parent, by name; servers without a known parent and loops are tops of their own', () => {
    const shape = (n: { server: string; children: unknown[] }): unknown =>
      n.children.length === 0 ? n.server : { [n.server]: (n.children as (typeof n)[]).map(shape) };
    expect(buildTree(servers, NOW).map(shape)).toEqual([{ A: ['B'] }, 'LEAF3', 'ORPHAN', { ROOT: [{ INT1: ['LEAF1', 'LEAF2'] }] }]);
    const r = report(servers, NOW, 'directory');
    expect(r).toMatchObject({ format: 'zenroll-tree/1', servers: 8, states: { ok: 7, late: 0, failing: 0, unknown: 1 } });
  });

  it('draws at 80 columns, colours only when asked', () => {
    const r = report(servers.slice(0, 5), NOW, 'directory');
    const text = renderText(r, { color: false });
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).not.toContain('\x1b[');
    expect(text).toBe(
      [
        'LEAF3                                                                    unknown',
        '  nothing written yet',
        'ROOT  root                                                                    ok',
        '│ receives only, waiting 1 zip, 0 rejected',
        '│ 24 h: sent 2 zips (100 .str, 2.4 MB), received 0',
        '└─ INT1  intermediate-db                                                      ok',
        '   │ last roll-up 2026-12-05 00:59:00Z, waiting 3 .str, 0 zips, 0 rejected',
        '   │ 24 h: sent 2 zips (100 .str, 2.4 MB), received 0',
        '   ├─ LEAF1  leaf                                                             ok',
        '   │    last roll-up 2026-12-05 00:59:00Z, waiting 3 .str, 0 zips, 0 rejected',
        '   │    24 h: sent 2 zips (100 .str, 2.4 MB), received 0',
        '   └─ LEAF2  leaf                                                             ok',
        '        last roll-up 2026-12-05 00:59:00Z, waiting 3 .str, 0 zips, 0 rejected',
        '        24 h: sent 2 zips (100 .str, 2.4 MB), received 0',
        '',
        '5 servers: 4 ok, 0 late, 0 failing, 1 unknown (from the directory)',
        '',
      ].join('\n'),
    );
    expect(renderText(r, { color: true })).toContain('\x1b[32mok\x1b[0m');
  });
});

describe('schedule slots (for late)', () => {
  it('gives the next scheduled instants after a time, in the time zone', () => {
    const after = Date.parse('2026-12-05T01:00:00.000Z');
    expect(slotsAfter('0 2 * * *', 'UTC', after, 2).map((t) => new Date(t).toISOString())).toEqual([
      '2026-12-05T02:00:00.000Z',
      '2026-12-06T02:00:00.000Z',
    ]);
    // 02:00 in Berlin (UTC+1 in winter) is 01:00Z: the one at 01:00Z exactly is not after.
    expect(slotsAfter('0 2 * * *', 'Europe/Berlin', after, 2).map((t) => new Date(t).toISOString())).toEqual([
      '2026-12-06T01:00:00.000Z',
      '2026-12-07T01:00:00.000Z',
    ]);
    expect(slotsAfter('*/2 * * * * *', 'UTC', after + 500, 2).map((t) => new Date(t).toISOString())).toEqual([
      '2026-12-05T01:00:02.000Z',
      '2026-12-05T01:00:04.000Z',
    ]);
    expect(slotsAfter('0 0 L * *', 'UTC', after, 1).map((t) => new Date(t).toISOString())).toEqual(['2026-12-31T00:00:00.000Z']);
    expect(slotsAfter('0 0 1 1 *', 'UTC', after, 2).map((t) => new Date(t).toISOString())).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
    ]);
    // Weekdays only: Friday 2026-12-04 → next Monday and Tuesday.
    expect(slotsAfter('30 6 * * 1-5', 'UTC', Date.parse('2026-12-04T07:00:00Z'), 2).map((t) => new Date(t).toISOString())).toEqual([
      '2026-12-07T06:30:00.000Z',
      '2026-12-08T06:30:00.000Z',
    ]);
  });
});

describe('wake-up requests and polls', () => {
  it('answers a request only when it is newer than the last answered', () => {
    expect(isNewRequest(null, null)).toBe(false);
    expect(isNewRequest(undefined, null)).toBe(false);
    expect(isNewRequest('nonsense', null)).toBe(false);
    expect(isNewRequest('2026-12-05T01:00:00.000Z', null)).toBe(true);
    expect(isNewRequest('2026-12-05T01:00:00.000Z', '2026-12-05T01:00:00.000Z')).toBe(false);
    expect(isNewRequest('2026-12-05T01:00:00.000Z', '2026-12-05T00:59:59.999Z')).toBe(true);
  });

  it('carries a child’s description in a header and refuses what is not one', () => {
    const d = desc();
    expect(parseDescriptionHeader(descriptionHeader('LEAF1', d))).toEqual({ server: 'LEAF1', description: d });
    expect(parseDescriptionHeader(descriptionHeader('LEAF1', null))).toEqual({ server: 'LEAF1', description: null });
    expect(parseDescriptionHeader(undefined)).toBeNull();
    expect(parseDescriptionHeader('***')).toBeNull();
    expect(parseDescriptionHeader(Buffer.from('{"server":""}').toString('base64url'))).toBeNull();
    expect(parseDescriptionHeader(Buffer.from('{"server":"X","description":{"role":1}}').toString('base64url'))).toBeNull();
    expect(parseDescriptionHeader('a'.repeat(9000))).toBeNull();
  });
});

describe('the /tree page', () => {
  it('is one self-contained page: no script, nothing from elsewhere, every name escaped, a refresh', () => {
    const evil = '<script>alert(1)</script>';
    const r = report(
      [
        { server: 'ROOT', description: desc({ role: 'root', parent: null, lateAfter: null }) },
        { server: evil, description: desc({ parent: 'ROOT' }) },
      ],
      NOW,
      'directory',
    );
    const html = treePage(r, 'ROOT');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(`href="/tree/server/${encodeURIComponent(evil)}"`);
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
    // Every link and source is this listener's own.
    for (const m of html.matchAll(/(?:href|src)="([^"]*)"/g)) expect(m[1]).toMatch(/^\//);
    expect(html).not.toMatch(/url\(|@import/);
    const one = serverPage({ server: evil, node: null, rollup: [], status: [], limit: 50 });
    expect(one).not.toMatch(/<script/i);
    expect(one).toContain('No such server in the tree.');
  });
});
