// Types of slapd.mjs, for the TypeScript tests that start a private slapd.
export const SCHEMA_FILE: string;
export const SCHEMA_LDIF: string;
export const DEFAULT_SERVERS: string[];

export interface StartSlapdOptions {
  /** The instance folder; a folder with a slapd.json is started again as it was. Default: a new temp folder. */
  dir?: string;
  port?: number;
  tree?: string;
  servers?: string[];
  /** Run from cn=config (`-F`), also listening on ldapi://. */
  cnConfig?: boolean;
  /** Load zenroll.schema; default true. */
  schema?: boolean;
  /** Also listen on ldaps:// and offer StartTLS with this certificate. */
  tls?: { cert: string; key: string } | null;
  /** Outlive this process. */
  detached?: boolean;
}

export interface Slapd {
  readonly dir: string;
  readonly port: number;
  readonly pid: number;
  readonly url: string;
  readonly ldapsUrl: string | null;
  readonly ldapiUrl: string;
  readonly suffix: string;
  readonly tree: string;
  readonly rootDN: string;
  readonly rootPassword: string;
  readonly rootPasswordFile: string;
  readonly configDN: string | null;
  /** The operator account: reads every object and attribute but passwords, writes nothing (SPEC §7). */
  readonly operatorDN: string;
  readonly operatorPassword: string;
  readonly operatorPasswordFile: string;
  readonly configPassword: string | null;
  readonly servers: string[];
  serverDN(server: string): string;
  serverPassword(server: string): string;
  serverPasswordFile(server: string): string;
  /** `-x -H url -D rootDN -y file`, for ldap-utils. */
  rootArgs(): string[];
  stop(graceMs?: number): Promise<void>;
  /** Stop, and remove the folder when startSlapd made it. */
  destroy(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  running(): boolean;
  addServers(names: string[]): Promise<void>;
  info(): Record<string, unknown>;
}

export function startSlapd(opts?: StartSlapdOptions): Promise<Slapd>;
/** `providers` (default 2) slapds in multi-provider replication (syncrepl, mirror mode), folders `dir/p1`, `dir/p2`, …; resolves once all have the tree. */
export function startSlapdProviders(opts?: StartSlapdOptions & { providers?: number }): Promise<Slapd[]>;
export function slapdInstalled(): boolean;
export function slapdAlive(pid: number): boolean;
export function ldapUtil(cmd: string, args: string[], input?: string): Promise<string>;
export function freePort(): Promise<number>;
export function stopPid(pid: number, opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
