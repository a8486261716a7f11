/**
 * The LDAP side of SPEC §7: roll-up records as values of `zeninvRollUpLog`
 * (and service events as values of `zenrollStatusLog`) on each server's
 * Inventory Service object, and the readers of that object.
 *
 * `apply` makes one modify per record: add the value, delete the replaced one
 * (zipped → sent) and the oldest beyond `keep`. To know which are the oldest
 * without a search per record, it keeps each object's values in memory,
 * read once and refreshed every `refreshMs` (other servers add `sent`
 * records to the same objects) and whenever a modify finds the values
 * different from what it expected.
 */
import { Attribute, Change, type Entry } from 'ldapts';
import {
  escapeDnValue,
  kindOf,
  normalizePem,
  oneLinePem,
  parseRecord,
  serializeRecord,
  shown,
  ZenrollError,
  type LogKind,
  type LogWrite,
  type RollupRecord,
} from '@zenroll/core';
import { parseGeneralizedTime } from './gtime.js';
import { resultCodeOf } from './ldap-errors.js';
import { LdapSession, type ClientFactory, type LdapSettings } from './ldap-session.js';
import { baseOfTemplate, serverOfDn } from './dn.js';
import { oldestFirst, planModify, timeMs, type TimedValue } from './records.js';
import { silentLogger, type Logger } from './logger.js';
import { SELF_DESCRIPTION_ATTRS, descriptionAttributes, descriptionFrom, type ServerDescription } from './self-description.js';

export const LOG_ATTR = 'zeninvRollUpLog';
/** The server status log (SPEC §7): the service's own events, in the same form, trimmed the same way. */
export const STATUS_ATTR = 'zenrollStatusLog';
export const DISCARD_ATTR = 'zeninvDiscardScanDataTime';
export const KEY_ATTR = 'zenrollPublicKey';

export interface LdapDirectoryOptions extends LdapSettings {
  /** The Inventory Service object of a server; `{server}` is replaced by its name. */
  serviceDN: string;
  /** Values kept per object (directory.keep). */
  keep: number;
  /** Re-read an object's values after this long; default 60 s. */
  refreshMs?: number;
  createClient?: ClientFactory;
  logger?: Logger;
  now?: () => number;
}

interface Cached {
  values: TimedValue[];
  readAt: number;
}

function valuesOf(entry: Entry | undefined, attr: string): string[] {
  if (entry === undefined) return [];
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attr.toLowerCase());
  const raw = key === undefined ? [] : entry[key];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

