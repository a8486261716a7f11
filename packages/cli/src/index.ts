export { run, VERSION } from './main.js';
export { captureIo, processIo, type Io } from './io.js';
export { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit.js';
export { SERVE_NODE_FLAGS } from './node-flags.js';
