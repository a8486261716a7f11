/**
 * `zenroll rollup --now` while a scheduled roll-up runs in `zenroll serve`
 * (issue 6): the forced one waits for the scheduled one, then runs once;
 * ticks in between are skipped and logged; nothing is sent twice. The parent
 * sits behind a gate that holds uploads until the test opens it, so the
 * scheduled roll-up is still running when the forced one is asked for.
 */
import { request, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOuterPrp } from '@zenroll/core';
import type { LogLine } from './serve-helpers.js';
import { spawnCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, section, terminate, waitUntil } from './helpers/service.js';
import { TestReceiver, initArgs } from '@zenroll/testkit';

/** A forwarding proxy in front of the parent that holds every PUT until `open()`. */
class Gate {
  readonly held: string[] = [];
  #waiting: (() => void)[] = [];
  #open = false;
  readonly #sockets = new Set<Socket>();
  url = '';

  constructor(
    readonly server: Server,
    readonly target: URL,
  ) {}

  static async start(target: string): Promise<Gate> {
    const gate: Gate = new Gate(
      createServer((req, res) => gate.#handle(req, res)),
      new URL(target),
    );
    gate.server.on('connection', (s: Socket) => {
      gate.#sockets.add(s);
      s.once('close', () => gate.#sockets.delete(s));
    });
    await new Promise<void>((r) => gate.server.listen(0, '127.0.0.1', r));
    gate.url = `http://127.0.0.1:${(gate.server.address() as AddressInfo).port}`;
    return gate;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const forward = () => {
      const up = request(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (req.method === 'PUT' && !this.#open) {
      this.held.push(req.url ?? '');
      this.#waiting.push(forward);
    } else forward();
  }

  open(): void {
    this.#open = true;
    for (const f of this.#waiting.splice(0)) f();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
let gate: Gate;
let leaf: ServerFolder;
const services = new Services();

beforeEach(async () => {
  tmp = await tempDir('zenroll-overlap-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
  gate = await Gate.start(parent.url);
  leaf = await initHere(join(tmp.path, 'leaf'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: gate.url, dir: null } }));
  await leaf.edit((json) => {
    // Every second, with seconds: node-cron takes six fields.
    Object.assign(section(json, 'sender'), { schedule: '* * * * * *', stableMs: 0 });
  });
});

afterEach(async () => {
  await services.stopAll();
  await gate.close();
  await parent.close();
  await tmp.remove();
});

/** The roll-ups a service ran, in log order; throws if two ever overlapped. */
function rollupsOf(lines: LogLine[]): { reason: string; started: number; finished: number; line: LogLine }[] {
  const out: { reason: string; started: number; finished: number; line: LogLine }[] = [];
  let running: { reason: string; started: number } | null = null;
  lines.forEach((l, i) => {
    if (l.msg === 'roll-up started') {
      if (running !== null) throw new Error(`roll-up started at line ${i} while the one of line ${running.started} ran`);
      running = { reason: l.reason as string, started: i };
    }
    if (l.msg === 'roll-up finished' || l.msg === 'roll-up failed') {
      if (running === null) throw new Error(`roll-up ended at line ${i} without having started`);
      out.push({ ...running, finished: i, line: l });
      running = null;
    }
  });
  return out;
}

describe('rollup --now while a scheduled roll-up runs', () => {
  it('waits for it, then runs once; nothing is sent twice', async () => {
    const entmergedir = leaf.config.dirs.entmergedir as string;
    const first = await writeScans(entmergedir, 60, { seed: 1 });
    const svc = services.start(leaf.configPath);

    // The scheduled roll-up zipped the 60 scans into two zips and is stuck sending the first.
    await waitUntil('the first upload to reach the gate', () => gate.held.length === 1);
    await svc.waitFor((l) => l.msg === 'roll-up still running: this tick is skipped');

    // New scans arrive; an operator forces a roll-up.
    const second = await writeScans(entmergedir, 30, { seed: 2, startIndex: 60 });
    const forced = spawnCli(['rollup', '--now', '-c', leaf.configPath]);
    await svc.waitFor((l) => l.msg === 'forced roll-up waits for the running one');
    expect(forced.child.exitCode).toBeNull();
    expect(gate.held).toHaveLength(1);

    gate.open();
    const r = await forced.result;
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    // The forced roll-up did the new scans only: the scheduled one had sent its own.
    expect(r.stdout).toMatch(/^zipped {4}\S+_LEAF1_ACME_0\.zip {2}30 \.str/m);
    expect(r.stdout).toMatch(/1 zipped, 0 discarded, 1 sent, 0 rejected, nothing left\n$/);

    const runs = rollupsOf(svc.lines);
    const forcedRun = runs.findIndex((x) => x.reason === 'forced');
    expect(forcedRun).toBeGreaterThan(0);
    const scheduled = runs[forcedRun - 1]!;
    expect(scheduled).toMatchObject({ reason: 'scheduled', line: { zipped: 2, sent: 2, ok: true } });
    expect(runs[forcedRun]?.line).toMatchObject({ zipped: 1, sent: 1, ok: true });
    // The forced one asked while the scheduled one ran, and started only after it finished.
    const askedAt = svc.lines.findIndex((l) => l.msg === 'forced roll-up waits for the running one');
    expect(scheduled.started).toBeLessThan(askedAt);
    expect(askedAt).toBeLessThan(scheduled.finished);
    expect(runs.filter((x) => x.reason === 'forced')).toHaveLength(1);

    // Three zips at the parent, each once, holding each of the 90 scans once.
    expect(parent.stored).toHaveLength(3);
    expect(new Set(parent.stored.map((z) => z.name)).size).toBe(3);
    expect(parent.attempts.map((a) => a.outcome)).toEqual([201, 201, 201]);
    const arrived: string[] = [];
    for (const z of parent.stored) arrived.push(...(await readOuterPrp(z.path)).files.map((f) => f.name));
    expect(arrived.sort()).toEqual([...first.names, ...second.names].sort());

    // Later ticks find nothing to do and send nothing.
    const ticks = runs.length;
    await waitUntil('two more scheduled roll-ups', () => rollupsOf(svc.lines).length >= ticks + 2);
    expect(
      rollupsOf(svc.lines)
        .slice(ticks)
        .every((x) => x.reason === 'scheduled' && x.line.sent === 0 && x.line.zipped === 0),
    ).toBe(true);
    expect(parent.stored).toHaveLength(3);
    expect(await terminate(svc)).toEqual({ code: 0, signal: null });
    expect(() => rollupsOf(svc.lines)).not.toThrow();
  });
});
