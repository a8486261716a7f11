/**
 * The log records of the zips in `entpushdir`, kept under
 * `statedir/records/<zip>.json`, for two reasons (SPEC §7, DESIGN.md):
 *
 * - the `sent` record of a zip this server made replaces its `zipped`
 *   record, and a replacement names the old value by its exact text;
 * - a step that removes a zip (sent, discarded, rejected) writes its record
 *   here as `pending` before the zip goes, and logs it after: a crash in
 *   between leaves the record here, and the next roll-up logs it.
 */
import { join } from 'node:path';
import { removeDurable, isRecord, type LogWrite, type RollupLog, type RollupRecord } from '@zenroll/core';
import { damaged, listJsonFiles, readJsonFile, writeJsonFile } from './json-file.js';

export interface ZipRecords {
  v: 1;
  zip: string;
  /** The `zipped` record this server logged when it made the zip; null for a forwarded zip. */
  zipped: RollupRecord | null;
  /** The record of a removal under way; logged again after a crash if the log lacks it. */
  pending: LogWrite | null;
}

/** How far back a crashed roll-up's last record is looked for in the log. */
const LOOK_BACK = 1000;

export class RecordStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #path(zip: string): string {
    return join(this.dir, `${zip}.json`);
  }

  async get(zip: string): Promise<ZipRecords | null> {
    const path = this.#path(zip);
    const value = await readJsonFile(path, 'record file');
    if (value === null) return null;
    if (!isRecord(value) || value.v !== 1 || value.zip !== zip || value.zipped === undefined || value.pending === undefined) {
      throw damaged(path, 'record file', `is not the records of ${zip}`);
    }
    // biome-ignore lint/nursery/noUnsafeTypeAssertion: this server wrote it whole (durably); v and zip tell it is the one asked for
    return value as unknown as ZipRecords;
  }

  async put(state: ZipRecords): Promise<void> {
    await writeJsonFile(this.#path(state.zip), state);
  }

  async remove(zip: string): Promise<void> {
    await removeDurable(this.#path(zip));
  }

  async zips(): Promise<string[]> {
    return (await listJsonFiles(this.dir)).map((n) => n.slice(0, -'.json'.length));
  }
}

/** Whether the log already holds this record (same id, same event). */
export async function logHolds(log: RollupLog, record: RollupRecord): Promise<boolean> {
  const recent = await log.read(record.server, LOOK_BACK);
  return recent.some((r) => r.id === record.id && r.event === record.event);
}

/**
 * Remove a zip from the queue (`act`) and log `write`, so that a crash at any
 * point either leaves the zip in place or gets the record logged.
 */
export async function removeThenLog(
  store: RecordStore,
  log: RollupLog,
  zip: string,
  write: LogWrite,
  act: () => Promise<void>,
  afterAct: () => void = () => {},
): Promise<void> {
  const state = (await store.get(zip)) ?? { v: 1, zip, zipped: null, pending: null };
  await store.put({ ...state, pending: write });
  await act();
  afterAct();
  await log.write(write);
  await store.remove(zip);
}

/**
 * At the start of a roll-up: a pending record whose zip is gone is logged
 * (unless the log has it already); one whose zip is still here is dropped
 * (the removal never happened); records of vanished zips go. Returns the
 * records it logged.
 */
export async function recoverRecords(
  store: RecordStore,
  log: RollupLog,
  zipExists: (zip: string) => Promise<boolean>,
): Promise<RollupRecord[]> {
  const logged: RollupRecord[] = [];
  for (const zip of await store.zips()) {
    const state = await store.get(zip);
    if (state === null) continue;
    if (await zipExists(zip)) {
      if (state.pending !== null) await store.put({ ...state, pending: null });
      continue;
    }
    if (state.pending !== null && !(await logHolds(log, state.pending.record))) {
      await log.write(state.pending);
      logged.push(state.pending.record);
    }
    await store.remove(zip);
  }
  return logged;
}
