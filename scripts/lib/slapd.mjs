// A private OpenLDAP slapd for zenroll's tests, demo and benchmarks: its own
// folder, config, mdb database and loopback port, our schema and ACLs, a demo
// tree. It never reads or touches a system-wide slapd (Debian's instance is
// neither needed nor disturbed). See startSlapd below.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { baseLdif, groupAddLdif, operatorDnOf, serverDnOf, serverEntry, slapdConf, sshaHash, suffixOf } from './slapd-config.mjs';
import { freePort, ldapUtil, sleep, slapdAlive, stopPid } from './slapd-proc.mjs';

export { freePort, ldapUtil, slapdAlive, stopPid };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCHEMA_FILE = join(ROOT, 'packages', 'directory', 'schema', 'zenroll.schema');
export const SCHEMA_LDIF = join(ROOT, 'packages', 'directory', 'schema', 'zenroll.ldif');
export const DEFAULT_SERVERS = ['LEAF1', 'LEAF2', 'INT1', 'ROOT'];
const SLAPD = '/usr/sbin/slapd';

export function slapdInstalled() {
  return existsSync(SLAPD) && existsSync('/usr/bin/ldapadd');
}

function needInstalled() {
  if (!slapdInstalled()) {
    throw new Error(
      'slapd and ldap-utils are not installed: run `sudo bash scripts/system-deps.sh` ' +
        '(or `apt-get install slapd ldap-utils` with slapd/no_configuration preseeded)',
    );
  }
}

// Children of this process, killed when it exits so that a failed test run leaves no slapd behind.
const tracked = new Set();
process.once('exit', () => {
  for (const child of tracked) child.kill('SIGKILL');
});

/**
 * Start (or, given the folder of an earlier one, restart) a private slapd.
 * Options: dir, port, tree ('ACME'), servers (LEAF1, LEAF2, INT1, ROOT),
 * cnConfig (run from a cn=config folder, `-F`, converted from slapd.conf on
 * first start; also listens on ldapi://), schema (load zenroll.schema; false
 * for a test that loads zenroll.ldif itself), tls ({cert, key}: also listen
 * on ldaps:// and offer StartTLS), detached (outlive this process).
 */
export async function startSlapd(opts = {}) {
  needInstalled();
  const ownsDir = opts.dir === undefined;
  const dir = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), 'zenroll-slapd-'))));
  const stateFile = join(dir, 'slapd.json');
  const state = existsSync(stateFile)
    ? { ...JSON.parse(await readFile(stateFile, 'utf8')), fresh: false }
    : await createInstance(dir, opts);
  if (opts.port !== undefined) state.port = opts.port;
  const handle = new Slapd(state, opts.detached === true, ownsDir);
  await handle.launch();
  if (state.fresh) {
    await ldapUtil('ldapadd', [...handle.rootArgs(), '-f', join(dir, 'base.ldif')]);
    delete state.fresh;
  }
  await writeFile(stateFile, `${JSON.stringify(handle.info(), null, 2)}\n`);
  return handle;
}

async function createInstance(dir, opts) {
  const tree = opts.tree ?? 'ACME';
  const servers = opts.servers ?? DEFAULT_SERVERS;
  const withSchema = opts.schema !== false;
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'passwords'), { mode: 0o700, recursive: true });
  // Password files hold no newline: `ldapsearch -y` sends the whole file.
  const secret = async (name) => {
    // A second provider of a replicated pair has the first one's passwords (its files).
    if (opts.shared?.[name]) return opts.shared[name];
    const password = randomBytes(12).toString('hex');
    const file = join(dir, 'passwords', `${name}.pw`);
    await writeFile(file, password, { mode: 0o600 });
    return { password, file };
  };
  const root = await secret('root');
  const operator = await secret('operator');
  const serverSecrets = {};
  for (const s of servers) serverSecrets[s] = await secret(s);
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
    ...(opts.replication ? { replication: { ...opts.replication, credentials: root.password } } : {}),
  });
  await writeFile(join(dir, 'slapd.conf'), confText);
  const entries = servers.map((name) => ({ name, passwordHash: sshaHash(serverSecrets[name].password) }));
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
    servers: Object.fromEntries(servers.map((s) => [s, { dn: serverDnOf(tree, s), ...serverSecrets[s] }])),
    secrets: { root, operator, ...(config ? { config } : {}), ...serverSecrets },
  };
}

