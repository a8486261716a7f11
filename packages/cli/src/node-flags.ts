/**
 * The node flags `zenroll serve` runs with, wherever it is started: the
 * shebang of bin.ts (keep the two alike), the demo, the benchmark's tree and
 * docs/zenroll.service.
 *
 * - `--max-semi-space-size=2`: a small young generation. V8 grows it to
 *   2 × 16 MB under the steady churn of packing, verifying and uploading, and
 *   the Buffers it holds are freed only by its collections.
 * - `--heap-growing-percent=100`: the next full collection when the old
 *   space has doubled. With a small young generation more garbage is
 *   promoted, and V8's own heuristics let the old space grow to 3–4× its
 *   live size before collecting it: LEAF1's heap climbed from 24 to 69 MB
 *   over a 50,000-.str backlog, live ~26 MB, and its peak RSS was 195 MB.
 *   25 (what this was before) bounded that better, but V8 then collects on
 *   every small growth: in the benchmark's end-to-end run LEAF1, INT1 and
 *   ROOT used 16.9, 9.0 and 6.3 s of CPU with 25 and 14.7, 6.7 and 4.3 s
 *   with 100, and verification 60 % more CPU (3.5 s against 2.2 s for the
 *   bench's 100 zips).
 *   V8 counts the Buffers allocated since its last full collection against
 *   that limit (here ~10 MB above the live heap), so code that allocates a
 *   fresh Buffer for every entry sets off a full collection every ~10 MB:
 *   52 of them while verifying the bench's 100 zips, when each .str was
 *   inflated into a Buffer of its own. The verifier inflates into one
 *   reused buffer (core inflater.ts): 3 (docs/PERFORMANCE.md).
 * - `--expose-gc`: for service/heap-keeper.ts, which asks for a full
 *   collection, at most once a second, when the heap has grown by a quarter
 *   (8 MB at least) over what the last one left: it bounds a large live set
 *   (the 50,000 backlog) closer than the flag above, and stays out of the way
 *   of the fast churn of an ordinary roll-up, which V8 collects first.
 * - `--liftoff-only`: WebAssembly compiled by V8's baseline compiler only.
 *   The one WebAssembly is undici's HTTP parser (llhttp), which the Sender
 *   runs on a Receiver's small answers; its optimising tier-up on the first
 *   uploads took ~35 MB at once (LEAF1's peak RSS went from 119 to 154 MB in
 *   the 200 ms of its first two uploads, heap and Buffers unchanged).
 *
 * Measured together (npm run bench -- --only e2e --runs 3; each line is the
 * same run with one change, on the same machine within minutes, and runs
 * moved by ±10 % here): peak RSS of LEAF1, INT1, ROOT end to end and with
 * the 50,000 backlog, and the CPU s of each end to end:
 * - semi-space 2 and growing 25 (before): 141, 138, 100 MB; 150–158, 130,
 *   93 MB; 17.9, 9.4, 6.7 s.
 * - semi-space 2, growing 100, liftoff: 128, 119, 100 MB; 152, 132, 99 MB;
 *   14.9, 6.2, 4.2 s.
 * - all four (these): 125, 126, 101 MB; 139, 130, 98 MB; 13.6, 6.0, 3.7 s.
 *
 * A flag set from inside the process (v8.setFlagsFromString) comes too late
 * for the heap's sizes, and NODE_OPTIONS refuses --heap-growing-percent,
 * hence the shebang.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=100', '--expose-gc', '--liftoff-only'];
