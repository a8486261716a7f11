import type { LogKind, RollupLog, RollupRecord } from '@zenroll/core';

export interface LogReadResult {
  /** Newest first. */
  records: RollupRecord[];
  /** Where they came from: the directory (plus what it has not applied yet), or the local journal alone. */
  source: 'directory' | 'journal';
  /** Why the journal answered although a directory is configured. */
  note?: string;
}

/** What openLog returns: a RollupLog that can also say where a read came from and how much is waiting. */
export interface ZenrollLog extends RollupLog {
  readFrom(server: string, limit: number, kind?: LogKind): Promise<LogReadResult>;
  /** Records journaled but not yet applied to the directory (0 without one). */
  backlog(): number;
  /** Wait until the backlog is applied; false when `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean>;
}
