/**
 * Exit codes of SPEC §5: 0 success, 1 a failure of the work, 2 bad usage or a
 * bad config. Commands throw; only the entry point turns that into a code.
 */
import { errorSpec, isZenrollError, type ZenrollError } from '@zenroll/core';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The code's exit status, from the one table (core errors.ts); anything else is a bug: 1. */
export function exitCodeOf(err: unknown): number {
  return isZenrollError(err) ? errorSpec(err.code).exit : EXIT_FAILED;
}

/** `zenroll: CODE: message` plus, for usage errors, a hint. */
export function describeError(err: unknown): string {
  if (isZenrollError(err)) {
    const hint = err.fix ?? hintFor(err);
    return `zenroll: ${err.code}: ${err.message}${hint ? `\nfix: ${hint}` : ''}\n`;
  }
  return `zenroll: INTERNAL: ${(err instanceof Error ? err.stack : undefined) ?? String(err)}\n`;
}

function hintFor(err: ZenrollError): string {
  switch (err.code) {
    case 'CONFIG_NOT_FOUND':
      return 'Create one with `zenroll init`, or name it with -c FILE.';
    case 'USAGE':
      return 'See `zenroll --help`.';
    default:
      return '';
  }
}
