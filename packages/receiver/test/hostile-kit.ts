/**
 * What the hostile-upload suite needs besides helpers.ts: a signed outer zip
 * built from parts on @zenroll/lab's raw zip writer (so that every field can
 * be bent; core's own tests have the same builder in their helpers), a
 * `.prp` signer that signs whatever lines it is given, and a raw TLS client
 * for requests no HTTP client would send.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, type TLSSocket } from 'node:tls';
import { formatOuterName, innerZipName, keyIdOf, prpName, signPrp, type KeyPair, type PrpBody } from '@zenroll/core';
import { buildZip, type RawEntry } from '@zenroll/testkit';

export { buildZip, localRecord, zip64Extra, type RawEntry, type ZipOptions } from '@zenroll/testkit';

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

const TIME = '20261122103000000';
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Text-like .str content: repetitive enough to deflate, varied enough not to look like a bomb. */
export function str(index: number, bytes = 4000): Str {
  let text = '';
  for (let line = 0; text.length < bytes; line++) {
    text += `File.${line}=C:\\Program Files\\App${index}\\bin\\f${(line * 7919 + index) % 10007}.dll|${(line * 104729) % 999983}\r\n`;
  }
  return { name: `WS-${String(index).padStart(4, '0')}.str`, data: Buffer.from(text.slice(0, bytes)) };
}

/** A valid signed outer zip, each part replaceable. */
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

/**
 * A `.prp` signed whatever its lines say: `change` gets the signed lines
 * before `key.id` (a signed manifest's, from `signed`) and returns the lines
 * to sign. The field checks, not the signature, must then refuse it.
 */
export function resign(
  signed: string,
  keys: { privateKey: KeyObject; publicKey: KeyObject },
  change: (lines: string[]) => string[],
): string {
  const lines = signed.split('\n').filter((l) => l !== '' && !l.startsWith('key.id=') && !l.startsWith('signature='));
  const text = `${change(lines).join('\n')}\nkey.id=${keyIdOf(keys.publicKey)}\n`;
  return `${text}signature=${sign(null, Buffer.from(text, 'utf8'), keys.privateKey).toString('base64')}\n`;
}

/** Replace the value of `key` in `key=value` lines. */
export function setKey(key: string, value: string): (lines: string[]) => string[] {
  return (lines) => lines.map((l) => (l.startsWith(`${key}=`) ? `${key}=${value}` : l));
}

export interface RawAnswer {
  /** The status of the first answer, or 0 when the server closed without one. */
  status: number;
  /** Its JSON body, when it had one. */
  body: Record<string, unknown>;
  /** Every byte the server sent before it closed. */
  text: string;
  /** Bytes of `request` written before the server closed the connection. */
  written: number;
}

/**
 * Send `request` over a fresh TLS connection, `chunk` bytes every
 * `everyMs` (a dribbling client) or all at once, and read until the server
 * closes. Resolves when the server closes; the caller's test timeout bounds
 * a server that never does.
 */
export async function rawExchange(
  port: number,
  ca: string,
  request: Buffer,
  o: { chunk?: number; everyMs?: number; thenWait?: boolean } = {},
): Promise<RawAnswer> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: await readFile(ca), servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const received: Buffer[] = [];
  let closed = false;
  let written = 0;
  socket.on('data', (c: Buffer) => received.push(c));
  const done = new Promise<void>((resolve) => {
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.on('error', () => undefined); // a reset is how some refusals end; `close` follows
  if (o.everyMs === undefined) {
    socket.write(request);
    written = request.length;
    if (o.thenWait !== true) socket.end();
  } else {
    const chunk = o.chunk ?? 1;
    for (let at = 0; at < request.length && !closed; at += chunk) {
      socket.write(request.subarray(at, at + chunk));
      written = Math.min(request.length, at + chunk);
      await new Promise((resolve) => setTimeout(resolve, o.everyMs));
    }
    // Past the end of what it had to say, a dribbler just waits for the server.
  }
  await done;
  const text = Buffer.concat(received).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
  const at = text.indexOf('\r\n\r\n');
  let body: Record<string, unknown> = {};
  if (
    at >= 0 &&
    text
      .slice(at + 4)
      .trim()
      .startsWith('{')
  ) {
    body = JSON.parse(
      Buffer.from(text.slice(at + 4), 'latin1')
        .toString('utf8')
        .trim()
        .split('\n')[0] ?? '{}',
    ) as Record<string, unknown>;
  }
  return { status, body, text, written };
}
