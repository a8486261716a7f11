/**
 * `zenroll rollup [--now] [--json]` (SPEC §5): one roll-up for the config's
 * server. When `zenroll serve` runs for these folders it is asked (its
 * admin socket) and this waits for the result: a scheduled roll-up running
 * there finishes first, then the forced one runs. Otherwise the roll-up runs
 * in this process, holding `statedir/rollup.lock`; a second one started
 * meanwhile does not wait: it exits 1 with LOCK_HELD. A lock left by a
 * process that died is taken over.
 */
import { resolve } from 'node:path';
import { ZenrollError, isZenrollError, loadConfig, loadKeyPair, roleInfo, type Config } from '@zenroll/core';
import type { RollupResult, SenderEvent } from '@zenroll/sender';
import { EXIT_FAILED, EXIT_OK, exitCodeOf } from '../exit.js';
import type { Io } from '../io.js';
import { usageError, type Program } from '../main.js';
import { Reporter } from './rollup-progress.js';
import { openLogFor } from '../context.js';
import { directorySources } from '../directory-sources.js';
import { askService } from '../service/admin.js';
import { refuseIfServedElsewhere } from '../service/elsewhere.js';
import { summarize, writeLastRollup, type LastRollup } from '../service/runner.js';
import { RequestStore } from '../service/wakeup.js';
import { writeStatusOnce } from '../service/status-log.js';

interface RollupOptions {
  config: string;
  now?: boolean;
  json?: boolean;
  maxWait?: string;
  tree?: boolean;
}

/**
 * `zenroll rollup --tree` (SPEC §8): a roll-up request for every server below
 * this Receiver. The running service takes it (and announces it at once);
 * without one it is written where the service reads it when it starts.
 */
async function requestTreeRollup(config: Config, io: Io): Promise<{ requested: string; service: boolean }> {
  if (!roleInfo(config.role).receiver) {
    throw new ZenrollError(
      'USAGE',
      `zenroll rollup --tree asks the servers below a Receiver; role "${config.role}" of ${config.server} has none (docs/SPEC.md §2)`,
    );
  }
  const viaService = await askService<{ requested: string }>(config.dirs.statedir, 'POST', '/v1/rollup-tree');
  if (viaService !== null) return { requested: viaService.requested, service: true };
  const requested = new Date().toISOString();
  await (await RequestStore.open(config.dirs.statedir)).set(requested, 'command');
  await writeStatusOnce(config, { error: (_obj, msg) => io.err(`zenroll: ${msg}\n`) }, 'rollup-requested', {
    message: `zenroll rollup --tree: every server below ${config.server} is asked for a roll-up (announced once zenroll serve runs)`,
    fields: { requested },
  });
  return { requested, service: false };
}

/** How long a one-shot roll-up waits for the directory to take its records before leaving them in the journal. */
const DRAIN_MS = 10_000;

export const pad = (s: string) => s.padEnd(10);
export const seconds = (ms: number) =>
  ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;

/** One line per event worth a line; undefined for the rest. */
export function eventLine(e: SenderEvent): string | undefined {
  switch (e.type) {
    case 'zipped':
      return `${pad('zipped')}${e.zip}  ${e.files} .str, ${e.bytes} bytes${e.recovered ? ' (finished after an interrupted roll-up)' : ''}`;
    case 'discarded':
      return `${pad('discarded')}${e.zip}`;
    case 'sent':
      return `${pad('sent')}${e.zip}  ${e.status === 201 ? 'stored' : 'already there'} (${e.status}), ${e.bytes} bytes, try ${e.tries}, ${e.transferMs} ms`;
    case 'rejected':
      return `${pad('rejected')}${e.zip}  ${e.status}${e.error ? ` ${e.error}` : ''}: ${e.message} → ${e.path}${e.fix === undefined ? '' : `\n${pad('fix')}${e.fix}`}`;
    case 'str-rejected':
      return `${pad('rejected')}${e.name}  ${e.code}: ${e.message} → ${e.path}`;
    default:
      return undefined;
  }
}

/**
 * On a terminal, a long line is broken at spaces to its width, the rest
 * indented under the text after the 10-column label, so that a problem and
 * its fix read as a block at 80 columns. Piped output keeps one line each (for grep).
 */
export function wrapLine(line: string, width: number): string {
  if (line.length <= width || width < 40) return line;
  const indent = ' '.repeat(10);
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    if (cut <= 10) break;
    out.push(rest.slice(0, cut));
    rest = indent + rest.slice(cut + 1);
  }
  out.push(rest);
  return out.join('\n');
}

