/**
 * The node flags `zenroll serve` runs with, wherever it is started: the
 * shebang of bin.ts (keep the two alike), the demo, the benchmark's tree and
 * docs/zenroll.service.
 *
 * - `--max-semi-space-size=2`: a small young generation. V8 grows it to
 *   2 × 16 MB under the steady churn of packing, verifying and uploading, and
 *   the Buffers it holds are freed only by its collections.
 * - `--heap-growing-percent=25`: the next full collection when the old space
 *   has grown by a quarter. With a small young generation more garbage is
 *   promoted, and V8's own heuristics let the old space grow to 3–4× its live
 *   size before collecting it: LEAF1's heap climbed from 24 to 69 MB over a
 *   50,000-.str backlog with no full collection, while its live set stayed
 *   ~26 MB. A soft target, unlike --max-old-space-size: a large backlog that
 *   needs more memory still gets it.
 *
 * Measured (npm run bench, docs/PERFORMANCE.md), peak RSS of LEAF1, INT1,
 * ROOT: with both flags 140, 138, 98 MB end to end and 146, 128, 92 MB with
 * the 50,000 backlog; with the first alone 146, 142, 100 and 199, 183, 92 MB;
 * with neither 173, 156, 128 MB end to end.
 *
 * A flag set from inside the process (v8.setFlagsFromString) comes too late:
 * the heap is sized at start-up; and NODE_OPTIONS refuses
 * --heap-growing-percent, hence the shebang.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=25'];
