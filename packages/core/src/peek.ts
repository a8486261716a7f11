/**
 * Read an outer zip's `.prp` without verifying the zip: for a Sender that
 * needs a forwarded zip's file count for its log record, and has neither the
 * origin's key nor a reason to read every byte (its Receiver verified the zip
 * when it arrived, and the parent verifies it again).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { ZenrollError, fsError, shown } from './errors.js';
import { parseOuterName, prpName } from './names.js';
import { parsePrp, type Prp } from './prp.js';
import { CheckedZip, DEFAULT_LIMITS, zipError } from './zipcheck.js';

export async function readOuterPrp(path: string): Promise<Prp> {
  const name = parseOuterName(basename(path));
  const want = prpName(name.scheduledtime, name.server);
  const label = `zip ${shown(basename(path), 120)}`;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fsError(err, 'open the zip', path);
  }
  try {
    const { size } = await fh.stat();
    const zip = await CheckedZip.open(fh, 0, size, DEFAULT_LIMITS, label);
    try {
      for (let e = await zip.next(); e !== undefined; e = await zip.next()) {
        if (e.fileName !== want) continue;
        await zip.check(e, { maxBytes: DEFAULT_LIMITS.maxPrpBytes });
        const chunks: Buffer[] = [];
        await zip.digest(e, chunks);
        return parsePrp(Buffer.concat(chunks));
      }
      throw new ZenrollError('ZIP_ENTRY_UNEXPECTED', `${label} holds no ${want}`);
    } finally {
      zip.close();
    }
  } catch (err) {
    throw zipError(err, label, path);
  } finally {
    await fh.close();
  }
}
