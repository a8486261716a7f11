/**
 * What commands share: the one way to open this server's roll-up log from its
 * config (the journal, applied to the directory when one is configured).
 */
import { isZenrollError, ZenrollError, type Config } from '@zenroll/core';
import { openLog, type Logger, type ZenrollLog } from '@zenroll/directory';

export interface LogForOptions {
  logger?: Logger;
  /** Only read (zenroll log, status): works beside a running service, writes nothing. */
  readOnly?: boolean;
  /** close() waits up to this long for the directory to take the backlog. */
  closeDrainMs?: number;
}

export async function openLogFor(config: Config, opts: LogForOptions = {}): Promise<ZenrollLog> {
  try {
    return await openLog(config, opts);
  } catch (err) {
    if (isZenrollError(err, 'LOCK_HELD')) {
      throw new ZenrollError(
        'LOCK_HELD',
        `the roll-up log journal of ${config.server} is in use (${err.message}): one process writes it, the running service if there is one`,
        { cause: err, details: err.details },
      );
    }
    throw err;
  }
}
