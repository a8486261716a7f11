/**
 * Inflating many small entries on this thread without allocating for each
 * (docs/PERFORMANCE.md, verification). node:zlib's one-shot inflateRawSync
 * builds a whole stream object, a zlib state and a fresh output Buffer for
 * every call; over the 5,000 .str of 100 zips that churn made V8 collect
 * its old space every 40 ms under zenroll serve's heap flags, and cost the
 * verifier ~0.4 s of its 2 s of main-thread CPU.
 *
 * An Inflater keeps one raw-inflate engine and one output buffer, and
 * resets the engine between entries. It drives the engine through its
 * binding (`_handle.writeSync` and `_writeState`), which is exactly what
 * inflateRawSync itself calls, but not public API: so it checks, once, that
 * the binding is there and inflates a known stream right, and if not, every
 * call falls back to inflateRawSync. Results and errors are the same either
 * way (test/inflater.test.ts runs both on one corpus).
 */
import { InflateRaw, constants, deflateRawSync, inflateRawSync, type ZlibOptions } from 'node:zlib';

/** The two calls of node:zlib's binding that inflateRawSync makes. */
interface Binding {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
}
interface EngineInternals {
  _handle?: Binding | null;
  /** [avail_out, avail_in] after the last write. */
  _writeState?: Uint32Array;
}

/** The output buffer never shrinks below this (a .str is 20–200 KB). */
const MIN_OUT = 64 * 1024;
/** inflateRawSync's largest output chunk (inflateOptions): an entry up to one byte less inflates in one call either way. */
const ONE_CALL_MAX = 4 * 1024 * 1024;

const PROBE = Buffer.from('zenroll inflater probe: zenroll inflater probe.');

export class Inflater {
  #binding: boolean;
  #engine: InflateRaw | undefined;
  #out = Buffer.alloc(0);

  /** `binding: false` always uses inflateRawSync (for tests, and where the probe fails). */
  constructor(opts: { binding?: boolean } = {}) {
    this.#binding = opts.binding ?? true;
    if (this.#binding && !this.#probe()) this.#binding = false;
  }

  /** Whether this inflater drives zlib's binding (false: inflateRawSync per call). */
  get reusesEngine(): boolean {
    return this.#binding;
  }

  /**
   * The raw deflate stream `raw` inflated, which must be exactly `size`
   * bytes: zlib never writes more than max(size + 1, 64) bytes. The result
   * is this inflater's own memory, valid until its next call: use it
   * synchronously. Fails with zlib's own errors, or yauzl's words for a
   * wrong size. An entry of 4 MB or more always goes to inflateRawSync.
   */
  inflate(raw: Buffer, size: number): Buffer {
    const data = this.#binding && size + 1 <= ONE_CALL_MAX ? this.#inflateReusing(raw, size) : this.#inflateOnce(raw, size);
    checkDecodedLength(data.length, size);
    return data;
  }

  #inflateOnce(raw: Buffer, size: number): Buffer {
    try {
      return inflateRawSync(raw, inflateOptions(size));
    } catch (err) {
      throw inflateFailure(err, size);
    }
  }

  #inflateReusing(raw: Buffer, size: number): Buffer {
    // The output room of inflateRawSync's one chunk, so that zlib meets the
    // same bytes, and fails on the same ones, in its one call.
    const { chunkSize: room, maxOutputLength: limit } = inflateOptions(size);
    if (this.#out.length < room) this.#out = Buffer.allocUnsafe(Math.max(room, MIN_OUT));
    const out = this.#out;
    const engine = this.#engine ?? this.#newEngine();
    engine.reset();
    this.#throwIfFailed(engine);
    const { _handle: handle, _writeState: state } = engine as unknown as EngineInternals;
    if (!handle || !state) throw new Error('zlib engine lost its binding');
    // One call with Z_FINISH: zlib inflates as far as the output allows. A
    // stream cut short fails ("unexpected end of file"); one that fills more
    // than `limit` is too long, in inflateRawSync's words.
    handle.writeSync(constants.Z_FINISH, raw, 0, raw.length, out, 0, room);
    this.#throwIfFailed(engine);
    const produced = room - (state[0] ?? room);
    if (produced > limit) throw tooManyBytes(size);
    return out.subarray(0, produced);
  }

  // zlib reports an error by destroying the engine, synchronously (its
  // 'error' event follows on the next tick): the next call makes a new one.
  #throwIfFailed(engine: InflateRaw): void {
    const err = engine.errored;
    if (err === null) return;
    this.#engine = undefined;
    throw err;
  }

  #newEngine(): InflateRaw {
    const engine = new InflateRaw();
    // Already thrown by #inflateReusing; the event must not crash the process.
    engine.on('error', () => {});
    this.#engine = engine;
    return engine;
  }

  /**
   * The binding is there, inflates a known stream twice to the same bytes,
   * and reports a stream cut short as an error (and then works again).
   */
  #probe(): boolean {
    try {
      const deflated = deflateRawSync(PROBE);
      for (let i = 0; i < 2; i++) {
        if (!this.#inflateReusing(deflated, PROBE.length).equals(PROBE)) return false;
        try {
          this.#inflateReusing(deflated.subarray(0, deflated.length - 2), PROBE.length);
          return false;
        } catch (err) {
          if (errorCode(err) !== 'Z_BUF_ERROR') return false;
        }
      }
      return true;
    } catch {
      this.#engine = undefined;
      return false;
    } finally {
      this.#out = Buffer.alloc(0);
    }
  }
}

/** Never more than `size` bytes of output, in one chunk one byte larger than the content: zlib finds the end in the same call. */
export function inflateOptions(size: number): ZlibOptions & { maxOutputLength: number; chunkSize: number } {
  return { maxOutputLength: Math.max(size, 1), chunkSize: Math.max(Math.min(size + 1, ONE_CALL_MAX), 64) };
}

/** zlib's error for an entry of `size` bytes, the output limit put in yauzl's words. */
export function inflateFailure(err: unknown, size: number): unknown {
  if (errorCode(err) !== 'ERR_BUFFER_TOO_LARGE') return err;
  return tooManyBytes(size, err);
}

/** More output than inflateOptions(size) allows, in yauzl's words. */
function tooManyBytes(size: number, cause?: unknown): Error {
  return new Error(`too many bytes in the stream. expected ${size}. got at least ${Math.max(size, 1) + 1}`, cause === undefined ? undefined : { cause });
}

/** An entry decoded to `length` bytes where the zip says `size`: yauzl's own messages (validateEntrySizes), so zipError maps it alike. */
export function checkDecodedLength(length: number, size: number): void {
  if (length > size) throw new Error(`too many bytes in the stream. expected ${size}. got at least ${length}`);
  if (length < size) throw new Error(`not enough bytes in the stream. expected ${size}. got only ${length}`);
}

function errorCode(err: unknown): unknown {
  return err !== null && typeof err === 'object' && 'code' in err ? err.code : undefined;
}
