/** The checks of an upload request before its body is read: a pure function, a table of cases. */
import { describe, expect, it } from 'vitest';
import { formatReprDigest, zipPath } from '@zenroll/core';
import { UploadError } from '../src/answer.js';
import { checkUploadRequest, zipNameOf } from '../src/request-checks.js';

const NAME = '20261122103000000_LE%5FAF_ACME_0.zip';
const DIGEST = formatReprDigest(Buffer.alloc(32, 7));
const segment = (name: string) => zipPath(name).slice('/v1/zips/'.length);

function refusal(fn: () => unknown): UploadError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UploadError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('zipNameOf', () => {
  it('decodes a percent-encoded segment (zipPath) to the exact outer name', () => {
    expect(zipNameOf(segment(NAME))).toBe(NAME);
  });

  it('takes a name sent raw, its own %XX escapes left as they are', () => {
    expect(zipNameOf(NAME)).toBe(NAME);
  });

  it('a server name with a literal percent sign survives both ways', () => {
    const name = '20261122103000000_50%25_ACME_2.zip'; // server "50%"
    expect(zipNameOf(segment(name))).toBe(name);
    expect(zipNameOf(name)).toBe(name);
  });

  it.each([
    ['20261122103000000_LEAF1_ACME_1.zip', /status 1/],
    ['20261122103000000_LEAF1_ACME_3.zip', /stored status/],
    ['20261122103000000_LEAF1_ACME.zip', /fields/],
    [encodeURIComponent('a/20261122103000000_LEAF1_ACME_0.zip'), /separator/],
    ['20261122103000000_LEAF1_ACME_0.txt', /\.zip/],
    ['%E0%A4%A_x', /./],
  ])('refuses %s with 400 NAME_INVALID', (seg, message) => {
    const e = refusal(() => zipNameOf(seg));
    expect(e.status).toBe(400);
    expect(e.code).toBe('NAME_INVALID');
    expect(e.message).toMatch(message);
  });
});

describe('checkUploadRequest', () => {
  const ok = { 'content-length': '1234', 'repr-digest': DIGEST };

  it('returns the name, the digest, the length and the sending server it names (Zenroll-Sender)', () => {
    expect(checkUploadRequest(segment(NAME), ok, 10_000)).toEqual({ name: NAME, digest: Buffer.alloc(32, 7), length: 1234, sender: null });
    expect(checkUploadRequest(segment(NAME), { ...ok, 'zenroll-sender': 'INT%5F1' }, 10_000).sender).toBe('INT_1');
    // A name that does not decode is no reason to refuse the zip: the hop is unknown, as without the header.
    expect(checkUploadRequest(segment(NAME), { ...ok, 'zenroll-sender': 'INT_1' }, 10_000).sender).toBeNull();
  });

  it.each([
    ['no Repr-Digest', { 'content-length': '1' }, 400, 'UPLOAD_INVALID'],
    ['a bad Repr-Digest', { 'content-length': '1', 'repr-digest': 'sha-256=:x:' }, 400, 'UPLOAD_INVALID'],
    ['no Content-Length', { 'repr-digest': DIGEST }, 400, 'UPLOAD_INVALID'],
    ['a chunked body', { 'repr-digest': DIGEST, 'transfer-encoding': 'chunked' }, 400, 'UPLOAD_INVALID'],
    ['a Content-Length over maxZipBytes', { 'content-length': '10001', 'repr-digest': DIGEST }, 413, 'ZIP_OVER_LIMIT'],
  ] as const)('%s → %i %s', (_label, headers, status, code) => {
    const e = refusal(() => checkUploadRequest(segment(NAME), { ...headers }, 10_000));
    expect([e.status, e.code]).toEqual([status, code]);
  });

  it('checks the name before the headers', () => {
    expect(refusal(() => checkUploadRequest('nope.zip', {}, 10_000)).code).toBe('NAME_INVALID');
  });
});
