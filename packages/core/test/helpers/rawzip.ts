/**
 * A tiny raw ZIP writer for hostile zips: local headers, central directory
 * and end record, each field overridable, so a test changes exactly one
 * thing of an otherwise valid zip. No data descriptors, no zip64.
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
}

export interface ZipOptions {
  /** Override the entry count of the end record. */
  count?: number;
  /** Bytes put before the first entry. */
  prefix?: Buffer;
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
  h.writeUInt16LE(0, 28);
  return Buffer.concat([h, name, f.raw]);
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
  h.writeUInt16LE(0, 30);
  h.writeUInt16LE(0, 32);
  h.writeUInt16LE(0, 34);
  h.writeUInt16LE(0, 36);
  h.writeUInt32LE((e.externalAttrs ?? (0o100644 << 16)) >>> 0, 38);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, f.name]);
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
  entries.forEach((e, i) => push(centralRecord(e, offsets[i] as number)));
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(opts.count ?? entries.length, 8);
  end.writeUInt16LE(opts.count ?? entries.length, 10);
  end.writeUInt32LE(at - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  push(end);
  return Buffer.concat(parts);
}
