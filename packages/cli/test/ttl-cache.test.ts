/**
 * The directory sources' TTL cache on a fake clock (the only thing faked):
 * how long a value is kept, when it is loaded again, and what a failed load
 * leaves behind. The loads are counted so that a value served from memory
 * and one loaded anew cannot be mistaken for each other.
 */
import { describe, expect, it } from 'vitest';
import { ttlCache } from '../src/ttl-cache.js';

const TTL = 30_000;

/** A load that gives "v1", "v2", … (or throws while `failing`), and a clock the test moves. */
function setup() {
  const state = { clock: 1_000_000, loads: 0, failing: false, loadTakesMs: 0 };
  const load = async () => {
    state.loads += 1;
    state.clock += state.loadTakesMs;
    if (state.failing) throw new Error(`load ${state.loads} failed`);
    return `v${state.loads}`;
  };
  return { state, cache: ttlCache(load, TTL, () => state.clock) };
}

describe('ttlCache', () => {
  it('loads on the first get, serves that value for ttlMs, and loads again once ttlMs has passed', async () => {
    const { state, cache } = setup();
    expect(await cache.get()).toBe('v1');
    state.clock += TTL - 1;
    expect(await cache.get()).toBe('v1');
    expect(state.loads).toBe(1);
    state.clock += 1;
    expect(await cache.get()).toBe('v2');
    expect(await cache.get()).toBe('v2');
    expect(state.loads).toBe(2);
  });

  it('counts the TTL from when the load ended, not from when it began', async () => {
    const { state, cache } = setup();
    state.loadTakesMs = 5_000;
    expect(await cache.get()).toBe('v1');
    state.clock += TTL - 1;
    expect(await cache.get()).toBe('v1');
    state.clock += 1;
    expect(await cache.get()).toBe('v2');
  });

  it('does not remember a failed load: the error goes to the caller and the next get loads again', async () => {
    const { state, cache } = setup();
    state.failing = true;
    await expect(cache.get()).rejects.toThrow('load 1 failed');
    await expect(cache.get()).rejects.toThrow('load 2 failed');
    state.failing = false;
    expect(await cache.get()).toBe('v3');
    expect(await cache.get()).toBe('v3');
    expect(state.loads).toBe(3);
  });

  it('serves no expired value when the load that should replace it fails, and loads on every get until one succeeds', async () => {
    const { state, cache } = setup();
    expect(await cache.get()).toBe('v1');
    state.clock += TTL;
    state.failing = true;
    await expect(cache.get()).rejects.toThrow('load 2 failed');
    await expect(cache.get()).rejects.toThrow('load 3 failed');
    state.failing = false;
    expect(await cache.get()).toBe('v4');
  });

  it('loads anew, fresh or not, when `stale` rejects the value kept; checks `stale` only on the value kept, not on the new one', async () => {
    const { state, cache } = setup();
    expect(await cache.get()).toBe('v1');
    const seen: string[] = [];
    const notV1 = (v: string) => {
      seen.push(v);
      return v === 'v1';
    };
    expect(await cache.get(notV1)).toBe('v2');
    expect(seen).toEqual(['v1']);
    // The new value is kept from then on, its TTL counted from that load.
    expect(await cache.get(notV1)).toBe('v2');
    expect(await cache.get()).toBe('v2');
    expect(state.loads).toBe(2);
  });

  it('keeps the fresh value when a load asked for by `stale` fails: the next get serves it without loading', async () => {
    const { state, cache } = setup();
    expect(await cache.get()).toBe('v1');
    state.failing = true;
    await expect(cache.get(() => true)).rejects.toThrow('load 2 failed');
    expect(await cache.get()).toBe('v1');
    expect(state.loads).toBe(2);
    // It still expires TTL after its own load.
    state.clock += TTL;
    state.failing = false;
    expect(await cache.get()).toBe('v3');
  });

  it('makes one load for gets that come while it runs: every one of them gets its value', async () => {
    const { state, cache } = setup();
    const gets = [cache.get(), cache.get(() => true), cache.get()];
    expect(await Promise.all(gets)).toEqual(['v1', 'v1', 'v1']);
    expect(state.loads).toBe(1);
    // Expired: again one load for the gets that meet it running.
    state.clock += TTL;
    expect(await Promise.all([cache.get(), cache.get()])).toEqual(['v2', 'v2']);
    expect(state.loads).toBe(2);
  });

  it('gives the error of a load that fails to every get that waited for it, and the next get loads again', async () => {
    const { state, cache } = setup();
    state.failing = true;
    const gets = [cache.get(), cache.get()];
    for (const g of gets) await expect(g).rejects.toThrow('load 1 failed');
    expect(state.loads).toBe(1);
    state.failing = false;
    expect(await cache.get()).toBe('v2');
  });
});
