/**
 * One running private slapd (started by ./index.ts): its URLs, accounts and
 * password files, and stopping, killing, restarting it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupAddLdif, ldifValues, serverDnOf, serverEntry, sshaHash, type TlsFiles } from './config.js';
import { SLAPD_BIN, ldapUtil, slapdAlive, sleep, stopPid } from './proc.js';

/** A password and the file holding it (no newline: `ldapsearch -y` sends the whole file). */
export interface Secret {
  password: string;
  file: string;
}

/** What a slapd is, as slapd.json keeps it between starts. */
export interface SlapdState {
  /** Set while the demo tree is still to be loaded; never written to slapd.json. */
  fresh?: boolean;
  dir: string;
  tree: string;
  suffix: string;
  rootDN: string;
  rootPassword: string;
  rootPasswordFile: string;
  operatorDN: string;
  operatorPassword: string;
  operatorPasswordFile: string;
  configDN: string | null;
  configPassword: string | null;
  configPasswordFile: string | null;
  cnConfig: boolean;
  tls: TlsFiles | null;
  port: number;
  tlsPort: number | null;
  servers: Record<string, { dn: string; password: string; file: string }>;
  secrets: Record<string, Secret>;
}

/** slapd.json: the state plus where it listens and its pid, enough for another process to use and stop it. */
export interface SlapdInfo extends Omit<SlapdState, 'fresh'> {
  url: string;
  ldapsUrl: string | null;
  ldapiUrl: string | null;
  pid: number;
}

// Children of this process, killed when it exits so that a failed test run leaves no slapd behind.
const tracked = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of tracked) child.kill('SIGKILL');
});

export class Slapd {
  readonly #state: SlapdState;
  readonly #detached: boolean;
  readonly #ownsDir: boolean;
  /** One of startSlapdProviders' providers: their common folder, removed by destroy(). */
  readonly #removeOnDestroy: string | null;
  #pid = 0;

  constructor(state: SlapdState, detached: boolean, ownsDir: boolean, removeOnDestroy: string | null = null) {
    this.#state = state;
    this.#detached = detached;
    this.#ownsDir = ownsDir;
    this.#removeOnDestroy = removeOnDestroy;
  }

  get pid(): number {
    return this.#pid;
  }
  get dir(): string {
    return this.#state.dir;
  }
  get port(): number {
    return this.#state.port;
  }
  get url(): string {
    return `ldap://127.0.0.1:${this.#state.port}`;
  }
  get ldapsUrl(): string | null {
    return this.#state.tlsPort ? `ldaps://127.0.0.1:${this.#state.tlsPort}` : null;
  }
  get ldapiUrl(): string {
    return `ldapi://${encodeURIComponent(join(this.#state.dir, 'ldapi'))}`;
  }
  get suffix(): string {
    return this.#state.suffix;
  }
  get tree(): string {
    return this.#state.tree;
  }
  get rootDN(): string {
    return this.#state.rootDN;
  }
  get rootPassword(): string {
    return this.#state.rootPassword;
  }
  get rootPasswordFile(): string {
    return this.#state.rootPasswordFile;
  }
  get configDN(): string | null {
    return this.#state.configDN;
  }
  /** The operator account: a member of the operators group, which reads everything but passwords and writes nothing (SPEC §7). */
  get operatorDN(): string {
    return this.#state.operatorDN;
  }
  get operatorPassword(): string {
    return this.#state.operatorPassword;
  }
  get operatorPasswordFile(): string {
    return this.#state.operatorPasswordFile;
  }
  get configPassword(): string | null {
    return this.#state.configPassword;
  }
  get servers(): string[] {
    return Object.keys(this.#state.servers);
  }
  serverDN(server: string): string {
    return this.#known(server).dn;
  }
  serverPassword(server: string): string {
    return this.#known(server).password;
  }
  serverPasswordFile(server: string): string {
    return this.#known(server).file;
  }
  #known(server: string): { dn: string; password: string; file: string } {
    const s = this.#state.servers[server];
    if (!s) throw new Error(`server ${server} is not in this slapd (it has ${this.servers.join(', ')})`);
    return s;
  }

  /** `-x -H url -D rootDN -y file` for ldap-utils. */
  rootArgs(): string[] {
    return ['-x', '-H', this.url, '-D', this.rootDN, '-y', this.rootPasswordFile];
  }

  /** `-x -H url -D serverDN -y file` for ldap-utils: bound as one server, as its `zenroll serve` is. */
  serverArgs(server: string): string[] {
    return ['-x', '-H', this.url, '-D', this.serverDN(server), '-y', this.serverPasswordFile(server)];
  }

  /**
   * The values of `attr` on the entry `dn`, read with the real `ldapsearch`
   * (as an operator would see them; as the root DN unless `bind` says otherwise).
   */
  async searchValues(dn: string, attr: string, bind: string[] = this.rootArgs()): Promise<string[]> {
    return ldifValues(await ldapUtil('ldapsearch', [...bind, '-b', dn, '-s', 'base', attr, '-LLL']), attr);
  }

