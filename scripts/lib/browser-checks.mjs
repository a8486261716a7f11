// What the browser test (scripts/test-browser.mjs) reads from pages that
// phpLDAPadmin rendered in Chromium: the log values as a person sees them,
// and every control that would let them change something. The functions
// passed to page.evaluate run inside the page.

/** The multi-valued log attributes of SPEC §7, as phpLDAPadmin names them in form fields (lower case). */
export const LOG_ATTRS = ['zeninvRollUpLog', 'zenrollStatusLog'];

/** SPEC §7 record v2: time, event, hop first. */
export const V2_HEAD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([a-z][a-z-]*) (\S+) /;

// phpLDAPadmin commands that change the directory (its config's command list).
export const WRITE_COMMANDS = [
  'add_attr_form',
  'add_oclass_form',
  'add_value_form',
  'copy',
  'copy_form',
  'create',
  'create_confirm',
  'delete',
  'delete_attr',
  'delete_form',
  'import',
  'import_form',
  'mass_delete',
  'mass_edit',
  'mass_update',
  'modify_member_form',
  'rdelete',
  'rename',
  'rename_form',
  'update',
  'update_confirm',
];

/**
 * What a record's first 40 characters must show (SPEC §7: "written for the
 * person reading it first, in an LDAP browser's 40-character text box"):
 * its time and event. Returns null when they do, else what is wrong.
 */
export function headProblem(value) {
  const first40 = value.slice(0, 40);
  const m = V2_HEAD.exec(value);
  if (!m) return `does not start "<time> <event> <hop> ": ${JSON.stringify(first40)}`;
  const head = `${m[1]} ${m[2]}`;
  if (head.length > 40) return `time and event take ${head.length} characters, more than 40: ${JSON.stringify(first40)}`;
  return null;
}

/**
 * On an object page (cmd=template_engine): each log value's text box, with
 * how many of its characters the box shows without scrolling (measured with
 * the box's own font and inner width).
 */
export function objectPageValues(page) {
  return page.evaluate((attrs) => {
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d');
    const out = [];
    for (const attr of attrs) {
      for (const box of document.querySelectorAll(`[name^="new_values[${attr.toLowerCase()}]"]`)) {
        const cs = getComputedStyle(box);
        ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const inner = box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
        const value = box.value;
        let shown = 0;
        while (shown < value.length && ctx.measureText(value.slice(0, shown + 1)).width <= inner) shown++;
        out.push({ attr, value, shown, tag: box.tagName.toLowerCase(), scrolled: box.scrollLeft });
      }
    }
    return out;
  }, LOG_ATTRS);
}

/**
 * On a search result in list format (cmd=query_engine&format=list): each
 * entry's log values (one text node each, between <br>s), and whether the
 * first `headChars` characters of each sit on one line of the screen.
 */
export function listViewValues(page) {
  return page.evaluate((attrs) => {
    const wanted = new Set(attrs.map((a) => a.toLowerCase()));
    const head = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z][a-z-]*/;
    const out = [];
    for (const table of document.querySelectorAll('table.result')) {
      const entry = table.querySelector('tr.list_title a')?.textContent.trim() ?? '';
      for (const row of table.querySelectorAll('tr.list_item')) {
        const attr = row.querySelector('td.heading')?.textContent.trim() ?? '';
        if (!wanted.has(attr.toLowerCase())) continue;
        const cell = row.lastElementChild;
        for (const node of cell.childNodes) {
          if (node.nodeType !== Node.TEXT_NODE || node.textContent.length === 0) continue;
          const value = node.textContent;
          const m = head.exec(value);
          const n = m ? m[0].length : Math.min(40, value.length);
          const range = document.createRange();
          range.setStart(node, 0);
          range.setEnd(node, n);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          const box = range.getBoundingClientRect();
          out.push({
            entry,
            attr,
            value,
            headOnOneLine: tops.size === 1,
            headInView: box.left >= 0 && box.right <= document.documentElement.clientWidth,
          });
        }
      }
    }
    return out;
  }, LOG_ATTRS);
}

/**
 * Who the page says is logged in: phpLDAPadmin writes "Logged in as:" and
 * the DN, or, when the account's own entry is readable, a link to it that
 * shows only its first RDN; "(read only)" follows on a read-only server.
 */
export function loggedInAs(page) {
  return page.evaluate(() => {
    const cells = [...document.querySelectorAll('td.logged_in')];
    const who = cells.find((c) => c.textContent.includes('Logged in as:'));
    if (!who) return null;
    const href = who.querySelector('a[href*="dn="]')?.getAttribute('href');
    const dn = href
      ? new URLSearchParams(href.slice(href.indexOf('?') + 1)).get('dn')
      : who.textContent.replace('Logged in as:', '').trim();
    return { dn, readOnly: cells.some((c) => c.textContent.trim() === '(read only)') };
  });
}

/**
 * Every control on the page that would change something: a field that takes
 * typing, a button, or a link or action to one of phpLDAPadmin's writing
 * commands (or to its "create an entry here" form). Empty on a read-only page.
 */
export function editControls(page) {
  return page.evaluate((writeCommands) => {
    const found = [];
    const describe = (el) =>
      `<${el.tagName.toLowerCase()} ${['name', 'type', 'value', 'href']
        .map((a) => el.getAttribute(a))
        .filter(Boolean)
        .join(' ')
        .slice(0, 120)}>`;
    const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    for (const el of document.querySelectorAll('input, textarea, select, button, [contenteditable]')) {
      const type = (el.getAttribute('type') ?? '').toLowerCase();
      if (type === 'hidden' || !shown(el)) continue;
      if (['submit', 'button', 'reset', 'image'].includes(type) || el.tagName === 'BUTTON') {
        if (!el.disabled) found.push(`button ${describe(el)}`);
        continue;
      }
      if (el.isContentEditable && el.tagName !== 'INPUT' && el.tagName !== 'TEXTAREA') {
        found.push(`editable ${describe(el)}`);
        continue;
      }
      if (!el.disabled && !el.readOnly) found.push(`field ${describe(el)}`);
    }
    const commandOf = (text) => {
      const m = /(?:^|[?&'"])cmd=([a-z_]+)([^'"]*)/.exec(text ?? '');
      return m ? { cmd: m[1], rest: m[2] } : null;
    };
    for (const el of document.querySelectorAll('a[href], a[onclick], form[action], [onclick]')) {
      for (const text of [el.getAttribute('href'), el.getAttribute('onclick'), el.getAttribute('action')]) {
        const c = commandOf(text);
        if (!c) continue;
        const creates = c.cmd === 'template_engine' && /container=/.test(c.rest);
        if (writeCommands.includes(c.cmd) || creates) found.push(`link to ${c.cmd}${creates ? ' (create)' : ''}: ${describe(el)}`);
      }
    }
    return found;
  }, WRITE_COMMANDS);
}
