/**
 * `startReceiver`: recover what a crash left, then listen (SPEC §4). The
 * caller (`zenroll serve`) owns the lock on the folders and the log.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  ZenrollError,
  ensureDir,
  freeSpace as realFreeSpace,
  receiverListeners,
  roleInfo,
  type Config,
  type FreeSpace,
  type HealthReport,
  type HealthResult,
  type ReceiverInfo,
  type RollupLog,
  listenError,
  parseSenderHeader,
} from '@zenroll/core';
import { silentLogger, type Logger } from './logger.js';
import { Promoter, type PromoteTargetDir } from './promote.js';
import { ReceiptStore } from './receipts.js';
import { recover } from './recovery.js';
import { createReceiverServer, receiverHealth } from './server.js';
import { UploadSlots } from './slots.js';
import { currentTrust, keyTrustedFor, type ExtraKeySource } from './trust.js';
import type { UploadContext } from './upload.js';

export interface ReceiverDeps {
  log: RollupLog;
  logger?: Logger;
  now?: () => number;
  /** Keys published elsewhere (the directory), asked for a signer the trust store does not know. */
  extraKeys?: ExtraKeySource;
  /** The discard scan data time to announce; default `receiver.discardBefore` (the directory's value wins, SPEC §6). */
  discardBefore?: () => Promise<string | null>;
  /** Default: the file system's own figure. */
  freeSpace?: (dir: string) => Promise<FreeSpace>;
  /** How often expired receipts are swept and failed promotions tried again; default 10 minutes. */
  maintenanceMs?: number;
  /** Called once a zip is promoted to every target of the role (`name`: as it came in). */
  onPromoted?: (name: string) => void;
  /** The roll-up request `/v1/info` carries (SPEC §8), or null. */
  rollupRequested?: () => string | null;
  /** Told of each `GET /v1/info` (a child's poll), with its headers; never delays the answer. */
  onInfo?: (req: IncomingMessage) => void;
  /** The service's health report, answered on this port's /v1/health too (SPEC §9); default the Receiver's own check. */
  health?: () => Promise<HealthReport>;
}

export interface RunningReceiver {
  /** The first listener's URL. */
  url: string;
  /** Every listener's URL, in the order of receiver.listen. */
  urls: string[];
  port: number;
  /** Resolves when no upload is in flight and every queued promotion is done. */
  idle(): Promise<void>;
  /** The Receiver's health check (`receiver`): could it accept an upload now? */
  health(): Promise<HealthResult>;
  /** Stop accepting, abort uploads still receiving (no partial file stays), finish the current promotion, close every socket. */
  close(): Promise<void>;
}

function required(value: string | null, key: string, role: string): string {
  if (value === null) throw new ZenrollError('CONFIG_INVALID', `${key} is required for role "${role}"`);
  return value;
}

