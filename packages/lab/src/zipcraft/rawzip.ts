/**
 * A tiny raw ZIP writer for hostile zips: local headers, central directory
 * and end record, each field overridable, so a test changes exactly one
 * thing of an otherwise valid zip. No data descriptors; zip64 only as
 * far as a hostile zip needs it (extra fields, the zip64 end records).
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** The uncompressed content. */
  data: Buffer;
  /** 0 stored, 8 deflate (default). */
  method?: number;
  /** Bytes written as the entry's data; default `data` stored or deflated per `method`. */
  raw?: Buffer;
  crc?: number;
  compressedSize?: number;
  uncompressedSize?: number;
  flags?: number;
  /** Unix mode in the upper 16 bits (made by Unix); default a regular file 0o644. */
  externalAttrs?: number;
  /** Local header fields that disagree with the central record. */
  local?: { name?: string; method?: number; crc?: number };
  /** Only a central record pointing at this offset; no local header or data written for it. */
  centralOnlyAt?: number;
  /** Extra field of the central record (e.g. `zip64Extra(…)`). */
  extra?: Buffer;
  /** Extra field of the local header. */
  localExtra?: Buffer;
}

export interface ZipOptions {
  /** Override the entry count of the end record. */
  count?: number;
  /** Bytes put before the first entry. */
  prefix?: Buffer;
  /** Override the end record's central directory size and offset (0xffffffff: "see zip64"). */
  cdSize?: number;
  cdOffset?: number;
  /**
   * Write a zip64 end record and its locator between the central directory
   * and the end record (or, `inComment`, as the file comment of the last
   * central record); each field defaults to the true value.
   */
  zip64?: { count?: bigint; cdSize?: bigint; cdOffset?: bigint; recordOffset?: bigint; disk?: number; inComment?: boolean };
}

/** A zip64 extended-information extra field (0x0001) holding these 8-byte values, in the order of the spec. */
export function zip64Extra(...values: bigint[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  for (const [i, v] of values.entries()) b.writeBigUInt64LE(v, 4 + 8 * i);
  return b;
}

const UTF8 = 0x800;

function nameBytes(name: string): Buffer {
  return Buffer.from(name, 'utf8');
}

interface Fields {
  name: Buffer;
  method: number;
  flags: number;
  crc: number;
  csize: number;
  usize: number;
  raw: Buffer;
}

function fields(e: RawEntry): Fields {
  const method = e.method ?? 8;
  const raw = e.raw ?? (method === 8 ? deflateRawSync(e.data) : e.data);
  const name = nameBytes(e.name);
  const ascii = name.every((b) => b < 0x80);
  return {
    name,
    method,
    flags: e.flags ?? (ascii ? 0 : UTF8),
    crc: (e.crc ?? crc32(e.data)) >>> 0,
    csize: e.compressedSize ?? raw.length,
    usize: e.uncompressedSize ?? e.data.length,
    raw,
  };
}

/** A local file header followed by the entry's data. */
export function localRecord(e: RawEntry): Buffer {
  const f = fields(e);
  const name = e.local?.name === undefined ? f.name : nameBytes(e.local.name);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(f.flags, 6);
  h.writeUInt16LE(e.local?.method ?? f.method, 8);
  h.writeUInt16LE(0, 10); // time 00:00:00
  h.writeUInt16LE(0x5c21, 12); // date 2026-01-01
  h.writeUInt32LE((e.local?.crc ?? f.crc) >>> 0, 14);
  h.writeUInt32LE(f.csize, 18);
  h.writeUInt32LE(f.usize, 22);
  h.writeUInt16LE(name.length, 26);
  const extra = e.localExtra ?? Buffer.alloc(0);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, name, extra, f.raw]);
}

function centralRecord(e: RawEntry, offset: number): Buffer {
  const f = fields(e);
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode counts
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(f.flags, 8);
  h.writeUInt16LE(f.method, 10);
  h.writeUInt16LE(0, 12);
  h.writeUInt16LE(0x5c21, 14);
  h.writeUInt32LE(f.crc, 16);
  h.writeUInt32LE(f.csize, 20);
  h.writeUInt32LE(f.usize, 24);
  h.writeUInt16LE(f.name.length, 28);
  const extra = e.extra ?? Buffer.alloc(0);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt16LE(0, 32);
  h.writeUInt16LE(0, 34);
  h.writeUInt16LE(0, 36);
  h.writeUInt32LE((e.externalAttrs ?? 0o100644 << 16) >>> 0, 38);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, f.name, extra]);
}

export function buildZip(entries: RawEntry[], opts: ZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  const push = (b: Buffer): void => {
    parts.push(b);
    at += b.length;
  };
  if (opts.prefix !== undefined) push(opts.prefix);
  const offsets: number[] = [];
  for (const e of entries) {
    offsets.push(e.centralOnlyAt ?? at);
    if (e.centralOnlyAt === undefined) push(localRecord(e));
  }
  const cdStart = at;
  const central = entries.map((e, i) => centralRecord(e, offsets[i] ?? 0));
  const z = opts.zip64;
  // The zip64 end record and locator: 76 bytes, right before the end record.
  const zip64Records = (recordAt: number, cdSize: number): Buffer => {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeUInt32LE(z?.disk ?? 0, 16);
    record.writeBigUInt64LE(z?.count ?? BigInt(entries.length), 24);
    record.writeBigUInt64LE(z?.count ?? BigInt(entries.length), 32);
    record.writeBigUInt64LE(z?.cdSize ?? BigInt(cdSize), 40);
    record.writeBigUInt64LE(z?.cdOffset ?? BigInt(cdStart), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(z?.recordOffset ?? BigInt(recordAt), 8);
    locator.writeUInt32LE(1, 16);
    return Buffer.concat([record, locator]);
  };
  const cdBytes = central.reduce((n, b) => n + b.length, 0);
  const last = central.at(-1);
  if (z?.inComment === true && last !== undefined) {
    // Hidden as the file comment of the last central record: the sizes still add up.
    const rec = Buffer.from(last);
    rec.writeUInt16LE(76, 32);
    central[central.length - 1] = Buffer.concat([rec, zip64Records(cdStart + cdBytes, cdBytes + 76)]);
  }
  central.forEach(push);
  const cdSize = at - cdStart;
  if (z !== undefined && z.inComment !== true) push(zip64Records(at, cdSize));
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(opts.count ?? entries.length, 8);
  end.writeUInt16LE(opts.count ?? entries.length, 10);
  end.writeUInt32LE(opts.cdSize ?? cdSize, 12);
  end.writeUInt32LE(opts.cdOffset ?? cdStart, 16);
  push(end);
  return Buffer.concat(parts);
}
