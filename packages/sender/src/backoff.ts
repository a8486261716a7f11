/**
 * The retry schedule of SPEC §1, pure: before try k+1 the Sender waits
 * `baseMs · factor^(k-1)`, or the Receiver's `Retry-After` when that is longer.
 */
export interface RetryPolicy {
  readonly baseMs: number;
  readonly factor: number;
  readonly tries: number;
}

/** The wait before try `k + 1`, after `k` failed tries (k ≥ 1). */
export function retryDelayMs(policy: RetryPolicy, k: number, retryAfterMs: number | null = null): number {
  const backoff = policy.baseMs * policy.factor ** (k - 1);
  return retryAfterMs !== null && retryAfterMs > backoff ? retryAfterMs : backoff;
}

/** Every wait of one push that fails all its tries: `tries - 1` of them. */
export function retrySchedule(policy: RetryPolicy): number[] {
  return Array.from({ length: Math.max(0, policy.tries - 1) }, (_, i) => retryDelayMs(policy, i + 1));
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date; null when
 * absent or unreadable (an unreadable one is no reason to wait less).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
