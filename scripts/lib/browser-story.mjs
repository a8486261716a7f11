// The parts of the browser test (scripts/test-browser.mjs) that are not the
// browser: a demo tree whose directory stays up, the logs as ldapsearch
// reads them, and the list of checks with its closing line.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ldapUtil, sleep } from './slapd-proc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const DEMO_SERVERS = ['LEAF1', 'LEAF2', 'INT1', 'ROOT'];

function zenroll(args) {
  return new Promise((res, rej) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`zenroll ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`.trim()));
      else res(stdout);
    });
  });
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids a `demo --keep` left running in dir: its four services (by their locks) and slapd. */
async function demoPids(dir) {
  const pids = [];
  for (const name of DEMO_SERVERS) {
    for (const sub of ['entpushdir/.zenroll', 'state']) {
      const lock = await readFile(join(dir, name, sub, 'serve.lock'), 'utf8').catch(() => null);
      if (lock !== null) pids.push(JSON.parse(lock).pid);
    }
  }
  const slapd = await readFile(join(dir, 'slapd', 'slapd.json'), 'utf8').catch(() => null);
  if (slapd !== null) pids.push(JSON.parse(slapd).pid);
  return pids.filter((p) => Number.isInteger(p) && p > 0);
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
 * Run a real demo roll-up (`zenroll demo --keep`) in dir and leave its
 * directory up. Returns { slapd (its slapd.json), operator, output, stop() };
 * stop() stops the demo's processes and waits until they are gone.
 */
export async function startDemo(dir, files = 10) {
  let output;
  const stop = async () => {
    const pids = await demoPids(dir);
    await zenroll(['demo', '--stop', '--dir', dir]);
    const until = Date.now() + 20_000;
    while (pids.some(alive)) {
      if (Date.now() > until) {
        for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
      }
      await sleep(50);
    }
  };
  try {
    output = await zenroll(['demo', '--dir', dir, '--files', String(files), '--keep']);
    const slapd = JSON.parse(await readFile(join(dir, 'slapd', 'slapd.json'), 'utf8'));
    return { slapd, operator: operatorOf(slapd), output, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Every object carrying a log, with its log values, as `ldapsearch -o ldif-wrap=no` shows them to the operator. */
export async function ldapLogs(slapd, operator) {
  const ldif = await ldapUtil('ldapsearch', [
    '-x', '-H', slapd.url, '-D', operator.dn,
    ...(operator.passwordFile ? ['-y', operator.passwordFile] : ['-w', operator.password]), '-o', 'ldif-wrap=no', '-LLL',
    '-b', slapd.suffix, '(objectClass=zeninvRollUpTarget)', 'zeninvRollUpLog', 'zenrollStatusLog',
  ]);
  const entries = [];
  for (const block of ldif.split(/\n\n+/).map((b) => b.trim()).filter(Boolean)) {
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
    console.log(`FAIL ${name}\n     ${String(err?.message ?? err).split('\n').join('\n     ')}`);
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
