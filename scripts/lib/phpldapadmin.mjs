// Debian's phpLDAPadmin served by a private Apache on a loopback port, for
// the browser test (scripts/test-browser.mjs). Its own ServerRoot, config,
// sessions and logs in one folder; the system's apache2 service and
// /etc/phpldapadmin are neither used nor touched.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { QUERY_ID, apacheConf, plaConfigPhp, savedQueryXml } from './phpldapadmin-config.mjs';
import { freePort, sleep } from '@zenroll/directory/slapd';

export { QUERY_ID };
export const PLA_DIR = '/usr/share/phpldapadmin';
const APACHE = '/usr/sbin/apache2';
const MODULE_DIR = '/usr/lib/apache2/modules';

/** Debian's mod_php file name (libphp8.2.so on bookworm), or null. */
function phpModule() {
  if (!existsSync(MODULE_DIR)) return null;
  return readdirSync(MODULE_DIR).find((f) => /^libphp[\d.]*\.so$/.test(f)) ?? null;
}

/** What is missing for phpLDAPadmin under Apache, as Debian package names. */
export function phpLdapAdminMissing() {
  const missing = [];
  if (!existsSync(join(PLA_DIR, 'htdocs', 'index.php'))) missing.push('phpldapadmin');
  if (!existsSync(APACHE)) missing.push('apache2');
  if (!phpModule()) missing.push('libapache2-mod-php');
  return missing;
}

