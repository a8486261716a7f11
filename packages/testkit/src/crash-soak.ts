/**
 * The crash soak (issue 7): a real leaf → intermediate-db → root tree of
 * `zenroll serve` processes logging to a private slapd, one of them killed
 * with SIGKILL in every round — at a named crash point (ZENROLL_CRASH_AT,
 * core crash.ts) or at a random moment — then started again, and the
 * roll-ups driven (admin socket POST /v1/rollup) until nothing waits
 * anywhere. After every round: the multiset of .str (SHA-256 of the data in
 * the zips, every zip verified) in ROOT's dbdir, and in INT1's, equals what
 * the leaf was given, no temporary or partial file is left in any folder, and
 * the directory shows each zip's way up once: on LEAF1's object one `sent`
 * from LEAF1 (which replaced its `zipped`) and one from INT1.
 *
 * scripts/crash-soak.mjs runs it from the shell; packages/cli/test/crash-soak.test.ts
 * runs a short version in CI.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TrustStore, errnoCode, fieldOf, isRecord, isTempName, loadPublicKey, messageOf, parseRecord, verifyOuterZip } from '@zenroll/core';
import { startSlapd, type Slapd } from '@zenroll/directory/slapd';
import { writeFixtures } from '@zenroll/lab';
import { askAdmin, initTree, startServe, stopServe, type TreeNode, type ZenrollCli } from './tree.js';

const SERVERS = ['ROOT', 'INT1', 'LEAF1'] as const;
export type SoakServer = (typeof SERVERS)[number];

export interface Kill {
  server: SoakServer;
  /** A named crash point (`name[@N]`): the process is started with ZENROLL_CRASH_AT set to it. */
  point?: string;
  /** Without a point: SIGKILL this long after the round starts. */
  afterMs?: number;
}

/** Every named step: which server's process reaches it. ROOT has one target, so no promote-mid there. */
export const NAMED: readonly (Kill & { point: string })[] = (
  [
    ['LEAF1', 'collect-after-copy'],
    ['LEAF1', 'pack-after-zip'],
    ['LEAF1', 'pack-mid-delete'],
    ['LEAF1', 'send-mid-upload'],
    ['LEAF1', 'send-after-ack'],
    ['LEAF1', 'send-after-ack@2'],
    ['LEAF1', 'send-between-records'],
    ['INT1', 'receive-after-store'],
    ['INT1', 'promote-mid'],
    ['INT1', 'promote-before-remove'],
    ['INT1', 'send-mid-upload'],
    ['INT1', 'send-after-ack'],
    ['INT1', 'send-between-records'],
    ['ROOT', 'receive-after-store'],
    ['ROOT', 'promote-before-remove'],
  ] as const
).map(([server, point]) => ({ server, point }));

