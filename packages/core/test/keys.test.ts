import { createHash, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZenrollError, type ErrorCode } from '../src/errors.js';
import {
  TrustStore,
  generateKeyPair,
  loadKeyPair,
  normalizePem,
  oneLinePem,
  loadPublicKey,
  parsePublicKeyPem,
  privateKeyPem,
  publicKeyPem,
  saveKeyPair,
  trustFileName,
  trustFileServer,
  type KeyPair,
} from '../src/keys.js';
import { innerZipName } from '../src/names.js';
import { keyIdOf, signPrp, verifyPrp } from '../src/prp.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<ZenrollError> {
  const err: unknown = await p.then(
    (v) => new Error(`expected a ZenrollError, got a result: ${String(v)}`),
    (e: unknown) => e,
  );
  if (!(err instanceof ZenrollError)) throw new Error(`expected a ZenrollError, got ${String(err)}`, { cause: err });
  return err;
}

/** SPEC §3 key.id computed without keyIdOf. */
function rawKeyId(publicKey: KeyObject): string {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const x25519 = generateKeyPairSync('x25519');
const pemOf = (k: KeyObject): string =>
  k.type === 'private' ? k.export({ format: 'pem', type: 'pkcs8' }).toString() : k.export({ format: 'pem', type: 'spki' }).toString();

describe('generate, save, load', () => {
  it('round-trips a key pair through PEM files', async () => {
    const pair = generateKeyPair();
    expect(pair.privateKey.asymmetricKeyType).toBe('ed25519');
    const priv = join(dir, 'server.key');
    const pub = join(dir, 'server.pub');
    await saveKeyPair(pair, priv, pub);

    expect(await readFile(priv, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(await readFile(pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    expect(await readFile(pub, 'utf8')).toBe(publicKeyPem(pair.publicKey));
    expect(await readFile(priv, 'utf8')).toBe(privateKeyPem(pair.privateKey));

    const loaded = await loadKeyPair(priv, pub);
    expect(keyIdOf(loaded.publicKey)).toBe(rawKeyId(pair.publicKey));
    expect(loaded.privateKey.export({ format: 'jwk' })).toEqual(pair.privateKey.export({ format: 'jwk' }));
    // The loaded private key signs what the original public key verifies, and vice versa.
    const msg = Buffer.from('zenroll');
    expect(verify(null, msg, pair.publicKey, sign(null, msg, loaded.privateKey))).toBe(true);
    expect(verify(null, msg, loaded.publicKey, sign(null, msg, pair.privateKey))).toBe(true);
    // Only the two files; no temp left behind.
    expect((await readdir(dir)).sort()).toEqual(['server.key', 'server.pub']);
  });

  it('writes the private key with mode 0600', async () => {
    const priv = join(dir, 'server.key');
    await saveKeyPair(generateKeyPair(), priv, join(dir, 'server.pub'));
    expect((await stat(priv)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'server.pub'))).mode & 0o077 & ~0o044).toBe(0); // nobody else may write it
  });

  it('replaces an old, world-readable key file with a 0600 one', async () => {
    const priv = join(dir, 'server.key');
    await writeFile(priv, 'old');
    await chmod(priv, 0o644);
    const pair = generateKeyPair();
    await saveKeyPair(pair, priv, join(dir, 'server.pub'));
    expect((await stat(priv)).mode & 0o777).toBe(0o600);
    expect(await readFile(priv, 'utf8')).toBe(privateKeyPem(pair.privateKey));
  });

  it('gives every generated pair its own key id', () => {
    const ids = new Set(Array.from({ length: 5 }, () => keyIdOf(generateKeyPair().publicKey)));
    expect(ids.size).toBe(5);
  });
});

describe('loadKeyPair refuses', () => {
  it('a public key that belongs to another private key (KEY_INVALID)', async () => {
    const priv = join(dir, 'a.key');
    const pub = join(dir, 'b.pub');
    await writeFile(priv, privateKeyPem(generateKeyPair().privateKey));
    await writeFile(pub, publicKeyPem(generateKeyPair().publicKey));
    const err = await failure(loadKeyPair(priv, pub));
    expect(err.code).toBe('KEY_INVALID');
    expect(err.message).toContain('does not belong');
  });

  it('a missing private key file (KEY_NOT_FOUND)', async () => {
    const err = await failure(loadKeyPair(join(dir, 'none.key'), join(dir, 'none.pub')));
    expect(err.code).toBe('KEY_NOT_FOUND');
    expect(err.message).toContain('none.key');
    expect(err.cause).toBeDefined();
  });

  it('a missing public key file (KEY_NOT_FOUND)', async () => {
    const priv = join(dir, 'a.key');
    await writeFile(priv, privateKeyPem(generateKeyPair().privateKey));
    const err = await failure(loadKeyPair(priv, join(dir, 'none.pub')));
    expect(err.code).toBe('KEY_NOT_FOUND');
    expect(err.message).toContain('none.pub');
  });

  it('a folder where the key file should be (FS_FAILED, not KEY_NOT_FOUND)', async () => {
    await mkdir(join(dir, 'a.key'));
    expect((await failure(loadKeyPair(join(dir, 'a.key'), join(dir, 'a.pub')))).code).toBe('FS_FAILED');
  });

  it.each<[string, () => string, string]>([
    ['an RSA private key', () => pemOf(rsa.privateKey), 'rsa'],
    ['an EC private key', () => pemOf(ec.privateKey), 'ec'],
    ['an X25519 private key', () => pemOf(x25519.privateKey), 'x25519'],
    ['a text file', () => 'not a key\n', 'not a PEM private key'],
    ['an empty file', () => '', 'not a PEM private key'],
    ['a truncated PEM', () => privateKeyPem(generateKeyPair().privateKey).slice(0, 60), 'not a PEM private key'],
    ['a public key', () => publicKeyPem(generateKeyPair().publicKey), 'not a PEM private key'],
  ])('%s as the private key (KEY_INVALID)', async (_what, content, fragment) => {
    const priv = join(dir, 'a.key');
    const pub = join(dir, 'a.pub');
    const pair = generateKeyPair();
    await writeFile(priv, content());
    await writeFile(pub, publicKeyPem(pair.publicKey));
    const err = await failure(loadKeyPair(priv, pub));
    expect(err.code).toBe('KEY_INVALID');
    expect(err.message).toContain(fragment);
  });

  it.each<[string, () => string, string]>([
    ['an RSA public key', () => pemOf(rsa.publicKey), 'rsa'],
    ['an X25519 public key', () => pemOf(x25519.publicKey), 'x25519'],
    ['a text file', () => 'ssh-ed25519 AAAAC3Nza…\n', 'not a PEM public key'],
  ])('%s as the public key (KEY_INVALID)', async (_what, content, fragment) => {
    const priv = join(dir, 'a.key');
    const pub = join(dir, 'a.pub');
    await writeFile(priv, privateKeyPem(generateKeyPair().privateKey));
    await writeFile(pub, content());
    const err = await failure(loadKeyPair(priv, pub));
    expect(err.code).toBe('KEY_INVALID');
    expect(err.message).toContain(fragment);
  });
});

describe('parsePublicKeyPem / loadPublicKey', () => {
  it('reads an Ed25519 SPKI PEM', async () => {
    const { publicKey } = generateKeyPair();
    expect(keyIdOf(parsePublicKeyPem(publicKeyPem(publicKey)))).toBe(rawKeyId(publicKey));
    const path = join(dir, 'k.pub');
    await writeFile(path, publicKeyPem(publicKey));
    expect(keyIdOf(await loadPublicKey(path))).toBe(rawKeyId(publicKey));
  });

  it.each<[string, string, ErrorCode]>([
    ['RSA', pemOf(rsa.publicKey), 'KEY_INVALID'],
    ['EC', pemOf(ec.publicKey), 'KEY_INVALID'],
    ['garbage', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'KEY_INVALID'],
    ['empty', '', 'KEY_INVALID'],
    ['an Ed25519 private key', privateKeyPem(generateKeyPair().privateKey), 'KEY_INVALID'],
  ])('refuses %s', (_what, pem, code) => {
    let err: unknown;
    try {
      parsePublicKeyPem(pem, 'the key');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZenrollError);
    expect((err as ZenrollError).code).toBe(code);
    expect((err as ZenrollError).message).toContain('the key');
  });

  it('a missing file is KEY_NOT_FOUND', async () => {
    expect((await failure(loadPublicKey(join(dir, 'nope.pub')))).code).toBe('KEY_NOT_FOUND');
  });
});

describe('TrustStore', () => {
  it('reads every *.pub of a folder and nothing else', async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const other = generateKeyPair();
    await writeFile(join(dir, 'a.pub'), publicKeyPem(a.publicKey));
    await writeFile(join(dir, 'b.pub'), publicKeyPem(b.publicKey));
    await writeFile(join(dir, 'other.pem'), publicKeyPem(other.publicKey));
    await writeFile(join(dir, 'other.pub.bak'), publicKeyPem(other.publicKey));
    await writeFile(join(dir, 'README'), 'put *.pub files here\n');
    await writeFile(join(dir, 'rsa.key'), pemOf(rsa.privateKey));

    const store = await TrustStore.fromDir(dir);
    expect(store.size).toBe(2);
    expect(keyIdOf(store.get(rawKeyId(a.publicKey)) as KeyObject)).toBe(rawKeyId(a.publicKey));
    expect(keyIdOf(store.get(rawKeyId(b.publicKey)) as KeyObject)).toBe(rawKeyId(b.publicKey));
    expect(store.get(rawKeyId(other.publicKey))).toBeUndefined();
    expect(store.get('0'.repeat(32))).toBeUndefined();
    expect(store.entries().sort((x, y) => x.source.localeCompare(y.source))).toEqual(
      [
        { keyId: rawKeyId(a.publicKey), server: 'a', source: join(dir, 'a.pub') },
        { keyId: rawKeyId(b.publicKey), server: 'b', source: join(dir, 'b.pub') },
      ].sort((x, y) => x.source.localeCompare(y.source)),
    );
  });

  it('a folder that does not exist is an empty store', async () => {
    const store = await TrustStore.fromDir(join(dir, 'missing'));
    expect(store.size).toBe(0);
    expect(store.entries()).toEqual([]);
  });

  it('an empty folder is an empty store', async () => {
    expect((await TrustStore.fromDir(dir)).size).toBe(0);
  });

  it.each<[string, () => string]>([
    ['garbage', () => 'not a key\n'],
    ['an RSA key', () => pemOf(rsa.publicKey)],
    ['an empty file', () => ''],
  ])('a *.pub holding %s is KEY_INVALID, naming the file', async (_what, content) => {
    await writeFile(join(dir, 'good.pub'), publicKeyPem(generateKeyPair().publicKey));
    await writeFile(join(dir, 'bad.pub'), content());
    const err = await failure(TrustStore.fromDir(dir));
    expect(err.code).toBe('KEY_INVALID');
    expect(err.message).toContain('bad.pub');
  });

  it('a path that is a file, not a folder, is an error (not an empty store)', async () => {
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    expect((await failure(TrustStore.fromDir(file))).code).toBe('FS_FAILED');
  });

  it('looks keys up by keyIdOf, also through a detached lookup, and verifies a .prp', async () => {
    const pair = generateKeyPair();
    await writeFile(join(dir, 'LEAF1.pub'), publicKeyPem(pair.publicKey));
    const store = await TrustStore.fromDir(dir);
    const { lookup } = store; // used as a plain function by verifyPrp
    expect(lookup(keyIdOf(pair.publicKey))?.key).toBe(store.get(keyIdOf(pair.publicKey)));
    expect(lookup(keyIdOf(generateKeyPair().publicKey))).toBeUndefined();

    const T = '20261122103000000';
    const text = signPrp(
      {
        scheduledtime: T,
        server: 'LEAF1',
        tree: 'ACME',
        created: '2026-11-22T10:30:00.000Z',
        inner: { name: innerZipName(T, 'LEAF1'), size: 1, sha256: 'a'.repeat(64) },
        files: [{ name: 'a.str', size: 1, sha256: 'b'.repeat(64) }],
        extra: [],
      },
      pair.privateKey,
      pair.publicKey,
    );
    expect(verifyPrp(Buffer.from(text), lookup).keyId).toBe(rawKeyId(pair.publicKey));
    // Names are exact: a file leaf1.pub binds the key to another server.
    await rm(join(dir, 'LEAF1.pub'));
    await writeFile(join(dir, 'leaf1.pub'), publicKeyPem(pair.publicKey));
    const lower = await TrustStore.fromDir(dir);
    expect(() => verifyPrp(Buffer.from(text), lower.lookup)).toThrow(expect.objectContaining({ code: 'PRP_SIGNER_MISMATCH' }));
    const stranger = new TrustStore();
    stranger.add(generateKeyPair().publicKey, 'other', null);
    let err: unknown;
    try {
      verifyPrp(Buffer.from(text), stranger.lookup);
    } catch (e) {
      err = e;
    }
    expect((err as ZenrollError).code).toBe('PRP_SIGNER_UNKNOWN');
  });

  it('add() returns the key id and keeps one key with every grant', () => {
    const store = new TrustStore();
    const { publicKey } = generateKeyPair();
    expect(store.add(publicKey, 'x', 'LEAF1')).toBe(rawKeyId(publicKey));
    expect(store.add(publicKey, 'y', null)).toBe(rawKeyId(publicKey));
    expect(store.add(publicKey, 'y', null)).toBe(rawKeyId(publicKey));
    expect(store.size).toBe(1);
    expect(store.lookup(rawKeyId(publicKey))?.grants).toEqual([
      { server: 'LEAF1', source: 'x' },
      { server: null, source: 'y' },
    ]);
    expect(store.unbound()).toEqual([{ keyId: rawKeyId(publicKey), server: null, source: 'y' }]);
  });

  it('binds a key to the server its file name encodes; a key id or a name that does not decode is unbound', async () => {
    const [uni, byId, byHand, lower, ascii] = [0, 1, 2, 3, 4].map(() => generateKeyPair());
    // The file names zenroll trust add --name writes: the SPEC §3 codec.
    expect(trustFileName('LE_AF Zürich')).toBe('LE%5FAF%20Z%C3%BCrich.pub');
    await writeFile(join(dir, trustFileName('LE_AF Zürich')), publicKeyPem(uni!.publicKey));
    await writeFile(join(dir, `${keyIdOf(byId!.publicKey)}.pub`), publicKeyPem(byId!.publicKey));
    await writeFile(join(dir, 'LE_AF.pub'), publicKeyPem(byHand!.publicKey)); // an underscore: not an encoded name
    await writeFile(join(dir, 'LE%5faf.pub'), publicKeyPem(lower!.publicKey)); // not canonical (lower-case hex)
    await writeFile(join(dir, 'LEAF2.pub'), publicKeyPem(ascii!.publicKey));
    const store = await TrustStore.fromDir(dir);
    const serverOf = (k: KeyPair) => store.lookup(keyIdOf(k.publicKey))?.grants.map((g) => g.server);
    expect(serverOf(uni!)).toEqual(['LE_AF Zürich']);
    expect(serverOf(ascii!)).toEqual(['LEAF2']);
    for (const k of [byId!, byHand!, lower!]) expect(serverOf(k)).toEqual([null]);
    expect(
      store
        .unbound()
        .map((e) => e.source)
        .sort(),
    ).toEqual([join(dir, `${keyIdOf(byId!.publicKey)}.pub`), join(dir, 'LE_AF.pub'), join(dir, 'LE%5faf.pub')].sort());
  });

  it('trustFileServer: the binding of a file name, null when unbound', () => {
    const id = '0123456789abcdef0123456789abcdef';
    expect(trustFileServer('LEAF1.pub', id)).toBe('LEAF1');
    expect(trustFileServer('LE%5F1.pub', id)).toBe('LE_1');
    expect(trustFileServer(`${id}.pub`, id)).toBeNull();
    expect(trustFileServer('server.pub', id)).toBeNull(); // a copied keys/server.pub
    expect(trustFileServer('fedcba9876543210fedcba9876543210.pub', id)).toBe('fedcba9876543210fedcba9876543210');
    for (const name of ['LE_1.pub', 'a b.pub', '%ZZ.pub', '%C3.pub', '%0A.pub', `${'A'.repeat(111)}.pub`]) {
      expect(trustFileServer(name, id)).toBeNull();
    }
    expect(() => trustFileName('LE/AF\n')).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
  });
});

describe('one-line public keys (SPEC §7: zenrollPublicKey)', () => {
  const pem = publicKeyPem(generateKeyPair().publicKey);
  it('writes a PEM on one line and reads it back, and the forms a browser leaves', () => {
    const line = oneLinePem(pem);
    expect(line).not.toMatch(/\n/);
    expect(line).toMatch(/^-----BEGIN PUBLIC KEY----- [A-Za-z0-9+/=]+ -----END PUBLIC KEY-----$/);
    for (const form of [pem, line, pem.replaceAll('\n', ''), pem.replaceAll('\n', '\r\n'), `  ${pem.replaceAll('\n', '   ')}  `]) {
      expect(normalizePem(form)).toBe(pem);
      expect(parsePublicKeyPem(form).export({ format: 'pem', type: 'spki' })).toBe(pem);
    }
  });

  it('still refuses what is no key, one line or not', () => {
    expect(() => parsePublicKeyPem('-----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----')).toThrow(/is not a PEM public key/);
    expect(() => parsePublicKeyPem('hello')).toThrow(/is not a PEM public key/);
  });
});
