/**
 * `zenroll resend`: puts what the parent refused (`entpushdir/rejected/`)
 * back in line for the next roll-up, each reason (`.json`) cleared (issue 16).
 * For after the cause is fixed: the parent trusts the key now, the clock is
 * right, the parent was upgraded. Holds `statedir/rollup.lock`, so it never
 * moves a file under a running roll-up.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireLock, fsError, loadConfig, moveDurable, removeDurable, roleInfo, ZenrollError, errnoCode, fieldOf } from '@zenroll/core';
import { usageError, type Program } from '../main.js';

export interface Resent {
  /** Back in entpushdir, each with the reason it had. */
  files: { name: string; reason: string | null }[];
  /** Reasons whose file was gone already, removed. */
  strayReasons: string[];
}

function reasonOf(json: string): string | null {
  try {
    const note: unknown = JSON.parse(json);
    const [status, answer, code, message] = [
      fieldOf(note, 'status'),
      fieldOf(note, 'answer'),
      fieldOf(note, 'code'),
      fieldOf(note, 'message'),
    ];
    if (typeof status === 'number') {
      const [error, said] = [fieldOf(answer, 'error'), fieldOf(answer, 'message')];
      return `${status}${typeof error === 'string' ? ` ${error}` : ''}${typeof said === 'string' ? `: ${said}` : ''}`;
    }
    if (typeof code === 'string') return `${code}${typeof message === 'string' ? `: ${message}` : ''}`;
    return null;
  } catch {
    return null;
  }
}

export async function resend(configPath: string): Promise<Resent> {
  const config = await loadConfig(configPath);
  if (!roleInfo(config.role).sender) throw usageError(`role ${config.role} sends nothing to a parent: nothing of it is ever rejected`);
  const { entpushdir, rejecteddir, statedir } = config.dirs;
  if (entpushdir === null || rejecteddir === null) throw usageError('dirs.entpushdir is not set');
  let names: string[];
  try {
    names = await readdir(rejecteddir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { files: [], strayReasons: [] };
    throw fsError(err, 'list', rejecteddir);
  }
  const lock = await acquireLock(join(statedir, 'rollup.lock'), { purpose: `resend of ${config.server}` }).catch((err: unknown) => {
    if (err instanceof ZenrollError && err.code === 'LOCK_HELD') {
      throw new ZenrollError(
        'LOCK_HELD',
        `a roll-up of ${config.server} is running (${err.message}); run zenroll resend when it has finished`,
        { cause: err },
      );
    }
    throw err;
  });
  try {
    const set = new Set(names);
    const files: Resent['files'] = [];
    for (const name of names.filter((n) => /\.(zip|str)$/i.test(n)).sort()) {
      const note = set.has(`${name}.json`) ? await readFile(join(rejecteddir, `${name}.json`), 'utf8').catch(() => null) : null;
      // The file first: a crash between the two leaves a stray reason, which the next resend clears.
      await moveDurable(join(rejecteddir, name), join(entpushdir, name));
      if (set.has(`${name}.json`)) await removeDurable(join(rejecteddir, `${name}.json`));
      files.push({ name, reason: note === null ? null : reasonOf(note) });
    }
    const strayReasons: string[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const of = name.slice(0, -'.json'.length);
      if (!set.has(of)) {
        await removeDurable(join(rejecteddir, name));
        strayReasons.push(name);
      }
    }
    return { files, strayReasons };
  } finally {
    await lock.release();
  }
}

export function registerResend(p: Program): void {
  p.command
    .command('resend')
    .description('put the zips the parent refused (entpushdir/rejected/) back in line for the next roll-up, their reasons cleared')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      [
        '',
        'Use it once the cause is fixed (the parent trusts this key now, the clock is right);',
        'then run zenroll rollup --now, or wait for the schedule.',
        '',
        'Example:',
        '  zenroll resend -c /srv/zenroll/zenroll.json && zenroll rollup --now -c /srv/zenroll/zenroll.json',
        '',
      ].join('\n'),
    )
    .action(
      p.action(async (o: { config: string; json?: boolean }) => {
        const r = await resend(resolve(p.io.cwd, o.config));
        if (o.json) {
          p.io.out(`${JSON.stringify(r)}\n`);
          return;
        }
        for (const f of r.files) p.io.out(`back      ${f.name}${f.reason === null ? '' : `  (was: ${f.reason})`}\n`);
        p.io.out(
          r.files.length === 0
            ? 'nothing in rejected/ to send again\n'
            : `${r.files.length} back in line for the next roll-up (zenroll rollup --now sends them now)\n`,
        );
      }),
    );
}
