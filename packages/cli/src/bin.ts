#!/usr/bin/env node
// Plain node for every command; `zenroll serve` gets its heap flags from
// whoever starts it (node-flags.ts).
import { run } from './main.js';
import { processIo } from './io.js';

process.exitCode = await run(process.argv.slice(2), processIo());