function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => reject(listenError('receiver.listen', host, port, err));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      // biome-ignore lint/nursery/noUnsafeTypeAssertion: a server listening on a host and port has an AddressInfo (a string is for pipes)
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startReceiver(config: Config, deps: ReceiverDeps): Promise<RunningReceiver> {
  const role = roleInfo(config.role);
  if (!role.receiver) throw new ZenrollError('CONFIG_INVALID', `role "${config.role}" has no Receiver (docs/SPEC.md §2)`);
  const r = config.receiver;
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? Date.now;
  const freeSpace = deps.freeSpace ?? realFreeSpace;
  const zipdir = required(config.dirs.zipdir, 'dirs.entpushdir', config.role);
  const targets: PromoteTargetDir[] = role.promotesTo.map((target) => ({
    target,
    dir: required(config.dirs[target], `dirs.${target}`, config.role),
  }));
  // One or more listeners, each with or without TLS (SPEC §9: 7099 with TLS beside 2099 without).
  const listeners = receiverListeners(r);
  const trust = {
    trustDir: r.trustDir,
    ownPublicKey: config.keys.public,
    ownServer: config.server,
    ...(deps.extraKeys === undefined ? {} : { extraKeys: deps.extraKeys }),
  };
  // A missing own key or a bad file in trustDir would refuse every upload: say so now.
  const unbound = (await currentTrust(trust)).unbound();
  if (unbound.length > 0) {
    logger.warn(
      { keys: unbound.map((e) => ({ keyId: e.keyId, file: e.source })) },
      `${unbound.length} key(s) in ${r.trustDir} are bound to no server and sign for any origin; re-add each with zenroll trust add --name SERVER`,
    );
  }
  for (const dir of [zipdir, config.dirs.statedir, ...targets.map((t) => t.dir), ...(r.quarantineDir === null ? [] : [r.quarantineDir])]) {
    await ensureDir(dir);
  }
  const receipts = await ReceiptStore.open(join(config.dirs.statedir, 'receipts'), { receiptDays: r.receiptDays, now });
  const promoter = new Promoter({
    server: config.server,
    tree: config.tree,
    hasDatabase: role.hasDatabase,
    zipdir,
    targets,
    receipts,
    log: deps.log,
    logger,
    now,
    ...(deps.onPromoted === undefined ? {} : { onPromoted: deps.onPromoted }),
  });
  const sweep = async () => {
    const { removed, problems } = await receipts.sweepExpired();
    if (removed.length > 0) logger.info({ receipts: removed.length }, 'expired receipts removed');
    for (const err of problems) logger.warn({ err }, 'a receipt could not be read');
  };

  let closing = false;
  const slots = new UploadSlots(r.maxConcurrentUploads, { queue: r.maxQueuedUploads, waitMs: r.queueWaitMs });
  const upload: UploadContext = {
    server: config.server,
    zipdir,
    promotionTargets: targets.length,
    maxZipBytes: r.maxZipBytes,
    maxClockSkewMs: r.maxClockSkewMs,
    minFreeBytes: r.minFreeBytes,
    idleMs: r.requestTimeoutMs,
    quarantineDir: r.quarantineDir,
    receipts,
    promoter,
    slots,
    trust,
    freeSpace,
    log: deps.log,
    logger,
    now,
    closing: () => closing,
  };
  const info = async (req: IncomingMessage): Promise<ReceiverInfo> => {
    deps.onInfo?.(req);
    // `?key=<key id>&server=<encoded name>`: a child asks whether its key is trusted here (issue 16).
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const key = query.get('key');
    const asker = parseSenderHeader(query.get('server') ?? undefined);
    const keyTrusted = key !== null && /^[0-9a-f]{32}$/.test(key) && asker !== null ? await keyTrustedFor(trust, key, asker) : undefined;
    return {
      server: config.server,
      tree: config.tree,
      role: config.role,
      discardBefore: deps.discardBefore === undefined ? r.discardBefore : await deps.discardBefore(),
      maxZipBytes: r.maxZipBytes,
      rollupRequested: deps.rollupRequested?.() ?? null,
      ...(keyTrusted === undefined ? {} : { keyTrusted }),
    };
  };
  // Made (TLS files read) before recovery starts promotions, listening once recovery is done.
  const ctx = { upload, info, freeSpace, logger, ...(deps.health === undefined ? {} : { serviceHealth: deps.health }) };
  const servers: Server[] = [];
  for (const l of listeners) servers.push(await createReceiverServer(ctx, { tls: l.tls ? r.tls : false, timeoutMs: r.requestTimeoutMs }));
  const urls: string[] = [];
  let firstPort = 0;
  try {
    await recover({
      zipdir,
      targets,
      tree: config.tree,
      hasDatabase: role.hasDatabase,
      quarantineDir: r.quarantineDir,
      receipts,
      promoter,
      logger,
    });
    await sweep();
    for (const [i, l] of listeners.entries()) {
      const server = servers[i];
      if (server === undefined) continue;
      const address = await listenOn(server, l.host, l.port);
      if (i === 0) firstPort = address.port;
      urls.push(`${l.tls ? 'https' : 'http'}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${address.port}`);
    }
  } catch (err) {
    for (const server of servers) server.close();
    await promoter.stop();
    throw err;
  }
  const timer = setInterval(() => {
    promoter.retryFailed();
    sweep().catch((err: unknown) => logger.error({ err }, 'sweeping expired receipts failed'));
  }, deps.maintenanceMs ?? 600_000);
  timer.unref();

  const url = urls[0] ?? '';
  logger.info(
    {
      url,
      ...(urls.length > 1 ? { urls } : {}),
      zipdir,
      targets: targets.map((t) => t.dir),
      mutualTls: r.tls !== false && r.tls.clientCa !== null,
    },
    'receiver listening',
  );

  let closed: Promise<void> | undefined;
  return {
    url,
    port: firstPort,
    urls,
    async health() {
      const { freeBytes: _, ...r } = await receiverHealth(upload, freeSpace);
      return r;
    },
    async idle() {
      // An upload queues its promotion before its handler ends: wait for both until neither has work.
      while (slots.inFlight > 0 || promoter.pending > 0) {
        await slots.settled();
        await promoter.idle();
      }
    },
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        const stopped = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
        await slots.abortAll();
        for (const server of servers) server.closeAllConnections();
        await promoter.stop();
        await stopped;
        logger.info({ url }, 'receiver stopped');
      })();
      return closed;
    },
  };
}
