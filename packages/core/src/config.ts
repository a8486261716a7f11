/**
 * The config file (SPEC §6): one zod schema gives the types, the defaults and
 * the docs (`.describe`) of every key. `parseConfig` is pure; `loadConfig` is
 * the only I/O.
 */
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { errnoCode, fsError, shown, ZenrollError } from './errors.js';
import { jsonSyntaxError } from './json-syntax.js';
import { MAX_ENCODED_NAME, encodeName } from './names.js';
import { fieldOf, isRecord } from './narrow.js';

export const ROLES = [
  'leaf',
  'leaf-db',
  'intermediate',
  'intermediate-ws',
  'intermediate-db',
  'intermediate-db-ws',
  'root',
  'root-ws',
  'standalone',
] as const;
export type Role = (typeof ROLES)[number];
export type PromoteTarget = 'entpushdir' | 'dbdir';

export interface RoleInfo {
  readonly sender: boolean;
  readonly receiver: boolean;
  /** Zips the `.str` of its own entmergedir. */
  readonly ownScans: boolean;
  readonly promotesTo: readonly PromoteTarget[];
  /** A database is attached (root* feed the central one). */
  readonly hasDatabase: boolean;
}

const row = (sender: boolean, receiver: boolean, ownScans: boolean, promotesTo: PromoteTarget[], hasDatabase: boolean): RoleInfo =>
  Object.freeze({ sender, receiver, ownScans, promotesTo: Object.freeze(promotesTo), hasDatabase });

// SPEC §2, column by column.
const ROLE_TABLE: Record<Role, RoleInfo> = {
  leaf: row(true, false, true, [], false),
  'leaf-db': row(true, false, true, [], true),
  intermediate: row(true, true, false, ['entpushdir'], false),
  'intermediate-ws': row(true, true, true, ['entpushdir'], false),
  'intermediate-db': row(true, true, false, ['entpushdir', 'dbdir'], true),
  'intermediate-db-ws': row(true, true, true, ['entpushdir', 'dbdir'], true),
  root: row(false, true, false, ['dbdir'], true),
  'root-ws': row(false, true, false, ['dbdir'], true),
  standalone: row(false, false, false, [], false),
};

export function roleInfo(role: Role): RoleInfo {
  return ROLE_TABLE[role];
}

