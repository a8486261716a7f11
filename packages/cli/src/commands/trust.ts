/** `zenroll trust add --name SERVER PUBKEY.pem`: a child's public key into this server's trust store, bound to the child (SPEC §4). */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  ZenrollError,
  OWN_KEY_STEM,
  ensureDir,
  fsError,
  isZenrollError,
  keyIdOf,
  loadConfig,
  parsePublicKeyPem,
  publicKeyPem,
  removeDurable,
  roleInfo,
  shown,
  trustFileName,
  writeFileDurable,
  TrustStore,
  messageOf,
} from '@zenroll/core';
import { openDirectory } from '@zenroll/directory';
import { usageError, type Program } from '../main.js';

export interface TrustAdded {
  keyId: string;
  server: string;
  path: string;
  already: boolean;
  /** Unbound files of the same key, removed: the bound file replaces them. */
  replaced: string[];
}

/**
 * Trust a child's key for batches of origin `server` only (SPEC §4: the
 * signature proves the origin), in `trustDir/<encoded server>.pub`. The name
 * is required: an unbound key could sign as any server. A key trusted for
 * another server, or another key trusted for this one, is refused rather than
 * replaced: either is a mistake to look at, not to overwrite.
 */
export async function trustAdd(configPath: string, pemPath: string, server?: string): Promise<TrustAdded> {
  const config = await loadConfig(configPath);
  // A trust store only matters to a Receiver; on any other role the key would sit there unused.
  if (!roleInfo(config.role).receiver) {
    throw usageError(
      `${config.server} is a ${config.role}, which receives nothing: add the key on its parent, the server that receives its zips`,
    );
  }
  if (server === undefined) {
    throw usageError(
      "--name SERVER is required: a trusted key signs only for the server it is bound to; give the child's server name, as in its zenroll.json",
    );
  }
  if (server === OWN_KEY_STEM) {
    throw usageError(
      `--name ${OWN_KEY_STEM}: ${OWN_KEY_STEM}.pub in a trust folder is a copied keys/server.pub, bound to no server; a server of that name cannot have its key bound`,
    );
  }
  let fileName: string;
  try {
    fileName = trustFileName(server);
  } catch (err) {
    if (!isZenrollError(err, 'NAME_INVALID')) throw err;
    throw usageError(`--name: ${err.message}`);
  }
  let pem: string;
  try {
    pem = await readFile(pemPath, 'utf8');
  } catch (err) {
    throw fsError(err, 'read public key', pemPath);
  }
  let key;
  try {
    key = parsePublicKeyPem(pem, `public key ${pemPath}`);
  } catch (err) {
    if (!isZenrollError(err, 'KEY_INVALID')) throw err;
    throw new ZenrollError('KEY_INVALID', `${err.message}: give the child's public key file (keys/server.pub in its folder)`, {
      cause: err,
    });
  }
  const keyId = keyIdOf(key);
  const dir = config.receiver.trustDir;
  await ensureDir(dir);
  const entries = (await TrustStore.fromDir(dir)).entries();
  const mine = entries.filter((e) => e.keyId === keyId);
  const file = join(dir, fileName);
  const other = mine.find((e) => e.server !== null && e.server !== server);
  if (other) {
    throw usageError(
      `key ${keyId} is trusted for ${shown(other.server)} already (${other.source}); one key signs for one server: give ${shown(server)} its own key (zenroll init makes one), or remove ${other.source} first`,
    );
  }
  const taken = entries.find((e) => e.server === server && e.keyId !== keyId);
  if (taken) {
    throw usageError(
      `${shown(server)} has another key trusted already (${taken.source}, key ${taken.keyId}); to replace it, remove that file first`,
    );
  }
  const unbound = mine.filter((e) => e.server === null).map((e) => e.source);
  const already = mine.some((e) => e.server === server);
  if (!already) await writeFileDurable(file, publicKeyPem(key));
  // Only once the bound file is durable: the key is trusted throughout.
  for (const path of unbound) await removeDurable(path);
  return { keyId, server, path: file, already: already && unbound.length === 0, replaced: unbound };
}

export interface TrustListed {
  server: string | null;
  keyId: string;
  /** `file`: a file in receiver.trustDir; `directory`: published on the server's Inventory Service object. */
  from: 'file' | 'directory';
  /** The file, or the directory object's server. */
  source: string;
}

async function receiverConfig(configPath: string) {
  const config = await loadConfig(configPath);
  if (!roleInfo(config.role).receiver) {
    throw usageError(`${config.server} is a ${config.role}, which receives nothing and trusts no key: its parent trusts its key`);
  }
  return config;
}

