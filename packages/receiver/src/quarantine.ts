/**
 * A rejected upload is kept, when `receiver.quarantineDir` is set, for an
 * operator to look at: the zip under its own name and a `.json` beside it
 * saying why. Nothing of it stays in zipdir (SPEC §4).
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, freeNameWithReason, moveDurable, writeFileDurable } from '@zenroll/core';
import type { Logger } from './logger.js';

export interface QuarantineReason {
  status: number;
  error: string;
  message: string;
  receivedAt: string;
  bytes: number;
  sha256: string;
  remoteAddress: string | null;
}

/** A free file name for `name`: itself, else `<base>~2.zip`, `<base>~3.zip`, … */
function freeName(dir: string, name: string): Promise<string> {
  const base = name.replace(/\.zip$/, '');
  return freeNameWithReason(dir, (n) => (n === 1 ? name : `${base}~${n}.zip`));
}

/** Move `file` into `dir` with its reason beside it; returns the quarantined path. */
export async function quarantine(file: string, dir: string, name: string, reason: QuarantineReason): Promise<string> {
  await ensureDir(dir);
  const chosen = await freeName(dir, name);
  const dest = join(dir, chosen);
  await moveDurable(file, dest);
  await writeFileDurable(`${dest}.json`, `${JSON.stringify({ zip: name, ...reason }, null, 2)}\n`);
  return dest;
}

/** A zip that arrived whole but is not acceptable: to the quarantine if there is one, else away. */
export async function setAside(
  temp: string,
  name: string,
  reason: QuarantineReason,
  o: { quarantineDir: string | null; logger: Logger },
): Promise<void> {
  if (o.quarantineDir !== null) {
    try {
      const kept = await quarantine(temp, o.quarantineDir, name, reason);
      o.logger.warn({ zip: name, quarantined: kept, error: reason.error }, 'rejected upload quarantined');
      return;
    } catch (err) {
      o.logger.error({ zip: name, err }, 'could not quarantine a rejected upload; it is removed');
    }
  }
  // Removal is best effort here: a temp left behind is swept at the next start.
  await unlink(temp).catch(() => undefined);
}
