/**
 * `zenroll serve` (SPEC §5): the long-running service of a server — the
 * Receiver, the scheduled Sender and the admin endpoint, as its role needs
 * (service/service.ts). Structured logs (pino, one JSON object a line) go to
 * stdout; SIGTERM or SIGINT stops it cleanly with exit code 0.
 */
import { resolve } from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { loadConfig, roleInfo, ZenrollError, type Config } from '@zenroll/core';
import { startService, type ServiceOptions } from '../service/service.js';
import type { Io } from '../io.js';
import type { Program } from '../main.js';

export interface ServeOptions {
  config: string;
  standby?: boolean;
}

/** The pino logger of the service, writing through the command's stdout. */
export function serviceLogger(io: Io, config: Pick<Config, 'server' | 'role'>): PinoLogger {
  const level = io.env.ZENROLL_LOG_LEVEL ?? 'info';
  return pino({ level, base: { server: config.server, role: config.role } }, { write: (line: string) => io.out(line) });
}

/** Resolves on the first SIGTERM or SIGINT; `dispose` removes the handlers. */
function stopSignal(): { stopped: Promise<NodeJS.Signals>; dispose: () => void } {
  let dispose = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const on = (signal: NodeJS.Signals) => resolve(signal);
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    dispose = () => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    };
  });
  return { stopped, dispose };
}

/** Start the service of the config's role; run until `stopped` resolves; then stop it cleanly. */
export async function runService(
  config: Config,
  logger: PinoLogger,
  stopped: Promise<unknown>,
  options: ServiceOptions = {},
): Promise<void> {
  const role = roleInfo(config.role);
  if (!role.receiver && !role.sender) {
    throw new ZenrollError('USAGE', `role "${config.role}" neither sends nor receives (docs/SPEC.md §2): there is no service to run`);
  }
  // A standby waits for the lock (SPEC §9) until it gets it or is told to stop.
  const waiting = new AbortController();
  void stopped.then(() => waiting.abort(new Error('stopped while waiting for serve.lock')));
  let service;
  try {
    service = await startService(config, logger, { ...options, signal: waiting.signal });
  } catch (err) {
    if (waiting.signal.aborted && err === waiting.signal.reason) {
      logger.info({}, 'stopped while standing by');
      return;
    }
    throw err;
  }
  try {
    logger.info({ pid: process.pid, url: service.receiver?.url ?? null, admin: service.admin.socket }, 'serving');
    const why = await Promise.race([stopped.then((signal) => ({ signal })), service.lost.then((err) => ({ err }))]);
    if ('err' in why) {
      // Exit 1 (systemd restarts it, and the new process waits for the lock): never two services on one server's folders.
      logger.fatal({ code: why.err.code, err: why.err.message }, 'lock lost: stopping');
      throw why.err;
    }
    logger.info({ signal: why.signal }, 'stopping');
  } finally {
    await service.close();
  }
  logger.info({}, 'stopped');
}

export function registerServe(p: Program): void {
  p.command
    .command('serve')
    .description(
      'run the service for the role: the Receiver (HTTPS, docs/SPEC.md §4), the scheduled Sender, the admin endpoint; stops on SIGTERM/SIGINT',
    )
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--standby', 'wait for the lock instead of exiting when another node runs this server, then take over (docs/SPEC.md §9)')
    .addHelpText(
      'after',
      '\nExamples:\n  zenroll serve -c /srv/zenroll/zenroll.json\n  ZENROLL_NODE=node-b zenroll serve --standby -c /shared/zenroll/zenroll.json\n\nLogs are JSON lines on stdout (ZENROLL_LOG_LEVEL=debug for more).\n',
    )
    .action(
      p.action(async (o: ServeOptions) => {
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        const logger = serviceLogger(p.io, config);
        const { stopped, dispose } = stopSignal();
        try {
          await runService(config, logger, stopped, o.standby ? { standby: true } : {});
        } finally {
          dispose();
        }
      }),
    );
}
