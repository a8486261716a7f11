/**
 * Process helpers of the private slapd (./index.ts): ldap-utils commands,
 * a free port, and stopping a slapd by pid.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Debian's slapd binary; the private one is started from it, never as a system service. */
export const SLAPD_BIN = '/usr/sbin/slapd';

/** slapd and ldap-utils (which the launcher and the tests call) are both here. */
export function slapdInstalled(): boolean {
  return existsSync(SLAPD_BIN) && existsSync('/usr/bin/ldapadd');
}

/** Run an ldap-utils command; resolves with its stdout, rejects with its stderr. */
export function ldapUtil(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else res(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      // A TCP listener always has an AddressInfo; a string is a pipe's path.
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => (port > 0 ? res(port) : rej(new Error(`no port from ${String(address)}`))));
    });
  });
}

/** A pid from an old slapd.json may by now belong to another program: only a slapd counts. */
export function slapdAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('slapd');
  } catch {
    return !existsSync('/proc/self');
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface StopOptions {
  signal?: NodeJS.Signals;
  /** SIGKILL after this long. */
  graceMs?: number;
}

/** Signal a slapd by pid and wait until it is gone (SIGKILL after graceMs). */
export async function stopPid(pid: number, { signal = 'SIGTERM', graceMs = 10_000 }: StopOptions = {}): Promise<void> {
  if (!slapdAlive(pid)) return;
  process.kill(pid, signal);
  const until = Date.now() + graceMs;
  while (slapdAlive(pid)) {
    if (Date.now() > until) process.kill(pid, 'SIGKILL');
    await sleep(20);
  }
}