/** `HOST:PORT` or `[IPv6]:PORT`, or null when it is neither. */
export function splitHostPort(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(s);
  if (m === null || (m[1] !== undefined && !isIPv6(m[1])) || Number(m[3]) > 65535) return null;
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/** Escape a value for a DN (RFC 4514), e.g. a tree name put into `serviceDN`. */
export function escapeDnValue(v: string): string {
  return v
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

function found(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return shown(v);
  if (Array.isArray(v)) return 'an array';
  return v !== null && typeof v === 'object' ? 'an object' : String(v);
}
// Every check of a key gives the same message: what it expects, what it got.
const expecting = (what: string) => (iss: { input?: unknown }) => `expected ${what}, found ${found(iss.input)}`;

/**
 * What each string key expects, in words: its checks are refinements, which a
 * JSON Schema cannot show, so docs/config.md takes the words from here.
 */
export const configForms = z.registry<{ form: string }>();
function str(what: string, ok: (s: string) => boolean) {
  const error = expecting(what);
  const schema = z.string({ error }).refine(ok, { error });
  configForms.add(schema, { form: what });
  return schema;
}
function int(min: number, max?: number) {
  const error = expecting(max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
  return z
    .int({ error })
    .min(min, { error })
    .max(max ?? Number.MAX_SAFE_INTEGER, { error });
}
const obj = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape, { error: expecting('an object') });
const hasControl = (s: string) => /[\u0000-\u001f\u007f]/.test(s);
// The name codec's own limit (names.ts): a name must fit every zip name it goes into.
const name = () =>
  str(
    `a name of 1 to 64 characters without control characters, at most ${MAX_ENCODED_NAME} once percent-encoded`,
    (s) => s.length > 0 && s.length <= 64 && !hasControl(s) && encodeName(s).length <= MAX_ENCODED_NAME,
  );
const filePath = () => str('a non-empty path', (s) => s.length > 0 && !s.includes('\0'));
const optPath = (doc: string) => filePath().nullable().default(null).describe(doc);
const url = (what: string, protocols: string[]) => str(what, (s) => URL.canParse(s) && protocols.includes(new URL(s).protocol));
const httpUrl = () => url('an http:// or https:// URL', ['http:', 'https:']);
const hostPort = (what = 'HOST:PORT (IPv6 as [::1]:PORT, port 0..65535)', ok = (_host: string) => true) =>
  str(what, (s) => {
    const hp = splitHostPort(s);
    return hp !== null && ok(hp.host);
  });
const isLoopback = (h: string) => h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
// A local time without offset would depend on the machine's zone: require Z or an offset.
function isIsoTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/.exec(s);
  if (m === null || Number.isNaN(Date.parse(s))) return false;
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return day.getUTCDate() === Number(m[3]); // Date.parse turns 02-30 into 03-01
}

const receiverTlsDefault = { cert: 'tls/server.crt', key: 'tls/server.key', clientCa: null };

const configShape = obj({
  server: name().describe("this server's name, as in zip names and the directory"),
  tree: name().describe('the tree this server belongs to'),
  role: z.enum(ROLES, { error: expecting(`one of ${ROLES.join(', ')}`) }).describe('what this server does (docs/SPEC.md §2)'),
  dirs: obj({
    entmergedir: optPath('where scanners drop .str files; required when the role zips its own scans'),
    entpushdir: optPath('where zips wait to go up; uploads land in its zipdir/; required for a Sender or a Receiver'),
    dbdir: optPath('where zips go for the database; required when the Receiver promotes to dbdir'),
    statedir: optPath(
      "zenroll's own state (receipts, intents, journal, locks, admin socket); default <entpushdir>/.zenroll, else <config folder>/state",
    ),
  })
    .prefault({})
    .describe('folders; relative paths are relative to the config file'),
  sender: obj({
    parent: httpUrl().nullable().default(null).describe("the parent Receiver's URL, https://HOST:7099; required when the role sends"),
    // Checked here, not first by the scheduler: `serve`, `doctor` and `rollup` all refuse a bad one with exit 2.
    schedule: str(
      'a cron expression node-cron accepts: [second] minute hour day-of-month month day-of-week',
      (s) => [5, 6].includes(s.trim().split(/\s+/).length) && cron.validate(s),
    )
      .default('0 2 * * *')
      .describe('when `zenroll serve` starts roll-ups (node-cron)'),
    timezone: str('an IANA time zone such as "Europe/Berlin"', isTimeZone).default('UTC').describe('time zone of schedule'),
    randomizeMinutes: int(0, 1440).default(0).describe('spread the scheduled start over this many minutes'),
    batchSize: int(1, 50).default(50).describe('at most this many .str files per zip'),
    compressionLevel: int(0, 9).default(6).describe('deflate level of the inner zip'),
    retry: obj({
      baseMs: int(1).default(10_000).describe('wait before the second try of a push'),
      factor: z
        .number({ error: expecting('a number >= 1') })
        .min(1, { error: expecting('a number >= 1') })
        .default(2)
        .describe('each wait is this many times the one before'),
      tries: int(1, 100)
        .default(14)
        .describe('tries of one push before the roll-up stops (13 waits, 22 h 45 min in all with the defaults)'),
    })
      .prefault({})
      .describe('retries of a push (docs/SPEC.md §1)'),
    localAddress: str('an IP address', (s) => isIPv4(s) || isIPv6(s))
      .nullable()
      .default(null)
      .describe(
        "the local address outgoing connections (to the parent or the proxy) are made from: a cluster's floating address (docs/SPEC.md §9); null lets the system choose",
      ),
    proxy: httpUrl()
      .nullable()
      .default(null)
      .describe(
        'an HTTP(S) proxy URL for crossing a firewall; the Sender tunnels through it with CONNECT (credentials as http://user:pass@host:port)',
      ),
    tls: obj({
      ca: optPath('CA certificate (PEM) trusted for the parent, besides the system ones'),
      cert: optPath('client certificate (PEM) for mutual TLS; needs key'),
      key: optPath('private key (PEM) of cert; needs cert'),
    })
      .superRefine((t, ctx) => {
        if ((t.cert === null) !== (t.key === null)) {
          const [missing, set] = t.cert === null ? ['cert', 'key'] : ['key', 'cert'];
          ctx.addIssue({ code: 'custom', path: [missing], message: `is required when ${set} is set (cert and key go together)` });
        }
      })
      .prefault({})
      .describe('TLS towards the parent'),
    forwardOnReceive: z
      .boolean({ error: expecting('true or false') })
      .default(false)
      .describe(
        'intermediate roles only: every zip promoted to entpushdir starts a roll-up at once (or joins the next one, if one runs), so the intermediate relays as it receives; schedule still runs too',
      ),
    stableMs: int(0).default(5000).describe('a .str changed this recently is still being written: it waits for the next roll-up'),
    pollSeconds: z
      .number({ error: expecting('a number of seconds >= 0') })
      .min(0, { error: expecting('a number of seconds >= 0') })
      .default(60)
      .describe(
        "how often the service asks its parent's GET /v1/info, to see a roll-up request (docs/SPEC.md §8) and to tell the parent what it is; 0: never",
      ),
    timeoutMs: int(1)
      .default(120_000)
      .describe(
        'a request that makes no progress this long (connecting, uploading, waiting for the answer) fails and counts as a failed try',
      ),
  })
    .prefault({})
    .describe('the Sender: pushes zips to the parent Receiver'),
  receiver: obj({
    listen: z
      .union(
        [
          hostPort(),
          z
            .array(
              z.union(
                [
                  hostPort(),
                  obj({
                    address: hostPort().describe('HOST:PORT of this listener'),
                    tls: z
                      .boolean({ error: expecting('true or false') })
                      .default(true)
                      .describe('HTTPS with receiver.tls (true), or plain HTTP (false)'),
                  }),
                ],
                { error: expecting('HOST:PORT or an object {address, tls}') },
              ),
              { error: expecting('a list of listeners') },
            )
            .min(1, { error: expecting('at least one listener') }),
        ],
        { error: expecting('HOST:PORT, or a list of HOST:PORT or {address, tls}') },
      )
      .default('0.0.0.0:7099')
      .describe(
        'address the Receiver listens on; or a list of listeners, each HOST:PORT (TLS as receiver.tls says) or {address, tls} — e.g. [{"address": "0.0.0.0:7099"}, {"address": "10.0.0.5:2099", "tls": false}] (docs/SPEC.md §9)',
      ),
    tls: z
      .union(
        [
          z.literal(false),
          obj({
            cert: filePath().describe("the Receiver's certificate (PEM)"),
            key: filePath().describe('the private key (PEM) of cert'),
            clientCa: optPath('CA (PEM) client certificates must be signed by: set, clients without one are refused (mutual TLS)'),
          }),
        ],
        { error: expecting('false or an object {cert, key, clientCa}') },
      )
      .default(receiverTlsDefault)
      .describe('server certificate and key (PEM), or false for plain HTTP'),
    trustDir: filePath()
      .default('trust')
      .describe(
        'trusted public keys, one <encoded server>.pub PEM file each, bound to that server (`zenroll trust add`); a file of another name is trusted for any server, with a warning',
      ),
    quarantineDir: optPath('where refused uploads are kept, each with a .json saying why; null deletes them'),
    maxZipBytes: int(1024).default(268_435_456).describe('largest accepted upload (256 MiB by default); larger ones get 413'),
    maxClockSkewMs: int(0)
      .default(3_600_000)
      .describe(
        "a zip scheduled further ahead of this Receiver's clock than this (1 h by default) is refused, 422 ZIP_TIME_AHEAD: the sender's clock is wrong",
      ),
    discardBefore: str('an ISO-8601 time with Z or an offset, such as "2026-01-01T00:00:00Z"', isIsoTime)
      .nullable()
      .default(null)
      .describe(
        "announced to children: their Senders discard zips created before this time; the directory's zeninvDiscardScanDataTime wins",
      ),
    maxConcurrentUploads: int(1, 1024).default(8).describe('uploads handled at once; more wait in line for a slot'),
    maxQueuedUploads: int(0, 65_536).default(256).describe('uploads that may wait for a slot; more get 503 at once'),
    queueWaitMs: int(0).default(10_000).describe('how long an upload may wait for a slot before it gets 503'),
    receiptDays: z
      .number({ error: expecting('a number > 0') })
      .positive({ error: expecting('a number > 0') })
      .default(30)
      .describe('days a receipt is kept, so a retried upload is answered 200'),
    requestTimeoutMs: int(1).default(60_000).describe('per-request inactivity timeout'),
    minFreeBytes: int(0).default(104_857_600).describe('uploads that would leave less free space than this get 507 (100 MiB by default)'),
  })
    .prefault({})
    .describe('the Receiver: accepts uploads from children'),
  keys: obj({
    private: filePath().default('keys/server.key').describe("this server's Ed25519 private key (PEM)"),
    public: filePath().default('keys/server.pub').describe("this server's Ed25519 public key (PEM)"),
  })
    .prefault({})
    .describe('signing keys'),
  directory: obj({
    url: z
      .union(
        [
          url('an ldap:// or ldaps:// URL', ['ldap:', 'ldaps:']),
          z
            .array(url('an ldap:// or ldaps:// URL', ['ldap:', 'ldaps:']), { error: expecting('a list of URLs') })
            .min(1, { error: expecting('at least one URL') }),
        ],
        { error: expecting('an ldap:// or ldaps:// URL, or a list of them') },
      )
      .describe(
        'the LDAP server, ldap://HOST:PORT or ldaps://HOST:PORT; or a list of providers in multi-provider replication: records go to the first that answers, and move on to the next when it fails (docs/SPEC.md §9)',
      ),
    bindDN: str('a non-empty DN', (s) => s.trim().length > 0).describe(
      "the identity zenroll binds as: usually the server's own Inventory Service object",
    ),
    passwordFile: filePath().describe('a file holding the bind password; read again after a refused bind'),
    serviceDN: str('a DN containing {server}', (s) => s.includes('{server}'))
      .default('cn={server}_ZenInvService,o={tree}')
      .describe("a server's Inventory Service object; {server} is any server's name, {tree} this tree's"),
    keep: int(1, 100_000).default(1000).describe('newest records kept per object (each modify trims the attribute)'),
    timeoutMs: int(1).default(10_000).describe('bound on every LDAP operation'),
    startTls: z
      .boolean({ error: expecting('true or false') })
      .default(false)
      .describe('upgrade an ldap:// connection with StartTLS before binding'),
    tls: obj({ ca: optPath('CA certificate (PEM) for ldaps:// or StartTLS') })
      .prefault({})
      .describe('TLS towards the LDAP server'),
  })
    .superRefine((d, ctx) => {
      if (d.startTls && directoryUrls(d).some((u) => u.startsWith('ldaps:'))) {
        ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'expected false with an ldaps:// url (already TLS), found true' });
      }
    })
    .nullable()
    .default(null)
    .describe('the LDAP directory the records go to (docs/SPEC.md §7); null: the local journal is the log'),
  admin: obj({
    listen: hostPort('a loopback HOST:PORT (127.x.x.x, localhost or [::1])', isLoopback)
      .nullable()
      .default(null)
      .describe(
        'loopback HOST:PORT serving the admin routes and /metrics over TCP (for Prometheus); null: only the Unix socket statedir/admin.sock',
      ),
  })
    .prefault({})
    .describe('the admin endpoint of `zenroll serve`'),
  $schema: z
    .string({ error: expecting('a string') })
    .optional()
    .describe('the JSON Schema of this file, for editors (`zenroll init` writes it); zenroll ignores it'),
});

