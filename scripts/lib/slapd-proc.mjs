// Process helpers of the private slapd (scripts/lib/slapd.mjs): ldap-utils
// commands, a free port, and stopping a slapd by pid.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Run an ldap-utils command; rejects with its stderr. */
export function ldapUtil(cmd, args, input) {
  return new Promise((res, rej) => {
    const child = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else res(stdout);
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

// A pid from an old slapd.json may by now belong to another program: only a slapd counts.
export const slapdAlive = (pid) => {
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
};
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Signal a slapd by pid and wait until it is gone (SIGKILL after graceMs). */
export async function stopPid(pid, { signal = 'SIGTERM', graceMs = 10_000 } = {}) {
  if (!slapdAlive(pid)) return;
  process.kill(pid, signal);
  const until = Date.now() + graceMs;
  while (slapdAlive(pid)) {
    if (Date.now() > until) process.kill(pid, 'SIGKILL');
    await sleep(20);
  }
}
