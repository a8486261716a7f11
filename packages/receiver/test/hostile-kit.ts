/**
 * What the hostile-upload suite needs besides helpers.ts: core's raw zip
 * writer and signed-outer builder (packages/core/test/helpers, loaded by URL
 * so that this package's typecheck does not take another package's test
 * sources in; the interface below is the part used here), a `.prp` signer
 * that signs whatever lines it is given, and a raw TLS client for requests
 * no HTTP client would send.
 */
import { sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, type TLSSocket } from 'node:tls';
import { keyIdOf, type KeyPair, type PrpBody } from '@zenroll/core';

export interface RawEntry {
  name: string;
  data: Buffer;
  method?: number;
  raw?: Buffer;
  crc?: number;
  compressedSize?: number;
  uncompressedSize?: number;
  flags?: number;
  externalAttrs?: number;
  local?: { name?: string; method?: number; crc?: number };
  centralOnlyAt?: number;
  extra?: Buffer;
  localExtra?: Buffer;
}

export interface ZipOptions {
  count?: number;
  prefix?: Buffer;
  cdSize?: number;
  cdOffset?: number;
  zip64?: { count?: bigint; cdSize?: bigint; cdOffset?: bigint; recordOffset?: bigint; disk?: number; inComment?: boolean };
}

export interface Str {
  name: string;
  data: Buffer;
}

export interface OuterParts {
  keys: KeyPair | { privateKey: KeyObject; publicKey: KeyObject };
  strs: Str[];
  scheduledtime?: string;
  server?: string;
  tree?: string;
  innerEntries?: (strs: Str[]) => RawEntry[];
  innerZip?: Buffer;
  body?: (body: PrpBody) => PrpBody;
  prpText?: (text: string) => string;
  outerEntries?: (inner: RawEntry, prp: RawEntry) => RawEntry[];
}

export interface Outer {
  name: string;
  zip: Buffer;
  prp: string;
  innerZip: Buffer;
}

export interface ZipKit {
  buildZip(entries: RawEntry[], opts?: ZipOptions): Buffer;
  localRecord(e: RawEntry): Buffer;
  zip64Extra(...values: bigint[]): Buffer;
  buildOuter(p: OuterParts): Outer;
  str(index: number, bytes?: number): Str;
}

const RAWZIP = new URL('../../core/test/helpers/rawzip.ts', import.meta.url).href;
const OUTER = new URL('../../core/test/helpers/outer.ts', import.meta.url).href;

export async function loadZipKit(): Promise<ZipKit> {
  const raw = (await import(RAWZIP)) as Pick<ZipKit, 'buildZip' | 'localRecord' | 'zip64Extra'>;
  const outer = (await import(OUTER)) as Pick<ZipKit, 'buildOuter' | 'str'>;
  return { buildZip: raw.buildZip, localRecord: raw.localRecord, zip64Extra: raw.zip64Extra, buildOuter: outer.buildOuter, str: outer.str };
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
