/**
 * What went wrong when the parent gave no usable answer, said the way an
 * operator needs it (SPEC §1): what happened ("certificate not trusted",
 * "refused", "timed out"), whether waiting can mend it, and the fix. A
 * certificate this side does not trust, or http spoken to an https port (or
 * the reverse), is an answer of sorts: retrying it for a day helps nobody.
 * Node and undici give the cause as an error `code` (OpenSSL's verify result
 * for TLS); nothing here reads a message.
 */
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { ZenrollError, shown, fieldOf, type Config } from '@zenroll/core';

type SenderConfig = Config['sender'];

// The chain ends in no CA this side trusts (system CAs plus sender.tls.ca): OpenSSL's verify results.
const UNTRUSTED_CERT_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
]);
const OUT_OF_DATE_CERT_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
// A TLS client that met a server speaking plain HTTP (its answer is no TLS record).
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST', 'EPROTO']);
const REFUSED = new Set(['ECONNREFUSED']);
const TIMED_OUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CLOSED = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
const NO_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EHOSTUNREACH', 'ENETUNREACH']);

interface Cause {
  code: string | undefined;
  message: string;
  /** Bytes the parent sent on the connection, when undici says (its SocketError). */
  bytesRead: number | undefined;
}

function causeOf(err: unknown): Cause {
  // undici wraps a few of Node's errors once; the inner one holds the code.
  const inner = fieldOf(err, 'cause');
  const pick = typeof fieldOf(err, 'code') === 'string' ? err : typeof fieldOf(inner, 'code') === 'string' ? inner : err;
  const code = fieldOf(pick, 'code');
  const text = fieldOf(pick, 'message');
  const bytesRead = fieldOf(fieldOf(err, 'socket'), 'bytesRead');
  return {
    code: typeof code === 'string' ? code : undefined,
    message: typeof text === 'string' ? (text.split('\n')[0] ?? '').trim() : String(err),
    bytesRead: typeof bytesRead === 'number' ? bytesRead : undefined,
  };
}

/**
 * A TLS connection of the Sender's own to the URL's host and port, for the
 * probes below: no certificate is trusted by it (rejectUnauthorized false),
 * only whether the handshake completes and what the parent answers it with.
 */
function probeSocket(url: URL): TLSSocket {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return tlsConnect({ host, port, rejectUnauthorized: false, ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }) });
}

/** Does host:port complete a TLS handshake? (Used only when an http:// parent closed without a byte; nothing is sent.) */
export function speaksTls(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = probeSocket(url);
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// The parent's TLS alert when the handshake gave it no client certificate and it requires one (TLS 1.3).
const CLIENT_CERT_REQUIRED = 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED';

/**
 * The TLS error an https parent answers a handshake without a client
 * certificate with, if any (null when it takes the connection). Used only
 * when such a parent closed the connection without a byte: in TLS 1.3 the
 * server's "certificate required" alert comes after the client's handshake
 * is done, and undici often reports only that the other side closed.
 */
export function tlsAlertOf(url: URL, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = probeSocket(url);
    const done = (v: string | null) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    // The request only makes the parent read, and so answer with its alert.
    socket.once('secureConnect', () => socket.write(`GET /v1/health HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`));
    socket.once('data', () => done(null));
    socket.once('error', (err) => {
      const code = fieldOf(err, 'code');
      done(typeof code === 'string' ? code : null);
    });
    socket.once('close', () => done(null));
  });
}

export interface FailureContext {
  sender: SenderConfig;
  /** The URL asked, for the message. */
  url: string;
}

function fail(
  code: 'RECEIVER_UNREACHABLE' | 'RECEIVER_TLS_UNTRUSTED' | 'RECEIVER_PROTOCOL_MISMATCH' | 'RECEIVER_TLS_CLIENT_CERT',
  what: string,
  c: Cause,
  err: unknown,
  ctx: FailureContext,
  fix?: string,
): ZenrollError {
  const why = [c.code, c.message].filter(Boolean).join(': ');
  return new ZenrollError(code, `parent ${shown(ctx.url, 200)}: ${what}${why ? ` (${why})` : ''}`, {
    cause: err,
    details: { url: ctx.url, errno: c.code, what, ...(fix === undefined ? {} : { fix }) },
  });
}

/**
 * The ZenrollError for a request to the parent that ended without an answer.
 * `probe` checks whether an http:// parent that closed the connection at once
 * speaks TLS there; tests give their own.
 */
