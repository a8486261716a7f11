#!/usr/bin/env node
// `npm run test:browser`: the roll-up log read in an LDAP browser, for real
// (SPEC §7; docs/ldap-browser.md). A demo roll-up fills a private slapd;
// Debian's phpLDAPadmin is served by a private Apache on a loopback port;
// Debian's headless Chromium logs in as the demo's operator, opens a
// server's object and the saved search's list view, and the checks read the
// rendered pages. Screenshots go to .browser-shots/ (or --shots DIR);
// --update-docs also copies two of them into docs/ when every check passed.
// --no-build skips `turbo run build`. Ends with
// "N passed, N failed" and exits 1 on any failure. Everything it starts, it
// stops, also on Ctrl-C.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { editControls, headProblem, listViewValues, loggedInAs, objectPageValues } from './lib/browser-checks.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: { shots: { type: 'string' }, 'update-docs': { type: 'boolean' }, 'no-build': { type: 'boolean' } },
});
const shots = resolve(opts.shots ?? join(ROOT, '.browser-shots'));
if (!opts['no-build']) {
  const r = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// These use the built packages (the private slapd of @zenroll/directory, the browser launcher of @zenroll/testkit): imported once built.
const { chromiumInstalled, launchBrowser } = await import('@zenroll/testkit');
const { alive, checkList, ldapLogs, startDemo, stopDemo } = await import('./lib/browser-story.mjs');
const { colonIv, errorLogLength, phpLdapAdminMissing, sessionCipherFailureSince, startPhpLdapAdmin } = await import(
  './lib/phpldapadmin.mjs'
);
const { slapdInstalled } = await import('@zenroll/directory/slapd');
const checks = checkList();
const { check } = checks;

const missing = [
  ...(slapdInstalled() ? [] : ['slapd', 'ldap-utils']),
  ...phpLdapAdminMissing(),
  ...(chromiumInstalled() ? [] : ['chromium']),
];
if (missing.length > 0) {
  console.error(`test-browser: ${missing.join(', ')} not installed; run: sudo bash scripts/system-deps.sh`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// Stops, newest first; run once, also on Ctrl-C. `started` lists the
// processes they must have ended (an Apache's whole process group).
const stops = [];
const started = [];
let stopping = null;
const stopAll = () =>
  (stopping ??= (async () => {
    for (let stop = stops.pop(); stop; stop = stops.pop()) {
      await stop().catch((err) => console.error(`test-browser: stopping: ${err.message}`));
    }
  })());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.log(`${signal}: stopping what was started`);
    void stopAll().then(() => process.exit(130));
  });
}

const work = await mkdtemp(join(tmpdir(), 'zenroll-browser-'));
stops.push(() => rm(work, { recursive: true, force: true }));
await mkdir(shots, { recursive: true });
const shot = async (page, name, o = {}) => {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, ...o });
  return path;
};

