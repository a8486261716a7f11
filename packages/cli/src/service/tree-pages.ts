/**
 * The pages of `/tree` (SPEC §8) from the service's own directory connection
 * and log: the tree in one subtree search, and one server's newest records
 * through the log's reader (the directory, plus what it has not applied yet).
 */
import type { Config } from '@zenroll/core';
import type { LdapDirectory, ZenrollLog } from '@zenroll/directory';
import { serverPage, treePage } from '../tree/html.js';
import { findNode } from '../tree/model.js';
import { readTreeReport } from '../tree/source.js';

/** Records shown per log on a server's page. */
export const PAGE_RECORDS = 50;

export async function treePages(
  path: string,
  o: { config: Config; directory: LdapDirectory | null; log: ZenrollLog },
): Promise<{ status: number; body: string } | null> {
  const report = await readTreeReport(o.config, { directory: o.directory });
  if (path === '/tree' || path === '/tree/') return { status: 200, body: treePage(report, o.config.server) };
  const encoded = /^\/tree\/server\/([^/]+)$/.exec(path)?.[1];
  if (encoded === undefined) return null;
  let server: string;
  try {
    server = decodeURIComponent(encoded);
  } catch {
    return null;
  }
  const node = findNode(report.tree, server);
  if (node === null) return { status: 404, body: serverPage({ server, node: null, rollup: [], status: [], limit: PAGE_RECORDS }) };
  const rollup = await o.log.readFrom(server, PAGE_RECORDS, 'rollup');
  const status = await o.log.readFrom(server, PAGE_RECORDS, 'status');
  const note =
    rollup.source === 'journal' && o.config.directory !== null
      ? `The directory did not answer (${rollup.note ?? ''}): records from this server's journal.`
      : undefined;
  return {
    status: 200,
    body: serverPage({ server, node, rollup: rollup.records, status: status.records, limit: PAGE_RECORDS, ...(note ? { note } : {}) }),
  };
}
