/**
 * `zenroll serve` of a sending role (a leaf, which runs the scheduled Sender)
 * as a real process: one service per folders (statedir/serve.lock), a lock
 * left by a killed one taken over, `zenroll rollup --now` answered through
 * the admin socket, and SIGTERM that does not wait for a roll-up's retries.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLastRollup } from '../src/service/runner.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, linesOf, section, terminate } from './helpers/service.js';
import { TestReceiver, initArgs } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
let leaf: ServerFolder;
const services = new Services();

/** Never during a test run (midnight of New Year's Day): roll-ups here are forced. */
const RARELY = '0 0 1 1 *';

beforeEach(async () => {
  tmp = await tempDir('zenroll-lifecycle-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
  leaf = await initHere(join(tmp.path, 'leaf'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: parent.url, dir: null } }));
  await leaf.edit((json) => {
    Object.assign(section(json, 'sender'), { schedule: RARELY, stableMs: 0 });
  });
});

afterEach(async () => {
  await services.stopAll();
  await parent.close();
  await tmp.remove();
});

const statedir = () => leaf.config.dirs.statedir;
const entmergedir = () => leaf.config.dirs.entmergedir as string;
const zipsIn = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.zip'));

describe('zenroll serve of a leaf', () => {
  it('refuses a second service on the same folders; the first keeps serving; a killed one’s lock does not block the next', async () => {
    const first = services.start(leaf.configPath);
    await first.waitFor((l) => l.msg === 'admin endpoint ready');
    const scheduled = await first.waitFor((l) => l.msg === 'sender scheduled');
    expect(scheduled).toMatchObject({ schedule: RARELY, timezone: 'UTC' });
    expect(Date.parse(scheduled.next as string)).toBeGreaterThan(Date.now());

    const second = services.start(leaf.configPath);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stderr).toMatch(/LOCK_HELD: .*serve\.lock is held by process \d+ on .*\(zenroll serve, since /);
    expect(second.lines.filter((l) => l.msg === 'sender scheduled')).toEqual([]);

    // The first one still works: a forced roll-up goes through its admin socket.
    const scans = await writeScans(entmergedir(), 3);
    const r = await runCli(['rollup', '--now', '-c', leaf.configPath]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/1 zipped, 0 discarded, 1 sent, 0 rejected, nothing left\n$/);
    expect(linesOf(first, 'roll-up started', { reason: 'forced' })).toHaveLength(1);
    expect(parent.stored).toHaveLength(1);
    expect(scans.names).toHaveLength(3);

    // A service killed outright leaves its lock and socket; the next one takes them over.
    first.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(statedir(), 'serve.lock'))).toBe(true);
    expect(existsSync(join(statedir(), 'admin.sock'))).toBe(true);
    const third = services.start(leaf.configPath);
    await third.waitFor((l) => l.msg === 'admin endpoint ready');
    const holder = JSON.parse(await readFile(join(statedir(), 'serve.lock'), 'utf8')) as { pid: number };
    expect(holder.pid).toBe(third.child.pid);
    const status = await runCli(['status', '--json', '-c', leaf.configPath]);
    expect(JSON.parse(status.stdout)).toMatchObject({ service: { running: true, pid: third.child.pid } });

    expect(await terminate(third)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(statedir(), 'serve.lock'))).toBe(false);
    expect(existsSync(join(statedir(), 'admin.sock'))).toBe(false);
  });

  it('refuses a statedir too deep for its admin socket (exit 2), and rollup then runs in-process', async () => {
    const deep = join(tmp.path, 'state'.padEnd(60, '-'), 'of'.padEnd(60, '-'), 'LEAF1');
    await leaf.edit((json) => {
      section(json, 'dirs').statedir = deep;
    });
    const svc = services.start(leaf.configPath);
    expect((await svc.exited).code).toBe(2);
    expect(svc.stderr).toMatch(
      /CONFIG_INVALID: the admin socket \S+admin\.sock would be \d+ bytes long, more than the 10[37] a Unix socket path may have: set dirs\.statedir to a shorter folder/,
    );
    expect(existsSync(join(deep, 'serve.lock'))).toBe(false);

    await writeScans(entmergedir(), 2);
    const r = await runCli(['rollup', '--now', '-c', leaf.configPath]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(parent.stored).toHaveLength(1);
  });

  it('stops on SIGTERM while a roll-up waits to retry, answers the waiting rollup --now, and leaves the zip for the next one', async () => {
    // An hour between tries: the service must not sit that out.
    await leaf.edit((json) => {
      section(json, 'sender').retry = { baseMs: 3_600_000, factor: 2, tries: 5 };
    });
    await writeScans(entmergedir(), 2);
    parent.failNext(1, { kind: 'drop' });
    const svc = services.start(leaf.configPath);
    await svc.waitFor((l) => l.msg === 'admin endpoint ready');

    const forced = spawnCli(['rollup', '--now', '-c', leaf.configPath]);
    const retry = await svc.waitFor((l) => l.msg === 'sender retry');
    expect(retry).toMatchObject({ tries: 1, of: 5, delayMs: 3_600_000 });

    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
    const r = await forced.result;
    expect(r.code).toBe(1);
    const [zip] = await zipsIn(leaf.config.dirs.entpushdir as string);
    expect(zip).toBeDefined();
    expect(r.stdout).toContain(`left      ${zip}  the roll-up was stopped while it waited to retry`);
    expect(r.stdout).toMatch(/1 zipped, 0 discarded, 0 sent, 0 rejected, 1 left/);
    expect(await readLastRollup(statedir())).toMatchObject({ reason: 'forced', ok: false, zipped: 1, sent: 0, left: 1 });
    expect(svc.lines.at(-1)?.msg).toBe('stopped');

    // The next service sends what was left.
    const next = services.start(leaf.configPath);
    await next.waitFor((l) => l.msg === 'admin endpoint ready');
    const again = await runCli(['rollup', '--now', '-c', leaf.configPath, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, zipped: [], sent: [{ zip, status: 201 }], left: [] });
    expect(parent.stored.map((z) => z.name)).toEqual([zip]);
    expect(await terminate(next)).toEqual({ code: 0, signal: null });
  });
});
