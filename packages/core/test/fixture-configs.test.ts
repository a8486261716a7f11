import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLES, parseConfig, roleInfo } from '../src/config.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'config');

describe('the sample configs in fixtures/config', () => {
  it('has one valid config per role, each needing only what its role needs', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual([...ROLES].map((r) => `${r}.json`).sort());
    for (const file of files) {
      const parsed = parseConfig(JSON.parse(await readFile(join(dir, file), 'utf8')), '/srv/zenroll');
      if (!parsed.ok) throw new Error(`${file}: ${JSON.stringify(parsed.errors)}`);
      const { config } = parsed;
      expect(`${config.role}.json`).toBe(file);
      const info = roleInfo(config.role);
      expect(config.dirs.entmergedir !== null).toBe(info.ownScans);
      expect(config.dirs.dbdir !== null).toBe(info.promotesTo.includes('dbdir'));
      expect(config.sender.parent !== null).toBe(info.sender);
    }
  });
});
