/**
 * `zenroll rollup` with no service answering here (SPEC §9): on a cluster,
 * the service may run on the other node, whose admin socket this node cannot
 * reach although statedir is shared. A roll-up in this process would then
 * work beside that service: refuse, naming the node that holds serve.lock.
 */
import { join } from 'node:path';
import { ZenrollError, nodeName, readLockHolder, type Config } from '@zenroll/core';

export async function refuseIfServedElsewhere(config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  const holder = await readLockHolder(join(config.dirs.statedir, 'serve.lock'));
  if (holder === null) return;
  const node = holder.node ?? holder.host;
  // This node's own service, gone without a word: the roll-up lock judges what it left.
  if (node === nodeName(env)) return;
  throw new ZenrollError(
    'LOCK_HELD',
    `${config.server} is served by node ${node} (process ${holder.pid}, since ${holder.since}): run zenroll rollup there; if that node is gone, zenroll serve here takes it over`,
    { details: { holder } },
  );
}
