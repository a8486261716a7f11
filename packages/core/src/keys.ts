/**
 * Ed25519 keys: generation, PEM load/save, key ids (SPEC §3 `key.id`), and
 * the trust store of `receiver.trustDir` (one `<encoded server>.pub` PEM per
 * key, binding the key to that server).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ZenrollError, errnoCode, fsError, isZenrollError, shown } from './errors.js';
import { writeFileDurable } from './durable.js';
import { checkName, decodeName } from './names.js';
import { keyIdOf, type TrustedKey } from './prp.js';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateKeyPair(): KeyPair {
  return generateKeyPairSync('ed25519');
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export function privateKeyPem(privateKey: KeyObject): string {
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * A PEM on one line, each run of line breaks and spaces made one space
 * (`-----BEGIN PUBLIC KEY----- MCow… -----END PUBLIC KEY-----`): the form of
 * `zenrollPublicKey` (SPEC §7), which a browser's one-line text box cannot change.
 */
export function oneLinePem(pem: string): string {
  return pem.trim().split(/\s+/).join(' ');
}

const ARMOR = /^-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----$/;

/**
 * The standard PEM (64-character lines) of a PEM whose line breaks were
 * lost, turned into spaces, or are there: a value a browser or a mail
 * program rewrapped still reads. Text that is no PEM block is returned as is.
 */
export function normalizePem(text: string): string {
  const m = ARMOR.exec(text.trim());
  if (m === null) return text;
  const body = (m[2] ?? '').replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${m[1]}-----\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}-----END ${m[1]}-----\n`;
}

/** Parse a public key PEM (SPKI), also one whose line breaks were lost; only Ed25519 is accepted. */
export function parsePublicKeyPem(text: string, source = 'public key'): KeyObject {
  const pem = normalizePem(text);
  // Node derives a public key from a private PEM; a private key in a trust folder is a mistake to refuse.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ZenrollError('KEY_INVALID', `${source} is a private key; only public keys belong there`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new ZenrollError('KEY_INVALID', `${source} is not a PEM public key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ZenrollError('KEY_INVALID', `${source} is a ${key.asymmetricKeyType} key; zenroll signs with Ed25519`);
  }
  return key;
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new ZenrollError('KEY_NOT_FOUND', `${what} ${shown(path, 200)} does not exist (zenroll init creates it)`, { cause: err });
    }
    throw fsError(err, `read ${what}`, path);
  }
}

export async function loadPublicKey(path: string): Promise<KeyObject> {
  return parsePublicKeyPem(await readKeyFile(path, 'public key'), `public key ${shown(path, 200)}`);
}

/** Load the server's key pair; the public key must belong to the private one. */
export async function loadKeyPair(privatePath: string, publicPath: string): Promise<KeyPair> {
  const pem = await readKeyFile(privatePath, 'private key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new ZenrollError('KEY_INVALID', `private key ${shown(privatePath, 200)} is not a PEM private key`, { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ZenrollError('KEY_INVALID', `private key ${shown(privatePath, 200)} is ${privateKey.asymmetricKeyType}, not Ed25519`);
  }
  const publicKey = await loadPublicKey(publicPath);
  if (keyIdOf(createPublicKey(privateKey)) !== keyIdOf(publicKey)) {
    throw new ZenrollError('KEY_INVALID', `public key ${shown(publicPath, 200)} does not belong to private key ${shown(privatePath, 200)}`);
  }
  return { privateKey, publicKey };
}

export async function saveKeyPair(pair: KeyPair, privatePath: string, publicPath: string): Promise<void> {
  await writeFileDurable(privatePath, privateKeyPem(pair.privateKey), { mode: 0o600 });
  await writeFileDurable(publicPath, publicKeyPem(pair.publicKey), { mode: 0o644 });
}

/**
 * The trust file of a server in `receiver.trustDir`: its name encoded with
 * the SPEC §3 codec (only `A–Z a–z 0–9 . - %XX`, safe on every file system),
 * so the file name is the binding an operator sees.
 */
export function trustFileName(server: string): string {
  return `${checkName('server', server)}.pub`;
}

/**
 * The base name zenroll gives every server's own public key (`keys/server.pub`):
 * a copy of it names no server, so it is never read as a binding.
 */
export const OWN_KEY_STEM = 'server';

/**
 * The server a trust file binds its key to; null for an unbound key: a base
 * name that is no encoded server name (named by hand), the key's own id (the
 * default name before keys were bound) or `server` (a copied keys/server.pub,
 * and `zenroll verify --trust KEYS_DIR`). Unbound keys stay trusted for any
 * origin so that an older install keeps working; `zenroll doctor` and
 * `zenroll serve` warn about each.
 */
export function trustFileServer(fileName: string, keyId: string): string | null {
  const stem = fileName.endsWith('.pub') ? fileName.slice(0, -4) : fileName;
  if (stem === keyId || stem === OWN_KEY_STEM) return null;
  try {
    const server = decodeName(stem);
    checkName('server', server);
    return server;
  } catch (err) {
    if (isZenrollError(err, 'NAME_INVALID')) return null;
    throw err;
  }
}

export interface TrustEntry {
  keyId: string;
  /** The origin server the key may sign for; null: any (unbound). */
  server: string | null;
  source: string;
}

/** Trusted public keys by key id, each with the servers it may sign for. */
export class TrustStore {
  readonly #keys = new Map<string, TrustedKey & { grants: { server: string | null; source: string }[] }>();

  /** Trust `key` for batches of origin `server` (null: any origin). A key added again keeps every grant. */
  add(key: KeyObject, source: string, server: string | null): string {
    const id = keyIdOf(key);
    const known = this.#keys.get(id);
    if (known === undefined) this.#keys.set(id, { key, grants: [{ server, source }] });
    else if (!known.grants.some((g) => g.server === server && g.source === source)) known.grants.push({ server, source });
    return id;
  }

  get(keyId: string): KeyObject | undefined {
    return this.#keys.get(keyId)?.key;
  }

  /** A lookup function for `verifyPrp`. */
  readonly lookup = (keyId: string): TrustedKey | undefined => this.#keys.get(keyId);

  /** One entry per grant: a key trusted for two servers shows twice. */
  entries(): TrustEntry[] {
    return [...this.#keys].flatMap(([keyId, v]) => v.grants.map((g) => ({ keyId, server: g.server, source: g.source })));
  }

  /** The grants for any origin: keys to re-add with `zenroll trust add --name SERVER`. */
  unbound(): TrustEntry[] {
    return this.entries().filter((e) => e.server === null);
  }

  get size(): number {
    return this.#keys.size;
  }

  /**
   * Every `*.pub` in a folder, bound to the server its name encodes
   * (`trustFileServer`). A folder that does not exist is an empty store; a bad
   * key file is an error.
   */
  static async fromDir(dir: string): Promise<TrustStore> {
    const store = new TrustStore();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return store;
      throw fsError(err, 'read trust folder', dir);
    }
    for (const name of names.filter((n) => n.endsWith('.pub')).sort()) {
      const path = join(dir, name);
      const key = await loadPublicKey(path);
      store.add(key, path, trustFileServer(name, keyIdOf(key)));
    }
    return store;
  }
}
