/**
 * `zenroll init`: a new server's config, key pair, TLS certificate and
 * folders, in one folder that is all its state (SPEC §5).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
// Not core's durable ensureDir: these folders hold nothing yet that another step trusts.
import { ensureDir, pathExists } from 'fs-extra/esm';
import {
  ROLES,
  ZenrollError,
  certificateNames,
  checkName,
  configSchemaPath,
  fsError,
  formatConfigErrors,
  generateKeyPair,
  machineNames,
  makeCertificate,
  parsePemCertificates,
  publicKeyPem,
  parseConfig,
  roleInfo,
  saveKeyPair,
  receiverListeners,
  tlsNameProblem,
  writeFileDurable,
  type Config,
  type Role,
  messageOf,
  isOneOf,
} from '@zenroll/core';
import { openDirectory } from '@zenroll/directory';
import { usageError, type Program } from '../main.js';

export interface InitOptions {
  role: string;
  server: string;
  tree: string;
  dir: string;
  parent?: string;
  listen?: string;
  tls: boolean;
  /** Names the Receiver's certificate is valid for besides the default ones (DNS names or IP addresses). */
  tlsName?: string[];
  force?: boolean;
  /** The parent's CA or self-signed certificate; copied to `tls/parent-ca.crt` for `sender.tls.ca`. */
  parentCa?: string;
  /** A directory to log to; `init` then publishes the new public key on the server's object. */
  directory?: { url: string | string[]; bindDN: string; passwordFile: string; serviceDN?: string };
  retry?: { baseMs: number; factor: number; tries: number };
}

/** Where `init` keeps its copy of `--parent-ca`, relative to the folder: the original may live in /tmp. */
export const PARENT_CA_PATH = 'tls/parent-ca.crt';

/**
 * `$schema` of a config in `dir`: the JSON Schema shipped in the installed
 * @zenroll/core, by a path relative to the config file. Editors resolve a
 * `$schema` that starts with `.` against the file (VS Code only such a one), and a
 * relative path keeps working when the folders move together; no URL, as the
 * schema must match the installed version and the machine may be offline.
 */
export function schemaReference(dir: string): string {
  const rel = relative(resolve(dir), configSchemaPath()).split(sep).join('/');
  return rel.startsWith('../') ? rel : `./${rel}`;
}

/** The config a new server starts with: only what its role needs, every path relative to the folder. */
export function initialConfig(o: InitOptions): Record<string, unknown> {
  const info = roleInfo(checkedRole(o.role));
  const dirs: Record<string, string> = {};
  if (info.ownScans) dirs.entmergedir = 'entmergedir';
  if (info.sender || info.receiver) dirs.entpushdir = 'entpushdir';
  if (info.promotesTo.includes('dbdir')) dirs.dbdir = 'dbdir';
  const json: Record<string, unknown> = { $schema: schemaReference(o.dir), server: o.server, tree: o.tree, role: o.role, dirs };
  if (info.sender) {
    json.sender = {
      parent: o.parent ?? null,
      schedule: '0 2 * * *',
      timezone: 'UTC',
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.parentCa ? { tls: { ca: PARENT_CA_PATH } } : {}),
    };
  }
  if (info.receiver) {
    json.receiver = {
      listen: o.listen ?? '0.0.0.0:7099',
      tls: o.tls ? { cert: 'tls/server.crt', key: 'tls/server.key' } : false,
      trustDir: 'trust',
    };
  }
  json.keys = { private: 'keys/server.key', public: 'keys/server.pub' };
  if (o.directory) {
    json.directory = {
      url: o.directory.url,
      bindDN: o.directory.bindDN,
      passwordFile: resolve(o.directory.passwordFile),
      ...(o.directory.serviceDN ? { serviceDN: o.directory.serviceDN } : {}),
    };
  }
  return json;
}

export interface InitResult {
  config: Config;
  /** What the Receiver's new certificate lists in subjectAltName; null without one. */
  certificateNames: string[] | null;
}

/** The certificates of `--parent-ca`, checked before anything is written. */
async function readParentCa(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = fsError(err, 'read --parent-ca', path);
    throw new ZenrollError('USAGE', e.message, { cause: err });
  }
  const parsed = parsePemCertificates(text);
  if (!parsed.ok) throw usageError(`--parent-ca ${JSON.stringify(path)} is not a PEM certificate: ${parsed.problem}`);
  return parsed.pem;
}

export async function init(o: InitOptions): Promise<Config> {
  return (await initServer(o)).config;
}

function checkedRole(role: string): Role {
  if (!isOneOf(ROLES, role)) throw usageError(`role ${JSON.stringify(role)} is not one of ${ROLES.join(', ')}`);
  return role;
}