try {
  stops.push(() => stopDemo(join(work, 'demo')));
  const demo = await check('a demo roll-up fills the directory, which stays up (its services stopped)', async () => {
    const d = await startDemo(join(work, 'demo'));
    started.push(...d.pids.map((pid) => ({ what: 'a demo process', pid })));
    return d;
  });
  if (!demo) throw new Error('no demo, nothing to browse');
  const { slapd, operator } = demo;

  const expected = await check(`the operator (${operator.dn}) reads every log with ldapsearch`, async () => {
    const logs = await ldapLogs(slapd, operator);
    const servers = Object.keys(slapd.servers);
    const names = logs.map((e) => e.dn);
    for (const s of servers) {
      if (!names.includes(slapd.servers[s].dn)) throw new Error(`${slapd.servers[s].dn} not found`);
    }
    const records = logs.reduce((n, e) => n + e.values.length, 0);
    if (records === 0) throw new Error('no records at all');
    return logs;
  });

  const pla = await check('phpLDAPadmin is served by a private Apache on a loopback port', async () => {
    const p = await startPhpLdapAdmin({
      ldapHost: '127.0.0.1',
      ldapPort: slapd.port,
      base: slapd.suffix,
      name: `zenroll demo (${slapd.tree})`,
      attributes: ['zeninvRollUpLog', 'zenrollStatusLog'],
    });
    stops.push(p.stop);
    started.push({ what: 'Apache', pid: p.pid, group: true });
    return p;
  });
  const browser =
    pla &&
    (await check('headless Chromium starts', async () => {
      const b = await launchBrowser({ width: 1280, height: 800 });
      stops.push(b.close);
      started.push({ what: 'Chromium', pid: b.browser.process()?.pid ?? 0 });
      return b;
    }));
  if (!pla || !browser || !expected) throw new Error('cannot go on without phpLDAPadmin, Chromium and the records');
  const { page } = browser;
  await check('the operator logs in through the login form, read-only', async () => {
    const who = await logIn(page, pla, operator, () => shot(page, '1-login'));
    if (who?.dn !== operator.dn) throw new Error(`the page says logged in as ${JSON.stringify(who)}`);
    if (!who.readOnly) throw new Error('the page does not say "(read only)"');
  });

  // ROOT's object holds records of every kind that reaches the root.
  const target = slapd.servers.ROOT?.dn ?? Object.values(slapd.servers)[0].dn;
  const want = expected.find((e) => e.dn === target);
  await check(`${target}: each record's first 40 characters, as its box shows them, hold its time and event`, async () => {
    await page.goto(`${pla.url}cmd.php?cmd=template_engine&server_id=1&dn=${encodeURIComponent(target)}`);
    await page.waitForSelector('form#entry_form');
    await shot(page, '2-object');
    await shot(page, '2-object-full', { fullPage: true });
    const boxes = await objectPageValues(page);
    if (boxes.length === 0) throw new Error('no log value on the page');
    sameValues(
      boxes.map((b) => b.value),
      want.values,
    );
    for (const b of boxes) {
      const problem = headProblem(b.value);
      if (problem) throw new Error(`${b.attr} value ${problem}`);
      const head = b.value.split(' ', 2).join(' ').length;
      if (b.shown < head || b.scrolled !== 0) {
        throw new Error(
          `${b.attr}'s box shows ${b.shown} characters (scrolled ${b.scrolled}), not the ${head} of "${b.value.slice(0, head)}"`,
        );
      }
    }
  });
  await check(`${target}: the page offers no edit control and shows no password`, async () => {
    const found = await editControls(page);
    if (found.length > 0) throw new Error(`edit controls: ${found.join('; ')}`);
    const text = await page.evaluate(() => document.body.innerText);
    if (/userPassword/i.test(text)) throw new Error('the page shows userPassword');
  });

  await check('the saved search lists every log-carrying object, in list view', async () => {
    await page.goto(`${pla.url}cmd.php?cmd=query_engine&server_id=1`);
    const choice = await page.$eval('select[name=query]', (sel) => [...sel.options].find((o) => /roll-up log/.test(o.textContent))?.value);
    if (!choice) throw new Error('no saved search "roll-up log" among the predefined queries');
    await page.select('select[name=query]', choice);
    await page.select('select[name=format]', 'list');
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit][value=Search]')]);
    const text = await page.evaluate(() => document.body.innerText);
    const found = /Entries found:\s*(\d+)/.exec(text);
    if (Number(found?.[1]) !== expected.length) throw new Error(`"Entries found: ${found?.[1]}", expected ${expected.length}`);
    await shot(page, '3-search-list');
    await shot(page, '3-search-list-full', { fullPage: true });
  });
  await check("list view: each record's first 40 characters hold its time and event, on one line", async () => {
    const values = await listViewValues(page);
    sameValues(
      values.map((v) => v.value),
      expected.flatMap((e) => e.values),
    );
    for (const v of values) {
      const problem = headProblem(v.value);
      if (problem) throw new Error(`${v.entry} ${v.attr} value ${problem}`);
      if (!v.headOnOneLine || !v.headInView) throw new Error(`${v.entry}: "${v.value.slice(0, 40)}" is broken across lines or out of view`);
    }
  });
  await check('the search result offers no edit control', async () => {
    const found = await editControls(page);
    if (found.length > 0) throw new Error(`edit controls: ${found.join('; ')}`);
  });

  // The control: the same check must see the controls of a phpLDAPadmin that is not read-only.
  // A second phpLDAPadmin on the same directory, with a page of its own, for a control check; both gone after fn.
  const withControl = async (opts, fn) => {
    const pla = await startPhpLdapAdmin({
      ldapHost: '127.0.0.1',
      ldapPort: slapd.port,
      base: slapd.suffix,
      attributes: ['zeninvRollUpLog'],
      ...opts,
    });
    try {
      const controlPage = await browser.newPage();
      try {
        await fn(controlPage, pla);
      } finally {
        await controlPage.close();
      }
    } finally {
      await pla.stop();
    }
  };

  // The control: the same check must see the controls of a phpLDAPadmin that is not read-only.
  await check('control: on a read-write phpLDAPadmin the same check finds edit controls', () =>
    withControl({ name: 'read-write control', readOnly: false }, async (rwPage, rw) => {
      const who = await logIn(rwPage, rw, operator);
      if (who.dn !== operator.dn || who.readOnly) throw new Error(`the page says logged in as ${JSON.stringify(who)}`);
      await rwPage.goto(`${rw.url}cmd.php?cmd=template_engine&server_id=1&dn=${encodeURIComponent(target)}`);
      const found = await editControls(rwPage);
      if (found.length === 0) throw new Error('found none: the check cannot tell a read-only page from a read-write one');
    }),
  );

  // The control of logIn's one retry: a phpLDAPadmin whose IV always ends in
  // ':' loses every login to its session cipher, as the real one loses about
  // one in 120; logIn must name that failure (not retry anything else), and
  // try again as often as it is told.
  await check("control: a login lost to phpLDAPadmin's session cipher is recognised (HTTP 500), and retried", () =>
    withControl({ name: 'session cipher control', patch: colonIv }, async (badPage, bad) => {
      const err = await logIn(badPage, bad, operator, undefined, 2).then(
        () => null,
        (e) => e,
      );
      if (!err) throw new Error('logged in, though every IV ends in a colon');
      if (!/after 2 tries, each lost to phpLDAPadmin's session cipher: HTTP 500/.test(err.message)) {
        throw new Error(`logIn failed otherwise: ${err.message}`);
      }
    }),
  );

  await check('the pages asked nothing but loopback addresses', async () => {
    if (browser.offsite.length > 0) throw new Error(`requests elsewhere: ${[...new Set(browser.offsite)].slice(0, 5).join(', ')}`);
  });

  if (opts['update-docs'] && checks.failed === 0) {
    for (const [from, to] of [
      ['2-object-full', 'ldap-browser'],
      ['3-search-list-full', 'ldap-browser-search'],
    ]) {
      await copyFile(join(shots, `${from}.png`), join(ROOT, 'docs', `${to}.png`));
      console.log(`wrote docs/${to}.png`);
    }
  }
} catch (err) {
  checks.fail('the story ran to its end', err);
} finally {
  await stopAll();
}
await check('everything it started has stopped, and its temp folder is gone', async () => {
  const left = started.filter((p) => p.pid > 0 && alive(p.pid, { group: p.group })).map((p) => `${p.what} (pid ${p.pid})`);
  if (existsSync(work)) left.push(work);
  if (left.length > 0) throw new Error(`still there: ${left.join(', ')}`);
});
console.log(`screenshots: ${shots}`);
console.log(checks.summary());
process.exitCode = checks.failed > 0 ? 1 : 0;

