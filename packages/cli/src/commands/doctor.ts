/**
 * `zenroll doctor`: one line per check, ok or what to fix (SPEC §5). Each
 * check is independent: one failing does not hide the others.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import {
  TrustStore,
  encodeName,
  freeSpace,
  keyIdOf,
  loadConfig,
  loadKeyPair,
  loadPublicKey,
  parseScheduledTime,
  roleInfo,
  errorSpec,
  messageOf,
  fieldOf,
  errnoCode,
  type Config,
} from '@zenroll/core';
import { openDirectory, serverOfDn } from '@zenroll/directory';
import { EXIT_FAILED, EXIT_OK } from '../exit.js';
import type { Program } from '../main.js';
import { checkSchedule } from '../service/scheduler.js';

export interface Check {
  name: string;
  ok: boolean;
  /** What was found, or what to fix. */
  detail: string;
  /** Worth knowing but not a failure. */
  warning?: boolean;
}

type CheckFn = () => Promise<Omit<Check, 'name'>>;

/**
 * What a failing check means to `zenroll serve` at its start (issue 16):
 * `fatal` it cannot work (exit 2 with the fix), `warn` it starts degraded (a
 * parent or a directory that does not answer now may later), `null` not
 * checked at start (the Receiver logs its own trust warnings).
 */
export type StartupWeight = 'fatal' | 'warn' | null;

export interface DoctorCheck {
  name: string;
  run: CheckFn;
  startup: StartupWeight;
}

export interface CheckOptions {
  /** For `serve`: a folder the service makes itself (statedir, zipdir, a Receiver's entpushdir and dbdir) may be missing. */
  startup?: boolean;
}

const MB = 1024 * 1024;

function folders(config: Config): [string, string][] {
  const d = config.dirs;
  const list: [string, string | null][] = [
    ['entmergedir', d.entmergedir],
    ['entpushdir', d.entpushdir],
    ['zipdir', d.entpushdir ? d.zipdir : null],
    ['dbdir', d.dbdir],
    ['statedir', d.statedir],
  ];
  return list.filter((e): e is [string, string] => e[1] !== null);
}

async function writable(dir: string): Promise<string | null> {
  try {
    if (!(await stat(dir)).isDirectory()) return `${dir} is not a folder`;
  } catch {
    return `${dir} does not exist: create it (mkdir -p ${dir}) or fix dirs in the config`;
  }
  const probe = join(dir, `.zenroll-doctor-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(probe, 'x');
    await rm(probe);
    return null;
  } catch (err) {
    return `${dir} is not writable (${messageOf(err)}): give the service's user write access`;
  }
}

/** The keys a Receiver trusts: its trust folder and, with a directory, the keys published there (SPEC §4). */
async function trustCheck(config: Config): Promise<Omit<Check, 'name'>> {
  const trustDir = config.receiver.trustDir;
  const store = await TrustStore.fromDir(trustDir);
  const dir = openDirectory(config);
  if (dir === null) {
    return store.size === 0
      ? { ok: false, detail: `${trustDir} holds no *.pub: no child can send yet; run zenroll trust add --name CHILD CHILD.pub` }
      : { ok: true, detail: `${store.size} trusted key(s) in ${trustDir}` };
  }
  const local = store.size === 0 ? `no key in ${trustDir}` : `${store.size} trusted key(s) in ${trustDir}`;
  try {
    const published = await dir.listPublicKeys();
    const servers = published.length > 0 ? ` (${published.map((k) => k.server).join(', ')})` : '';
    const ok = store.size + published.length > 0;
    const fix = ok
      ? ''
      : ': no child can send yet; run zenroll trust add --name CHILD CHILD.pub, or zenroll init each child with --ldap-url to publish its key';
    return { ok, detail: `${local}; ${published.length} key(s) published in the directory${servers}${fix}` };
  } catch (err) {
    // The directory check names the cause; this one only says what it costs.
    return { ok: true, warning: true, detail: `${local}; the keys published in the directory could not be read (${messageOf(err)})` };
  } finally {
    await dir.close();
  }
}

