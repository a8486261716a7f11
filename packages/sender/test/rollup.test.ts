import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, MemoryLog, ZenrollError, parseOuterName, saveKeyPair, type RollupRecord } from '@zenroll/core';
import type { RollupResult, SenderEvent } from '../src/events.js';
import { runRollup } from '../src/rollup.js';
import { sendOrder } from '../src/plan.js';
import { makeSender, fakeTimers, type SenderSetup } from './helpers/setup.js';
import { filesIn, sha256Hex, writeStrs } from './helpers/strs.js';
import { TestReceiver } from '@zenroll/testkit';
import { digests, verifyAll } from './helpers/verify.js';

let receiver: TestReceiver;
let s: SenderSetup;
let log: MemoryLog;
let receiverDir: string;

beforeEach(async () => {
  receiverDir = await mkdtemp(join(tmpdir(), 'zenroll-parent-'));
  receiver = await TestReceiver.start({ dir: receiverDir, server: 'INT1' });
  s = await makeSender({ parent: receiver.url });
  log = new MemoryLog();
});

afterEach(async () => {
  await receiver.close();
  await s.cleanup();
  await rm(receiverDir, { recursive: true, force: true });
});

const run = (extra: Partial<Parameters<typeof runRollup>[1]> = {}) => runRollup(s.config, { log, keys: s.keys, ...extra });
const filesOf = async (dir: string) => (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);

