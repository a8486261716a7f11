/**
 * Build a valid signed outer zip from parts (@zenroll/lab's raw writer, so
 * every field can be bent), plus the temp-folder and error helpers the zip
 * tests share.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZip, type RawEntry } from '@zenroll/lab/zipcraft';
import { afterEach, beforeEach } from 'vitest';
import { isZenrollError, type ZenrollError } from '../../src/errors.js';
import type { KeyPair } from '../../src/keys.js';
import { formatOuterName, innerZipName, prpName } from '../../src/names.js';
import { signPrp, type PrpBody } from '../../src/prp.js';

export interface Str {
  name: string;
  data: Buffer;
}

export interface OuterParts {
  keys: KeyPair;
  strs: Str[];
  scheduledtime?: string;
  server?: string;
  tree?: string;
  /** Inner zip entries; default each .str deflated, in order. */
  innerEntries?: (strs: Str[]) => RawEntry[];
  /** Replace the inner zip's bytes altogether. */
  innerZip?: Buffer;
  /** Change the manifest before it is signed. */
  body?: (body: PrpBody) => PrpBody;
  /** Change the .prp text after it is signed. */
  prpText?: (text: string) => string;
  /** Change the outer entries (inner zip first, .prp second). */
  outerEntries?: (inner: RawEntry, prp: RawEntry) => RawEntry[];
}

export interface Outer {
  name: string;
  zip: Buffer;
  prp: string;
  innerZip: Buffer;
}

export const TIME = '20261122103000000';

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Text-like .str content: repetitive enough to deflate, varied enough not to look like a bomb. */
export function str(index: number, bytes = 4000): Str {
  let text = '';
  for (let line = 0; text.length < bytes; line++) {
    text += `File.${line}=C:\\Program Files\\App${index}\\bin\\f${(line * 7919 + index) % 10007}.dll|${(line * 104729) % 999983}\r\n`;
  }
  return { name: `WS-${String(index).padStart(4, '0')}.str`, data: Buffer.from(text.slice(0, bytes)) };
}

export function buildOuter(p: OuterParts): Outer {
  const scheduledtime = p.scheduledtime ?? TIME;
  const server = p.server ?? 'LEAF1';
  const tree = p.tree ?? 'ACME';
  const innerZip = p.innerZip ?? buildZip(p.innerEntries?.(p.strs) ?? p.strs.map((s) => ({ name: s.name, data: s.data })));
  let body: PrpBody = {
    scheduledtime,
    server,
    tree,
    created: '2026-11-22T10:30:00.000Z',
    inner: { name: innerZipName(scheduledtime, server), size: innerZip.length, sha256: sha256(innerZip) },
    files: p.strs.map((s) => ({ name: s.name, size: s.data.length, sha256: sha256(s.data) })),
    extra: [],
  };
  body = p.body?.(body) ?? body;
  const signed = signPrp(body, p.keys.privateKey, p.keys.publicKey);
  const prp = p.prpText?.(signed) ?? signed;
  const innerEntry: RawEntry = { name: innerZipName(scheduledtime, server), data: innerZip, method: 0 };
  const prpEntry: RawEntry = { name: prpName(scheduledtime, server), data: Buffer.from(prp), method: 0 };
  const zip = buildZip(p.outerEntries?.(innerEntry, prpEntry) ?? [innerEntry, prpEntry]);
  return { name: formatOuterName({ scheduledtime, server, tree, status: 0 }), zip, prp, innerZip };
}

/** A temp folder per test, removed after it. */
export function useTempDir(prefix: string): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

export async function writeOuter(dir: string, outer: Outer, name = outer.name): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, outer.zip);
  return path;
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export async function failure(p: Promise<unknown>): Promise<ZenrollError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isZenrollError(err)) throw new Error(`expected a ZenrollError, got ${String(err)}`, { cause: err });
  return err;
}
