/**
 * One authenticated ldapts connection. Every call is bounded by `timeoutMs`
 * (ldapts waits forever by default). After the server drops the connection
 * (a restart), ldapts reconnects anonymously unless told otherwise:
 * `autoRebind` replays our bind on ldap:// and ldaps://; ldapts does not
 * replay binds on StartTLS sessions, so there we upgrade and bind again
 * ourselves whenever the session is no longer bound.
 */
import { readFile } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, type ClientOptions } from 'ldapts';
import { errnoCode, shown, ZenrollError } from '@zenroll/core';
import { ldapError, resultCodeOf, type LdapContext } from './ldap-errors.js';

export interface LdapSettings {
  url: string;
  /**
   * Every provider of a replicated directory, in order (`url` first): a
   * session that loses its provider moves on to the next one (SPEC §9).
   */
  urls?: readonly string[];
  bindDN: string;
  passwordFile: string;
  timeoutMs: number;
  /** Upgrade an ldap:// connection with StartTLS before binding. */
  startTls?: boolean;
  /** CA certificate file (PEM) for ldaps:// or StartTLS; null: the system's CAs. */
  caFile?: string | null;
}

export type ClientFactory = (options: ClientOptions) => Client;

export class LdapSession {
  #client: Client | null = null;
  /** A bind succeeded on this client, so ldapts replays it after a reconnect (not with StartTLS). */
  #rebinds = false;
  #closed = false;
  /**
   * The TCP socket under a StartTLS session. ldapts 8.2 stops watching the
   * plain socket once it is upgraded, so it never notices that the server
   * closed the connection and sends the next request into a dead socket (it
   * times out). We watch the socket ourselves and start over when it closes.
   */
  #link: { socket: Socket | null; dropped: boolean } = { socket: null, dropped: false };
  /** The end of the queue of operations: one at a time (see run). */
  #tail: Promise<unknown> = Promise.resolve();
  /** Which of the providers this session talks to. */
  #at = 0;

