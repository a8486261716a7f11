import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect } from '../src/collect.js';

let root: string;
let from: string;
let to: string;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'zenroll-collect-'));
  from = join(root, 'entmergedir');
  to = join(root, 'entpushdir');
  await mkdir(from);
  await mkdir(to);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(dir: string, name: string, data: string, mtimeMs = NOW - 60_000): Promise<void> {
  await writeFile(join(dir, name), data);
  await utimes(join(dir, name), mtimeMs / 1000, mtimeMs / 1000);
}
const run = (stableMs = 5000) => collect({ from, to, stableMs, now: () => NOW });

describe('collect', () => {
  it('moves every .str, whatever the case of its suffix, and leaves the rest reported', async () => {
    await put(from, 'a.str', 'A');
    await put(from, 'B.STR', 'B');
    await put(from, 'c.Str', 'C');
    await put(from, 'notes.txt', 'x');
    await put(from, 'a.str.part', 'x');
    await mkdir(join(from, 'sub'));
    const r = await run();
    expect(r.moved).toEqual(['B.STR', 'a.str', 'c.Str']);
    expect(r.ignored.map((i) => i.name)).toEqual(['a.str.part', 'notes.txt']);
    expect((await readdir(to)).sort()).toEqual(['B.STR', 'a.str', 'c.Str']);
    expect((await readdir(from)).sort()).toEqual(['a.str.part', 'notes.txt', 'sub']);
    expect(await readFile(join(to, 'a.str'), 'utf8')).toBe('A');
  });

  it('lets a .str changed within stableMs wait for the next roll-up', async () => {
    await put(from, 'old.str', 'old', NOW - 5000);
    await put(from, 'fresh.str', 'fresh', NOW - 4999);
    const r = await run(5000);
    expect(r.moved).toEqual(['old.str']);
    expect(r.waiting).toEqual([expect.objectContaining({ name: 'fresh.str', reason: expect.stringMatching(/changed 4999 ms ago/) })]);
    expect(await readdir(from)).toEqual(['fresh.str']);
  });

  it('removes the source when entpushdir holds the same name with the same bytes (an interrupted move)', async () => {
    await put(from, 'dup.str', 'same bytes');
    await put(to, 'dup.str', 'same bytes');
    const r = await run();
    expect(r.duplicates).toEqual(['dup.str']);
    expect(await readdir(from)).toEqual([]);
    expect(await readFile(join(to, 'dup.str'), 'utf8')).toBe('same bytes');
  });

  it('lets a .str wait when entpushdir holds another file of its name', async () => {
    await put(from, 'dup.str', 'new scan');
    await put(to, 'dup.str', 'old scan');
    const r = await run();
    expect(r.moved).toEqual([]);
    expect(r.waiting).toEqual([expect.objectContaining({ name: 'dup.str', reason: expect.stringMatching(/different file/) })]);
    expect(await readFile(join(from, 'dup.str'), 'utf8')).toBe('new scan');
    expect(await readFile(join(to, 'dup.str'), 'utf8')).toBe('old scan');
  });

  it('moves many at once yet reports them in name order, and fails on the first bad one in that order', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(2, '0')}.str`);
    for (const n of names) await put(from, n, n);
    const r = await run();
    expect(r.moved).toEqual(names);
    expect((await readdir(to)).sort()).toEqual(names);

    // Two names entpushdir holds as folders: reading them to compare fails.
    for (const n of ['t10.str', 't30.str']) await mkdir(join(to, n));
    for (let i = 0; i < 40; i++) await put(from, `t${String(i).padStart(2, '0')}.str`, 'x');
    const err = await run().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('t10.str');
    // Everything before the first failure is moved (later ones may be too).
    const left = await readdir(from);
    for (let i = 0; i < 10; i++) expect(left).not.toContain(`t${String(i).padStart(2, '0')}.str`);
    expect(left).toContain('t10.str');
  });

  it('leaves a .str no zip may hold where it is (a name with a backslash)', async () => {
    await put(from, 'a\\b.str', 'x');
    const r = await run();
    expect(r.ignored).toEqual([expect.objectContaining({ name: 'a\\b.str', reason: expect.stringMatching(/plain file name/) })]);
    expect(await readdir(from)).toEqual(['a\\b.str']);
  });
});
