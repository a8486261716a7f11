/**
 * The keys an upload's signature may be made with (SPEC §4): every `*.pub`
 * in `receiver.trustDir`, this server's own public key, and keys from an
 * extra source (the directory's published keys, once configured).
 */
import type { KeyObject } from 'node:crypto';
import {
  TrustStore,
  isZenrollError,
  loadPublicKey,
  verifyOuterZip,
  type Limits,
  type VerifiedZip,
} from '@zenroll/core';

export interface ExtraKeySource {
  /** The public key with this key id (SPEC §3 `key.id`), if the source knows one. */
  lookup(keyId: string): Promise<KeyObject | undefined>;
}

export interface TrustOptions {
  trustDir: string;
  ownPublicKey: string;
  extraKeys?: ExtraKeySource;
}

/**
 * The trust store as it is now: the folder is read again for each upload, so
 * a key added with `zenroll trust add` counts without a restart.
 */
export async function currentTrust(o: TrustOptions): Promise<TrustStore> {
  const store = await TrustStore.fromDir(o.trustDir);
  store.add(await loadPublicKey(o.ownPublicKey), o.ownPublicKey);
  return store;
}

/**
 * Verify with the local keys; a signer they do not know is looked up in the
 * extra source once (it is slow: LDAP), and the zip verified again with it.
 */
export async function verifyUpload(path: string, name: string, limits: Partial<Limits>, o: TrustOptions): Promise<VerifiedZip> {
  const store = await currentTrust(o);
  try {
    return await verifyOuterZip(path, { trust: store.lookup, name, limits });
  } catch (err) {
    if (o.extraKeys === undefined || !isZenrollError(err, 'PRP_SIGNER_UNKNOWN')) throw err;
    const keyId = err.details.keyId;
    if (typeof keyId !== 'string') throw err;
    const key = await o.extraKeys.lookup(keyId);
    if (key === undefined) throw err;
    store.add(key, `extra key source (${keyId})`);
    return verifyOuterZip(path, { trust: store.lookup, name, limits });
  }
}
