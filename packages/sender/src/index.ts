export { runRollup, type RollupDeps } from './rollup.js';
export type { LeftItem, RejectedStr, RejectedZip, RollupResult, SenderEvent, SentZip, StepError, ZippedZip } from './events.js';
export { infoDiscardSource, type DiscardContext, type DiscardSource } from './discard.js';
export { createParentClient, makeDispatcher, type ParentClient, type PutAnswer, type ZipUpload } from './client.js';
export { compareArrival, isStrName, planBatches, planDiscard, sendOrder, sortPushdir, type DiscardPlan, type StrEntry } from './plan.js';
export { parseRetryAfter, retryDelayMs, retrySchedule, type RetryPolicy } from './backoff.js';
export { verdictOf, type Verdict } from './push.js';
export { realTimers, type Timers } from './timers.js';
export { senderPaths, type SenderPaths } from './state.js';
