/**
 * The node flags `zenroll serve` runs with, wherever it is started: the
 * shebang of bin.ts (keep the two alike), the demo, the benchmark's tree and
 * docs/zenroll.service.
 *
 * A small young generation: V8 grows it to 2 × 16 MB under the steady churn
 * of packing, verifying and uploading, and the Buffers it holds are freed only
 * by its collections. With 2 MB every service of the benchmark's tree peaks
 * ~30 MB lower and spends less time in GC (docs/PERFORMANCE.md). A flag set
 * from inside the process (v8.setFlagsFromString) comes too late: the heap is
 * sized at start-up.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
