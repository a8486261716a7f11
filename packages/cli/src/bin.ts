#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=100 --expose-gc --liftoff-only
// The flags: SERVE_NODE_FLAGS (node-flags.ts).
import { run } from './main.js';
import { processIo } from './io.js';

process.exitCode = await run(process.argv.slice(2), processIo());