export function summaryLines(r: RollupResult): string[] {
  const problems = r.problems ?? [];
  const lines = [
    ...r.left.map((l) => `${pad('left')}${l.name}  ${l.reason}`),
    ...r.ignored.map((l) => `${pad('ignored')}${l.name}  ${l.reason} (left in entmergedir)`),
    // A step that failed on the problem that stopped the push (the discard time not read: certificate not trusted) is said once, below.
    ...r.errors.filter((e) => !problems.some((p) => p.code === e.code)).map((e) => `${pad('error')}${e.step}: ${e.code}: ${e.message}`),
    // SPEC §1: a failure that waiting cannot mend names its fix; it is the last thing shown.
    ...problems.flatMap((p) => [`${pad('problem')}${p.code}: ${p.message}`, ...(p.fix === undefined ? [] : [`${pad('fix')}${p.fix}`])]),
  ];
  const left = r.left.length === 0 ? 'nothing left' : `${r.left.length} left`;
  const why =
    problems.length > 0 ? ' (stopped: waiting cannot mend the problem above)' : r.stopped ? ' (stopped: the parent did not answer)' : '';
  lines.push(
    `${r.zipped.length} zipped, ${r.discarded.length} discarded, ${r.sent.length} sent, ${r.rejected.length} rejected, ${left}${why}`,
  );
  return lines;
}

export function exitCodeOfResult(r: RollupResult): number {
  return r.left.length === 0 && r.rejected.length === 0 && r.errors.length === 0 && (r.problems ?? []).length === 0 ? EXIT_OK : EXIT_FAILED;
}

/** What `zenroll status` shows as the last roll-up; not being able to write it fails nothing. */
async function remember(config: Config, io: Io, last: LastRollup): Promise<void> {
  await writeLastRollup(config.dirs.statedir, last).catch((err: unknown) => {
    io.err(`zenroll: could not record the last roll-up for zenroll status: ${err instanceof Error ? err.message : String(err)}\n`);
  });
}

/** `--max-wait 90s`, `10m`, `2h`, `1500ms`: a duration in ms. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)$/.exec(value.trim());
  if (m === null) throw usageError(`--max-wait ${JSON.stringify(value)} is not a duration such as 90s, 10m or 2h`);
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'h' ? 3_600_000 : 60_000;
  return Math.round(n * unit);
}

interface OnceOptions {
  json: boolean;
  /** Stop retrying once a wait would end past this many ms from the start (--max-wait). */
  maxWaitMs?: number;
}

async function rollupOnce(config: Config, io: Io, o: OnceOptions): Promise<RollupResult> {
  const keys = await loadKeyPair(config.keys.private, config.keys.public);
  const log = await openLogFor(config);
  const sources = directorySources(config, { warn: (obj, msg) => io.err(`zenroll: ${msg} (${JSON.stringify(obj)})\n`) });
  const reporter = new Reporter(io, o.json);
  const startedAt = new Date();
  // Ctrl-C (or --max-wait) stops the roll-up at its next step or wait; what is left stays for the next one.
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    io.err('\nzenroll: stopping at the next step; everything not done waits for the next roll-up (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const onEvent = (e: SenderEvent) => {
    reporter.on(e);
    if (e.type === 'retry' && o.maxWaitMs !== undefined && Date.now() + e.delayMs - startedAt.getTime() > o.maxWaitMs) {
      io.err(
        `zenroll: the next try would start past --max-wait (${seconds(o.maxWaitMs)}): stopping; the rest waits for the next roll-up (the service's, on its schedule)\n`,
      );
      stop.abort();
    }
  };
  try {
    const { runRollup } = await import('@zenroll/sender');
    const result = await runRollup(config, { log, keys, discardSource: sources.discardSource, onEvent, signal: stop.signal });
    await remember(config, io, summarize('forced', startedAt, new Date(), result));
    return result;
  } catch (err) {
    // A roll-up that another one kept from starting changed nothing worth recording.
    if (isZenrollError(err, 'LOCK_HELD')) {
      throw new ZenrollError(
        'LOCK_HELD',
        `another roll-up of ${config.server} is running (${err.message}); zenroll rollup does not wait: try again when it has finished`,
        { cause: err, details: err.details },
      );
    }
    await remember(config, io, summarize('forced', startedAt, new Date(), null, err));
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    reporter.end();
    await sources.close();
    // Without a directory the journal is the log and this returns at once.
    if (!(await log.drain(DRAIN_MS))) {
      io.err(
        `zenroll: the directory did not take every record within ${DRAIN_MS / 1000} s; the rest stays in the journal and is applied later\n`,
      );
    }
    await log.close();
  }
}

