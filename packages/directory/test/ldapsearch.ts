/** The real `ldapsearch` of ldap-utils, as the README tells an operator to run it. */
import { ldapUtil, type Slapd } from './helpers.js';

/** Values of one attribute in `ldapsearch -LLL` output (folded lines joined, base64 decoded). */
export function ldifValues(ldif: string, attr: string): string[] {
  const unfolded = ldif.replace(/\n /g, '');
  const values: string[] = [];
  for (const line of unfolded.split('\n')) {
    const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
    if (m === null || m[1]?.toLowerCase() !== attr.toLowerCase()) continue;
    values.push(m[2] === '::' ? Buffer.from(m[3] ?? '', 'base64').toString('utf8') : (m[3] ?? ''));
  }
  return values;
}

/** `ldapsearch -x -H url -D dn -y pwfile -b serviceDN -s base zeninvRollUpLog -LLL`, as one server. */
export async function ldapsearchLog(slapd: Slapd, server: string, as = 'LEAF1'): Promise<string[]> {
  const out = await ldapUtil('ldapsearch', [
    '-x',
    '-H',
    slapd.url,
    '-D',
    slapd.serverDN(as),
    '-y',
    slapd.serverPasswordFile(as),
    '-b',
    `cn=${server}_ZenInvService,${slapd.suffix}`,
    '-s',
    'base',
    'zeninvRollUpLog',
    '-LLL',
  ]);
  return ldifValues(out, 'zeninvRollUpLog');
}
