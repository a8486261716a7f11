/**
 * A lock file that keeps two processes — on this node or on another node of
 * a cluster sharing the folders — from working on one server's folders at
 * once (SPEC §9). Created with O_EXCL and written once: who holds it (a node
 * name, `ZENROLL_NODE` or the host name, and a random token).
 *
 * The holder proves it is alive by a heartbeat: every `heartbeatMs` it checks
 * that the lock file still holds its token and writes a new counter into
 * `<lock>.beat`. A judge on another node never compares that node's clock
 * (nor a file's mtime, which is that node's or the file server's clock) with
 * its own: it reads the lock and the beat, and the holder is gone when what
 * it read did not change over `staleMs` of the judge's own monotonic time.
 * Two nodes whose clocks are hours apart, or that share a host name, judge
 * alike. A holder on this very machine (same node name, boot id and pid
 * namespace) is judged at once by its pid and start time instead.
 *
 * A holder that was paused for longer than `staleMs` (a frozen VM, a hung
 * NFS mount, SIGSTOP) may find its lock taken over: its heartbeat then finds
 * another token in the lock file and reports the lock lost (`onLost`) so that
 * the holder stops instead of working beside the new one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { link, open, readFile, readdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { ZenrollError, errnoCode, fsError } from './errors.js';
import { isRecord } from './narrow.js';

export interface LockInfo {
  pid: number;
  /** The node name (`ZENROLL_NODE`, else the host name); absent in older lock files, whose `host` stands for it. */
  node?: string;
  host: string;
  purpose: string;
  /** The holder's wall-clock time when it took the lock: shown to people, never compared. */
  since: string;
  /** `/proc/sys/kernel/random/boot_id` of the holder's machine; null where unreadable, absent in older lock files. */
  bootId?: string | null;
  /** The holder's pid namespace (`/proc/self/ns/pid`): containers of one machine share a boot id, not their pids. */
  pidNs?: string | null;
  /** The holder's start time, field 22 of `/proc/<pid>/stat` (clock ticks since boot); null where unreadable, absent in older lock files. */
  startTime?: string | null;
  /** Random, one per acquisition: whose lock this file is. Absent in older lock files. */
  token?: string;
}

/** What tells this machine's processes from another's: two nodes may share a host name (clones of one image). */
export interface MachineId {
  bootId: string | null;
  pidNs: string | null;
}

export interface LockOptions {
  purpose: string;
  /** A holder whose lock and heartbeat did not change over this much of this process's monotonic time is gone (default 60 s, or `ZENROLL_LOCK_STALE_MS`). */
  staleMs?: number;
  /** How often the holder beats (default staleMs / 12). */
  heartbeatMs?: number;
  /** Wait for the lock (a standby) instead of throwing LOCK_HELD once a live holder is seen; stops with the signal's reason. */
  wait?: boolean;
  signal?: AbortSignal;
  /** Called once while waiting, with the holder seen (null if unreadable). */
  onWaiting?: (holder: LockInfo | null) => void;
  /** The wall clock, only for `since`. */
  now?: () => number;
  /** The monotonic clock staleness is judged by (default performance.now). */
  monotonic?: () => number;
  /** This node's name (default nodeName()). */
  node?: string;
  /** This machine's identity (default read from /proc): a test stands in for another machine with it. */
  machine?: MachineId;
  /** Called once if the heartbeat finds the file gone or another holder's (LOCK_LOST); the holder should stop. */
  onLost?: (err: ZenrollError) => void;
}

export interface Lock {
  readonly path: string;
  readonly info: LockInfo;
  /** The holder this lock was taken over from, judged gone; null when the lock was free. */
  readonly tookOverFrom: LockInfo | null;
  /** The heartbeat found the lock taken over or removed. */
  readonly lost: boolean;
  /**
   * Read the lock file now: false (and `lost`, and onLost) if it is no longer
   * this holder's. A writer of shared state calls it just before it writes,
   * so that a holder woken from a pause does not write once before its next
   * heartbeat would have told it.
   */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

export const DEFAULT_LOCK_STALE_MS = 60_000;

/** The staleness every lock uses unless told: `ZENROLL_LOCK_STALE_MS` shortens it for tests and demos (SPEC §9 says 60 s). */
export function defaultStaleMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.ZENROLL_LOCK_STALE_MS);
  return Number.isInteger(v) && v >= 100 ? v : DEFAULT_LOCK_STALE_MS;
}

