/**
 * Every answer of the Receiver is JSON; every error answer is
 * `{error: <stable code>, message}` (SPEC §4). `UploadError` carries the
 * status with the code, so the upload steps throw and one place answers.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorCode, WireCode, WireError } from '@zenroll/core';

export class UploadError extends Error {
  override readonly name = 'UploadError';

  constructor(
    readonly status: number,
    readonly code: WireCode,
    message: string,
    readonly options: {
      retryAfterS?: number;
      cause?: unknown;
      /** The client went away: nobody reads the answer, and nothing was refused. */
      aborted?: boolean;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  toJSON(): WireError {
    return { error: this.code, message: this.message };
  }
}

/**
 * The status of a core error met while handling an upload (SPEC §4): an
 * unknown signer is 401, a bad signature (or a key trusted for another
 * server) 403, a full disk 507, anything else wrong with the zip itself 422. Everything else is our own failure: 500.
 */
export function statusOfCode(code: ErrorCode): number {
  if (code === 'PRP_SIGNER_UNKNOWN') return 401;
  // A key of another server is a bad signature for this origin, not an unknown signer.
  if (code === 'PRP_SIGNATURE_INVALID' || code === 'PRP_SIGNER_MISMATCH') return 403;
  if (code === 'FS_NO_SPACE') return 507;
  if (code === 'UPLOAD_INVALID') return 400;
  if (code.startsWith('ZIP_') || code.startsWith('PRP_') || code.startsWith('NAME_')) return 422;
  return 500;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: UploadError, headers: Record<string, string> = {}): void {
  const extra = err.options.retryAfterS === undefined ? headers : { ...headers, 'retry-after': String(err.options.retryAfterS) };
  sendJson(res, err.status, err.toJSON(), extra);
}