// Children of this process, killed when it exits, so that a failed run leaves
// no Apache behind: each its whole process group, workers included.
const tracked = new Set();
process.once('exit', () => {
  for (const child of tracked) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function httpStatus(url) {
  return new Promise((res, rej) => {
    const req = request(url, { timeout: 5_000 }, (r) => {
      r.resume();
      r.once('end', () => res(r.statusCode));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} in 5 s`)));
    req.once('error', rej);
    req.end();
  });
}

/**
 * Serve phpLDAPadmin for one LDAP server. Options: ldapHost, ldapPort, base
 * (the suffix), name (shown as the server's name), attributes (the saved
 * search's columns), readOnly (true; false only for the test's control run),
 * dir (default: a new temp folder, removed by stop()), patch (a function
 * given the private copy's folder before Apache starts: only for the test's
 * control of the session cipher failure below).
 * Returns { url, queryUrl, dir, errorLog, pid, stop() }.
 */
export async function startPhpLdapAdmin(opts) {
  const missing = phpLdapAdminMissing();
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} not installed: run \`sudo bash scripts/system-deps.sh\``);
  }
  const ownsDir = opts.dir === undefined;
  const dir = resolve(opts.dir ?? (await mkdtemp(join(tmpdir(), 'zenroll-pla-'))));
  const pla = join(dir, 'phpldapadmin');
  const sessions = join(dir, 'sessions');
  await mkdir(sessions, { recursive: true });
  // A copy, not the package's folder: phpLDAPadmin finds config/ and queries/
  // next to its lib/ by realpath, so a private config needs a private tree.
  await cp(PLA_DIR, pla, {
    recursive: true,
    dereference: true,
    filter: (src) => src !== join(PLA_DIR, 'doc') && src !== join(PLA_DIR, 'config', 'config.php'),
  });
  const configFile = join(pla, 'config', 'config.php');
  await writeFile(
    configFile,
    plaConfigPhp({
      secret: randomBytes(16).toString('hex'),
      name: opts.name,
      host: opts.ldapHost,
      port: opts.ldapPort,
      base: opts.base,
      readOnly: opts.readOnly,
    }),
    { mode: 0o640 },
  );
  await writeFile(join(pla, 'queries', `${QUERY_ID}.xml`), savedQueryXml({ base: opts.base, attributes: opts.attributes }));
  if (opts.patch) await opts.patch(pla);

  // As root, Apache serves as www-data: it must read the tree and write the sessions.
  const asRoot = userInfo().uid === 0;
  const www = asRoot ? wwwData() : null;
  if (www) {
    await searchableByAll(dirname(dir));
    await chmod(dir, 0o755);
    // The package keeps templates/ as root:www-data 0750; the copy is root's.
    await readableByAll(pla);
    await chown(sessions, www.uid, www.gid);
    await chmod(sessions, 0o700);
    await chown(configFile, 0, www.gid);
  }
  const port = opts.port ?? (await freePort());
  const conf = join(dir, 'httpd.conf');
  await writeFile(
    conf,
    apacheConf({
      root: dir,
      port,
      moduleDir: MODULE_DIR,
      phpModule: phpModule(),
      htdocs: join(pla, 'htdocs'),
      sessions,
      mimeTypes: '/etc/mime.types',
      ...(www ? { user: www.name, group: www.name } : {}),
    }),
  );

  const out = openSync(join(dir, 'apache.out'), 'a');
  // Its own process group: on shutdown the prefork MPM signals its whole group,
  // which would otherwise take this process (and its shell) down with it.
  const child = spawn(APACHE, ['-f', conf, '-DFOREGROUND'], { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  tracked.add(child);
  let exited = null;
  const gone = new Promise((r) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      tracked.delete(child);
      r();
    }),
  );
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (exited) throw new Error(`apache2 exited (${exited.code ?? exited.signal}) before answering:\n${await logTail(dir)}`);
      const status = await httpStatus(url).catch(() => null);
      if (status === 200) break;
      if (i > 200) throw new Error(`phpLDAPadmin did not answer 200 on ${url} within 10 s (last: ${status}):\n${await logTail(dir)}`);
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    queryUrl: `${url}cmd.php?cmd=query_engine&server_id=1&query=${QUERY_ID}&format=list`,
    dir,
    errorLog: join(dir, 'error.log'),
    pid: child.pid,
    stop,
  };
}

/**
 * Debian's phpLDAPadmin 1.2.6.3 keeps the login DN and password in its
 * session encrypted with aes-256-gcm, as base64(ciphertext '::' iv '::' tag),
 * and splits that on '::' to decrypt. The IV and tag are random bytes: when
 * one holds a ':' where the split goes wrong (about 1 login in 120, measured
 * with PHP 8.2), openssl_decrypt warns, phpLDAPadmin's error handler throws
 * while serialising the warning's backtrace, and every page of that session
 * answers HTTP 500 until its cookie is gone. Apache's error log then holds
 * that throw: the line naming it, written after `from` (errorLogLength), or null.
 */
export async function sessionCipherFailureSince(pla, from) {
  const text = (await readFile(pla.errorLog).catch(() => Buffer.alloc(0))).subarray(from).toString('utf8');
  return text.split('\n').find((l) => l.includes('PHP Fatal error') && l.includes('openssl_decrypt()')) ?? null;
}

/** How long Apache's error log of pla is now: where sessionCipherFailureSince starts reading. */
export async function errorLogLength(pla) {
  return (await stat(pla.errorLog).catch(() => null))?.size ?? 0;
}

/** A `patch` for startPhpLdapAdmin: the copy's IV always ends in ':', so that every login meets the failure above. */
export async function colonIv(dir) {
  const file = join(dir, 'lib', 'functions.php');
  const line = '$iv = openssl_random_pseudo_bytes(openssl_cipher_iv_length(SESSION_CIPHER));';
  const php = await readFile(file, 'utf8');
  if (!php.includes(line)) throw new Error(`${file} has no line "${line}": another phpLDAPadmin than 1.2.6.3`);
  await writeFile(file, php.replace(line, `${line} $iv[strlen($iv) - 1] = ':';`));
}

// Apache's www-data must pass through every folder above dir.
async function searchableByAll(path) {
  for (let p = path; ; p = dirname(p)) {
    if (((await stat(p)).mode & 0o001) === 0) {
      throw new Error(`Apache serves as www-data, which cannot pass through ${p}: give phpLDAPadmin a dir under another folder`);
    }
    if (dirname(p) === p) return;
  }
}

async function readableByAll(path) {
  const s = await stat(path);
  await chmod(path, (s.mode & 0o777) | (s.isDirectory() ? 0o555 : 0o444));
  if (s.isDirectory()) for (const name of await readdir(path)) await readableByAll(join(path, name));
}

function wwwData() {
  // Debian's web user; parsed from /etc/passwd rather than trusting a fixed id.
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('www-data:'));
  if (!line) throw new Error('running as root, but there is no www-data user for Apache to serve as');
  const [name, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

async function logTail(dir) {
  const parts = [];
  for (const f of ['apache.out', 'error.log', 'php.log']) {
    const text = await readFile(join(dir, f), 'utf8').catch(() => '');
    if (text.trim()) parts.push(`${join(dir, f)}:\n${text.slice(-1500)}`);
  }
  return parts.join('\n') || '(no log)';
}
