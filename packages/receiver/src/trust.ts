/**
 * The keys an upload's signature may be made with (SPEC §4), each bound to
 * the origin server it may sign for: every `*.pub` in `receiver.trustDir`
 * (bound to the server its name encodes, see `TrustStore.fromDir`), this
 * server's own public key (bound to this server), and keys from an extra
 * source (the directory's published keys, bound to the object they are on).
 */
import {
  TrustStore,
  isZenrollError,
  loadPublicKey,
  verifyOuterZip,
  type Limits,
  type TrustedKey,
  type VerifiedZip,
} from '@zenroll/core';

export interface ExtraKeySource {
  /** The public key with this key id (SPEC §3 `key.id`) and the servers it is published for, if the source knows one. */
  lookup(keyId: string): Promise<TrustedKey | undefined>;
}

export interface TrustOptions {
  trustDir: string;
  ownPublicKey: string;
  /** This server's name: its own key signs only for it. */
  ownServer: string;
  extraKeys?: ExtraKeySource;
}

/**
 * The trust store as it is now: the folder is read again for each upload, so
 * a key added with `zenroll trust add` counts without a restart.
 */
export async function currentTrust(o: TrustOptions): Promise<TrustStore> {
  const store = await TrustStore.fromDir(o.trustDir);
  store.add(await loadPublicKey(o.ownPublicKey), o.ownPublicKey, o.ownServer);
  return store;
}

/**
 * Verify with the local keys; a signer they do not know, or know for another
 * server only, is looked up in the extra source once (it is slow: LDAP), and
 * the zip verified again with what it adds. A key's grants add up: it may sign
 * for every server any source trusts it for.
 */
export async function verifyUpload(path: string, name: string, limits: Partial<Limits>, o: TrustOptions): Promise<VerifiedZip> {
  const store = await currentTrust(o);
  try {
    return await verifyOuterZip(path, { trust: store.lookup, name, limits });
  } catch (err) {
    if (o.extraKeys === undefined || !(isZenrollError(err, 'PRP_SIGNER_UNKNOWN') || isZenrollError(err, 'PRP_SIGNER_MISMATCH'))) throw err;
    const keyId = err.details.keyId;
    if (typeof keyId !== 'string') throw err;
    const found = await o.extraKeys.lookup(keyId);
    if (found === undefined) throw err;
    for (const g of found.grants) store.add(found.key, g.source, g.server);
    return verifyOuterZip(path, { trust: store.lookup, name, limits });
  }
}
