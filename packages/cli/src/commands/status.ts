/**
 * `zenroll status`: backlog per folder, the last roll-up, whether the parent
 * answers, the journal backlog. Asks the running service when there is one;
 * reads the folders itself otherwise.
 */
import { resolve } from 'node:path';
import { healthReasons, loadConfig, nodeName, roleInfo, messageOf, type Config, type HealthReport } from '@zenroll/core';
import type { Program } from '../main.js';
import { openLogFor } from '../context.js';
import { askService, getFromService } from '../service/admin.js';
import { readBacklog } from '../service/backlog.js';
import { readLastRollup } from '../service/runner.js';
import { clockAhead } from './doctor.js';
import type { ServiceStatus } from '../service/service.js';

export interface StatusReport {
  server: string;
  role: string;
  service: {
    running: boolean;
    pid?: number;
    receiver?: string | null;
    rollupRunning?: boolean;
    nextRollup?: string | null;
    degraded?: string[];
  };
  backlog: ServiceStatus['backlog'];
  lastRollup: ServiceStatus['lastRollup'];
  journalBacklog: number;
  parent: { url: string; reachable: boolean; server?: string; error?: string } | null;
  /** Set when the saved clock is ahead of now (issue 16): what it says. */
  clockAhead?: string;
}

async function parentState(config: Config): Promise<StatusReport['parent']> {
  if (!roleInfo(config.role).sender || config.sender.parent === null) return null;
  const url = config.sender.parent;
  try {
    const { createParentClient, makeDispatcher } = await import('@zenroll/sender');
    const client = createParentClient(config.sender, await makeDispatcher(config.sender), { ownsDispatcher: true });
    try {
      const info = await client.info(AbortSignal.timeout(Math.min(config.sender.timeoutMs, 10_000)));
      return { url, reachable: true, server: info.server };
    } finally {
      await client.close();
    }
  } catch (err) {
    return { url, reachable: false, error: messageOf(err) };
  }
}

async function clockWarning(config: Config): Promise<{ clockAhead?: string }> {
  if (!roleInfo(config.role).sender) return {};
  const ahead = await clockAhead(config).catch((err: unknown) => `the saved clock cannot be read: ${messageOf(err)}`);
  return ahead === null ? {} : { clockAhead: ahead };
}

export async function status(config: Config): Promise<StatusReport> {
  const running = await askService<ServiceStatus>(config.dirs.statedir, 'GET', '/v1/status').catch(() => null);
  let journalBacklog: number;
  if (running) {
    journalBacklog = running.journalBacklog;
  } else {
    const log = await openLogFor(config, { readOnly: true });
    try {
      journalBacklog = log.backlog();
    } finally {
      await log.close();
    }
  }
  return {
    server: config.server,
    role: config.role,
    service: running
      ? {
          running: true,
          pid: running.pid,
          receiver: running.receiver,
          rollupRunning: running.rollupRunning,
          nextRollup: running.schedule?.next ?? null,
          degraded: running.degraded ?? [],
        }
      : { running: false },
    backlog: running?.backlog ?? (await readBacklog(config)),
    lastRollup: running?.lastRollup ?? (await readLastRollup(config.dirs.statedir)),
    journalBacklog,
    parent: await parentState(config),
    ...(await clockWarning(config)),
  };
}

