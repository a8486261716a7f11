// The parts of the browser test (scripts/test-browser.mjs) that are not the
// browser: a demo tree whose directory stays up, the logs as ldapsearch
// reads them, and the list of checks with its closing line.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ldapUtil, sleep } from '@zenroll/directory/slapd';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

// The zenroll commands running now: stopDemo() ends a demo still starting.
const running = new Set();

function zenroll(args) {
  return new Promise((res, rej) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 180_000 }, (err, stdout, stderr) => {
      running.delete(child);
      if (err) rej(new Error(`zenroll ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`.trim()));
      else res(stdout);
    });
    running.add(child);
  });
}

// /proc/<pid>/stat: "pid (comm) S ppid pgrp …". A zombie (Z) has ended,
// though kill(pid, 0) still finds it until its parent (here often not us) reaps it.
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, pgrp: Number(pgrp) };
  } catch {
    return null;
  }
}

/** Whether a process runs; with group, whether any process of that process group runs. */
export function alive(pid, { group = false } = {}) {
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(group ? -pid : pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  if (!group) return (procStat(pid)?.state ?? 'Z') !== 'Z';
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .some((n) => {
      const st = procStat(n);
      return st !== null && st.pgrp === pid && st.state !== 'Z';
    });
}

/**
 * The pids a `demo --keep` left running in dir: every process whose command
 * line names the folder (its four `serve -c dir/…` and its slapd), found in
 * /proc rather than in the services' lock files, whose form is theirs to change.
 */
function demoPids(dir, only = () => true) {
  const pids = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (Number(name) !== process.pid && args.some((arg) => arg.startsWith(`${dir}/`)) && only(args)) pids.push(Number(name));
  }
  return pids;
}

/**
 * The operator account of the demo's directory (SPEC §7: the account a person
 * opens an LDAP browser with), from slapd.json.
 */
export function operatorOf(state) {
  if (!state.operatorDN || !state.operatorPassword) {
    throw new Error(`${join(state.dir, 'slapd.json')} names no operator account (operatorDN, operatorPassword)`);
  }
  return { dn: state.operatorDN, password: state.operatorPassword, passwordFile: state.operatorPasswordFile };
}

/**
 * Stop what a `demo --keep` in dir left running (`zenroll demo --stop`) and
 * wait until every process of it is gone; nothing to do when nothing runs.
 */
export async function stopDemo(dir) {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise((r) => {
          child.once('exit', r);
          child.kill('SIGTERM');
        }),
    ),
  );
  const pids = demoPids(dir);
  if (pids.length === 0) return;
  await zenroll(['demo', '--stop', '--dir', dir]);
  const until = Date.now() + 20_000;
  while (pids.some((pid) => alive(pid))) {
    if (Date.now() > until) {
      for (const pid of pids.filter((p) => alive(p))) process.kill(pid, 'SIGKILL');
    }
    await sleep(50);
  }
}

/**
 * Run a real demo roll-up (`zenroll demo --keep`) in dir, then stop its four
 * services so that the directory holds still while it is read (no scheduled
 * roll-up or wake-up adds a record between ldapsearch and the browser), and
 * leave its slapd up. Returns { slapd (its slapd.json), operator, output,
 * pids }. stopDemo(dir) stops the rest; on failure this does.
 */
export async function startDemo(dir, files = 10) {
  try {
    const output = await zenroll(['demo', '--dir', dir, '--files', String(files), '--keep']);
    const services = demoPids(dir, (args) => args.includes('serve'));
    if (services.length === 0) throw new Error(`no service of the demo runs after it:\n${output}`);
    for (const pid of services) process.kill(pid, 'SIGTERM');
    const until = Date.now() + 20_000;
    while (services.some((pid) => alive(pid))) {
      if (Date.now() > until)
        throw new Error(`the demo's services did not stop within 20 s of SIGTERM (pids ${services.filter((p) => alive(p)).join(', ')})`);
      await sleep(50);
    }
    const slapd = JSON.parse(await readFile(join(dir, 'slapd', 'slapd.json'), 'utf8'));
    return { slapd, operator: operatorOf(slapd), output, pids: demoPids(dir) };
  } catch (err) {
    await stopDemo(dir).catch(() => {});
    throw err;
  }
}

/** Every object carrying a log, with its log values, as `ldapsearch -o ldif-wrap=no` shows them to the operator. */
export async function ldapLogs(slapd, operator) {
  const ldif = await ldapUtil('ldapsearch', [
    '-x',
    '-H',
    slapd.url,
    '-D',
    operator.dn,
    ...(operator.passwordFile ? ['-y', operator.passwordFile] : ['-w', operator.password]),
    '-o',
    'ldif-wrap=no',
    '-LLL',
    '-b',
    slapd.suffix,
    '(objectClass=zeninvRollUpTarget)',
    'zeninvRollUpLog',
    'zenrollStatusLog',
  ]);
  const entries = [];
  for (const block of ldif
    .split(/\n\n+/)
    .map((b) => b.trim())
    .filter(Boolean)) {
    const entry = { dn: '', values: [] };
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z]+)(::?) ?(.*)$/.exec(line);
      if (!m) throw new Error(`ldapsearch printed a line this test cannot read: ${line.slice(0, 80)}`);
      const value = m[2] === '::' ? Buffer.from(m[3], 'base64').toString('utf8') : m[3];
      if (m[1] === 'dn') entry.dn = value;
      else entry.values.push(value);
    }
    entries.push(entry);
  }
  return entries;
}

/** Named checks, each printed as it ends; summary() is the closing "N passed, N failed". */
export function checkList() {
  const list = { passed: 0, failed: 0 };
  list.fail = (name, err) => {
    list.failed++;
    console.log(
      `FAIL ${name}\n     ${String(err?.message ?? err)
        .split('\n')
        .join('\n     ')}`,
    );
  };
  list.check = async (name, fn) => {
    try {
      const value = await fn();
      list.passed++;
      console.log(`ok   ${name}`);
      return value ?? true;
    } catch (err) {
      list.fail(name, err);
      return null;
    }
  };
  list.summary = () => `${list.passed} passed, ${list.failed} failed`;
  return list;
}
