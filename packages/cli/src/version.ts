/** The version of zenroll, printed by `--version` and written in a `started` status record. */
export const VERSION = '0.1.0';
