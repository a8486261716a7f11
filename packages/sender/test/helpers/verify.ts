/** Verify received zips with the core verifier and gather their `.str` digests. */
import type { KeyObject } from 'node:crypto';
import { keyIdOf, verifyOuterZip, type VerifiedZip } from '@zenroll/core';

export function trustOf(...keys: KeyObject[]): (id: string) => KeyObject | undefined {
  const byId = new Map(keys.map((k) => [keyIdOf(k), k]));
  return (id) => byId.get(id);
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
