/** What a roll-up reports while it runs (the CLI's lines and progress), and what it returns. */

export interface ZippedZip {
  zip: string;
  files: number;
  bytes: number;
  /** True when a crashed roll-up made it and this one finished it. */
  recovered: boolean;
}

export interface SentZip {
  zip: string;
  bytes: number;
  /** 201 stored now, 200 the parent had it already (a lost acknowledgement). */
  status: 200 | 201;
  tries: number;
  transferMs: number;
}

export interface RejectedZip {
  zip: string;
  status: number;
  /** The Receiver's error code, or '' when its answer had none. */
  error: string;
  message: string;
  /** Where the zip is now. */
  path: string;
  /** What to do about it, when the parent said. */
  fix?: string;
}

/** A `.str` the packer refuses for good, moved out of the way so that the rest is packed. */
export interface RejectedStr {
  name: string;
  /** The packer's error code: PACK_INPUT_INVALID, PACK_SOURCE_UNREADABLE. */
  code: string;
  message: string;
  /** Where it is now, `entpushdir/rejected/…`, with `<that>.json` beside it. */
  path: string;
}

export interface LeftItem {
  kind: 'zip' | 'str';
  name: string;
  reason: string;
}

export interface StepError {
  step: 'collect' | 'pack' | 'discard' | 'push' | 'record';
  code: string;
  message: string;
}

export type SenderEvent =
  | { type: 'collected'; moved: number; waiting: number; ignored: number }
  | { type: 'planned'; strs: number; batches: number }
  | ({ type: 'zipped' } & ZippedZip)
  | { type: 'queued'; zips: number; discard: number }
  | { type: 'discarded'; zip: string }
  | ({ type: 'sent' } & SentZip)
  | { type: 'retry'; zip: string; tries: number; of: number; delayMs: number; reason: string }
  | ({ type: 'rejected' } & RejectedZip)
  | ({ type: 'str-rejected' } & RejectedStr)
  | {
      type: 'send-failed';
      zip: string;
      reason: string;
      final: boolean;
      /** Waiting cannot mend it (SPEC §1): sending stopped at once. */
      permanent?: boolean;
      /** What to do about it, when known. */
      fix?: string;
    };

export interface RollupResult {
  zipped: ZippedZip[];
  discarded: string[];
  sent: SentZip[];
  rejected: RejectedZip[];
  /** Still here for a later roll-up: unsent zips, `.str` still being written, names that cannot be sent. */
  left: LeftItem[];
  /** Files in entmergedir that are not `.str` (or that no zip can hold), left where they are. */
  ignored: LeftItem[];
  /** Steps that failed without stopping the rest of the roll-up. */
  errors: StepError[];
  /** The push stopped early: the parent did not answer through every try, or failed in a way waiting cannot mend. */
  stopped: boolean;
  /** Failures that waiting cannot mend, each with its fix (SPEC §1); empty when there were none. */
  problems?: { code: string; message: string; fix?: string }[];
}
