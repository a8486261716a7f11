/** The version of zenroll, printed by `--version`, written in a `started` status record and in each server's self-description (SPEC §8). */
export const VERSION = '0.1.0';
