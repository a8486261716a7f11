/** `zenroll rollup`, run as the real executable against a test parent. */
import { readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, acquireLock } from '@zenroll/core';
import { spawn } from 'node:child_process';
import { CLI_BIN, runCli, spawnCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { initServer, tempDir, type ServerFolder } from './helpers/server-dir.js';
import { TestReceiver } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let parent: TestReceiver;
let leaf: ServerFolder;

beforeEach(async () => {
  tmp = await tempDir('zenroll-rollup-');
  parent = await TestReceiver.start({ dir: join(tmp.path, 'parent'), server: 'INT1' });
  leaf = await initServer(join(tmp.path, 'leaf'), { role: 'leaf', server: 'LEAF1', parent: parent.url });
});

afterEach(async () => {
  await parent.close();
  await tmp.remove();
});

const entmergedir = () => leaf.config.dirs.entmergedir ?? '';
const rollup = (...extra: string[]) => runCli(['rollup', '-c', leaf.configPath, ...extra]);

describe('zenroll rollup', () => {
  it('prints a line per zip and a summary, and exits 0 when everything was sent', async () => {
    await writeScans(entmergedir(), 60);
    const r = await rollup('--now');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const names = parent.stored.map((z) => z.name);
    expect(names).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('zipped')).map((l) => l.split(/\s+/)[1])).toEqual(names);
    expect(lines.filter((l) => l.startsWith('sent')).map((l) => l.split(/\s+/)[1])).toEqual(names);
    expect(lines.at(-1)).toBe('2 zipped, 0 discarded, 2 sent, 0 rejected, nothing left');
  });

  it('prints the same as JSON with --json', async () => {
    await writeScans(entmergedir(), 3);
    const r = await rollup('--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      server: string;
      zipped: { zip: string; files: number }[];
      sent: { zip: string; status: number }[];
      left: unknown[];
    };
    expect(out).toMatchObject({ ok: true, server: 'LEAF1', left: [] });
    expect(out.zipped.map((z) => z.files)).toEqual([3]);
    expect(out.sent.map((z) => [z.zip, z.status])).toEqual([[parent.stored[0]?.name, 201]]);
  });

  it('exits 1 and says what was left when the parent does not answer', async () => {
    await leaf.edit((json) => {
      (json.sender as Record<string, unknown>).retry = { baseMs: 1, factor: 1, tries: 2 };
    });
    await writeScans(entmergedir(), 3);
    parent.failNext(2, { kind: 'drop' });
    const r = await rollup();
    expect(r.code).toBe(1);
    const zip = (await readdir(leaf.config.dirs.entpushdir ?? '')).filter((n) => n.endsWith('.zip'));
    expect(zip).toHaveLength(1);
    expect(r.stdout).toContain(`left      ${zip[0]}`);
    expect(r.stdout).toMatch(/1 zipped, 0 discarded, 0 sent, 0 rejected, 1 left \(stopped: the parent did not answer\)/);
    expect(r.stderr).toMatch(/^retry {5}\S+\.zip: .*closed the connection.*; try 2 of 2 in 0 s$/m);
  });

  it('exits 1 when the parent rejects a zip, and names where it went', async () => {
    await writeScans(entmergedir(), 3);
    parent.failNext(1, { kind: 'status', status: 422, error: 'ZIP_MANIFEST_MISMATCH' });
    const r = await rollup();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected {2}\S+\.zip {2}422 ZIP_MANIFEST_MISMATCH: .* → .*rejected/m);
  });

  it('refuses to run while another roll-up holds the lock, without waiting (exit 1, LOCK_HELD)', async () => {
    const lock = await acquireLock(join(leaf.config.dirs.statedir, 'rollup.lock'), { purpose: 'a roll-up in the test' });
    try {
      await writeScans(entmergedir(), 3);
      const r = await rollup();
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/LOCK_HELD: another roll-up of LEAF1 is running .*process \d+.*does not wait/);
      expect(parent.stored).toEqual([]);
      const json = await rollup('--json');
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, server: 'LEAF1', error: 'LOCK_HELD' });
    } finally {
      await lock.release();
    }
  });

  it('lets exactly one of two concurrent roll-ups work', async () => {
    await writeScans(entmergedir(), 120);
    const [a, b] = await Promise.all([
      spawnCli(['rollup', '-c', leaf.configPath]).result,
      spawnCli(['rollup', '-c', leaf.configPath]).result,
    ]);
    const codes = [a.code, b.code];
    // Either both ran one after the other (each found the lock free), or one was refused.
    const refused = [a, b].filter((r) => r.stderr.includes('LOCK_HELD'));
    expect(refused.length <= 1).toBe(true);
    expect(codes.filter((c) => c === 0).length).toBe(2 - refused.length);
    expect(parent.stored).toHaveLength(3);
  });

  it('exits 2 for a role that sends nothing', async () => {
    const root = await initServer(join(tmp.path, 'root'), { role: 'root', server: 'ROOT', tls: false, listen: '127.0.0.1:0' });
    const r = await runCli(['rollup', '-c', root.configPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/role root sends nothing/);
  });

  it('reports a file in entpushdir that is no valid zip name as left (exit 1), and sends the rest', async () => {
    await writeScans(entmergedir(), 3);
    await writeFile(join(leaf.config.dirs.entpushdir ?? '', 'copy of a zip.zip'), 'x');
    const r = await rollup();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^left {6}copy of a zip\.zip {2}zip name "copy of a zip\.zip" has/m);
    expect(parent.stored).toHaveLength(1);
  });

  it('moves a .str no zip can hold to rejected/, says so at error (exit 1), and sends the rest', async () => {
    await writeScans(entmergedir(), 3);
    const big = join(leaf.config.dirs.entpushdir ?? '', 'BIG.str');
    await writeFile(big, '');
    await truncate(big, DEFAULT_LIMITS.maxStrBytes + 1);
    const r = await rollup();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected {2}BIG\.str {2}PACK_INPUT_INVALID: .* bytes; .* → .*rejected\/BIG\.str$/m);
    expect(r.stdout).toMatch(/^error {5}pack: PACK_INPUT_INVALID: .*moved to .*rejected\/BIG\.str$/m);
    expect(r.stdout).toMatch(/^1 zipped, 0 discarded, 1 sent, 0 rejected, nothing left$/m);
    expect(parent.stored).toHaveLength(1);
    expect((await readdir(join(leaf.config.dirs.entpushdir ?? '', 'rejected'))).sort()).toEqual(['BIG.str', 'BIG.str.json']);
  });

  it('shows a progress bar on a terminal (cli-progress), under the per-zip lines', async () => {
    await leaf.edit((json) => {
      (json.sender as Record<string, unknown>).batchSize = 1;
    });
    await writeScans(entmergedir(), 12);
    // script(1) gives the real executable a pseudo-terminal, as an operator's shell does.
    const cmd = [process.execPath, CLI_BIN, 'rollup', '-c', leaf.configPath].map((a) => `'${a}'`).join(' ');
    // Not spawnSync: the parent answers from this very process.
    const tty = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => {
        stdout += t;
      });
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/[█░]{24} \d+% \| zipped \d+\/12/);
    // What the terminal keeps: every line, the bar cleared at the end.
    // (each line is what follows the last move to its first column: a carriage return, ESC[1G or ESC[2K).
    const lines = tty.stdout
      .split('\n')
      .map((l) => (l.split(/\r(?!$)|\x1b\[1G|\x1b\[2K/).at(-1) ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim())
      .filter(Boolean);
    expect(lines.filter((l) => l.startsWith('zipped ')).map((l) => l.split(/\s+/)[1])).toHaveLength(12);
    expect(lines.filter((l) => l.startsWith('sent ')).map((l) => l.split(/\s+/)[1])).toHaveLength(12);
    expect(lines.at(-1)).toBe('12 zipped, 0 discarded, 12 sent, 0 rejected, nothing left');
  });

  it('prints plain lines, no progress, when stdout is not a terminal', async () => {
    await leaf.edit((json) => {
      (json.sender as Record<string, unknown>).batchSize = 1;
    });
    await writeScans(entmergedir(), 12);
    const r = await rollup();
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\r');
  });
});