/**
 * Start (or start again) `providers` private slapds in multi-provider
 * replication (syncrepl, mirror mode; SPEC §9): one tree, the same accounts
 * and passwords, each provider taking writes and sending them to the others.
 * Their folders are `dir/p1`, `dir/p2`, …; the first gets the demo tree,
 * the others copy it by replication. Resolves once every provider has it.
 */
export async function startSlapdProviders(opts = {}) {
  needInstalled();
  const count = opts.providers ?? 2;
  const ownsDir = opts.dir === undefined;
  const base = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), 'zenroll-slapd-'))));
  const dirs = Array.from({ length: count }, (_, i) => join(base, `p${i + 1}`));
  if (existsSync(join(dirs[0], 'slapd.json'))) {
    return Promise.all(dirs.map((dir) => startSlapd({ ...opts, dir })));
  }
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(i === 0 && opts.port !== undefined ? opts.port : await freePort());
  const urlOf = (port) => `ldap://127.0.0.1:${port}`;
  const handles = [];
  let shared;
  for (let i = 0; i < count; i++) {
    await mkdir(dirs[i], { recursive: true });
    const replication = { serverId: i + 1, peers: ports.filter((_, j) => j !== i).map(urlOf) };
    const state = await createInstance(dirs[i], { ...opts, port: ports[i], replication, ...(shared ? { shared } : {}) });
    shared ??= state.secrets;
    // Only the first provider loads the tree; the others get it from it.
    if (i > 0) state.fresh = false;
    const handle = new Slapd(state, opts.detached === true, false);
    await handle.launch();
    if (state.fresh) {
      await ldapUtil('ldapadd', [...handle.rootArgs(), '-f', join(dirs[i], 'base.ldif')]);
      delete state.fresh;
    }
    await writeFile(join(dirs[i], 'slapd.json'), `${JSON.stringify(handle.info(), null, 2)}\n`);
    handles.push(handle);
  }
  // Every provider has the whole tree before anyone writes.
  const count0 = async (h) =>
    (await ldapUtil('ldapsearch', [...h.rootArgs(), '-b', h.suffix, '-LLL', 'dn'])).split('\n').filter((l) => l.startsWith('dn:')).length;
  const want = await count0(handles[0]);
  for (const h of handles.slice(1)) {
    for (let i = 0; (await count0(h).catch(() => -1)) !== want; i++) {
      if (i > 300) throw new Error(`provider ${h.url} did not copy the tree of ${handles[0].url} within 30 s`);
      await sleep(100);
    }
  }
  if (ownsDir) {
    for (const h of handles) h.removeOnDestroy = base;
  }
  return handles;
}

class Slapd {
  constructor(state, detached, ownsDir) {
    this.state = state;
    this.detached = detached;
    this.ownsDir = ownsDir;
    this.child = null;
    this.pid = 0;
  }

  get dir() {
    return this.state.dir;
  }
  get port() {
    return this.state.port;
  }
  get url() {
    return `ldap://127.0.0.1:${this.state.port}`;
  }
  get ldapsUrl() {
    return this.state.tlsPort ? `ldaps://127.0.0.1:${this.state.tlsPort}` : null;
  }
  get ldapiUrl() {
    return `ldapi://${encodeURIComponent(join(this.state.dir, 'ldapi'))}`;
  }
  get suffix() {
    return this.state.suffix;
  }
  get tree() {
    return this.state.tree;
  }
  get rootDN() {
    return this.state.rootDN;
  }
  get rootPassword() {
    return this.state.rootPassword;
  }
  get rootPasswordFile() {
    return this.state.rootPasswordFile;
  }
  get configDN() {
    return this.state.configDN;
  }
  /** The operator account: a member of the operators group, which reads everything but passwords and writes nothing. */
  get operatorDN() {
    return this.state.operatorDN;
  }
  get operatorPassword() {
    return this.state.operatorPassword;
  }
  get operatorPasswordFile() {
    return this.state.operatorPasswordFile;
  }
  get configPassword() {
    return this.state.configPassword;
  }
  get servers() {
    return Object.keys(this.state.servers);
  }
  serverDN(server) {
    return this.known(server).dn;
  }
  serverPassword(server) {
    return this.known(server).password;
  }
  serverPasswordFile(server) {
    return this.known(server).file;
  }
  known(server) {
    const s = this.state.servers[server];
    if (!s) throw new Error(`server ${server} is not in this slapd (it has ${this.servers.join(', ')})`);
    return s;
  }

