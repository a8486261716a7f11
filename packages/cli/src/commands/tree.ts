/**
 * `zenroll tree [--json]` (SPEC §8): every server of the tree as the
 * directory shows it — children under their parent, each with its role,
 * state, last roll-up, backlog and the last 24 hours — from one subtree
 * search. Without a directory: this server and the children that polled it.
 */
import { resolve } from 'node:path';
import { loadConfig } from '@zenroll/core';
import type { Program } from '../main.js';
import { readTreeReport } from '../tree/source.js';
import { renderText } from '../tree/text.js';

export function registerTree(p: Program): void {
  p.command
    .command('tree')
    .description('the whole tree: each server with its role, state (ok, late, failing, unknown), last roll-up, backlog and last 24 hours')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--json', 'print JSON (format zenroll-tree/1, docs/tree.md)')
    .addHelpText(
      'after',
      [
        '',
        'States: ok; late (no roll-up for more than two schedule periods); failing (its last',
        'roll-up failed to send or had a zip rejected); unknown (it has written nothing yet).',
        '',
        'Example:',
        '  zenroll tree -c /srv/zenroll/zenroll.json',
        '',
      ].join('\n'),
    )
    .action(
      p.action(async (o: { config: string; json?: boolean }) => {
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        const r = await readTreeReport(config);
        const color = p.io.isTty && p.io.env.NO_COLOR === undefined;
        p.io.out(o.json ? `${JSON.stringify(r)}\n` : renderText(r, { color }));
      }),
    );
}
