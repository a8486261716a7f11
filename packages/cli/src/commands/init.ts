/**
 * `zenroll init`: a new server's config, key pair, TLS certificate and
 * folders, in one folder that is all its state (SPEC §5).
 */
import { access, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  ROLES,
  ZenrollError,
  checkName,
  formatConfigErrors,
  generateKeyPair,
  makeCertificate,
  publicKeyPem,
  parseConfig,
  roleInfo,
  saveKeyPair,
  writeFileDurable,
  type Config,
  type Role,
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
  force?: boolean;
  /** The parent's CA or self-signed certificate, for `sender.tls.ca`. */
  parentCa?: string;
  /** A directory to log to; `init` then publishes the new public key on the server's object. */
  directory?: { url: string; bindDN: string; passwordFile: string; serviceDN?: string };
  retry?: { baseMs: number; factor: number; tries: number };
}

/** The config a new server starts with: only what its role needs, every path relative to the folder. */
export function initialConfig(o: InitOptions): Record<string, unknown> {
  const info = roleInfo(o.role as Role);
  const dirs: Record<string, string> = {};
  if (info.ownScans) dirs.entmergedir = 'entmergedir';
  if (info.sender || info.receiver) dirs.entpushdir = 'entpushdir';
  if (info.promotesTo.includes('dbdir')) dirs.dbdir = 'dbdir';
  const json: Record<string, unknown> = { server: o.server, tree: o.tree, role: o.role, dirs };
  if (info.sender) {
    json.sender = {
      parent: o.parent ?? null,
      schedule: '0 2 * * *',
      timezone: 'UTC',
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.parentCa ? { tls: { ca: resolve(o.parentCa) } } : {}),
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

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function init(o: InitOptions): Promise<Config> {
  if (!(ROLES as readonly string[]).includes(o.role)) {
    throw usageError(`role ${JSON.stringify(o.role)} is not one of ${ROLES.join(', ')}`);
  }
  try {
    checkName('server', o.server);
    checkName('tree', o.tree);
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const info = roleInfo(o.role as Role);
  if (info.sender && !o.parent) throw usageError(`role ${o.role} sends to a parent: give --parent https://HOST:7099`);
  const dir = resolve(o.dir);
  const configPath = join(dir, 'zenroll.json');
  if (!o.force && (await exists(configPath))) {
    throw new ZenrollError('USAGE', `${configPath} exists already; remove it or pass --force to start over`);
  }
  const json = initialConfig(o);
  const parsed = parseConfig(json, dir);
  if (!parsed.ok) throw usageError(`the options make an invalid config:\n${formatConfigErrors(parsed.errors)}`);
  const config = parsed.config;

  await mkdir(dir, { recursive: true });
  const folders = [config.dirs.entmergedir, config.dirs.entpushdir, config.dirs.dbdir, config.dirs.statedir];
  if (config.dirs.entpushdir) folders.push(config.dirs.zipdir, config.dirs.rejecteddir);
  if (info.receiver) folders.push(config.receiver.trustDir);
  folders.push(dirname(config.keys.private), dirname(config.keys.public));
  for (const folder of folders) if (folder) await mkdir(folder, { recursive: true });

  const pair = generateKeyPair();
  await saveKeyPair(pair, config.keys.private, config.keys.public);
  const tls = config.receiver.tls;
  if (info.receiver && tls !== false) {
    const host = config.receiver.listen.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const hosts = ['localhost', '127.0.0.1', '::1', ...(host === '0.0.0.0' || host === '::' ? [] : [host])];
    await makeCertificate({ certPath: tls.cert, keyPath: tls.key, hosts: [...new Set(hosts)], commonName: o.server });
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
  return config;
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
    .option('--force', 'overwrite an existing zenroll.json and keys')
    .option('--parent-ca <file>', "the parent's CA (or self-signed) certificate, for sender.tls.ca")
    .option('--ldap-url <url>', 'log to this LDAP directory (ldap:// or ldaps://) and publish the public key there')
    .option('--bind-dn <dn>', "the server's DN in the directory (with --ldap-url)")
    .option('--password-file <file>', 'a file holding the bind password (with --ldap-url)')
    .addHelpText('after', '\nExample:\n  zenroll init --role leaf --server LEAF1 --tree ACME --dir /srv/zenroll --parent https://int1.acme.example:7099\n')
    .action(
      p.action(async (o: InitOptions & { ldapUrl?: string; bindDn?: string; passwordFile?: string }) => {
        o.dir = resolve(p.io.cwd, o.dir);
        if (o.parentCa) o.parentCa = resolve(p.io.cwd, o.parentCa);
        if (o.ldapUrl) {
          if (!o.bindDn || !o.passwordFile) throw usageError('--ldap-url needs --bind-dn and --password-file');
          o.directory = { url: o.ldapUrl, bindDN: o.bindDn, passwordFile: resolve(p.io.cwd, o.passwordFile) };
        }
        const config = await init(o);
        const rel = (path: string | null) => path ?? '-';
        p.io.out(
          [
            `initialised ${config.role} ${config.server} (tree ${config.tree}) in ${resolve(o.dir)}`,
            `  config       ${join(resolve(o.dir), 'zenroll.json')}`,
            `  public key   ${config.keys.public}   (give this to the parent: zenroll trust add)`,
            `  entmergedir  ${rel(config.dirs.entmergedir)}`,
            `  entpushdir   ${rel(config.dirs.entpushdir)}`,
            `  dbdir        ${rel(config.dirs.dbdir)}`,
            '',
          ].join('\n'),
        );
      }),
    );
}