export class LdapDirectory {
  readonly session: LdapSession;
  readonly #cache = new Map<string, Cached>();
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(readonly options: LdapDirectoryOptions) {
    this.session = new LdapSession(options, options.createClient);
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  dnOf(server: string): string {
    return this.options.serviceDN.replaceAll('{server}', escapeDnValue(server));
  }

  /** The attribute that holds a log. */
  static attrOf(kind: LogKind): string {
    return kind === 'status' ? STATUS_ATTR : LOG_ATTR;
  }

  /** Apply one journaled write; applying it again changes nothing (a retry after a lost answer). */
  async apply(write: LogWrite): Promise<void> {
    const dn = this.dnOf(write.record.server);
    const attr = LdapDirectory.attrOf(kindOf(write.record.event));
    const add = { value: serializeRecord(write.record), time: timeMs(write.record.time) };
    const replaces = write.replaces ? serializeRecord(write.replaces) : null;
    const cacheKey = `${attr}\u0000${dn}`;
    for (let attempt = 0; ; attempt++) {
      const current = await this.#values(dn, attr, attempt > 0);
      const plan = planModify(current, add, replaces, this.options.keep);
      if (plan.add === null && plan.remove.length === 0) return;
      const changes: Change[] = [];
      if (plan.remove.length > 0)
        changes.push(new Change({ operation: 'delete', modification: new Attribute({ type: attr, values: plan.remove }) }));
      if (plan.add !== null)
        changes.push(new Change({ operation: 'add', modification: new Attribute({ type: attr, values: [plan.add] }) }));
      try {
        await this.session.run('write', dn, (c) => c.modify(dn, changes));
        this.#cache.set(cacheKey, { values: plan.after, readAt: this.#cache.get(cacheKey)?.readAt ?? this.#now() });
        return;
      } catch (err) {
        this.#cache.delete(cacheKey);
        // 20 (value exists) or 16 (no such value): the object is not as
        // remembered (another writer, or our own modify applied before its
        // answer was lost). Plan again from a fresh read, once.
        const code = resultCodeOf(err);
        if ((code === 20 || code === 16) && attempt === 0) continue;
        throw err;
      }
    }
  }

  async #values(dn: string, attr: string, fresh: boolean): Promise<TimedValue[]> {
    const cacheKey = `${attr}\u0000${dn}`;
    const cached = this.#cache.get(cacheKey);
    const refreshMs = this.options.refreshMs ?? 60_000;
    if (!fresh && cached !== undefined && this.#now() - cached.readAt < refreshMs) return cached.values;
    const raw = valuesOf(await this.#readEntry(dn, [attr], 'write'), attr);
    const values = oldestFirst(
      raw.map((value) => ({ value, time: this.#valueTime(value, dn, attr) })),
      (v) => v.time,
    );
    this.#cache.set(cacheKey, { values, readAt: this.#now() });
    return values;
  }

  // A value that is not one of our records sorts as the oldest, so trimming removes it first.
  #valueTime(value: string, dn: string, attr: string): number {
    try {
      return timeMs(parseRecord(value).time);
    } catch {
      this.#logger.warn({ dn, value: value.slice(0, 120) }, `${attr} holds a value that is not a zenroll record`);
      return Number.NEGATIVE_INFINITY;
    }
  }

  async #readEntry(dn: string, attributes: string[], action: 'read' | 'write' = 'read'): Promise<Entry | undefined> {
    return this.session.run(action, dn, async (c) => {
      const { searchEntries } = await c.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes });
      return searchEntries[0];
    });
  }

  /** All records of one log on one server's object, oldest first (value order breaks ties). */
  async readAll(server: string, kind: LogKind = 'rollup'): Promise<RollupRecord[]> {
    const dn = this.dnOf(server);
    const attr = LdapDirectory.attrOf(kind);
    const records: RollupRecord[] = [];
    for (const value of valuesOf(await this.#readEntry(dn, [attr]), attr)) {
      try {
        records.push(parseRecord(value, server));
      } catch {
        this.#logger.warn({ dn, value: value.slice(0, 120) }, `${attr} holds a value that is not a zenroll record`);
      }
    }
    return oldestFirst(records, (r) => timeMs(r.time));
  }

  /** Records on one server's object, newest first. */
  async readRecords(server: string, limit: number, kind: LogKind = 'rollup'): Promise<RollupRecord[]> {
    return (await this.readAll(server, kind)).reverse().slice(0, Math.max(0, limit));
  }

  /** The discard scan data time on a server's object (the Sender reads its parent's), or null when unset. */
  async readDiscardBefore(server: string): Promise<Date | null> {
    const dn = this.dnOf(server);
    const [text] = valuesOf(await this.#readEntry(dn, [DISCARD_ATTR]), DISCARD_ATTR);
    if (text === undefined) return null;
    const date = parseGeneralizedTime(text);
    if (date === null) {
      throw new ZenrollError(
        'DIRECTORY_READ_FAILED',
        `${DISCARD_ATTR} of ${shown(dn, 200)} is ${shown(text)}, not a GeneralizedTime such as "20261122103000Z"`,
      );
    }
    return date;
  }

  /** The PEM public key a server published (as standard PEM, whatever its line breaks were), or null. */
  async readPublicKey(server: string): Promise<string | null> {
    const [pem] = valuesOf(await this.#readEntry(this.dnOf(server), [KEY_ATTR]), KEY_ATTR);
    return pem === undefined ? null : normalizePem(pem);
  }

  /**
   * Publish a server's PEM public key on its own object (the ACL lets only the
   * object itself write it), on one line (SPEC §7): a browser's one-line text
   * box shows it whole and cannot change it.
   */
  async publishPublicKey(server: string, pem: string): Promise<void> {
    const dn = this.dnOf(server);
    const change = new Change({ operation: 'replace', modification: new Attribute({ type: KEY_ATTR, values: [oneLinePem(pem)] }) });
    await this.session.run('write', dn, (c) => c.modify(dn, change));
  }

  /** Every published key under the base of serviceDN, with the server each belongs to. */
  async listPublicKeys(): Promise<{ server: string; pem: string }[]> {
    const base = baseOfTemplate(this.options.serviceDN);
    const entries = await this.session.run('read', base, async (c) => {
      const filter = `(&(objectClass=zeninvRollUpTarget)(${KEY_ATTR}=*))`;
      const { searchEntries } = await c.search(base, { scope: 'sub', filter, attributes: [KEY_ATTR], paged: { pageSize: 500 } });
      return searchEntries;
    });
    const keys: { server: string; pem: string }[] = [];
    for (const entry of entries) {
      const server = serverOfDn(this.options.serviceDN, entry.dn);
      const [pem] = valuesOf(entry, KEY_ATTR);
      if (server !== null && pem !== undefined) keys.push({ server, pem: normalizePem(pem) });
    }
    return keys.sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
  }

  /**
   * Write what a server is onto its own object (SPEC §8): one modify that
   * replaces every self-description attribute, so it is idempotent and the
   * newest write wins. The ACL lets only the object itself write them.
   */
  async writeDescription(server: string, description: ServerDescription): Promise<void> {
    const dn = this.dnOf(server);
    const changes = Object.entries(descriptionAttributes(description)).map(
      ([type, values]) => new Change({ operation: 'replace', modification: new Attribute({ type, values }) }),
    );
    await this.session.run('write', dn, (c) => c.modify(dn, changes));
  }

  /**
   * Every Inventory Service object under the base of serviceDN with what it
   * says of itself (null: nothing written yet), in one paged subtree search,
   * sorted by server name.
   */
  async readDescriptions(): Promise<{ server: string; description: ServerDescription | null }[]> {
    const base = baseOfTemplate(this.options.serviceDN);
    const entries = await this.session.run('read', base, async (c) => {
      const { searchEntries } = await c.search(base, {
        scope: 'sub',
        filter: '(objectClass=zeninvRollUpTarget)',
        attributes: [...SELF_DESCRIPTION_ATTRS],
        paged: { pageSize: 500 },
      });
      return searchEntries;
    });
    const out: { server: string; description: ServerDescription | null }[] = [];
    for (const entry of entries) {
      const server = serverOfDn(this.options.serviceDN, entry.dn);
      if (server === null) continue;
      out.push({ server, description: descriptionFrom((attr) => valuesOf(entry, attr)[0]) });
    }
    return out.sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
  }

  async close(): Promise<void> {
    this.#cache.clear();
    await this.session.close();
  }
}
