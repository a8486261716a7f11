/** Verify received zips with the core verifier and gather their `.str` digests. */
import type { KeyObject } from 'node:crypto';
import { TrustStore, verifyOuterZip, type KeyLookup, type VerifiedZip } from '@zenroll/core';

/** The Sender's own zips, whichever server made them: the keys are unbound (any origin). */
export function trustOf(...keys: KeyObject[]): KeyLookup {
  const store = new TrustStore();
  for (const k of keys) store.add(k, 'test', null);
  return store.lookup;
}

export async function verifyAll(paths: string[], ...keys: KeyObject[]): Promise<VerifiedZip[]> {
  const trust = trustOf(...keys);
  const out: VerifiedZip[] = [];
  for (const path of paths) out.push(await verifyOuterZip(path, { trust }));
  return out;
}

/** The multiset of `.str` digests, sorted, for an exactly-once comparison. */
export function digests(zips: VerifiedZip[]): string[] {
  return zips.flatMap((z) => z.files.map((f) => f.sha256)).sort();
}
