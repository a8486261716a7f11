/**
 * The one place where ldapts errors become ZenrollErrors. Each gets a scope,
 * which the applier acts on:
 * - `record`: this record can never be applied (no such object, a value the
 *   schema refuses): set it aside, go on with the next;
 * - `session`: nothing can be applied until someone acts (bad credentials,
 *   no access, schema missing) or the server is back (connection, timeout,
 *   busy): keep the backlog and retry with back-off.
 * Connection problems are DIRECTORY_UNREACHABLE, everything else
 * DIRECTORY_WRITE_FAILED or DIRECTORY_READ_FAILED.
 */
import { ResultCodeError } from 'ldapts';
import { isZenrollError, shown, ZenrollError, messageOf, fieldOf, type ErrorCode } from '@zenroll/core';

export type Scope = 'record' | 'session';

export interface LdapContext {
  action: 'read' | 'write';
  url: string;
  bindDN: string;
  /** The object the operation was about. */
  dn?: string;
}

// Result codes that concern one record or object, not the whole connection.
const RECORD_CODES = new Set([16, 18, 19, 20, 21, 32, 34, 64, 65, 67, 69]);
// Time limit, busy, unavailable: the server is there but cannot answer now.
const BUSY_CODES = new Set([3, 51, 52]);

const WHAT: Record<number, string> = {
  4: 'size limit exceeded: let the bind DN read more entries in one paged search (OpenLDAP: limits … size.prtotal=unlimited)',
  8: 'the session is not authenticated (the server requires a bind)',
  16: 'no such attribute value',
  17: 'undefined attribute type: the directory lacks the zenroll schema (load zenroll.schema or zenroll.ldif)',
  19: 'constraint violation',
  20: 'the value already exists',
  21: 'invalid attribute syntax',
  32: 'no such object: create the Inventory Service object or fix directory.serviceDN',
  34: 'invalid DN syntax',
  48: 'inappropriate authentication (anonymous access is off)',
  49: 'invalid credentials: check directory.bindDN and directory.passwordFile',
  50: 'insufficient access: the bind DN must be a member of the roll-up servers group',
  51: 'the server is busy',
  52: 'the server is unavailable',
  53: 'the server is unwilling to perform the operation',
  65: 'object class violation: the object needs the zeninvRollUpTarget class',
};

export function resultCodeOf(err: unknown): number | undefined {
  if (err instanceof ResultCodeError) return err.code;
  if (isZenrollError(err) && typeof err.details.resultCode === 'number') return err.details.resultCode;
  return undefined;
}

/** Whether the applier must set the record aside rather than wait. */
export function refusesRecord(err: unknown): err is ZenrollError {
  return isZenrollError(err) && err.details.scope === 'record';
}

export function ldapError(err: unknown, ctx: LdapContext): ZenrollError {
  if (isZenrollError(err)) return err;
  const on = ctx.dn === undefined ? '' : ` on ${shown(ctx.dn, 200)}`;
  const resultCode = resultCodeOf(err);
  if (resultCode === undefined) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return new ZenrollError('DIRECTORY_UNREACHABLE', `the directory ${ctx.url} did not answer (${ctx.action}${on}): ${reason}`, {
      cause: err,
      details: { scope: 'session', url: ctx.url, errno: fieldOf(err, 'code') },
    });
  }
  const refused: ErrorCode = ctx.action === 'read' ? 'DIRECTORY_READ_FAILED' : 'DIRECTORY_WRITE_FAILED';
  const code = BUSY_CODES.has(resultCode) ? 'DIRECTORY_UNREACHABLE' : refused;
  const what = WHAT[resultCode] ?? messageOf(err);
  const who = resultCode === 49 || resultCode === 50 ? ` as ${shown(ctx.bindDN, 200)}` : '';
  return new ZenrollError(code, `the directory ${ctx.url} refused a ${ctx.action}${on}${who}: ${what} (LDAP result ${resultCode})`, {
    cause: err,
    details: { scope: RECORD_CODES.has(resultCode) ? 'record' : 'session', resultCode, url: ctx.url, dn: ctx.dn },
  });
}
