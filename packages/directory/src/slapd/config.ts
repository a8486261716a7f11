/**
 * The files of a private slapd (./index.ts): slapd.conf with the ACLs of
 * SPEC §7 and the LDIF of a demo tree. Pure text; no I/O here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SELF_DESCRIPTION_ATTRS } from '../schema.js';

/** Where Debian's OpenLDAP keeps core.schema and friends. */
export const SYSTEM_SCHEMA_DIR = '/etc/ldap/schema';
export const MODULE_DIR = '/usr/lib/ldap';
export const GROUP_CN = 'zenroll-servers';
/** The people who read the logs (an LDAP browser's account, SPEC §7): they read everything but passwords, write nothing. */
export const OPERATORS_CN = 'zenroll-operators';
export const OPERATOR_CN = 'operator';

export interface TlsFiles {
  cert: string;
  key: string;
}

/** Multi-provider replication (syncrepl, mirror mode, SPEC §9): this provider's id and the URLs of the others. */
export interface Replication {
  serverId: number;
  peers: string[];
  /** The root DN's password, which each provider binds with to the others. */
  credentials: string;
}

export interface SlapdConfOptions {
  tree: string;
  /** The instance folder: pid, args and the mdb database go there. */
  dir: string;
  rootDN: string;
  rootPasswordHash: string;
  /** zenroll.schema to include; null leaves out our schema and the ACL rules naming its attributes. */
  schemaFile?: string | null;
  tls?: TlsFiles | null;
  /** With a hash: a cn=config database whose rootdn is cn=admin,cn=config (run with `-F`). */
  configPasswordHash?: string | null;
  uid?: number;
  gid?: number;
  replication?: Replication;
}

/** One Inventory Service object of baseLdif. */
export interface ServerAccount {
  name: string;
  passwordHash: string;
}

export interface BaseLdifOptions {
  tree: string;
  rootDN: string;
  servers: ServerAccount[];
  /** Give each server object the zeninvRollUpTarget class (false when the schema is not loaded). */
  schema: boolean;
  operatorPasswordHash: string;
}

