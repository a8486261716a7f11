/**
 * initArgs: the `zenroll init` command line a test tree's server gets, from
 * what differs between servers.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initArgs } from '../src/init-args.js';
import type { TreeDirectory } from '../src/tree.js';

const ldap: TreeDirectory = {
  url: 'ldap://127.0.0.1:3890',
  serverDN: (name) => `cn=${name},ou=servers,dc=zenroll`,
  serverPasswordFile: (name) => `/tmp/slapd/${name}.pw`,
};

describe('initArgs', () => {
  it('a root: role, server and the default tree ACME, nothing else', () => {
    expect(initArgs({ role: 'root', server: 'ROOT' })).toEqual(['--role', 'root', '--server', 'ROOT', '--tree', 'ACME']);
  });

  it("a leaf under a TLS parent, logging to a directory: the parent's certificate from its folder, the server's own bind", () => {
    expect(
      initArgs({
        role: 'leaf',
        server: 'LEAF1',
        tree: 'OTHER',
        listen: '127.0.0.1:0',
        parent: { url: 'https://127.0.0.1:7001', dir: '/trees/INT1' },
        ldap,
      }),
    ).toEqual([
      '--role',
      'leaf',
      '--server',
      'LEAF1',
      '--tree',
      'OTHER',
      '--listen',
      '127.0.0.1:0',
      '--parent',
      'https://127.0.0.1:7001',
      '--parent-ca',
      join('/trees/INT1', 'tls', 'server.crt'),
      '--ldap-url',
      'ldap://127.0.0.1:3890',
      '--bind-dn',
      'cn=LEAF1,ou=servers,dc=zenroll',
      '--password-file',
      '/tmp/slapd/LEAF1.pw',
    ]);
  });

  it('a parent without a folder gets no --parent-ca; noTls adds --no-tls', () => {
    const args = initArgs({ role: 'intermediate', server: 'INT1', parent: { url: 'http://127.0.0.1:7000', dir: null }, noTls: true });
    expect(args).toEqual(['--role', 'intermediate', '--server', 'INT1', '--tree', 'ACME', '--parent', 'http://127.0.0.1:7000', '--no-tls']);
  });
});
