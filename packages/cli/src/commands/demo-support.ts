/**
 * The demo's private slapd launcher, from the repository's scripts/ (shared
 * with tests and benchmarks) until it ships in @zenroll/directory.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** packages/cli/dist/commands → the repository's root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export async function loadScript<T>(relative: string): Promise<T> {
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: a plain-JS module of scripts/; the caller names what it exports
  return (await import(pathToFileURL(join(REPO_ROOT, relative)).href)) as T;
}

/** What the demo uses of scripts/lib/slapd.mjs. */
export interface DemoSlapd {
  url: string;
  rootDN: string;
  rootPasswordFile: string;
  /** The operator account: reads every log, writes nothing (SPEC §7). */
  operatorDN: string;
  operatorPassword: string;
  operatorPasswordFile: string;
  serverDN(server: string): string;
  serverPasswordFile(server: string): string;
  destroy(): Promise<void>;
}
