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
   * While a load runs, every get waits for it instead of starting another
   * (many children's polls at the moment the value expires make one LDAP
   * read), and takes its value or its error as they come.
   */
  get(stale?: (value: T) => boolean): Promise<T>;
}

export function ttlCache<T>(load: () => Promise<T>, ttlMs: number, now: () => number): TtlCache<T> {
  let kept: { at: number; value: T } | null = null;
  let loading: Promise<T> | null = null;
  return {
    get(stale) {
      if (loading !== null) return loading;
      if (kept !== null && now() - kept.at < ttlMs && stale?.(kept.value) !== true) return Promise.resolve(kept.value);
      const started = load().then((value) => {
        kept = { at: now(), value };
        return value;
      });
      loading = started;
      const done = () => {
        if (loading === started) loading = null;
      };
      started.then(done, done);
      return started;
    },
  };
}
