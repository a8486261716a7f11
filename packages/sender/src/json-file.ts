/** Small JSON state files, written durably and read with a clear error when damaged. */
import { readFile, readdir } from 'node:fs/promises';
import { ZenrollError, errnoCode, fsError, isTempName, shown, writeFileDurable } from '@zenroll/core';

/** The parsed file, or null when it does not exist. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw fsError(err, `read ${what}`, path);
  }
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch (cause) {
    // Written atomically, so never half-written by us: someone edited it.
    throw damaged(path, what, 'is not JSON', cause);
  }
}

export function damaged(path: string, what: string, why: string, cause?: unknown): ZenrollError {
  return new ZenrollError('FS_FAILED', `${what} ${shown(path, 200)} ${why}; move it away to carry on (see docs/DESIGN.md)`, {
    cause,
    details: { path },
  });
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileDurable(path, `${JSON.stringify(value)}\n`);
}

/** Names in `dir` ending in `.json` (temps excluded); an absent folder is empty. */
export async function listJsonFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.json') && !isTempName(n)).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw fsError(err, 'list', dir);
  }
}
