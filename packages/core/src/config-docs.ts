/**
 * The config reference (docs/config.md) and the JSON Schema of `zenroll.json`,
 * both generated from `configSchema`: its `.describe()` texts, defaults and
 * bounds are the only place a key is documented (SPEC §6).
 * `npm run docs:config` writes them; a test fails while either is stale.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configForms, configSchema } from './config.js';

/**
 * The JSON Schema file, shipped at the root of this package (next to `dist/`),
 * so that `zenroll init` can point `$schema` at the installed copy.
 */
export const CONFIG_SCHEMA_FILE = 'zenroll-config.schema.json';
export const configSchemaPath = (): string => fileURLToPath(new URL(`../${CONFIG_SCHEMA_FILE}`, import.meta.url));

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minItems?: number;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  [key: string]: unknown;
};

/**
 * The schema of the file as written (defaults make keys optional). Draft-07:
 * the newest draft that every common editor validates in full.
 */
export function configJsonSchema(): JsonSchema {
  const schema = toJsonSchema(false);
  return {
    $schema: schema.$schema,
    title: 'zenroll.json',
    description:
      'The config file of a zenroll server: every key in docs/config.md, the contract in docs/SPEC.md ' +
      '(both in the zenroll repository). What a role needs (which folders, sender.parent) zenroll checks itself.',
    ...schema,
  };
}

// With `forms`, each string key carries what it expects in words (`x-form`), for the docs.
function toJsonSchema(forms: boolean): JsonSchema {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-07',
    override: (ctx) => {
      const form = forms ? configForms.get(ctx.zodSchema)?.form : undefined;
      if (form !== undefined) ctx.jsonSchema['x-form'] = form;
    },
  });
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: zod's JSONSchema type, narrowed to the fields the docs read
  return schema as JsonSchema;
}

/** The text of the JSON Schema file. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (v: unknown) => `\`${JSON.stringify(v)}\``;

function bounds(s: JsonSchema): string {
  const low = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined ? `≥ ${s.minimum}` : '';
  const high = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (s.minimum !== undefined && high !== undefined) return ` ${s.minimum}–${high}`;
  if (high !== undefined) return ` ≤ ${high}`;
  return low === '' ? '' : ` ${low}`;
}

function typeOf(s: JsonSchema): string {
  if (typeof s['x-form'] === 'string') return s['x-form'];
  if (s.const !== undefined) return code(s.const);
  if (s.enum !== undefined) return s.enum.map(code).join(', ');
  if (s.anyOf !== undefined) return s.anyOf.map(typeOf).join(' or ');
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? ['any'] : [s.type];
  return types
    .map((t) => {
      if (t === 'integer' || t === 'number') return `${t}${bounds(s)}`;
      if (t === 'array')
        return `a list${s.minItems ? ` of at least ${s.minItems}` : ''}, each ${s.items === undefined ? 'anything' : typeOf(s.items)}`;
      if (t === 'object' && s.properties !== undefined) return `{${Object.keys(s.properties).join(', ')}}`;
      return t;
    })
    .join(' or ');
}

/** The object that the items of a list key may be (`receiver.listen: [{address, tls}]`), if any. */
function itemObjectOf(s: JsonSchema): JsonSchema | undefined {
  for (const branch of [s, ...(s.anyOf ?? [])]) {
    const inner = branch.items === undefined ? undefined : objectOf(branch.items);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** The object a key holds keys of, if any (an object, or the object branch of `false | {…}` / `{…} | null`). */
function objectOf(s: JsonSchema): JsonSchema | undefined {
  if (s.properties !== undefined) return s;
  return s.anyOf?.find((o) => o.properties !== undefined);
}

interface Row {
  key: string;
  type: string;
  dflt: string;
  text: string;
}

function rows(obj: JsonSchema, prefix: string, out: Row[]): void {
  for (const [name, s] of Object.entries(obj.properties ?? {})) {
    const key = `${prefix}${name}`;
    const inner = objectOf(s);
    const required = obj.required?.includes(name) === true;
    if (inner !== undefined) {
      // A section: its keys follow; say only what the section itself may be.
      const alt = s.anyOf?.filter((o) => o !== inner).map(typeOf) ?? [];
      out.push({ key, type: ['object', ...alt].join(' or '), dflt: sectionDefault(s, required), text: s.description ?? '' });
      rows(inner, `${key}.`, out);
      continue;
    }
    const dflt = 'default' in s ? code(s.default) : required ? 'required' : '—';
    out.push({ key, type: typeOf(s), dflt, text: s.description ?? '' });
    const item = itemObjectOf(s);
    if (item !== undefined) rows(item, `${key}[].`, out);
  }
}

const EACH_OWN = 'each key its own';

function sectionDefault(s: JsonSchema, required: boolean): string {
  if (!('default' in s)) return required ? 'required' : '—';
  const d = s.default;
  // `{}`: every key inside takes its own default.
  return d !== null && typeof d === 'object' && Object.keys(d).length === 0 ? EACH_OWN : code(d);
}

/** docs/config.md. */
export function configReference(schema: JsonSchema = toJsonSchema(true)): string {
  const all: Row[] = [];
  rows(schema, '', all);
  const top = Object.keys(schema.properties ?? {});
  const sections = top.filter((k) => objectOf(schema.properties?.[k] ?? {}) !== undefined);
  const table = (list: Row[]) => [
    '| key | type | default | |',
    '|---|---|---|---|',
    ...list.map((r) => `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.dflt)} | ${cell(r.text)} |`),
  ];
  const parts = [
    '# `zenroll.json`: every key',
    '',
    '<!-- Generated from packages/core/src/config.ts by scripts/gen-config-docs.mjs: do not edit. -->',
    '',
    'Regenerate after changing a key in `packages/core/src/config.ts`: `npm run docs:config`',
    '(it also writes the JSON Schema); `npm test` fails while this file is stale.',
    '',
    'The config file of a server, plain JSON ([SPEC.md](SPEC.md) §6). Relative paths are',
    'relative to the file; an unknown key is an error, and every error names its key.',
    'Besides the bounds below, zenroll checks what the role needs: `dirs.entmergedir`',
    'for roles that zip their own scans, `dirs.entpushdir` for roles that send or',
    'receive, `dirs.dbdir` for roles that promote to dbdir, `sender.parent` for',
    'roles that send ([SPEC.md](SPEC.md) §2).',
    '',
    `Editors validate the file with the JSON Schema \`packages/core/${CONFIG_SCHEMA_FILE}\`,`,
    'shipped in `@zenroll/core`; `zenroll init` points `"$schema"` at the installed copy',
    'by a path relative to the config file.',
    '',
    ...table(all.filter((r) => !r.key.includes('.') && !sections.includes(r.key))),
  ];
  for (const name of sections) {
    const own = all.filter((r) => r.key.startsWith(`${name}.`));
    const self = all.find((r) => r.key === name);
    const text = cell(self?.text ?? '');
    const what =
      self?.dflt === EACH_OWN
        ? 'Left out, each key below takes its default.'
        : `Type: ${cell(self?.type ?? '')}; default ${cell(self?.dflt ?? '')}.`;
    parts.push('', `## \`${name}\``, '', `${text.charAt(0).toUpperCase()}${text.slice(1)}. ${what}`, '', ...table(own));
  }
  return `${parts.join('\n')}\n`;
}
