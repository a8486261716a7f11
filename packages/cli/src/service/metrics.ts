/**
 * `/metrics` in the Prometheus text format (prom-client): backlog per folder,
 * zips and bytes by event, retries, the last successful roll-up, the
 * directory journal's backlog. Counters follow the log records, which every
 * part writes anyway, so nothing is counted twice or missed.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { ZIP_EVENTS, type Config, type LogWrite, type RollupLog, type RollupRecord } from '@zenroll/core';
import { readBacklog } from './backlog.js';

export interface Metrics {
  registry: Registry;
  /** A RollupLog that counts what goes through it. */
  instrument<L extends RollupLog>(log: L): L;
  retry(): void;
}

export function createMetrics(config: Config, sources: { lastSuccessMs: () => number | null; journalBacklog: () => number }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ server: config.server });
  const zips = new Counter({
    name: 'zenroll_zips_total',
    help: 'Zips by event (zipped, sent, received, promoted, rejected, discarded, send-failed)',
    labelNames: ['event'],
    registers: [registry],
  });
  const bytes = new Counter({ name: 'zenroll_bytes_total', help: 'Bytes of zips by event', labelNames: ['event'], registers: [registry] });
  const retries = new Counter({
    name: 'zenroll_send_retries_total',
    help: 'Push attempts that failed and were retried',
    registers: [registry],
  });
  new Gauge({
    name: 'zenroll_backlog_files',
    help: 'Files waiting per folder (.str in entmergedir, zips elsewhere)',
    labelNames: ['folder'],
    registers: [registry],
    async collect() {
      const b = await readBacklog(config);
      for (const [folder, n] of Object.entries(b)) if (n !== null) this.set({ folder }, n);
    },
  });
  new Gauge({
    name: 'zenroll_last_successful_rollup_timestamp_seconds',
    help: 'When the last roll-up that sent everything finished, as recorded in statedir/last-rollup.json (0: none)',
    registers: [registry],
    collect() {
      this.set((sources.lastSuccessMs() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'zenroll_journal_backlog_records',
    help: 'Log records journaled but not yet in the directory',
    registers: [registry],
    collect() {
      this.set(sources.journalBacklog());
    },
  });
  // Only the events about a zip: a `rollup` summary or a status record is no zip.
  const zipEvents: readonly string[] = ZIP_EVENTS;
  const count = (r: RollupRecord) => {
    if (!zipEvents.includes(r.event)) return;
    zips.inc({ event: r.event });
    if (r.bytes > 0) bytes.inc({ event: r.event }, r.bytes);
  };
  return {
    registry,
    retry: () => retries.inc(),
    instrument<L extends RollupLog>(log: L): L {
      const write = log.write.bind(log);
      log.write = async (entry: LogWrite) => {
        await write(entry);
        count(entry.record);
      };
      return log;
    },
  };
}
