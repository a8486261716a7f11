/**
 * The keys an upload's signature may be made with (SPEC §4), each bound to
 * the origin server it may sign for: every `*.pub` in `receiver.trustDir`
 * (bound to the server its name encodes, see `TrustStore.fromDir`), this
 * server's own public key (bound to this server), and keys from an extra
 * source (the directory's published keys, bound to the object they are on).
 */
import { stat } from 'node:fs/promises';
import { TrustStore, isZenrollError, loadPublicKey, verifyOuterZip, type Limits, type TrustedKey, type VerifiedZip } from '@zenroll/core';

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
 * The trust store as it is now: the folder and the own key, read again. A
 * key added with `zenroll trust add` counts without a restart.
 */
export async function currentTrust(o: TrustOptions): Promise<TrustStore> {
  const store = await TrustStore.fromDir(o.trustDir);
  store.add(await loadPublicKey(o.ownPublicKey), o.ownPublicKey, o.ownServer);
  return store;
}

/**
 * How long a store read for uploads is used before the folder is read again
 * even though its mtime did not change (a file edited in place; `trust add`
 * writes a new file and renames it, which changes the folder's mtime).
 */
const REREAD_MS = 30_000;

const cached = new WeakMap<TrustOptions, { dirMtimeMs: number; readAt: number; store: Promise<TrustStore> }>();

/**
 * The store for an upload: read once and used while the trust folder's mtime
 * stays the same (and for at most REREAD_MS). Reading every key file for every
 * upload made a root with 200 trusted leaves spend its time parsing PEM
 * (docs/PERFORMANCE.md, load). Never changed by its users.
 */
async function trustForUpload(o: TrustOptions, now = Date.now()): Promise<TrustStore> {
  const dirMtimeMs = await stat(o.trustDir).then(
    (st) => st.mtimeMs,
    () => -1,
  );
  const hit = cached.get(o);
  if (hit !== undefined && hit.dirMtimeMs === dirMtimeMs && now - hit.readAt < REREAD_MS) {
    const store = await hit.store.catch(() => null);
    if (store !== null) return store;
  }
  const store = currentTrust(o);
  cached.set(o, { dirMtimeMs, readAt: now, store });
  return store;
}

/**
 * Verify with the local keys; a signer they do not know, or know for another
 * server only, is looked up in the extra source once (it is slow: LDAP), and
 * the zip verified again with what it adds. A key's grants add up: it may sign
 * for every server any source trusts it for.
 */
export async function verifyUpload(path: string, name: string, limits: Partial<Limits>, o: TrustOptions): Promise<VerifiedZip> {
  try {
    return await verifyOuterZip(path, { trust: (await trustForUpload(o)).lookup, name, limits });
  } catch (err) {
    if (o.extraKeys === undefined || !(isZenrollError(err, 'PRP_SIGNER_UNKNOWN') || isZenrollError(err, 'PRP_SIGNER_MISMATCH'))) throw err;
    const keyId = err.details.keyId;
    if (typeof keyId !== 'string') throw err;
    const found = await o.extraKeys.lookup(keyId);
    if (found === undefined) throw err;
    // A store of its own: the cached one is shared by every upload.
    const store = await currentTrust(o);
    for (const g of found.grants) store.add(found.key, g.source, g.server);
    return verifyOuterZip(path, { trust: store.lookup, name, limits });
  }
}

/**
 * Does this Receiver accept zips of `server` signed by `keyId` (its trust
 * folder, its own key, the directory's keys)? What `GET /v1/info?key=…&server=…`
 * tells a child's `zenroll doctor` (issue 16), so that it can say "your key is
 * not trusted at the parent" before a roll-up meets a 401.
 */
export async function keyTrustedFor(o: TrustOptions, keyId: string, server: string): Promise<boolean> {
  const grants = (await trustForUpload(o)).lookup(keyId)?.grants ?? [];
  if (grants.some((g) => g.server === null || g.server === server)) return true;
  const extra = o.extraKeys === undefined ? undefined : await o.extraKeys.lookup(keyId).catch(() => undefined);
  return extra?.grants.some((g) => g.server === null || g.server === server) ?? false;
}
