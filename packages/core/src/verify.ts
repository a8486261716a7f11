/**
 * Verify an outer zip (SPEC §3) before anything trusts it: structure, sizes,
 * CRCs, the signed .prp, the inner zip's digest and every .str against the
 * manifest. Every byte is read; memory stays a few entries whatever the
 * zip's size: the inner zip (stored, never deflated) is read in place inside
 * the outer file, a few of its .str at a time (on both cores), each in one
 * read and one inflate (zipcheck.ts), and a large entry streamed.
 *
 * Codes: see ERROR_CODES. Choices worth knowing: overlapping entries and a
 * local header that disagrees with the central directory are
 * ZIP_ENTRY_UNSAFE (two readers would see two different zips); bytes that
 * belong to no entry are ZIP_UNREADABLE; entries named for another
 * time/server than the outer name are ZIP_NAME_MISMATCH (a bad rename),
 * any other name is ZIP_ENTRY_UNEXPECTED.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Entry } from 'yauzl';
import { ZenrollError, fsError, shown } from './errors.js';
import { innerZipName, parseOuterName, prpName, type OuterName } from './names.js';
import { MAX_FILES, checkStrName, verifyPrp, type KeyLookup, type Prp, type PrpFile } from './prp.js';
import { CheckedZip, DEFAULT_LIMITS, type Limits } from './zipcheck.js';
import { zipError } from './zipread.js';

export { DEFAULT_LIMITS, type Limits } from './zipcheck.js';

export interface VerifyOptions {
  trust: KeyLookup;
  /** The outer name to check the content against; default the file's base name. */
  name?: string;
  limits?: Partial<Limits>;
}

export interface VerifiedZip {
  name: OuterName;
  prp: Prp;
  /** The .str files as found (they equal prp.files). */
  files: PrpFile[];
  /** Size of the outer zip file. */
  bytes: number;
}

export async function verifyOuterZip(path: string, opts: VerifyOptions): Promise<VerifiedZip> {
  const outerName = opts.name ?? basename(path);
  const name = parseOuterName(outerName);
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const label = `zip ${shown(outerName, 120)}`;
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fsError(err, 'open the zip', path);
  }
  try {
    const { size } = await fh.stat();
    if (size > limits.maxZipBytes) {
      throw new ZenrollError('ZIP_OVER_LIMIT', `${label} is ${size} bytes; at most ${limits.maxZipBytes} are accepted`);
    }
    const outer = await CheckedZip.open(fh, 0, size, limits, label);
    try {
      const { prp, files } = await checkOuter(fh, path, outer, name, limits, opts.trust);
      return { name, prp, files, bytes: size };
    } finally {
      outer.close();
    }
  } catch (err) {
    throw zipError(err, label, path);
  } finally {
    await fh.close();
  }
}

/** The same error, its message prefixed with which zip it is about. */
function within<T>(label: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof ZenrollError)) throw err;
    throw new ZenrollError(err.code, `${label}: ${err.message}`, { cause: err, details: err.details });
  }
}

async function checkOuter(
  fh: FileHandle,
  path: string,
  zip: CheckedZip,
  name: OuterName,
  limits: Limits,
  trust: KeyLookup,
): Promise<{ prp: Prp; files: PrpFile[] }> {
  const want = { zip: innerZipName(name.scheduledtime, name.server), prp: prpName(name.scheduledtime, name.server) };
  if (zip.entryCount !== 2) {
    throw new ZenrollError(
      'ZIP_ENTRY_UNEXPECTED',
      `${zip.label} holds ${zip.entryCount} ${zip.entryCount === 1 ? 'entry' : 'entries'}; expected exactly 2, ${want.zip} and ${want.prp}`,
    );
  }
  const entries: Entry[] = [];
  for (let e = await zip.next(); e !== undefined; e = await zip.next()) {
    const isPrp = e.fileName.endsWith('.prp');
    await zip.check(e, { maxBytes: isPrp ? limits.maxPrpBytes : limits.maxZipBytes });
    entries.push(e);
  }
  zip.finish();
  const inner = entries.find((e) => e.fileName === want.zip);
  const prpEntry = entries.find((e) => e.fileName === want.prp);
  if (inner === undefined || prpEntry === undefined) throw unexpectedNames(zip.label, entries, want);
  if (inner.compressionMethod !== 0) {
    throw new ZenrollError('ZIP_ENTRY_UNEXPECTED', `${zip.label}: the inner zip ${shown(inner.fileName)} is deflated; it must be stored`);
  }

  const chunks: Buffer[] = [];
  await zip.digest(prpEntry, chunks);
  const prp = within(zip.label, () => verifyPrp(Buffer.concat(chunks), trust));
  if (prp.scheduledtime !== name.scheduledtime || prp.server !== name.server) {
    throw new ZenrollError(
      'ZIP_NAME_MISMATCH',
      `${zip.label} names time ${name.scheduledtime} and server ${shown(name.server)}; its .prp says ${prp.scheduledtime} and ${shown(prp.server)}`,
    );
  }

  const d = await zip.digest(inner);
  if (d.size !== prp.inner.size || d.sha256 !== prp.inner.sha256) {
    throw new ZenrollError(
      'ZIP_MANIFEST_MISMATCH',
      `${zip.label}: the inner zip is ${d.size} bytes with SHA-256 ${d.sha256}; the .prp says ${prp.inner.size} bytes, ${prp.inner.sha256}`,
    );
  }
  const innerLabel = `${zip.label}, inner zip`;
  const start = await zip.dataStart(inner);
  const files = await checkInner(fh, start, d.size, prp, limits, innerLabel).catch((err: unknown) => {
    throw zipError(err, innerLabel, path);
  });
  return { prp, files };
}

