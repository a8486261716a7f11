/**
 * A lock file that keeps two processes — on this node or on another node of
 * a cluster sharing the folders — from working on one server's folders at
 * once. Created with O_EXCL; the holder refreshes its mtime (a heartbeat).
 * A lock is stale, and is taken over, when its holder is a dead process on
 * this host, or when its heartbeat is older than `staleMs` (another host).
 *
 * A holder that was paused for longer than `staleMs` (a frozen VM, a hung
 * NFS mount) may find its lock taken over. Each lock file carries a random
 * token; the heartbeat touches the file only while it still holds that
 * token, and otherwise reports the lock lost (`onLost`) so that the holder
 * stops instead of working beside the new one and keeping its lock fresh.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { ZenrollError, errnoCode, fsError } from './errors.js';

export interface LockInfo {
  pid: number;
  host: string;
  purpose: string;
  since: string;
  /** `/proc/sys/kernel/random/boot_id` of the holder's host; null where unreadable, absent in older lock files. */
  bootId?: string | null;
  /** The holder's start time, field 22 of `/proc/<pid>/stat` (clock ticks since boot); null where unreadable, absent in older lock files. */
  startTime?: string | null;
  /** Random, one per acquisition: whose lock this file is. Absent in older lock files. */
  token?: string;
}

export interface LockOptions {
  purpose: string;
  /** A lock whose heartbeat is older than this is stale (default 60 s). */
  staleMs?: number;
  heartbeatMs?: number;
  now?: () => number;
  /** Called once if the heartbeat finds the file gone or another holder's (LOCK_LOST); the holder should stop. */
  onLost?: (err: ZenrollError) => void;
}

export interface Lock {
  readonly path: string;
  /** The heartbeat found the lock taken over or removed. */
  readonly lost: boolean;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function readBootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() || null;
  } catch {
    // Not Linux, or /proc not mounted: the pid and the heartbeat still judge.
    return null;
  }
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

/** `process 123 on host (purpose, since …)`: who holds a lock, for a message. */
function holderShown(holder: LockInfo): string {
  return `process ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.since})`;
}

async function readHolder(path: string): Promise<LockInfo | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    // Being written right now, or garbage from a crash mid-write: judged by its age.
    return null;
  }
}

/**
 * A holder writes its JSON right after creating the file and never again, so
 * a lock still unreadable after this long is what a process killed between
 * the two left behind (kill -9 at that moment leaves an empty file), not one
 * being written: it blocks nobody for staleMs.
 */
export const UNREADABLE_LOCK_GRACE_MS = 5_000;

/** Whether a holder on this host is gone: the host rebooted since, its pid is free, or the pid is another process now. */
async function holderGone(holder: LockInfo, bootId: string | null): Promise<boolean> {
  if (typeof holder.bootId === 'string' && bootId !== null && holder.bootId !== bootId) return true;
  if (holder.pid !== process.pid && !alive(holder.pid)) return true;
  // Older lock files have no start time; then a live pid is taken for the holder, and the heartbeat judges.
  if (typeof holder.startTime !== 'string') return false;
  const started = await processStartTime(holder.pid);
  return started !== null && started !== holder.startTime;
}

async function isStale(path: string, staleMs: number, now: number, bootId: string | null): Promise<boolean> {
  const holder = await readHolder(path);
  if (holder !== null && holder.host === hostname() && (await holderGone(holder, bootId))) return true;
  try {
    return now - (await stat(path)).mtimeMs > (holder === null ? Math.min(staleMs, UNREADABLE_LOCK_GRACE_MS) : staleMs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return true;
    throw fsError(err, 'check lock', path);
  }
}

/** Take the lock or throw LOCK_HELD naming the holder. */
export async function acquireLock(path: string, options: LockOptions): Promise<Lock> {
  const staleMs = options.staleMs ?? 60_000;
  const now = options.now ?? Date.now;
  const bootId = await readBootId();
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    purpose: options.purpose,
    since: new Date(now()).toISOString(),
    bootId,
    startTime: await processStartTime(process.pid),
    token: randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(info));
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fsError(err, 'create lock', path);
      if (!(await isStale(path, staleMs, now(), bootId))) {
        const holder = await readHolder(path);
        const who = holder ? holderShown(holder) : 'another process';
        throw new ZenrollError('LOCK_HELD', `${path} is held by ${who}`, { details: { holder } });
      }
      await rm(path, { force: true });
      if (attempt === 2) throw new ZenrollError('LOCK_HELD', `${path} keeps being taken by another process`);
    }
  }
  const heartbeatMs = options.heartbeatMs ?? Math.max(1000, Math.floor(staleMs / 3));
  let lost = false;
  let beating = false;
  const beat = async () => {
    const holder = await readHolder(path);
    if (holder?.token === info.token) {
      const t = new Date(now());
      await utimes(path, t, t).catch(() => {});
      return;
    }
    if (lost || released) return;
    lost = true;
    clearInterval(timer);
    // Ours is written once, whole: a file that does not parse is a new holder's, being written.
    const who = holder === null ? 'it is gone, or another holder is writing it' : `${holderShown(holder)} holds it now`;
    options.onLost?.(new ZenrollError('LOCK_LOST', `${path} is no longer this process's: ${who}. Was this process paused for over ${staleMs / 1000} s?`, { details: { holder } }));
  };
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    beat().finally(() => {
      beating = false;
    });
  }, heartbeatMs);
  timer.unref();
  let released = false;
  return {
    path,
    get lost() {
      return lost;
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      // Only our own file: after a takeover it is the new holder's.
      const holder = await readHolder(path);
      if (holder?.token === info.token) await rm(path, { force: true });
    },
  };
}
