/**
 * The server status log (SPEC §7, `zenrollStatusLog`): a real `zenroll serve`
 * writes `started` (version, role, schedule) and `stopped`; `zenroll log
 * --status` reads them; the writer never throws.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog, parseRecord, serializeRecord, type LogWrite } from '@zenroll/core';
import { statusLog } from '../src/service/status-log.js';
import { VERSION } from '../src/version.js';
import { runCli } from './helpers/cli.js';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, section, terminate } from './helpers/service.js';
import { TestReceiver, initArgs } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
let leaf: ServerFolder;
const services = new Services();

beforeEach(async () => {
  tmp = await tempDir('zenroll-status-log-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
  leaf = await initHere(join(tmp.path, 'leaf'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parent.url, dir: null } }));
  await leaf.edit((json) => {
    Object.assign(section(json, 'sender'), { schedule: '0 0 1 1 *' });
  });
});

afterEach(async () => {
  await services.stopAll();
  await parent.close();
  await tmp.remove();
});

describe('the server status log', () => {
  it('has a started record (version, role, schedule) and a stopped one for each run of zenroll serve', async () => {
    const svc = services.start(leaf.configPath);
    await svc.waitFor((l) => l.msg === 'admin endpoint ready');
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });

    const json = await runCli(['log', '--status', '--json', '-c', leaf.configPath]);
    expect(json.code).toBe(0);
    const [stopped, started] = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(started).toMatchObject({
      event: 'started',
      server: 'LEAF1',
      from: 'LEAF1',
      to: '',
      source: 'service',
      severity: 'info',
      v: 2,
      version: VERSION,
      role: 'leaf',
      schedule: '0 0 1 1 *',
      timezone: 'UTC',
    });
    expect(stopped).toMatchObject({ event: 'stopped', from: 'LEAF1', source: 'service', v: 2 });
    // Nothing of the service's life goes to the roll-up log.
    const rollup = await runCli(['log', '--json', '-c', leaf.configPath]);
    expect(rollup.stdout).not.toMatch(/"event":"(started|stopped)"/);

    const table = await runCli(['log', '--status', '-c', leaf.configPath]);
    expect(table.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  stopped  LEAF1\n/);
    expect(table.stdout).toMatch(
      new RegExp(`\n    version=${VERSION.replaceAll('.', '\\.')} role=leaf .*schedule="0 0 1 1 \\*" timezone=UTC\n`),
    );
  });

  it('has a problem record, saying why, when the service cannot start', async () => {
    await rm(leaf.config.keys.private);
    const svc = services.start(leaf.configPath);
    expect((await svc.exited).code).toBe(2); // a start-up check (SPEC §5: a bad setup is exit 2)
    const json = await runCli(['log', '--status', '--json', '-c', leaf.configPath]);
    const records = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.event)).toEqual(['problem']);
    expect(records[0]).toMatchObject({ severity: 'error', from: 'LEAF1', source: 'service' });
    expect(String(records[0]?.msg)).toMatch(/could not start: .*private key .*does not exist/s);
  });

  it('writes one record per call, in the form of SPEC §7, and never throws', async () => {
    const log = new MemoryLog();
    const errors: string[] = [];
    const write = statusLog(
      log,
      'INT1',
      { error: (_o, msg) => errors.push(msg) },
      { now: () => Date.parse('2026-11-22T10:30:05.123Z'), id: () => 'id-1' },
    );
    await write('wake-up', {
      from: 'ROOT',
      to: 'INT1',
      message: 'ROOT asked for a roll-up',
      fields: { requested: '2026-11-22T10:30:00.000Z' },
    });
    const [w] = log.writes as LogWrite[];
    const line = serializeRecord((w as LogWrite).record);
    expect(line).toBe(
      '2026-11-22T10:30:05.123Z wake-up ROOT>INT1 - requested=2026-11-22T10:30:00.000Z source=service severity=info id=id-1 v=2 msg="ROOT asked for a roll-up"',
    );
    expect(parseRecord(line, 'INT1')).toEqual((w as LogWrite).record);
    await write('lock-taken');
    expect((log.writes[1] as LogWrite).record).toMatchObject({ event: 'lock-taken', severity: 'warning', from: 'INT1', to: '' });

    log.write = async () => {
      throw new Error('disk gone');
    };
    await expect(write('problem', { message: 'x' })).resolves.toBeUndefined();
    expect(errors).toEqual(['could not write the status record "problem"']);
  });
});
