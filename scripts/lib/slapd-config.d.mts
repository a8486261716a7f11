// Types of what TypeScript tests import from slapd-config.mjs.
export const SELF_DESCRIPTION_ATTRS: string[];
/** The ACL of the shipped slapd setup as cn=config LDIF, for `ldapmodify -Y EXTERNAL`. */
export function accessLdif(tree: string, database?: string): string;
/** packages/directory/schema/zenroll-access.ldif: accessLdif('ACME') with its header. */
export function accessLdifFile(tree: string): string;
