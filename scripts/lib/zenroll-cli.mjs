// The CLI of this repository as the testkit's tree helpers take it (@zenroll/testkit
// initTree/startServe): its built bin.js and the node flags `serve` runs with.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVE_NODE_FLAGS } from '@zenroll/cli';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const CLI = { bin: join(ROOT, 'packages', 'cli', 'dist', 'bin.js'), serveNodeFlags: SERVE_NODE_FLAGS };
