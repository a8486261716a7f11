/**
 * Two nodes of one server on one shared folder tree (SPEC §9), as real
 * `zenroll serve` processes told apart by ZENROLL_NODE: the second one,
 * `--standby`, waits while the first one lives, takes over when it is killed
 * (SIGKILL) or frozen (SIGSTOP) — judged by the lock's heartbeat, so that the
 * lock's 60 s are cut to ZENROLL_LOCK_STALE_MS here — and a frozen holder
 * that wakes up stops with LOCK_LOST. `zenroll status --check` and
 * `/v1/health` say which node runs it and whether it runs well.
 */
import { request } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/server-dir.js';
import { Services, linesOf } from './helpers/service.js';
import { writeServer, type ServerDir } from './serve-helpers.js';

const STALE_MS = 1500;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let root: ServerDir;
const services = new Services();

beforeEach(async () => {
  tmp = await tempDir('zenroll-standby-');
  root = await writeServer(tmp.path, { role: 'root', trust: [] });
});

afterEach(async () => {
  await services.stopAll();
  await tmp.remove();
});

const node = (name: string) => ({ ZENROLL_NODE: name, ZENROLL_LOCK_STALE_MS: String(STALE_MS) });
const check = (name: string) => runCli(['status', '--check', '-c', root.configPath], { env: node(name) });

function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    })
      .on('error', reject)
      .end();
  });
}

describe('serve --standby (SPEC §9)', () => {
  it('waits while the holder lives, takes over when it is killed or frozen, and status --check follows the node that runs it', async () => {
    expect((await check('node-a')).code).toBe(7);

    const a = services.start(root.configPath, node('node-a'));
    const aServing = await a.waitFor((l) => l.msg === 'serving');
    const b = services.start(root.configPath, node('node-b'), ['--standby']);
    const waiting = await b.waitFor((l) => l.msg === 'standby: waiting for serve.lock');
    expect(waiting.holder).toMatchObject({ node: 'node-a', pid: a.child.pid });

    const onA = await check('node-a');
    expect({ code: onA.code, out: onA.stdout }).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^INT1: running here \(pid \d+\), ok\n$/),
    });
    const onB = await check('node-b');
    expect({ code: onB.code, out: onB.stdout }).toMatchObject({
      code: 7,
      out: expect.stringContaining('not running on this node (node-b); node node-a runs it'),
    });
    // The Receiver's port answers the same report.
    const viaReceiver = await get(`${aServing.url as string}/v1/health`);
    expect(viaReceiver.status).toBe(200);
    expect((viaReceiver.body.checks as { name: string }[]).map((c) => c.name)).toEqual(
      expect.arrayContaining(['lock', 'folders', 'receiver']),
    );

    // Three times the staleness with a live holder: the standby does not move.
    await new Promise((r) => setTimeout(r, 3 * STALE_MS));
    expect(linesOf(b, 'serving')).toEqual([]);

    // Killed: the standby takes over, judged by the heartbeat that stopped (another node: its pid means nothing there).
    a.kill('SIGKILL');
    const took = await b.waitFor((l) => l.event === 'takeover');
    expect(took).toMatchObject({ node: 'node-b', from: { node: 'node-a', pid: a.child.pid } });
    await b.waitFor((l) => l.msg === 'serving');
    expect((await check('node-b')).code).toBe(0);
    expect((await check('node-a')).code).toBe(7);

    // Frozen: a new standby on node-a takes over after the staleness; the frozen one, woken, stops with LOCK_LOST.
    b.kill('SIGSTOP');
    const a2 = services.start(root.configPath, node('node-a'), ['--standby']);
    await a2.waitFor((l) => l.event === 'takeover');
    await a2.waitFor((l) => l.msg === 'serving');
    expect((await check('node-a')).code).toBe(0);
    b.kill('SIGCONT');
    expect(await b.exited).toEqual({ code: 1, signal: null });
    expect(b.stderr).toMatch(/LOCK_LOST/);
    expect(linesOf(b, 'lock lost: stopping')).toHaveLength(1);
    // The one that stopped left the new holder's lock, and its socket, alone.
    expect((await check('node-a')).code).toBe(0);

    // Each takeover is in the server status log (the local journal here: no directory).
    await services.stopAll();
    const log = await runCli(['log', '--status', '--json', '-c', root.configPath], { env: node('node-a') });
    expect(log.stderr).toBe('');
    const taken = log.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.event === 'lock-taken');
    expect(taken.map((r) => r.msg)).toEqual([
      expect.stringMatching(/^node node-a took INT1 over from process \d+ on node-b \(zenroll serve/),
      expect.stringMatching(/^node node-b took INT1 over from process \d+ on node-a \(zenroll serve/),
    ]);
  }, 90_000);

  it('says why when a check fails: /v1/health 503 on both listeners and status --check exit 1', async () => {
    const a = services.start(root.configPath, node('node-a'));
    const serving = await a.waitFor((l) => l.msg === 'serving');
    await rm(root.zipdir, { recursive: true });
    const viaReceiver = await get(`${serving.url as string}/v1/health`);
    expect(viaReceiver.status).toBe(503);
    expect(viaReceiver.body).toMatchObject({
      error: 'UNHEALTHY',
      status: 'failing',
      message: expect.stringMatching(/^receiver failing: .*zipdir/),
    });
    const r = await check('node-a');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INT1: running here \(pid \d+\) but FAILING: receiver failing: .*zipdir/);
    const json = await runCli(['status', '--check', '--json', '-c', root.configPath], { env: node('node-a') });
    expect(JSON.parse(json.stdout)).toMatchObject({ exit: 1, health: { status: 'failing', node: 'node-a' } });
    expect(JSON.parse(json.stdout).health.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'lock', state: 'ok' }),
        expect.objectContaining({ name: 'folders', state: 'ok' }),
        expect.objectContaining({ name: 'receiver', state: 'failing' }),
      ]),
    );
  }, 60_000);

  it('zenroll rollup on a node whose service does not answer here refuses while another node holds serve.lock', async () => {
    const leaf = await writeServer(join(tmp.path, 'leaf'), {
      role: 'leaf',
      server: 'LEAF1',
      trust: [],
      parent: { url: 'http://127.0.0.1:9' },
    });
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(leaf.statedir, { recursive: true });
    // What node-a's serve wrote on the shared disk; its admin socket is on node-a, out of reach here.
    await writeFile(
      join(leaf.statedir, 'serve.lock'),
      JSON.stringify({
        pid: 4242,
        node: 'node-a',
        host: 'node-a',
        purpose: 'zenroll serve',
        since: '2026-12-05T01:00:00.000Z',
        token: 'a'.repeat(24),
      }),
    );
    const r = await runCli(['rollup', '-c', leaf.configPath], { env: node('node-b') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /LOCK_HELD: LEAF1 is served by node node-a \(process 4242, since 2026-12-05T01:00:00.000Z\): run zenroll rollup there/,
    );
  }, 60_000);

  it('a standby stopped with SIGTERM while it waits exits 0 and leaves the holder alone', async () => {
    const a = services.start(root.configPath, node('node-a'));
    await a.waitFor((l) => l.msg === 'serving');
    const b = services.start(root.configPath, node('node-b'), ['--standby']);
    await b.waitFor((l) => l.msg === 'standby: waiting for serve.lock');
    b.kill('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
    expect((await check('node-a')).code).toBe(0);
  }, 60_000);
});
