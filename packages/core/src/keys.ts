/**
 * Ed25519 keys: generation, PEM load/save, key ids (SPEC §3 `key.id`), and
 * the trust store of `receiver.trustDir` (one `*.pub` PEM per key).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ZenrollError, errnoCode, fsError, shown } from './errors.js';
import { writeFileDurable } from './durable.js';
import { keyIdOf } from './prp.js';

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

/** Parse a public key PEM (SPKI); only Ed25519 is accepted. */
export function parsePublicKeyPem(pem: string, source = 'public key'): KeyObject {
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

/** Trusted public keys by key id. */
export class TrustStore {
  readonly #keys = new Map<string, { key: KeyObject; source: string }>();

  add(key: KeyObject, source: string): string {
    const id = keyIdOf(key);
    this.#keys.set(id, { key, source });
    return id;
  }

  get(keyId: string): KeyObject | undefined {
    return this.#keys.get(keyId)?.key;
  }

  /** A lookup function for `verifyPrp`. */
  readonly lookup = (keyId: string): KeyObject | undefined => this.get(keyId);

  entries(): { keyId: string; source: string }[] {
    return [...this.#keys].map(([keyId, v]) => ({ keyId, source: v.source }));
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Every `*.pub` in a folder. A folder that does not exist is an empty store; a bad key file is an error. */
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
      store.add(await loadPublicKey(path), path);
    }
    return store;
  }
}
