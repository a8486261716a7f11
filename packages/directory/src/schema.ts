/**
 * The LDAP schema of SPEC §7, stated once. `schemaFile()` and `schemaLdif()`
 * render it for slapd.conf (`include`) and for cn=config (`ldapadd`); the two
 * committed files under `schema/` are generated from here and a test keeps
 * them equal (`npm run schema -w @zenroll/directory` regenerates them).
 */

/**
 * Our OID arc. Without an IANA Private Enterprise Number of our own we use
 * the UUID arc of ITU-T X.667 (`2.25.<a UUID as an integer>`), which needs no
 * registration and cannot clash with anyone's 1.3.6.1.4.1 numbers (nor with
 * Novell's originals of these names). To move to a registered PEN, change
 * this one line and regenerate.
 */
export const OID_ARC = '2.25.137040220467313418996262041497842722186';

const SYNTAX_DIRECTORY_STRING = '1.3.6.1.4.1.1466.115.121.1.15';
const SYNTAX_GENERALIZED_TIME = '1.3.6.1.4.1.1466.115.121.1.24';
const SYNTAX_INTEGER = '1.3.6.1.4.1.1466.115.121.1.27';

export interface AttributeTypeDef {
  oid: string;
  name: string;
  desc: string;
  equality: string;
  ordering?: string;
  substr?: string;
  syntax: string;
  single: boolean;
}

export interface ObjectClassDef {
  oid: string;
  name: string;
  desc: string;
  kind: 'AUXILIARY' | 'STRUCTURAL';
  may: string[];
}

export const ATTRIBUTE_TYPES: readonly AttributeTypeDef[] = [
  {
    oid: `${OID_ARC}.1.1`,
    name: 'zeninvRollUpLog',
    desc: 'zenroll roll-up log: one record per value, on one line (docs/SPEC.md section 7)',
    // caseExactMatch lets a modify delete one exact value (zipped -> sent).
    equality: 'caseExactMatch',
    substr: 'caseExactSubstringsMatch',
    syntax: SYNTAX_DIRECTORY_STRING,
    single: false,
  },
  {
    oid: `${OID_ARC}.1.2`,
    name: 'zeninvDiscardScanDataTime',
    desc: 'Senders below discard zips created before this time',
    equality: 'generalizedTimeMatch',
    ordering: 'generalizedTimeOrderingMatch',
    syntax: SYNTAX_GENERALIZED_TIME,
    single: true,
  },
  {
    oid: `${OID_ARC}.1.3`,
    name: 'zenrollPublicKey',
    // Written on one line (SPEC §7) so that a browser's one-line text box cannot change it.
    desc: 'the server Ed25519 public key, PEM on one line',
    equality: 'caseExactMatch',
    syntax: SYNTAX_DIRECTORY_STRING,
    single: true,
  },
  {
    oid: `${OID_ARC}.1.4`,
    name: 'zenrollStatusLog',
    desc: 'zenroll server status log: service events, one record per value, on one line (docs/SPEC.md section 7)',
    equality: 'caseExactMatch',
    substr: 'caseExactSubstringsMatch',
    syntax: SYNTAX_DIRECTORY_STRING,
    single: false,
  },
  ...selfDescriptionTypes(),
];

/**
 * What a server writes about itself at start and after each roll-up (SPEC §8),
 * one readable value per attribute. Numbered from `.1.10` on, apart from the
 * log attributes (`.1.1`–`.1.9`), so that the two lists can grow without meeting.
 */
