/**
 * The one logger the directory package writes through (pino's call shape:
 * an object of facts, then a message). The service passes its pino logger;
 * the default says nothing, since a library must not print.
 */
export interface Logger {
  info(facts: object, message: string): void;
  warn(facts: object, message: string): void;
  error(facts: object, message: string): void;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Timers, injectable so that tests of the back-off need not wait for real. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: a handle is only ever one that setTimeout above gave
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
