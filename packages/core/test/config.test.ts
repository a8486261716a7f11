import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configSchema,
  escapeDnValue,
  formatConfigErrors,
  loadConfig,
  parseConfig,
  receiverListeners,
  directoryUrls,
  roleInfo,
  ROLES,
  splitHostPort,
  type Config,
  type ConfigError,
  type Role,
} from '../src/config.js';
import { isZenrollError, type ZenrollError } from '../src/errors.js';

const BASE = '/etc/zenroll';

/** The smallest valid config for a role: only what SPEC §6 gives no default for. */
function minimal(role: Role): Record<string, unknown> {
  const info = roleInfo(role);
  const dirs: Record<string, string> = {};
  if (info.ownScans) dirs.entmergedir = 'merge';
  if (info.sender || info.receiver) dirs.entpushdir = 'push';
  if (info.promotesTo.includes('dbdir')) dirs.dbdir = '/var/db';
  const json: Record<string, unknown> = { server: 'S1', tree: 'ACME', role, dirs };
  if (info.sender) json.sender = { parent: 'https://int1.example:7099' };
  return json;
}

function ok(json: unknown): Config {
  const r = parseConfig(json, BASE);
  if (!r.ok) throw new Error(formatConfigErrors(r.errors));
  return r.config;
}

function errors(json: unknown): ConfigError[] {
  const r = parseConfig(json, BASE);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('roles (SPEC §2)', () => {
  it('has the table of SPEC §2', () => {
    const table = Object.fromEntries(
      ROLES.map((r) => {
        const i = roleInfo(r);
        return [r, [i.sender, i.receiver, i.ownScans, i.promotesTo.join('+'), i.hasDatabase].join(' ')];
      }),
    );
    expect(table).toEqual({
      leaf: 'true false true  false',
      'leaf-db': 'true false true  true',
      intermediate: 'true true false entpushdir false',
      'intermediate-ws': 'true true true entpushdir false',
      'intermediate-db': 'true true false entpushdir+dbdir true',
      'intermediate-db-ws': 'true true true entpushdir+dbdir true',
      root: 'false true false dbdir true',
      'root-ws': 'false true false dbdir true',
      standalone: 'false false false  false',
    });
  });
});

describe('parseConfig', () => {
  for (const role of ROLES) {
    it(`fills every default for a minimal ${role}`, () => {
      const c = ok(minimal(role));
      const info = roleInfo(role);
      expect(c.role).toBe(role);
      expect(c.dirs.entmergedir).toBe(info.ownScans ? '/etc/zenroll/merge' : null);
      expect(c.dirs.entpushdir).toBe(info.sender || info.receiver ? '/etc/zenroll/push' : null);
      expect(c.dirs.zipdir).toBe(c.dirs.entpushdir === null ? null : '/etc/zenroll/push/zipdir');
      expect(c.dirs.rejecteddir).toBe(c.dirs.entpushdir === null ? null : '/etc/zenroll/push/rejected');
      expect(c.dirs.statedir).toBe(c.dirs.entpushdir === null ? '/etc/zenroll/state' : '/etc/zenroll/push/.zenroll');
      expect(c.dirs.dbdir).toBe(info.promotesTo.includes('dbdir') ? '/var/db' : null);
      expect(c.sender).toEqual({
        parent: info.sender ? 'https://int1.example:7099' : null,
        schedule: '0 2 * * *',
        timezone: 'UTC',
        randomizeMinutes: 0,
        batchSize: 50,
        compressionLevel: 6,
        retry: { baseMs: 10_000, factor: 2, tries: 14 },
        localAddress: null,
        proxy: null,
        tls: { ca: null, cert: null, key: null },
        forwardOnReceive: false,
        stableMs: 5000,
        pollSeconds: 60,
        timeoutMs: 120_000,
      });
      expect(c.receiver).toEqual({
        listen: '0.0.0.0:7099',
        tls: { cert: '/etc/zenroll/tls/server.crt', key: '/etc/zenroll/tls/server.key', clientCa: null },
        trustDir: '/etc/zenroll/trust',
        quarantineDir: null,
        maxZipBytes: 268_435_456,
        discardBefore: null,
        maxConcurrentUploads: 8,
        maxQueuedUploads: 256,
        queueWaitMs: 10_000,
        receiptDays: 30,
        requestTimeoutMs: 60_000,
        minFreeBytes: 104_857_600,
        maxClockSkewMs: 3_600_000,
      });
      expect(c.keys).toEqual({ private: '/etc/zenroll/keys/server.key', public: '/etc/zenroll/keys/server.pub' });
      expect(c.directory).toBeNull();
      expect(c.admin).toEqual({ listen: null });
    });
  }

  it('returns a deeply frozen object and leaves the input alone', () => {
    const json = minimal('leaf');
    const c = ok(json);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.sender.retry)).toBe(true);
    expect(Object.isFrozen(c.dirs)).toBe(true);
    expect(Object.isFrozen(json)).toBe(false);
    expect(json.dirs).toEqual({ entmergedir: 'merge', entpushdir: 'push' });
  });

  it('resolves every path and completes the directory', () => {
    const c = ok({
      ...minimal('intermediate-db'),
      dirs: { entpushdir: 'push', dbdir: 'db', statedir: '../state' },
      sender: { parent: 'http://root:7099', tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' }, proxy: 'http://proxy:3128' },
      receiver: { tls: { cert: 'a.crt', key: 'a.key', clientCa: 'ca/clients.pem' }, quarantineDir: 'q', trustDir: '/abs/trust' },
      keys: { private: 'k/priv', public: 'k/pub' },
      directory: { url: 'ldaps://ldap:636', bindDN: 'cn=zenroll,o=ACME', passwordFile: 'secret', tls: { ca: 'ldap-ca.pem' } },
    });
    expect(c.dirs.statedir).toBe('/etc/state');
    expect(c.sender.tls).toEqual({ ca: '/etc/zenroll/ca.pem', cert: '/etc/zenroll/c.pem', key: '/etc/zenroll/k.pem' });
    expect(c.receiver.tls).toEqual({ cert: '/etc/zenroll/a.crt', key: '/etc/zenroll/a.key', clientCa: '/etc/zenroll/ca/clients.pem' });
    expect(c.receiver.quarantineDir).toBe('/etc/zenroll/q');
    expect(c.receiver.trustDir).toBe('/abs/trust');
    expect(c.keys.private).toBe('/etc/zenroll/k/priv');
    expect(c.directory).toEqual({
      url: 'ldaps://ldap:636',
      bindDN: 'cn=zenroll,o=ACME',
      passwordFile: '/etc/zenroll/secret',
      serviceDN: 'cn={server}_ZenInvService,o=ACME',
      keep: 1000,
      timeoutMs: 10_000,
      startTls: false,
      tls: { ca: '/etc/zenroll/ldap-ca.pem' },
    });
  });

  it('takes plain HTTP, IPv6 and a tree that needs DN escaping', () => {
    const c = ok({
      ...minimal('root'),
      tree: 'A,B',
      receiver: { tls: false, listen: '[::1]:0', discardBefore: '2026-01-01T00:00:00+01:00' },
      admin: { listen: 'localhost:9' },
      directory: { url: 'ldap://l', bindDN: 'cn=x', passwordFile: 'p', serviceDN: 'cn={server},ou={tree}', startTls: true },
    });
    expect(c.receiver.tls).toBe(false);
    expect(c.directory?.serviceDN).toBe('cn={server},ou=A\\,B');
    expect(c.receiver.discardBefore).toBe('2026-01-01T00:00:00+01:00');
  });

  const leaf = minimal('leaf');
  const invalid: [string, unknown, string, RegExp?][] = [
    ['not an object', [], '', /expected an object, found an array/],
    ['no server', { ...leaf, server: undefined }, 'server', /found nothing/],
    ['empty tree', { ...leaf, tree: '' }, 'tree'],
    ['long server', { ...leaf, server: 'S'.repeat(65) }, 'server'],
    ['control char in server', { ...leaf, server: 'A\nB' }, 'server'],
    // 64 characters, but 192 once percent-encoded: no zip name could hold it.
    ['server too long once encoded', { ...leaf, server: '日'.repeat(64) }, 'server', /at most 110 once percent-encoded/],
    ['tree too long once encoded', { ...leaf, tree: '_'.repeat(40) }, 'tree', /once percent-encoded/],
    ['unknown role', { ...leaf, role: 'branch' }, 'role', /expected one of leaf, .*found "branch"/],
    ['leaf without entmergedir', { ...leaf, dirs: { entpushdir: 'p' } }, 'dirs.entmergedir', /role "leaf"/],
    ['intermediate without entpushdir', { ...minimal('intermediate'), dirs: {} }, 'dirs.entpushdir', /role "intermediate"/],
    ['root without dbdir', { ...minimal('root'), dirs: { entpushdir: 'p' } }, 'dirs.dbdir', /role "root"/],
    ['leaf without parent', { ...leaf, sender: {} }, 'sender.parent', /required for role "leaf"/],
    ['zipdir given', { ...leaf, dirs: { entmergedir: 'm', entpushdir: 'p', zipdir: 'z' } }, 'dirs.zipdir', /not a known key/],
    ['same folder twice', { ...leaf, dirs: { entmergedir: 'p', entpushdir: './p' } }, 'dirs.entpushdir', /other than dirs.entmergedir/],
    ['ftp parent', { ...leaf, sender: { parent: 'ftp://x' } }, 'sender.parent', /http/],
    [
      'batch of 51',
      { ...leaf, sender: { ...(leaf.sender as object), batchSize: 51 } },
      'sender.batchSize',
      /expected an integer from 1 to 50, found 51/,
    ],
    ['batch as text', { ...leaf, sender: { ...(leaf.sender as object), batchSize: '5' } }, 'sender.batchSize', /found "5"/],
    ['level 10', { ...leaf, sender: { ...(leaf.sender as object), compressionLevel: 10 } }, 'sender.compressionLevel'],
    ['randomize 1.5', { ...leaf, sender: { ...(leaf.sender as object), randomizeMinutes: 1.5 } }, 'sender.randomizeMinutes'],
    ['4-field schedule', { ...leaf, sender: { ...(leaf.sender as object), schedule: '0 2 * *' } }, 'sender.schedule'],
    ['bad time zone', { ...leaf, sender: { ...(leaf.sender as object), timezone: 'Mars/Base' } }, 'sender.timezone'],
    ['factor < 1', { ...leaf, sender: { ...(leaf.sender as object), retry: { factor: 0.5 } } }, 'sender.retry.factor'],
    ['0 tries', { ...leaf, sender: { ...(leaf.sender as object), retry: { tries: 0 } } }, 'sender.retry.tries'],
    [
      'unknown retry key',
      { ...leaf, sender: { ...(leaf.sender as object), retry: { max: 3 } } },
      'sender.retry.max',
      /expected one of: baseMs, factor, tries/,
    ],
    ['cert without key', { ...leaf, sender: { ...(leaf.sender as object), tls: { cert: 'c' } } }, 'sender.tls.key', /go together/],
    ['socks proxy', { ...leaf, sender: { ...(leaf.sender as object), proxy: 'socks5://p:1' } }, 'sender.proxy'],
    ['port too big', { ...leaf, receiver: { listen: '0.0.0.0:65536' } }, 'receiver.listen'],
    ['bare IPv6', { ...leaf, receiver: { listen: '::1:7099' } }, 'receiver.listen'],
    ['no port', { ...leaf, receiver: { listen: 'host' } }, 'receiver.listen'],
    ['tls true', { ...leaf, receiver: { tls: true } }, 'receiver.tls', /expected false or an object/],
    ['tls without key', { ...leaf, receiver: { tls: { cert: 'c' } } }, 'receiver.tls.key', /found nothing/],
    ['tls unknown key', { ...leaf, receiver: { tls: { cert: 'c', key: 'k', ca: 'x' } } }, 'receiver.tls.ca'],
    ['tiny maxZipBytes', { ...leaf, receiver: { maxZipBytes: 1000 } }, 'receiver.maxZipBytes'],
    ['discardBefore not a time', { ...leaf, receiver: { discardBefore: 'yesterday' } }, 'receiver.discardBefore'],
    ['discardBefore Feb 30', { ...leaf, receiver: { discardBefore: '2026-02-30' } }, 'receiver.discardBefore'],
    ['discardBefore local time', { ...leaf, receiver: { discardBefore: '2026-01-01T00:00:00' } }, 'receiver.discardBefore'],
    ['0 uploads', { ...leaf, receiver: { maxConcurrentUploads: 0 } }, 'receiver.maxConcurrentUploads'],
    ['0 receipt days', { ...leaf, receiver: { receiptDays: 0 } }, 'receiver.receiptDays'],
    ['empty key path', { ...leaf, keys: { private: '' } }, 'keys.private'],
    ['directory without url', { ...leaf, directory: { bindDN: 'cn=x', passwordFile: 'p' } }, 'directory.url'],
    ['http directory', { ...leaf, directory: { url: 'http://x', bindDN: 'cn=x', passwordFile: 'p' } }, 'directory.url'],
    [
      'serviceDN without {server}',
      { ...leaf, directory: { url: 'ldap://x', bindDN: 'cn=x', passwordFile: 'p', serviceDN: 'cn=a' } },
      'directory.serviceDN',
    ],
    [
      'StartTLS on ldaps',
      { ...leaf, directory: { url: 'ldaps://x', bindDN: 'cn=x', passwordFile: 'p', startTls: true } },
      'directory.startTls',
    ],
    ['keep 0', { ...leaf, directory: { url: 'ldap://x', bindDN: 'cn=x', passwordFile: 'p', keep: 0 } }, 'directory.keep'],
    ['admin on all interfaces', { ...leaf, admin: { listen: '0.0.0.0:7098' } }, 'admin.listen', /loopback/],
    ['unknown top-level key', { ...leaf, extra: 1 }, 'extra', /not a known key \(expected one of: server, tree, role/],
    [
      'unknown nested key',
      { ...leaf, directory: { url: 'ldap://x', bindDN: 'cn=x', passwordFile: 'p', tls: { cert: 'c' } } },
      'directory.tls.cert',
    ],
  ];
  for (const [what, json, key, message] of invalid) {
    it(`rejects: ${what}`, () => {
      const errs = errors(json);
      expect(errs.map((e) => e.key)).toEqual([key]);
      if (message !== undefined) expect(errs[0]?.message).toMatch(message);
    });
  }

  it('lists every error at once, role rules included', () => {
    const errs = errors({ server: 'S', tree: 'T', role: 'intermediate-db', dirs: {}, sender: { batchSize: 0, bogus: 1 } });
    expect(errs.map((e) => e.key).sort()).toEqual(['dirs.dbdir', 'dirs.entpushdir', 'sender.batchSize', 'sender.bogus', 'sender.parent']);
    expect(formatConfigErrors(errs).split('\n')).toHaveLength(5);
  });

  it('documents every key', () => {
    expect(configSchema.shape.sender.description).toMatch(/^the Sender/);
    expect(configSchema.shape.server.description).toMatch(/name/);
  });
});

describe('helpers', () => {
  it('splits HOST:PORT', () => {
    expect(splitHostPort('0.0.0.0:7099')).toEqual({ host: '0.0.0.0', port: 7099 });
    expect(splitHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(splitHostPort('[nope]:80')).toBeNull();
    expect(splitHostPort('h:99999')).toBeNull();
  });
  it('escapes DN values', () => {
    expect(escapeDnValue('#a, b+c ')).toBe('\\#a\\, b\\+c\\ ');
    expect(escapeDnValue('ACME')).toBe('ACME');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zenroll-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function failure(p: Promise<unknown>): Promise<ZenrollError> {
    const err: unknown = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isZenrollError(err)) throw new Error(`expected a ZenrollError, got ${String(err)}`);
    return err;
  }

  it('reads a file and resolves paths against its folder', async () => {
    await writeFile(join(dir, 'zenroll.json'), `\uFEFF${JSON.stringify(minimal('leaf'), null, 2)}`);
    const c = await loadConfig(join(dir, 'zenroll.json'));
    expect(c.dirs.entmergedir).toBe(join(dir, 'merge'));
    expect(c.dirs.statedir).toBe(join(dir, 'push', '.zenroll'));
    expect(c.keys.public).toBe(join(dir, 'keys', 'server.pub'));
  });

  it('says when the file is missing', async () => {
    const err = await failure(loadConfig(join(dir, 'none.json')));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain('none.json');
  });

  it('tells a folder from a missing file', async () => {
    await mkdir(join(dir, 'folder.json'));
    const err = await failure(loadConfig(join(dir, 'folder.json')));
    expect(err.code).toBe('FS_FAILED');
    expect(err.details.errno).toBe('EISDIR');
  });

  const badJson: [string, string, number, number][] = [
    ['trailing comma', '{\n  "server": "S",\n}', 3, 1],
    ['a comment', '{\n  // the server\n  "server": "S"\n}', 2, 3],
    ['a bare word', '{\n  "role": leaf\n}', 2, 11],
    ['a missing value', '{\n  "a": }', 2, 8],
    ['cut short', '{\n  "a": 1', 2, 9],
  ];
  for (const [what, text, line, column] of badJson) {
    it(`points at the line and column of bad JSON: ${what}`, async () => {
      await writeFile(join(dir, 'zenroll.json'), text);
      const err = await failure(loadConfig(join(dir, 'zenroll.json')));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.details).toMatchObject({ line, column });
      expect(err.message).toContain(`line ${line}, column ${column}`);
      expect(err.message).not.toContain(text); // V8 quotes the input: not repeated here
    });
  }

  it('lists every schema error, one per line', async () => {
    await writeFile(join(dir, 'zenroll.json'), JSON.stringify({ ...minimal('leaf'), role: 'x', extra: true }));
    const err = await failure(loadConfig(join(dir, 'zenroll.json')));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}role: expected one of/),
      expect.stringMatching(/^ {2}extra: is not a known key/),
    ]);
    expect((err.details.errors as ConfigError[]).map((e) => e.key)).toEqual(['role', 'extra']);
  });
});

