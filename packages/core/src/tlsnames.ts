/**
 * The names a Receiver's self-signed certificate is valid for. Children
 * connect by a DNS name or an address (`https://root.acme.example:7099`), and
 * TLS refuses a certificate whose subjectAltName does not list it, so `init`
 * puts in the names the operator gives, the machine's own names and the
 * listen host, besides loopback.
 */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { errnoCode, fsError, shown } from './errors.js';

/** Always in the certificate: a process on the same machine can connect. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * What is wrong with `value` as a subjectAltName entry (a DNS name, an IPv4
 * or an IPv6 address, a `*.` wildcard leftmost), or null when it is fine.
 */
export function tlsNameProblem(value: string): string | null {
  const v = shown(value);
  if (value === '') return '"" is neither a DNS name nor an IP address';
  if (value.includes('%')) return `${v} has a zone ("%"), which no certificate can name`;
  if (isIP(value) !== 0) return null;
  if (value.startsWith('[') && value.endsWith(']')) return `${v}: give an IPv6 address without brackets`;
  if (value.includes(':')) return `${v} is not an IP address, and ":" is not allowed in a DNS name`;
  if (value.length > 253) return `${v} is longer than the 253 characters a DNS name may have`;
  const labels = value.toLowerCase().split('.');
  for (const [i, label] of labels.entries()) {
    if (label === '') return `${v} has an empty label (".." or a leading or trailing ".")`;
    if (label === '*' && i === 0 && labels.length > 2) continue;
    if (label.length > 63) return `${v} has a label longer than 63 characters`;
    if (!LABEL.test(label)) {
      return `${v} is not a DNS name or an IP address: a label holds only letters, digits and inner "-"${label.includes('*') ? ', and "*." only leftmost before two labels or more' : ''}`;
    }
  }
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) return `${v} looks like an IPv4 address but is not one`;
  return null;
}

/** The form a name is compared and written in: DNS names are case-insensitive. */
function canonical(name: string): string {
  return isIP(name) === 0 ? name.toLowerCase() : name;
}

/**
 * The FQDNs `/etc/hosts` gives `host` (lines like `127.0.1.1 host.example.org
 * host`), which is how Debian and most installers record it without DNS.
 */
export function hostsFileNames(text: string, host: string): string[] {
  const short = host.toLowerCase().split('.')[0] ?? '';
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const fields = (line.split('#')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map((f) => f.toLowerCase());
    if (!fields.some((f) => f === short || f === host.toLowerCase())) continue;
    for (const f of fields) if (f.startsWith(`${short}.`)) names.push(f);
  }
  return names;
}

export interface MachineNameDeps {
  hostname?: () => string;
  readHostsFile?: () => Promise<string>;
}

/** This machine's host name and, when `/etc/hosts` knows it, its FQDN; no DNS lookup. */
export async function machineNames(deps: MachineNameDeps = {}): Promise<string[]> {
  const host = (deps.hostname ?? osHostname)();
  let hosts = '';
  try {
    hosts = await (deps.readHostsFile ?? (() => readFile('/etc/hosts', 'utf8')))();
  } catch (err) {
    // No hosts file (some containers): the host name alone is all there is.
    if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'read', '/etc/hosts');
  }
  return [host, ...hostsFileNames(hosts, host)];
}

export interface CertificateNames {
  /** Names given with `--tls-name`; each must pass tlsNameProblem. */
  given: readonly string[];
  /** From machineNames; ones that are no valid DNS name (`my_host`) are left out. */
  machine: readonly string[];
  /** The host of `receiver.listen`; a wildcard address (0.0.0.0, ::) is left out. */
  listenHost: string | null;
}

/** Every name the certificate lists, loopback first, each once. */
export function certificateNames(c: CertificateNames): string[] {
  const listen = c.listenHost === null || c.listenHost === '0.0.0.0' || c.listenHost === '::' ? [] : [c.listenHost];
  const fine = [...c.machine, ...listen].filter((n) => tlsNameProblem(n) === null);
  return [...new Set([...LOOPBACK_NAMES, ...c.given, ...fine].map(canonical))];
}
