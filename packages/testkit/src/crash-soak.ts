/**
 * The crash soak (issue 7): a real leaf → intermediate-db → root tree of
 * `zenroll serve` processes logging to a private slapd, one of them killed
 * with SIGKILL in every round (soak-kills.ts: at a named crash point or at a
 * random moment), then started again, and the roll-ups driven (admin socket
 * POST /v1/rollup) until nothing waits anywhere. This file drives the
 * rounds; after each, soak-checks.ts checks that nothing was lost, doubled
 * or left behind and that the directory shows each zip's way up once.
 *
 * scripts/crash-soak.mjs runs it from the shell; packages/cli/test/crash-soak.test.ts
 * runs a short version in CI.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fieldOf, loadPublicKey, messageOf } from '@zenroll/core';
import { sleep, startSlapd, type Slapd } from '@zenroll/directory/slapd';
import { writeFixtures } from '@zenroll/lab';
import { SoakChecks, type CheckFigures } from './soak-checks.js';
import { rng, type Kill, type Killed } from './soak-kills.js';
import { SERVERS, initSoakTree, otherFileSystem, outerZips, required, settled, waitingWhere, type SoakServer } from './soak-tree.js';
import { askAdmin, startServe, stopServe, type TreeNode, type ZenrollCli } from './tree.js';

export { NAMED, type Kill, type Killed } from './soak-kills.js';
export type { SoakServer } from './soak-tree.js';

export interface SoakFigures extends CheckFigures {
  rounds: number;
  namedKills: number;
  randomKills: number;
  killsAtStartup: number;
  notReached: string[];
  restarts: number;
  /** Roll-ups that met a lock a kill left behind (and waited it out). */
  lockWaits: number;
  strsGiven: number;
  failures: { round: number; kill: string; problems: string[] }[];
}

export interface CrashSoakOptions {
  /** The CLI to run (@zenroll/cli's bin.js and SERVE_NODE_FLAGS). */
  cli: ZenrollCli;
  dir: string;
  log?: (line: string) => void;
  filesPerRound?: number;
  seed?: number;
}