// Both entries named for one other time/server: the outer file was renamed.
function unexpectedNames(label: string, entries: Entry[], want: { zip: string; prp: string }): ZenrollError {
  const stems = new Set(entries.map((e) => /^(\d{17}_[A-Za-z0-9.%-]+)\.(zip|prp)$/.exec(e.fileName)?.[1]));
  const exts = new Set(entries.map((e) => e.fileName.slice(-4)));
  const found = entries.map((e) => shown(e.fileName)).join(' and ');
  if (stems.size === 1 && !stems.has(undefined) && exts.size === 2) {
    return new ZenrollError(
      'ZIP_NAME_MISMATCH',
      `${label} holds ${found}, made for another time or server; expected ${want.zip} and ${want.prp}`,
    );
  }
  return new ZenrollError('ZIP_ENTRY_UNEXPECTED', `${label} holds ${found}; expected ${want.zip} and ${want.prp}`);
}

/** Inner entries whose data is read, inflated and hashed at once: both cores inflate, memory stays a few entries. */
const DATA_LANES = 4;

/**
 * The inner zip's entries: each one's structure and place in the manifest
 * in order, and its data (read, inflated, CRC, SHA-256) in DATA_LANES
 * concurrent lanes meanwhile. A failure stops new work; the error reported
 * is the one checking one entry after the other would have met first.
 */
async function checkInner(fh: FileHandle, start: number, size: number, prp: Prp, limits: Limits, label: string): Promise<PrpFile[]> {
  const zip = await CheckedZip.open(fh, start, size, limits, label);
  // [position in one-by-one order, error]: entry i's structure is 2i, its data 2i + 1.
  const failures: [number, unknown][] = [];
  const running = new Set<Promise<void>>();
  try {
    if (zip.entryCount > MAX_FILES) {
      throw new ZenrollError('ZIP_TOO_MANY_FILES', `${label} holds ${zip.entryCount} entries; at most ${MAX_FILES} .str files`);
    }
    const files: PrpFile[] = [];
    let total = 0;
    let count = 0;
    while (failures.length === 0) {
      const i = count;
      let e: Entry | undefined;
      let expected: PrpFile | undefined;
      try {
        e = await zip.next();
        if (e === undefined) break;
        await zip.check(e, { maxBytes: limits.maxStrBytes, checkName: (n) => within(label, () => checkStrName(n)) });
        total += e.uncompressedSize;
        if (total > limits.maxInnerUncompressedBytes) {
          throw new ZenrollError('ZIP_TOO_LARGE', `${label} holds over ${limits.maxInnerUncompressedBytes} bytes uncompressed`);
        }
        expected = prp.files[i];
        if (expected?.name !== e.fileName) {
          throw new ZenrollError(
            'ZIP_MANIFEST_MISMATCH',
            `${label}: entry ${i + 1} is ${shown(e.fileName)}; the .prp lists ${expected === undefined ? 'no more files' : shown(expected.name)}`,
          );
        }
      } catch (err) {
        failures.push([2 * i, err]);
        break;
      }
      count++;
      const task: Promise<void> = checkData(zip, e, expected, label)
        .then((file) => {
          files[i] = file;
        })
        .catch((err: unknown) => {
          failures.push([2 * i + 1, err]);
        })
        .finally(() => running.delete(task));
      running.add(task);
      if (running.size >= DATA_LANES) await Promise.race(running);
    }
    await Promise.all(running);
    if (failures.length > 0) throw failures.sort((a, b) => a[0] - b[0])[0]?.[1];
    if (count !== prp.files.length) {
      throw new ZenrollError('ZIP_MANIFEST_MISMATCH', `${label} holds ${count} .str files; the .prp lists ${prp.files.length}`);
    }
    zip.finish();
    return files;
  } finally {
    await Promise.all(running);
    zip.close();
  }
}

/** One .str's data against its manifest line. */
async function checkData(zip: CheckedZip, e: Entry, expected: PrpFile, label: string): Promise<PrpFile> {
  const d = await zip.digest(e);
  if (d.size !== expected.size || d.sha256 !== expected.sha256) {
    throw new ZenrollError(
      'ZIP_MANIFEST_MISMATCH',
      `${label}: ${shown(e.fileName)} is ${d.size} bytes with SHA-256 ${d.sha256}; the .prp says ${expected.size} bytes, ${expected.sha256}`,
    );
  }
  return { name: e.fileName, size: d.size, sha256: d.sha256 };
}