/**
 * phpLDAPadmin's login form, filled as a person would; `before` runs just
 * before it is sent. Returns who the page says is logged in, or throws with
 * the HTTP status and what the page says. A login lost to phpLDAPadmin's own
 * session cipher bug (sessionCipherFailure: HTTP 500, Apache's error log
 * names it) is what a person meets about once in 120 logins: like them, this
 * drops the session's cookie and logs in again, at most 3 times, and says so.
 * Any other failure ends it at once.
 */
async function logIn(p, pla, account, before = async () => {}, tries = 3) {
  for (let attempt = 1; ; attempt++) {
    const logged = await errorLogLength(pla);
    await p.goto(`${pla.url}cmd.php?cmd=login_form&server_id=1`);
    await p.type('#login', account.dn);
    await p.type('#password', account.password);
    await before();
    const [res] = await Promise.all([p.waitForNavigation(), p.click('input[type=submit]')]);
    const who = await loggedInAs(p);
    if (who) return who;
    const cipher = await sessionCipherFailureSince(pla, logged);
    const said = `HTTP ${res?.status() ?? '?'}, the page says "${await pageText(p, 200)}"`;
    if (!cipher) throw new Error(`not logged in: ${said}`);
    if (attempt >= tries) {
      throw new Error(`not logged in after ${attempt} tries, each lost to phpLDAPadmin's session cipher: ${said}; ${cipher.slice(0, 200)}`);
    }
    console.log(`     (phpLDAPadmin's session cipher lost the login, ${said}: a new session, logging in again)`);
    const cdp = await p.createCDPSession();
    await cdp.send('Network.clearBrowserCookies');
    await cdp.detach();
  }
}

async function pageText(p, max) {
  const text = await p.evaluate(() => document.body?.innerText ?? '').catch(() => '');
  return text.replace(/\s+/g, ' ').trim().slice(0, max);
}

function sameValues(seen, want) {
  const a = [...seen].sort();
  const b = [...want].sort();
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    const missingOnPage = b.filter((v) => !a.includes(v));
    throw new Error(
      `the page shows ${a.length} values, the directory holds ${b.length}; missing: ${missingOnPage.slice(0, 2).join(' | ') || '-'}`,
    );
  }
}
