import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, makeRecord, recordJson, serializeRecord, type RollupRecord } from '@zenroll/core';
import { openLog } from '@zenroll/directory';
import { ldapUtil, startSlapd, type Slapd } from '@zenroll/testkit';
import { captureIo, run } from '../src/index.js';
import { formatRecords } from '../src/commands/log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-cli-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureIo(dir);
  const code = await run(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

let n = 0;
function rec(server: string, fields: Partial<RollupRecord> = {}): RollupRecord {
  n++;
  return makeRecord({
    source: 'sender',
    event: 'zipped',
    server,
    from: server,
    origin: server,
    zip: `2026112210300000${n}_${server}_ACME_0.zip`,
    time: new Date(Date.parse('2026-11-22T10:30:00Z') + n * 1000).toISOString(),
    bytes: 1000 + n,
    files: 3,
    ...fields,
  });
}

/** A standalone server's config (no folders needed); `directory` as given. */
async function writeConfig(directory?: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'zenroll.json');
  await writeFile(
    path,
    JSON.stringify({ server: 'LEAF1', tree: 'ACME', role: 'standalone', dirs: {}, ...(directory ? { directory } : {}) }),
  );
  return path;
}

/** Write records the way the service does (the journal, applied to LDAP when configured). */
async function logRecords(configPath: string, records: { record: RollupRecord; replaces?: RollupRecord }[]) {
  const log = await openLog(await loadConfig(configPath));
  for (const w of records) await log.write(w);
  expect(await log.drain(10_000)).toBe(true);
  await log.close();
}