export async function connectionFailure(
  err: unknown,
  ctx: FailureContext,
  probe: (url: URL, timeoutMs: number) => Promise<boolean> = speaksTls,
  alertProbe: (url: URL, timeoutMs: number) => Promise<string | null> = tlsAlertOf,
): Promise<ZenrollError> {
  const c = causeOf(err);
  const url = new URL(ctx.url);
  const code = c.code ?? '';
  const ca = ctx.sender.tls.ca;
  // A certificate the Sender refuses is said in our words and OpenSSL's code
  // alone: Node's message adds nothing to them, varies with its version, and
  // Node 24 appends a hint about --use-system-ca that is not zenroll's fix.
  const certCode = { ...c, message: '' };
  if (UNTRUSTED_CERT_CODES.has(code)) {
    const given = ca === null ? 'sender.tls.ca is not set and no system CA signed it' : `sender.tls.ca (${ca}) did not sign it`;
    return fail(
      'RECEIVER_TLS_UNTRUSTED',
      `certificate not trusted: ${given}`,
      certCode,
      err,
      ctx,
      `copy the parent's CA certificate (for a self-signed parent, its tls/server.crt) here and set sender.tls.ca to it; a new server: zenroll init … --parent-ca FILE`,
    );
  }
  if (OUT_OF_DATE_CERT_CODES.has(code)) {
    return fail(
      'RECEIVER_TLS_UNTRUSTED',
      'certificate outside its validity period',
      certCode,
      err,
      ctx,
      "renew the parent's certificate, or set this server's clock right",
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return fail(
      'RECEIVER_TLS_UNTRUSTED',
      `certificate not made for host ${url.hostname}`,
      certCode,
      err,
      ctx,
      "write sender.parent with a name the parent's certificate holds, or give the parent a certificate for this one (zenroll init --tls-name on the parent)",
    );
  }
  if (url.protocol === 'https:' && NOT_TLS.has(code)) {
    return fail(
      'RECEIVER_PROTOCOL_MISMATCH',
      'answers plain HTTP, not HTTPS',
      c,
      err,
      ctx,
      `write sender.parent as ${shown(`http://${url.host}`)}, or turn TLS on at the parent (receiver.tls)`,
    );
  }
  if (url.protocol === 'http:' && code === 'UND_ERR_SOCKET' && c.bytesRead === 0 && (await probe(url, ctx.sender.timeoutMs))) {
    return fail(
      'RECEIVER_PROTOCOL_MISMATCH',
      'speaks HTTPS there, and sender.parent says http://',
      c,
      err,
      ctx,
      `write sender.parent as ${shown(`https://${url.host}`)} (and set sender.tls.ca to the parent's CA certificate)`,
    );
  }
  // undici gives the alert itself when it read it, and only "other side closed" when the parent closed first.
  const closedAtOnce = CLOSED.has(code) && (c.bytesRead ?? 0) === 0 && ctx.sender.proxy === null;
  if (
    url.protocol === 'https:' &&
    ctx.sender.tls.cert === null &&
    (code === CLIENT_CERT_REQUIRED || (closedAtOnce && (await alertProbe(url, ctx.sender.timeoutMs)) === CLIENT_CERT_REQUIRED))
  ) {
    return fail(
      'RECEIVER_TLS_CLIENT_CERT',
      'requires a TLS client certificate, and this Sender presents none',
      { ...c, code: CLIENT_CERT_REQUIRED, message: 'tlsv13 alert certificate required' },
      err,
      ctx,
      'get a certificate for this server signed by the CA the parent names in receiver.tls.clientCa, and set sender.tls.cert and sender.tls.key to it and its key',
    );
  }
  if (REFUSED.has(code)) return fail('RECEIVER_UNREACHABLE', `refused: nothing listens at ${url.host}`, c, err, ctx);
  if (TIMED_OUT.has(code))
    return fail('RECEIVER_UNREACHABLE', `timed out after ${ctx.sender.timeoutMs} ms (sender.timeoutMs)`, c, err, ctx);
  if (NO_HOST.has(code)) return fail('RECEIVER_UNREACHABLE', `host ${url.hostname} not found or not reachable`, c, err, ctx);
  if (CLOSED.has(code)) return fail('RECEIVER_UNREACHABLE', 'closed the connection', c, err, ctx);
  return fail('RECEIVER_UNREACHABLE', 'did not answer', c, err, ctx);
}

/** The stall timer of an upload fired: nothing moved for `sender.timeoutMs`. */
export function stalled(ctx: FailureContext): ZenrollError {
  return fail(
    'RECEIVER_UNREACHABLE',
    `timed out: the upload made no progress for ${ctx.sender.timeoutMs} ms (sender.timeoutMs)`,
    { code: undefined, message: '', bytesRead: undefined },
    undefined,
    ctx,
  );
}