describe('a roll-up', () => {
  it('turns 120 .str into zips of 50, 50 and 20 that arrive oldest first and verify', async () => {
    const written = await writeStrs(s.entmergedir, 120);
    const result = await run();

    expect(result.zipped.map((z) => z.files)).toEqual([50, 50, 20]);
    const names = result.zipped.map((z) => z.zip);
    expect(sendOrder(names)).toEqual(names);
    expect(new Set(names.map((n) => parseOuterName(n).scheduledtime)).size).toBe(3);
    expect(receiver.stored.map((z) => z.name)).toEqual(names);
    expect(result.sent.map((z) => [z.zip, z.status])).toEqual(names.map((n) => [n, 201]));
    expect(result.left).toEqual([]);
    expect(result.errors).toEqual([]);

    const verified = await verifyAll(
      receiver.stored.map((z) => z.path),
      s.keys.publicKey,
    );
    expect(verified.map((v) => v.name.status)).toEqual([0, 0, 0]);
    // The oldest scans travel in the oldest zip, in arrival order.
    expect(verified[0]?.files.map((f) => f.name)).toEqual(written.names.slice(0, 50));
    expect(verified[2]?.files.map((f) => f.name)).toEqual(written.names.slice(100));
    expect(digests(verified)).toEqual([...written.sha256].sort());

    expect(await filesOf(s.entmergedir)).toEqual([]);
    expect(await filesOf(s.entpushdir)).toEqual([]);
    expect(await readdir(join(s.config.dirs.statedir, 'intents'))).toEqual([]);
    expect(await readdir(join(s.config.dirs.statedir, 'zip-records'))).toEqual([]);
  });

  it('pushes the first zip while later batches are still being packed, still oldest first', async () => {
    await writeStrs(s.entmergedir, 130);
    // The log of the last batch's `zipped` record (30 .str; batches of 50
    // are packed a few at a time) waits until the Sender has seen a zip
    // acknowledged (its `sent` event; the parent storing it comes a moment
    // before): only a Sender that pushes while it packs gets past it before the time-out.
    const events: string[] = [];
    class GatedLog extends MemoryLog {
      storedBeforeLastBatch: number | null = null;
      override async write(entry: Parameters<MemoryLog['write']>[0]): Promise<void> {
        if (entry.record.event === 'zipped' && entry.record.files === 30) {
          for (let i = 0; i < 500 && !events.some((e) => e.startsWith('sent ')); i++) await new Promise((r) => setTimeout(r, 10));
          this.storedBeforeLastBatch = receiver.stored.length;
        }
        await super.write(entry);
      }
    }
    const gated = new GatedLog();
    const result = await runRollup(s.config, {
      log: gated,
      keys: s.keys,
      onEvent: (e) => events.push(`${e.type}${'zip' in e ? ` ${e.zip}` : ''}`),
    });

    // One or both of the zips made before it (0 only after the time-out: no push while packing).
    expect([1, 2]).toContain(gated.storedBeforeLastBatch);
    const names = result.zipped.map((z) => z.zip);
    expect(names).toHaveLength(3);
    // The first zip was sent before the last one was made...
    expect(events.indexOf(`sent ${names[0]}`)).toBeLessThan(events.indexOf(`zipped ${names[2]}`));
    // ...and every zip still arrived oldest first, each once, with its records.
    expect(receiver.stored.map((z) => z.name)).toEqual(sendOrder(names));
    expect(result.sent.map((z) => z.zip)).toEqual(names);
    expect(gated.writes.filter((w) => w.record.event === 'sent').map((w) => w.record.zip)).toEqual(names);
    expect(result.left).toEqual([]);
    expect(await filesOf(s.entpushdir)).toEqual([]);
    // The clock remembers the newest time handed out, now that its zip is gone.
    const saved = JSON.parse(await readFile(join(s.config.dirs.statedir, 'sender-clock.json'), 'utf8')) as { last: string };
    expect(saved.last).toBe(parseOuterName(names[2] ?? '').scheduledtime);
  });

  it('sends the zips left by an earlier roll-up before the ones it packs now', async () => {
    receiver.failNext(14, { kind: 'drop' });
    await writeStrs(s.entmergedir, 60);
    const old = await run({ timers: fakeTimers() });
    expect(old.stopped).toBe(true);
    expect(old.left.map((l) => l.name)).toEqual(old.zipped.map((z) => z.zip));
    receiver.faults.length = 0;

    await writeStrs(s.entmergedir, 60, { startIndex: 60 });
    const result = await run();
    const all = [...old.zipped, ...result.zipped].map((z) => z.zip);
    expect(all).toHaveLength(4);
    expect(receiver.stored.map((z) => z.name)).toEqual(all);
    expect(sendOrder(all)).toEqual(all);
    expect(await filesOf(s.entpushdir)).toEqual([]);
  });

  it('logs each zip as zipped, then replaces that record with its sent record (SPEC §7)', async () => {
    await writeStrs(s.entmergedir, 60);
    const result = await run();
    // Logged as each zip is made; batches are packed a few at a time, so in the order they finish.
    const zipped = log.writes
      .filter((w) => w.record.event === 'zipped')
      .map((w) => w.record)
      .sort((a, b) => a.zip.localeCompare(b.zip));
    const sent = log.writes.filter((w) => w.record.event === 'sent');
    expect(zipped.map((r) => [r.zip, r.files, r.server, r.source])).toEqual(result.zipped.map((z) => [z.zip, z.files, 'LEAF1', 'sender']));
    // The batch of 10 is usually made first; the pusher gets the older zip first all the same.
    expect(receiver.stored.map((z) => z.name)).toEqual(result.zipped.map((z) => z.zip));
    expect(sent.map((w) => w.replaces)).toEqual(zipped);
    expect(sent.map((w) => [w.record.id, w.record.to, w.record.from, w.record.bytes])).toEqual(
      zipped.map((r) => [r.id, 'INT1', 'LEAF1', r.bytes]),
    );
    const onObject = await log.read('LEAF1', 10);
    expect(onObject.map((r) => r.event)).toEqual(['rollup', 'sent', 'sent']);
    // The batch id in the signed .prp is the record's id.
    const [v] = await verifyAll([receiver.stored[0]?.path ?? ''], s.keys.publicKey);
    expect(v?.prp.extra).toEqual([['batch.id', zipped[0]?.id]]);
  });

  it('ends with one rollup record on its own object: counts, duration, the hop to the parent (SPEC §7)', async () => {
    await writeStrs(s.entmergedir, 60);
    const result = await run();
    const rollups = log.writes.map((w) => w.record).filter((r) => r.event === 'rollup');
    expect(rollups).toHaveLength(1);
    expect(log.writes.at(-1)?.record.event).toBe('rollup');
    expect(rollups[0]).toMatchObject({
      server: 'LEAF1',
      from: 'LEAF1',
      to: 'INT1',
      source: 'sender',
      severity: 'info',
      zip: '',
      fields: { zipped: 2, sent: 2, discarded: 0, rejected: 0, left: 0 },
      message: '',
    });
    expect(result.sent).toHaveLength(2);
    // Nothing to do is still a roll-up, with its record; the parent was not asked, so no hop to it.
    await run();
    const second = log.writes.map((w) => w.record).filter((r) => r.event === 'rollup')[1];
    expect(second).toMatchObject({ to: '', fields: { zipped: 0, sent: 0, discarded: 0, rejected: 0, left: 0 } });
  });

  it('records a sending that fails for a while once when it starts and once when it recovers, never per try', async () => {
    receiver.failNext(3, { kind: 'drop' });
    await writeStrs(s.entmergedir, 10);
    const result = await run({ timers: fakeTimers() });
    expect(result.sent).toEqual([expect.objectContaining({ tries: 4 })]);
    const zip = result.sent[0]?.zip;
    const events = log.writes.map((w) => w.record.event);
    expect(events).toEqual(['zipped', 'send-failing', 'send-recovered', 'sent', 'rollup']);
    const [failing, recovered] = log.writes.map((w) => w.record).filter((r) => r.event.startsWith('send-'));
    expect(failing).toMatchObject({ server: 'LEAF1', from: 'LEAF1', to: 'INT1', zip, origin: 'LEAF1', severity: 'warning' });
    expect(failing?.message).toMatch(/closed the connection.*trying again \(14 tries in all\), the next in 10 s/);
    expect(recovered).toMatchObject({ zip, severity: 'info', message: 'sent at try 4 of 14, 70 s after the first' });
  });

  it('records a sending that never recovers once when it starts and once when it gives up, and the rollup record says why', async () => {
    receiver.failNext(14, { kind: 'drop' });
    await writeStrs(s.entmergedir, 10);
    const result = await run({ timers: fakeTimers() });
    expect(result.stopped).toBe(true);
    const records = log.writes.map((w) => w.record);
    expect(records.map((r) => r.event)).toEqual(['zipped', 'send-failing', 'send-failed', 'rollup']);
    expect(records[2]).toMatchObject({ severity: 'error', message: expect.stringMatching(/try 14 of 14; the roll-up stops/) });
    expect(records[3]).toMatchObject({ severity: 'error', fields: { zipped: 1, sent: 0, left: 1 } });
    expect(records[3]?.message).toContain('the parent did not answer through every try');
  });

  it('with a database, creates its zips with stored status 2', async () => {
    const db = await makeSender({ parent: receiver.url, role: 'leaf-db' });
    try {
      await writeStrs(db.entmergedir, 3);
      const result = await runRollup(db.config, { log, keys: db.keys });
      expect(result.zipped.map((z) => parseOuterName(z.zip).status)).toEqual([2]);
    } finally {
      await db.cleanup();
    }
  });

  it('retries a lost acknowledgement; the parent answers 200 and keeps one copy', async () => {
    await writeStrs(s.entmergedir, 10);
    receiver.failNext(1, { kind: 'drop-after-store' });
    const timers = fakeTimers();
    const result = await run({ timers });
    expect(result.sent).toEqual([expect.objectContaining({ status: 200, tries: 2 })]);
    const zip = result.sent[0]?.zip ?? '';
    expect(receiver.attempts).toEqual([
      { name: zip, outcome: 'drop-after-store' },
      { name: zip, outcome: 200 },
    ]);
    expect(receiver.stored.map((z) => z.name)).toEqual([zip]);
    expect((await readdir(receiverDir)).filter((n) => n.endsWith('.zip'))).toEqual([zip]);
    expect(timers.sleeps).toEqual([10_000]);
    expect(await filesOf(s.entpushdir)).toEqual([]);
  });

  it('moves a zip the parent refuses (422) to rejected/ with the answer beside it, and sends the rest', async () => {
    await writeStrs(s.entmergedir, 120);
    receiver.faults.push({ kind: 'pass' }, { kind: 'status', status: 422, error: 'ZIP_MANIFEST_MISMATCH' });
    const result = await run();
    const [first, second, third] = result.zipped.map((z) => z.zip) as [string, string, string];
    expect(result.sent.map((z) => z.zip)).toEqual([first, third]);
    expect(result.rejected).toEqual([
      expect.objectContaining({ zip: second, status: 422, error: 'ZIP_MANIFEST_MISMATCH', path: join(s.entpushdir, 'rejected', second) }),
    ]);
    expect((await readdir(join(s.entpushdir, 'rejected'))).sort()).toEqual([second, `${second}.json`]);
    const note = JSON.parse(await readFile(join(s.entpushdir, 'rejected', `${second}.json`), 'utf8')) as Record<string, unknown>;
    expect(note).toMatchObject({ zip: second, status: 422, answer: { error: 'ZIP_MANIFEST_MISMATCH' }, parent: receiver.url });
    const failed = log.writes.map((w) => w.record).filter((r) => r.event === 'send-failed');
    expect(failed).toEqual([expect.objectContaining({ zip: second, severity: 'error', server: 'LEAF1' })]);
    expect(await filesOf(s.entpushdir)).toEqual([]);
  });

  it('sends a zip answered 400 DIGEST_MISMATCH (damaged on the way) again on the SPEC §1 schedule', async () => {
    await writeStrs(s.entmergedir, 60);
    receiver.failNext(1, { kind: 'status', status: 400, error: 'DIGEST_MISMATCH' });
    const timers = fakeTimers();
    const first = await run({ timers });
    expect(first.sent.map((z) => z.zip)).toEqual(first.zipped.map((z) => z.zip));
    expect(first.sent[0]?.tries).toBe(2);
    expect(timers.sleeps).toEqual([s.config.sender.retry.baseMs]);
    expect(await filesOf(s.entpushdir)).toEqual([]);
  });

  it('stops sending at once on a 400 that waiting cannot mend, leaving every zip for the next roll-up', async () => {
    await writeStrs(s.entmergedir, 60);
    receiver.failNext(1, { kind: 'status', status: 400, error: 'UPLOAD_INVALID' });
    const timers = fakeTimers();
    const first = await run({ timers });
    const [a, b] = first.zipped.map((z) => z.zip) as [string, string];
    expect(timers.sleeps).toEqual([]);
    expect(first.stopped).toBe(true);
    expect(first.sent).toEqual([]);
    expect(first.left).toEqual([
      expect.objectContaining({
        kind: 'zip',
        name: a,
        reason: expect.stringMatching(/^not sent: the parent answered 400 UPLOAD_INVALID; waiting cannot mend it/),
      }),
      expect.objectContaining({ kind: 'zip', name: b, reason: 'not tried: sending stopped on the problem below' }),
    ]);
    expect(first.problems).toEqual([expect.objectContaining({ code: 'UPLOAD_INVALID' })]);
    expect(await filesOf(s.entpushdir)).toEqual([a, b]);

    const second = await run();
    expect(second.sent.map((z) => z.zip)).toEqual([a, b]);
    expect(second.left).toEqual([]);
  });

  it('deletes and logs the zips created before the discard time, and sends the others', async () => {
    const t0 = Date.UTC(2026, 2, 1, 10, 0, 0);
    let now = t0;
    const clock = () => now;
    receiver.failNext(14, { kind: 'drop' }); // the parent is down while the old zips are made
    await writeStrs(s.entmergedir, 60);
    const old = await run({ clock, timers: fakeTimers(), discardSource: async () => null });
    expect(old.stopped).toBe(true);
    receiver.faults.length = 0;

    now = t0 + 3_600_000;
    await writeStrs(s.entmergedir, 5, { startIndex: 60 });
    receiver.discardBefore = new Date(t0 + 60_000).toISOString();
    const result = await run({ clock });
    const oldZips = old.zipped.map((z) => z.zip);
    expect(result.discarded).toEqual(oldZips);
    expect(result.sent.map((z) => z.zip)).toEqual(result.zipped.map((z) => z.zip));
    expect(receiver.stored.map((z) => z.name)).toEqual(result.zipped.map((z) => z.zip));
    const discarded = log.writes.filter((w) => w.record.event === 'discarded');
    expect(discarded.map((w) => [w.record.zip, w.record.server, w.replaces?.event])).toEqual(oldZips.map((z) => [z, 'LEAF1', 'zipped']));
    expect(discarded[0]?.record.message).toContain(new Date(t0 + 60_000).toISOString());
    expect(await filesOf(s.entpushdir)).toEqual([]);
  });

  it('takes the discard time from an injected source', async () => {
    await writeStrs(s.entmergedir, 5);
    receiver.discardBefore = null;
    const result = await run({ discardSource: async () => new Date(Date.now() + 60_000) });
    expect(result.discarded).toHaveLength(1);
    expect(result.sent).toEqual([]);
    expect(receiver.puts).toBe(0);
  });

  it('reads the discard time again before each send when it could not be read at the start (issue 16)', async () => {
    await writeStrs(s.entmergedir, 5);
    let asked = 0;
    const result = await run({
      timers: fakeTimers(),
      discardSource: async () => {
        asked += 1;
        if (asked === 1) throw new ZenrollError('RECEIVER_UNREACHABLE', 'parent "x": refused');
        return new Date(Date.now() + 60_000);
      },
    });
    // The first read failed (a step error); the one before the send found the zip older than the time: discarded, never sent.
    expect(result.errors).toEqual([expect.objectContaining({ step: 'discard', code: 'RECEIVER_UNREACHABLE' })]);
    expect(asked).toBe(2);
    expect(result.discarded).toHaveLength(1);
    expect(result.sent).toEqual([]);
    expect(receiver.puts).toBe(0);
    expect(await filesOf(s.entpushdir)).toEqual([]);
  });

  it('packs nothing twice when run again with nothing new', async () => {
    await writeStrs(s.entmergedir, 3);
    await run();
    const again = await run();
    expect(again).toMatchObject({ zipped: [], sent: [], discarded: [], left: [], errors: [] });
  });

  it('never repeats a scheduled time, even when the clock steps back after the zips are gone', async () => {
    const fixed = Date.UTC(2026, 3, 1);
    await writeStrs(s.entmergedir, 3);
    const a = await run({ clock: () => fixed });
    await writeStrs(s.entmergedir, 3, { startIndex: 3 });
    const b = await run({ clock: () => fixed - 5_000 });
    const ta = parseOuterName(a.zipped[0]?.zip ?? '').scheduledtime;
    const tb = parseOuterName(b.zipped[0]?.zip ?? '').scheduledtime;
    expect(tb > ta).toBe(true);
  });
});

