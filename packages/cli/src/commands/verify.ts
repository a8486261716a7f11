/** `zenroll verify ZIP`: name, structure, digests and signature (SPEC §5). */
import { basename, resolve } from 'node:path';
import {
  TrustStore,
  ZenrollError,
  isZenrollError,
  loadConfig,
  loadPublicKey,
  verifyOuterZip,
  fieldOf,
  messageOf,
  type VerifiedZip,
} from '@zenroll/core';
import { EXIT_FAILED, describeError } from '../exit.js';
import type { Program } from '../main.js';

interface VerifyOptions {
  trust?: string;
  config?: string;
  json?: boolean;
}

/** The keys to trust, each bound to its server: --trust DIR, else the config's trust store and own key. */
async function trustFor(o: VerifyOptions, cwd: string): Promise<TrustStore> {
  if (o.trust) return TrustStore.fromDir(resolve(cwd, o.trust));
  const config = await loadConfig(resolve(cwd, o.config ?? 'zenroll.json')).catch((err: unknown) => {
    if (!isZenrollError(err, 'CONFIG_NOT_FOUND')) throw err;
    throw new ZenrollError('CONFIG_NOT_FOUND', err.message, {
      cause: err,
      details: { fix: 'give --trust DIR (a folder of <server>.pub keys) to verify without a config, or -c FILE' },
    });
  });
  const store = await TrustStore.fromDir(config.receiver.trustDir);
  store.add(await loadPublicKey(config.keys.public), config.keys.public, config.server);
  return store;
}

function describe(v: VerifiedZip): string {
  const lines = [
    `ok ${v.name.scheduledtime}_… from ${v.name.server} (origin tree ${v.prp.tree}, tree ${v.name.tree}, status ${v.name.status})`,
    `  scheduled ${v.prp.created}, signed by key ${v.prp.keyId}, ${v.files.length} .str, ${v.bytes} bytes`,
    ...v.files.map((f) => `  ${String(f.size).padStart(10)}  ${f.name}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function registerVerify(p: Program): void {
  p.command
    .command('verify')
    .description('check a zip: name, structure, digests and signature; list the .str inside')
    .argument('<zip>', 'the outer zip')
    .option(
      '--trust <dir>',
      "trust the *.pub keys in this folder, each for the server its file name encodes (default: the config's trust store and own key)",
    )
    .option('-c, --config <file>', 'config file, for its trust store', 'zenroll.json')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  zenroll verify --trust ./trust 20261122103000000_LEAF1_ACME_0.zip\n')
    .action(
      p.action(async (zip: string, o: VerifyOptions) => {
        const path = resolve(p.io.cwd, zip);
        const trust = await trustFor(o, p.io.cwd);
        try {
          const v = await verifyOuterZip(path, { trust: trust.lookup });
          if (o.json) {
            p.io.out(
              `${JSON.stringify({ ok: true, zip: basename(path), ...v.name, created: v.prp.created, keyId: v.prp.keyId, originTree: v.prp.tree, bytes: v.bytes, files: v.files })}\n`,
            );
          } else {
            p.io.out(describe(v));
          }
          return 0;
        } catch (err) {
          if (o.json) {
            const code = fieldOf(err, 'code');
            p.io.out(
              `${JSON.stringify({ ok: false, zip: basename(path), error: typeof code === 'string' ? code : 'INTERNAL', message: messageOf(err) })}\n`,
            );
          } else {
            p.io.err(describeError(err));
          }
          return EXIT_FAILED;
        }
      }),
    );
}
