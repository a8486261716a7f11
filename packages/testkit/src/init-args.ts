/**
 * The arguments of `zenroll init` for one server of a test tree, so that a
 * test names what differs (role, listen address, parent, directory) instead
 * of spelling out the command line each time.
 */
import { join } from 'node:path';
import type { TreeDirectory } from './tree.js';

export interface InitArgsOptions {
  role: string;
  server: string;
  /** Default ACME. */
  tree?: string;
  /** `--listen host:port` for a server with a Receiver. */
  listen?: string;
  /** The parent's URL, and the folder `zenroll init` made it in (its tls/server.crt becomes `--parent-ca`) or null for none. */
  parent?: { url: string; dir: string | null };
  /** The directory to log to: the slapd's URL and this server's bind. */
  ldap?: TreeDirectory;
  /** `--no-tls`: the Receiver speaks plain HTTP. */
  noTls?: boolean;
}

export function initArgs(o: InitArgsOptions): string[] {
  const args = ['--role', o.role, '--server', o.server, '--tree', o.tree ?? 'ACME'];
  if (o.listen !== undefined) args.push('--listen', o.listen);
  if (o.parent !== undefined) {
    args.push('--parent', o.parent.url);
    if (o.parent.dir !== null) args.push('--parent-ca', join(o.parent.dir, 'tls', 'server.crt'));
  }
  if (o.ldap !== undefined) {
    args.push('--ldap-url', o.ldap.url, '--bind-dn', o.ldap.serverDN(o.server), '--password-file', o.ldap.serverPasswordFile(o.server));
  }
  if (o.noTls === true) args.push('--no-tls');
  return args;
}
