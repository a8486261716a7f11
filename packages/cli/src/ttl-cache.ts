/**
 * A value loaded on demand and remembered for a while, on an injected clock
 * (tests move it; nothing else is faked): what the directory sources keep of
 * LDAP reads that every child's poll or every zip would otherwise repeat.
 */
export interface TtlCache<T> {
  /**
   * The remembered value while it is younger than the TTL and `stale` (if
   * given) does not reject it; otherwise a new load, remembered from when it
   * ended. A load that fails is not remembered and serves nothing old: its
   * error goes to the caller, and the value kept before stays as it was.
   */
  get(stale?: (value: T) => boolean): Promise<T>;
}

export function ttlCache<T>(load: () => Promise<T>, ttlMs: number, now: () => number): TtlCache<T> {
  let kept: { at: number; value: T } | null = null;
  return {
    async get(stale) {
      if (kept !== null && now() - kept.at < ttlMs && stale?.(kept.value) !== true) return kept.value;
      const value = await load();
      kept = { at: now(), value };
      return value;
    },
  };
}