describe('forwarding (a role without scans of its own)', () => {
  it('sends zips of other servers with a fresh sent record on the origin object', async () => {
    const int = await makeSender({ parent: receiver.url, role: 'intermediate', server: 'INT0' });
    const leaf = await makeSender({ parent: receiver.url, server: 'LEAF2' });
    try {
      // LEAF2 rolls up a zip; the intermediate is given that zip as its Receiver would have promoted it.
      await writeStrs(leaf.entmergedir, 4);
      const made = await runRollup(leaf.config, { log: new MemoryLog(), keys: leaf.keys });
      const zip = made.sent[0]?.zip ?? '';
      const forwarded = receiver.stored[0];
      expect(forwarded?.name).toBe(zip);
      await writeFile(join(int.entpushdir, zip), await readFile(forwarded?.path ?? ''));
      receiver.stored.length = 0;
      const result = await runRollup(int.config, { log, keys: int.keys });
      expect(result.zipped).toEqual([]);
      expect(result.sent.map((z) => [z.zip, z.status])).toEqual([[zip, 201]]);
      const [w] = log.writes;
      expect(w?.replaces).toBeUndefined();
      expect(w?.record).toMatchObject<Partial<RollupRecord>>({ event: 'sent', server: 'LEAF2', from: 'INT0', to: 'INT1', files: 4, zip });
    } finally {
      await int.cleanup();
      await leaf.cleanup();
    }
  });
});

