/**
 * `zenroll log [--server NAME] [--limit N] [--status] [--json]`: a server's
 * roll-up log (or, with `--status`, its server status log), newest first
 * (SPEC §5, §7).
 */
import { resolve } from 'node:path';
import { loadConfig, recordJson, type LogKind, type RollupRecord } from '@zenroll/core';
import { openLogFor } from '../context.js';
import { usageError, type Program } from '../main.js';

interface LogOptions {
  server?: string;
  limit: string;
  json?: boolean;
  status?: boolean;
  config: string;
}

const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');

function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

function duration(ms: number): string {
  return ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `FROM>TO`, `FROM`, `->TO` or `-`, as in the record line. */
export function hopOf(r: Pick<RollupRecord, 'from' | 'to'>): string {
  return `${r.from || '-'}${r.to ? `>${r.to}` : ''}`;
}

/**
 * Records for a person at 80 columns: a first line with the time, the event,
 * the hop and the figures; under it, indented, the zip and who made it, any
 * further fields, and the message. Newest first, as given.
 */
export function formatRecords(records: readonly RollupRecord[]): string {
  const eventWidth = Math.max(...records.map((r) => r.event.length));
  const hopWidth = Math.max(...records.map((r) => hopOf(r).length));
  const out: string[] = [];
  for (const r of records) {
    const figures = [
      ...(r.files > 0 ? [`${r.files} file${r.files === 1 ? '' : 's'}`] : []),
      ...(r.bytes > 0 ? [size(r.bytes)] : []),
      ...(r.totalMs > 0 || r.transferMs > 0 ? [duration(r.totalMs || r.transferMs)] : []),
      ...(r.severity === 'info' ? [] : [r.severity.toUpperCase()]),
    ];
    const time = `${r.time.slice(0, 10)} ${r.time.slice(11, 23)}`;
    out.push(`${time}  ${r.event.padEnd(eventWidth)}  ${hopOf(r).padEnd(hopWidth)}  ${figures.join(', ')}`.trimEnd());
    // Who made the zip, when the hop does not say it already.
    const madeBy = r.origin !== '' && r.origin !== r.from ? `made by ${r.origin}` : '';
    if (r.zip !== '') out.push(`${INDENT}${oneLine(r.zip)}${madeBy ? `  (${madeBy})` : ''}`);
    else if (madeBy) out.push(`${INDENT}${madeBy}`);
    const fields = Object.entries(r.fields).map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"]/.test(v) ? JSON.stringify(v) : v}`);
    if (fields.length > 0) out.push(...wrap(fields));
    if (r.message !== '') out.push(...wrap(oneLine(r.message).split(' ')));
  }
  return `${out.join('\n')}\n`;
}

const INDENT = '    ';
const WIDTH = 80;

/** Words on indented lines of at most 80 columns (a word longer than that gets a line of its own). */
function wrap(words: readonly string[]): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && INDENT.length + line.length + 1 + word.length > WIDTH) {
      lines.push(`${INDENT}${line}`);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(`${INDENT}${line}`);
  return lines;
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 100_000)
    throw usageError(`--limit ${JSON.stringify(text)}: expected a whole number from 1 to 100000`);
  return n;
}

export function registerLog(p: Program): void {
  p.command
    .command('log')
    .description("the roll-up log records of a server's Inventory Service object, newest first")
    .option('--server <name>', "whose records (default: this server's)")
    .option('--limit <n>', 'at most this many records', '50')
    .option('--status', 'the server status log (service started, stopped, problems) instead of the roll-up log')
    .option('--json', 'print one JSON object per record and line, with the fields of the record')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .addHelpText('after', '\nExamples:\n  zenroll log --limit 20\n  zenroll log --server LEAF1 --json\n  zenroll log --status\n')
    .action(
      p.action(async (o: LogOptions) => {
        const limit = parseLimit(o.limit);
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        const server = o.server ?? config.server;
        const kind: LogKind = o.status ? 'status' : 'rollup';
        const log = await openLogFor(config, { readOnly: true });
        try {
          const { records, source, note } = await log.readFrom(server, limit, kind);
          // Where the records come from goes to stderr, so that stdout stays data.
          if (source === 'journal' && config.directory !== null) {
            p.io.err(
              `zenroll: the directory did not answer (${note ?? 'unknown reason'}); showing the local journal of ${config.server}\n`,
            );
          }
          if (o.json) {
            for (const r of records) p.io.out(`${JSON.stringify(recordJson(r))}\n`);
          } else if (records.length === 0) {
            p.io.err(`no ${kind === 'status' ? 'status' : 'roll-up'} records for ${server}\n`);
          } else {
            p.io.out(formatRecords(records));
          }
        } finally {
          await log.close();
        }
      }),
    );
}
