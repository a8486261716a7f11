/**
 * What the directory gives the Sender and the Receiver besides the log
 * (SPEC §4, §6, §7): the parent's discard scan data time, this server's own
 * (announced on `/v1/info`; the directory's value wins over the config's),
 * and the public keys published on Inventory Service objects. Without a
 * directory all three fall back to the config and `GET /v1/info`.
 */
import { TrustStore, parsePublicKeyPem, messageOf, type Config } from '@zenroll/core';
import { openDirectory, type LdapDirectory } from '@zenroll/directory';
import type { ExtraKeySource } from '@zenroll/receiver';
import type { DiscardSource } from '@zenroll/sender';
import { ttlCache } from './ttl-cache.js';

// Loaded by the roll-up that calls it: a Receiver-only service never loads the Sender (undici).
const infoDiscardSource: DiscardSource = async (ctx) => (await import('@zenroll/sender')).infoDiscardSource(ctx);

export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface DirectorySources {
  discardSource: DiscardSource;
  /** For the Receiver's `/v1/info`. */
  discardBefore: () => Promise<string | null>;
  extraKeys: ExtraKeySource | undefined;
  close(): Promise<void>;
}

/** How long the published keys are remembered before LDAP is asked again. */
const KEYS_TTL_MS = 60_000;
/**
 * How long the Receiver's own discard time is remembered for `/v1/info`: every
 * child polls it (SPEC §8), 200 children at 60 s made 3.3 LDAP reads a second
 * for a value an operator changes a few times a year.
 */
export const DISCARD_TTL_MS = 30_000;

/** Each published key bound to the server whose object it is on (SPEC §4: the signature proves the origin). */
function publishedKeys(dir: LdapDirectory, logger: WarnLogger, now: () => number): ExtraKeySource {
  const published = ttlCache(
    async () => {
      const keys = new TrustStore();
      for (const { server, pem } of await dir.listPublicKeys()) {
        try {
          keys.add(parsePublicKeyPem(pem, `the public key published for ${server}`), `the directory object of ${server}`, server);
        } catch (err) {
          logger.warn({ server, err: messageOf(err) }, 'a published public key is not usable');
        }
      }
      return keys;
    },
    KEYS_TTL_MS,
    now,
  );
  return {
    // A key id not among those remembered asks LDAP again at once: a key published a moment ago signs the next zip.
    lookup: async (keyId) => (await published.get((keys) => keys.lookup(keyId) === undefined)).lookup(keyId),
  };
}

export function directorySources(config: Config, logger: WarnLogger, now: () => number = Date.now): DirectorySources {
  const dir = openDirectory(config);
  if (dir === null) {
    return {
      discardSource: infoDiscardSource,
      discardBefore: async () => config.receiver.discardBefore,
      extraKeys: undefined,
      close: async () => {},
    };
  }
  // Only a value the directory gave is remembered: after a failed read the next call asks again.
  const ownDiscard = ttlCache(
    async () => (await dir.readDiscardBefore(config.server))?.toISOString() ?? config.receiver.discardBefore,
    DISCARD_TTL_MS,
    now,
  );
  return {
    // SPEC §7: the Sender reads the discard time from its parent's object; /v1/info when the directory does not answer.
    async discardSource(ctx) {
      const parent = await ctx.parentInfo();
      try {
        return await dir.readDiscardBefore(parent.server);
      } catch (err) {
        logger.warn(
          { parent: parent.server, err: messageOf(err) },
          "the parent's discard time could not be read from the directory; using its /v1/info",
        );
        return infoDiscardSource(ctx);
      }
    },
    async discardBefore() {
      try {
        return await ownDiscard.get();
      } catch (err) {
        logger.warn({ err: messageOf(err) }, 'the discard time could not be read from the directory; announcing the configured one');
        return config.receiver.discardBefore;
      }
    },
    extraKeys: publishedKeys(dir, logger, now),
    close: () => dir.close(),
  };
}
