export { startReceiver, type ReceiverDeps, type RunningReceiver } from './receiver.js';
export type { ExtraKeySource } from './trust.js';
export type { Logger } from './logger.js';
export { ReceiptStore, type Receipt, type TargetDone } from './receipts.js';
export { promotedNames } from './promote.js';