  /** The provider this session talks to now. */
  get url(): string {
    const urls = this.settings.urls;
    return urls !== undefined && urls.length > 0 ? (urls[this.#at % urls.length] ?? this.settings.url) : this.settings.url;
  }

  readonly #createClient: ClientFactory;

  constructor(
    readonly settings: LdapSettings,
    createClient: ClientFactory = (o) => new Client(o),
  ) {
    this.#createClient = createClient;
  }

  /**
   * Run `op` on a bound client; every failure comes out as a ZenrollError
   * (ldap-errors.ts). Operations run one at a time: ldapts opens a second
   * socket when two calls find the connection down at once, and the answers
   * to one of them are lost (found when a read raced the applier's bind).
   */
  run<T>(action: 'read' | 'write', dn: string | undefined, op: (client: Client) => Promise<T>): Promise<T> {
    const result = this.#tail.then(() => this.#runNow(action, dn, op));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #runNow<T>(action: 'read' | 'write', dn: string | undefined, op: (client: Client) => Promise<T>): Promise<T> {
    const ctx: LdapContext = { action, url: this.url, bindDN: this.settings.bindDN, dn };
    try {
      if (this.#closed)
        throw new ZenrollError('DIRECTORY_UNREACHABLE', `the connection to ${this.url} is closed`, { details: { scope: 'session' } });
      // A deadline over the whole call (connect, StartTLS, bind, request): ldapts bounds each
      // step but not all of them (the TLS handshake of startTLS), and a call that never
      // settles would hold up the queue for good.
      const deadlineMs = 3 * this.settings.timeoutMs;
      return await this.#bounded((async () => op(await this.#ready()))(), deadlineMs, () => void this.#reset(), 'the call');
    } catch (err) {
      // Rejected credentials: forget the client (and the bind ldapts would
      // replay), so that the next try reads the password file again.
      if (resultCodeOf(err) === 49) await this.#reset();
      const e = ldapError(err, ctx);
      // A provider that does not answer: the next call goes to the next one (each record once: the journal's ids and cursor).
      if (e.code === 'DIRECTORY_UNREACHABLE' && !this.#closed && (this.settings.urls?.length ?? 0) > 1) {
        await this.#reset();
        this.#at += 1;
      }
      throw e;
    }
  }

  async #ready(): Promise<Client> {
    const s = this.settings;
    // A StartTLS session that is not bound (dropped, or a failed upgrade or bind) starts over on a new connection.
    if (s.startTls === true && this.#client !== null && (this.#link.dropped || !this.#client.isBound)) await this.#reset();
    if (this.#client === null) {
      const tlsOptions = await this.#tlsOptions();
      const link: { socket: Socket | null; dropped: boolean } = { socket: null, dropped: false };
      const watched = (port: number, host: string) => {
        const socket = connect(port, host);
        link.socket = socket;
        socket.once('close', () => {
          if (link.socket === socket) link.dropped = true;
        });
        return socket;
      };
      // biome-ignore lint/nursery/noUnsafeTypeAssertion: ldapts wants net.connect's overloaded type and calls it as (port, host)
      const createConnection = watched as typeof connect;
      this.#link = link;
      this.#client = this.#createClient({
        url: this.url,
        timeout: s.timeoutMs,
        connectTimeout: s.timeoutMs,
        autoRebind: s.startTls !== true,
        // ldapts goes TLS from the first byte whenever tlsOptions is set: for
        // StartTLS they go to startTLS() instead.
        ...(this.url.startsWith('ldaps:') ? { tlsOptions } : {}),
        ...(s.startTls === true ? { createConnection } : {}),
      });
      this.#rebinds = false;
    }
    const client = this.#client;
    if (s.startTls === true ? !client.isBound : !this.#rebinds) {
      await this.#bind(client);
      this.#rebinds = s.startTls !== true;
    }
    return client;
  }

  async #bind(client: Client): Promise<void> {
    const s = this.settings;
    if (s.startTls === true) {
      const host = new URL(this.url).hostname.replace(/^\[|\]$/g, '');
      const options: ConnectionOptions = { ...(await this.#tlsOptions()), host, ...(isIP(host) ? {} : { servername: host }) };
      await this.#bounded(client.startTLS(options), s.timeoutMs, () => void this.#reset(), 'StartTLS');
    }
    await client.bind(s.bindDN, await this.#password());
  }

  // ldapts bounds requests and the TCP connect, not the TLS handshake of startTLS().
  async #bounded<T>(work: Promise<T>, ms: number, onExpiry: () => void, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onExpiry();
        reject(new Error(`${what} timed out after ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #tlsOptions(): Promise<ConnectionOptions> {
    const file = this.settings.caFile;
    if (!file) return {};
    try {
      return { ca: [await readFile(file, 'utf8')] };
    } catch (err) {
      throw new ZenrollError(
        'DIRECTORY_UNREACHABLE',
        `cannot read directory.tls.ca ${shown(file, 200)}: ${errnoCode(err) ?? String(err)}`,
        {
          cause: err,
          details: { scope: 'session' },
        },
      );
    }
  }

  async #password(): Promise<string> {
    const file = this.settings.passwordFile;
    try {
      return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new ZenrollError(
        'DIRECTORY_WRITE_FAILED',
        `cannot read directory.passwordFile ${shown(file, 200)}: ${errnoCode(err) ?? String(err)}`,
        {
          cause: err,
          details: { scope: 'session' },
        },
      );
    }
  }

  async #reset(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#rebinds = false;
    if (this.settings.startTls === true) {
      // ldapts resolves unbind() of an upgraded session only when its request
      // times out (it watches the wrong socket): close the TCP socket instead.
      this.#link.socket?.destroy();
      this.#link = { socket: null, dropped: false };
      return;
    }
    await client?.unbind().catch(() => undefined);
  }

  /** Unbind and close the socket; later calls fail with DIRECTORY_UNREACHABLE. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#reset();
  }
}