/**
 * Which server each key in the trust folder signs for (SPEC §4: the signature
 * proves the origin). An unbound key (a file named by key id or by hand) is
 * still trusted for any origin so that an older install keeps working: a
 * warning, naming each file, until it is re-added with --name.
 */
async function bindingCheck(config: Config): Promise<Omit<Check, 'name'>> {
  const store = await TrustStore.fromDir(config.receiver.trustDir);
  const unbound = store.unbound();
  if (unbound.length > 0) {
    const files = unbound.map((e) => `${e.source} (key ${e.keyId})`).join(', ');
    return {
      ok: true,
      warning: true,
      detail: `${unbound.length} key(s) bound to no server, so each may sign batches of any origin: ${files}; re-add each with zenroll trust add --name SERVER FILE (it replaces the unbound file)`,
    };
  }
  const servers = [...new Set(store.entries().map((e) => e.server))].join(', ');
  return { ok: true, detail: store.size === 0 ? 'no key in the trust folder' : `each key signs for its own server only: ${servers}` };
}

/** Folders the service creates when they are missing: statedir and zipdir always, entpushdir and dbdir when it receives. */
function madeByService(config: Config, key: string): boolean {
  return key === 'statedir' || key === 'zipdir' || (roleInfo(config.role).receiver && (key === 'entpushdir' || key === 'dbdir'));
}

/** A file the config names, readable now (a key, a password file, a TLS file)? */
async function readable(key: string, path: string | null): Promise<string | null> {
  if (path === null) return null;
  try {
    await readFile(path);
    return null;
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by this user' : messageOf(err);
    return `${key} ${path} ${why}: ${code === 'EACCES' ? "give the service's user read access" : `fix ${key} in the config or put the file there`}`;
  }
}

/**
 * A saved clock ahead of now (issue 16): this server's clock was ahead when
 * it last named zips. The next roll-up names zips by the right time again;
 * zips named ahead are refused by a parent whose clock is right.
 */
export async function clockAhead(config: Config, nowMs = Date.now()): Promise<string | null> {
  const { HEAL_AHEAD_MS, readSavedClock, senderPaths } = await import('@zenroll/sender');
  const saved = await readSavedClock(senderPaths(config).clock);
  if (saved === null) return null;
  const at = parseScheduledTime(saved.last);
  if (at <= nowMs + HEAL_AHEAD_MS) return null;
  const days = (at - nowMs) / 86_400_000;
  const ahead = days >= 2 ? `${Math.round(days)} days` : `${Math.round((at - nowMs) / 60_000)} min`;
  return `the saved clock (sender-clock.json) is at ${new Date(at).toISOString()}, ${ahead} ahead of now: this server's clock was ahead when it last named zips; set it right (NTP): the next roll-up names zips by the right time again`;
}

async function clockCheck(config: Config): Promise<Omit<Check, 'name'>> {
  const ahead = await clockAhead(config);
  return ahead === null
    ? { ok: true, detail: `now ${new Date().toISOString()}; the saved clock is not ahead` }
    : { ok: true, warning: true, detail: ahead };
}

