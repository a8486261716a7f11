/**
 * Type guards for values whose shape is not known yet (parsed JSON, what a
 * library threw), so that code asks instead of casting.
 */

/** A non-null object whose keys can be read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The property `key` of `value`, or undefined when `value` is no object or lacks it. */
export function fieldOf(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** `value` is one of `list` (a list of literals: roles, events), typed as such. */
export function isOneOf<T>(list: readonly T[], value: unknown): value is T {
  return list.some((item) => item === value);
}
