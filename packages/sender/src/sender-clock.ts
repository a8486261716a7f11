/**
 * The Sender's scheduled clock (SPEC §3: a time is never used twice by one
 * server), seeded from the newest own name on disk and from the newest time
 * remembered in statedir, which outlives the zips that are sent and gone.
 */
import { ScheduledClock, encodeName, newestScheduledTime, parseScheduledTime, writeFileDurable } from '@zenroll/core';
import { damaged, readJsonFile } from './json-file.js';

export async function loadClock(path: string, server: string, namesOnDisk: Iterable<string>, now: () => number): Promise<ScheduledClock> {
  const clock = new ScheduledClock({ now, last: newestScheduledTime(namesOnDisk, encodeName(server)) });
  const saved = (await readJsonFile(path, 'sender clock')) as { last?: unknown } | null;
  if (saved !== null) {
    if (typeof saved.last !== 'string') throw damaged(path, 'sender clock', 'has no "last" time');
    try {
      parseScheduledTime(saved.last);
    } catch (cause) {
      throw damaged(path, 'sender clock', `holds ${JSON.stringify(saved.last)}, not a scheduled time`, cause);
    }
    clock.observe(saved.last);
  }
  return clock;
}

export async function saveClock(path: string, clock: ScheduledClock): Promise<void> {
  if (clock.last !== null) await writeFileDurable(path, `${JSON.stringify({ last: clock.last })}\n`);
}
