/**
 * The faults a TestReceiver can be told to meet instead of answering as the
 * real Receiver does, and which upload meets which.
 */
import type { ServerResponse } from 'node:http';
import { errorSpec, isErrorCode } from '@zenroll/core';
import { sendJson } from './test-receiver-http.js';

export type Fault =
  /** No fault: this upload is handled normally (to aim a fault at a later one). */
  | { kind: 'pass' }
  /**
   * Answer this status (after reading the body), store nothing. A known
   * `error` code must come with the status the real Receiver answers it with
   * (core's error table): a test cannot emulate an answer that does not exist.
   */
  | { kind: 'status'; status: number; error?: string; retryAfterS?: number }
  /** Destroy the connection as soon as the request arrives. */
  | { kind: 'drop' }
  /** Store the zip (201 would follow), then destroy the connection: a lost acknowledgement. */
  | { kind: 'drop-after-store' }
  /** Read the body and never answer. */
  | { kind: 'stall' };

/** A `status` fault must be an answer the real Receiver can give. */
export function checkFault(fault: Fault): void {
  if (fault.kind !== 'status' || fault.error === undefined || !isErrorCode(fault.error)) return;
  const http = errorSpec(fault.error).http;
  if (http !== fault.status) {
    throw new Error(
      `the real Receiver answers ${fault.error} with ${http ?? 'no status'}, not ${fault.status}: a fault must emulate a real answer`,
    );
  }
}

/** The fault this upload of `name` meets: its name's own first, else the next of all uploads'; none for `pass`. */
export function takeFault(name: string, faultsFor: Map<string, Fault[]>, faults: Fault[]): Exclude<Fault, { kind: 'pass' }> | undefined {
  const next = faultsFor.get(name)?.shift() ?? faults.shift();
  return next?.kind === 'pass' ? undefined : next;
}

/** The answer a `status` fault gives, in place of the real one. */
export function answerFault(res: ServerResponse, fault: Extract<Fault, { kind: 'status' }>): void {
  const headers: Record<string, string> = fault.retryAfterS === undefined ? {} : { 'retry-after': String(fault.retryAfterS) };
  sendJson(res, fault.status, { error: fault.error ?? 'TEST_FAULT', message: `told to answer ${fault.status}` }, headers);
}
