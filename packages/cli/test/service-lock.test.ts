/**
 * Two nodes of a cluster must never serve one server's folders at once
 * (issue 6): when this service's serve.lock is taken over — another node
 * found it stale because this one was paused past the lock's staleness —
 * the service notices at its next heartbeat and stops (LOCK_LOST, exit 1),
 * leaving the new holder's lock alone. The service runs in this process, so
 * that its heartbeat can be made short.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isZenrollError, loadConfig } from '@zenroll/core';
import { runService } from '../src/commands/serve.js';
import { writeServer } from './serve-helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zenroll-service-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function health(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(`${url}/v1/health`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('serve.lock taken over while the service runs', () => {
  it('stops the service with LOCK_LOST and leaves the new holder’s lock in place', async () => {
    const s = await writeServer(dir, { role: 'root', trust: [] });
    const config = await loadConfig(s.configPath);
    const lines: { msg: string; url?: string; code?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const never = new Promise<never>(() => {});
    const running = runService(config, logger, never, { lockHeartbeatMs: 25 }).then(
      () => null,
      (err: unknown) => err,
    );
    const until = Date.now() + 10_000;
    while (!lines.some((l) => l.msg === 'serving') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const url = lines.find((l) => l.msg === 'serving')?.url as string;
    expect(await health(url)).toBe(200);

    // Another node's takeover: the lock file now names another holder.
    const lockPath = join(s.statedir, 'serve.lock');
    const theirs = JSON.stringify({
      pid: 4242,
      host: 'node-b',
      purpose: 'zenroll serve',
      since: new Date().toISOString(),
      token: 'b'.repeat(24),
    });
    // Written whole (temp and rename), so that the heartbeat sees either ours or theirs.
    await writeFile(`${lockPath}.new`, theirs);
    await rename(`${lockPath}.new`, lockPath);

    const err = await running;
    expect(isZenrollError(err, 'LOCK_LOST')).toBe(true);
    expect((err as Error).message).toMatch(/process 4242 on node-b \(zenroll serve/);
    expect(lines.map((l) => l.msg)).toContain('lock lost: stopping');
    // It stopped serving, and did not remove what is now node-b's lock.
    await expect(health(url)).rejects.toThrow(/ECONNREFUSED/);
    expect(await readFile(lockPath, 'utf8')).toBe(theirs);
  });
});