function describe(r: StatusReport): string {
  const b = r.backlog;
  const n = (v: number | null) => (v === null ? '-' : String(v));
  const lines = [
    `${r.server} (${r.role}): service ${r.service.running ? `running, pid ${r.service.pid}${r.service.rollupRunning ? ', roll-up in progress' : ''}` : 'not running'}`,
    ...(r.service.degraded ?? []).map((d) => `  DEGRADED      ${d}`),
    ...(r.service.receiver ? [`  receiver      ${r.service.receiver}`] : []),
    ...(r.service.nextRollup ? [`  next roll-up  ${r.service.nextRollup}`] : []),
    `  backlog       entmergedir ${n(b.entmergedir)} .str, entpushdir ${n(b.entpushdir)} zips, zipdir ${n(b.zipdir)}, rejected ${n(b.rejected)}, quarantined ${n(b.quarantine)}`,
    r.lastRollup
      ? `  last roll-up  ${r.lastRollup.finishedAt} (${r.lastRollup.reason}): ${r.lastRollup.ok ? 'ok' : 'INCOMPLETE'}; zipped ${r.lastRollup.zipped}, sent ${r.lastRollup.sent}, discarded ${r.lastRollup.discarded}, rejected ${r.lastRollup.rejected}, left ${r.lastRollup.left}${r.lastRollup.error ? ` — ${r.lastRollup.error}` : ''}`
      : '  last roll-up  none yet',
    ...(r.parent
      ? [`  parent        ${r.parent.url}: ${r.parent.reachable ? `answers (${r.parent.server})` : `NOT reachable: ${r.parent.error}`}`]
      : []),
    `  journal       ${r.journalBacklog} record(s) waiting for the directory`,
    ...(r.clockAhead ? [`  CLOCK AHEAD   ${r.clockAhead}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Exit codes of `status --check` (SPEC §9), as OCF monitor wants them: 7 is OCF_NOT_RUNNING. */
export const CHECK_RUNNING = 0;
export const CHECK_FAILING = 1;
export const CHECK_NOT_RUNNING = 7;

interface HealthBody extends HealthReport {
  node?: string;
  pid?: number;
  server?: string;
}

/**
 * `zenroll status --check`: for a cluster manager's monitor. 0 the service
 * runs on this node and is healthy (or degraded: it still works); 7 it does
 * not run here (none, or it runs on another node sharing the folders); 1 it
 * runs here but a check fails, or it does not answer. One line says which.
 */
export async function checkService(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 10_000,
): Promise<{ code: number; line: string; report: HealthBody | null }> {
  let got: { status: number; body: unknown } | null;
  try {
    got = await getFromService(config.dirs.statedir, '/v1/health', timeoutMs);
  } catch (err) {
    return { code: CHECK_FAILING, line: `${config.server}: FAILING: ${messageOf(err)}`, report: null };
  }
  if (got === null) return { code: CHECK_NOT_RUNNING, line: `${config.server}: not running on this node (${nodeName(env)})`, report: null };
  // biome-ignore lint/nursery/noUnsafeTypeAssertion: the answer of this server's own service (its /v1/health), same version
  const report = got.body as HealthBody;
  const here = nodeName(env);
  // The socket is in statedir, on the shared disk: on one machine, another node's service may answer it.
  if (report.node !== undefined && report.node !== here) {
    return {
      code: CHECK_NOT_RUNNING,
      line: `${config.server}: not running on this node (${here}); node ${report.node} runs it (pid ${report.pid})`,
      report,
    };
  }
  if (got.status !== 200 || report.status === 'failing') {
    return {
      code: CHECK_FAILING,
      line: `${config.server}: running here (pid ${report.pid}) but FAILING: ${healthReasons(report)}`,
      report,
    };
  }
  const degraded = report.status === 'degraded' ? `, degraded: ${healthReasons(report)}` : '';
  return { code: CHECK_RUNNING, line: `${config.server}: running here (pid ${report.pid}), ${report.status}${degraded}`, report };
}

export function registerStatus(p: Program): void {
  p.command
    .command('status')
    .description('backlog per folder, the last roll-up, whether the parent answers, the journal backlog')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--json', 'print JSON')
    .option(
      '--check',
      'for a cluster manager: exit 0 running here and healthy, 7 not running here, 1 running but failing (docs/SPEC.md §9)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  zenroll status -c /srv/zenroll/zenroll.json --json\n  zenroll status -c /srv/zenroll/zenroll.json --check; echo $?\n',
    )
    .action(
      p.action(async (o: { config: string; json?: boolean; check?: boolean }) => {
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        if (o.check) {
          const c = await checkService(config, p.io.env);
          p.io.out(o.json ? `${JSON.stringify({ exit: c.code, message: c.line, health: c.report })}\n` : `${c.line}\n`);
          return c.code;
        }
        const r = await status(config);
        p.io.out(o.json ? `${JSON.stringify(r)}\n` : describe(r));
      }),
    );
}