/** The whole of SPEC §6; `.describe()` on each key is its documentation. */
export const configSchema = configShape.superRefine(roleRules, {
  when: (p) => !p.issues.some((i) => i.code !== 'unrecognized_keys' && blocksRoleRules(i.path ?? [])),
});

// The role rules read role, dirs and sender.parent: they run, beside other
// errors, as soon as those parsed, so that one pass lists every error.
function blocksRoleRules(at: readonly PropertyKey[]): boolean {
  const [a, b] = at;
  return a === undefined || a === 'role' || a === 'dirs' || (a === 'sender' && (b === undefined || b === 'parent'));
}

function roleRules(c: z.output<typeof configShape>, ctx: z.RefinementCtx): void {
  const info = roleInfo(c.role);
  const need = (when: boolean, key: [string, string], value: unknown, why: string) => {
    if (when && value === null) ctx.addIssue({ code: 'custom', path: key, message: `is required for role "${c.role}" (${why})` });
  };
  need(info.ownScans, ['dirs', 'entmergedir'], c.dirs.entmergedir, 'it zips its own scans');
  need(info.sender || info.receiver, ['dirs', 'entpushdir'], c.dirs.entpushdir, 'it sends or receives zips');
  need(info.promotesTo.includes('dbdir'), ['dirs', 'dbdir'], c.dirs.dbdir, 'it promotes zips to dbdir');
  need(info.sender, ['sender', 'parent'], c.sender.parent, 'it sends to a parent Receiver');
  if (Array.isArray(c.receiver.listen) && c.receiver.tls === false) {
    c.receiver.listen.forEach((l, i) => {
      if (typeof l === 'object' && l.tls)
        ctx.addIssue({
          code: 'custom',
          path: ['receiver', 'listen', i, 'tls'],
          message: 'expected false: receiver.tls is false, so no listener has a certificate, found true',
        });
    });
  }
  if (c.sender.forwardOnReceive && !(info.sender && info.receiver)) {
    ctx.addIssue({
      code: 'custom',
      path: ['sender', 'forwardOnReceive'],
      message: `is only for roles that receive and send (intermediate*), not "${c.role}"`,
    });
  }
}