describe('receiver.listen as a list of listeners (SPEC §9)', () => {
  const tls = { cert: '/c.pem', key: '/k.pem', clientCa: null };
  it('gives each listener its TLS: a HOST:PORT as receiver.tls says, an object as its tls says', () => {
    expect(receiverListeners({ listen: '0.0.0.0:7099', tls })).toEqual([{ host: '0.0.0.0', port: 7099, tls: true }]);
    expect(receiverListeners({ listen: '0.0.0.0:7099', tls: false })).toEqual([{ host: '0.0.0.0', port: 7099, tls: false }]);
    expect(
      receiverListeners({ listen: ['[::1]:7099', { address: '10.0.0.5:2099', tls: false }, { address: '10.0.0.5:7100', tls: true }], tls }),
    ).toEqual([
      { host: '::1', port: 7099, tls: true },
      { host: '10.0.0.5', port: 2099, tls: false },
      { host: '10.0.0.5', port: 7100, tls: true },
    ]);
  });

  it('refuses an empty list, a bad entry, and a TLS listener without receiver.tls, naming the key', () => {
    const base = { server: 'ROOT', tree: 'ACME', role: 'root', dirs: { entpushdir: '/p', dbdir: '/d' } };
    const keys = (listen: unknown, t: unknown = tls) => {
      const r = parseConfig({ ...base, receiver: { listen, tls: t } }, '/etc/zenroll');
      return r.ok ? [] : r.errors.map((e) => `${e.key}: ${e.message}`);
    };
    expect(keys([])).toEqual(['receiver.listen: expected at least one listener, found an array']);
    expect(keys(['127.0.0.1:7099', { address: 'nope' }])[0]).toMatch(/^receiver\.listen/);
    expect(keys([{ address: '127.0.0.1:7099', tls: true }], false)).toEqual([
      'receiver.listen.0.tls: expected false: receiver.tls is false, so no listener has a certificate, found true',
    ]);
    expect(keys([{ address: '127.0.0.1:7099', tls: false }, '127.0.0.1:7100'], false)).toEqual([]);
  });
});