/** Every key this Receiver trusts (SPEC §4): its trust folder and, with a directory, the keys published there. */
export async function trustList(configPath: string, warn: (message: string) => void): Promise<TrustListed[]> {
  const config = await receiverConfig(configPath);
  const files = (await TrustStore.fromDir(config.receiver.trustDir))
    .entries()
    .map((e): TrustListed => ({ server: e.server, keyId: e.keyId, from: 'file', source: e.source }));
  const dir = openDirectory(config);
  if (dir === null) return files;
  try {
    const published = await dir.listPublicKeys();
    const listed = published.flatMap(({ server, pem }): TrustListed[] => {
      try {
        return [{ server, keyId: keyIdOf(parsePublicKeyPem(pem, `the key published for ${server}`)), from: 'directory', source: server }];
      } catch (err) {
        warn(`the key published for ${server} is not a key: ${messageOf(err)}`);
        return [];
      }
    });
    return [...files, ...listed];
  } catch (err) {
    warn(`the keys published in the directory could not be read (${messageOf(err)}); only the trust folder is listed`);
    return files;
  } finally {
    await dir.close();
  }
}

/** Stop trusting the key file bound to `server` (the directory's keys are the directory's: removed there). */
export async function trustRemove(configPath: string, server: string | undefined): Promise<string> {
  const config = await receiverConfig(configPath);
  if (server === undefined) throw usageError('--name SERVER is required: the server whose key this server should no longer trust');
  const entries = (await TrustStore.fromDir(config.receiver.trustDir)).entries().filter((e) => e.server === server);
  if (entries.length === 0) {
    throw usageError(`no key file in ${config.receiver.trustDir} is bound to ${shown(server)}; zenroll trust list shows what is trusted`);
  }
  for (const e of entries) await removeDurable(e.source);
  return entries.map((e) => e.source).join(', ');
}

export function registerTrust(p: Program): void {
  const trust = p.command
    .command('trust')
    .description("manage this server's trust store (the keys whose zips it accepts)")
    .addHelpText('after', '\nExample:\n  zenroll trust add -c /srv/zenroll/zenroll.json --name LEAF1 leaf1-server.pub\n');
  trust
    .command('add')
    .description("trust a child server's public key (its keys/server.pub) for batches of that server only")
    .argument('<pubkey>', 'the PEM public key file')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--name <server>', "the child's server name (required): the key signs only for it; the file is trustDir/<encoded name>.pub")
    .addHelpText('after', '\nExample:\n  zenroll trust add -c /srv/zenroll/zenroll.json --name LEAF1 leaf1-server.pub\n')
    .action(
      p.action(async (pubkey: string, o: { config: string; name?: string }) => {
        const r = await trustAdd(resolve(p.io.cwd, o.config), resolve(p.io.cwd, pubkey), o.name);
        const replaced = r.replaced.length > 0 ? ` (replaces unbound ${r.replaced.join(', ')})` : '';
        p.io.out(
          r.already
            ? `key ${r.keyId} is trusted for ${r.server} already (${r.path})\n`
            : `trusted key ${r.keyId} for ${r.server}: ${r.path}${replaced}\n`,
        );
      }),
    );
  trust
    .command('list')
    .description('the keys this server trusts: each with the server it signs for and where it comes from (file or directory)')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  zenroll trust list -c /srv/zenroll/zenroll.json\n')
    .action(
      p.action(async (o: { config: string; json?: boolean }) => {
        const list = await trustList(resolve(p.io.cwd, o.config), (m) => p.io.err(`zenroll: ${m}\n`));
        if (o.json) {
          p.io.out(`${JSON.stringify(list)}\n`);
          return;
        }
        if (list.length === 0) p.io.out('no key is trusted: add one with zenroll trust add --name CHILD CHILD.pub\n');
        for (const e of list) {
          p.io.out(`${(e.server ?? '(any server)').padEnd(16)} key ${e.keyId}  ${e.from === 'file' ? `file ${e.source}` : 'directory'}\n`);
        }
      }),
    );
  trust
    .command('remove')
    .description('stop trusting the key file bound to a server')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--name <server>', 'the server whose key file to remove (required)')
    .addHelpText('after', '\nExample:\n  zenroll trust remove -c /srv/zenroll/zenroll.json --name LEAF1\n')
    .action(
      p.action(async (o: { config: string; name?: string }) => {
        const removed = await trustRemove(resolve(p.io.cwd, o.config), o.name);
        p.io.out(`no longer trusted for ${o.name}: removed ${removed}\n`);
      }),
    );
}