/** `directory.url` as a list: one URL, or the providers of a replicated directory in order (SPEC §9). */
export function directoryUrls(d: { url: string | readonly string[] }): string[] {
  return typeof d.url === 'string' ? [d.url] : [...d.url];
}

export interface Listener {
  host: string;
  port: number;
  /** HTTPS with receiver.tls, or plain HTTP. */
  tls: boolean;
}

/** The Receiver's listeners (SPEC §9): `receiver.listen` as one HOST:PORT or a list, each with or without TLS. */
export function receiverListeners(receiver: { listen: Config['receiver']['listen']; tls: Config['receiver']['tls'] }): Listener[] {
  const list = typeof receiver.listen === 'string' ? [receiver.listen] : receiver.listen;
  return list.map((l) => {
    const address = typeof l === 'string' ? l : l.address;
    const hp = splitHostPort(address);
    if (hp === null) throw new ZenrollError('CONFIG_INVALID', `receiver.listen ${JSON.stringify(address)} is not HOST:PORT`);
    return { ...hp, tls: receiver.tls !== false && (typeof l === 'string' || l.tls) };
  });
}

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;
export interface Dirs {
  entmergedir: string | null;
  entpushdir: string | null;
  dbdir: string | null;
  statedir: string;
  /** `<entpushdir>/zipdir`: uploads land here (SPEC §1). */
  zipdir: string | null;
  /** `<entpushdir>/rejected`. */
  rejecteddir: string | null;
}
type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
export type Config = DeepReadonly<Omit<Parsed, 'dirs' | '$schema'> & { dirs: Dirs }>;
export interface ConfigError {
  /** Dotted key, such as `sender.batchSize`; '' for the whole file. */
  key: string;
  message: string;
}
export type ParseResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

