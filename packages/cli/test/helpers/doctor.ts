/** `zenroll doctor` as an operator runs it: its text and its `--json`, which must agree on the exit code. */
import { expect } from 'vitest';
import type { Check } from '../../src/commands/doctor.js';
import { runCli } from './cli.js';
import type { ServerFolder } from './server-dir.js';

export type { Check };

export async function doctor(folder: ServerFolder): Promise<{ code: number | null; lines: string[]; checks: Check[] }> {
  const text = await runCli(['doctor', '-c', folder.configPath]);
  expect(text.stderr).toBe('');
  const json = await runCli(['doctor', '--json', '-c', folder.configPath]);
  expect(json.code).toBe(text.code);
  return { code: text.code, lines: text.stdout.trimEnd().split('\n'), checks: JSON.parse(json.stdout) as Check[] };
}
