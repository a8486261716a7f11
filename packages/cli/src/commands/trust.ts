/** `zenroll trust add PUBKEY.pem`: a child's public key into this server's trust store (SPEC §4). */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  ZenrollError,
  ensureDir,
  fsError,
  isZenrollError,
  keyIdOf,
  loadConfig,
  parsePublicKeyPem,
  publicKeyPem,
  roleInfo,
  writeFileDurable,
  TrustStore,
} from '@zenroll/core';
import { usageError, type Program } from '../main.js';

export async function trustAdd(configPath: string, pemPath: string, name?: string): Promise<{ keyId: string; path: string; already: boolean }> {
  const config = await loadConfig(configPath);
  // A trust store only matters to a Receiver; on any other role the key would sit there unused.
  if (!roleInfo(config.role).receiver) {
    throw usageError(`${config.server} is a ${config.role}, which receives nothing: add the key on its parent, the server that receives its zips`);
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
    throw new ZenrollError('KEY_INVALID', `${err.message}: give the child's public key file (keys/server.pub in its folder)`, { cause: err });
  }
  const keyId = keyIdOf(key);
  const dir = config.receiver.trustDir;
  await ensureDir(dir);
  const known = (await TrustStore.fromDir(dir)).entries().find((e) => e.keyId === keyId);
  if (known) return { keyId, path: known.source, already: true };
  // The key id names the file unless told otherwise: two children can never overwrite each other.
  const file = join(dir, `${(name ?? keyId).replace(/[^A-Za-z0-9._-]/g, '_')}.pub`);
  await writeFileDurable(file, publicKeyPem(key));
  return { keyId, path: file, already: false };
}

export function registerTrust(p: Program): void {
  const trust = p.command
    .command('trust')
    .description("manage this server's trust store (the keys whose zips it accepts)")
    .addHelpText('after', '\nExample:\n  zenroll trust add -c /srv/zenroll/zenroll.json --name LEAF1 leaf1-server.pub\n');
  trust
    .command('add')
    .description("trust a child server's public key (its keys/server.pub)")
    .argument('<pubkey>', 'the PEM public key file')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--name <name>', 'file name in the trust folder (default: the key id)')
    .addHelpText('after', '\nExample:\n  zenroll trust add -c /srv/zenroll/zenroll.json --name LEAF1 leaf1-server.pub\n')
    .action(
      p.action(async (pubkey: string, o: { config: string; name?: string }) => {
        const r = await trustAdd(resolve(p.io.cwd, o.config), resolve(p.io.cwd, pubkey), o.name);
        p.io.out(r.already ? `key ${r.keyId} is trusted already (${r.path})\n` : `trusted key ${r.keyId}: ${r.path}\n`);
      }),
    );
}
