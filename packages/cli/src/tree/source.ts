/**
 * Where `zenroll tree` and `/tree` get the servers from: with a directory,
 * every Inventory Service object under the base in one subtree search; without
 * one (or while it does not answer), this server's own description and those
 * its children sent with their polls (statedir/children.json).
 */
import { isZenrollError, type Config } from '@zenroll/core';
import { openDirectory, type LdapDirectory } from '@zenroll/directory';
import { readOwnDescription } from '../service/describe.js';
import { readChildren } from '../service/children.js';
import { report, type Described, type TreeReport } from './model.js';

export async function localServers(config: Config): Promise<Described[]> {
  const own: Described = { server: config.server, description: await readOwnDescription(config.dirs.statedir) };
  const children = (await readChildren(config.dirs.statedir)).filter((c) => c.server !== config.server);
  // A child's poll names the parent it asked; it is this server, whatever name it learned.
  return [own, ...children.map((c) => ({ server: c.server, description: c.description && { ...c.description, parent: config.server } }))];
}

/** The tree as the directory shows it; `directory` open already (the service's), or opened and closed here. */
export async function readTreeReport(
  config: Config,
  o: { directory?: LdapDirectory | null; now?: () => number } = {},
): Promise<TreeReport> {
  const now = o.now ?? Date.now;
  const dir = o.directory === undefined ? openDirectory(config) : o.directory;
  if (dir === null) return report(await localServers(config), now(), 'receiver');
  try {
    return report(await dir.readDescriptions(), now(), 'directory');
  } catch (err) {
    if (!isZenrollError(err, 'DIRECTORY_UNREACHABLE')) throw err;
    return report(await localServers(config), now(), 'receiver', `the directory did not answer: ${err.message}`);
  } finally {
    if (o.directory === undefined) await dir.close();
  }
}