/** This node's name: `ZENROLL_NODE`, else the host name (SPEC §9). */
export function nodeName(env: NodeJS.ProcessEnv = process.env): string {
  return env.ZENROLL_NODE?.trim() || hostname();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** This machine's boot id and pid namespace; null each where unreadable (not Linux). */
export async function machineId(): Promise<MachineId> {
  const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (s) => s.trim() || null,
    () => null,
  );
  const pidNs = await readlink('/proc/self/ns/pid').catch(() => null);
  return { bootId, pidNs };
}

/** A process's start time (field 22 of /proc/<pid>/stat), or null when it cannot be read. */
export async function processStartTime(pid: number): Promise<string | null> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2, the command, is in parentheses and may hold spaces and ")": fields 3 on follow the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : null;
}

/** `process 123 on node-a (purpose, since …)`: who holds a lock, for a message. */
export function holderShown(holder: LockInfo): string {
  return `process ${holder.pid} on ${holder.node ?? holder.host} (${holder.purpose}, since ${holder.since})`;
}

async function readRaw(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw fsError(err, 'read lock', path);
  }
}

function parseHolder(raw: string | null): LockInfo | null {
  if (raw === null) return null;
  try {
    const v: unknown = JSON.parse(raw);
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: the pid checked here is what tells a lock file from anything else
    return isRecord(v) && typeof v.pid === 'number' ? (v as unknown as LockInfo) : null;
  } catch {
    // Being written right now, or garbage from a crash mid-write: judged by its not changing.
    return null;
  }
}

/** Who holds the lock at `path` now, as its file says; null when free or unreadable. */
export async function readLockHolder(path: string): Promise<LockInfo | null> {
  return parseHolder(await readRaw(path));
}

/**
 * A holder writes its JSON right after creating the file and never again, so
 * a lock still unreadable after this long (of the judge's time) is what a
 * process killed between the two left behind (kill -9 at that moment leaves
 * an empty file), not one being written: it blocks nobody for staleMs.
 */
export const UNREADABLE_LOCK_GRACE_MS = 5_000;

/** Holders this process already judged gone (a serve's takeover): its other locks are theirs too, and go at once. */
const judgedGone = sharedSet(Symbol.for('zenroll.lock.judgedGone'));

/** One set per process, kept on globalThis so that every copy of this module loaded in it (src, dist) shares it. */
function sharedSet(key: symbol): Set<string> {
  const found: unknown = Reflect.get(globalThis, key);
  if (found instanceof Set) return found;
  const made = new Set<string>();
  Reflect.set(globalThis, key, made);
  return made;
}

const holderKey = (h: LockInfo) => JSON.stringify([h.node ?? h.host, h.bootId ?? null, h.pid, h.startTime ?? null]);

/** On this machine: the same node name, boot and pid namespace, so that its pid means the same process here. */
function sameMachine(holder: LockInfo, node: string, me: MachineId): boolean {
  return (holder.node ?? holder.host) === node && me.bootId !== null && holder.bootId === me.bootId && (holder.pidNs ?? null) === me.pidNs;
}

/** Whether a holder on this machine is gone: its pid is free, or the pid is another process now. */
async function localHolderGone(holder: LockInfo): Promise<boolean> {
  if (holder.pid !== process.pid && !alive(holder.pid)) return true;
  if (typeof holder.startTime !== 'string') return false;
  const started = await processStartTime(holder.pid);
  return started !== null && started !== holder.startTime;
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Move a stale lock out of the way, but only the very one judged stale:
 * renamed aside (one judge wins the rename), read back, and put back with
 * link() — which never replaces — if it turned out to be a newer holder's.
 */
async function takeAway(path: string, judged: string, token: string): Promise<boolean> {
  const aside = `${path}.${token}.taken`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw fsError(err, 'take over lock', path);
  }
  const got = await readRaw(aside);
  if (got === judged) {
    await rm(aside, { force: true });
    return true;
  }
  await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
  return false;
}

/** Remove what a judge killed in the middle of takeAway left (`<lock>.<token>.taken`). */
async function sweepAside(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names: string[] = await readdir(dir).catch(() => []);
  await Promise.all(names.filter((n) => n.startsWith(prefix) && n.endsWith('.taken')).map((n) => rm(join(dir, n), { force: true })));
}

