/**
 * What the tests of sender, receiver and cli share (core's and directory's
 * tests do not use it: the kit depends on them).
 */
export { TestReceiver, type Attempt, type Fault, type StoredZip, type TestReceiverOptions } from './test-receiver.js';
export { startConnectProxy, type ConnectProxy, type Tunnel } from './connect-proxy.js';
export { startFaultProxy, type ConnectionLog, type FaultProxy, type NetFault } from './fault-proxy.js';
export {
  CHROMIUM,
  CHROMIUM_FLAGS,
  chromiumInstalled,
  launchBrowser,
  loopbackOnly,
  type LaunchBrowserOptions,
  type LaunchedBrowser,
} from './browser.js';
export {
  askAdmin,
  initTree,
  startServe,
  stopServe,
  zenroll,
  type InitTreeOptions,
  type PlannedServer,
  type StartServeOptions,
  type Tree,
  type TreeDirectory,
  type TreeNode,
  type ZenrollCli,
} from './tree.js';
export { portOf } from './net.js';
export { initArgs, type InitArgsOptions } from './init-args.js';
export { strsInZips } from './unzip.js';
export { writeScans, type Scans } from './scans.js';
export { CrashSoak, NAMED, type CrashSoakOptions, type Kill, type Killed, type SoakFigures, type SoakServer } from './crash-soak.js';
// The data makers (@zenroll/lab: .str files, raw and mutated zips), so that a test imports its helpers from one place.
export * from '@zenroll/lab';
export * from '@zenroll/lab/zipcraft';
// The private slapd (@zenroll/directory/slapd).
export * from '@zenroll/directory/slapd';
