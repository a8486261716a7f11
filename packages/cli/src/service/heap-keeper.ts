/**
 * Keeps a running service's JavaScript heap near its live size when that is
 * large. With the small young generation of SERVE_NODE_FLAGS much
 * short-lived garbage is promoted, and with --heap-growing-percent=100 V8
 * collects the old space only when it has doubled: over a large backlog the
 * heap grows to twice its live size between collections.
 *
 * Why it stays: in the benchmark's memory figures (`npm run bench -- --only
 * e2e --runs 1`, two runs with it and two without, alternating, 2026-12-05)
 * the peak RSS of LEAF1 and INT1 with the 50,000 backlog was 160.6–166.4 and
 * 124.1–126.3 MB with it, 163.2–181.0 and 138.0–144.9 MB without; end to end
 * 147–150 and 118 MB against 152–153 and 122 MB; CPU time did not differ
 * beyond the noise. Without it the backlog moves further past the 150 MB
 * target (docs/PERFORMANCE.md).
 *
 * Once a second it asks for a full collection when the heap has grown by
 * more than the slack (a quarter of what the last collection left, 8 MB at
 * least). It needs `gc`, which --expose-gc (in SERVE_NODE_FLAGS) gives;
 * without it, it does nothing.
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
  const exposed: unknown = Reflect.get(globalThis, 'gc');
  const gc = opts.gc ?? (typeof exposed === 'function' ? () => void exposed() : undefined);
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
