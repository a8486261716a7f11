/**
 * Named crash points, so the crash suites can kill a real process at an exact
 * step of the pipeline instead of by luck. With `ZENROLL_CRASH_AT=<name>` (a
 * comma-separated list is allowed) the process sends itself SIGKILL when it
 * reaches that point; `<name>@N` kills on the N-th time it is reached.
 * Without the variable this costs one property lookup.
 */
const counts = new Map<string, number>();

function armed(): Map<string, number> | null {
  const spec = process.env.ZENROLL_CRASH_AT;
  if (!spec) return null;
  const points = new Map<string, number>();
  for (const part of spec.split(',')) {
    const [name, nth] = part.trim().split('@');
    if (name) points.set(name, nth ? Number(nth) : 1);
  }
  return points;
}

export const CRASH_POINTS = [
  'collect-after-copy', // a .str copied into entpushdir, not yet removed from entmergedir
  'pack-after-zip', // an outer zip durably written, its .str not yet deleted
  'pack-mid-delete', // some .str of a packed batch deleted, not all
  'send-mid-upload', // part of a zip's body sent
  'send-after-ack', // the Receiver acknowledged, the zip not yet deleted here
  'send-between-records', // the zip deleted, the sent record not yet written
  'receive-after-store', // an upload stored in zipdir, the answer not yet sent
  'promote-mid', // one promotion target written, not the others
  'promote-before-remove', // every target written, the zip not yet removed from zipdir
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

export function crashPoint(name: CrashPoint): void {
  const points = armed();
  if (points === null) return;
  const nth = points.get(name);
  if (nth === undefined) return;
  const seen = (counts.get(name) ?? 0) + 1;
  counts.set(name, seen);
  if (seen === nth) process.kill(process.pid, 'SIGKILL');
}
