/**
 * The node flags of a long-running `zenroll serve`, passed by whatever starts
 * it: docs/zenroll.service, the demo, the benchmark and the tests. Other
 * commands run with plain node. They cannot be set from inside the process
 * (too late for the heap's sizes), and NODE_OPTIONS refuses the second.
 *
 * - `--max-semi-space-size=2`: a small young generation, so that the Buffers
 *   of packing, verifying and uploading are freed by frequent small collections.
 * - `--heap-growing-percent=100`: the old space is collected when it has
 *   doubled; V8's default lets it grow to 3–4× its live size here, and 25
 *   collected so often that it cost each process 2–3 s of CPU end to end.
 * - `--expose-gc`: for the heap keeper (service/heap-keeper.ts).
 * - `--liftoff-only`: undici's HTTP parser (WebAssembly) stays on V8's
 *   baseline compiler; its optimising tier-up took ~35 MB at the first uploads.
 *
 * docs/PERFORMANCE.md has the method and the figures.
 */
export const SERVE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=2',
  '--heap-growing-percent=100',
  '--expose-gc',
  '--liftoff-only',
];
