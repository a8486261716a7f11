/**
 * Injected file-system faults for the disk suites, where the machine cannot
 * make them for real: the fs calls zenroll writes through (FileHandle
 * write/writev/writeFile/appendFile/sync/datasync, the write streams' fs.write and
 * fs.writev, fs.fsync, copyFile) are wrapped, and for a path under `dir`
 * each asks `fault(path, op, bytes)`, which throws the error to inject (or
 * returns to let the call through). link and rename across the folder's
 * border fail with EXDEV, as between two real file systems. The wrapping is
 * synced into the ESM bindings, so `import { open } from 'node:fs/promises'`
 * sees it too; `restore()` undoes it.
 */
import type * as FsModule from 'node:fs';
import type * as FsPromisesModule from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';

// The modules' own objects (an ESM namespace cannot be changed): wrapped below, then synced into the ESM bindings.
const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof FsModule;
const fsp = require('node:fs/promises') as typeof FsPromisesModule;

export type FsOp = 'write' | 'sync' | 'copy';
/** Throws the error to inject for this call, or returns to let it through. */
export type FaultCheck = (path: string, op: FsOp, bytes: number) => void;

/** An error shaped like Node's own for `code` (ENOSPC, EIO…). */
export function fsErrno(code: 'ENOSPC' | 'EIO', syscall: string, path: string): NodeJS.ErrnoException {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  const errno = code === 'ENOSPC' ? -28 : -5;
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), { code, errno, syscall, path });
}

export function injectFsFault(dir: string, fault: FaultCheck, statfs?: (real: FsModule.StatsFs) => FsModule.StatsFs): () => void {
  const root = resolve(dir);
  const under = (p: unknown) => typeof p === 'string' && (resolve(p) === root || resolve(p).startsWith(`${root}/`));
  const fdPaths = new Map<number, string>();
  const orig = {
    open: fsp.open,
    copyFile: fsp.copyFile,
    statfs: fsp.statfs,
    link: fsp.link,
    rename: fsp.rename,
    fsOpen: fs.open,
    fsWrite: fs.write,
    fsWritev: fs.writev,
    fsFsync: fs.fsync,
    fsClose: fs.close,
  };
  const size = (d: unknown) => (typeof d === 'string' ? Buffer.byteLength(d) : (d as ArrayBufferView).byteLength);
  // Another file system: no hard link or rename across its border.
  const exdev = (a: FsModule.PathLike, b: FsModule.PathLike) => {
    if (under(String(a)) !== under(String(b)))
      throw Object.assign(new Error(`EXDEV: cross-device link not permitted, '${String(a)}' -> '${String(b)}'`), {
        code: 'EXDEV',
        errno: -18,
      });
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
      const path = String(p);
      const write = h.write.bind(h) as (...a: unknown[]) => Promise<unknown>;
      const writev = h.writev.bind(h) as (...a: unknown[]) => Promise<unknown>;
      const writeFile = h.writeFile.bind(h);
      const appendFile = h.appendFile.bind(h);
      const sync = h.sync.bind(h);
      const datasync = h.datasync.bind(h);
      Object.assign(h, {
        write: async (d: unknown, ...a: unknown[]) => {
          fault(path, 'write', size(d));
          return write(d, ...a);
        },
        writev: async (d: unknown[], ...a: unknown[]) => {
          fault(
            path,
            'write',
            d.reduce((n: number, b) => n + size(b), 0),
          );
          return writev(d, ...a);
        },
        writeFile: async (d: string | Uint8Array, o?: unknown) => {
          fault(path, 'write', size(d));
          return writeFile(d, o as never);
        },
        appendFile: async (d: string | Uint8Array, o?: unknown) => {
          fault(path, 'write', size(d));
          return appendFile(d, o as never);
        },
        sync: async () => {
          fault(path, 'sync', 0);
          return sync();
        },
        datasync: async () => {
          fault(path, 'sync', 0);
          return datasync();
        },
      });
    }
    return h;
  }) as typeof fsp.open;
  fsp.copyFile = (async (src: FsModule.PathLike, dest: FsModule.PathLike, mode?: number) => {
    if (under(String(dest))) fault(String(dest), 'copy', (await fsp.stat(src)).size);
    return orig.copyFile(src, dest, mode);
  }) as typeof fsp.copyFile;
  fsp.statfs = (async (p: FsModule.PathLike, o?: never) => {
    const s = await orig.statfs(p, o);
    return statfs !== undefined && under(String(p)) ? statfs(s) : s;
  }) as typeof fsp.statfs;
  // Write streams go through the callback API.
  fs.open = ((p: FsModule.PathLike, ...rest: unknown[]) => {
    const cb = rest.pop() as (err: unknown, fd?: number) => void;
    (orig.fsOpen as (...a: unknown[]) => void)(p, ...rest, (err: unknown, fd?: number) => {
      if (!err && fd !== undefined && under(String(p))) fdPaths.set(fd, String(p));
      cb(err, fd);
    });
  }) as typeof fs.open;
  fs.close = ((fd: number, cb?: (err: unknown) => void) => {
    fdPaths.delete(fd);
    (orig.fsClose as (...a: unknown[]) => void)(fd, cb);
  }) as typeof fs.close;
  /** Runs `call` unless the fault check for fd's path throws, which goes to the callback instead. */
  const guarded = (fd: number, op: FsOp, bytes: number, rest: unknown[], call: () => void) => {
    const p = fdPaths.get(fd);
    if (p !== undefined) {
      try {
        fault(p, op, bytes);
      } catch (err) {
        (rest.pop() as (e: unknown) => void)(err);
        return;
      }
    }
    call();
  };
  fs.write = ((fd: number, buf: Uint8Array, ...rest: unknown[]) => {
    guarded(fd, 'write', size(buf), rest, () => (orig.fsWrite as (...a: unknown[]) => void)(fd, buf, ...rest));
  }) as typeof fs.write;
  fs.writev = ((fd: number, bufs: ArrayBufferView[], ...rest: unknown[]) => {
    guarded(
      fd,
      'write',
      bufs.reduce((n, b) => n + b.byteLength, 0),
      rest,
      () => (orig.fsWritev as (...a: unknown[]) => void)(fd, bufs, ...rest),
    );
  }) as typeof fs.writev;
  fs.fsync = ((fd: number, ...rest: unknown[]) => {
    guarded(fd, 'sync', 0, rest, () => (orig.fsFsync as (...a: unknown[]) => void)(fd, ...rest));
  }) as typeof fs.fsync;
  syncBuiltinESMExports();
  return () => {
    Object.assign(fsp, { open: orig.open, copyFile: orig.copyFile, statfs: orig.statfs, link: orig.link, rename: orig.rename });
    Object.assign(fs, { open: orig.fsOpen, write: orig.fsWrite, writev: orig.fsWritev, fsync: orig.fsFsync, close: orig.fsClose });
    syncBuiltinESMExports();
  };
}