// The keys the schema allows at `at`, to name them beside an unknown one.
function keysAt(schema: unknown, at: readonly PropertyKey[]): string[] {
  // zod's schema definition (`.def`): a wrapper's innerType, a union's options, an object's shape.
  const def = fieldOf(schema, 'def');
  const inner = fieldOf(def, 'innerType');
  if (inner !== undefined) return keysAt(inner, at);
  const options = fieldOf(def, 'options');
  if (Array.isArray(options)) return options.flatMap((o: unknown) => keysAt(o, at));
  const shape = fieldOf(def, 'shape');
  if (!isRecord(shape)) return [];
  if (at.length === 0) return Object.keys(shape);
  const next = shape[String(at[0])];
  return next === undefined ? [] : keysAt(next, at.slice(1));
}

function toErrors(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ConfigError[] {
  return issues.flatMap((iss): ConfigError[] => {
    const at = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      const known = keysAt(configSchema, at).join(', ');
      return iss.keys.map((k) => ({ key: [...at, k].join('.'), message: `is not a known key (expected one of: ${known})` }));
    }
    // Of `false | {…}`, report the branch whose type the value had.
    const branch =
      iss.code === 'invalid_union'
        ? iss.errors.find((b) => !b.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')))
        : undefined;
    if (branch !== undefined) return toErrors(branch, at);
    return [{ key: at.join('.'), message: iss.message }];
  });
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

/** Check and complete a parsed config file; `baseDir` is the config file's folder. */
export function parseConfig(json: unknown, baseDir: string): ParseResult {
  const r = configSchema.safeParse(json);
  if (!r.success) return { ok: false, errors: toErrors(r.error.issues) };
  const { $schema: _editorsOnly, ...c } = r.data;
  const base = resolve(baseDir);
  const abs = (p: string) => resolve(base, p);
  const opt = (p: string | null) => (p === null ? null : abs(p));
  const push = opt(c.dirs.entpushdir);
  const dirs: Dirs = {
    entmergedir: opt(c.dirs.entmergedir),
    entpushdir: push,
    dbdir: opt(c.dirs.dbdir),
    statedir: c.dirs.statedir !== null ? abs(c.dirs.statedir) : push !== null ? join(push, '.zenroll') : join(base, 'state'),
    zipdir: push === null ? null : join(push, 'zipdir'),
    rejecteddir: push === null ? null : join(push, 'rejected'),
  };
  // One folder in two roles would, say, zip scans straight back into the database's folder.
  const errors: ConfigError[] = [];
  const set = (['entmergedir', 'entpushdir', 'dbdir'] as const).filter((k) => dirs[k] !== null);
  set.forEach((k, i) => {
    const same = set.slice(0, i).find((o) => dirs[o] === dirs[k]);
    if (same !== undefined)
      errors.push({ key: `dirs.${k}`, message: `expected a folder other than dirs.${same}, found ${found(dirs[k])}` });
  });
  if (errors.length > 0) return { ok: false, errors };
  const tls = (t: { ca: string | null; cert: string | null; key: string | null }) => ({
    ca: opt(t.ca),
    cert: opt(t.cert),
    key: opt(t.key),
  });
  const rt = c.receiver.tls;
  const d = c.directory;
  const config: Config = {
    ...c,
    dirs,
    sender: { ...c.sender, tls: tls(c.sender.tls) },
    receiver: {
      ...c.receiver,
      tls: rt === false ? false : { cert: abs(rt.cert), key: abs(rt.key), clientCa: opt(rt.clientCa) },
      trustDir: abs(c.receiver.trustDir),
      quarantineDir: opt(c.receiver.quarantineDir),
    },
    keys: { private: abs(c.keys.private), public: abs(c.keys.public) },
    directory:
      d === null
        ? null
        : {
            ...d,
            passwordFile: abs(d.passwordFile),
            serviceDN: d.serviceDN.replaceAll('{tree}', escapeDnValue(c.tree)),
            tls: { ca: opt(d.tls.ca) },
          },
  };
  return { ok: true, config: deepFreeze(config) };
}

/** One `key: message` line per error. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => (e.key === '' ? e.message : `${e.key}: ${e.message}`)).join('\n');
}

/** Read, parse and check the config file; relative paths are relative to its folder. */
export async function loadConfig(path: string): Promise<Config> {
  const file = resolve(path);
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'read the config file', file);
    throw new ZenrollError('CONFIG_NOT_FOUND', `config file ${shown(file, 200)} does not exist`, { cause: err, details: { path: file } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // Our own scan says where and why: V8's message text is no interface.
    const found = jsonSyntaxError(text) ?? { offset: 0, reason: 'the JSON parser refused it' };
    const before = text.slice(0, found.offset).split('\n');
    const line = before.length;
    const column = (before[before.length - 1] ?? '').length + 1;
    const reason = found.reason;
    throw new ZenrollError(
      'CONFIG_INVALID',
      `config file ${shown(file, 200)} is not valid JSON at line ${line}, column ${column}: ${reason} (plain JSON: no comments, no trailing commas)`,
      { cause: err, details: { path: file, line, column } },
    );
  }
  const result = parseConfig(json, dirname(file));
  if (!result.ok) {
    const lines = formatConfigErrors(result.errors)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    throw new ZenrollError('CONFIG_INVALID', `config file ${shown(file, 200)} does not follow docs/SPEC.md §6:\n${lines}`, {
      details: { path: file, errors: result.errors },
    });
  }
  return result.config;
}
