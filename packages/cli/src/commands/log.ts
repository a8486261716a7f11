/** `zenroll log [--server NAME] [--limit N] [--json]`: roll-up records, newest first (SPEC §5, §7). */
import { resolve } from 'node:path';
import { loadConfig, serializeRecord, type RollupRecord } from '@zenroll/core';
import { openLogFor } from '../context.js';
import { usageError, type Program } from '../main.js';

interface LogOptions {
  server?: string;
  limit: string;
  json?: boolean;
  config: string;
}

const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ');

/** A plain-text table: one row per record, columns as wide as their widest cell. */
export function formatTable(records: readonly RollupRecord[]): string {
  const header = ['TIME', 'SOURCE', 'EVENT', 'ZIP', 'FROM → TO', 'BYTES', 'MS', 'MESSAGE'];
  const rows = records.map((r) => [
    r.time,
    r.source,
    r.event,
    r.zip,
    r.from || r.to ? `${r.from} → ${r.to}` : '',
    String(r.bytes),
    String(r.totalMs || r.transferMs),
    oneLine(r.message),
  ]);
  const numeric = new Set([5, 6]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells
    .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
    .join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 100_000) throw usageError(`--limit ${JSON.stringify(text)}: expected a whole number from 1 to 100000`);
  return n;
}

export function registerLog(p: Program): void {
  p.command
    .command('log')
    .description("the roll-up log records of a server's Inventory Service object, newest first")
    .option('--server <name>', "whose records (default: this server's)")
    .option('--limit <n>', 'at most this many records', '50')
    .option('--json', 'print one JSON record per line')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .addHelpText('after', '\nExamples:\n  zenroll log --limit 20\n  zenroll log --server LEAF1 --json\n')
    .action(
      p.action(async (o: LogOptions) => {
        const limit = parseLimit(o.limit);
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        const server = o.server ?? config.server;
        const log = await openLogFor(config, { readOnly: true });
        try {
          const { records, source, note } = await log.readFrom(server, limit);
          // Where the records come from goes to stderr, so that stdout stays data.
          if (source === 'journal' && config.directory !== null) {
            p.io.err(`zenroll: the directory did not answer (${note ?? 'unknown reason'}); showing the local journal of ${config.server}\n`);
          }
          if (o.json) {
            for (const r of records) p.io.out(`${serializeRecord(r)}\n`);
          } else if (records.length === 0) {
            p.io.err(`no roll-up records for ${server}\n`);
          } else {
            p.io.out(formatTable(records));
          }
        } finally {
          await log.close();
        }
      }),
    );
}
