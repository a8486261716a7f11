// One "node" of a two-node lock test, as a real process (lock.test.ts runs it,
// under faketime for a clock hours off). Argument: JSON
// { lock, marks, log, staleMs, heartbeatMs, machine?, rounds, dieEvery? }.
// Each round: wait for the lock, create `marks` with O_EXCL (EEXIST means two
// holders at once), hold it a moment, remove the mark, then release the lock
// or — every dieEvery-th round — die with SIGKILL still holding it.
import { appendFileSync, openSync, closeSync, rmSync } from 'node:fs';
import { acquireLock } from '../../dist/lock.js';

const a = JSON.parse(process.argv[2]);
const say = (line) => appendFileSync(a.log, `${line}\n`);
for (let round = 1; round <= a.rounds; round++) {
  const lock = await acquireLock(a.lock, {
    purpose: 'lock test',
    wait: true,
    staleMs: a.staleMs,
    heartbeatMs: a.heartbeatMs,
    ...(a.machine ? { machine: a.machine } : {}),
    onLost: () => say(`lost ${process.env.ZENROLL_NODE} ${process.pid}`),
  });
  try {
    closeSync(openSync(a.marks, 'wx'));
  } catch (err) {
    say(`OVERLAP ${process.env.ZENROLL_NODE} ${process.pid} ${err.code}`);
    process.exit(3);
  }
  say(`held ${process.env.ZENROLL_NODE} ${process.pid} ${new Date().toISOString()} ${lock.tookOverFrom ? 'takeover' : 'free'}`);
  await new Promise((r) => setTimeout(r, 20 + Math.random() * 60));
  rmSync(a.marks);
  if (a.dieEvery && round % a.dieEvery === 0) process.kill(process.pid, 'SIGKILL');
  await lock.release();
  await new Promise((r) => setTimeout(r, Math.random() * 20));
}
say(`done ${process.env.ZENROLL_NODE} ${process.pid}`);
