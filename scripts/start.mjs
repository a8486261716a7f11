#!/usr/bin/env node
// `npm start`: install what is missing, build, then run the demo roll-up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

sh('bash', ['scripts/system-deps.sh']);
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) sh('npm', ['ci', '--no-audit', '--no-fund']);
sh('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
sh(process.execPath, [join(root, 'packages', 'cli', 'dist', 'bin.js'), 'demo', ...process.argv.slice(2)]);
