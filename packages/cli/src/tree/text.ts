/**
 * `zenroll tree` for people: the tree drawn with box characters, children
 * under their parent, each server on a few lines that fit 80 columns; the
 * state in colour only when stdout is a terminal (and NO_COLOR is unset).
 */
import { flatten, shortTime, type State, type TreeNode, type TreeReport } from './model.js';

export { shortTime };

const COLOUR: Record<State, string> = { ok: '\x1b[32m', late: '\x1b[33m', failing: '\x1b[31m', unknown: '\x1b[90m' };
const RESET = '\x1b[0m';

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function traffic(t: TreeNode['sent24h']): string {
  return t.zips === 0 ? '0' : `${plural(t.zips, 'zip')} (${t.files} .str, ${bytesText(t.bytes)})`;
}

/** The lines under a server's name. */
export function detailLines(n: TreeNode): string[] {
  if (n.described === null) return [n.why];
  const b = n.backlog;
  const waiting = [
    ...(b.strWaiting === null ? [] : [`${b.strWaiting} .str`]),
    ...(b.zipsWaiting === null ? [] : [plural(b.zipsWaiting, 'zip')]),
    ...(b.zipsRejected === null ? [] : [`${b.zipsRejected} rejected`]),
  ];
  // A role that only receives has no roll-ups of its own.
  const rollup = n.schedule === null ? 'receives only' : `last roll-up ${shortTime(n.lastRollup)}`;
  const lines = [
    `${rollup}${waiting.length > 0 ? `, waiting ${waiting.join(', ')}` : ''}`,
    `24 h: sent ${traffic(n.sent24h)}, received ${traffic(n.received24h)}`,
  ];
  if (n.state !== 'ok') lines.push(`${n.state}: ${n.why}`);
  return lines;
}

function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

export function renderText(r: TreeReport, o: { color: boolean; width?: number }): string {
  const width = o.width ?? 80;
  const paint = (s: State, text: string) => (o.color ? `${COLOUR[s]}${text}${RESET}` : text);
  const out: string[] = [];
  for (const { node, depth, last } of flatten(r.tree)) {
    // Levels 1..depth-1 continue their line unless that ancestor was the last of its siblings.
    const through = last
      .slice(1, depth)
      .map((l) => (l ? '   ' : '│  '))
      .join('');
    const branch = depth === 0 ? '' : last[depth] ? '└─ ' : '├─ ';
    const under = `${through}${depth === 0 ? '' : last[depth] ? '   ' : '│  '}${node.children.length > 0 ? '│ ' : '  '}`;
    const head = cut(`${through}${branch}${node.server}${node.role === null ? '' : `  ${node.role}`}`, width - node.state.length - 1);
    out.push(`${head}${' '.repeat(Math.max(1, width - head.length - node.state.length))}${paint(node.state, node.state)}`);
    for (const l of detailLines(node)) out.push(cut(`${under}${l}`, width));
  }
  const s = r.states;
  out.push(
    '',
    `${plural(r.servers, 'server')}: ${s.ok} ok, ${s.late} late, ${s.failing} failing, ${s.unknown} unknown (${r.source === 'directory' ? 'from the directory' : 'from this Receiver and the children that polled it'}${r.note ? `; ${r.note}` : ''})`,
  );
  return `${out.join('\n')}\n`;
}
