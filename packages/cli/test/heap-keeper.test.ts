/**
 * The heap keeper of `zenroll serve` (issue 8, memory): a full collection
 * when the heap has grown past the slack over what the last one left, never
 * otherwise, and nothing at all without --expose-gc. The decision is tested
 * on given heap sizes; the real thing in a node started with the service's
 * own flags, with real garbage in the old space.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../src/index.js';
import { overSlack, startHeapKeeper } from '../src/service/heap-keeper.js';

const MB = 1024 * 1024;
const KEEPER = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'service', 'heap-keeper.js');

describe('overSlack', () => {
  const slack = { share: 0.25, minBytes: 8 * MB };
  it('allows the floor over a small live set, a quarter over a large one', () => {
    expect(overSlack(20 * MB, 12 * MB, slack)).toBe(false); // 8 MB over 12: the floor
    expect(overSlack(20 * MB + 1, 12 * MB, slack)).toBe(true);
    expect(overSlack(125 * MB, 100 * MB, slack)).toBe(false); // a quarter of 100
    expect(overSlack(125 * MB + 1, 100 * MB, slack)).toBe(true);
    expect(overSlack(10 * MB, 30 * MB, slack)).toBe(false); // shrunk
  });
});

describe('startHeapKeeper', () => {
  it('collects when over the slack, then measures from what the collection left', () => {
    let used = 30 * MB;
    let collected = 0;
    const keeper = startHeapKeeper({
      gc: () => {
        collected++;
        used = 31 * MB;
      },
      heapUsed: () => used,
      everyMs: 3_600_000,
      slack: { share: 0.25, minBytes: 8 * MB },
    });
    try {
      used = 37 * MB; // 7 MB over 30: under the 8 MB floor
      expect(keeper.check()).toBe(false);
      used = 39 * MB; // 9 MB over
      expect(keeper.check()).toBe(true);
      expect(collected).toBe(1);
      used = 38 * MB; // 7 MB over the 31 the collection left
      expect(keeper.check()).toBe(false);
      used = 20 * MB; // V8 collected by itself: the new base
      expect(keeper.check()).toBe(false);
      used = 29 * MB; // 9 MB over 20
      expect(keeper.check()).toBe(true);
      expect(keeper.collections).toBe(2);
    } finally {
      keeper.stop();
    }
  });

  it('does nothing without gc (node without --expose-gc)', () => {
    let used = 10 * MB;
    const keeper = startHeapKeeper({ gc: undefined, heapUsed: () => used });
    used = 500 * MB;
    expect(keeper.check()).toBe(false);
    expect(keeper.collections).toBe(0);
    keeper.stop();
  });

  it('frees real old-space garbage in a node with the service flags, and is there only with them', async () => {
    // 40 MB of small objects, kept alive across collections (so they are in the old space), then dropped.
    // They hang off globalThis and are counted before being dropped: held in a
    // module-level variable that was only written, V8 sometimes had them gone
    // before the drop (3 runs in 30 here), and the keeper then had nothing to collect.
    const script = `
      const { startHeapKeeper } = await import(${JSON.stringify(KEEPER)});
      const keeper = startHeapKeeper({ everyMs: 3_600_000 });
      globalThis.keep = [];
      for (let i = 0; i < 400_000; i++) globalThis.keep.push({ i, s: 'x'.repeat(40) + i });
      await new Promise((r) => setTimeout(r, 50));
      const before = process.memoryUsage().heapUsed;
      const kept = globalThis.keep.length;
      globalThis.keep = null;
      const collected = keeper.check();
      const after = process.memoryUsage().heapUsed;
      keeper.stop();
      console.log(JSON.stringify({ gc: typeof gc, kept, collected, before, after }));
    `;
    const runNode = async (flags: readonly string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--input-type=module', '-e', script]);
      return JSON.parse(stdout) as { gc: string; kept: number; collected: boolean; before: number; after: number };
    };
    const served = await runNode(SERVE_NODE_FLAGS);
    expect(served.gc).toBe('function');
    expect(served.kept).toBe(400_000);
    expect(served.collected).toBe(true);
    expect(served.before - served.after).toBeGreaterThan(20 * MB);
    const plain = await runNode([]);
    expect(plain.gc).toBe('undefined');
    expect(plain.collected).toBe(false);
  });
});
