/**
 * The kills of the crash soak: at a named crash point (ZENROLL_CRASH_AT,
 * core crash.ts) or after a random time, drawn from a seeded generator so
 * that a random run can be repeated.
 */
import type { SoakServer } from './soak-tree.js';

export interface Kill {
  server: SoakServer;
  /** A named crash point (`name[@N]`): the process is started with ZENROLL_CRASH_AT set to it. */
  point?: string;
  /** Without a point: SIGKILL this long after the round starts. */
  afterMs?: number;
}

export interface Killed {
  server: SoakServer;
  point: string | null;
}

/** Every named step: which server's process reaches it. ROOT has one target, so no promote-mid there. */
export const NAMED: readonly (Kill & { point: string })[] = (
  [
    ['LEAF1', 'collect-after-copy'],
    ['LEAF1', 'pack-after-zip'],
    ['LEAF1', 'pack-mid-delete'],
    ['LEAF1', 'send-mid-upload'],
    ['LEAF1', 'send-after-ack'],
    ['LEAF1', 'send-after-ack@2'],
    ['LEAF1', 'send-between-records'],
    ['INT1', 'receive-after-store'],
    ['INT1', 'promote-mid'],
    ['INT1', 'promote-before-remove'],
    ['INT1', 'send-mid-upload'],
    ['INT1', 'send-after-ack'],
    ['INT1', 'send-between-records'],
    ['ROOT', 'receive-after-store'],
    ['ROOT', 'promote-before-remove'],
  ] as const
).map(([server, point]) => ({ server, point }));

/** A tiny seeded generator (mulberry32), so that a random run can be repeated. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