describe('what stays', () => {
  it('reports files in entmergedir that are not .str and leaves them there', async () => {
    await writeStrs(s.entmergedir, 2);
    await writeFile(join(s.entmergedir, 'readme.txt'), 'not a scan');
    const result = await run();
    expect(result.ignored).toEqual([expect.objectContaining({ name: 'readme.txt' })]);
    expect(await filesIn(s.entmergedir, '.txt')).toEqual(['readme.txt']);
    expect(result.sent).toHaveLength(1);
  });
});

const asRoot = process.getuid?.() === 0;

/**
 * Run the roll-up in a child process; as root, without the capabilities that
 * let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, dropped by
 * util-linux's setpriv), so that a mode-000 file is unreadable to it as to
 * anyone. It stays root otherwise: it loads the packages from this checkout
 * wherever that lies, and writes the folders root owns.
 */
async function runInChild(): Promise<RollupResult> {
  const keyDir = join(s.root, 'child-keys');
  await mkdir(keyDir);
  await saveKeyPair(s.keys, join(keyDir, 'key.pem'), join(keyDir, 'key.pub'));
  const input = join(s.root, 'child-input.json');
  await writeFile(input, JSON.stringify({ config: s.config, priv: join(keyDir, 'key.pem'), pub: join(keyDir, 'key.pub') }));
  const script = join(s.root, 'child.mjs');
  // The child runs from a temp folder, where no package name resolves: it gets the packages' own entry points, resolved here.
  const entry = (pkg: string) => JSON.stringify(import.meta.resolve(pkg));
  await writeFile(
    script,
    `import { readFileSync } from 'node:fs';
import { MemoryLog, loadKeyPair } from ${entry('@zenroll/core')};
import { runRollup } from ${entry('@zenroll/sender')};
const { config, priv, pub } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const result = await runRollup(config, { log: new MemoryLog(), keys: await loadKeyPair(priv, pub) });
process.stdout.write(JSON.stringify(result));\n`,
  );
  const noDac = ['--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search', '--'];
  const [cmd, args] = asRoot ? ['setpriv', [...noDac, process.execPath]] : [process.execPath, []];
  const c = spawn(cmd, [...args, script, input], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => c.once('close', resolve));
  if (code !== 0) throw new Error(`child roll-up exited ${code}: ${err}`);
  return JSON.parse(out) as RollupResult;
}

