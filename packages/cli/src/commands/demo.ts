/** `zenroll demo`: until the demo tree lands (the service issue), say so honestly. */
import type { Program } from '../main.js';
import { EXIT_FAILED } from '../exit.js';

export function registerDemo(p: Program): void {
  p.command
    .command('demo')
    .description('build a small tree on this machine and run a roll-up end to end (not built yet)')
    .allowUnknownOption()
    .action(
      p.action(async () => {
        p.io.err('zenroll: the demo is not built yet: it comes with the service issue. `zenroll init` and `zenroll verify` work today.\n');
        return EXIT_FAILED;
      }),
    );
}
