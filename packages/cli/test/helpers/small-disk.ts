/**
 * A small file system for the disk-full tests: a tmpfs of `bytes` mounted on
 * a folder when this process may mount (root, as in the CI container), else
 * an injected fault (helpers/fs-fault.ts): writes under the folder fail
 * with ENOSPC once `bytes` have been written there.
 * `kind` says which one a run used. Data folders go inside `dir`; the filler
 * that takes the space lives beside them, not in them.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fsErrno, injectFsFault } from './fs-fault.js';

const run = promisify(execFile);

export interface SmallDisk {
  dir: string;
  kind: 'tmpfs' | 'injected';
  /** Bytes still free. */
  available(): Promise<number>;
  /** Take all the space but `leaveBytes`. */
  fill(leaveBytes: number): Promise<void>;
  /** Give the filler's space back. */
  free(): Promise<void>;
  close(): Promise<void>;
}

async function canMount(dir: string): Promise<boolean> {
  if (process.env.ZENROLL_TEST_INJECT_DISK === '1') return false;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    await run('umount', [dir]);
    return true;
  } catch {
    return false;
  }
}

export async function smallDisk(dir: string, bytes: number): Promise<SmallDisk> {
  await mkdir(dir, { recursive: true });
  if (await canMount(dir)) {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
    const filler = join(dir, 'filler.bin');
    const available = async () => {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    };
    return {
      dir,
      kind: 'tmpfs',
      available,
      async fill(leaveBytes) {
        await rm(filler, { force: true });
        const take = (await available()) - leaveBytes;
        if (take > 0) await writeFile(filler, Buffer.alloc(take));
      },
      free: () => rm(filler, { force: true }),
      async close() {
        await run('umount', ['-l', dir]);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  return injectedDisk(resolve(dir), bytes);
}

/** The fallback: a byte budget for writes under `dir`, enforced by wrapping fs (helpers/fs-fault.ts). */
function injectedDisk(dir: string, bytes: number): SmallDisk {
  let used = 0;
  let filled = 0;
  const restore = injectFsFault(
    dir,
    (path, op, n) => {
      if (op === 'sync') return;
      if (used + filled + n > bytes) throw fsErrno('ENOSPC', 'write', path);
      used += n;
    },
    (s) => {
      const left = Math.max(0, bytes - used - filled);
      return { ...s, bavail: Math.floor(left / s.bsize), bfree: Math.floor(left / s.bsize) };
    },
  );
  return {
    dir,
    kind: 'injected',
    available: async () => Math.max(0, bytes - used - filled),
    async fill(leaveBytes) {
      filled = Math.max(0, bytes - used - leaveBytes);
    },
    async free() {
      filled = 0;
      used = 0;
    },
    async close() {
      restore();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