export async function initServer(o: InitOptions): Promise<InitResult> {
  const role = checkedRole(o.role);
  try {
    checkName('server', o.server);
    checkName('tree', o.tree);
  } catch (err) {
    throw usageError(messageOf(err));
  }
  const info = roleInfo(role);
  if (info.sender && !o.parent) throw usageError(`role ${o.role} sends to a parent: give --parent https://HOST:7099`);
  const given = o.tlsName ?? [];
  if (given.length > 0 && (!info.receiver || !o.tls)) {
    throw usageError(`--tls-name names the Receiver's certificate, and role ${o.role}${info.receiver ? ' with --no-tls' : ''} has none`);
  }
  for (const name of given) {
    const problem = tlsNameProblem(name);
    if (problem !== null) throw usageError(`--tls-name ${problem}`);
  }
  if (o.parentCa && !info.sender) throw usageError(`--parent-ca is for roles that send, and role ${o.role} has no parent`);
  const parentCaPem = o.parentCa ? await readParentCa(o.parentCa) : null;
  const dir = resolve(o.dir);
  const configPath = join(dir, 'zenroll.json');
  if (!o.force && (await pathExists(configPath))) {
    throw new ZenrollError('USAGE', `${configPath} exists already; remove it or pass --force to start over`);
  }
  const json = initialConfig(o);
  const parsed = parseConfig(json, dir);
  if (!parsed.ok) throw usageError(`the options make an invalid config:\n${formatConfigErrors(parsed.errors)}`);
  const config = parsed.config;

  await ensureDir(dir);
  const folders = [config.dirs.entmergedir, config.dirs.entpushdir, config.dirs.dbdir, config.dirs.statedir];
  if (config.dirs.entpushdir) folders.push(config.dirs.zipdir, config.dirs.rejecteddir);
  if (info.receiver) folders.push(config.receiver.trustDir);
  folders.push(dirname(config.keys.private), dirname(config.keys.public));
  for (const folder of folders) if (folder) await ensureDir(folder);

  const pair = generateKeyPair();
  await saveKeyPair(pair, config.keys.private, config.keys.public);
  const tls = config.receiver.tls;
  let names: string[] | null = null;
  if (info.receiver && tls !== false) {
    // parseConfig checked receiver.listen: it splits (init writes one HOST:PORT).
    const listenHost = receiverListeners(config.receiver)[0]?.host ?? null;
    names = certificateNames({ given, machine: await machineNames(), listenHost });
    await makeCertificate({ certPath: tls.cert, keyPath: tls.key, hosts: names, commonName: o.server });
  }
  if (parentCaPem !== null && config.sender.tls.ca !== null) {
    await ensureDir(dirname(config.sender.tls.ca));
    await writeFileDurable(config.sender.tls.ca, parentCaPem);
  }
  await writeFileDurable(configPath, `${JSON.stringify(json, null, 2)}\n`);
  // SPEC §4: Receivers trust keys published on Inventory Service objects.
  const directory = openDirectory(config);
  if (directory !== null) {
    try {
      await directory.publishPublicKey(config.server, publicKeyPem(pair.publicKey));
    } finally {
      await directory.close();
    }
  }
  return { config, certificateNames: names };
}

export function registerInit(p: Program): void {
  p.command
    .command('init')
    .description("write DIR/zenroll.json, the server's Ed25519 key pair, a TLS certificate and its folders")
    .requiredOption('--role <role>', `the server's role: ${ROLES.join(', ')}`)
    .requiredOption('--server <name>', "the server's name (any Unicode; it is percent-encoded in file names)")
    .requiredOption('--tree <name>', "the directory tree's name")
    .requiredOption('--dir <dir>', 'the folder that will hold everything of this server')
    .option('--parent <url>', "the parent Receiver's URL, for roles that send (https://HOST:7099)")
    .option('--listen <host:port>', 'where the Receiver listens, for roles that receive', '0.0.0.0:7099')
    .option('--no-tls', 'serve plain HTTP (only inside a trusted network)')
    .option(
      '--tls-name <name>',
      'a DNS name or IP address children use to reach this Receiver, for its certificate (repeatable; the host name, the --listen host and localhost are in anyway)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--force', 'overwrite an existing zenroll.json and keys')
    .option('--parent-ca <file>', `the parent's CA (or self-signed) certificate; copied to DIR/${PARENT_CA_PATH} for sender.tls.ca`)
    .option('--ldap-url <url>', 'log to this LDAP directory (ldap:// or ldaps://) and publish the public key there')
    .option('--bind-dn <dn>', "the server's DN in the directory (with --ldap-url)")
    .option('--password-file <file>', 'a file holding the bind password (with --ldap-url)')
    .addHelpText(
      'after',
      '\nExample:\n  zenroll init --role leaf --server LEAF1 --tree ACME --dir /srv/zenroll --parent https://int1.acme.example:7099\n',
    )
    .action(
      p.action(async (o: InitOptions & { ldapUrl?: string; bindDn?: string; passwordFile?: string }) => {
        o.dir = resolve(p.io.cwd, o.dir);
        if (o.parentCa) o.parentCa = resolve(p.io.cwd, o.parentCa);
        if (o.ldapUrl) {
          if (!o.bindDn || !o.passwordFile) throw usageError('--ldap-url needs --bind-dn and --password-file');
          o.directory = { url: o.ldapUrl, bindDN: o.bindDn, passwordFile: resolve(p.io.cwd, o.passwordFile) };
        }
        const { config, certificateNames: names } = await initServer(o);
        const rel = (path: string | null) => path ?? '-';
        const tls = config.receiver.tls;
        p.io.out(
          [
            `initialised ${config.role} ${config.server} (tree ${config.tree}) in ${resolve(o.dir)}`,
            `  config       ${join(resolve(o.dir), 'zenroll.json')}`,
            // Only a server that sends has a parent to give its key to (a root signs for no one above it).
            `  public key   ${config.keys.public}${roleInfo(config.role).sender ? `   (give this to the parent: zenroll trust add --name ${config.server} on it)` : ''}`,
            `  entmergedir  ${rel(config.dirs.entmergedir)}`,
            `  entpushdir   ${rel(config.dirs.entpushdir)}`,
            `  dbdir        ${rel(config.dirs.dbdir)}`,
            ...(names !== null && tls !== false
              ? [`  certificate  ${tls.cert}   (valid for ${names.join(', ')}; more with --tls-name)`]
              : []),
            ...(config.sender.tls.ca !== null ? [`  parent CA    ${config.sender.tls.ca}   (a copy of --parent-ca)`] : []),
            '',
          ].join('\n'),
        );
      }),
    );
}