/** The lines of a roll-up the service ran, from its result (the service saw the events, not this process). */
function resultEvents(r: RollupResult): SenderEvent[] {
  return [
    ...r.zipped.map((z): SenderEvent => ({ type: 'zipped', ...z })),
    ...r.discarded.map((zip): SenderEvent => ({ type: 'discarded', zip })),
    ...r.sent.map((z): SenderEvent => ({ type: 'sent', ...z })),
    ...r.rejected.map((z): SenderEvent => ({ type: 'rejected', ...z })),
  ];
}

export function registerRollup(p: Program): void {
  p.command
    .command('rollup')
    .description('run one roll-up now: collect, zip, discard, send; print what happened to each zip')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--now', 'start at once (the service runs it as soon as a running roll-up is done; without a service it runs here)')
    .option('--json', 'print the result as JSON')
    .option(
      '--max-wait <duration>',
      'stop retrying once a try would start past this (90s, 10m, 2h) and leave the rest for the next roll-up; exit 1',
    )
    .option('--tree', 'on a Receiver: ask every server below it for a roll-up now (they see it at their next poll, sender.pollSeconds)')
    .addHelpText(
      'after',
      [
        '',
        'With --tree, nothing runs here: the request is set on this Receiver, its children see it',
        'in their next poll of GET /v1/info, roll up, and pass it on to their own children.',
        '',
        'Exit 0 when every zip was sent, 1 when anything was left (the parent did not answer,',
        'a .str is still being written, …) or rejected. A second roll-up of the same server',
        'started meanwhile does not wait: it exits 1 with LOCK_HELD.',
        '',
        'Example:',
        '  zenroll rollup -c /srv/zenroll/zenroll.json',
        '',
      ].join('\n'),
    )
    .action(
      p.action(async (o: RollupOptions) => {
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        if (o.tree) {
          const t = await requestTreeRollup(config, p.io);
          if (o.json) p.io.out(`${JSON.stringify({ ok: true, server: config.server, requested: t.requested, service: t.service })}\n`);
          else {
            p.io.out(`roll-up requested at ${t.requested} for every server below ${config.server}\n`);
            p.io.out(
              t.service
                ? 'its children see it at their next poll (sender.pollSeconds), roll up and pass it on\n'
                : `no service runs for ${config.server}: the request waits in ${config.dirs.statedir} until zenroll serve starts\n`,
            );
          }
          return EXIT_OK;
        }
        // The same answer whether a service runs or not (SPEC §5: one code, one exit).
        if (!roleInfo(config.role).sender) {
          throw new ZenrollError('USAGE', `role ${config.role} sends nothing to a parent (docs/SPEC.md §2): there is nothing to roll up`);
        }
        const maxWaitMs = o.maxWait === undefined ? undefined : parseDuration(o.maxWait);
        let result: RollupResult;
        try {
          // The service's roll-up shows as it goes, as one run here would (SPEC §1: no command sits silent).
          const reporter = new Reporter(p.io, o.json === true);
          let streamed = false;
          const onEvent = (e: unknown) => {
            streamed = true;
            // biome-ignore lint/nursery/noUnsafeTypeAssertion: events from this server's own service, the Sender's own SenderEvent as JSON
            reporter.on(e as SenderEvent);
          };
          const viaService = await askService<RollupResult>(config.dirs.statedir, 'POST', '/v1/rollup', {
            onEvent,
            ...(maxWaitMs === undefined ? {} : { timeoutMs: maxWaitMs }),
          }).finally(() => reporter.end());
          // A service of an older release answers with the result only.
          if (viaService !== null && !o.json && !streamed) {
            for (const e of resultEvents(viaService)) {
              const line = eventLine(e);
              if (line !== undefined) p.io.out(`${line}\n`);
            }
          }
          if (viaService === null) await refuseIfServedElsewhere(config, p.io.env);
          result =
            viaService ?? (await rollupOnce(config, p.io, { json: o.json === true, ...(maxWaitMs === undefined ? {} : { maxWaitMs }) }));
        } catch (err) {
          if (!o.json || !isZenrollError(err)) throw err;
          p.io.out(`${JSON.stringify({ ok: false, server: config.server, error: err.code, message: err.message })}\n`);
          return exitCodeOf(err);
        }
        const code = exitCodeOfResult(result);
        if (o.json) p.io.out(`${JSON.stringify({ ok: code === EXIT_OK, server: config.server, ...result })}\n`);
        else
          p.io.out(
            `${summaryLines(result)
              .map((l) => (p.io.isTty ? wrapLine(l, p.io.stream?.columns ?? 80) : l))
              .join('\n')}\n`,
          );
        return code;
      }),
    );
}
