/**
 * A `.str` the packer cannot take must not hold up the rest of its batch,
 * nor every later roll-up (which would plan the same batch again). One it
 * refuses for good (a name no zip may hold, over the Receiver's
 * maxStrBytes, not a regular file) moves to `entpushdir/rejected/` with
 * `<name>.json` beside it saying why, as a zip the parent refused does; one
 * that cannot be read right now (EACCES, EIO, …) stays for the next roll-up.
 * Either way the batch is packed again without it.
 */
import { lstat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  ensureDir,
  errnoCode,
  freeNameWithReason,
  isZenrollError,
  moveDurable,
  writeFileDurable,
  isOneOf,
  type PackProblem,
} from '@zenroll/core';
import type { StepContext } from './context.js';
import type { RejectedStr } from './events.js';

export type StrTrouble =
  /** Never packable: moved to rejected/. */
  | { kind: 'reject'; name: string; code: string; message: string }
  /** Not packable now: stays in entpushdir for the next roll-up. */
  | { kind: 'leave'; name: string; code: string; message: string }
  /** Gone from entpushdir before it was read (taken away by someone else). */
  | { kind: 'gone'; name: string; code: string; message: string };

const FOR_GOOD: readonly PackProblem[] = ['name', 'too-large'];

/**
 * Which `.str` of the batch a packing error is about, and what becomes of
 * it; null when the error is not about one of them (a full disk, a bug):
 * then packing stops as before.
 */
export async function troubleOf(err: unknown, dir: string, batch: readonly string[]): Promise<StrTrouble | null> {
  if (!isZenrollError(err)) return null;
  const path = err.details.path;
  if (typeof path !== 'string' || resolve(dirname(path)) !== resolve(dir)) return null;
  const name = basename(path);
  if (!batch.includes(name)) return null;
  const { code, message } = err;
  if (err.code === 'PACK_INPUT_INVALID') {
    const problem = err.details.problem;
    // `same-name` is the plan's to prevent; should one slip through, the next roll-up plans it apart.
    if (problem === 'same-name') return { kind: 'leave', name, code, message };
    return isOneOf(FOR_GOOD, problem) ? { kind: 'reject', name, code, message } : null;
  }
  if (err.code !== 'PACK_SOURCE_UNREADABLE') return null;
  let st;
  try {
    st = await lstat(path);
  } catch (statErr) {
    if (errnoCode(statErr) === 'ENOENT') return { kind: 'gone', name, code, message };
    // Cannot even be looked at now: as transient as the read that failed.
    return { kind: 'leave', name, code, message };
  }
  // A folder (EISDIR), a dangling symlink (ENOENT on open), anything that is no file never becomes one by waiting.
  if (!st.isFile()) return { kind: 'reject', name, code, message: `${message}; it is not a regular file` };
  return { kind: 'leave', name, code, message };
}

/** `rejected/<name>`, or `<stem>.2.str`, `.3.str`, … when a rejected `.str` of that name is there already. */
function freeName(dir: string, name: string): Promise<string> {
  const dot = name.lastIndexOf('.');
  return freeNameWithReason(dir, (n) => (n === 1 ? name : `${name.slice(0, dot)}.${n}${name.slice(dot)}`));
}

/** Move a `.str` the packer refuses for good to rejected/, its reason first (a `.str` there always has one beside it). */
export async function rejectStr(ctx: StepContext, trouble: StrTrouble): Promise<RejectedStr> {
  const dir = ctx.paths.rejecteddir;
  await ensureDir(dir);
  const dest = join(dir, await freeName(dir, trouble.name));
  const note = { str: trouble.name, error: trouble.code, message: trouble.message, time: new Date(ctx.now()).toISOString() };
  await writeFileDurable(`${dest}.json`, `${JSON.stringify(note, null, 2)}\n`);
  await moveDurable(join(ctx.paths.entpushdir, trouble.name), dest);
  return { name: trouble.name, code: trouble.code, message: trouble.message, path: dest };
}
