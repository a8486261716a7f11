/**
 * The contract is in the repository: every "SPEC §n" in code, scripts and
 * docs names a section that docs/SPEC.md has, no path leads to a SPEC kept
 * beside the repository, and every relative link of the Markdown docs
 * reaches a file (and heading) of the repository.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.turbo', '.zenroll-demo', 'coverage']);
const SKIP_FILES = new Set(['package-lock.json', '.vitest-results.json']);

async function repoFiles(dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await repoFiles(path)));
    } else if (e.isFile() && !SKIP_FILES.has(e.name) && !e.name.endsWith('.str') && (await stat(path)).size < 1_000_000) {
      out.push(path);
    }
  }
  return out;
}

async function texts(): Promise<{ path: string; rel: string; text: string }[]> {
  const all = await Promise.all(
    (await repoFiles()).map(async (path) => ({ path, rel: relative(root, path), text: await readFile(path, 'utf8') })),
  );
  return all.filter((f) => !f.text.includes('\u0000'));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

async function anchorsOf(mdPath: string): Promise<Set<string>> {
  const text = await readFile(mdPath, 'utf8');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

describe('references to the contract and links between the docs', () => {
  it('has docs/SPEC.md with sections 1 to 9, and every "SPEC §n" names one of them', async () => {
    const spec = await readFile(join(root, 'docs', 'SPEC.md'), 'utf8');
    const sections = new Set([...spec.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1])));
    expect([...sections].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const bad: string[] = [];
    for (const f of await texts()) {
      for (const m of f.text.matchAll(/SPEC(?:\.md)? (?:§|section )(\d+)/g)) {
        if (!sections.has(Number(m[1]))) bad.push(`${f.rel}: ${m[0]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('points at no SPEC outside the repository', async () => {
    // Built from parts so that this file does not match itself.
    const outside = new RegExp(['shared', '/SPEC|\\.\\./SPEC'].join(''));
    const found = (await texts()).filter((f) => outside.test(f.text)).map((f) => f.rel);
    expect(found).toEqual([]);
  });

  it('has every relative Markdown link reach a file of the repository, and its heading', async () => {
    const broken: string[] = [];
    for (const f of (await texts()).filter((t) => t.rel.endsWith('.md'))) {
      const body = f.text.replace(/^```[\s\S]*?^```/gm, '');
      for (const m of body.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
        const [target = '', anchor] = link.split('#');
        const path = target === '' ? f.path : resolve(dirname(f.path), decodeURIComponent(target));
        if (!path.startsWith(`${root}/`)) {
          broken.push(`${f.rel}: ${link} leaves the repository`);
          continue;
        }
        const exists = await stat(path).then(
          () => true,
          () => false,
        );
        if (!exists) broken.push(`${f.rel}: ${link} does not exist`);
        else if (anchor !== undefined && path.endsWith('.md') && !(await anchorsOf(path)).has(anchor)) {
          broken.push(`${f.rel}: ${link} has no such heading`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
