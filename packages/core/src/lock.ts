/**
 * A lock file that keeps two processes — on this node or on another node of
 * a cluster sharing the folders — from working on one server's folders at
 * once. Created with O_EXCL; the holder refreshes its mtime (a heartbeat).
 * A lock is stale, and is taken over, when its holder is a dead process on
 * this host, or when its heartbeat is older than `staleMs` (another host).
 */
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
}

export interface LockOptions {
  purpose: string;
  /** A lock whose heartbeat is older than this is stale (default 60 s). */
  staleMs?: number;
  heartbeatMs?: number;
  now?: () => number;
}

export interface Lock {
  readonly path: string;
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
        const who = holder ? `process ${holder.pid} on ${holder.host} (${holder.purpose}, since ${holder.since})` : 'another process';
        throw new ZenrollError('LOCK_HELD', `${path} is held by ${who}`, { details: { holder } });
      }
      await rm(path, { force: true });
      if (attempt === 2) throw new ZenrollError('LOCK_HELD', `${path} keeps being taken by another process`);
    }
  }
  const heartbeatMs = options.heartbeatMs ?? Math.max(1000, Math.floor(staleMs / 3));
  const timer = setInterval(() => {
    const t = new Date(now());
    utimes(path, t, t).catch(() => {});
  }, heartbeatMs);
  timer.unref();
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      const holder = await readHolder(path);
      if (holder?.pid === process.pid && holder.host === info.host) await rm(path, { force: true });
    },
  };
}
