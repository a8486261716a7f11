/**
 * Build the roll-up log and the directory readers from the config (SPEC §6).
 * The journal lives in `statedir/journal`.
 */
import { join } from 'node:path';
import { directoryUrls, type Config } from '@zenroll/core';
import { DirectoryLog, type DirectoryLogOptions } from './directory-log.js';
import { Journal } from './journal.js';
import { LdapDirectory } from './ldap.js';
import type { ClientFactory } from './ldap-session.js';
import type { ZenrollLog } from './types.js';

/** Records kept per server by the journal alone, when no directory (and so no directory.keep) is configured. */
export const JOURNAL_KEEP = 1000;

export interface OpenLogOptions extends DirectoryLogOptions {
  createClient?: ClientFactory;
  /** Only read: for commands that look at the log of a server whose service may be running. */
  readOnly?: boolean;
}

export function journalDir(config: Pick<Config, 'dirs'>): string {
  return join(config.dirs.statedir, 'journal');
}

/** The LDAP writer and readers for the config, or null when no directory is configured. */
export function openDirectory(config: Pick<Config, 'directory'>, opts: OpenLogOptions = {}): LdapDirectory | null {
  const d = config.directory;
  if (d === null) return null;
  return new LdapDirectory({
    // One URL, or the providers of a replicated directory in order (SPEC §9).
    url: directoryUrls(d)[0] ?? '', // the config asks for one URL at least
    urls: directoryUrls(d),
    bindDN: d.bindDN,
    passwordFile: d.passwordFile,
    serviceDN: d.serviceDN,
    keep: d.keep,
    timeoutMs: d.timeoutMs,
    startTls: d.startTls,
    caFile: d.tls.ca,
    ...(opts.createClient ? { createClient: opts.createClient } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
}

/** The journal alone without a directory; with one, the journal applied to it in the background. */
export async function openLog(config: Pick<Config, 'dirs' | 'directory'>, opts: OpenLogOptions = {}): Promise<ZenrollLog> {
  const directory = openDirectory(config, opts);
  const keep = config.directory?.keep ?? JOURNAL_KEEP;
  const journal = await Journal.open({ dir: journalDir(config), keep, applying: directory !== null, readOnly: opts.readOnly === true });
  return directory === null ? journal : new DirectoryLog(journal, directory, opts);
}
