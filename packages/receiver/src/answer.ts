/**
 * Every answer of the Receiver is JSON; every error answer is
 * `{error: <stable code>, message}` (SPEC §4). `UploadError` carries the
 * status with the code, so the upload steps throw and one place answers.
 */
import type { ServerResponse } from 'node:http';
import { errorSpec, type WireCode, type WireError } from '@zenroll/core';

export class UploadError extends Error {
  override readonly name = 'UploadError';
  /** The HTTP status of the answer: the code's, from the one table (core errors.ts). */
  readonly status: number;

  constructor(
    readonly code: WireCode,
    message: string,
    readonly options: {
      retryAfterS?: number;
      cause?: unknown;
      /** The client went away: nobody reads the answer, and nothing was refused. */
      aborted?: boolean;
      /** What the client can do about it (SPEC §1: a refusal names its fix). */
      fix?: string;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = errorSpec(code).http ?? 500;
  }

  toJSON(): WireError {
    return this.options.fix === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, fix: this.options.fix };
  }
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