export function doctorChecks(config: Config, options: CheckOptions = {}): DoctorCheck[] {
  const role = roleInfo(config.role);
  const list: [string, CheckFn, StartupWeight][] = [];
  for (const [key, dir] of folders(config)) {
    list.push([
      `folder ${key}`,
      async () => {
        if (options.startup === true && madeByService(config, key) && (await stat(dir).catch(() => null)) === null) {
          return { ok: true, detail: `${dir} (made at start)` };
        }
        const problem = await writable(dir);
        return problem ? { ok: false, detail: problem } : { ok: true, detail: dir };
      },
      'fatal',
    ]);
  }
  const files: (readonly [string, string | null])[] = [
    ...(role.sender
      ? ([
          ['sender.tls.ca', config.sender.tls.ca],
          ['sender.tls.cert', config.sender.tls.cert],
          ['sender.tls.key', config.sender.tls.key],
        ] as const)
      : []),
    ...(config.directory ? ([['directory.passwordFile', config.directory.passwordFile]] as const) : []),
  ];
  if (files.some(([, path]) => path !== null)) {
    list.push([
      'files',
      async () => {
        const problems = (await Promise.all(files.map(([key, path]) => readable(key, path)))).filter((p): p is string => p !== null);
        return problems.length > 0
          ? { ok: false, detail: problems.join('; ') }
          : {
              ok: true,
              detail: `${files
                .filter(([, p]) => p !== null)
                .map(([k]) => k)
                .join(', ')} readable`,
            };
      },
      'fatal',
    ]);
  }
  const checks = list;
  const { entpushdir, dbdir } = config.dirs;
  if (entpushdir && dbdir && role.promotesTo.length === 2) {
    checks.push([
      'entpushdir and dbdir on one filesystem',
      async () => {
        const [a, b] = await Promise.all([stat(entpushdir), stat(dbdir)]);
        return a.dev === b.dev
          ? { ok: true, detail: 'yes: a promotion hard-links the zip into both, no copy' }
          : {
              ok: true,
              warning: true,
              detail: 'no: every promotion copies the zip (one more write and fsync per zip); put them on one filesystem to avoid it',
            };
      },
      null,
    ]);
  }
  checks.push([
    'free space',
    async () => {
      const low: string[] = [];
      for (const [key, dir] of folders(config)) {
        // A missing folder is its own check's failure, not a second one here.
        if ((await stat(dir).catch(() => null)) === null) continue;
        const { availableBytes } = await freeSpace(dir);
        if (availableBytes < config.receiver.minFreeBytes) low.push(`${key} has ${Math.floor(availableBytes / MB)} MB free`);
      }
      return low.length
        ? { ok: false, detail: `${low.join('; ')}; at least ${Math.floor(config.receiver.minFreeBytes / MB)} MB needed` }
        : { ok: true, detail: 'enough in every folder' };
    },
    'warn',
  ]);
  checks.push([
    'keys',
    async () => {
      await loadKeyPair(config.keys.private, config.keys.public);
      return { ok: true, detail: `${config.keys.private} and its public key match` };
    },
    'fatal',
  ]);
  if (role.receiver) {
    checks.push(['trust store', () => trustCheck(config), null]);
    checks.push(['trust bindings', () => bindingCheck(config), null]);
    const tls = config.receiver.tls;
    checks.push([
      'receiver TLS',
      async () => {
        if (tls === false) return { ok: true, warning: true, detail: 'receiver.tls is false: uploads travel in plain HTTP' };
        createSecureContext({
          cert: await readFile(tls.cert),
          key: await readFile(tls.key),
          ...(tls.clientCa ? { ca: await readFile(tls.clientCa) } : {}),
        });
        return { ok: true, detail: `${tls.cert}${tls.clientCa ? ', client certificates required' : ''}` };
      },
      'fatal',
    ]);
  }
  if (role.sender) {
    checks.push(['clock', () => clockCheck(config), null]);
    checks.push([
      'schedule',
      async () => {
        checkSchedule(config.sender.schedule);
        return { ok: true, detail: `"${config.sender.schedule}" in ${config.sender.timezone}` };
      },
      'fatal',
    ]);
    checks.push([
      'parent',
      async () => {
        // The parent says whether it trusts this server's key (issue 16): "your key is not trusted at the parent" before a 401.
        const keyId = await loadPublicKey(config.keys.public).then(keyIdOf, () => null);
        const ask = keyId === null ? '' : `?key=${keyId}&server=${encodeURIComponent(encodeName(config.server))}`;
        const url = `${config.sender.parent}/v1/info`;
        const [{ makeDispatcher, connectionFailure }, { request }] = await Promise.all([import('@zenroll/sender'), import('undici')]);
        const dispatcher = await makeDispatcher(config.sender);
        try {
          const res = await request(`${url}${ask}`, { dispatcher, signal: AbortSignal.timeout(options.startup === true ? 3_000 : 10_000) });
          const body: unknown = await res.body.json();
          const server = String(fieldOf(body, 'server'));
          if (res.statusCode !== 200) return { ok: false, detail: `${url} answered ${res.statusCode}` };
          if (fieldOf(body, 'keyTrusted') === false) {
            return {
              ok: false,
              detail: `${config.sender.parent} answers as ${server}, but your key is not trusted at the parent: it would refuse every zip (401); on ${server}: zenroll trust add --name ${config.server} FILE, with FILE a copy of ${config.keys.public}`,
            };
          }
          const date = res.headers.date;
          const skewMs = typeof date === 'string' ? Math.abs(Date.now() - Date.parse(date)) : 0;
          const clock = skewMs > 60_000 ? `; clocks differ by ${Math.round(skewMs / 1000)} s: set up NTP on both` : '';
          return { ok: skewMs <= 60_000, detail: `${config.sender.parent} answers as ${server}${clock}` };
        } catch (err) {
          // What waiting cannot mend (a certificate not trusted, out of date or for another host, a client certificate the
          // parent requires, http for https) is the roll-up's own problem text and fix: one wording for one cause (SPEC §1).
          const failure = await connectionFailure(err, { sender: config.sender, url: config.sender.parent ?? url });
          if (!errorSpec(failure.code).retry) {
            return { ok: false, detail: `${failure.message}${failure.fix === undefined ? '' : `; ${failure.fix}`}` };
          }
          const cause = fieldOf(err, 'cause');
          return {
            ok: false,
            detail: `${config.sender.parent} does not answer: ${messageOf(cause instanceof Error ? cause : err)}; check the URL, the firewall, sender.tls.ca and that the parent runs zenroll serve`,
          };
        } finally {
          await dispatcher.close();
        }
      },
      'warn',
    ]);
  }
  const directory = config.directory;
  if (directory) {
    checks.push([
      'directory',
      async () => {
        const dir = openDirectory(config);
        if (dir === null) return { ok: true, detail: 'none configured' };
        try {
          const key = await dir.readPublicKey(config.server);
          return {
            ok: true,
            detail: `bound as ${directory.bindDN}; object of ${config.server} found${key ? ', public key published' : ''}`,
          };
        } catch (err) {
          const message = messageOf(err);
          const resultCode = fieldOf(fieldOf(err, 'details'), 'resultCode');
          // A directory answers a bind as a DN that does not exist as wrong credentials (so as not to tell which exist):
          // bound as its own object, that object may be what is missing.
          const ownObject = resultCode === 49 && serverOfDn(directory.serviceDN, directory.bindDN) === config.server;
          if (ownObject)
            return {
              ok: false,
              detail: `${message}; if they are right, ${config.server}'s Inventory Service object (the bind DN) may not exist, which the directory answers the same way: create it`,
            };
          // The directory package's messages for these result codes name the keys to check already.
          return {
            ok: false,
            detail:
              resultCode === 32 || resultCode === 49 ? message : `${message}; check directory.url, bindDN, passwordFile and serviceDN`,
          };
        } finally {
          await dir.close();
        }
      },
      'warn',
    ]);
  }
  return checks.map(([name, run, startup]) => ({ name, run, startup }));
}

export async function doctor(config: Config): Promise<Check[]> {
  const results: Check[] = [];
  for (const { name, run } of doctorChecks(config)) {
    try {
      results.push({ name, ...(await run()) });
    } catch (err) {
      results.push({ name, ok: false, detail: messageOf(err) });
    }
  }
  return results;
}

export function registerDoctor(p: Program): void {
  p.command
    .command('doctor')
    .description('check folders, free space, keys, trust, TLS, clock, parent, directory and schedule; one line each')
    .option('-c, --config <file>', 'config file', 'zenroll.json')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  zenroll doctor -c /srv/zenroll/zenroll.json\n')
    .action(
      p.action(async (o: { config: string; json?: boolean }) => {
        const config = await loadConfig(resolve(p.io.cwd, o.config));
        const checks = await doctor(config);
        if (o.json) p.io.out(`${JSON.stringify(checks)}\n`);
        else for (const c of checks) p.io.out(`${c.ok ? (c.warning ? 'warn' : 'ok  ') : 'FAIL'}  ${c.name}: ${c.detail}\n`);
        return checks.every((c) => c.ok) ? EXIT_OK : EXIT_FAILED;
      }),
    );
}