async function create(path: string, info: LockInfo): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw fsError(err, 'create lock', path);
  }
  try {
    await fh.writeFile(JSON.stringify(info));
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/** Take the lock; or throw LOCK_HELD naming a live holder (unless `wait`). */
export async function acquireLock(path: string, options: LockOptions): Promise<Lock> {
  const staleMs = options.staleMs ?? defaultStaleMs();
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.min(5_000, Math.floor(staleMs / 12)));
  const pollMs = Math.max(10, Math.min(1_000, Math.floor(staleMs / 30)));
  const now = options.now ?? Date.now;
  const mono = options.monotonic ?? (() => performance.now());
  const node = options.node ?? nodeName();
  const me = options.machine ?? (await machineId());
  const beatPath = `${path}.beat`;
  const token = randomBytes(12).toString('hex');
  const info: LockInfo = {
    pid: process.pid,
    node,
    host: hostname(),
    purpose: options.purpose,
    since: new Date(now()).toISOString(),
    bootId: me.bootId,
    pidNs: me.pidNs,
    startTime: await processStartTime(process.pid),
    token,
  };
  let tookOverFrom: LockInfo | null = null;
  // What this judge last read (lock + beat), and when by its own monotonic clock.
  let seen: { sig: string; at: number } | null = null;
  let waitingSaid = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await create(path, info)) break;
    const raw = await readRaw(path);
    if (raw === null) continue; // released between the two: try again at once
    const holder = parseHolder(raw);
    let gone = false;
    const local = holder !== null && sameMachine(holder, node, me);
    if (holder !== null && (judgedGone.has(holderKey(holder)) || (local && (await localHolderGone(holder))))) gone = true;
    else {
      const sig = `${raw}\n${(await readRaw(beatPath)) ?? ''}`;
      const t = mono();
      if (seen === null || seen.sig !== sig) {
        // It moved: a live holder (or a new one). Without `wait`, that is the answer.
        if (seen !== null && !options.wait) throw heldBy(path, holder);
        seen = { sig, at: t };
      } else if (t - seen.at >= (holder === null ? Math.min(staleMs, UNREADABLE_LOCK_GRACE_MS) : staleMs)) gone = true;
      if (!gone && local && !options.wait) throw heldBy(path, holder);
    }
    if (gone) {
      if (await takeAway(path, raw, token)) {
        if (holder !== null) {
          judgedGone.add(holderKey(holder));
          tookOverFrom = holder;
        }
      }
      seen = null;
      continue;
    }
    if (!waitingSaid) {
      waitingSaid = true;
      options.onWaiting?.(holder);
    }
    await abortable(pollMs, options.signal);
  }
  await sweepAside(path);

  let counter = 0;
  const writeBeat = () => writeFile(beatPath, `${info.token} ${(counter++).toString(16).padStart(12, '0')}\n`);
  await writeBeat().catch((err: unknown) => {
    throw fsError(err, 'write lock heartbeat', beatPath);
  });
  let lost = false;
  let beating = false;
  let released = false;
  const markLost = (holder: LockInfo | null) => {
    if (lost || released) return;
    lost = true;
    clearInterval(timer);
    // Ours is written once, whole: a file that does not parse is a new holder's, being written.
    const who = holder === null ? 'it is gone, or another holder is writing it' : `${holderShown(holder)} holds it now`;
    options.onLost?.(
      new ZenrollError('LOCK_LOST', `${path} is no longer this process's: ${who}. Was this process paused for over ${staleMs / 1000} s?`, {
        details: { holder },
      }),
    );
  };
  const beat = async () => {
    let holder = parseHolder(await readRaw(path).catch(() => null));
    if (holder === null) {
      // A judge's takeAway() moves the file aside for a moment before putting a live one back: look once more.
      await new Promise((r) => setTimeout(r, 20));
      holder = parseHolder(await readRaw(path).catch(() => null));
    }
    if (holder?.token === info.token) {
      // A beat that fails (a hung mount) is not written: judges see it stop, as they should.
      await writeBeat().catch(() => {});
      return;
    }
    markLost(holder);
  };
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    // beat() catches what it expects; anything else is a bug and should surface as one.
    void beat().finally(() => {
      beating = false;
    });
  }, heartbeatMs);
  timer.unref();
  return {
    path,
    info,
    tookOverFrom,
    get lost() {
      return lost;
    },
    async stillHeld() {
      if (lost) return false;
      const holder = parseHolder(await readRaw(path).catch(() => null));
      if (holder?.token === info.token) return true;
      // takeAway() may have it aside for a moment: the heartbeat, which looks twice, decides.
      if (holder === null) return true;
      markLost(holder);
      return false;
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // Only our own file: after a takeover it is the new holder's. The beat first, so that a lock never outlives its beat unseen.
      const holder = await readLockHolder(path).catch(() => null);
      if (holder?.token === info.token) {
        await rm(beatPath, { force: true });
        await rm(path, { force: true });
      }
    },
  };
}

function heldBy(path: string, holder: LockInfo | null): ZenrollError {
  const who = holder ? holderShown(holder) : 'another process';
  return new ZenrollError('LOCK_HELD', `${path} is held by ${who}`, { details: { holder } });
}
