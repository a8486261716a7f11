// Fuzzing a zip verifier (core verifyOuterZip) with mutants of a valid
// outer zip: byte flips, 32-bit fields set to extreme values, truncations,
// insertions, deletions and copied ranges at random offsets, one to three at
// a time. Shared by the CI property (packages/core/test/fuzz-verify.test.ts)
// and the long run (scripts/fuzz.mjs), which bring their own verifier.
//
// A case passes when the verifier, within `deadlineMs`, either returns
// exactly the files and manifest of the original zip, or refuses the mutant
// with a ZenrollError of a zip or .prp code. Anything else is a finding:
// another error (a crash), a different result, or no answer (a hang).
import { writeFile } from 'node:fs/promises';
import fc, { type Arbitrary } from 'fast-check';

export type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'set32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'copy'; from: number; to: number; count: number };

const EXTREMES = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** An arbitrary of one mutation of a buffer of `length` bytes (length > 0). */
export function mutationArb(length: number): Arbitrary<Mutation> {
  const at = fc.nat({ max: length - 1 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, xor: fc.integer({ min: 1, max: 255 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('set32' as const),
        at,
        value: fc.oneof(fc.constantFrom(...EXTREMES), fc.nat({ max: 0xffffffff })),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat({ max: length }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 64 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('copy' as const), from: at, to: at, count: fc.integer({ min: 1, max: 256 }) }),
    },
  );
}

/** One to `max` mutations, applied in order. */
export function mutantArb(length: number, max = 3): Arbitrary<Mutation[]> {
  return fc.array(mutationArb(length), { minLength: 1, maxLength: max });
}

function applyOne(buf: Buffer, m: Mutation): Buffer {
  switch (m.kind) {
    case 'flip': {
      if (buf.length === 0) return buf;
      const out = Buffer.from(buf);
      const i = Math.min(m.at, out.length - 1);
      out.writeUInt8(out.readUInt8(i) ^ m.xor, i);
      return out;
    }
    case 'set32': {
      const out = Buffer.from(buf);
      const i = Math.min(m.at, Math.max(0, out.length - 4));
      if (out.length >= 4) out.writeUInt32LE(m.value >>> 0, i);
      return out;
    }
    case 'truncate':
      return buf.subarray(0, Math.min(m.at, buf.length));
    case 'insert': {
      const at = Math.min(m.at, buf.length);
      return Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
    }
    case 'delete': {
      const at = Math.min(m.at, buf.length);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)]);
    }
    case 'copy': {
      const from = Math.min(m.from, buf.length);
      const to = Math.min(m.to, buf.length);
      const part = buf.subarray(from, from + m.count);
      const out = Buffer.from(buf);
      part.copy(out, to);
      return out;
    }
  }
}

/** The mutant: `mutations` applied to a copy of `original`. */
export function mutate(original: Buffer, mutations: readonly Mutation[]): Buffer {
  return mutations.reduce(applyOne, original);
}

/** A mutation list as one short line, for a report. */
export function describeMutations(mutations: readonly Mutation[]): string {
  return mutations
    .map((m) =>
      m.kind === 'insert'
        ? `insert ${m.bytes.length} bytes at ${m.at}`
        : m.kind === 'copy'
          ? `copy ${m.count} bytes ${m.from}→${m.to}`
          : `${m.kind} ${JSON.stringify({ ...m, kind: undefined })}`,
    )
    .join('; ');
}

/** What verifyOuterZip returns, as far as a mutant must not change it. */
export interface Verified {
  prp: unknown;
  files: unknown;
}

/** What verifyOuterZip returned, reduced to what must not change. */
export function essence(verified: Verified): string {
  return JSON.stringify({ prp: verified.prp, files: verified.files });
}

export interface MutantOutcome {
  outcome: 'identical' | 'rejected' | 'crash' | 'differs' | 'hang';
  code?: string;
  message?: string;
  ms: number;
}

export interface RunMutantOptions {
  /** Where the mutant is written. */
  path: string;
  bytes: Buffer;
  /** verifyOuterZip bound to its trust. */
  verify: (path: string) => Promise<Verified>;
  /** essence() of the original zip's verification. */
  original: string;
  /** Tells the project's errors (the test and the script load different builds). */
  isZenrollError: (err: unknown) => err is { code: string };
  deadlineMs?: number;
}

const ACCEPTED_CODE = /^(ZIP_|PRP_)/;

type Answer = { v: Verified } | { err: unknown } | { hang: true };

/** The `code` of an error that has one. */
function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Run one mutant: write it to `path`, verify it, classify the outcome. */
export async function runMutant({
  path,
  bytes,
  verify,
  original,
  isZenrollError,
  deadlineMs = 10_000,
}: RunMutantOptions): Promise<MutantOutcome> {
  await writeFile(path, bytes);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Answer>((resolve) => {
    timer = setTimeout(() => resolve({ hang: true }), deadlineMs);
  });
  const result = await Promise.race<Answer>([
    verify(path).then(
      (v) => ({ v }),
      (err: unknown) => ({ err }),
    ),
    deadline,
  ]);
  clearTimeout(timer);
  const ms = performance.now() - started;
  if ('hang' in result) return { outcome: 'hang', ms };
  if ('err' in result) {
    const err = result.err;
    if (isZenrollError(err) && ACCEPTED_CODE.test(err.code)) return { outcome: 'rejected', code: err.code, ms };
    const stack = err instanceof Error ? err.stack : undefined;
    const outcome: MutantOutcome = { outcome: 'crash', message: String(stack ?? err), ms };
    const code = codeOf(err);
    if (code !== undefined) outcome.code = code;
    return outcome;
  }
  if (essence(result.v) === original) return { outcome: 'identical', ms };
  return { outcome: 'differs', message: essence(result.v).slice(0, 500), ms };
}