/** RFC 4514 escaping of one DN value. */
export function escapeDn(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

export const suffixOf = (tree: string): string => `o=${escapeDn(tree)}`;
export const groupDnOf = (tree: string): string => `cn=${GROUP_CN},${suffixOf(tree)}`;
export const operatorsDnOf = (tree: string): string => `cn=${OPERATORS_CN},${suffixOf(tree)}`;
/** The one operator account a private slapd (and so the demo) gets. */
export const operatorDnOf = (tree: string): string => `cn=${OPERATOR_CN},${suffixOf(tree)}`;
/** The Inventory Service object of a server: its log target and its bind identity. */
export const serverDnOf = (tree: string, server: string): string => `cn=${escapeDn(`${server}_ZenInvService`)},${suffixOf(tree)}`;

/** A salted SHA-1 hash, the strongest scheme slapd 2.5 knows without extra modules. */
export function sshaHash(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

// LDIF wants base64 (`attr:: …`) for values that are not plain safe ASCII.
function ldifLine(attr: string, value: string): string {
  const safe = /^[\x21-\x39\x3b\x3d-\x7e][\x20-\x7e]*$/.test(value) && !value.endsWith(' ');
  return safe ? `${attr}: ${value}` : `${attr}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

/**
 * slapd.conf. Without `schemaFile` it leaves out our schema (and the ACL
 * rules naming its attributes) so that a test can load zenroll.ldif into
 * cn=config later.
 */
export function slapdConf(o: SlapdConfOptions): string {
  const group = `group/groupOfNames/member="${groupDnOf(o.tree)}"`;
  const operators = `group/groupOfNames/member="${operatorsDnOf(o.tree)}"`;
  const lines = [
    '# A private slapd for zenroll tests and the demo (@zenroll/directory/slapd). Generated.',
    `include ${SYSTEM_SCHEMA_DIR}/core.schema`,
    `include ${SYSTEM_SCHEMA_DIR}/cosine.schema`,
    `include ${SYSTEM_SCHEMA_DIR}/inetorgperson.schema`,
    ...(o.schemaFile ? [`include ${o.schemaFile}`] : []),
    `pidfile ${o.dir}/slapd.pid`,
    `argsfile ${o.dir}/slapd.args`,
    `modulepath ${MODULE_DIR}`,
    'moduleload back_mdb',
    // Multi-provider replication (syncrepl, mirror mode): each provider has its own id.
    ...(o.replication ? ['moduleload syncprov', `serverID ${o.replication.serverId}`] : []),
    ...(o.tls ? [`TLSCertificateFile ${o.tls.cert}`, `TLSCertificateKeyFile ${o.tls.key}`] : []),
    // SPEC §7: no anonymous access at all.
    'disallow bind_anon',
    'require authc',
    '',
  ];
  if (o.configPasswordHash) {
    lines.push(
      'database config',
      'rootdn "cn=admin,cn=config"',
      `rootpw ${o.configPasswordHash}`,
      // `ldapadd -Y EXTERNAL -H ldapi:///` as the user who started slapd may manage cn=config.
      `access to * by dn.exact="gidNumber=${o.gid}+uidNumber=${o.uid},cn=peercred,cn=external,cn=auth" manage by * none`,
      '',
    );
  }
  lines.push(
    'database mdb',
    'maxsize 1073741824',
    `suffix "${suffixOf(o.tree)}"`,
    `rootdn "${o.rootDN}"`,
    `rootpw ${o.rootPasswordHash}`,
    `directory ${o.dir}/data`,
    'index objectClass eq',
    'index cn eq',
    'index member eq',
    ...(o.replication ? replicationLines(o.tree, o.rootDN, o.replication) : []),
    // `zenroll tree` reads every Inventory Service object in one paged search
    // (SPEC §8): slapd's default of 500 entries would cut a larger tree short.
    `limits ${group} size.prtotal=unlimited`,
    `limits ${operators} size.prtotal=unlimited`,
    // Nobody reads a password, operators included: it only serves to bind.
    'access to attrs=userPassword',
    '  by anonymous auth',
    '  by * none',
  );
  if (o.schemaFile) {
    lines.push(
      // Roll-up servers write the logs of any Inventory Service object (a `sent`
      // record goes on the origin's object, SPEC §7); operators read them …
      'access to filter=(objectClass=zeninvRollUpTarget) attrs=zeninvRollUpLog,zenrollStatusLog',
      `  by ${group} write`,
      `  by ${operators} read`,
      '  by * none',
      // … and servers publish their own public key only.
      'access to filter=(objectClass=zeninvRollUpTarget) attrs=zenrollPublicKey',
      '  by self write',
      `  by ${group} read`,
      `  by ${operators} read`,
      '  by * none',
      // Each server describes itself on its own object (SPEC §8); the others read it for `zenroll tree`.
      `access to filter=(objectClass=zeninvRollUpTarget) attrs=${SELF_DESCRIPTION_ATTRS.join(',')}`,
      '  by self write',
      `  by ${group} read`,
      `  by ${operators} read`,
      '  by * none',
    );
  }
  lines.push('access to *', `  by ${group} read`, `  by ${operators} read`, '  by * none', '');
  // The overlay comes after the database's own directives.
  if (o.replication) lines.push('overlay syncprov', 'syncprov-checkpoint 100 1', '');
  return lines.join('\n');
}

/**
 * One syncrepl per other provider (refreshAndPersist, as the root DN), and
 * multi-provider mode: every provider takes writes and sends them to the others.
 * `retry` waits 5 s first, so that a provider started second has copied the
 * first one's tree before the first asks it for its own.
 */
function replicationLines(tree: string, rootDN: string, r: Replication): string[] {
  return [
    'index entryCSN,entryUUID eq',
    ...r.peers.map(
      (url, i) =>
        `syncrepl rid=${String(100 + i)} provider=${url} bindmethod=simple binddn="${rootDN}" credentials=${r.credentials} searchbase="${suffixOf(tree)}" type=refreshAndPersist retry="5 +" timeout=3`,
    ),
    'multiprovider on',
  ];
}

/**
 * The suffix, one Inventory Service object per server, the group of roll-up
 * servers, and the operators group with one operator account.
 */
export function baseLdif(o: BaseLdifOptions): string {
  const entries = [[`dn: ${suffixOf(o.tree)}`, 'objectClass: organization', ldifLine('o', o.tree)]];
  for (const s of o.servers) entries.push(serverEntry(o.tree, s.name, s.passwordHash, o.schema));
  // groupOfNames needs a member: with no servers, the root DN holds the place.
  const members = o.servers.length > 0 ? o.servers.map((s) => serverDnOf(o.tree, s.name)) : [o.rootDN];
  entries.push([`dn: ${groupDnOf(o.tree)}`, 'objectClass: groupOfNames', `cn: ${GROUP_CN}`, ...members.map((m) => ldifLine('member', m))]);
  entries.push(...operatorLdif(o.tree, o.operatorPasswordHash));
  return `${entries.map((e) => e.join('\n')).join('\n\n')}\n`;
}

