import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  copyDurable,
  ensureDir,
  freeSpace,
  fsyncDir,
  fsyncDirs,
  fsyncFile,
  isTempName,
  linkOrCopyDurable,
  moveDurable,
  removeDurable,
  removeManyDurable,
  sweepTemps,
  tempPath,
  writeFileDurable,
} from '../src/durable.js';
import { isZenrollError, type ZenrollError } from '../src/errors.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-durable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every name in `folder` (recursively) that is a temp. */
async function temps(folder: string): Promise<string[]> {
  const names = await readdir(folder, { recursive: true });
  return names.filter((n) => isTempName(n));
}

async function failure(p: Promise<unknown>): Promise<ZenrollError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isZenrollError(err)) throw new Error(`expected a ZenrollError, got ${String(err)}`);
  return err;
}

describe('temp names', () => {
  it('are hidden, in the same folder, end in .tmp, and differ each time', () => {
    const a = tempPath('/x/y/20261122103000000_LEAF1_ACME_0.zip');
    const b = tempPath('/x/y/20261122103000000_LEAF1_ACME_0.zip');
    expect(a).toMatch(/^\/x\/y\/\.20261122103000000_LEAF1_ACME_0\.zip\.[0-9a-f]{12}\.tmp$/);
    expect(a).not.toBe(b);
    expect(isTempName(a)).toBe(true);
    expect(isTempName('20261122103000000_LEAF1_ACME_0.zip')).toBe(false);
    expect(isTempName('.hidden.tmp')).toBe(false);
    expect(isTempName('a.str')).toBe(false);
  });
});