  /** `-x -H url -D rootDN -y file` for ldap-utils. */
  rootArgs() {
    return ['-x', '-H', this.url, '-D', this.rootDN, '-y', this.rootPasswordFile];
  }

  argv() {
    const urls = [`${this.url}/`, ...(this.ldapsUrl ? [`${this.ldapsUrl}/`] : [])];
    if (this.state.cnConfig) urls.push(`${this.ldapiUrl}/`);
    const cfg = join(this.dir, 'slapd.d');
    // cn=config: converted from slapd.conf on first start (slaptest cannot do it on a fresh mdb).
    const config = this.state.cnConfig
      ? existsSync(join(cfg, 'cn=config.ldif'))
        ? ['-F', cfg]
        : ['-f', join(this.dir, 'slapd.conf'), '-F', cfg]
      : ['-f', join(this.dir, 'slapd.conf')];
    return ['-d', '0', ...config, '-h', urls.join(' ')];
  }

  async launch() {
    const log = openSync(join(this.dir, 'slapd.log'), 'a');
    const child = spawn(SLAPD, this.argv(), { detached: this.detached, stdio: ['ignore', log, log] });
    closeSync(log);
    this.pid = child.pid;
    let exited = null;
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      tracked.delete(child);
    });
    if (this.detached) child.unref();
    else tracked.add(child);
    this.child = child;
    for (let i = 0; ; i++) {
      if (exited) {
        const text = await readFile(join(this.dir, 'slapd.log'), 'utf8').catch(() => '');
        throw new Error(
          `slapd exited (${exited.code ?? exited.signal}) before answering; ${join(this.dir, 'slapd.log')}:\n${text.slice(-2000)}`,
        );
      }
      try {
        await ldapUtil('ldapwhoami', this.rootArgs());
        return;
      } catch (err) {
        if (i > 200) throw new Error(`slapd did not answer on ${this.url} within 10 s: ${err.message}`);
        await sleep(50);
      }
    }
  }

  /** Stop gracefully (SIGTERM, then SIGKILL after graceMs). */
  async stop(graceMs = 10_000) {
    await stopPid(this.pid, { graceMs });
  }

  /** Stop, and remove the folder when startSlapd made it (tests call this in afterAll). */
  async destroy() {
    await this.stop();
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
    // One of startSlapdProviders' providers: their common folder (the others are stopped by their own destroy).
    if (this.removeOnDestroy) await rm(this.removeOnDestroy, { recursive: true, force: true });
  }

  /** Kill at once, as a crash would. */
  async kill(signal = 'SIGKILL') {
    await stopPid(this.pid, { signal, graceMs: 0 });
  }

  /** Start again on the same port and data (stops it first when running). */
  async restart() {
    await this.stop();
    await this.launch();
    await writeFile(join(this.dir, 'slapd.json'), `${JSON.stringify(this.info(), null, 2)}\n`);
  }

  running() {
    return this.pid > 0 && slapdAlive(this.pid);
  }

  /** Add Inventory Service objects (members of the group) after the start. */
  async addServers(names) {
    const fresh = names.filter((n) => !this.state.servers[n]);
    for (const name of fresh) {
      const password = randomBytes(12).toString('hex');
      const file = join(this.dir, 'passwords', `${name}.pw`);
      await writeFile(file, password, { mode: 0o600 });
      await ldapUtil('ldapadd', this.rootArgs(), `${serverEntry(this.tree, name, sshaHash(password)).join('\n')}\n`);
      this.state.servers[name] = { dn: serverDnOf(this.tree, name), password, file };
    }
    if (fresh.length > 0) await ldapUtil('ldapmodify', this.rootArgs(), groupAddLdif(this.tree, fresh));
    await writeFile(join(this.dir, 'slapd.json'), `${JSON.stringify(this.info(), null, 2)}\n`);
  }

  /** What slapd.json holds: enough for another process to use and stop this slapd. */
  info() {
    const { fresh, ...state } = this.state;
    return { ...state, url: this.url, ldapsUrl: this.ldapsUrl, ldapiUrl: this.state.cnConfig ? this.ldapiUrl : null, pid: this.pid };
  }
}
