/**
 * The tree of SPEC §8 from what each server wrote about itself: children
 * under their parent, each with its state. Pure: descriptions and a time in,
 * the tree out; `zenroll tree`, `--json` and the `/tree` page all draw this.
 */
import type { ServerDescription, Traffic } from '@zenroll/directory';

export const STATES = ['ok', 'late', 'failing', 'unknown'] as const;
export type State = (typeof STATES)[number];

export interface TreeNode {
  server: string;
  state: State;
  /** Why the state is not `ok`, in words; '' when it is. */
  why: string;
  role: string | null;
  parent: string | null;
  parentUrl: string | null;
  version: string | null;
  schedule: string | null;
  lastRollup: string | null;
  lastRollupResult: string | null;
  lateAfter: string | null;
  described: string | null;
  backlog: { strWaiting: number | null; zipsWaiting: number | null; zipsRejected: number | null };
  sent24h: Traffic;
  received24h: Traffic;
  children: TreeNode[];
}

/** What `zenroll tree --json` prints (docs/tree.md). */
export interface TreeReport {
  format: 'zenroll-tree/1';
  generatedAt: string;
  /** `directory`: every Inventory Service object; `receiver`: this server and the children that polled it. */
  source: 'directory' | 'receiver';
  /** Why the source is not the directory although one is configured. */
  note?: string;
  servers: number;
  states: Record<State, number>;
  tree: TreeNode[];
}

export interface Described {
  server: string;
  description: ServerDescription | null;
}

/**
 * SPEC §8: `unknown` nothing written yet; `late` no roll-up for more than two
 * schedule periods (the time the server wrote it would be late by); `failing`
 * its last roll-up failed to send or had a zip rejected; else `ok`. Late comes
 * first: a server that has stopped rolling up says nothing current about sending.
 */
export function stateOf(d: ServerDescription | null, nowMs: number): { state: State; why: string } {
  if (d === null) return { state: 'unknown', why: 'nothing written yet' };
  const lateAfter = d.lateAfter === null ? Number.NaN : Date.parse(d.lateAfter);
  if (Number.isFinite(lateAfter) && nowMs > lateAfter) {
    return {
      state: 'late',
      why: `no roll-up since ${d.lastRollup === null ? `it started, ${shortTime(d.described)}` : shortTime(d.lastRollup)}; due by ${shortTime(d.lateAfter)}`,
    };
  }
  if (d.lastRollupResult?.startsWith('failed')) {
    return { state: 'failing', why: `last roll-up: ${d.lastRollupResult}` };
  }
  return { state: 'ok', why: '' };
}

/** `2026-12-05 00:40:05Z` */
export function shortTime(iso: string | null): string {
  return iso === null ? 'never' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

const none: Traffic = { zips: 0, files: 0, bytes: 0 };

function nodeOf({ server, description: d }: Described, nowMs: number): TreeNode {
  return {
    server,
    ...stateOf(d, nowMs),
    role: d?.role ?? null,
    parent: d?.parent ?? null,
    parentUrl: d?.parentUrl ?? null,
    version: d?.version ?? null,
    schedule: d?.schedule ?? null,
    lastRollup: d?.lastRollup ?? null,
    lastRollupResult: d?.lastRollupResult ?? null,
    lateAfter: d?.lateAfter ?? null,
    described: d?.described ?? null,
    backlog: d?.backlog ?? { strWaiting: null, zipsWaiting: null, zipsRejected: null },
    sent24h: d?.sent24h ?? { ...none },
    received24h: d?.received24h ?? { ...none },
    children: [],
  };
}

const byName = (a: TreeNode, b: TreeNode) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0);

/**
 * Children under their parent, by name. A server whose parent is not among
 * the servers (or that has none) is a top of its own; so is every server of
 * a loop of parents, so that none is left out.
 */
export function buildTree(servers: readonly Described[], nowMs: number): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const s of servers) nodes.set(s.server, nodeOf(s, nowMs));
  const tops: TreeNode[] = [];
  for (const n of nodes.values()) {
    const p = n.parent === null || n.parent === n.server ? undefined : nodes.get(n.parent);
    if (p === undefined) tops.push(n);
    else p.children.push(n);
  }
  // A loop of parents hangs from no top: reach what hangs from the tops, add the rest as tops.
  const reached = new Set<string>();
  const walk = (n: TreeNode) => {
    reached.add(n.server);
    n.children.forEach(walk);
  };
  tops.forEach(walk);
  for (const n of nodes.values()) {
    if (reached.has(n.server)) continue;
    const p = n.parent === null ? undefined : nodes.get(n.parent);
    if (p !== undefined) p.children = p.children.filter((c) => c !== n);
    tops.push(n);
    walk(n);
  }
  const sort = (list: TreeNode[]) => {
    list.sort(byName);
    for (const n of list) sort(n.children);
  };
  sort(tops);
  return tops;
}

export function report(servers: readonly Described[], nowMs: number, source: TreeReport['source'], note?: string): TreeReport {
  const tree = buildTree(servers, nowMs);
  const states: Record<State, number> = { ok: 0, late: 0, failing: 0, unknown: 0 };
  const count = (n: TreeNode) => {
    states[n.state] += 1;
    n.children.forEach(count);
  };
  tree.forEach(count);
  return {
    format: 'zenroll-tree/1',
    generatedAt: new Date(nowMs).toISOString(),
    source,
    ...(note === undefined ? {} : { note }),
    servers: servers.length,
    states,
    tree,
  };
}

/** Every node, parents before children (the order the tree is drawn in). */
export function flatten(tree: readonly TreeNode[]): { node: TreeNode; depth: number; last: boolean[] }[] {
  const out: { node: TreeNode; depth: number; last: boolean[] }[] = [];
  const walk = (list: readonly TreeNode[], last: boolean[]) => {
    list.forEach((node, i) => {
      const here = [...last, i === list.length - 1];
      out.push({ node, depth: last.length, last: here });
      walk(node.children, here);
    });
  };
  walk(tree, []);
  return out;
}

/** The node of `server`, wherever it hangs; null when it is not in the tree. */
export function findNode(tree: readonly TreeNode[], server: string): TreeNode | null {
  for (const n of tree) {
    if (n.server === server) return n;
    const below = findNode(n.children, server);
    if (below !== null) return below;
  }
  return null;
}