describe('writeFileDurable', () => {
  it('writes, replaces and leaves no temp', async () => {
    const p = join(dir, 'a.txt');
    await writeFileDurable(p, 'first');
    await writeFileDurable(p, new Uint8Array([104, 105]));
    expect(await readFile(p, 'utf8')).toBe('hi');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('applies the mode', async () => {
    const p = join(dir, 'secret');
    await writeFileDurable(p, 'k', { mode: 0o600 });
    expect((await stat(p)).mode & 0o777).toBe(0o600);
  });

  it('removes its temp when the rename fails (dest is a folder)', async () => {
    const p = join(dir, 'taken');
    await mkdir(p);
    await writeFile(join(p, 'inside'), 'x');
    const err = await failure(writeFileDurable(p, 'data'));
    expect(err.code).toBe('FS_FAILED');
    expect(err.details.path).toBe(p);
    expect(await temps(dir)).toEqual([]);
  });

  it('fails cleanly when the folder does not exist', async () => {
    const err = await failure(writeFileDurable(join(dir, 'no', 'a'), 'x'));
    expect(err.details.errno).toBe('ENOENT');
  });
});

describe('moveDurable', () => {
  it('with syncLater, leaves the folder fsyncs to the caller on one file system, not across', async () => {
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    for (const n of ['1.str', '2.str', '3.str']) await writeFile(join(dir, 'a', n), n);
    const syncLater = new Set<string>();
    await moveDurable(join(dir, 'a', '1.str'), join(dir, 'b', '1.str'), { syncLater });
    await moveDurable(join(dir, 'a', '2.str'), join(dir, 'b', '2.str'), { syncLater });
    expect([...syncLater].sort()).toEqual([join(dir, 'a'), join(dir, 'b')]);
    // The copy path fsyncs at once: its source goes only once the copy is durable.
    const across = new Set<string>();
    await moveDurable(join(dir, 'a', '3.str'), join(dir, 'b', '3.str'), { syncLater: across, forceCopy: true });
    expect(across.size).toBe(0);
    await fsyncDirs(syncLater);
    expect(readdirSync(join(dir, 'a'))).toEqual([]);
    expect(readdirSync(join(dir, 'b')).sort()).toEqual(['1.str', '2.str', '3.str']);
    const exists = await failure(moveDurable(join(dir, 'b', '1.str'), join(dir, 'b', '2.str'), { syncLater }));
    expect(exists.details.errno).toBe('EEXIST');
  });

  for (const forceCopy of [false, true]) {
    it(`moves a file between folders (forceCopy: ${forceCopy})`, async () => {
      await mkdir(join(dir, 'a'));
      await mkdir(join(dir, 'b'));
      await writeFile(join(dir, 'a', 'f.str'), 'scan', { mode: 0o640 });
      await moveDurable(join(dir, 'a', 'f.str'), join(dir, 'b', 'f.str'), { forceCopy });
      expect(existsSync(join(dir, 'a', 'f.str'))).toBe(false);
      expect(await readFile(join(dir, 'b', 'f.str'), 'utf8')).toBe('scan');
      expect((await stat(join(dir, 'b', 'f.str'))).mode & 0o777).toBe(0o640);
      expect(await temps(dir)).toEqual([]);
    });

    it(`refuses an existing dest without overwrite (forceCopy: ${forceCopy})`, async () => {
      await writeFile(join(dir, 'src'), 'new');
      await writeFile(join(dir, 'dest'), 'old');
      const err = await failure(moveDurable(join(dir, 'src'), join(dir, 'dest'), { forceCopy }));
      expect(err.code).toBe('FS_FAILED');
      expect(err.details.errno).toBe('EEXIST');
      expect(await readFile(join(dir, 'dest'), 'utf8')).toBe('old');
      expect(await readFile(join(dir, 'src'), 'utf8')).toBe('new');
      await moveDurable(join(dir, 'src'), join(dir, 'dest'), { forceCopy, overwrite: true });
      expect(await readFile(join(dir, 'dest'), 'utf8')).toBe('new');
      expect(await readdir(dir)).toEqual(['dest']);
    });
  }

  it('keeps the source and leaves no temp when the copy path fails', async () => {
    await writeFile(join(dir, 'src'), 'data');
    await mkdir(join(dir, 'dest'));
    await writeFile(join(dir, 'dest', 'x'), 'x');
    const err = await failure(moveDurable(join(dir, 'src'), join(dir, 'dest'), { forceCopy: true, overwrite: true }));
    expect(err.code).toBe('FS_FAILED');
    expect(await readFile(join(dir, 'src'), 'utf8')).toBe('data');
    expect(await temps(dir)).toEqual([]);
  });

  it('reports a missing source', async () => {
    const err = await failure(moveDurable(join(dir, 'none'), join(dir, 'dest')));
    expect(err.details.errno).toBe('ENOENT');
  });

  // /dev/shm is a tmpfs on Linux: a real EXDEV when it is another file system
  // (it is on the machines we run on); a plain rename and a hard link otherwise.
  const shm = '/dev/shm';
  const crossDevice = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;
  it('moves between /dev/shm and the temp folder', async () => {
    const other = await mkdtemp(join(shm, 'zenroll-durable-'));
    try {
      await writeFile(join(other, 'f.zip'), 'zip');
      await moveDurable(join(other, 'f.zip'), join(dir, 'f.zip'));
      expect(await readFile(join(dir, 'f.zip'), 'utf8')).toBe('zip');
      expect(await readdir(other)).toEqual([]);
      await linkOrCopyDurable(join(dir, 'f.zip'), join(other, 'g.zip'));
      expect(await readFile(join(other, 'g.zip'), 'utf8')).toBe('zip');
      expect((await stat(join(other, 'g.zip'))).nlink).toBe(crossDevice ? 1 : 2);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('copyDurable and linkOrCopyDurable', () => {
  it('copies into a second folder, keeping the source', async () => {
    await mkdir(join(dir, 'db'));
    await writeFile(join(dir, 'z.zip'), 'zip');
    await copyDurable(join(dir, 'z.zip'), join(dir, 'db', 'z.zip'));
    expect(await readFile(join(dir, 'db', 'z.zip'), 'utf8')).toBe('zip');
    expect(await readFile(join(dir, 'z.zip'), 'utf8')).toBe('zip');
    expect((await stat(join(dir, 'z.zip'))).nlink).toBe(1);
    const err = await failure(copyDurable(join(dir, 'z.zip'), join(dir, 'db', 'z.zip')));
    expect(err.details.errno).toBe('EEXIST');
    expect(await temps(dir)).toEqual([]);
  });

  it('links on one file system', async () => {
    await writeFile(join(dir, 'z.zip'), 'zip');
    await linkOrCopyDurable(join(dir, 'z.zip'), join(dir, 'y.zip'));
    expect((await stat(join(dir, 'y.zip'))).ino).toBe((await stat(join(dir, 'z.zip'))).ino);
    const err = await failure(linkOrCopyDurable(join(dir, 'z.zip'), join(dir, 'y.zip')));
    expect(err.details.errno).toBe('EEXIST');
    await writeFile(join(dir, 'w.zip'), 'other');
    await linkOrCopyDurable(join(dir, 'w.zip'), join(dir, 'y.zip'), { overwrite: true });
    expect(await readFile(join(dir, 'y.zip'), 'utf8')).toBe('other');
    expect(await temps(dir)).toEqual([]);
  });

  it('copies when told to (the cross-device branch)', async () => {
    await writeFile(join(dir, 'z.zip'), 'zip');
    await linkOrCopyDurable(join(dir, 'z.zip'), join(dir, 'y.zip'), { forceCopy: true });
    expect(await readFile(join(dir, 'y.zip'), 'utf8')).toBe('zip');
    expect((await stat(join(dir, 'y.zip'))).ino).not.toBe((await stat(join(dir, 'z.zip'))).ino);
  });

  it('reports a missing source without leaving a temp', async () => {
    const err = await failure(linkOrCopyDurable(join(dir, 'none'), join(dir, 'y')));
    expect(err.details.errno).toBe('ENOENT');
    const err2 = await failure(copyDurable(join(dir, 'none'), join(dir, 'y')));
    expect(err2.details.errno).toBe('ENOENT');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('removeDurable, fsync, ensureDir', () => {
  it('removes a file and says when it was already gone', async () => {
    await writeFile(join(dir, 'a'), 'x');
    expect(await removeDurable(join(dir, 'a'))).toBe(true);
    expect(await removeDurable(join(dir, 'a'))).toBe(false);
    expect(existsSync(join(dir, 'a'))).toBe(false);
    const err = await failure(removeDurable(dir));
    expect(err.code).toBe('FS_FAILED');
  });

  it('removes several files in two folders, says which were already gone, and calls afterFirst once', async () => {
    await mkdir(join(dir, 'sub'));
    for (const n of ['a', 'c', 'sub/d']) await writeFile(join(dir, n), 'x');
    const seen: string[][] = [];
    const removed = await removeManyDurable([join(dir, 'a'), join(dir, 'b'), join(dir, 'c'), join(dir, 'sub', 'd')], {
      afterFirst: () => seen.push(readdirSync(dir).sort()),
    });
    expect(removed).toEqual([true, false, true, true]);
    // afterFirst ran once, right after the first unlink: the others were still there.
    expect(seen).toEqual([['c', 'sub']]);
    expect(readdirSync(dir)).toEqual(['sub']);
    expect(readdirSync(join(dir, 'sub'))).toEqual([]);
  });

  it('stops at the first error other than a missing file, keeping what it removed', async () => {
    await writeFile(join(dir, 'a'), 'x');
    await writeFile(join(dir, 'c'), 'x');
    await mkdir(join(dir, 'b'));
    const err = await failure(removeManyDurable([join(dir, 'a'), join(dir, 'b'), join(dir, 'c')]));
    expect(err.code).toBe('FS_FAILED');
    expect(err.message).toContain(join(dir, 'b'));
    expect(readdirSync(dir).sort()).toEqual(['b', 'c']);
    expect(await removeManyDurable([])).toEqual([]);
  });

  it('fsyncs files and folders, and reports a missing one', async () => {
    await writeFile(join(dir, 'a'), 'x');
    await fsyncFile(join(dir, 'a'));
    await fsyncDir(dir);
    expect((await failure(fsyncFile(join(dir, 'b')))).details.errno).toBe('ENOENT');
    expect((await failure(fsyncDir(join(dir, 'b')))).details.errno).toBe('ENOENT');
  });

  it('creates nested folders and accepts an existing one', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await ensureDir(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await ensureDir(deep);
    await writeFile(join(dir, 'file'), 'x');
    expect((await failure(ensureDir(join(dir, 'file')))).details.errno).toBe('EEXIST');
  });
});

describe('sweepTemps', () => {
  it('removes only temps, and only old ones when asked', async () => {
    const t1 = tempPath(join(dir, 'a.zip'));
    const t2 = tempPath(join(dir, 'b.zip'));
    await writeFile(t1, 'x');
    await writeFile(t2, 'x');
    await writeFile(join(dir, 'a.zip'), 'keep');
    await writeFile(join(dir, '.other.tmp'), 'keep');
    await mkdir(tempPath(join(dir, 'folder')));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(t1, old, old);
    expect(await sweepTemps(dir, { olderThanMs: 60_000 })).toEqual([t1]);
    expect(await sweepTemps(dir)).toEqual([t2]);
    expect(await sweepTemps(dir)).toEqual([]);
    expect((await readdir(dir)).filter((n) => !n.endsWith('.tmp') || n === '.other.tmp').sort()).toEqual(['.other.tmp', 'a.zip']);
  });

  it('reports a missing folder', async () => {
    expect((await failure(sweepTemps(join(dir, 'none')))).details.errno).toBe('ENOENT');
  });
});

describe('freeSpace', () => {
  it('returns sane numbers', async () => {
    const s = await freeSpace(dir);
    expect(s.totalBytes).toBeGreaterThan(0);
    expect(s.availableBytes).toBeGreaterThanOrEqual(0);
    expect(s.availableBytes).toBeLessThanOrEqual(s.totalBytes);
    expect(Number.isSafeInteger(s.availableBytes)).toBe(true);
    expect((await failure(freeSpace(join(dir, 'none')))).details.errno).toBe('ENOENT');
  });
});
