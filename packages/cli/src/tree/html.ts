/**
 * The `/tree` page of the admin listener (SPEC §8): the same tree as
 * `zenroll tree`, as one self-contained HTML page — no script, no outside
 * asset, no build step — each server coloured by its state and linked to a
 * page of its own with its recent records (the v2 lines as stored) and its
 * status log. Both pages refresh themselves (meta refresh).
 */
import { serializeRecord, type RollupRecord } from '@zenroll/core';
import { shortTime, type State, type TreeNode, type TreeReport } from './model.js';
import { bytesText, detailLines } from './text.js';

export const REFRESH_SECONDS = 30;

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

export function serverHref(server: string): string {
  return `/tree/server/${encodeURIComponent(server)}`;
}

const STYLE = `
:root{--ok:#1b7a34;--ok-bg:#e6f4ea;--late:#9a6700;--late-bg:#fff4d6;--failing:#b3261e;--failing-bg:#fde7e7;--unknown:#5f6368;--unknown-bg:#eceff1}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;padding:20px 28px;background:#f7f8fa;color:#1f2328}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#57606a;margin:0 0 14px}
.chips{display:flex;gap:8px;flex-wrap:wrap;margin:0 0 18px;padding:0;list-style:none}
.chip{border-radius:12px;padding:2px 10px;font-weight:600;border:1px solid}
ul.tree,ul.tree ul{list-style:none;margin:0;padding:0}
ul.tree ul{margin-left:22px;padding-left:18px;border-left:2px solid #c9d1d9}
ul.tree li{margin:8px 0;position:relative}
ul.tree ul>li::before{content:"";position:absolute;left:-18px;top:22px;width:16px;border-top:2px solid #c9d1d9}
ul.tree ul>li:last-child::after{content:"";position:absolute;left:-20px;top:24px;bottom:-10px;border-left:2px solid #f7f8fa}
a.node{display:inline-block;min-width:420px;max-width:760px;text-decoration:none;color:inherit;background:#fff;border:1px solid #d0d7de;border-left:6px solid;border-radius:6px;padding:6px 12px}
a.node:hover,a.node:focus{box-shadow:0 0 0 3px #0969da33;outline:none}
.name{font-weight:700;font-size:15px}.role{color:#57606a;margin-left:8px}
.state{float:right;margin-left:12px;font-weight:700;border-radius:10px;padding:0 8px;font-size:12px;line-height:20px}
h1 .state{float:none;margin-left:10px;vertical-align:3px;font-size:13px}
.line{color:#3d444d;font-size:13px}.why{font-size:13px;font-weight:600}
a.node.ok{border-left-color:var(--ok)}.ok .state,.chip.ok{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}.ok .why{color:var(--ok)}
a.node.late{border-left-color:var(--late)}.late .state,.chip.late{color:var(--late);background:var(--late-bg);border-color:var(--late)}.late .why{color:var(--late)}
a.node.failing{border-left-color:var(--failing)}.failing .state,.chip.failing{color:var(--failing);background:var(--failing-bg);border-color:var(--failing)}.failing .why{color:var(--failing)}
a.node.unknown{border-left-color:var(--unknown)}.unknown .state,.chip.unknown{color:var(--unknown);background:var(--unknown-bg);border-color:var(--unknown)}.unknown .why{color:var(--unknown)}
table.facts{border-collapse:collapse;background:#fff;border:1px solid #d0d7de}
table.facts th,table.facts td{text-align:left;padding:4px 12px;border-bottom:1px solid #eaeef2;vertical-align:top}
table.facts th{color:#57606a;font-weight:600}
pre{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;overflow-x:auto;font:12px/1.5 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre}
footer{margin-top:24px;color:#57606a;font-size:12px}
a{color:#0969da}
`;

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="refresh" content="${REFRESH_SECONDS}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    body,
    `<footer>zenroll · this page refreshes itself every ${REFRESH_SECONDS} s · <a href="/tree">tree</a> · <a href="/metrics">metrics</a></footer>`,
    '</body></html>',
    '',
  ].join('\n');
}

function chips(states: Record<State, number>): string {
  return `<ul class="chips">${Object.entries(states)
    .map(([s, n]) => `<li class="chip ${s}">${n} ${s}</li>`)
    .join('')}</ul>`;
}

