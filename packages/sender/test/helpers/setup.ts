/** A Sender's folders, config and keys in a temp folder, and fake timers. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, parseConfig, type Config, type KeyPair } from '@zenroll/core';
import type { Timers } from '../../src/timers.js';

export interface SenderSetup {
  root: string;
  config: Config;
  keys: KeyPair;
  entmergedir: string;
  entpushdir: string;
  cleanup(): Promise<void>;
}

export interface SetupOptions {
  parent: string;
  role?: string;
  server?: string;
  sender?: Record<string, unknown>;
}

export async function makeSender(o: SetupOptions): Promise<SenderSetup> {
  const root = await mkdtemp(join(tmpdir(), 'zenroll-sender-'));
  const json = {
    server: o.server ?? 'LEAF1',
    tree: 'ACME',
    role: o.role ?? 'leaf',
    dirs: { entmergedir: 'entmergedir', entpushdir: 'entpushdir' },
    sender: { parent: o.parent, stableMs: 0, ...o.sender },
  };
  const parsed = parseConfig(json, root);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const entmergedir = join(root, 'entmergedir');
  const entpushdir = join(root, 'entpushdir');
  await mkdir(entmergedir, { recursive: true });
  await mkdir(entpushdir, { recursive: true });
  return {
    root,
    config: parsed.config,
    keys: generateKeyPair(),
    entmergedir,
    entpushdir,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Timers whose sleeps return at once and move a fake clock; every wait is recorded. */
export function fakeTimers(start = 0): Timers & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    async sleep(ms, signal) {
      if (signal?.aborted === true) throw signal.reason;
      sleeps.push(ms);
      t += ms;
    },
  };
}
