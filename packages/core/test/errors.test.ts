import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERRORS, ZenrollError, errorSpec, errorTableMarkdown, isErrorCode, listenError } from '../src/index.js';

describe('the one error table (SPEC §5)', () => {
  it('docs/errors.md is the table printed from the code (npm run docs:errors)', async () => {
    const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(errorTableMarkdown());
  });

  it('every code has an exit of 1 or 2, an HTTP error status or none, and a retry answer; every 5xx is retried (SPEC §1)', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect([1, 2], code).toContain(spec.exit);
      if (spec.http !== null) expect(spec.http >= 400 && spec.http < 600, code).toBe(true);
      if (spec.http !== null && spec.http >= 500) expect(spec.retry, code).toBe(true);
      expect(typeof spec.retry, code).toBe('boolean');
    }
  });

  it.each([
    ['USAGE', 2, false],
    ['CONFIG_INVALID', 2, false],
    ['SETUP_INVALID', 2, false],
    ['PORT_IN_USE', 1, true],
    ['RECEIVER_UNREACHABLE', 1, true],
    ['RECEIVER_TLS_UNTRUSTED', 1, false],
    ['RECEIVER_PROTOCOL_MISMATCH', 1, false],
    ['PRP_SIGNER_UNKNOWN', 1, false],
    ['FS_NO_SPACE', 1, true],
    ['DIGEST_MISMATCH', 1, true],
  ] as const)('%s: exit %i, retried %s', (code, exit, retry) => {
    expect(errorSpec(code)).toMatchObject({ exit, retry });
  });

  it('a code from a newer peer is met like INTERNAL', () => {
    expect(isErrorCode('NO_SUCH_CODE')).toBe(false);
    expect(errorSpec('NO_SUCH_CODE')).toBe(ERRORS.INTERNAL);
  });

  it('a taken port is PORT_IN_USE with its fix; any other listen failure is the config', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const e = listenError('receiver.listen', '127.0.0.1', 7099, inUse);
    expect(e.code).toBe('PORT_IN_USE');
    expect(e.fix).toMatch(/set receiver\.listen to a free port/);
    expect(e.toJSON()).toMatchObject({ error: 'PORT_IN_USE', fix: e.fix });
    const other = listenError('admin.listen', '10.9.9.9', 1, Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }));
    expect(other.code).toBe('CONFIG_INVALID');
    expect(new ZenrollError('USAGE', 'm').toJSON()).toEqual({ error: 'USAGE', message: 'm' });
  });
});