describe('a .str the packer cannot take holds up nothing else', () => {
  it('sends A.str and a.str (equal letter case aside) in two zips, with 60 others, each exactly once', async () => {
    const written = await writeStrs(s.entmergedir, 60);
    const upper = Buffer.from('scan of A\n');
    const lower = Buffer.from('scan of a\n');
    await writeFile(join(s.entmergedir, 'A.str'), upper);
    await writeFile(join(s.entmergedir, 'a.str'), lower);
    // The oldest of all, so that both fall into the first batch's plan.
    const old = new Date(Date.UTC(2020, 0, 1));
    for (const n of ['A.str', 'a.str']) await utimes(join(s.entmergedir, n), old, old);

    const result = await run();
    expect(result.errors).toEqual([]);
    expect(result.left).toEqual([]);
    expect(result.zipped.map((z) => z.files)).toEqual([50, 12]);
    expect(result.sent.map((z) => z.zip)).toEqual(result.zipped.map((z) => z.zip));
    const verified = await verifyAll(
      receiver.stored.map((z) => z.path),
      s.keys.publicKey,
    );
    expect(digests(verified)).toEqual([...written.sha256, sha256Hex(upper), sha256Hex(lower)].sort());
    const zipOf = (name: string) => verified.findIndex((v) => v.files.some((f) => f.name === name));
    expect([zipOf('A.str'), zipOf('a.str')]).toEqual([0, 1]);
    expect(await filesIn(s.entpushdir, '.str')).toEqual([]);

    const again = await run();
    expect([again.zipped, again.sent, again.left, again.errors]).toEqual([[], [], [], []]);
    expect(receiver.stored).toHaveLength(2);
  });

  it("moves a .str over the Receiver's maxStrBytes to rejected/ with its reason beside it, and sends the rest", async () => {
    const written = await writeStrs(s.entmergedir, 5);
    // Grown past the limit after it was collected (collect leaves such a file in entmergedir).
    const big = join(s.entpushdir, 'BIG.str');
    await writeFile(big, '');
    await truncate(big, DEFAULT_LIMITS.maxStrBytes + 1);
    const events: SenderEvent[] = [];

    const result = await run({ onEvent: (e) => events.push(e) });
    const rejected = join(s.entpushdir, 'rejected', 'BIG.str');
    expect(result.zipped.map((z) => z.files)).toEqual([5]);
    expect(result.sent).toHaveLength(1);
    expect(
      digests(
        await verifyAll(
          receiver.stored.map((z) => z.path),
          s.keys.publicKey,
        ),
      ),
    ).toEqual([...written.sha256].sort());
    expect(result.left).toEqual([]);
    expect(result.errors).toEqual([
      { step: 'pack', code: 'PACK_INPUT_INVALID', message: expect.stringContaining(`${DEFAULT_LIMITS.maxStrBytes + 1} bytes`) as string },
    ]);
    expect(result.errors[0]?.message).toContain(`moved to ${rejected}`);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'str-rejected', name: 'BIG.str', code: 'PACK_INPUT_INVALID', path: rejected }),
    );
    expect((await readdir(join(s.entpushdir, 'rejected'))).sort()).toEqual(['BIG.str', 'BIG.str.json']);
    expect((await stat(rejected)).size).toBe(DEFAULT_LIMITS.maxStrBytes + 1);
    const note = JSON.parse(await readFile(`${rejected}.json`, 'utf8')) as Record<string, unknown>;
    expect(note).toMatchObject({
      str: 'BIG.str',
      error: 'PACK_INPUT_INVALID',
      message: expect.stringContaining('the Receiver takes .str files up to'),
    });
    expect(await filesIn(s.entpushdir, '.str')).toEqual([]);
    // Nothing about a rejected .str is a SPEC §7 event of the Sender's: the log holds the zip's records only.
    expect(new Set(log.writes.map((w) => w.record.event))).toEqual(new Set(['zipped', 'sent', 'rollup']));

    // The next roll-up does not trip over it again; a second one of that name keeps the first.
    await writeFile(big, '');
    await truncate(big, DEFAULT_LIMITS.maxStrBytes + 1);
    await writeStrs(s.entmergedir, 1, { startIndex: 100 });
    const again = await run();
    expect(again.zipped.map((z) => z.files)).toEqual([1]);
    expect(again.errors).toEqual([expect.objectContaining({ code: 'PACK_INPUT_INVALID' })]);
    expect((await readdir(join(s.entpushdir, 'rejected'))).sort()).toEqual(['BIG.2.str', 'BIG.2.str.json', 'BIG.str', 'BIG.str.json']);
    const third = await run();
    expect([third.zipped, third.left, third.errors]).toEqual([[], [], []]);
  });

  it('rejects what turned into a directory or a dangling symlink after planning, reports one that vanished, and sends the rest', async () => {
    const written = await writeStrs(s.entmergedir, 8);
    const [dirName, linkName, goneName] = written.names as [string, string, string];
    const run1 = await run({
      onEvent: (e) => {
        if (e.type !== 'planned') return;
        const at = (n: string) => join(s.entpushdir, n);
        rmSync(at(dirName));
        mkdirSync(at(dirName));
        rmSync(at(linkName));
        symlinkSync(join(s.root, 'no-such-file'), at(linkName));
        rmSync(at(goneName));
      },
    });
    expect(run1.zipped.map((z) => z.files)).toEqual([5]);
    const kept = written.sha256.slice(3).sort();
    expect(
      digests(
        await verifyAll(
          receiver.stored.map((z) => z.path),
          s.keys.publicKey,
        ),
      ),
    ).toEqual(kept);
    expect(run1.left).toEqual([]);
    expect(
      run1.errors.map((e) => [e.code, /moved to/.test(e.message), /gone from entpushdir before it could be zipped/.test(e.message)]),
    ).toEqual([
      ['PACK_SOURCE_UNREADABLE', true, false],
      ['PACK_SOURCE_UNREADABLE', true, false],
      ['PACK_SOURCE_UNREADABLE', false, true],
    ]);
    const rejected = join(s.entpushdir, 'rejected');
    expect((await readdir(rejected)).sort()).toEqual([dirName, `${dirName}.json`, linkName, `${linkName}.json`].sort());
    expect((await lstat(join(rejected, dirName))).isDirectory()).toBe(true);
    expect((await lstat(join(rejected, linkName))).isSymbolicLink()).toBe(true);
    expect(await readdir(s.entpushdir)).not.toContain(dirName);
  });

  it('counts every .str as left when packing cannot even start (a damaged sender clock)', async () => {
    const written = await writeStrs(s.entmergedir, 3);
    await mkdir(s.config.dirs.statedir, { recursive: true });
    await writeFile(join(s.config.dirs.statedir, 'sender-clock.json'), '{"last": 12');
    const result = await run();
    expect(result.zipped).toEqual([]);
    expect(result.errors).toEqual([expect.objectContaining({ step: 'pack' })]);
    expect(result.left.map((l) => [l.kind, l.name])).toEqual(written.names.map((n) => ['str', n]));
    expect(result.left[0]?.reason).toMatch(/planning the batches failed/);
    expect(await filesIn(s.entpushdir, '.str')).toEqual(written.names);
  });

  it('leaves a .str that cannot be read now (EACCES) for the next roll-up, sends the rest, and counts it as left', async () => {
    const written = await writeStrs(s.entmergedir, 5);
    const locked = join(s.entpushdir, 'LOCKED.str');
    const content = Buffer.from('a scan nobody may read yet\n');
    await writeFile(locked, content);
    await chmod(locked, 0o000);

    const first = await runInChild();
    expect(first.zipped.map((z) => z.files)).toEqual([5]);
    expect(first.sent).toHaveLength(1);
    expect(
      digests(
        await verifyAll(
          receiver.stored.map((z) => z.path),
          s.keys.publicKey,
        ),
      ),
    ).toEqual([...written.sha256].sort());
    expect(first.errors).toEqual([]);
    expect(first.left).toEqual([
      {
        kind: 'str',
        name: 'LOCKED.str',
        reason: expect.stringMatching(/PACK_SOURCE_UNREADABLE.*EACCES.*stays for the next roll-up/) as string,
      },
    ]);
    expect(await filesIn(s.entpushdir, '.str')).toEqual(['LOCKED.str']);
    expect(await readFile(locked)).toEqual(content);
    expect((await readdir(s.entpushdir)).includes('rejected')).toBe(false);

    // Readable again: the next roll-up sends it, once.
    await chmod(locked, 0o644);
    const second = await run();
    expect(second.zipped.map((z) => z.files)).toEqual([1]);
    expect([second.left, second.errors]).toEqual([[], []]);
    expect(
      digests(
        await verifyAll(
          receiver.stored.map((z) => z.path),
          s.keys.publicKey,
        ),
      ),
    ).toEqual([...written.sha256, sha256Hex(content)].sort());
  });
});
