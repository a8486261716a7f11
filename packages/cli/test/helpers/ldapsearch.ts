/** The records on a server's object, as `ldapsearch` (ldap-utils) shows them to an operator. */
import { ldapUtil, type Slapd } from '@zenroll/testkit';

/** Values of `zeninvRollUpLog` on `cn=SERVER_ZenInvService` (folded lines joined, base64 decoded). */
export async function ldapsearchValues(slapd: Slapd, server: string): Promise<string[]> {
  const out = await ldapUtil('ldapsearch', [
    ...slapd.rootArgs(),
    '-b',
    `cn=${server}_ZenInvService,${slapd.suffix}`,
    '-s',
    'base',
    'zeninvRollUpLog',
    '-LLL',
  ]);
  const values: string[] = [];
  for (const line of out.replace(/\n /g, '').split('\n')) {
    const m = /^zeninvRollUpLog(::?) ?(.*)$/i.exec(line);
    if (m !== null) values.push(m[1] === '::' ? Buffer.from(m[2] ?? '', 'base64').toString('utf8') : (m[2] ?? ''));
  }
  return values;
}
