/**
 * The `zenroll` command line (SPEC §5). `run` parses argv, runs one command
 * and returns the exit code; it never exits the process itself.
 */
import { Command, CommanderError } from 'commander';
import { ZenrollError } from '@zenroll/core';
import { EXIT_OK, EXIT_USAGE, describeError, exitCodeOf } from './exit.js';
import type { Io } from './io.js';
import { registerInit } from './commands/init.js';
import { registerVerify } from './commands/verify.js';
import { registerDemo } from './commands/demo.js';
import { registerTrust } from './commands/trust.js';
import { registerStatus } from './commands/status.js';
import { registerDoctor } from './commands/doctor.js';
import { registerServe } from './commands/serve.js';
import { registerRollup } from './commands/rollup.js';
import { registerLog } from './commands/log.js';
import { registerResend } from './commands/resend.js';
import { VERSION } from './version.js';
import { registerTree } from './commands/tree.js';

// biome-ignore lint/suspicious/noConfusingVoidType: only ever a return type, so that an action that returns nothing needs no `return 0`
export type CommandResult = number | void;

/** A command body; resolves to the exit code (0 when void). */
export type Action = (...args: never[]) => Promise<CommandResult>;

export interface Program {
  command: Command;
  io: Io;
  /** Wraps an action so that its exit code reaches `run`. */
  action<A extends unknown[]>(fn: (...args: A) => Promise<CommandResult>): (...args: A) => Promise<void>;
}

export { VERSION } from './version.js';

export async function run(argv: string[], io: Io): Promise<number> {
  let code = EXIT_OK;
  const program = new Command('zenroll')
    .description('Roll inventory scan data (.str) up a tree of servers, logging every step to LDAP.')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage and an example)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const ctx: Program = {
    command: program,
    io,
    action:
      (fn) =>
      async (...args) => {
        const result = await fn(...args);
        code = typeof result === 'number' ? result : EXIT_OK;
      },
  };
  registerInit(ctx);
  registerVerify(ctx);
  registerDemo(ctx);
  registerTrust(ctx);
  registerStatus(ctx);
  registerDoctor(ctx);
  registerServe(ctx);
  registerRollup(ctx);
  registerLog(ctx);
  registerResend(ctx);
  registerTree(ctx);
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; real usage errors were already printed.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.err(describeError(err));
    return exitCodeOf(err);
  }
}

export function usageError(message: string): ZenrollError {
  return new ZenrollError('USAGE', message);
}
