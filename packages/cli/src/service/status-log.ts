/**
 * The server status log (SPEC §7, `zenrollStatusLog`): the service's own
 * events — started, stopped, a config or start-up problem, a lock taken
 * over, a wake-up asked by the parent — as records of the same one-line form
 * as the roll-up log, through the same journal, trimmed the same way.
 *
 * The whole API is one function: `statusLog(event, note)`. It never throws
 * (a status record must never stop what it describes): a record that cannot
 * be journaled goes to the operational log instead.
 */
import { makeRecord, type Config, type RecordFactory, type RollupLog, type Severity, type StatusEvent } from '@zenroll/core';
import { openLogFor } from '../context.js';

export interface StatusNote {
  /** One sentence for a person: what happened and, for a problem, what to do. */
  message?: string;
  /** Default: `problem` error, `lock-taken` warning, the rest info. */
  severity?: Severity;
  /** More `key=value` fields, such as `version`, `role`, `schedule`, `node`. */
  fields?: Record<string, string | number>;
  /** The hop; default this server alone. A wake-up asked by the parent is `{ from: parent, to: server }`. */
  from?: string;
  to?: string;
}

/** Write one record on this server's status log. Never rejects. */
export type StatusLog = (event: StatusEvent, note?: StatusNote) => Promise<void>;

interface ErrorLogger {
  error(obj: object, msg: string): void;
}

/** The status log of `server`, written through `log` (the service's roll-up log journal). */
export function statusLog(log: RollupLog, server: string, logger: ErrorLogger, factory: RecordFactory = {}): StatusLog {
  return async (event, note = {}) => {
    const { fields, from, to, ...rest } = note;
    const record = makeRecord(
      { source: 'service', event, server, from: from ?? server, to: to ?? '', ...rest, ...(fields ? { fields } : {}) },
      factory,
    );
    try {
      await log.write({ record });
    } catch (err) {
      logger.error({ err, record }, `could not write the status record "${event}"`);
    }
  };
}

/**
 * One status record when no service holds the log open: a start-up problem
 * found before the service could start. Opens the journal, writes, and waits
 * up to `drainMs` for the directory; when another process holds the journal
 * (a running service), the record goes to `logger` only.
 */
export async function writeStatusOnce(
  config: Config,
  logger: ErrorLogger,
  event: StatusEvent,
  note: StatusNote = {},
  drainMs = 2000,
): Promise<void> {
  let log;
  try {
    log = await openLogFor(config, { closeDrainMs: drainMs });
  } catch (err) {
    logger.error({ err, event, note }, `could not open the log to write the status record "${event}"`);
    return;
  }
  try {
    await statusLog(log, config.server, logger)(event, note);
  } finally {
    await log.close().catch((err: unknown) => logger.error({ err }, 'could not close the log'));
  }
}
