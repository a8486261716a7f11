/** Shared test helpers: records with predictable times, temp folders, a private slapd. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord, type LogEvent, type RollupRecord } from '@zenroll/core';
import { freePort, ldapUtil, startSlapd, type Slapd, type StartSlapdOptions } from '../src/slapd/index.js';
import type { LdapDirectoryOptions } from '../src/index.js';

export { freePort, ldapUtil, startSlapd, type Slapd };

const BASE = Date.parse('2026-11-22T10:30:00.000Z');
let counter = 0;

/** A record whose time grows by 1 ms per call, so write order is time order. */
export function rec(server: string, event: LogEvent = 'zipped', fields: Partial<RollupRecord> = {}): RollupRecord {
  counter++;
  return makeRecord({
    source: event === 'received' || event === 'promoted' || event === 'rejected' ? 'receiver' : 'sender',
    event,
    server,
    zip: `2026112210300${String(counter).padStart(4, '0')}_${server}_ACME_0.zip`,
    time: new Date(BASE + counter).toISOString(),
    bytes: counter,
    files: 1,
    from: server,
    origin: server,
    ...fields,
  });
}

/** `sent` replacing a `zipped` record: same id, later time (SPEC §7). */
export function sentFor(zipped: RollupRecord): RollupRecord {
  counter++;
  return {
    ...zipped,
    event: 'sent',
    time: new Date(BASE + counter).toISOString(),
    from: zipped.server,
    to: 'INT1',
    transferMs: 5,
    totalMs: 9,
  };
}

export async function tempDir(prefix = 'zenroll-dir-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

let serverCounter = 0;
/** A fresh server name (its object is added to slapd), so tests sharing one slapd do not see each other's records. */
export async function freshServer(slapd: Slapd, prefix = 'S'): Promise<string> {
  const name = `${prefix}${process.pid}x${++serverCounter}`;
  await slapd.addServers([name]);
  return name;
}

/** LdapDirectory options binding as `as` (a member of the roll-up group) on this slapd. */
export function ldapOptions(slapd: Slapd, as = 'LEAF1', extra: Partial<LdapDirectoryOptions> = {}): LdapDirectoryOptions {
  return {
    url: slapd.url,
    bindDN: slapd.serverDN(as),
    passwordFile: slapd.serverPasswordFile(as),
    serviceDN: `cn={server}_ZenInvService,${slapd.suffix}`,
    keep: 1000,
    timeoutMs: 2000,
    ...extra,
  };
}

export async function slapdFor(opts: StartSlapdOptions = {}): Promise<Slapd> {
  return startSlapd(opts);
}

/** Sockets and timers alive now: compare before and after to find leaks. */
export function openHandles(): { sockets: number; timers: number } {
  const all = process.getActiveResourcesInfo();
  return { sockets: all.filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length, timers: all.filter((r) => r === 'Timeout').length };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
