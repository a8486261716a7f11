// Fuzzing the zip verifier (core verifyOuterZip) with mutants of a valid
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
import fc from 'fast-check';

const EXTREMES = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** An arbitrary of one mutation of a buffer of `length` bytes (length > 0). */
export function mutationArb(length) {
  const at = fc.nat({ max: length - 1 });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip'), at, xor: fc.integer({ min: 1, max: 255 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('set32'), at, value: fc.oneof(fc.constantFrom(...EXTREMES), fc.nat({ max: 0xffffffff })) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate'), at }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('insert'),
        at: fc.nat({ max: length }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete'), at, count: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('copy'), from: at, to: at, count: fc.integer({ min: 1, max: 256 }) }) },
  );
}

/** One to `max` mutations, applied in order. */
export function mutantArb(length, max = 3) {
  return fc.array(mutationArb(length), { minLength: 1, maxLength: max });
}

function applyOne(buf, m) {
  const at = Math.min(m.at ?? 0, buf.length);
  switch (m.kind) {
    case 'flip': {
      if (buf.length === 0) return buf;
      const out = Buffer.from(buf);
      const i = Math.min(at, out.length - 1);
      out[i] ^= m.xor;
      return out;
    }
    case 'set32': {
      const out = Buffer.from(buf);
      const i = Math.min(at, Math.max(0, out.length - 4));
      if (out.length >= 4) out.writeUInt32LE(m.value >>> 0, i);
      return out;
    }
    case 'truncate':
      return buf.subarray(0, at);
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
    case 'delete':
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)]);
    case 'copy': {
      const from = Math.min(m.from, buf.length);
      const to = Math.min(m.to, buf.length);
      const part = buf.subarray(from, from + m.count);
      const out = Buffer.from(buf);
      part.copy(out, to);
      return out;
    }
    default:
      throw new Error(`unknown mutation ${JSON.stringify(m)}`);
  }
}

/** The mutant: `mutations` applied to a copy of `original`. */
export function mutate(original, mutations) {
  return mutations.reduce(applyOne, original);
}

/** A mutation list as one short line, for a report. */
export function describeMutations(mutations) {
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

/** What verifyOuterZip returned, reduced to what must not change. */
export function essence(verified) {
  return JSON.stringify({ prp: verified.prp, files: verified.files });
}

const ACCEPTED_CODE = /^(ZIP_|PRP_)/;

/**
 * Run one mutant: write it to `path`, verify it, classify the outcome.
 * `verify(path)` is verifyOuterZip bound to its trust; `isZenrollError`
 * tells the project's errors (the test and the script load different builds).
 */
export async function runMutant({ path, bytes, verify, original, isZenrollError, deadlineMs = 10_000 }) {
  await writeFile(path, bytes);
  const started = performance.now();
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hang: true }), deadlineMs);
  });
  const result = await Promise.race([
    verify(path).then(
      (v) => ({ v }),
      (err) => ({ err }),
    ),
    deadline,
  ]);
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (result.hang) return { outcome: 'hang', ms };
  if (result.err !== undefined) {
    const err = result.err;
    if (isZenrollError(err) && ACCEPTED_CODE.test(err.code)) return { outcome: 'rejected', code: err.code, ms };
    return { outcome: 'crash', code: err?.code, message: String(err?.stack ?? err), ms };
  }
  if (essence(result.v) === original) return { outcome: 'identical', ms };
  return { outcome: 'differs', message: essence(result.v).slice(0, 500), ms };
}
