/**
 * Process helpers of the private slapd (./index.ts): ldap-utils commands,
 * a free port, and stopping a slapd by pid.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { type ErrorCode, errnoCode, ZenrollError } from '@zenroll/core';

/** Debian's slapd binary; the private one is started from it, never as a system service. */
export const SLAPD_BIN = '/usr/sbin/slapd';

/** slapd and ldap-utils (which the launcher and the tests call) are both here. */
export function slapdInstalled(): boolean {
  return existsSync(SLAPD_BIN) && existsSync('/usr/bin/ldapadd');
}

/**
 * What to run when slapd or ldap-utils is missing. The launcher ships in the
 * installed CLI (`zenroll demo`), whose user may have no clone of zenroll: the
 * Debian packages themselves, preseeded so that Debian makes no slapd instance
 * of its own (the private slapd never needs one).
 */
export const INSTALL_SLAPD =
  "echo 'slapd slapd/no_configuration boolean true' | sudo debconf-set-selections && " +
  'sudo apt-get install -y --no-install-recommends slapd ldap-utils ' +
  '(in a clone of zenroll, `sudo bash scripts/system-deps.sh` does the same)';

/** The error for a missing slapd or ldap-utils; `cause` is what found it missing, if anything did. */
export function notInstalledError(what: string, cause?: unknown): ZenrollError {
  return new ZenrollError('PROGRAM_MISSING', `${what} not installed: the private slapd needs the Debian packages slapd and ldap-utils`, {
    ...(cause === undefined ? {} : { cause }),
    details: { fix: INSTALL_SLAPD },
  });
}

const READS = new Set(['ldapsearch', 'ldapwhoami', 'ldapcompare']);

/**
 * How a failed ldap-utils command is met: a missing command is a missing
 * package; a command killed by the timeout or ending with 255 (LDAP_SERVER_DOWN,
 * "Can't contact LDAP server") found no directory; anything else is the
 * directory refusing the read or the write.
 */
function ldapUtilError(cmd: string, args: string[], err: Error & { killed?: boolean; code?: unknown }, stderr: string): ZenrollError {
  if (errnoCode(err) === 'ENOENT') return notInstalledError(`${cmd} is`, err);
  const code: ErrorCode =
    err.killed === true || err.code === 255 ? 'DIRECTORY_UNREACHABLE' : READS.has(cmd) ? 'DIRECTORY_READ_FAILED' : 'DIRECTORY_WRITE_FAILED';
  return new ZenrollError(code, `${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err });
}

/** Run an ldap-utils command; resolves with its stdout, rejects with a ZenrollError holding its stderr. */
export function ldapUtil(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) rej(ldapUtilError(cmd, args, err, stderr));
      else res(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Linux's range of ports it hands out itself (a bind to port 0, a connect()); ours come from outside it. */
export function ephemeralPorts(): { low: number; high: number } {
  try {
    const [low = Number.NaN, high = Number.NaN] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low <= high) return { low, high };
  } catch {
    // not Linux: the kernel's own choice below
  }
  return { low: 1024, high: 65535 };
}

/** Whether 127.0.0.1:port can be listened on right now; then it is closed again. */
function listenable(port: number): Promise<number | null> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(null));
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address();
      // A TCP listener always has an AddressInfo; a string is a pipe's path.
      const got = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => res(got > 0 ? got : null));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a process started
 * after it. Picked at random among those the kernel never hands out itself
 * (10000 up to the ephemeral range, and above it): a port from port 0 is
 * itself ephemeral, and any other process binding port 0 until ours binds
 * may get the same one (estimated at about one CI run in a hundred, with
 * the demos, providers and services of the tests on two shared cores).
 */
export async function freePort(): Promise<number> {
  const { low, high } = ephemeralPorts();
  const below = Math.max(0, low - 10_000);
  const above = Math.max(0, 65_535 - high);
  for (let i = 0; i < 50 && below + above > 0; i++) {
    const n = Math.floor(Math.random() * (below + above));
    const port = await listenable(n < below ? 10_000 + n : high + 1 + (n - below));
    if (port !== null) return port;
  }
  const port = await listenable(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  return port;
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
