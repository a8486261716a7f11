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

  it('writes one JSON line per write, the record as its exact LDAP value, before write() resolves', async () => {
    const j = await journal();
    const zipped = rec('LEAF1');
    const sent = sentFor(zipped);
    await j.write({ record: zipped });
    await j.write({ record: sent, replaces: zipped });
    const [seg] = await segments();
    const text = await readFile(join(dir.path, seg as string), 'utf8');
    const q = (r: typeof zipped) => JSON.stringify(serializeRecord(r));
    expect(text).toBe(
      `{"seq":1,"server":"LEAF1","record":${q(zipped)}}\n{"seq":2,"server":"LEAF1","record":${q(sent)},"replaces":${q(zipped)}}\n`,
    );
    expect(serializeRecord(zipped)).toMatch(/^2026-11-22T10:30:00\.\d{3}Z zipped LEAF1 \S+_LEAF1_ACME_0\.zip /);
  });

  it('reads the v1 lines of an earlier version, and a v2 `sent` replaces a v1 `zipped` (the exact old value)', async () => {
    const v1 = (id: string, event: string, time: string) =>
      `{"v":1,"id":"${id}","time":"${time}","source":"sender","event":"${event}","severity":"info","server":"LEAF1","zip":"20261122103000000_LEAF1_ACME_0.zip","bytes":10,"files":2,"from":"LEAF1","to":"","transferMs":0,"totalMs":5,"message":""}`;
    const zippedText = v1('old-1', 'zipped', '2026-11-22T10:30:00.000Z');
    await writeFile(
      join(dir.path, 'seg-000000000001.jsonl'),
      `{"seq":1,"record":${zippedText}}\n{"seq":2,"record":${v1('old-2', 'zipped', '2026-11-22T10:30:00.001Z')}}\n`,
    );
    const j = await journal();
    const [second, first] = await j.read('LEAF1', 10);
    expect(first).toMatchObject({ v: 1, id: 'old-1', event: 'zipped', files: 2 });
    expect(second?.id).toBe('old-2');
    const zipped = first as NonNullable<typeof first>;
    expect(serializeRecord(zipped)).toBe(zippedText);
    const sent = { ...sentFor(zipped), v: 2 as const, origin: 'LEAF1' };
    await j.write({ record: sent, replaces: zipped });
    await j.close();
    const again = await journal();
    expect((await again.read('LEAF1', 10)).map((r) => `${r.v} ${r.event} ${r.id}`)).toEqual(['2 sent old-1', '1 zipped old-2']);
    const text = await readFile(join(dir.path, (await segments()).at(-1) as string), 'utf8');
    expect(text).toContain(`"replaces":${zippedText}}`);
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
    await expect(Journal.open({ dir: dir.path })).rejects.toMatchObject({
      code: 'JOURNAL_CORRUPT',
      message: expect.stringContaining('where 2 was expected'),
    });
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
    const j = await journal({ segmentBytes: 500, keep: 1, applying: true });
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
    await expect(reader.write({ record: rec('LEAF1') })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('read-only'),
    });
    expect((await readFile(seg)).length).toBe(size);
  });
});