  /** The roll-up log of `server`'s Inventory Service object, as `ldapsearch` shows it. */
  rollUpLog(server: string, bind: string[] = this.rootArgs()): Promise<string[]> {
    return this.searchValues(serverDnOf(this.tree, server), 'zeninvRollUpLog', bind);
  }

  #argv(): string[] {
    const urls = [`${this.url}/`, ...(this.ldapsUrl ? [`${this.ldapsUrl}/`] : [])];
    if (this.#state.cnConfig) urls.push(`${this.ldapiUrl}/`);
    const cfg = join(this.dir, 'slapd.d');
    // cn=config: converted from slapd.conf on first start (slaptest cannot do it on a fresh mdb).
    const config = this.#state.cnConfig
      ? existsSync(join(cfg, 'cn=config.ldif'))
        ? ['-F', cfg]
        : ['-f', join(this.dir, 'slapd.conf'), '-F', cfg]
      : ['-f', join(this.dir, 'slapd.conf')];
    return ['-d', '0', ...config, '-h', urls.join(' ')];
  }

  /** Spawn slapd and wait until it answers a bind as the root DN. */
  async launch(): Promise<void> {
    const log = openSync(join(this.dir, 'slapd.log'), 'a');
    const child = spawn(SLAPD_BIN, this.#argv(), { detached: this.#detached, stdio: ['ignore', log, log] });
    closeSync(log);
    this.#pid = child.pid ?? 0;
    // Set by the exit listener while the loop below waits.
    const exit: { status?: string } = {};
    child.once('exit', (code, signal) => {
      exit.status = String(code ?? signal);
      tracked.delete(child);
    });
    if (this.#detached) child.unref();
    else tracked.add(child);
    for (let i = 0; ; i++) {
      if (exit.status !== undefined) {
        const text = await readFile(join(this.dir, 'slapd.log'), 'utf8').catch(() => '');
        throw new Error(`slapd exited (${exit.status}) before answering; ${join(this.dir, 'slapd.log')}:\n${text.slice(-2000)}`);
      }
      try {
        await ldapUtil('ldapwhoami', this.rootArgs());
        return;
      } catch (err) {
        if (i > 200)
          throw new Error(`slapd did not answer on ${this.url} within 10 s: ${err instanceof Error ? err.message : String(err)}`);
        await sleep(50);
      }
    }
  }

  /** Stop gracefully (SIGTERM, then SIGKILL after graceMs). */
  async stop(graceMs = 10_000): Promise<void> {
    await stopPid(this.#pid, { graceMs });
  }

  /** Stop, and remove the folder when startSlapd made it (tests call this in afterAll). */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.#ownsDir) await rm(this.dir, { recursive: true, force: true });
    // One of startSlapdProviders' providers: their common folder (the others are stopped by their own destroy).
    if (this.#removeOnDestroy) await rm(this.#removeOnDestroy, { recursive: true, force: true });
  }

  /** Kill at once, as a crash would. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await stopPid(this.#pid, { signal, graceMs: 0 });
  }

  /** Start again on the same port and data (stops it first when running). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
    await this.save();
  }

  running(): boolean {
    return this.#pid > 0 && slapdAlive(this.#pid);
  }

  /** Add Inventory Service objects (members of the group) after the start. */
  async addServers(names: string[]): Promise<void> {
    const fresh = names.filter((n) => !this.#state.servers[n]);
    for (const name of fresh) {
      const password = randomBytes(12).toString('hex');
      const file = join(this.dir, 'passwords', `${name}.pw`);
      await writeFile(file, password, { mode: 0o600 });
      await ldapUtil('ldapadd', this.rootArgs(), `${serverEntry(this.tree, name, sshaHash(password)).join('\n')}\n`);
      this.#state.servers[name] = { dn: serverDnOf(this.tree, name), password, file };
    }
    if (fresh.length > 0) await ldapUtil('ldapmodify', this.rootArgs(), groupAddLdif(this.tree, fresh));
    await this.save();
  }

  /** Load base.ldif once, on the first start of a new instance. */
  async loadTreeIfFresh(): Promise<void> {
    if (!this.#state.fresh) return;
    await ldapUtil('ldapadd', [...this.rootArgs(), '-f', join(this.dir, 'base.ldif')]);
    delete this.#state.fresh;
  }

  /** Write slapd.json. */
  async save(): Promise<void> {
    await writeFile(join(this.dir, 'slapd.json'), `${JSON.stringify(this.info(), null, 2)}\n`);
  }

  /** What slapd.json holds: enough for another process to use and stop this slapd. */
  info(): SlapdInfo {
    const { fresh: _fresh, ...state } = this.#state;
    return { ...state, url: this.url, ldapsUrl: this.ldapsUrl, ldapiUrl: this.#state.cnConfig ? this.ldapiUrl : null, pid: this.#pid };
  }
}
