/**
 * Pack intents (DESIGN.md "Crash safety: Pack"): before a batch is packed,
 * `statedir/intents/<batch id>.json` names the outer zip and each `.str`
 * with its size and SHA-256. It is removed once the zip is in place, its
 * `.str` deleted and its `zipped` record logged; one left behind is settled
 * at the next start.
 */
import { join } from 'node:path';
import { removeDurable, isRecord, type PrpFile } from '@zenroll/core';
import { damaged, listJsonFiles, readJsonFile, writeJsonFile } from './json-file.js';

export interface Intent {
  v: 1;
  /** A UUID; also the `.prp`'s `batch.id` and the id of the `zipped` record. */
  batchId: string;
  /** The outer zip's name in entpushdir. */
  zip: string;
  /** The `.str` of the batch (names in entpushdir), in inner-zip order. */
  files: PrpFile[];
}

export function intentPath(dir: string, batchId: string): string {
  return join(dir, `${batchId}.json`);
}

export async function writeIntent(dir: string, intent: Intent): Promise<void> {
  await writeJsonFile(intentPath(dir, intent.batchId), intent);
}

export async function removeIntent(dir: string, batchId: string): Promise<void> {
  await removeDurable(intentPath(dir, batchId));
}

function isFile(x: unknown): x is PrpFile {
  return isRecord(x) && typeof x.name === 'string' && typeof x.size === 'number' && typeof x.sha256 === 'string';
}

/** Every intent left in `dir` by a roll-up that did not finish. */
export async function readIntents(dir: string): Promise<Intent[]> {
  const out: Intent[] = [];
  for (const name of await listJsonFiles(dir)) {
    const path = join(dir, name);
    const value = await readJsonFile(path, 'pack intent');
    if (value === null) continue;
    if (
      !isRecord(value) ||
      value.v !== 1 ||
      typeof value.batchId !== 'string' ||
      `${value.batchId}.json` !== name ||
      typeof value.zip !== 'string' ||
      !Array.isArray(value.files) ||
      !value.files.every(isFile)
    ) {
      throw damaged(path, 'pack intent', 'is not an intent of this zenroll version');
    }
    out.push({ ...value, v: 1, batchId: value.batchId, zip: value.zip, files: value.files });
  }
  return out;
}
