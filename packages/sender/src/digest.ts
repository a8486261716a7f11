/** SHA-256 of a file, streamed (a zip can be hundreds of MB). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fsError } from '@zenroll/core';

export interface FileDigest {
  sha256: Buffer;
  bytes: number;
}

export async function digestFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      const buf: Buffer = chunk;
      hash.update(buf);
      bytes += buf.length;
    }
  } catch (err) {
    throw fsError(err, 'read', path);
  }
  return { sha256: hash.digest(), bytes };
}

/** Whether two files hold the same bytes (sizes first, then digests). */
export async function sameBytes(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([digestFile(a), digestFile(b)]);
  return da.bytes === db.bytes && da.sha256.equals(db.sha256);
}
