/**
 * The body → temp file step on its own, with real files and streams: the
 * cases HTTP framing cannot produce (a body longer than its limit) and a
 * real ENOSPC from a device that is always full.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isZenrollError } from '@zenroll/core';
import { UploadError } from '../src/answer.js';
import { storeBody } from '../src/store-body.js';
import { names, removeRoot, tempRoot } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await tempRoot('zenroll-body-');
});
afterAll(async () => {
  await removeRoot(dir);
});

function chunks(total: number, size = 1000): Readable {
  const data = randomBytes(total);
  const parts: Buffer[] = [];
  for (let i = 0; i < total; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('storeBody', () => {
  it('writes the body, hashes and counts it', async () => {
    const data = randomBytes(10_000);
    const path = join(dir, 'ok.tmp');
    const stored = await storeBody(Readable.from([data.subarray(0, 4000), data.subarray(4000)]), path, {
      maxBytes: 20_000,
      expectedBytes: 10_000,
      idleMs: 10_000,
    });
    expect(stored.bytes).toBe(10_000);
    expect(stored.sha256).toEqual(createHash('sha256').update(data).digest());
    expect(await readFile(path)).toEqual(data);
  });

  it('writes every byte when the disk takes only part of a write (a short write)', async () => {
    const path = join(dir, 'shortwrite.tmp');
    let calls = 0;
    const stored = await storeBody(chunks(700_000, 16_384), path, {
      maxBytes: 1_000_000,
      expectedBytes: 700_000,
      idleMs: 10_000,
      create: async (p) => {
        const h = await open(p, 'wx');
        const writev = h.writev.bind(h);
        // Every other write takes only its first 1,000 bytes.
        return Object.assign(h, {
          writev: async (buffers: Buffer[]) => writev(++calls % 2 === 1 ? [Buffer.concat(buffers).subarray(0, 1000)] : buffers),
        });
      },
    });
    expect(stored.bytes).toBe(700_000);
    expect(calls).toBeGreaterThan(3);
    expect((await readFile(path)).length).toBe(700_000);
    expect(
      createHash('sha256')
        .update(await readFile(path))
        .digest(),
    ).toEqual(stored.sha256);
  });

  it('413 as soon as the body passes maxBytes, the partial file removed', async () => {
    const path = join(dir, 'big.tmp');
    const err = await failure(storeBody(chunks(50_000), path, { maxBytes: 20_000, expectedBytes: 20_000, idleMs: 10_000 }));
    expect(err).toBeInstanceOf(UploadError);
    expect(err).toMatchObject({ status: 413, code: 'ZIP_OVER_LIMIT' });
    expect(existsSync(path)).toBe(false);
  });

  it('a body shorter than announced is refused and removed', async () => {
    const path = join(dir, 'short.tmp');
    const err = await failure(storeBody(chunks(5000), path, { maxBytes: 20_000, expectedBytes: 6000, idleMs: 10_000 }));
    expect(err).toMatchObject({ status: 400, code: 'UPLOAD_INVALID' });
    expect(existsSync(path)).toBe(false);
  });

  it('a stalled body is cut after idleMs (408) and removed', async () => {
    const path = join(dir, 'stall.tmp');
    const body = new PassThrough();
    body.write(randomBytes(100));
    const err = await failure(storeBody(body, path, { maxBytes: 20_000, expectedBytes: 1000, idleMs: 100 }));
    expect(err).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(existsSync(path)).toBe(false);
  });

  it('ENOSPC while writing is FS_NO_SPACE, answered 507', async () => {
    const path = join(dir, 'full.tmp');
    const before = await names(dir);
    const err = await failure(
      storeBody(chunks(200_000, 65_536), path, {
        maxBytes: 1_000_000,
        expectedBytes: 200_000,
        idleMs: 10_000,
        create: () => open('/dev/full', 'w'),
      }),
    );
    expect(isZenrollError(err, 'FS_NO_SPACE')).toBe(true);
    expect(new UploadError('FS_NO_SPACE', 'full').status).toBe(507);
    expect(await names(dir)).toEqual(before);
  });

  it('an existing temp name is never overwritten', async () => {
    const path = join(dir, 'taken.tmp');
    await (await open(path, 'w')).close();
    const err = await failure(storeBody(chunks(10), path, { maxBytes: 100, expectedBytes: 10, idleMs: 10_000 }));
    expect(isZenrollError(err, 'FS_FAILED')).toBe(true);
    expect(existsSync(path)).toBe(true);
  });
});

describe("the status of an answer is its code's, from the one table (SPEC §4, §5)", () => {
  it.each([
    ['PRP_SIGNER_UNKNOWN', 401],
    ['PRP_SIGNATURE_INVALID', 403],
    ['ZIP_CRC_MISMATCH', 422],
    ['ZIP_NAME_MISMATCH', 422],
    ['PRP_MALFORMED', 422],
    ['NAME_INVALID', 400],
    ['ZIP_TIME_AHEAD', 422],
    ['BUSY', 503],
    ['FS_NO_SPACE', 507],
    ['FS_FAILED', 500],
    ['INTERNAL', 500],
  ] as const)('%s → %i', (code, status) => {
    expect(new UploadError(code, 'm').status).toBe(status);
  });
});
