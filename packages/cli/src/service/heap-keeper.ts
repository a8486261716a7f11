/**
 * Keeps a running service's JavaScript heap near its live size when that is
 * large (issue 8, memory; node-flags.ts has the figures). With the small
 * young generation of SERVE_NODE_FLAGS much short-lived garbage is promoted,
 * and V8, with --heap-growing-percent=100, collects the old space only when
 * it has doubled: over a 50,000-.str backlog, whose plan keeps ~27 MB live,
 * LEAF1's heap grew to ~54 MB between collections. A lower growing percent
 * bounds that too, but V8 then collects on every small growth of an ordinary
 * roll-up's churn, which cost each process 2–3 s of CPU in the benchmark.
 *
 * This looks once a second (so it collects at most once a second) and asks
 * for a full collection when the heap has grown by more than the slack (a
 * quarter of what the last collection left, 8 MB at least). It needs `gc`,
 * which --expose-gc (in SERVE_NODE_FLAGS) gives; without it, it does nothing.
 *
 * The slack was half and 16 MB until the verifier stopped allocating a
 * Buffer per entry (core inflater.ts). Measured since, with the 50,000
 * backlog (npm run bench -- --only e2e --runs 1, alternating, a GC observer
 * in each service; four runs of each): peak RSS of LEAF1 and INT1
 * 137.9–145.9 and 127.3–134.9 MB with half/16 MB, 128.8–142.8 and
 * 119.4–124.2 MB with a quarter/8 MB. Full collections of LEAF1 and INT1
 * over the backlog's ~100 s: 11–15 (408–494 ms in all) with half/16 MB,
 * 16–24 (473–831 ms) with a quarter/8 MB; in the ordinary roll-up before
 * it, 2–13 with half/16 MB and 3 with a quarter/8 MB.
 */

export interface HeapKeeperOptions {
  /** The full collection; default globalThis.gc, there with --expose-gc. */
  gc?: (() => void) | undefined;
  /** Bytes in the JavaScript heap now; default process.memoryUsage().heapUsed. */
  heapUsed?: () => number;
  everyMs?: number;
  /** Growth allowed over what the last collection left: the larger of a share of it and a floor. */
  slack?: { share: number; minBytes: number };
}

export interface HeapKeeper {
  /** Look now (the timer calls it): true when it collected. */
  check(): boolean;
  /** Full collections asked for so far. */
  readonly collections: number;
  stop(): void;
}

const DEFAULT_SLACK = { share: 0.25, minBytes: 8 * 1024 * 1024 };

/** True when `used` bytes are more than the slack above `live`, what the last collection left. */
export function overSlack(used: number, live: number, slack = DEFAULT_SLACK): boolean {
  return used - live > Math.max(slack.minBytes, live * slack.share);
}

export function startHeapKeeper(opts: HeapKeeperOptions = {}): HeapKeeper {
  const gc = opts.gc ?? (globalThis as { gc?: () => void }).gc;
  const heapUsed = opts.heapUsed ?? (() => process.memoryUsage().heapUsed);
  const slack = opts.slack ?? DEFAULT_SLACK;
  let live = heapUsed();
  let collections = 0;
  const check = (): boolean => {
    if (gc === undefined) return false;
    const used = heapUsed();
    if (!overSlack(used, live, slack)) {
      // A heap that shrank by itself (V8 collected) is the new base.
      live = Math.min(live, used);
      return false;
    }
    gc();
    collections++;
    live = heapUsed();
    return true;
  };
  const timer = gc === undefined ? undefined : setInterval(check, opts.everyMs ?? 1000);
  timer?.unref();
  return {
    check,
    get collections() {
      return collections;
    },
    stop: () => clearInterval(timer),
  };
}
