// The generator's only source of randomness: a 32-bit seed mixed from
// (seed, index, salt) with fmix32, then mulberry32. No Math.random, so a
// file is a function of its seed and index alone.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit seed of one stream (`salt` tells the name's stream from the content's). */
export function seedOf(seed: number, index: number, salt: number): number {
  const s = Number(seed);
  const i = Number(index);
  if (!Number.isFinite(s) || !Number.isInteger(s)) throw new TypeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(i) || i < 0) throw new TypeError(`index must be a non-negative integer, got ${index}`);
  const sLo = s >>> 0;
  const sHi = Math.floor(s / 4294967296) >>> 0;
  const iLo = i >>> 0;
  const iHi = Math.floor(i / 4294967296) >>> 0;
  let h = fmix32(sLo ^ 0x9e3779b9);
  h = fmix32(h ^ sHi ^ 0x7f4a7c15);
  h = fmix32(h ^ iLo ^ 0x85ebca77);
  h = fmix32(h ^ iHi ^ salt);
  return h;
}

/** mulberry32: a generator of uint32 values. */
function mulberry32(a: number): () => number {
  return function next() {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const HEX_LO: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_UP: readonly string[] = HEX_LO.map((h) => h.toUpperCase());

/** The element at `i` of a list the caller knows is long enough (the vocabularies are never empty). */
export function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new RangeError(`strgen: no element ${i} in a list of ${list.length}`);
  return v;
}

export class Rng {
  readonly u32: () => number;

  constructor(seed32: number) {
    this.u32 = mulberry32(seed32);
  }

  /** float in [0, 1) */
  f(): number {
    return this.u32() / 4294967296;
  }

  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.f() * (hi - lo + 1));
  }

  pick<T>(list: readonly T[]): T {
    return at(list, Math.floor(this.f() * list.length));
  }

  chance(p: number): boolean {
    return this.f() < p;
  }

  /** `n` hex digits, lower case by default. */
  hex(n: number, table: readonly string[] = HEX_LO): string {
    let s = '';
    while (n >= 8) {
      const v = this.u32();
      s += `${table[v >>> 24]}${table[(v >>> 16) & 255]}${table[(v >>> 8) & 255]}${table[v & 255]}`;
      n -= 8;
    }
    if (n > 0) s += this.hex(8, table).slice(0, n);
    return s;
  }

  /** `n` hex digits, upper case. */
  HEX(n: number): string {
    return this.hex(n, HEX_UP);
  }

  /** `n` decimal digits. */
  digits(n: number): string {
    let s = '';
    while (n > 0) {
      const k = Math.min(n, 9);
      s += String(this.u32() % 10 ** k).padStart(k, '0');
      n -= k;
    }
    return s;
  }

  /** `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` */
  guid(): string {
    const h = this.HEX(32);
    return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`;
  }
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** "YYYY-MM-DD HH:MM:SS" from epoch ms (UTC). */
export function fmtDateTime(ms: number): string {
  const d = new Date(ms);
  return `${fmtDate(ms)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** "YYYY-MM-DD" from epoch ms (UTC). */
export function fmtDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** "YYYYMMDDHHMMSS" from epoch ms (UTC). */
export function fmtCompact(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;
}