function nodeHtml(n: TreeNode): string {
  const lines = detailLines(n);
  const last = n.state === 'ok' ? undefined : lines.pop();
  const why = last === undefined ? [] : [last];
  const box = [
    `<a class="node ${n.state}" href="${esc(serverHref(n.server))}" title="${esc(`${n.server}: recent records and status log`)}">`,
    `<span class="state">${n.state}</span><span class="name">${esc(n.server)}</span>${n.role === null ? '' : `<span class="role">${esc(n.role)}</span>`}`,
    ...(n.described === null ? [] : lines.map((l) => `<div class="line">${esc(l)}</div>`)),
    ...why.map((l) => `<div class="why">${esc(l)}</div>`),
    ...(n.described === null ? [`<div class="why">${esc(n.why)}</div>`] : []),
    '</a>',
  ].join('');
  const children = n.children.length === 0 ? '' : `<ul>${n.children.map((c) => `<li>${nodeHtml(c)}</li>`).join('')}</ul>`;
  return `${box}${children}`;
}

/** The whole tree. `self`: the server whose admin listener serves it. */
export function treePage(r: TreeReport, self: string): string {
  const from = r.source === 'directory' ? 'from the directory' : 'from this Receiver and the children that polled it';
  return page(
    `zenroll tree — ${self}`,
    [
      `<h1>zenroll tree <span class="role">seen from ${esc(self)}</span></h1>`,
      `<p class="meta">${r.servers} server${r.servers === 1 ? '' : 's'} ${from}, at ${esc(shortTime(r.generatedAt))}${r.note ? ` — ${esc(r.note)}` : ''}. Click a server for its recent records and status log.</p>`,
      chips(r.states),
      `<ul class="tree">${r.tree.map((n) => `<li>${nodeHtml(n)}</li>`).join('')}</ul>`,
    ].join('\n'),
  );
}

function facts(n: TreeNode): string {
  const b = n.backlog;
  const t = (x: TreeNode['sent24h']) => (x.zips === 0 ? '0' : `${x.zips} zips, ${x.files} .str, ${bytesText(x.bytes)}`);
  const rows: [string, string][] = [
    ['state', n.state === 'ok' ? 'ok' : `${n.state}: ${n.why}`],
    ['role', n.role ?? '—'],
    ['parent', n.parent === null ? '—' : `${n.parent}${n.parentUrl ? ` (${n.parentUrl})` : ''}`],
    ['version', n.version ?? '—'],
    ['schedule', n.schedule ?? '—'],
    ['last roll-up', n.lastRollup === null ? 'never' : `${shortTime(n.lastRollup)} — ${n.lastRollupResult ?? ''}`],
    ['late after', n.lateAfter === null ? '—' : shortTime(n.lateAfter)],
    ['waiting', `${b.strWaiting ?? '—'} .str, ${b.zipsWaiting ?? '—'} zips, ${b.zipsRejected ?? '—'} rejected`],
    ['sent, 24 h', t(n.sent24h)],
    ['received, 24 h', t(n.received24h)],
    ['described', n.described === null ? 'never' : shortTime(n.described)],
  ];
  return `<table class="facts">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function records(list: RollupRecord[], none: string): string {
  return list.length === 0 ? `<p class="meta">${esc(none)}</p>` : `<pre>${list.map((r) => esc(serializeRecord(r))).join('\n')}</pre>`;
}

/** One server: what it wrote about itself, its newest roll-up records and status records (v2 lines, newest first). */
export function serverPage(o: {
  server: string;
  node: TreeNode | null;
  rollup: RollupRecord[];
  status: RollupRecord[];
  limit: number;
  note?: string;
}): string {
  return page(
    `zenroll — ${o.server}`,
    [
      `<p><a href="/tree">← tree</a></p>`,
      `<h1>${esc(o.server)}${o.node ? ` <span class="state chip ${o.node.state}">${o.node.state}</span>` : ''}</h1>`,
      o.node === null ? '<p class="meta">No such server in the tree.</p>' : facts(o.node),
      ...(o.note ? [`<p class="meta">${esc(o.note)}</p>`] : []),
      `<h2>Roll-up log <span class="role">newest ${o.limit} (zeninvRollUpLog)</span></h2>`,
      records(o.rollup, 'No roll-up records.'),
      `<h2>Status log <span class="role">newest ${o.limit} (zenrollStatusLog)</span></h2>`,
      records(o.status, 'No status records.'),
    ].join('\n'),
  );
}