interface SoakNode extends TreeNode {
  /** The crash point the running process was started with. */
  armed?: string | null;
  /** Being stopped on purpose (SIGTERM): its exit is no crash. */
  stopping?: boolean;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export class CrashSoak {
  readonly figures: SoakFigures = {
    rounds: 0,
    namedKills: 0,
    randomKills: 0,
    killsAtStartup: 0,
    notReached: [],
    restarts: 0,
    lockWaits: 0,
    strsGiven: 0,
    strsChecked: 0,
    zipsVerified: 0,
    recordsChecked: 0,
    lost: 0,
    doubled: 0,
    leftovers: 0,
    failures: [],
  };
  readonly #o: Required<Omit<CrashSoakOptions, 'seed'>>;
  readonly #random: () => number;
  /** sha256 → count the leaf was given. */
  readonly #expected = new Map<string, number>();
  #round = 0;
  #kills: Killed[] = [];
  readonly #crashes: string[] = [];
  readonly #lastResult = new Map<SoakServer, unknown>();
  /** round:server whose roll-up met a lock left by a kill. */
  readonly #lockWaits = new Set<string>();
  #restarts: Promise<void> = Promise.resolve();
  #stopping = false;
  #shortestDriveMs = Number.POSITIVE_INFINITY;
  #slapd: Slapd | undefined;
  #merge: string | null = null;
  #nodes: Record<SoakServer, SoakNode> | undefined;
  #checks: SoakChecks | undefined;

  constructor(o: CrashSoakOptions) {
    this.#o = { cli: o.cli, dir: o.dir, log: o.log ?? (() => undefined), filesPerRound: o.filesPerRound ?? 120 };
    this.#random = rng(o.seed ?? 1);
  }

  get #tree(): Record<SoakServer, SoakNode> {
    if (this.#nodes === undefined) throw new Error('the crash soak is not started');
    return this.#nodes;
  }

  async start(): Promise<void> {
    const slapd = await startSlapd({ dir: join(this.#o.dir, 'slapd'), servers: [...SERVERS] });
    this.#slapd = slapd;
    const merge = await otherFileSystem(this.#o.dir);
    this.#merge = merge;
    this.#nodes = await initSoakTree({ cli: this.#o.cli, dir: join(this.#o.dir, 'tree'), slapd, merge });
    const leaf = this.#tree.LEAF1;
    await mkdir(required(leaf.config.dirs.entmergedir, 'LEAF1 entmergedir'), { recursive: true });
    this.#checks = new SoakChecks({
      tree: this.#tree,
      slapd,
      leafKey: await loadPublicKey(leaf.config.keys.public),
      expected: this.#expected,
      figures: this.figures,
    });
    for (const s of SERVERS) await this.#launch(s);
    this.#o.log(
      `tree up: ${SERVERS.map((s) => `${s} pid ${this.#tree[s].pid ?? '?'}`).join(', ')}; slapd ${slapd.url}; leaf scans on ${merge ?? 'the same file system (collect-after-copy cannot be reached)'}`,
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#restarts;
    for (const s of SERVERS) if (this.#nodes) await stopServe(this.#nodes[s], 10_000).catch(() => undefined);
    await this.#slapd?.stop().catch(() => undefined);
    if (this.#merge !== null) await rm(this.#merge, { recursive: true, force: true });
  }

  /**
   * Start a server's service, with a crash point armed when `point` is
   * given. A SIGKILL (the crash point's, or the soak's own) is noted and the
   * service started again at once, as a cluster manager would.
   */
  async #launch(server: SoakServer, point?: string): Promise<void> {
    const env = { ...process.env };
    delete env.ZENROLL_CRASH_AT;
    if (point !== undefined) env.ZENROLL_CRASH_AT = point;
    const node = this.#tree[server];
    node.armed = point ?? null;
    let child: SoakNode['child'];
    try {
      child = await startServe(node, { env });
    } catch (err) {
      // A point reached during start-up recovery (a promotion) kills it before its admin socket answers.
      if (!(point !== undefined && node.child?.signalCode === 'SIGKILL')) throw err;
      this.figures.killsAtStartup += 1;
      this.#killed(server);
      return this.#launch(server);
    }
    child.once('exit', (code, signal) => {
      if (this.#stopping || node.stopping === true) return;
      if (signal !== 'SIGKILL') {
        this.#crashes.push(`${server} exited by itself (${code ?? signal ?? '?'}); see ${join(node.dir, 'serve.log')}`);
        return;
      }
      this.#killed(server);
      this.#restarts = this.#restarts
        .then(() => this.#launch(server))
        .catch((err: unknown) => void this.#crashes.push(`${server} did not start again: ${messageOf(err)}`));
    });
  }

  #killed(server: SoakServer): void {
    const node = this.#tree[server];
    this.#kills.push({ server, point: node.armed ?? null });
    node.armed = null;
    this.figures.restarts += 1;
  }

  /** Stop a service cleanly (SIGTERM), not counted as a kill. */
  async #stopClean(server: SoakServer): Promise<void> {
    const node = this.#tree[server];
    node.stopping = true;
    await stopServe(node);
    node.stopping = false;
  }

  #dead(server: SoakServer): boolean {
    const c = this.#tree[server].child;
    return c === undefined || c.exitCode !== null || c.signalCode !== null;
  }

  /** Wait for the restarts under way; fail on a service that died by itself. */
  async #revive(): Promise<void> {
    await this.#restarts;
    if (this.#crashes.length > 0) throw new Error(this.#crashes.join('; '));
  }

  async #ask(server: SoakServer): Promise<void> {
    if (this.#dead(server)) return;
    const r = await askAdmin(this.#tree[server], 'POST', '/v1/rollup').catch((err: unknown) => ({ failed: messageOf(err) }));
    this.#lastResult.set(server, r);
    const failed = fieldOf(r, 'failed');
    if (typeof failed === 'string' && failed.includes('LOCK_HELD')) this.#lockWaits.add(`${this.#round}:${server}`);
  }

  /** What still waits where, and what the last roll-ups said about it: for a round that does not settle. */
  async #stuck(): Promise<string> {
    const said = (s: SoakServer) => {
      const r = this.#lastResult.get(s);
      if (r === undefined || r === null) return `${s}: no answer`;
      const failed = fieldOf(r, 'failed');
      if (typeof failed === 'string') return `${s}: ${failed}`;
      return `${s}: left ${JSON.stringify(fieldOf(r, 'left'))} errors ${JSON.stringify(fieldOf(r, 'errors'))}`;
    };
    return [...(await waitingWhere(this.#tree)), said('LEAF1'), said('INT1')].join('\n  ');
  }

  async #waitZipdir(server: SoakServer, ms: number): Promise<void> {
    for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) {
      if (this.#dead(server) || (await outerZips(this.#tree[server].config.dirs.zipdir)).length === 0) return;
    }
  }

  /** Roll up leaf, then INT1, until every scan is at ROOT; whatever dies meanwhile is started again. */
  async #drive(): Promise<number> {
    // Bounded by time, not passes: a lock left empty by a kill is waited out (core lock.ts, a few seconds).
    for (let pass = 1, until = Date.now() + 120_000; ; pass++) {
      await this.#revive();
      await this.#ask('LEAF1');
      await this.#waitZipdir('INT1', 15_000);
      await this.#revive();
      await this.#ask('INT1');
      await this.#waitZipdir('ROOT', 15_000);
      await this.#revive();
      if (await settled(this.#tree)) return pass;
      if (Date.now() > until) {
        throw new Error(`round ${this.#round}: the tree did not settle in ${pass} passes (120 s)\n  ${await this.#stuck()}`);
      }
      await sleep(100);
    }
  }

  async #newScans(): Promise<number> {
    const out = required(this.#tree.LEAF1.config.dirs.entmergedir, 'LEAF1 entmergedir');
    const { names } = await writeFixtures({
      out,
      count: this.#o.filesPerRound,
      seed: 1000 + this.#round,
      startIndex: this.#round * this.#o.filesPerRound,
      minBytes: 1500,
      maxBytes: 6000,
    });
    for (const n of names) {
      const h = sha256(await readFile(join(out, n)));
      this.#expected.set(h, (this.#expected.get(h) ?? 0) + 1);
    }
    this.figures.strsGiven += names.length;
    return names.length;
  }

  /** One round: new scans, a kill (named point, or random time), then drive and check. */
  async runRound(kill: Kill): Promise<{ killed: Killed[]; problems: string[] }> {
    this.#round += 1;
    const given = await this.#newScans();
    this.#kills = [];
    let timer: NodeJS.Timeout | undefined;
    if (kill.point !== undefined) {
      await this.#stopClean(kill.server);
      await this.#launch(kill.server, kill.point);
    } else {
      timer = setTimeout(() => {
        const c = this.#tree[kill.server].child;
        if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, kill.afterMs ?? 0);
    }
    let passes: number;
    const driving = Date.now();
    try {
      passes = await this.#drive();
    } finally {
      clearTimeout(timer);
    }
    this.#shortestDriveMs = Math.min(this.#shortestDriveMs, Date.now() - driving);
    await this.#revive();
    // A named point this round never reached is disarmed (and reported).
    for (const s of SERVERS) {
      const armed = this.#tree[s].armed;
      if (armed === undefined || armed === null) continue;
      this.figures.notReached.push(`${s}:${armed}`);
      await this.#stopClean(s);
      await this.#launch(s);
    }
    const killed = this.#kills;
    if (kill.point !== undefined) this.figures.namedKills += killed.filter((k) => k.point === kill.point).length;
    else this.figures.randomKills += killed.length;
    const problems = await this.check();
    this.figures.rounds += 1;
    this.figures.lockWaits = this.#lockWaits.size;
    const what = kill.point !== undefined ? `${kill.server} at ${kill.point}` : `${kill.server} after ${kill.afterMs ?? 0} ms`;
    const outcome = killed.length === 0 ? 'no kill happened' : `killed ${killed.map((k) => k.server).join(', ')}`;
    this.#o.log(
      `round ${this.#round}: ${given} .str, kill ${what}: ${outcome}; settled in ${passes} pass(es); ${problems.length === 0 ? 'ok' : `PROBLEMS: ${problems.join('; ')}`}`,
    );
    if (problems.length > 0) this.figures.failures.push({ round: this.#round, kill: what, problems });
    return { killed, problems };
  }

  /** What every round must leave (soak-checks.ts): nothing lost, nothing doubled, no temp or stray file, each record once. */
  check(): Promise<string[]> {
    if (this.#checks === undefined) throw new Error('the crash soak is not started');
    return this.#checks.check();
  }

  /**
   * A random kill: which server, and how long after the round starts; by
   * default within 80 % of the quickest round so far, so that it lands while
   * the tree is at work.
   */
  randomKill(maxMs = Number.isFinite(this.#shortestDriveMs) ? 0.8 * this.#shortestDriveMs : 1000): Kill {
    return { server: SERVERS[Math.floor(this.#random() * SERVERS.length)] ?? 'LEAF1', afterMs: Math.floor(this.#random() * maxMs) };
  }
}
