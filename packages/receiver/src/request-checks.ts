/**
 * What an upload request must say before a byte of its body is read (SPEC
 * §4): a valid outer name in the path, `Repr-Digest` with a SHA-256 and
 * `Content-Length` within `maxZipBytes`. Pure.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  isZenrollError,
  parseOuterName,
  parseReprDigest,
  parseScheduledTime,
  parseSenderHeader,
  SENDER_HEADER,
  shown,
  messageOf,
} from '@zenroll/core';
import { UploadError } from './answer.js';

export interface UploadRequest {
  name: string;
  /** The SHA-256 the body must have. */
  digest: Buffer;
  /** Bytes announced by Content-Length. */
  length: number;
  /** The server that sent it, as it names itself (`Zenroll-Sender`); null when it does not (an older Sender). */
  sender: string | null;
}

function nameError(message: string, cause?: unknown): UploadError {
  return new UploadError('NAME_INVALID', message, { cause });
}

/**
 * The outer name of an upload path's last segment. A path segment is
 * percent-decoded (a client sends `encodeURIComponent(name)`, core
 * `zipPath`); a client that puts the name in raw has its `%XX` escapes
 * decoded away, so when the decoded segment is not a valid name the raw one
 * is tried. A valid name never decodes into another valid name unless its
 * server or tree holds a literal `%` followed by hex digits.
 */
export function zipNameOf(segment: string): string {
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    decoded = undefined; // a stray `%`: only the raw reading is left
  }
  let first: unknown;
  for (const candidate of decoded === undefined || decoded === segment ? [segment] : [decoded, segment]) {
    let status: number;
    try {
      status = parseOuterName(candidate).status;
    } catch (err) {
      first ??= err;
      continue;
    }
    if (status === 1) {
      throw nameError(`zip name ${shown(candidate)} has stored status 1, which only a dbdir holds; on the wire it is 0 or 2`);
    }
    return candidate;
  }
  throw nameError(isZenrollError(first) ? first.message : `zip name ${shown(segment)} is not valid`, first);
}

export function checkUploadRequest(segment: string, headers: IncomingHttpHeaders, maxZipBytes: number): UploadRequest {
  const name = zipNameOf(segment);
  const header = headers['repr-digest'];
  let digest: Buffer;
  try {
    digest = parseReprDigest(Array.isArray(header) ? header.join(', ') : header);
  } catch (err) {
    throw new UploadError('UPLOAD_INVALID', messageOf(err), { cause: err });
  }
  const lengthHeader = headers['content-length'];
  if (lengthHeader === undefined) {
    const chunked = headers['transfer-encoding'] !== undefined;
    throw new UploadError('UPLOAD_INVALID', `Content-Length is required${chunked ? '; a chunked body is not accepted' : ''}`);
  }
  const length = Number(lengthHeader);
  if (!/^\d+$/.test(lengthHeader) || !Number.isSafeInteger(length)) {
    throw new UploadError('UPLOAD_INVALID', `Content-Length ${shown(lengthHeader)} is not a byte count`);
  }
  if (length > maxZipBytes) {
    throw new UploadError('ZIP_OVER_LIMIT', `zip ${name} is ${length} bytes; this Receiver accepts at most ${maxZipBytes}`);
  }
  return { name, digest, length, sender: parseSenderHeader(headers[SENDER_HEADER]) };
}

function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 2 * 86_400_000) return `${Math.round(ms / 86_400_000)} days`;
  if (abs >= 2 * 3_600_000 || (abs >= 3_600_000 && abs % 3_600_000 === 0)) return `${Math.round(ms / 3_600_000)} h`;
  if (abs >= 120_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * A zip scheduled further ahead of this Receiver's clock than `maxSkewMs` was
 * named by a clock that was wrong (issue 16): refused, 422 ZIP_TIME_AHEAD,
 * naming the sender's clock, before a byte of it is stored.
 */
export function checkClockSkew(name: string, sender: string | null, nowMs: number, maxSkewMs: number): void {
  const outer = parseOuterName(name);
  const at = parseScheduledTime(outer.scheduledtime);
  const ahead = at - nowMs;
  if (ahead <= maxSkewMs) return;
  const who = sender ?? outer.server;
  throw new UploadError(
    'ZIP_TIME_AHEAD',
    `zip ${name} is scheduled at ${new Date(at).toISOString()}, ${duration(ahead)} ahead of this Receiver's clock (receiver.maxClockSkewMs ${duration(maxSkewMs)}): the clock of ${who}, which named it, is wrong`,
    {
      fix: `set the clock of ${who} right (NTP); its next zips carry the right time (zenroll doctor there says whether its saved clock is still ahead)`,
    },
  );
}
