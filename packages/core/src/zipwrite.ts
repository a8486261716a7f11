/**
 * Writing a zip (SPEC §3): local headers, central directory, end record, for
 * entries whose sizes and CRC-32 are known up front, so no data descriptors
 * and no zip64. A pure format module: the caller deflates and writes.
 *
 * The layout is what archiver wrote before (and what verify.ts, yauzl and
 * Info-ZIP read): made by Unix, a regular file of mode 0o644, the DOS time of
 * `date` in UTC, the UTF-8 flag on a name that is not ASCII.
 */
import { crc32 } from 'node:zlib';
import { ZenrollError, shown } from './errors.js';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: 0 | 8;
  /** The bytes that go into the zip: the content itself when stored, its raw deflate stream when deflated. */
  data: Buffer;
  /** CRC-32 of the uncompressed content. */
  crc32: number;
  /** Size of the uncompressed content. */
  size: number;
}

/** When a deflated entry is kept deflated: the Receiver refuses one that expands beyond its ratio cap. */
export interface RatioCap {
  maxRatio: number;
  ratioMinBytes: number;
}

/**
 * The entry for `content`: deflated as `deflated` when that is smaller and
 * within the ratio cap (checked as zipcheck.ts checks it), stored otherwise
 * (no `deflated`: level 0).
 */
export function chooseEntry(name: string, content: Buffer, deflated: Buffer | undefined, cap: RatioCap, crc = crc32(content)): ZipEntry {
  const size = content.length;
  const overCap = deflated !== undefined && size > cap.ratioMinBytes && size > cap.maxRatio * deflated.length;
  if (deflated === undefined || overCap || deflated.length >= size) return { name, method: 0, data: content, crc32: crc, size };
  return { name, method: 8, data: deflated, crc32: crc, size };
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const MADE_BY_UNIX = (3 << 8) | 20;
const FLAG_UTF8 = 0x800;
// A regular file, rw-r--r--, in the upper half; the DOS "archive" bit in the lower, as archiver wrote.
const EXTERNAL_ATTRS = ((0o100644 << 16) | 0x20) >>> 0;
const MAX_U32 = 0xffffffff;
const MAX_U16 = 0xffff;

/** MS-DOS date and time of `date` in UTC (2-second steps), clamped to 1980–2107, the years they can hold. */
export function dosDateTime(date: Date): { date: number; time: number } {
  const t = Math.min(Math.max(date.getTime(), Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31, 23, 59, 58));
  const d = new Date(t);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}

function tooLarge(message: string): ZenrollError {
  return new ZenrollError('PACK_FAILED', `${message}; a zenroll zip has no zip64`);
}

/**
 * The zip of `entries`, in order, as a list of buffers: Buffer.concat gives
 * the zip, a writev writes it without copying the entries' data.
 */
export function zipParts(entries: readonly ZipEntry[], date: Date): Buffer[] {
  if (entries.length > MAX_U16) throw tooLarge(`${entries.length} entries are too many`);
  const { date: dosDate, time: dosTime } = dosDateTime(date);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    if (name.length > MAX_U16) throw tooLarge(`entry name ${shown(e.name)} is ${name.length} bytes`);
    if (e.size > MAX_U32 || e.data.length > MAX_U32) throw tooLarge(`entry ${shown(e.name)} is ${Math.max(e.size, e.data.length)} bytes`);
    if (offset > MAX_U32) throw tooLarge(`the zip is over ${MAX_U32} bytes`);
    const flags = name.every((b) => b < 0x80) ? 0 : FLAG_UTF8;
    const needs = e.method === 8 ? 20 : 10;

    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(needs, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(e.crc32 >>> 0, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    name.copy(local, 30);
    parts.push(local, e.data);

    const rec = Buffer.alloc(46 + name.length);
    rec.writeUInt32LE(CENTRAL_SIG, 0);
    rec.writeUInt16LE(MADE_BY_UNIX, 4);
    rec.writeUInt16LE(needs, 6);
    rec.writeUInt16LE(flags, 8);
    rec.writeUInt16LE(e.method, 10);
    rec.writeUInt16LE(dosTime, 12);
    rec.writeUInt16LE(dosDate, 14);
    rec.writeUInt32LE(e.crc32 >>> 0, 16);
    rec.writeUInt32LE(e.data.length, 20);
    rec.writeUInt32LE(e.size, 24);
    rec.writeUInt16LE(name.length, 28);
    // extra field, comment, disk number, internal attributes: 0
    rec.writeUInt32LE(EXTERNAL_ATTRS, 38);
    rec.writeUInt32LE(offset, 42);
    name.copy(rec, 46);
    central.push(rec);

    offset += local.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  if (offset > MAX_U32 || offset + cd.length > MAX_U32) throw tooLarge(`the zip is over ${MAX_U32} bytes`);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_SIG, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  parts.push(cd, end);
  return parts;
}

/** Size in bytes of the zip `parts` make. */
export function partsLength(parts: readonly Buffer[]): number {
  return parts.reduce((n, b) => n + b.length, 0);
}
