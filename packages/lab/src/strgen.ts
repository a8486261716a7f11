// Deterministic generator of realistic ZENworks-like inventory scan files (.str).
//
// Every byte of a file is a function of (seed, index, minBytes, maxBytes) only.
// The content is CRLF text, the way a Windows inventory scanner dumps one
// workstation: a header, hardware (BIOS, processor, memory, disks, NICs),
// operating system, installed software, and a file-level software scan that
// fills the file up to its size. The mix of repeated vocabulary and random
// digits/hex is tuned so that deflate level 6 compresses it about 5x.
import { utimesSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { startScan, workstationId, writeHardware, writeHeader } from './hardware.js';
import { Out } from './out.js';
import { at, Rng, seedOf } from './rng.js';
import { writeSoftwareSections } from './software.js';
import { SPECIAL_TAGS } from './vocabulary.js';

export const DEFAULT_MIN_BYTES = 20480;
export const DEFAULT_MAX_BYTES = 204800;
/** mtime of the file with index 0 in writeFixtures (2026-01-01T00:00:00Z). */
export const DEFAULT_BASE_MTIME_MS = Date.UTC(2026, 0, 1, 0, 0, 0, 0);

/** One generated scan file. */
export interface StrFile {
  name: string;
  data: Buffer;
}

export interface SizeOptions {
  /** Smallest file size in bytes (default DEFAULT_MIN_BYTES). */
  minBytes?: number;
  /** Largest file size in bytes (default DEFAULT_MAX_BYTES). */
  maxBytes?: number;
}

function makeName(seed: number, index: number): string {
  const r = new Rng(seedOf(seed, index, 0x6e616d65));
  const ws = workstationId(index);
  const hex = r.hex(8);
  // Deterministically, exactly one index in every 50 (index % 50 === 3, so a
  // set of 5 files already has one) gets a name that needs percent-encoding
  // beyond "_".
  if (index % 50 === 3) {
    const tag = at(SPECIAL_TAGS, Math.floor(index / 50) % SPECIAL_TAGS.length);
    return `${ws} ${tag}_${hex}.str`;
  }
  return `${ws}_${hex}.str`;
}

/**
 * Generates one scan file. Pure and deterministic in (seed, index, minBytes, maxBytes).
 * `seed` is any integer (safe range), `index` a non-negative integer (the
 * workstation is WS-<index+1>); the data has a size drawn uniformly from [minBytes, maxBytes].
 */
export function generateStr(seed: number, index: number, opts: SizeOptions = {}): StrFile {
  const minBytes = opts.minBytes ?? DEFAULT_MIN_BYTES;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(minBytes) || !Number.isInteger(maxBytes) || minBytes < 0 || maxBytes < minBytes) {
    throw new RangeError(`need integers 0 <= minBytes <= maxBytes, got ${minBytes}, ${maxBytes}`);
  }
  const name = makeName(seed, index);
  const r = new Rng(seedOf(seed, index, 0x73747221));
  const size = r.int(minBytes, maxBytes);

  const TRAILER_RESERVE = 64;
  const out = new Out(size);
  out.limit = Math.max(0, size - TRAILER_RESERVE);
  const scan = startScan(out, r, seed, index, name, size);
  writeHeader(scan);
  writeHardware(scan);
  writeSoftwareSections(scan);

  // Trailer + padding to exactly `size` bytes.
  out.limit = size;
  const end = '[EndOfScan]';
  const remaining = size - out.off;
  if (remaining >= end.length + 2 + 4 + 2) {
    // "Pad=" + filler + CRLF, then "[EndOfScan]" CRLF
    const fill = remaining - (end.length + 2) - 4 - 2;
    out.line(`Pad=${'.'.repeat(fill)}`);
    out.line(end);
  } else {
    out.buf.fill(0x20, out.off, size); // tiny sizes only: spaces
    out.off = size;
  }
  if (out.off !== size) throw new Error(`strgen: internal error, wrote ${out.off} of ${size} bytes`);
  return { name, data: out.buf };
}

/** deflate-raw level 6 ratio (original/compressed) of some buffers, as a number. */
export function deflateRatio(buffers: Iterable<Uint8Array>): number {
  let raw = 0;
  let comp = 0;
  for (const b of buffers) {
    raw += b.length;
    comp += deflateRawSync(b, { level: 6 }).length;
  }
  return comp ? raw / comp : 0;
}

export interface FixturesOptions extends SizeOptions {
  /** The folder to write into (created if missing). */
  out: string;
  count: number;
  /** Default 1. */
  seed?: number;
  /** mtime step between consecutive files (default 1000). */
  mtimeStepMs?: number;
  /** Index of the first file (default 0). */
  startIndex?: number;
  /** mtime of the file with index 0 (default DEFAULT_BASE_MTIME_MS). */
  baseMtimeMs?: number;
  /** How many files, spread over the set, the deflate ratio is measured on (default 16). */
  sample?: number;
}

export interface FixturesSummary {
  out: string;
  files: number;
  totalBytes: number;
  minSize: number;
  maxSize: number;
  sampleFiles: number;
  /** deflate-raw level 6 ratio of the sampled files. */
  sampleRatio: number;
  ms: number;
  /** The files' names, in index order. */
  names: string[];
}

/**
 * Writes `count` files generated with `seed` into `out` (created if missing).
 * File i gets the mtime baseMtimeMs + i * mtimeStepMs, so arrival order by mtime
 * is the index order. Existing files in `out` are left alone (same names are overwritten).
 */
export async function writeFixtures({
  out,
  count,
  seed = 1,
  minBytes = DEFAULT_MIN_BYTES,
  maxBytes = DEFAULT_MAX_BYTES,
  mtimeStepMs = 1000,
  startIndex = 0,
  baseMtimeMs = DEFAULT_BASE_MTIME_MS,
  sample = 16,
}: FixturesOptions): Promise<FixturesSummary> {
  if (!out) throw new TypeError('writeFixtures: out is required');
  if (!Number.isInteger(count) || count < 0) throw new TypeError(`writeFixtures: count must be a non-negative integer, got ${count}`);
  const t0 = performance.now();
  await mkdir(out, { recursive: true });
  const sampleEvery = count > 0 && sample > 0 ? Math.max(1, Math.floor(count / sample)) : Number.POSITIVE_INFINITY;
  const sampled: Buffer[] = [];
  const names: string[] = [];
  let totalBytes = 0;
  let minSize = Number.POSITIVE_INFINITY;
  let maxSize = 0;
  // Synchronous writes: generation is CPU-bound anyway, and for many small
  // files writeFileSync is markedly faster than the promise API. Yield to the
  // event loop now and then so a caller's timers and I/O are not starved.
  // Fixtures are test and bench input, not files another step trusts: no fsync.
  for (let i = 0; i < count; i++) {
    const index = startIndex + i;
    const { name, data } = generateStr(seed, index, { minBytes, maxBytes });
    const file = join(out, name);
    const t = (baseMtimeMs + index * mtimeStepMs) / 1000;
    writeFileSync(file, data);
    utimesSync(file, t, t);
    if (i % 64 === 63) await new Promise<void>((res) => setImmediate(res));
    names.push(name);
    totalBytes += data.length;
    if (data.length < minSize) minSize = data.length;
    if (data.length > maxSize) maxSize = data.length;
    if (i % sampleEvery === 0 && sampled.length < sample) sampled.push(data);
  }
  return {
    out,
    files: count,
    totalBytes,
    minSize: count ? minSize : 0,
    maxSize,
    sampleFiles: sampled.length,
    sampleRatio: deflateRatio(sampled),
    ms: performance.now() - t0,
    names,
  };
}
