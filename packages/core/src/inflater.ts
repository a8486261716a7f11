/**
 * Inflating one zip entry's raw deflate stream, never to more than the
 * zip says (a bomb stops there), and checking that it is exactly that size.
 * node:zlib's public calls only: errors keep zlib's codes (Z_DATA_ERROR,
 * Z_BUF_ERROR for a stream cut short) and zipError maps them by code; a
 * size other than the zip's is ZIP_SIZE_MISMATCH.
 */
import { promisify } from 'node:util';
import { inflateRaw, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { ZenrollError } from './errors.js';

/** The largest output chunk: an entry up to one byte less inflates in one zlib call. */
const ONE_CALL_MAX = 4 * 1024 * 1024;

/** Never more than `size` bytes of output, in one chunk one byte larger than the content: zlib finds the end in the same call. */
export function inflateOptions(size: number): ZlibOptions & { maxOutputLength: number; chunkSize: number } {
  return { maxOutputLength: Math.max(size, 1), chunkSize: Math.max(Math.min(size + 1, ONE_CALL_MAX), 64) };
}

/** `what` (e.g. `zip "…": entry "a.str"`) decoded to another size than its zip says. */
export function sizeMismatch(what: string, size: number, got: { atLeast: number } | { exactly: number }): ZenrollError {
  const found = 'atLeast' in got ? `at least ${got.atLeast}` : `${got.exactly}`;
  return new ZenrollError('ZIP_SIZE_MISMATCH', `${what} decodes to ${found} bytes; the zip says ${size}`);
}

// zlib stops at maxOutputLength with this code: the stream holds more than the zip says.
function tooLong(err: unknown, what: string, size: number): unknown {
  const code = err !== null && typeof err === 'object' && 'code' in err ? err.code : undefined;
  return code === 'ERR_BUFFER_TOO_LARGE' ? sizeMismatch(what, size, { atLeast: Math.max(size, 1) + 1 }) : err;
}

function checkLength(data: Buffer, what: string, size: number): Buffer {
  if (data.length !== size) throw sizeMismatch(what, size, { exactly: data.length });
  return data;
}

/** Inflate on this thread (for a small entry, cheaper than a round trip through the thread pool). */
export function inflateEntrySync(raw: Buffer, size: number, what: string): Buffer {
  let data: Buffer;
  try {
    data = inflateRawSync(raw, inflateOptions(size));
  } catch (err) {
    throw tooLong(err, what, size);
  }
  return checkLength(data, what, size);
}

const inflateRawAsync = promisify(inflateRaw);

/** Inflate on the thread pool, in one zlib job. */
export async function inflateEntry(raw: Buffer, size: number, what: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await inflateRawAsync(raw, inflateOptions(size));
  } catch (err) {
    throw tooLong(err, what, size);
  }
  return checkLength(data, what, size);
}

/** A stored entry's bytes, which must be exactly `size`. */
export function storedEntry(raw: Buffer, size: number, what: string): Buffer {
  return checkLength(raw, what, size);
}