/** An operator account (a person who reads the logs) and the operators group holding it: two entries, one line each. */
export function operatorLdif(tree: string, passwordHash: string): string[][] {
  return [
    [
      ldifLine('dn', operatorDnOf(tree)),
      'objectClass: inetOrgPerson',
      `cn: ${OPERATOR_CN}`,
      'sn: operator',
      'description: reads the zenroll logs; writes nothing',
      `userPassword: ${passwordHash}`,
    ],
    [
      ldifLine('dn', operatorsDnOf(tree)),
      'objectClass: groupOfNames',
      `cn: ${OPERATORS_CN}`,
      'description: read every object and attribute but passwords; write nothing',
      ldifLine('member', operatorDnOf(tree)),
    ],
  ];
}

/** The LDIF lines of one Inventory Service object. */
export function serverEntry(tree: string, server: string, passwordHash: string, withClass = true): string[] {
  return [
    ldifLine('dn', serverDnOf(tree, server)),
    'objectClass: applicationProcess',
    'objectClass: simpleSecurityObject',
    ...(withClass ? ['objectClass: zeninvRollUpTarget'] : []),
    ldifLine('cn', `${server}_ZenInvService`),
    `userPassword: ${passwordHash}`,
  ];
}

/** ldapmodify input that adds servers to the group. */
export function groupAddLdif(tree: string, servers: string[]): string {
  return [
    `dn: ${groupDnOf(tree)}`,
    'changetype: modify',
    'add: member',
    ...servers.map((s) => ldifLine('member', serverDnOf(tree, s))),
    '',
  ].join('\n');
}

/**
 * The ACL of slapdConf for an OpenLDAP run from cn=config: one LDIF that
 * `ldapmodify -Y EXTERNAL -H ldapi:///` applies to `database` (the mdb
 * database holding the tree), plus no anonymous access on cn=config. Derived
 * from slapdConf's own rules, so that it is the ACL the tests run under.
 */
export function accessLdif(tree: string, database = 'olcDatabase={1}mdb,cn=config'): string {
  const conf = slapdConf({ tree, dir: '/x', rootDN: `cn=admin,${suffixOf(tree)}`, rootPasswordHash: 'x', schemaFile: 'zenroll.schema' });
  const rules: string[] = [];
  const limits: string[] = [];
  for (const line of conf.slice(conf.indexOf('database mdb')).split('\n')) {
    if (line.startsWith('access to ')) rules.push(line.slice('access '.length));
    else if (line.startsWith('  by ') && rules.length > 0) rules[rules.length - 1] += ` ${line.trim()}`;
    else if (line.startsWith('limits ')) limits.push(line.slice('limits '.length));
  }
  return [
    `dn: ${database}`,
    'changetype: modify',
    'replace: olcAccess',
    ...rules.map((r, i) => `olcAccess: {${i}}${r}`),
    '-',
    'replace: olcLimits',
    ...limits.map((l, i) => `olcLimits: {${i}}${l}`),
    '',
    'dn: cn=config',
    'changetype: modify',
    'replace: olcDisallows',
    'olcDisallows: bind_anon',
    '-',
    'replace: olcRequires',
    'olcRequires: authc',
    '',
  ].join('\n');
}

/** packages/directory/schema/zenroll-access.ldif: accessLdif with what an administrator must know first. */
export function accessLdifFile(tree: string): string {
  return [
    '# The access rules of zenroll (docs/SPEC.md section 7) for an OpenLDAP run from cn=config.',
    '# Generated by packages/directory/scripts/gen-schema.mjs from packages/directory/src/slapd/config.ts;',
    '# the tests run under the same rules. Replace o=ACME with your suffix and',
    '# olcDatabase={1}mdb with the database that holds it, then as root on the LDAP server:',
    '#   ldapmodify -Y EXTERNAL -H ldapi:/// -f zenroll-access.ldif',
    "# It REPLACES the database's olcAccess and olcLimits: merge your own rules in first.",
    accessLdif(tree),
  ].join('\n');
}

/** The values of one attribute in `ldapsearch -LLL` output: folded lines joined, base64 (`::`) decoded, the name in any case. */
export function ldifValues(ldif: string, attr: string): string[] {
  const values: string[] = [];
  for (const line of ldif.replace(/\n /g, '').split('\n')) {
    const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
    if (m === null || m[1]?.toLowerCase() !== attr.toLowerCase()) continue;
    values.push(m[2] === '::' ? Buffer.from(m[3] ?? '', 'base64').toString('utf8') : (m[3] ?? ''));
  }
  return values;
}