export interface SoakFigures {
  rounds: number;
  namedKills: number;
  randomKills: number;
  killsAtStartup: number;
  notReached: string[];
  restarts: number;
  /** Roll-ups that met a lock a kill left behind (and waited it out). */
  lockWaits: number;
  strsGiven: number;
  strsChecked: number;
  zipsVerified: number;
  recordsChecked: number;
  lost: number;
  doubled: number;
  leftovers: number;
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

export interface Killed {
  server: SoakServer;
  point: string | null;
}

interface SoakNode extends TreeNode {
  /** The crash point the running process was started with. */
  armed?: string | null;
  /** Being stopped on purpose (SIGTERM): its exit is no crash. */
  stopping?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A tiny seeded generator (mulberry32), so that a random run can be repeated. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function list(dir: string | null): Promise<string[]> {
  if (dir === null) return [];
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

async function filesUnder(dir: string | null): Promise<string[]> {
  if (dir === null) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A folder every role of the soak's tree has (the leaf's entmergedir …). */
function required(dir: string | null, what: string): string {
  if (dir === null) throw new Error(`the soak's tree has no ${what}`);
  return dir;
}

/** A folder on another file system than `than`, if this machine has one (/dev/shm is tmpfs on Linux). */
async function otherFileSystem(than: string): Promise<string | null> {
  try {
    const [a, b] = await Promise.all([stat(than), stat('/dev/shm')]);
    if (a.dev !== b.dev) return await mkdtemp('/dev/shm/zenroll-soak-');
  } catch {
    // no /dev/shm
  }
  return null;
}

/** The sender/receiver/directory sections of a zenroll.json, changed in place when present. */
function section(json: Record<string, unknown>, key: string): Record<string, unknown> | null {
  const value = json[key];
  return isRecord(value) ? value : null;
}

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
  /** Zip file identity → the .str digests it was verified to hold. */
  readonly #verified = new Map<string, string[]>();
  /** ROOT's zips checked in earlier rounds. */
  readonly #atRoot = new Set<string>();
  #restarts: Promise<void> = Promise.resolve();
  #stopping = false;
  #shortestDriveMs = Number.POSITIVE_INFINITY;
  #slapd: Slapd | undefined;
  #merge: string | null = null;
  #nodes: Record<SoakServer, SoakNode> | undefined;
  #leafKey: KeyObject | undefined;

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
    const tree = await initTree({
      cli: this.#o.cli,
      dir: join(this.#o.dir, 'tree'),
      slapd,
      plan: [
        { name: 'ROOT', role: 'root' },
        { name: 'INT1', role: 'intermediate-db', parent: 'ROOT' },
        { name: 'LEAF1', role: 'leaf', parent: 'INT1' },
      ],
      patch(json, p) {
        // Roll-ups only when driven; quick retries, so that a parent being restarted is waited for, not given up on.
        const sender = section(json, 'sender');
        if (sender)
          Object.assign(sender, { schedule: '0 0 1 1 *', stableMs: 0, timeoutMs: 5000, retry: { baseMs: 200, factor: 2, tries: 7 } });
        const receiver = section(json, 'receiver');
        if (receiver) Object.assign(receiver, { requestTimeoutMs: 3000, minFreeBytes: 0 });
        const directory = section(json, 'directory');
        if (directory) directory.timeoutMs = 2000;
        // The leaf's scans on another file system: collect copies, so `collect-after-copy` can be reached.
        const dirs = section(json, 'dirs');
        if (p.name === 'LEAF1' && merge !== null && dirs) dirs.entmergedir = merge;
      },
    });
    this.#nodes = { ROOT: tree.node('ROOT'), INT1: tree.node('INT1'), LEAF1: tree.node('LEAF1') };
    const leaf = this.#tree.LEAF1;
    await mkdir(required(leaf.config.dirs.entmergedir, 'LEAF1 entmergedir'), { recursive: true });
    this.#leafKey = await loadPublicKey(leaf.config.keys.public);
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

  async #zips(dir: string | null): Promise<string[]> {
    if (dir === null) return [];
    return (await list(dir)).filter((f) => f.endsWith('.zip') && !isTempName(f));
  }

  async #settled(): Promise<boolean> {
    const { LEAF1, INT1, ROOT } = this.#tree;
    const merge = (await list(LEAF1.config.dirs.entmergedir)).filter((f) => f.endsWith('.str'));
    const push = (await list(LEAF1.config.dirs.entpushdir)).filter((f) => (f.endsWith('.str') || f.endsWith('.zip')) && !isTempName(f));
    const waiting = [
      ...(await this.#zips(INT1.config.dirs.zipdir)),
      ...(await this.#zips(INT1.config.dirs.entpushdir)),
      ...(await this.#zips(ROOT.config.dirs.zipdir)),
    ];
    return merge.length + push.length + waiting.length === 0;
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
    const { LEAF1, INT1, ROOT } = this.#tree;
    const show = async (what: string, dir: string | null) =>
      `${what}: ${(dir === null ? [] : await list(dir)).filter((f) => !f.startsWith('.') || isTempName(f)).join(' ') || '-'}`;
    const said = (s: SoakServer) => {
      const r = this.#lastResult.get(s);
      if (r === undefined || r === null) return `${s}: no answer`;
      const failed = fieldOf(r, 'failed');
      if (typeof failed === 'string') return `${s}: ${failed}`;
      return `${s}: left ${JSON.stringify(fieldOf(r, 'left'))} errors ${JSON.stringify(fieldOf(r, 'errors'))}`;
    };
    return [
      await show('LEAF1 entmergedir', LEAF1.config.dirs.entmergedir),
      await show('LEAF1 entpushdir', LEAF1.config.dirs.entpushdir),
      await show('INT1 zipdir', INT1.config.dirs.zipdir),
      await show('INT1 entpushdir', INT1.config.dirs.entpushdir),
      await show('ROOT zipdir', ROOT.config.dirs.zipdir),
      said('LEAF1'),
      said('INT1'),
    ].join('\n  ');
  }

  async #waitZipdir(server: SoakServer, ms: number): Promise<void> {
    for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) {
      if (this.#dead(server) || (await this.#zips(this.#tree[server].config.dirs.zipdir)).length === 0) return;
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
      if (await this.#settled()) return pass;
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

  /** Which .str a folder of outer zips holds (verified, SHA-256 of the data), by digest → count. */
  async #strsInZips(dir: string | null): Promise<Map<string, number>> {
    const trust = new TrustStore();
    if (this.#leafKey === undefined) throw new Error('the crash soak is not started');
    trust.add(this.#leafKey, 'LEAF1', 'LEAF1');
    const found = new Map<string, number>();
    if (dir === null) return found;
    for (const name of await this.#zips(dir)) {
      const path = join(dir, name);
      // A zip verified in an earlier round and untouched since (same inode, size and mtime) is not read again.
      const st = await stat(path);
      const key = `${path}|${st.ino}|${st.size}|${st.mtimeMs}`;
      let digests = this.#verified.get(key);
      if (digests === undefined) {
        digests = (await verifyOuterZip(path, { trust: trust.lookup })).files.map((f) => f.sha256);
        this.#verified.set(key, digests);
        this.figures.zipsVerified += 1;
      }
      for (const h of digests) found.set(h, (found.get(h) ?? 0) + 1);
    }
    return found;
  }

  /** What every round must leave: nothing lost, nothing doubled, no temp or stray file, each record once. */
  async check(): Promise<string[]> {
    const problems: string[] = [];
    for (const server of ['ROOT', 'INT1'] as const) {
      const found = await this.#strsInZips(this.#tree[server].config.dirs.dbdir);
      let lost = 0;
      let doubled = 0;
      for (const [h, n] of this.#expected) {
        const got = found.get(h) ?? 0;
        if (got < n) lost += n - got;
        if (got > n) doubled += got - n;
      }
      for (const [h, n] of found) if (!this.#expected.has(h)) doubled += n;
      if (server === 'ROOT') {
        this.figures.lost += lost;
        this.figures.doubled += doubled;
      }
      this.figures.strsChecked += [...found.values()].reduce((a, b) => a + b, 0);
      if (lost + doubled > 0) problems.push(`${server} dbdir: ${lost} lost, ${doubled} doubled`);
    }
    const strays: string[] = [];
    for (const s of SERVERS) {
      for (const f of await filesUnder(this.#tree[s].dir)) {
        const name = basename(f);
        if (isTempName(name) || f.includes(`${join('entpushdir', 'rejected')}/`) || f.includes('/quarantine/')) strays.push(f);
      }
    }
    for (const f of await filesUnder(this.#tree.LEAF1.config.dirs.entmergedir)) if (isTempName(basename(f))) strays.push(f);
    if (strays.length > 0) {
      // Two snapshots, 2 s apart: a temp name is unique per write, so one still present in the second was never
      // renamed (left behind), while one a running server was writing at the first look has been renamed by then.
      await new Promise((r) => setTimeout(r, 2000));
      const still = await Promise.all(strays.map(async (f) => ((await stat(f).catch(() => null)) === null ? null : f)));
      strays.splice(0, strays.length, ...still.filter((f) => f !== null));
    }
    this.figures.leftovers += strays.length;
    if (strays.length > 0) {
      problems.push(`left behind: ${strays.slice(0, 5).join(', ')}${strays.length > 5 ? ` and ${strays.length - 5} more` : ''}`);
    }
    problems.push(...(await this.#checkRecords()));
    return problems;
  }

  /** LEAF1's object: per zip at ROOT, one `sent` from LEAF1 (no `zipped` left) and one from INT1. Waits for the journals to drain. */
  async #checkRecords(): Promise<string[]> {
    // This round's zips only: the object keeps the newest directory.keep records, and older rounds were checked.
    const root = (await this.#zips(this.#tree.ROOT.config.dirs.dbdir)).filter((n) => !this.#atRoot.has(n));
    const times = root.map((n) => n.slice(0, 17));
    let last: string[] = [];
    for (const until = Date.now() + 30_000; ; await sleep(200)) {
      const records = await this.#recordsOn('LEAF1');
      last = [];
      let doubled = false;
      for (const t of times) {
        const mine = records.filter((r) => r.zip.startsWith(`${t}_`));
        const fromLeaf = mine.filter((r) => r.event === 'sent' && r.from === 'LEAF1').length;
        const fromInt = mine.filter((r) => r.event === 'sent' && r.from === 'INT1').length;
        const zipped = mine.filter((r) => r.event === 'zipped').length;
        if (fromLeaf > 1 || fromInt > 1) doubled = true;
        if (fromLeaf !== 1 || fromInt !== 1 || zipped !== 0)
          last.push(`${t}: ${fromLeaf} sent by LEAF1, ${fromInt} by INT1, ${zipped} zipped`);
      }
      if (last.length === 0) {
        this.figures.recordsChecked += 2 * times.length;
        for (const n of root) this.#atRoot.add(n);
        return [];
      }
      // Missing ones may still be on their way from a journal; a record twice never goes away.
      if (doubled || Date.now() > until) break;
    }
    return [`directory records: ${last.slice(0, 3).join('; ')}${last.length > 3 ? ` (${last.length} zips)` : ''}`];
  }

  async #recordsOn(server: SoakServer): Promise<ReturnType<typeof parseRecord>[]> {
    if (this.#slapd === undefined) throw new Error('the crash soak is not started');
    return (await this.#slapd.rollUpLog(server)).map((v) => parseRecord(v));
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