describe('zenroll log, journal only (no directory configured)', () => {
  it('prints the records for a person at 80 columns, newest first, the zipped record replaced by its sent record', async () => {
    const config = await writeConfig();
    const zipped = rec('LEAF1');
    const other = rec('LEAF1', { event: 'discarded', severity: 'warning', message: 'created before\nthe discard time' });
    const sent = { ...zipped, event: 'sent' as const, time: rec('X').time, from: 'LEAF1', to: 'INT1', transferMs: 45, totalMs: 80 };
    await logRecords(config, [{ record: zipped }, { record: other }, { record: sent, replaces: zipped }, { record: rec('LEAF2') }]);
    const { code, out, err } = await cli(['log']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const t = (r: RollupRecord) => `${r.time.slice(0, 10)} ${r.time.slice(11, 23)}`;
    expect(out).toBe(
      [
        `${t(sent)}  sent       LEAF1>INT1  3 files, 1.0 kB, 80 ms`,
        `    ${sent.zip}`,
        `${t(other)}  discarded  LEAF1       3 files, 1.0 kB, WARNING`,
        `    ${other.zip}`,
        '    created before the discard time',
        '',
      ].join('\n'),
    );
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('names the maker of a zip another server forwarded, and wraps long fields and messages at 80 columns', () => {
    const r = rec('LEAF1', {
      event: 'send-failing',
      severity: 'warning',
      from: 'INT1',
      to: 'ROOT',
      origin: 'LEAF1',
      files: 0,
      bytes: 0,
      fields: { node: 'a-rather-long-node-name.example.org', schedule: '0 2 * * *', timezone: 'Europe/Amsterdam', version: '0.1.0' },
      message: `parent https://root.example:7099 did not answer: ECONNREFUSED: connect ECONNREFUSED 10.0.0.1:7099; trying again (14 tries in all), the next in 10 s`,
    });
    const lines = formatRecords([r]).trimEnd().split('\n');
    expect(lines[0]).toBe(`${r.time.slice(0, 10)} ${r.time.slice(11, 23)}  send-failing  INT1>ROOT  WARNING`);
    expect(lines[1]).toBe(`    ${r.zip}  (made by LEAF1)`);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines.slice(2).every((l) => l.startsWith('    '))).toBe(true);
    expect(
      lines
        .slice(2)
        .map((l) => l.slice(4))
        .join(' '),
    ).toBe(`node=a-rather-long-node-name.example.org schedule="0 2 * * *" timezone=Europe/Amsterdam version=0.1.0 ${r.message}`);
  });

  it('prints JSON objects with the fields of the record, for another server, up to --limit', async () => {
    const config = await writeConfig();
    const records = [rec('LEAF2'), rec('LEAF2'), rec('LEAF2', { event: 'sent', from: 'INT1', to: 'ROOT', origin: 'LEAF2' })];
    await logRecords(
      config,
      records.map((record) => ({ record })),
    );
    const { code, out } = await cli(['log', '--server', 'LEAF2', '--limit', '2', '--json', '-c', config]);
    expect(code).toBe(0);
    const shown = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(shown).toEqual([records[2], records[1]].map((r) => recordJson(r as RollupRecord)));
    expect(shown[0]).toMatchObject({ event: 'sent', from: 'INT1', to: 'ROOT', origin: 'LEAF2', server: 'LEAF2', v: 2, msg: '' });
  });

  it('reads the server status log with --status, apart from the roll-up log', async () => {
    const config = await writeConfig();
    const started = rec('LEAF1', {
      event: 'started',
      source: 'service',
      zip: '',
      origin: '',
      files: 0,
      bytes: 0,
      fields: { version: '0.1.0', role: 'leaf', schedule: '0 2 * * *' },
      message: 'zenroll 0.1.0 started as leaf',
    });
    const zipped = rec('LEAF1');
    await logRecords(config, [{ record: started }, { record: zipped }]);
    const status = await cli(['log', '--status']);
    expect(status.code).toBe(0);
    expect(status.out).toBe(
      [
        `${started.time.slice(0, 10)} ${started.time.slice(11, 23)}  started  LEAF1`,
        '    version=0.1.0 role=leaf schedule="0 2 * * *"',
        '    zenroll 0.1.0 started as leaf',
        '',
      ].join('\n'),
    );
    const json = await cli(['log', '--status', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({
      event: 'started',
      from: 'LEAF1',
      version: '0.1.0',
      schedule: '0 2 * * *',
      source: 'service',
    });
    expect((await cli(['log'])).out).not.toContain('started');
  });

  it('says so when there is nothing, and refuses a bad --limit with exit 2', async () => {
    await writeConfig();
    expect(await cli(['log'])).toEqual({ code: 0, out: '', err: 'no roll-up records for LEAF1\n' });
    expect(await cli(['log', '--status'])).toEqual({ code: 0, out: '', err: 'no status records for LEAF1\n' });
    const bad = await cli(['log', '--limit', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--limit "ten"');
  });
});

describe('zenroll log with a directory (a private slapd)', { timeout: 60_000 }, () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.destroy();
  });

  const directory = () => ({ url: slapd.url, bindDN: slapd.serverDN('LEAF1'), passwordFile: slapd.serverPasswordFile('LEAF1') });

  it('reads the records from the directory, the same ones ldapsearch shows', async () => {
    const config = await writeConfig(directory());
    const records = [rec('LEAF2'), rec('LEAF2', { message: 'über' })];
    await logRecords(
      config,
      records.map((record) => ({ record })),
    );
    const { code, out, err } = await cli(['log', '--server', 'LEAF2', '--json']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe(
      `${records
        .map((r) => JSON.stringify(recordJson(r)))
        .reverse()
        .join('\n')}\n`,
    );
    // The command the README gives an operator shows the same values, byte for byte.
    const shown = await slapd.rollUpLog('LEAF2');
    expect([...shown].sort()).toEqual(records.map(serializeRecord).sort());
  });

  it('still reads the v1 values (one-line JSON) an earlier version left in the directory, beside v2 ones', async () => {
    const config = await writeConfig(directory());
    const server = 'INT1';
    const v1 =
      `{"v":1,"id":"old-1","time":"2026-11-01T10:00:00.000Z","source":"receiver","event":"received","severity":"info","server":"${server}",` +
      '"zip":"20261101100000000_LEAF1_ACME_0.zip","bytes":10,"files":2,"from":"LEAF1","to":"INT1","transferMs":0,"totalMs":5,"message":"über"}';
    await ldapUtil(
      'ldapmodify',
      slapd.rootArgs(),
      `dn: ${slapd.serverDN(server)}\nchangetype: modify\nadd: zeninvRollUpLog\nzeninvRollUpLog:: ${Buffer.from(v1).toString('base64')}\n`,
    );
    const v2 = rec(server, { event: 'received', from: 'LEAF1', to: 'INT1', origin: 'LEAF1' });
    await logRecords(config, [{ record: v2 }]);
    const json = await cli(['log', '--server', server, '--json']);
    expect(json.code).toBe(0);
    const [newer, older] = json.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(newer).toMatchObject({ v: 2, id: v2.id, event: 'received' });
    expect(older).toMatchObject({ v: 1, id: 'old-1', event: 'received', from: 'LEAF1', to: 'INT1', files: 2, msg: 'über', server });
    const table = await cli(['log', '--server', server]);
    expect(table.out).toContain(
      '2026-11-01 10:00:00.000  received  LEAF1>INT1  2 files, 10 B, 5 ms\n    20261101100000000_LEAF1_ACME_0.zip\n    über\n',
    );
  });

  it('falls back to the local journal, saying why, while the directory is down', async () => {
    const config = await writeConfig({ ...directory(), url: 'ldap://127.0.0.1:1', timeoutMs: 1000 });
    const record = rec('LEAF1');
    const log = await openLog(await loadConfig(config));
    await log.write({ record });
    await log.close();
    const { code, out, err } = await cli(['log', '--json']);
    expect(code).toBe(0);
    expect(out).toBe(`${JSON.stringify(recordJson(record))}\n`);
    expect(err).toMatch(/did not answer .*ECONNREFUSED.*showing the local journal/);
  });
});
