/**
 * A private OpenLDAP slapd for zenroll's tests, demo and benchmarks: its own
 * folder, config, mdb database and loopback port, our schema and ACLs, a demo
 * tree. It never reads or touches a system-wide slapd (Debian's instance is
 * neither needed nor disturbed). See startSlapd below.
 *
 * The subpath `@zenroll/directory/slapd`, apart from the main entry, so that
 * the LDAP log does not load child_process code it never runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ZenrollError } from '@zenroll/core';
import {
  baseLdif,
  operatorDnOf,
  type Replication,
  type ServerAccount,
  serverDnOf,
  slapdConf,
  sshaHash,
  suffixOf,
  type TlsFiles,
} from './config.js';
import { type Secret, Slapd, type SlapdState } from './handle.js';
import { freePort, ldapUtil, notInstalledError, slapdInstalled, sleep } from './proc.js';

export {
  accessLdif,
  accessLdifFile,
  escapeDn,
  groupDnOf,
  ldifValues,
  operatorDnOf,
  operatorsDnOf,
  serverDnOf,
  slapdConf,
  sshaHash,
  suffixOf,
  type TlsFiles,
} from './config.js';
export type { Slapd, SlapdInfo } from './handle.js';
export {
  freePort,
  INSTALL_SLAPD,
  ldapUtil,
  notInstalledError,
  type StopOptions,
  slapdAlive,
  slapdInstalled,
  sleep,
  stopPid,
} from './proc.js';

// The package's own folder (src/slapd or dist/slapd → ../..): the schema
// ships in the package, so an installed @zenroll/directory finds it too.
const PACKAGE_DIR = resolve(import.meta.dirname, '..', '..');
export const SCHEMA_FILE = join(PACKAGE_DIR, 'schema', 'zenroll.schema');
export const SCHEMA_LDIF = join(PACKAGE_DIR, 'schema', 'zenroll.ldif');
export const DEFAULT_SERVERS = ['LEAF1', 'LEAF2', 'INT1', 'ROOT'];

export interface StartSlapdOptions {
  /** The instance folder; a folder with a slapd.json is started again as it was. Default: a new temp folder. */
  dir?: string;
  port?: number;
  /** The tree's name; the suffix is `o=<tree>`. Default ACME. */
  tree?: string;
  /** Inventory Service objects to make. Default LEAF1, LEAF2, INT1, ROOT. */
  servers?: string[];
  /** Run from cn=config (`-F`, converted from slapd.conf on first start), also listening on ldapi://. */
  cnConfig?: boolean;
  /** Load zenroll.schema; default true. False for a test that loads zenroll.ldif itself. */
  schema?: boolean;
  /** Also listen on ldaps:// and offer StartTLS with this certificate. */
  tls?: TlsFiles | null;
  /** Outlive this process. */
  detached?: boolean;
}

export interface StartProvidersOptions extends StartSlapdOptions {
  /** How many providers; default 2. */
  providers?: number;
  /** How long the providers after the first have, together, to copy its tree before the start fails; default 30 s. */
  replicationDeadlineMs?: number;
  /**
   * The password each provider binds to the others with to replicate; default the root DN's own, which is what
   * lets them. Any other value leaves the providers after the first without the tree: how a test makes the
   * replication deadline expire.
   */
  replicationCredentials?: string;
}

interface InstanceOptions extends StartSlapdOptions {
  replication?: Omit<Replication, 'credentials'> & { credentials?: string };
  /** A second provider of a replicated pair has the first one's passwords (its files). */
  shared?: Record<string, Secret>;
}

function needInstalled(): void {
  if (!slapdInstalled()) throw notInstalledError('slapd and ldap-utils are');
}

/**
 * Start (or, given the folder of an earlier one, restart) a private slapd;
 * resolves once it answers and holds the demo tree.
 */
export async function startSlapd(opts: StartSlapdOptions = {}): Promise<Slapd> {
  needInstalled();
  const ownsDir = opts.dir === undefined;
  const dir = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), 'zenroll-slapd-'))));
  const stateFile = join(dir, 'slapd.json');
  const state: SlapdState = existsSync(stateFile)
    ? { ...JSON.parse(await readFile(stateFile, 'utf8')), fresh: false }
    : await createInstance(dir, opts);
  if (opts.port !== undefined) state.port = opts.port;
  const handle = new Slapd(state, opts.detached === true, ownsDir);
  await handle.launch();
  await handle.loadTreeIfFresh();
  await handle.save();
  return handle;
}