function selfDescriptionTypes(): AttributeTypeDef[] {
  const text = (n: number, name: string, desc: string): AttributeTypeDef => ({
    oid: `${OID_ARC}.1.${n}`,
    name,
    desc,
    equality: 'caseExactMatch',
    syntax: SYNTAX_DIRECTORY_STRING,
    single: true,
  });
  const time = (n: number, name: string, desc: string): AttributeTypeDef => ({
    oid: `${OID_ARC}.1.${n}`,
    name,
    desc,
    equality: 'generalizedTimeMatch',
    ordering: 'generalizedTimeOrderingMatch',
    syntax: SYNTAX_GENERALIZED_TIME,
    single: true,
  });
  const count = (n: number, name: string, desc: string): AttributeTypeDef => ({
    oid: `${OID_ARC}.1.${n}`,
    name,
    desc,
    equality: 'integerMatch',
    ordering: 'integerOrderingMatch',
    syntax: SYNTAX_INTEGER,
    single: true,
  });
  return [
    text(10, 'zenrollRole', 'the server role (docs/SPEC.md section 2)'),
    text(11, 'zenrollParent', 'the parent server name, as its GET /v1/info gives it'),
    text(12, 'zenrollParentURL', 'the parent Receiver URL (sender.parent)'),
    text(13, 'zenrollVersion', 'the zenroll version the server runs'),
    text(14, 'zenrollSchedule', 'the roll-up schedule: cron expression and time zone'),
    time(15, 'zenrollLastRollup', 'when the last roll-up of the server finished'),
    text(16, 'zenrollLastRollupResult', 'ok or failed, and the counts of the last roll-up'),
    count(17, 'zenrollStrWaiting', '.str files waiting in entmergedir'),
    count(18, 'zenrollZipsWaiting', 'zips waiting in entpushdir'),
    count(19, 'zenrollZipsRejected', 'zips set aside in entpushdir/rejected'),
    text(20, 'zenrollSent24h', 'zips, files and bytes sent in the last 24 hours'),
    text(21, 'zenrollReceived24h', 'zips, files and bytes received in the last 24 hours'),
    time(22, 'zenrollDescribed', 'when the server last wrote these attributes'),
    time(23, 'zenrollLateAfter', 'past this time without a new roll-up the server is late (two schedule periods)'),
  ];
}

/** The names of the self-description attributes, in schema order. */
export const SELF_DESCRIPTION_ATTRS: readonly string[] = selfDescriptionTypes().map((a) => a.name);

export const OBJECT_CLASSES: readonly ObjectClassDef[] = [
  {
    oid: `${OID_ARC}.2.1`,
    name: 'zeninvRollUpTarget',
    desc: 'an Inventory Service object that holds zenroll roll-up records',
    kind: 'AUXILIARY',
    may: ['zeninvRollUpLog', 'zeninvDiscardScanDataTime', 'zenrollPublicKey', 'zenrollStatusLog', ...SELF_DESCRIPTION_ATTRS],
  },
];

/** RFC 4512 definition, as clauses; callers join them on one line or fold them. */
function attributeClauses(a: AttributeTypeDef): string[] {
  return [
    `( ${a.oid} NAME '${a.name}'`,
    `DESC '${a.desc}'`,
    `EQUALITY ${a.equality}`,
    ...(a.ordering ? [`ORDERING ${a.ordering}`] : []),
    ...(a.substr ? [`SUBSTR ${a.substr}`] : []),
    `SYNTAX ${a.syntax}${a.single ? ' SINGLE-VALUE' : ''} )`,
  ];
}

function classClauses(c: ObjectClassDef): string[] {
  return [`( ${c.oid} NAME '${c.name}'`, `DESC '${c.desc}'`, `SUP top ${c.kind}`, `MAY ( ${c.may.join(' $ ')} ) )`];
}

const HEADER = [
  'zenroll LDAP schema (docs/SPEC.md section 7). Generated from packages/directory/src/schema.ts:',
  'edit that file and run `npm run schema -w @zenroll/directory`, not this one.',
  `OID arc: ${OID_ARC} (ITU-T X.667 UUID arc)`,
];

/** The OpenLDAP `.schema` file, for `include` in slapd.conf. */
export function schemaFile(): string {
  const out = HEADER.map((l) => `# ${l}`);
  for (const a of ATTRIBUTE_TYPES) out.push('', `attributetype ${attributeClauses(a).join('\n\t')}`);
  for (const c of OBJECT_CLASSES) out.push('', `objectclass ${classClauses(c).join('\n\t')}`);
  return `${out.join('\n')}\n`;
}

/** The cn=config LDIF, for `ldapadd -Y EXTERNAL -H ldapi:/// -f zenroll.ldif`. */
export function schemaLdif(): string {
  // LDIF folding: a continuation line starts with one space, which the reader drops.
  const fold = (clauses: string[]) => clauses.join('\n  ');
  const out = [
    ...HEADER.map((l) => `# ${l}`),
    'dn: cn=zenroll,cn=schema,cn=config',
    'objectClass: olcSchemaConfig',
    'cn: zenroll',
    ...ATTRIBUTE_TYPES.map((a) => `olcAttributeTypes: ${fold(attributeClauses(a))}`),
    ...OBJECT_CLASSES.map((c) => `olcObjectClasses: ${fold(classClauses(c))}`),
  ];
  return `${out.join('\n')}\n`;
}
