/**
 * What each server writes about itself on its Inventory Service object
 * (SPEC §8), and reading it back. Pure: attribute values in, attribute
 * values out; ldap.ts does the I/O.
 *
 * It is state, not a log: every write replaces every attribute at once
 * (one LDAP modify of `replace` changes), so writing the same description
 * twice changes nothing, and a write that was lost is made good by the next.
 */
import { formatGeneralizedTime, parseGeneralizedTime } from './gtime.js';
import { SELF_DESCRIPTION_ATTRS } from './schema.js';

export interface Traffic {
  zips: number;
  files: number;
  bytes: number;
}

export interface ServerDescription {
  role: string;
  /** The parent's server name, once its `/v1/info` answered; null without a parent or before. */
  parent: string | null;
  parentUrl: string | null;
  version: string;
  /** `cron expression (time zone)`, or null for a role that does not send. */
  schedule: string | null;
  /** ISO time the last roll-up finished; null before the first. */
  lastRollup: string | null;
  /** `ok …` or `failed …` with the counts (see rollupResultText); null before the first roll-up. */
  lastRollupResult: string | null;
  backlog: { strWaiting: number | null; zipsWaiting: number | null; zipsRejected: number | null };
  sent24h: Traffic;
  received24h: Traffic;
  /** ISO time this description was made. */
  described: string;
  /** ISO time after which, without a new roll-up, the server is late; null when it never is (no schedule). */
  lateAfter: string | null;
}

const ATTR = {
  role: 'zenrollRole',
  parent: 'zenrollParent',
  parentUrl: 'zenrollParentURL',
  version: 'zenrollVersion',
  schedule: 'zenrollSchedule',
  lastRollup: 'zenrollLastRollup',
  lastRollupResult: 'zenrollLastRollupResult',
  strWaiting: 'zenrollStrWaiting',
  zipsWaiting: 'zenrollZipsWaiting',
  zipsRejected: 'zenrollZipsRejected',
  sent24h: 'zenrollSent24h',
  received24h: 'zenrollReceived24h',
  described: 'zenrollDescribed',
  lateAfter: 'zenrollLateAfter',
} as const;

export function trafficText(t: Traffic): string {
  return `zips=${t.zips} files=${t.files} bytes=${t.bytes}`;
}

export function parseTraffic(text: string | undefined): Traffic {
  const n = (k: string) => {
    const m = new RegExp(`(?:^| )${k}=(\\d+)(?: |$)`).exec(text ?? '');
    return m === null ? 0 : Number(m[1]);
  };
  return { zips: n('zips'), files: n('files'), bytes: n('bytes') };
}

const gt = (iso: string | null) => (iso === null ? [] : [formatGeneralizedTime(new Date(iso))]);
const txt = (s: string | null) => (s === null || s === '' ? [] : [s]);
const int = (n: number | null) => (n === null ? [] : [String(n)]);

/** Every self-description attribute with its values; an empty list removes the attribute. */
export function descriptionAttributes(d: ServerDescription): Record<string, string[]> {
  return {
    [ATTR.role]: txt(d.role),
    [ATTR.parent]: txt(d.parent),
    [ATTR.parentUrl]: txt(d.parentUrl),
    [ATTR.version]: txt(d.version),
    [ATTR.schedule]: txt(d.schedule),
    [ATTR.lastRollup]: gt(d.lastRollup),
    [ATTR.lastRollupResult]: txt(d.lastRollupResult),
    [ATTR.strWaiting]: int(d.backlog.strWaiting),
    [ATTR.zipsWaiting]: int(d.backlog.zipsWaiting),
    [ATTR.zipsRejected]: int(d.backlog.zipsRejected),
    [ATTR.sent24h]: [trafficText(d.sent24h)],
    [ATTR.received24h]: [trafficText(d.received24h)],
    [ATTR.described]: gt(d.described),
    [ATTR.lateAfter]: gt(d.lateAfter),
  };
}

/**
 * The description an object holds, or null when it holds none (the server
 * never wrote one: `unknown`). `get` gives an attribute's first value,
 * whatever the letter case of its name in the answer.
 */
export function descriptionFrom(get: (attr: string) => string | undefined): ServerDescription | null {
  const role = get(ATTR.role);
  const described = get(ATTR.described);
  if (role === undefined || described === undefined) return null;
  const time = (attr: string) => {
    const v = get(attr);
    const d = v === undefined ? null : parseGeneralizedTime(v);
    return d === null ? null : d.toISOString();
  };
  const num = (attr: string) => {
    const v = get(attr);
    return v === undefined || !/^\d+$/.test(v) ? null : Number(v);
  };
  return {
    role,
    parent: get(ATTR.parent) ?? null,
    parentUrl: get(ATTR.parentUrl) ?? null,
    version: get(ATTR.version) ?? '',
    schedule: get(ATTR.schedule) ?? null,
    lastRollup: time(ATTR.lastRollup),
    lastRollupResult: get(ATTR.lastRollupResult) ?? null,
    backlog: { strWaiting: num(ATTR.strWaiting), zipsWaiting: num(ATTR.zipsWaiting), zipsRejected: num(ATTR.zipsRejected) },
    sent24h: parseTraffic(get(ATTR.sent24h)),
    received24h: parseTraffic(get(ATTR.received24h)),
    described: time(ATTR.described) ?? new Date(0).toISOString(),
    lateAfter: time(ATTR.lateAfter),
  };
}

export { SELF_DESCRIPTION_ATTRS };
