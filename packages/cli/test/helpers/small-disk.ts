/**
 * A small file system for the disk-full tests: a tmpfs of `bytes` mounted on
 * a folder when this process may mount (root, as in the CI container), else
 * an injected fault: the fs calls zenroll writes through (FileHandle writes,
 * the write streams' fs.write, copyFile, statfs) are wrapped so that writes
 * under the folder fail with ENOSPC once `bytes` have been written there.
 * `kind` says which one a run used. Data folders go inside `dir`; the filler
 * that takes the space lives beside them, not in them.
 */
import { execFile } from 'node:child_process';
import type * as FsModule from 'node:fs';
import type * as FsPromisesModule from 'node:fs/promises';
import { mkdir, rm, statfs } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
// The modules' own objects (an ESM namespace cannot be changed): wrapped below, then synced into the ESM bindings.
const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof FsModule;
const fsp = require('node:fs/promises') as typeof FsPromisesModule;

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
        if (take > 0) await fsp.writeFile(filler, Buffer.alloc(take));
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

/** The fallback: a byte budget for writes under `dir`, enforced by wrapping fs. */
function injectedDisk(dir: string, bytes: number): SmallDisk {
  let used = 0;
  let filled = 0;
  const under = (p: unknown) => typeof p === 'string' && resolve(p).startsWith(`${dir}/`);
  const enospc = (p: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${p}'`), { code: 'ENOSPC', errno: -28, syscall: 'write', path: p });
  const charge = (p: string, n: number) => {
    if (used + filled + n > bytes) throw enospc(p);
    used += n;
  };
  const fdPaths = new Map<number, string>();
  const orig = {
    open: fsp.open, copyFile: fsp.copyFile, statfs: fsp.statfs, link: fsp.link, rename: fsp.rename, fsOpen: fs.open, fsWrite: fs.write, fsWritev: fs.writev,
  };
  // Another file system: no hard link or rename across its border.
  const exdev = (a: FsModule.PathLike, b: FsModule.PathLike) => {
    if (under(String(a)) !== under(String(b))) throw Object.assign(new Error(`EXDEV: cross-device link not permitted, '${String(a)}' -> '${String(b)}'`), { code: 'EXDEV', errno: -18 });
  };
  fsp.link = (async (a: FsModule.PathLike, b: FsModule.PathLike) => {
    exdev(a, b);
    return orig.link(a, b);
  }) as typeof fsp.link;
  fsp.rename = (async (a: FsModule.PathLike, b: FsModule.PathLike) => {
    exdev(a, b);
    return orig.rename(a, b);
  }) as typeof fsp.rename;
  fsp.open = (async (p: FsModule.PathLike, ...rest: unknown[]) => {
    const h = await (orig.open as (...a: unknown[]) => Promise<FsPromisesModule.FileHandle>)(p, ...rest);
    if (under(String(p))) {
      const write = h.write.bind(h) as (...a: unknown[]) => Promise<unknown>;
      const writeFile = h.writeFile.bind(h);
      const appendFile = h.appendFile.bind(h);
      const size = (d: unknown) => (typeof d === 'string' ? Buffer.byteLength(d) : (d as Uint8Array).byteLength);
      Object.assign(h, {
        write: async (d: unknown, ...a: unknown[]) => {
          charge(String(p), size(d));
          return write(d, ...a);
        },
        writeFile: async (d: string | Uint8Array, o?: unknown) => {
          charge(String(p), size(d));
          return writeFile(d, o as never);
        },
        appendFile: async (d: string | Uint8Array, o?: unknown) => {
          charge(String(p), size(d));
          return appendFile(d, o as never);
        },
      });
    }
    return h;
  }) as typeof fsp.open;
  fsp.copyFile = (async (src: FsModule.PathLike, dest: FsModule.PathLike, mode?: number) => {
    if (under(String(dest))) charge(String(dest), (await fsp.stat(src)).size);
    return orig.copyFile(src, dest, mode);
  }) as typeof fsp.copyFile;
  fsp.statfs = (async (p: FsModule.PathLike, o?: never) => {
    const s = await orig.statfs(p, o);
    if (!under(`${String(p)}/x`) && !under(String(p))) return s;
    const left = Math.max(0, bytes - used - filled);
    return { ...s, bavail: Math.floor(left / s.bsize), bfree: Math.floor(left / s.bsize) };
  }) as typeof fsp.statfs;
  // Write streams (archiver's output) go through the callback API.
  fs.open = ((p: FsModule.PathLike, ...rest: unknown[]) => {
    const cb = rest.pop() as (err: unknown, fd?: number) => void;
    (orig.fsOpen as (...a: unknown[]) => void)(p, ...rest, (err: unknown, fd?: number) => {
      if (!err && fd !== undefined && under(String(p))) fdPaths.set(fd, String(p));
      cb(err, fd);
    });
  }) as typeof fs.open;
  fs.write = ((fd: number, buf: Uint8Array, ...rest: unknown[]) => {
    const p = fdPaths.get(fd);
    if (p !== undefined) {
      try {
        charge(p, typeof buf === 'string' ? Buffer.byteLength(buf) : buf.byteLength);
      } catch (err) {
        (rest.pop() as (e: unknown) => void)(err);
        return;
      }
    }
    (orig.fsWrite as (...a: unknown[]) => void)(fd, buf, ...rest);
  }) as typeof fs.write;
  fs.writev = ((fd: number, bufs: ArrayBufferView[], ...rest: unknown[]) => {
    const p = fdPaths.get(fd);
    if (p !== undefined) {
      try {
        charge(p, bufs.reduce((n, b) => n + b.byteLength, 0));
      } catch (err) {
        (rest.pop() as (e: unknown) => void)(err);
        return;
      }
    }
    (orig.fsWritev as (...a: unknown[]) => void)(fd, bufs, ...rest);
  }) as typeof fs.writev;
  syncBuiltinESMExports();
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
      Object.assign(fsp, { open: orig.open, copyFile: orig.copyFile, statfs: orig.statfs, link: orig.link, rename: orig.rename });
      Object.assign(fs, { open: orig.fsOpen, write: orig.fsWrite, writev: orig.fsWritev });
      syncBuiltinESMExports();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
