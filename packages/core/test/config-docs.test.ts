import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_SCHEMA_FILE,
  configJsonSchema,
  configJsonSchemaText,
  configReference,
  configSchemaPath,
  type JsonSchema,
} from '../src/config-docs.js';
import { parseConfig } from '../src/config.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'fixtures', 'config');

async function fixtureConfigs(): Promise<[string, Record<string, unknown>][]> {
  const files = (await readdir(fixtures)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(
      async (f) =>
        [f, JSON.parse(await readFile(join(fixtures, f), 'utf8')) as Record<string, unknown>] as [string, Record<string, unknown>],
    ),
  );
}

function validator() {
  return new Ajv({ strict: true, allErrors: true }).compile(configJsonSchema());
}

describe('docs/config.md and the JSON Schema, generated from the zod schema', () => {
  // CI runs this: a key changed in config.ts without `npm run docs:config` fails here.
  it('are current (else: npm run docs:config)', async () => {
    expect(await readFile(join(root, 'docs', 'config.md'), 'utf8'), 'docs/config.md is stale: run npm run docs:config').toBe(
      configReference(),
    );
    expect(
      await readFile(join(root, 'packages', 'core', CONFIG_SCHEMA_FILE), 'utf8'),
      `${CONFIG_SCHEMA_FILE} is stale: run npm run docs:config`,
    ).toBe(configJsonSchemaText());
  });

  it('ships the JSON Schema where configSchemaPath() says, as the package exports it', async () => {
    expect(configSchemaPath()).toBe(join(root, 'packages', 'core', CONFIG_SCHEMA_FILE));
    const pkg = JSON.parse(await readFile(join(root, 'packages', 'core', 'package.json'), 'utf8')) as {
      files: string[];
      exports: Record<string, unknown>;
    };
    expect(pkg.files).toContain(CONFIG_SCHEMA_FILE);
    expect(pkg.exports[`./${CONFIG_SCHEMA_FILE}`]).toBe(`./${CONFIG_SCHEMA_FILE}`);
  });

  it('documents every key: each has a description, and each appears in docs/config.md', () => {
    const md = configReference();
    const undocumented: string[] = [];
    const walk = (s: JsonSchema, prefix: string) => {
      for (const [name, p] of Object.entries(s.properties ?? {})) {
        const key = `${prefix}${name}`;
        if (!p.description) undocumented.push(key);
        const shown = md.includes(`| \`${key}\` |`) || md.includes(`\n## \`${key}\`\n`);
        expect(shown, `${key} in docs/config.md`).toBe(true);
        for (const branch of [p, ...(p.anyOf ?? [])]) {
          if (branch.properties) walk(branch, `${key}.`);
          for (const item of [branch.items, ...(branch.items?.anyOf ?? [])]) if (item?.properties) walk(item, `${key}[].`);
        }
      }
    };
    walk(configJsonSchema(), '');
    expect(undocumented).toEqual([]);
  });

  it('shows types, bounds, defaults and what a string must be', () => {
    const md = configReference();
    expect(md).toContain('| `sender.batchSize` | integer 1–50 | `50` |');
    expect(md).toContain('| `sender.retry.baseMs` | integer ≥ 1 | `10000` |');
    expect(md).toContain('| `receiver.receiptDays` | number &gt; 0 | `30` |');
    expect(md).toContain('| `sender.parent` | an http:// or https:// URL or null | `null` |');
    expect(md).toContain(
      '| `directory.url` | an ldap:// or ldaps:// URL or a list of at least 1, each an ldap:// or ldaps:// URL | required |',
    );
    expect(md).toContain('| `role` | `"leaf"`, `"leaf-db"`,');
    expect(md).toMatch(
      /\| `receiver\.tls` \| object or `false` \| `\{"cert":"tls\/server\.crt","key":"tls\/server\.key","clientCa":null\}` \|/,
    );
    expect(md).toContain('npm run docs:config');
  });

  it('accepts every sample config, with and without $schema, as parseConfig does', async () => {
    const validate = validator();
    for (const [file, json] of await fixtureConfigs()) {
      expect(validate(json), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      const withSchema = { $schema: `../../packages/core/${CONFIG_SCHEMA_FILE}`, ...json };
      expect(validate(withSchema), `${file} with $schema`).toBe(true);
      expect(parseConfig(withSchema, '/srv/zenroll').ok).toBe(true);
    }
  });

  it('refuses what parseConfig refuses for its shape: unknown keys, wrong types, out-of-range numbers', async () => {
    const validate = validator();
    const [, leaf] = (await fixtureConfigs()).find(([f]) => f === 'leaf.json') ?? [];
    if (leaf === undefined) throw new Error('no fixtures/config/leaf.json');
    const bad: Record<string, unknown>[] = [
      { ...leaf, colour: 'blue' },
      { ...leaf, sender: { parent: 'https://int1:7099', batchSize: 51 } },
      { ...leaf, sender: { parent: 'https://int1:7099', retry: { tries: 1.5 } } },
      { ...leaf, receiver: { tls: true } },
      { ...leaf, role: 'branch' },
      { ...leaf, $schema: 7 },
      { tree: 'ACME', role: 'leaf' },
    ];
    for (const json of bad) {
      expect(validate(json), JSON.stringify(json)).toBe(false);
      expect(parseConfig(json, '/srv/zenroll').ok, JSON.stringify(json)).toBe(false);
    }
  });

  it('keeps $schema out of the parsed config', () => {
    const r = parseConfig({ $schema: './x.json', server: 'S', tree: 'T', role: 'standalone' }, '/srv');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect('$schema' in r.config).toBe(false);
  });
});