async function createInstance(dir: string, opts: InstanceOptions): Promise<SlapdState> {
  const tree = opts.tree ?? 'ACME';
  const servers = opts.servers ?? DEFAULT_SERVERS;
  const withSchema = opts.schema !== false;
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'passwords'), { mode: 0o700, recursive: true });
  // Password files hold no newline: `ldapsearch -y` sends the whole file.
  const secret = async (name: string): Promise<Secret> => {
    const shared = opts.shared?.[name];
    if (shared) return shared;
    const password = randomBytes(12).toString('hex');
    const file = join(dir, 'passwords', `${name}.pw`);
    await writeFile(file, password, { mode: 0o600 });
    return { password, file };
  };
  const root = await secret('root');
  const operator = await secret('operator');
  const serverSecrets: Record<string, Secret> = {};
  const serverAccounts: SlapdState['servers'] = {};
  const entries: ServerAccount[] = [];
  for (const name of servers) {
    const s = await secret(name);
    serverSecrets[name] = s;
    serverAccounts[name] = { dn: serverDnOf(tree, name), ...s };
    entries.push({ name, passwordHash: sshaHash(s.password) });
  }
  const rootDN = `cn=admin,${suffixOf(tree)}`;
  const config = opts.cnConfig ? await secret('config') : null;
  const confText = slapdConf({
    dir,
    tree,
    rootDN,
    rootPasswordHash: sshaHash(root.password),
    schemaFile: withSchema ? SCHEMA_FILE : null,
    tls: opts.tls ?? null,
    configPasswordHash: config ? sshaHash(config.password) : null,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    ...(opts.replication ? { replication: { ...opts.replication, credentials: opts.replication.credentials ?? root.password } } : {}),
  });
  await writeFile(join(dir, 'slapd.conf'), confText);
  await writeFile(
    join(dir, 'base.ldif'),
    baseLdif({ tree, rootDN, servers: entries, schema: withSchema, operatorPasswordHash: sshaHash(operator.password) }),
  );
  if (opts.cnConfig) await mkdir(join(dir, 'slapd.d'), { recursive: true });
  return {
    fresh: true,
    dir,
    tree,
    suffix: suffixOf(tree),
    rootDN,
    rootPassword: root.password,
    rootPasswordFile: root.file,
    operatorDN: operatorDnOf(tree),
    operatorPassword: operator.password,
    operatorPasswordFile: operator.file,
    configDN: config ? 'cn=admin,cn=config' : null,
    configPassword: config?.password ?? null,
    configPasswordFile: config?.file ?? null,
    cnConfig: opts.cnConfig === true,
    tls: opts.tls ?? null,
    port: opts.port ?? (await freePort()),
    tlsPort: opts.tls ? await freePort() : null,
    servers: serverAccounts,
    secrets: { root, operator, ...(config ? { config } : {}), ...serverSecrets },
  };
}

/**
 * Start (or start again) `providers` private slapds in multi-provider
 * replication (syncrepl, mirror mode; SPEC §9): one tree, the same accounts
 * and passwords, each provider taking writes and sending them to the others.
 * Their folders are `dir/p1`, `dir/p2`, …; the first gets the demo tree,
 * the others copy it by replication. Resolves once every provider has it;
 * when one cannot start or has not copied the tree by the deadline, every
 * provider started is stopped (and the folder removed when this made it)
 * before the error is thrown.
 */
export async function startSlapdProviders(opts: StartProvidersOptions = {}): Promise<Slapd[]> {
  needInstalled();
  const count = opts.providers ?? 2;
  const ownsDir = opts.dir === undefined;
  const base = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), 'zenroll-slapd-'))));
  const dirs = Array.from({ length: count }, (_, i) => join(base, `p${i + 1}`));
  if (existsSync(join(base, 'p1', 'slapd.json'))) {
    return Promise.all(dirs.map((dir) => startSlapd({ ...opts, dir })));
  }
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(i === 0 && opts.port !== undefined ? opts.port : await freePort());
  const urlOf = (port: number): string => `ldap://127.0.0.1:${port}`;
  const handles: Slapd[] = [];
  try {
    let shared: Record<string, Secret> | undefined;
    for (const [i, dir] of dirs.entries()) {
      await mkdir(dir, { recursive: true });
      const replication = {
        serverId: i + 1,
        peers: ports.filter((_, j) => j !== i).map(urlOf),
        ...(opts.replicationCredentials === undefined ? {} : { credentials: opts.replicationCredentials }),
      };
      const state = await createInstance(dir, { ...opts, port: ports[i], replication, ...(shared ? { shared } : {}) });
      shared ??= state.secrets;
      // Only the first provider loads the tree; the others get it from it.
      if (i > 0) state.fresh = false;
      const handle = new Slapd(state, opts.detached === true, false, ownsDir ? base : null);
      // Pushed before the launch: a slapd that starts but never answers is stopped too.
      handles.push(handle);
      await handle.launch();
      await handle.loadTreeIfFresh();
      await handle.save();
    }
    await replicated(handles, opts.replicationDeadlineMs ?? 30_000);
    return handles;
  } catch (err) {
    // Each destroy stops its slapd and, when this made the common folder, removes it: the last started first,
    // so that no slapd still runs in a folder being removed. Not one left running, and the first error kept.
    const stopFailures: unknown[] = [];
    for (const h of handles.reverse()) await h.destroy().catch((stopErr: unknown) => stopFailures.push(stopErr));
    if (ownsDir) await rm(base, { recursive: true, force: true });
    if (stopFailures.length > 0) throw new AggregateError([err, ...stopFailures], 'the providers did not start, nor stop after it');
    throw err;
  }
}

/** Resolves once every provider after the first holds as many entries as the first (the whole tree, before anyone writes). */
async function replicated(handles: Slapd[], deadlineMs: number): Promise<void> {
  const entries = async (h: Slapd): Promise<number> =>
    (await ldapUtil('ldapsearch', [...h.rootArgs(), '-b', h.suffix, '-LLL', 'dn'])).split('\n').filter((l) => l.startsWith('dn:')).length;
  const [first, ...others] = handles;
  if (!first) return;
  const want = await entries(first);
  // A deadline, not a count of turns: each turn's ldapsearch may itself take long.
  const until = Date.now() + deadlineMs;
  for (const h of others) {
    let seen = await entries(h).catch(() => -1);
    while (seen !== want) {
      if (Date.now() > until) {
        throw new ZenrollError(
          'DIRECTORY_UNREACHABLE',
          `provider ${h.url} did not copy the tree of ${first.url} within ${deadlineMs / 1000} s (it holds ${Math.max(seen, 0)} of its ${want} entries)`,
          {
            details: {
              fix: `each provider copies the tree binding to the others as ${h.rootDN} (the syncrepl lines of its slapd.conf): check that the others are reachable from it and that its credentials are that DN's password; on a slow machine, a longer replicationDeadlineMs`,
            },
          },
        );
      }
      await sleep(100);
      seen = await entries(h).catch(() => -1);
    }
  }
}
