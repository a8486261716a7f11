import { describe, expect, it } from 'vitest';
import { certificateNames, hostsFileNames, machineNames, parsePemCertificates, tlsNameProblem } from '../src/index.js';

describe('tlsNameProblem', () => {
  it.each([
    'root.acme.example',
    'INT1.Acme.Example',
    'vm',
    'a-b.c0',
    '*.acme.example',
    '10.1.2.3',
    '::1',
    '2001:db8::7',
    '::ffff:10.0.0.1',
  ])('accepts %s', (name) => expect(tlsNameProblem(name)).toBeNull());

  it.each([
    ['', '"" is neither a DNS name nor an IP address'],
    ['bad_name', '"bad_name" is not a DNS name or an IP address: a label holds only letters, digits and inner "-"'],
    ['-a.example', '"-a.example" is not a DNS name or an IP address: a label holds only letters, digits and inner "-"'],
    ['a..example', '"a..example" has an empty label (".." or a leading or trailing ".")'],
    ['root.acme.example.', '"root.acme.example." has an empty label (".." or a leading or trailing ".")'],
    [
      '*.example',
      '"*.example" is not a DNS name or an IP address: a label holds only letters, digits and inner "-", and "*." only leftmost before two labels or more',
    ],
    [
      'a.*.example',
      '"a.*.example" is not a DNS name or an IP address: a label holds only letters, digits and inner "-", and "*." only leftmost before two labels or more',
    ],
    ['10.1.2.300', '"10.1.2.300" looks like an IPv4 address but is not one'],
    ['[::1]', '"[::1]": give an IPv6 address without brackets'],
    ['fe80::1%eth0', '"fe80::1%eth0" has a zone ("%"), which no certificate can name'],
    ['host:7099', '"host:7099" is not an IP address, and ":" is not allowed in a DNS name'],
    ['a,DNS:evil.example', '"a,DNS:evil.example" is not an IP address, and ":" is not allowed in a DNS name'],
    [`${'a'.repeat(64)}.example`, `"${'a'.repeat(60)}…" has a label longer than 63 characters`],
    [`${'a.'.repeat(127)}a`, `"${'a.'.repeat(30)}…" is longer than the 253 characters a DNS name may have`],
  ])('refuses %j', (name, message) => expect(tlsNameProblem(name)).toBe(message));
});

describe('certificate names', () => {
  it('lists loopback, the given names, the machine names and a concrete listen host, each once', () => {
    expect(
      certificateNames({ given: ['int1.acme.example', '10.1.2.3'], machine: ['int1', 'INT1.acme.example'], listenHost: '192.0.2.7' }),
    ).toEqual(['localhost', '127.0.0.1', '::1', 'int1.acme.example', '10.1.2.3', 'int1', '192.0.2.7']);
  });

  it('leaves out a wildcard listen address and a host name no certificate can hold', () => {
    expect(certificateNames({ given: [], machine: ['my_host'], listenHost: '0.0.0.0' })).toEqual(['localhost', '127.0.0.1', '::1']);
    expect(certificateNames({ given: [], machine: [], listenHost: '::' })).toEqual(['localhost', '127.0.0.1', '::1']);
  });

  it('finds the FQDN /etc/hosts gives the host name, and nothing for other lines', () => {
    const hosts =
      '127.0.0.1 localhost\n127.0.1.1 int1.acme.example int1 # installer\n10.0.0.9 int1x.acme.example int1x\n#127.0.1.1 int1.old.example int1\n';
    expect(hostsFileNames(hosts, 'int1')).toEqual(['int1.acme.example']);
    expect(hostsFileNames(hosts, 'INT1.acme.example')).toEqual(['int1.acme.example']);
    expect(hostsFileNames(hosts, 'leaf1')).toEqual([]);
  });

  it('reads the machine names without a hosts file, and names another read error', async () => {
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(await machineNames({ hostname: () => 'vm', readHostsFile: () => Promise.reject(enoent) })).toEqual(['vm']);
    const eacces = Object.assign(new Error('permission denied'), { code: 'EACCES' });
    await expect(machineNames({ hostname: () => 'vm', readHostsFile: () => Promise.reject(eacces) })).rejects.toThrow(/\/etc\/hosts/);
  });
});

describe('parsePemCertificates', () => {
  it.each([
    ['', 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ['hello\n', 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
  ])('refuses %j', (text, problem) => expect(parsePemCertificates(text)).toEqual({ ok: false, problem }));

  it('refuses a certificate block that does not parse', () => {
    const r = parsePemCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem).toMatch(/^certificate 1 does not parse/);
  });
});
