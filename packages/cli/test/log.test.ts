import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, makeRecord, serializeRecord, type RollupRecord } from '@zenroll/core';
import { openLog } from '@zenroll/directory';
import { startSlapd, type Slapd } from '../../../scripts/lib/slapd.mjs';
import { ldapsearchValues } from './helpers/ldapsearch.js';
import { captureIo, run } from '../src/index.js';

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
    source: 'sender', event: 'zipped', server, zip: `2026112210300000${n}_${server}_ACME_0.zip`,
    time: new Date(Date.parse('2026-11-22T10:30:00Z') + n * 1000).toISOString(), bytes: 1000 + n, files: 3, ...fields,
  });
}

/** A standalone server's config (no folders needed); `directory` as given. */
async function writeConfig(directory?: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'zenroll.json');
  await writeFile(path, JSON.stringify({ server: 'LEAF1', tree: 'ACME', role: 'standalone', dirs: {}, ...(directory ? { directory } : {}) }));
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
  it('prints a table newest first, with the zipped record replaced by its sent record', async () => {
    const config = await writeConfig();
    const zipped = rec('LEAF1');
    const other = rec('LEAF1', { event: 'discarded', severity: 'warning', message: 'created before\nthe discard time' });
    const sent = { ...zipped, event: 'sent' as const, time: rec('X').time, from: 'LEAF1', to: 'INT1', transferMs: 45, totalMs: 80 };
    await logRecords(config, [{ record: zipped }, { record: other }, { record: sent, replaces: zipped }, { record: rec('LEAF2') }]);
    const { code, out, err } = await cli(['log']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+SOURCE\s+EVENT\s+ZIP\s+FROM → TO\s+BYTES\s+MS\s+MESSAGE$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${sent.time}\\s+sender\\s+sent\\s+${sent.zip}\\s+LEAF1 → INT1\\s+${sent.bytes}\\s+80$`));
    expect(lines[2]).toContain('created before the discard time');
  });

  it('prints JSON lines, for another server, up to --limit', async () => {
    const config = await writeConfig();
    const records = [rec('LEAF2'), rec('LEAF2'), rec('LEAF2')];
    await logRecords(config, records.map((record) => ({ record })));
    const { code, out } = await cli(['log', '--server', 'LEAF2', '--limit', '2', '--json', '-c', config]);
    expect(code).toBe(0);
    expect(out).toBe(`${serializeRecord(records[2] as RollupRecord)}\n${serializeRecord(records[1] as RollupRecord)}\n`);
  });

  it('says so when there is nothing, and refuses a bad --limit with exit 2', async () => {
    await writeConfig();
    expect(await cli(['log'])).toEqual({ code: 0, out: '', err: 'no roll-up records for LEAF1\n' });
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
    await logRecords(config, records.map((record) => ({ record })));
    const { code, out, err } = await cli(['log', '--server', 'LEAF2', '--json']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe(`${records.map(serializeRecord).reverse().join('\n')}\n`);
    // The command the README gives an operator shows the same values, byte for byte.
    const shown = await ldapsearchValues(slapd, 'LEAF2');
    expect([...shown].sort()).toEqual(records.map(serializeRecord).sort());
  });

  it('falls back to the local journal, saying why, while the directory is down', async () => {
    const config = await writeConfig({ ...directory(), url: 'ldap://127.0.0.1:1', timeoutMs: 1000 });
    const record = rec('LEAF1');
    const log = await openLog(await loadConfig(config));
    await log.write({ record });
    await log.close();
    const { code, out, err } = await cli(['log', '--json']);
    expect(code).toBe(0);
    expect(out).toBe(`${serializeRecord(record)}\n`);
    expect(err).toMatch(/did not answer .*ECONNREFUSED.*showing the local journal/);
  });
});
