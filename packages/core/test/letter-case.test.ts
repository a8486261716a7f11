/** Two .str whose names differ only by letter case would collide on Windows: refused at every layer. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../src/keys.js';
import { packBatch } from '../src/pack.js';
import { signPrp } from '../src/prp.js';
import { verifyOuterZip } from '../src/verify.js';
import { TrustStore } from '../src/keys.js';
import { buildOuter, failure, str, useTempDir, writeOuter } from './helpers/outer.js';

const keys = generateKeyPair();
const dir = useTempDir('zenroll-case-');

describe('names that differ only by letter case', () => {
  it('the packer refuses them in one batch and writes nothing', async () => {
    await writeFile(join(dir(), 'ws.str'), 'a');
    await writeFile(join(dir(), 'WS.STR'), 'b');
    const err = await failure(
      packBatch({
        files: [join(dir(), 'ws.str'), join(dir(), 'WS.STR')],
        outDir: dir(),
        server: 'LEAF1',
        tree: 'ACME',
        status: 0,
        scheduledtime: '20261122103000000',
        keys,
      }),
    );
    expect(err.code).toBe('PACK_INPUT_INVALID');
    expect(err.message).toContain('letter case');
  });

  it('the .prp parser refuses a manifest naming both', () => {
    const a = { ...str(1), name: 'ws.str' };
    const b = { ...str(2), name: 'WS.str' };
    expect(() => buildOuter({ keys, strs: [a, b] })).toThrow(/letter case/);
    // signPrp checks its own output with the parser, so the refusal is the parser's.
    expect(() =>
      signPrp(
        {
          scheduledtime: '20261122103000000',
          server: 'LEAF1',
          tree: 'ACME',
          created: '2026-11-22T10:30:00.000Z',
          inner: { name: '20261122103000000_LEAF1.zip', size: 1, sha256: '0'.repeat(64) },
          files: [
            { name: 'ws.str', size: 1, sha256: '0'.repeat(64) },
            { name: 'WS.STR', size: 1, sha256: '0'.repeat(64) },
          ],
          extra: [],
        },
        keys.privateKey,
        keys.publicKey,
      ),
    ).toThrow(expect.objectContaining({ code: 'PRP_VALUE_INVALID' }));
  });

  it('the verifier refuses an inner zip holding both, even when the .prp lists one', async () => {
    const a = { ...str(1), name: 'ws.str' };
    const b = { ...str(2), name: 'WS.str' };
    const outer = buildOuter({ keys, strs: [a], innerEntries: () => [a, b].map((s) => ({ name: s.name, data: s.data })) });
    const path = await writeOuter(dir(), outer);
    const trust = new TrustStore();
    trust.add(keys.publicKey, 'test', null);
    const err = await failure(verifyOuterZip(path, { trust: trust.lookup }));
    expect(err.code).toBe('ZIP_ENTRY_DUPLICATE');
  });
});
