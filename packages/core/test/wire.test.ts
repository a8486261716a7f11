import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isZenrollError } from '../src/errors.js';
import { formatOuterName } from '../src/names.js';
import { formatReprDigest, parseReprDigest, zipPath } from '../src/wire.js';

const digest = createHash('sha256').update('zenroll').digest();
const b64 = digest.toString('base64');

describe('Repr-Digest (RFC 9530)', () => {
  it('round-trips a SHA-256', () => {
    expect(formatReprDigest(digest)).toBe(`sha-256=:${b64}:`);
    expect(parseReprDigest(formatReprDigest(digest))).toEqual(digest);
    for (let i = 0; i < 50; i++) {
      const d = randomBytes(32);
      expect(parseReprDigest(formatReprDigest(d))).toEqual(d);
    }
  });

  it.each([
    [`sha-512=:${randomBytes(64).toString('base64')}:, sha-256=:${b64}:`, 'another algorithm before it'],
    [`sha-256=:${b64}:, sha-512=:${randomBytes(64).toString('base64')}:`, 'another algorithm after it'],
    [`sha-256=:${b64}:;q=1`, 'a parameter'],
    [`  sha-256=:${b64}:  `, 'surrounding spaces'],
    [`md5="x,y", sha-256=:${b64}:`, 'a string member holding a comma'],
    [`unixsum=12, sha-256=:${b64}:, flag`, 'integer and bare members'],
  ])('finds sha-256 beside %s (%s)', (header) => {
    expect(parseReprDigest(header)).toEqual(digest);
  });

  it.each([
    [undefined, 'is missing'],
    ['', 'is missing'],
    [`sha-512=:${randomBytes(64).toString('base64')}:`, 'has no sha-256 member'],
    [`sha-256=${b64}`, 'expected sha-256=:<base64'],
    [`sha-256="${b64}"`, 'not a byte sequence'],
    [`sha-256=:${b64}`, 'unterminated byte sequence'],
    [`sha-256=:${b64.slice(0, -1)}!:`, 'not base64'],
    [`sha-256=:${randomBytes(20).toString('base64')}:`, 'of 20 bytes'],
    [`sha-256=:${b64}:,`, 'ends with a comma'],
    [`sha-256=:${b64}: sha-512=:AA==:`, 'where a comma belongs'],
    [`SHA-256=:${b64}:`, 'malformed key'],
    [`sha-256=(:${b64}:)`, 'inner list'],
  ])('refuses %j (%s) with UPLOAD_INVALID', (header, why) => {
    let caught: unknown;
    try {
      parseReprDigest(header);
    } catch (err) {
      caught = err;
    }
    expect(isZenrollError(caught, 'UPLOAD_INVALID')).toBe(true);
    expect((caught as Error).message).toContain(why);
  });

  it('refuses to format a digest that is not 32 bytes', () => {
    expect(() => formatReprDigest(randomBytes(31))).toThrow(/32 bytes/);
  });
});

describe('zipPath', () => {
  it('percent-encodes the outer name as one segment, so decoding gives it back', () => {
    const name = formatOuterName({ scheduledtime: '20261122103000000', server: 'LE_AF é', tree: 'ACME', status: 0 });
    expect(name).toBe('20261122103000000_LE%5FAF%20%C3%A9_ACME_0.zip');
    const path = zipPath(name);
    expect(path).toBe('/v1/zips/20261122103000000_LE%255FAF%2520%25C3%25A9_ACME_0.zip');
    expect(decodeURIComponent(path.slice('/v1/zips/'.length))).toBe(name);
  });
});
