/**
 * An upload's body into a temporary file, never into memory: counted against
 * the size limit and hashed as it streams, flushed to disk at the end. On any
 * failure the temporary file is gone before the error reaches the caller.
 */
import { createHash } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fsError } from '@zenroll/core';
import { UploadError } from './answer.js';

export interface StoredBody {
  bytes: number;
  sha256: Buffer;
}

export interface StoreBodyOptions {
  /** More bytes than this is 413, as soon as they arrive. */
  maxBytes: number;
  /** Bytes announced by Content-Length; a body that ends short of them is an aborted upload. */
  expectedBytes: number;
  /** Nothing received for this long is a stalled client: 408. */
  idleMs: number;
  /** Called once the temp file exists. */
  onOpen?: () => void;
  /** How the temp file is created; default `open(path, 'wx')`. Tests give a device that is always full. */
  create?: (path: string) => Promise<FileHandle>;
}

/** How much of a body is gathered before it is written (memory per upload in flight). */
const WRITE_BYTES = 256 * 1024;

/**
 * Write every byte of `chunks`. A write may be short (the disk filled up part
 * way): the rest is written again, and that write says why it cannot.
 */
async function writeAll(file: FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks;
  let left = rest.reduce((n, c) => n + c.length, 0);
  while (left > 0) {
    const { bytesWritten } = await file.writev(rest);
    left -= bytesWritten;
    let skip = bytesWritten;
    for (let first = rest[0]; skip > 0 && first !== undefined; first = rest[0]) {
      if (skip >= first.length) {
        skip -= first.length;
        rest = rest.slice(1);
      } else {
        rest = [first.subarray(skip), ...rest.slice(1)];
        skip = 0;
      }
    }
  }
}

export async function storeBody(body: Readable, tempFile: string, o: StoreBodyOptions): Promise<StoredBody> {
  let handle: FileHandle | undefined;
  let idle: NodeJS.Timeout | undefined;
  let stalled = false;
  // One timer, pushed back by each chunk (refresh), not a new one per chunk.
  const arm = () => {
    if (idle !== undefined) {
      idle.refresh();
      return;
    }
    idle = setTimeout(() => {
      stalled = true;
      body.destroy(new UploadError('REQUEST_TIMEOUT', `no byte arrived for ${o.idleMs} ms`));
    }, o.idleMs);
  };
  try {
    try {
      handle = await (o.create ?? ((p: string) => open(p, 'wx', 0o644)))(tempFile);
    } catch (err) {
      throw fsError(err, 'create the upload file', tempFile);
    }
    o.onOpen?.();
    const hash = createHash('sha256');
    let bytes = 0;
    // The body comes in TLS-record-sized chunks (~16 KB): they are written
    // WRITE_BYTES at a time, one thread-pool job each, not one per chunk.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const file = handle;
    const flush = async () => {
      const chunks = pending;
      pending = [];
      pendingBytes = 0;
      try {
        await writeAll(file, chunks);
      } catch (err) {
        throw fsError(err, 'write the upload file', tempFile);
      }
    };
    arm();
    // Not destroyed on an early exit: the caller drains the rest, so the client can read its answer.
    for await (const data of body.iterator({ destroyOnReturn: false })) {
      // A request body without an encoding yields Buffers (Node types them any).
      const chunk: Buffer = data;
      arm();
      bytes += chunk.length;
      if (bytes > o.maxBytes) {
        throw new UploadError('ZIP_OVER_LIMIT', `the body is over the limit of ${o.maxBytes} bytes`);
      }
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BYTES) await flush();
    }
    clearTimeout(idle);
    if (pendingBytes > 0) await flush();
    if (bytes !== o.expectedBytes) {
      throw new UploadError('UPLOAD_INVALID', `the body has ${bytes} bytes; Content-Length said ${o.expectedBytes}`);
    }
    try {
      await handle.sync();
      await handle.close();
      handle = undefined;
    } catch (err) {
      throw fsError(err, 'flush the upload file', tempFile);
    }
    return { bytes, sha256: hash.digest() };
  } catch (err) {
    clearTimeout(idle);
    if (handle !== undefined) {
      await handle.close().catch(() => undefined);
      // Ours to remove only if we created it. The first error is the one worth
      // reporting; a temp left anyway is swept at the next start.
      await unlink(tempFile).catch(() => undefined);
    }
    if (stalled && !(err instanceof UploadError && err.code === 'REQUEST_TIMEOUT')) {
      throw new UploadError('REQUEST_TIMEOUT', `no byte arrived for ${o.idleMs} ms`, { cause: err });
    }
    throw err;
  }
}
