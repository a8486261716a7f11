/**
 * The crash soak's three servers and what their folders hold: the names the
 * driving of rounds (crash-soak.ts) and the checks (soak-checks.ts) share,
 * and the listings both read.
 */
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode, isRecord, isTempName } from '@zenroll/core';
import type { Slapd } from '@zenroll/directory/slapd';
import { initTree, type TreeNode, type ZenrollCli } from './tree.js';

export const SERVERS = ['ROOT', 'INT1', 'LEAF1'] as const;
export type SoakServer = (typeof SERVERS)[number];
export type SoakNodes = Readonly<Record<SoakServer, TreeNode>>;

export async function list(dir: string | null): Promise<string[]> {
  if (dir === null) return [];
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

export async function filesUnder(dir: string | null): Promise<string[]> {
  if (dir === null) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The outer zips of a folder, temps aside. */
export async function outerZips(dir: string | null): Promise<string[]> {
  if (dir === null) return [];
  return (await list(dir)).filter((f) => f.endsWith('.zip') && !isTempName(f));
}

/** A folder every role of the soak's tree has (the leaf's entmergedir …). */
export function required(dir: string | null, what: string): string {
  if (dir === null) throw new Error(`the soak's tree has no ${what}`);
  return dir;
}

/** A folder on another file system than `than`, if this machine has one (/dev/shm is tmpfs on Linux). */
export async function otherFileSystem(than: string): Promise<string | null> {
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

/** ROOT ← INT1 (intermediate-db) ← LEAF1, logging to `slapd`; the leaf's scans in `merge` when there is one. */
export async function initSoakTree(o: {
  cli: ZenrollCli;
  dir: string;
  slapd: Slapd;
  merge: string | null;
}): Promise<Record<SoakServer, TreeNode>> {
  const tree = await initTree({
    cli: o.cli,
    dir: o.dir,
    slapd: o.slapd,
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
      if (p.name === 'LEAF1' && o.merge !== null && dirs) dirs.entmergedir = o.merge;
    },
  });
  return { ROOT: tree.node('ROOT'), INT1: tree.node('INT1'), LEAF1: tree.node('LEAF1') };
}

/** Whether nothing waits anywhere: no scan at the leaf, no zip on its way at INT1 or ROOT. */
export async function settled(tree: SoakNodes): Promise<boolean> {
  const { LEAF1, INT1, ROOT } = tree;
  const merge = (await list(LEAF1.config.dirs.entmergedir)).filter((f) => f.endsWith('.str'));
  const push = (await list(LEAF1.config.dirs.entpushdir)).filter((f) => (f.endsWith('.str') || f.endsWith('.zip')) && !isTempName(f));
  const waiting = [
    ...(await outerZips(INT1.config.dirs.zipdir)),
    ...(await outerZips(INT1.config.dirs.entpushdir)),
    ...(await outerZips(ROOT.config.dirs.zipdir)),
  ];
  return merge.length + push.length + waiting.length === 0;
}

/** What each folder on the way up holds (temps shown, other dot files not), one line per folder: for a round that does not settle. */
export async function waitingWhere(tree: SoakNodes): Promise<string[]> {
  const { LEAF1, INT1, ROOT } = tree;
  const show = async (what: string, dir: string | null) =>
    `${what}: ${(dir === null ? [] : await list(dir)).filter((f) => !f.startsWith('.') || isTempName(f)).join(' ') || '-'}`;
  return [
    await show('LEAF1 entmergedir', LEAF1.config.dirs.entmergedir),
    await show('LEAF1 entpushdir', LEAF1.config.dirs.entpushdir),
    await show('INT1 zipdir', INT1.config.dirs.zipdir),
    await show('INT1 entpushdir', INT1.config.dirs.entpushdir),
    await show('ROOT zipdir', ROOT.config.dirs.zipdir),
  ];
}
