/**
 * A takeover (SPEC §9): this node took serve.lock from a holder judged gone.
 * Said in the service's log and in the server status log (`lock-taken`).
 */
import { holderShown, type Config, type Lock } from '@zenroll/core';
import type { Logger as PinoLogger } from 'pino';
import type { StatusLog } from './status-log.js';

export async function recordTakeover(config: Config, logger: PinoLogger, lock: Lock, statusLog: StatusLog): Promise<void> {
  const from = lock.tookOverFrom;
  if (from === null) return;
  const node = lock.info.node ?? lock.info.host;
  const fromNode = from.node ?? from.host;
  const message = `node ${node} took ${config.server} over from ${holderShown(from)}, judged gone`;
  logger.warn({ event: 'takeover', node, from: { node: fromNode, pid: from.pid, since: from.since } }, message);
  await statusLog('lock-taken', { message, fields: { node, fromNode, fromPid: from.pid, fromSince: from.since } });
}
