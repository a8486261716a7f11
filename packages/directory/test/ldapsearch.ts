/** The real `ldapsearch` of ldap-utils, as the README tells an operator to run it. */
import type { Slapd } from './helpers.js';

export { ldifValues } from '../src/slapd/index.js';

/** `ldapsearch -x -H url -D dn -y pwfile -b serviceDN -s base zeninvRollUpLog -LLL`, as one server. */
export function ldapsearchLog(slapd: Slapd, server: string, as = 'LEAF1'): Promise<string[]> {
  return slapd.rollUpLog(server, slapd.serverArgs(as));
}