describe('directory.url as a list of replicated providers (SPEC §9)', () => {
  const base = {
    server: 'LEAF1',
    tree: 'ACME',
    role: 'leaf',
    dirs: { entmergedir: '/m', entpushdir: '/p' },
    sender: { parent: 'https://int1:7099' },
  };
  const dir = (url: unknown, extra: Record<string, unknown> = {}) =>
    parseConfig({ ...base, directory: { url, bindDN: 'cn=x', passwordFile: '/pw', ...extra } }, '/etc/zenroll');
  it('takes one URL or a list, in order', () => {
    const one = dir('ldap://a:389');
    const two = dir(['ldap://a:389', 'ldaps://b:636']);
    expect(one.ok && one.config.directory !== null && directoryUrls(one.config.directory)).toEqual(['ldap://a:389']);
    expect(two.ok && two.config.directory !== null && directoryUrls(two.config.directory)).toEqual(['ldap://a:389', 'ldaps://b:636']);
  });
  it('refuses an empty list, a bad URL in it, and StartTLS with an ldaps:// one', () => {
    const errors = (r: ReturnType<typeof dir>) => (r.ok ? [] : r.errors.map((e) => e.key));
    expect(errors(dir([]))).toEqual(['directory.url']);
    expect(errors(dir(['ldap://a:389', 'http://b']))[0]).toMatch(/^directory\.url/);
    expect(errors(dir(['ldap://a:389', 'ldaps://b:636'], { startTls: true }))).toEqual(['directory.startTls']);
  });
});
