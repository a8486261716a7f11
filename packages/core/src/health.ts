/**
 * Health of a running service (SPEC §9): a short list of named checks, each
 * saying ok, degraded (it works, but something it leans on does not answer)
 * or failing (it cannot do its work), and why. `/v1/health` on the admin
 * listener and on the Receiver's port, and `zenroll status --check`, all
 * show the one report made here. A check that does not answer within its
 * time (a hung mount) is failing: a cluster manager must hear that too.
 */
import { messageOf } from './errors.js';
export type HealthState = 'ok' | 'degraded' | 'failing';

export interface HealthResult {
  state: HealthState;
  /** Why, when not ok: what is wrong and where. */
  reason?: string;
}

export interface HealthCheck {
  /** A stable name (`lock`, `folders`, `receiver`, …): what cluster software and people match on. */
  name: string;
  run(): Promise<HealthResult>;
}

export interface HealthReport {
  /** The worst state of the checks. */
  status: HealthState;
  checks: ({ name: string } & HealthResult)[];
}

const RANK: Record<HealthState, number> = { ok: 0, degraded: 1, failing: 2 };

export const HEALTH_CHECK_TIMEOUT_MS = 5_000;

async function runOne(check: HealthCheck, timeoutMs: number): Promise<{ name: string } & HealthResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<HealthResult>((resolve) => {
    timer = setTimeout(() => resolve({ state: 'failing', reason: `did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
  });
  try {
    const r = await Promise.race([check.run().catch((err: unknown): HealthResult => ({ state: 'failing', reason: messageOf(err) })), late]);
    return { name: check.name, ...r };
  } finally {
    clearTimeout(timer);
  }
}

/** Run every check at once; the report's status is the worst of them. */
export async function runHealthChecks(checks: readonly HealthCheck[], timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<HealthReport> {
  const results = await Promise.all(checks.map((c) => runOne(c, timeoutMs)));
  const status = results.reduce<HealthState>((worst, r) => (RANK[r.state] > RANK[worst] ? r.state : worst), 'ok');
  return { status, checks: results };
}

/** The HTTP status of a report: 503 only when failing (degraded still serves). */
export function healthHttpStatus(report: HealthReport): number {
  return report.status === 'failing' ? 503 : 200;
}

/** `lock failing: …; receiver degraded: …`: the checks that are not ok, for a message. */
export function healthReasons(report: HealthReport): string {
  return report.checks
    .filter((c) => c.state !== 'ok')
    .map((c) => `${c.name} ${c.state}: ${c.reason ?? ''}`)
    .join('; ');
}
