/**
 * The shipped OCF resource agent (ocf/zenroll, SPEC §9) passes Debian's
 * ocf-tester (package resource-agents, which scripts/system-deps.sh installs):
 * meta-data against ra-api-1.dtd, validate-all, probes and monitors of a
 * stopped and a started resource, start and stop twice each — all on a real
 * `zenroll serve` it starts and stops. Then the agent's monitor against the
 * states a cluster must tell apart: running here, failing, not running here.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, copyFile, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../src/index.js';
import { CLI_BIN } from './helpers/cli.js';
import { tempDir } from './helpers/server-dir.js';
import { Services } from './helpers/service.js';
import { writeServer, type ServerDir } from './serve-helpers.js';

const SHIPPED = fileURLToPath(new URL('../../../ocf/zenroll', import.meta.url));
// ocf-tester runs meta-data as user nobody, who may not reach the checkout: the shipped file, copied where it can.
let AGENT = SHIPPED;
const OCF_TESTER = '/usr/sbin/ocf-tester';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let root: ServerDir;
const services = new Services();

beforeEach(async () => {
  tmp = await tempDir('zenroll-ocf-');
  await chmod(tmp.path, 0o755);
  AGENT = `${tmp.path}/zenroll`;
  await copyFile(SHIPPED, AGENT);
  await chmod(AGENT, 0o755);
  root = await writeServer(tmp.path, { role: 'root', trust: [] });
});

afterEach(async () => {
  // Whatever the agent started and left (a failed test): stopped by the agent itself.
  await run(AGENT, ['stop'], agentEnv('stop'));
  await services.stopAll();
  await tmp.remove();
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    c.stderr.setEncoding('utf8').on('data', (t: string) => (out += t));
    c.once('error', reject);
    c.once('exit', (code) => resolve({ code, out }));
  });
}

const params = () => ({ config: root.configPath, node: 'node-a', binary: CLI_BIN, logfile: `${tmp.path}/serve.log` });

function agentEnv(action: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RESOURCE_INSTANCE: 'zenroll-test',
    __OCF_ACTION: action,
    HA_RSCTMP: tmp.path,
  };
  for (const [k, v] of Object.entries(params())) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

describe('the OCF resource agent (ocf/zenroll)', () => {
  it('passes ocf-tester', async () => {
    expect(existsSync(OCF_TESTER), 'ocf-tester (Debian package resource-agents, scripts/system-deps.sh)').toBe(true);
    const args = ['-v', '-n', 'zenroll-test', ...Object.entries(params()).flatMap(([k, v]) => ['-o', `${k}=${v}`]), AGENT];
    const r = await run(OCF_TESTER, args, { ...process.env, HA_RSCTMP: tmp.path });
    expect(r.out).toContain(`${AGENT} passed all tests`);
    expect(r.code).toBe(0);
    // It really ran the service: its log has the service's start and stop, twice.
    const log = (await readFile(`${tmp.path}/serve.log`, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(log.filter((l) => l.msg === 'serving').length).toBe(2);
    expect(log.filter((l) => l.msg === 'stopped').length).toBe(2);
  }, 180_000);

  it('monitor: 0 running here and healthy, 1 failing (with the reason), 7 after stop and on another node', async () => {
    expect((await run(AGENT, ['monitor'], agentEnv('monitor'))).code).toBe(7);
    expect((await run(AGENT, ['start'], agentEnv('start'))).code).toBe(0);
    expect((await run(AGENT, ['monitor'], agentEnv('monitor'))).code).toBe(0);
    // The service it started is node with serve's flags, and only serve has them.
    const pid = (await readFile(`${tmp.path}/zenroll-zenroll-test.pid`, 'utf8')).trim();
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(argv.slice(1, 1 + SERVE_NODE_FLAGS.length)).toEqual([...SERVE_NODE_FLAGS]);
    expect(argv.slice(1 + SERVE_NODE_FLAGS.length, -1)).toEqual([realpathSync(CLI_BIN), 'serve', '-c', root.configPath]);
    // Another node's monitor on the same folders: not running there.
    expect((await run(AGENT, ['monitor'], { ...agentEnv('monitor'), OCF_RESKEY_node: 'node-b' })).code).toBe(7);
    await rm(root.zipdir, { recursive: true });
    const failing = await run(AGENT, ['monitor'], agentEnv('monitor'));
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/FAILING: receiver failing: .*zipdir/);
    expect((await run(AGENT, ['stop'], agentEnv('stop'))).code).toBe(0);
    expect((await run(AGENT, ['monitor'], agentEnv('monitor'))).code).toBe(7);
    // A bad config is OCF_ERR_CONFIGURED (6), said by validate-all.
    const bad = await run(AGENT, ['validate-all'], { ...agentEnv('validate-all'), OCF_RESKEY_config: CLI_BIN });
    expect(bad.code).toBe(6);
  }, 120_000);
});
