import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serializeRecord, type ZenrollError } from '@zenroll/core';
import { Journal } from '../src/index.js';
import { rec, sentFor, tempDir } from './helpers.js';

describe('Journal', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const open: Journal[] = [];
  const journal = async (o: Partial<Parameters<typeof Journal.open>[0]> = {}) => {
    const j = await Journal.open({ dir: dir.path, ...o });
    open.push(j);
    return j;
  };
  const segments = async () => (await readdir(dir.path)).filter((n) => n.startsWith('seg-')).sort();

  beforeEach(async () => {
    dir = await tempDir('zenroll-journal-');
  });
  afterEach(async () => {
    for (const j of open.splice(0)) await j.close();
    await dir.remove();
  });

  it('writes one JSON line per write, the record in SPEC key order, before write() resolves', async () => {
    const j = await journal();
    const zipped = rec('LEAF1');
    const sent = sentFor(zipped);
    await j.write({ record: zipped });
    await j.write({ record: sent, replaces: zipped });
    const [seg] = await segments();
    const text = await readFile(join(dir.path, seg as string), 'utf8');
    expect(text).toBe(`{"seq":1,"record":${serializeRecord(zipped)}}\n{"seq":2,"record":${serializeRecord(sent)},"replaces":${serializeRecord(zipped)}}\n`);
  });

  it('commits concurrent writes together: fewer fsyncs than lines, all lines in order', async () => {
    const j = await journal();
    const records = Array.from({ length: 200 }, () => rec('LEAF1'));
    await Promise.all(records.map((record) => j.write({ record })));
    expect(j.stats.lines).toBe(200);
    expect(j.stats.fsyncs).toBeLessThan(20);
    expect(await j.read('LEAF1', 500)).toEqual([...records].reverse());
  });

  it('drops a torn last line (a crash mid-append) at open, and goes on after it', async () => {
    const j = await journal();
    const kept = [rec('LEAF1'), rec('LEAF1')];
    for (const record of kept) await j.write({ record });
    await j.close();
    const seg = join(dir.path, (await segments())[0] as string);
    const whole = (await readFile(seg)).length;
    await appendFile(seg, '{"seq":3,"record":{"v":1,"id":"torn');
    const again = await journal();
    expect((await readFile(seg)).length).toBe(whole);
    expect(await again.read('LEAF1', 10)).toEqual([...kept].reverse());
    const next = rec('LEAF1');
    await again.write({ record: next });
    await again.close();
    expect(await (await journal({})).read('LEAF1', 10)).toEqual([next, ...kept.reverse()]);
  });

  it('refuses to open over a corrupt line in the middle, naming where it is', async () => {
    const j = await journal();
    for (let i = 0; i < 3; i++) await j.write({ record: rec('LEAF1') });
    await j.close();
    const name = (await segments())[0] as string;
    const seg = join(dir.path, name);
    const lines = (await readFile(seg, 'utf8')).split('\n');
    lines[1] = '{"seq":2,"record":{"v":1,"id":"x"'; // a whole line, newline included, yet not JSON
    await writeFile(seg, lines.join('\n'));
    const err = (await Journal.open({ dir: dir.path }).catch((e: unknown) => e)) as ZenrollError;
    expect(err.code).toBe('JOURNAL_CORRUPT');
    expect(err.message).toContain(`${name}:2 (byte `);
  });

  it('refuses a line whose seq breaks the sequence', async () => {
    const j = await journal();
    for (let i = 0; i < 2; i++) await j.write({ record: rec('LEAF1') });
    await j.close();
    const seg = join(dir.path, (await segments())[0] as string);
    await writeFile(seg, (await readFile(seg, 'utf8')).replace('{"seq":2', '{"seq":7'));
    await expect(Journal.open({ dir: dir.path })).rejects.toMatchObject({ code: 'JOURNAL_CORRUPT', message: expect.stringContaining('where 2 was expected') });
  });

  it('rotates segments and, without a directory, keeps only what reads need (the newest keep per server)', async () => {
    const j = await journal({ segmentBytes: 2000, keep: 3 });
    const records = Array.from({ length: 60 }, (_, i) => rec(i % 2 === 0 ? 'LEAF1' : 'LEAF2'));
    for (const record of records) await j.write({ record });
    const segs = await segments();
    expect(segs.length).toBeLessThanOrEqual(3);
    const leaf1 = records.filter((r) => r.server === 'LEAF1');
    expect(await j.read('LEAF1', 3)).toEqual(leaf1.slice(-3).reverse());
    await j.close();
    const reopened = await journal({ segmentBytes: 2000, keep: 3 });
    expect(await reopened.read('LEAF1', 3)).toEqual(leaf1.slice(-3).reverse());
  });

  it('never removes a segment the directory has not applied; does once it has', async () => {
    const j = await journal({ segmentBytes: 1000, keep: 1, applying: true });
    for (let i = 0; i < 30; i++) await j.write({ record: rec('LEAF1') });
    const all = await segments();
    expect(all.length).toBeGreaterThan(5);
    expect(j.backlog()).toBe(30);
    // The applier's loop: take what is pending (one segment at a time), apply, advance.
    const seen: number[] = [];
    while (seen.length < 29) {
      for (const line of await j.pending(1000)) {
        if (seen.length === 29) break;
        seen.push(line.seq);
        await j.markApplied(line.seq);
      }
    }
    expect(seen).toEqual(Array.from({ length: 29 }, (_, i) => i + 1));
    expect(j.backlog()).toBe(1);
    expect((await segments()).length).toBe(1);
    expect((await j.pending(10)).map((l) => l.seq)).toEqual([30]);
  });

  it('keeps the cursor across a reopen, and a torn cursor line only costs one record', async () => {
    const j = await journal({ applying: true });
    for (let i = 0; i < 5; i++) await j.write({ record: rec('LEAF1') });
    await j.markApplied(1);
    await j.markApplied(2);
    await j.close();
    await appendFile(join(dir.path, 'applied.log'), '3'); // the crash hit before the newline
    const again = await journal({ applying: true });
    expect(again.applied).toBe(2);
    expect((await again.pending(10)).map((l) => l.seq)).toEqual([3, 4, 5]);
    await again.markApplied(3);
    await again.close();
    expect((await journal({ applying: true })).applied).toBe(3);
  });

  it('never reuses a sequence number the cursor has passed, even if the segments were removed by hand', async () => {
    const j = await journal({ applying: true });
    for (let i = 0; i < 3; i++) await j.write({ record: rec('LEAF1') });
    await j.markApplied(3);
    await j.close();
    for (const s of await segments()) await writeFile(join(dir.path, s), '');
    const again = await journal({ applying: true });
    await again.write({ record: rec('LEAF1') });
    expect((await again.pending(10)).map((l) => l.seq)).toEqual([4]);
  });

  it('refuses a replacement that would move a record to another object', async () => {
    const j = await journal();
    const zipped = rec('LEAF1');
    await expect(j.write({ record: { ...sentFor(zipped), server: 'INT1' }, replaces: zipped })).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('lets one process write a journal at a time, and others read it without touching it', async () => {
    const writer = await journal({ applying: true });
    const records = [rec('LEAF1'), rec('LEAF1')];
    for (const record of records) await writer.write({ record });
    await expect(Journal.open({ dir: dir.path })).rejects.toMatchObject({ code: 'LOCK_HELD' });
    const seg = join(dir.path, (await segments())[0] as string);
    await appendFile(seg, '{"seq":3,'); // an append in progress, as a reader may see it
    const size = (await readFile(seg)).length;
    const reader = await journal({ applying: true, readOnly: true });
    expect(await reader.read('LEAF1', 10)).toEqual([...records].reverse());
    expect(reader.backlog()).toBe(2);
    await expect(reader.write({ record: rec('LEAF1') })).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('read-only') });
    expect((await readFile(seg)).length).toBe(size);
  });
});
