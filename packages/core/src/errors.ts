/**
 * One error class for the whole project. Users, the CLI and the HTTP layer
 * match on `code`, never on the message; codes are stable once released.
 *
 * The code alone fixes how an error is met (SPEC §5): the exit status of the
 * command that ends with it, the HTTP status of a Receiver's answer that
 * carries it, and whether a Sender that meets it retries on the SPEC §1
 * schedule (a failure that can pass by itself) or stops that zip at once (one
 * that waiting cannot mend). docs/errors.md is printed from this table
 * (scripts/errors-doc.mjs); a test checks that it is current.
 */
export interface ErrorSpec {
  /** What the code means, for the docs. */
  readonly text: string;
  /** Exit status of a command that ends with it: 1 a failure of the work, 2 bad usage or a bad config or setup. */
  readonly exit: 1 | 2;
  /** HTTP status of a Receiver's answer that carries it; null for a code met on one side only (the admin endpoint relays those with 500). */
  readonly http: number | null;
  /** A Sender that meets it tries again on the SPEC §1 schedule; otherwise that zip's sending stops at once. */
  readonly retry: boolean;
}

const e = (text: string, exit: 1 | 2, http: number | null, retry: boolean): ErrorSpec => ({ text, exit, http, retry });

export const ERRORS = {
  // names (SPEC §3)
  NAME_INVALID: e('a file, server or tree name does not follow docs/SPEC.md §3', 1, 400, false),
  // the .prp manifest (SPEC §3)
  PRP_MALFORMED: e('the .prp is not UTF-8 key=value lines', 1, 422, false),
  PRP_KEY_MISSING: e('a required .prp key is missing', 1, 422, false),
  PRP_KEY_REPEATED: e('a .prp key appears twice', 1, 422, false),
  PRP_KEY_ORDER: e('the .prp keys are not in the order of docs/SPEC.md §3', 1, 422, false),
  PRP_VALUE_INVALID: e('a .prp value is not of the expected form', 1, 422, false),
  PRP_AFTER_SIGNATURE: e('a line follows the signature line', 1, 422, false),
  PRP_SIGNATURE_INVALID: e('the .prp signature does not verify', 1, 403, false),
  PRP_SIGNER_UNKNOWN: e('the .prp was signed by a key that is not trusted (on the parent: zenroll trust add)', 1, 401, false),
  PRP_SIGNER_MISMATCH: e('the .prp was signed by a key trusted for another server than the one it names', 1, 403, false),
  // keys
  KEY_INVALID: e('a key file is not an Ed25519 PEM key', 1, null, false),
  KEY_NOT_FOUND: e('a key file does not exist', 1, null, false),
  // zips
  ZIP_UNREADABLE: e('the zip cannot be read (truncated, not a zip, bad structure)', 1, 422, false),
  ZIP_ENTRY_UNSAFE: e('a zip entry has an unsafe name or type', 1, 422, false),
  ZIP_ENTRY_UNEXPECTED: e('a zip holds entries other than the expected ones', 1, 422, false),
  ZIP_ENTRY_DUPLICATE: e('a zip holds the same entry name twice', 1, 422, false),
  ZIP_TOO_MANY_FILES: e('a zip holds more .str files than allowed', 1, 422, false),
  ZIP_OVER_LIMIT: e("the zip is larger than the Receiver's maxZipBytes", 1, 413, false),
  ZIP_TOO_LARGE: e('an entry of the zip is larger than allowed (.str, .prp, inner zip)', 1, 422, false),
  ZIP_RATIO_EXCEEDED: e('an entry expands more than the ratio cap (zip bomb)', 1, 422, false),
  ZIP_CRC_MISMATCH: e('an entry does not match its CRC-32', 1, 422, false),
  ZIP_SIZE_MISMATCH: e('an entry does not match its declared size', 1, 422, false),
  ZIP_MANIFEST_MISMATCH: e('the zip does not match its signed .prp', 1, 422, false),
  ZIP_NAME_MISMATCH: e('the outer zip name does not match its content', 1, 422, false),
  ZIP_TIME_AHEAD: e(
    "the zip's scheduled time is further ahead of the Receiver's clock than receiver.maxClockSkew: the sender's clock is wrong",
    1,
    422,
    false,
  ),
  ZIP_CONFLICT: e('a zip of this name with other content was received before', 1, 409, false),
  // packing
  PACK_INPUT_INVALID: e('the files given to the packer are not a valid batch', 1, null, false),
  PACK_SOURCE_UNREADABLE: e('a .str of the batch vanished or cannot be read', 1, null, false),
  PACK_FAILED: e('writing a zip failed', 1, null, false),
  // files
  FS_FAILED: e('a file operation failed', 1, 500, true),
  FS_NO_SPACE: e('the disk is full', 1, 507, true),
  // config and set-up
  CONFIG_INVALID: e('the config file does not follow docs/SPEC.md §6', 2, null, false),
  CONFIG_NOT_FOUND: e('the config file does not exist', 2, null, false),
  SETUP_INVALID: e('a folder, key, password or TLS file the config names is missing or unreadable', 2, null, false),
  PROGRAM_MISSING: e('a program zenroll runs is not installed (slapd and ldap-utils, for zenroll demo)', 2, null, false),
  PORT_IN_USE: e('the address to listen on is taken (another process; systemd restarts the service)', 1, null, true),
  // network and services
  RECEIVER_UNREACHABLE: e('the parent Receiver did not answer (refused, reset, timed out)', 1, null, true),
  RECEIVER_TLS_UNTRUSTED: e("the parent's TLS certificate is not trusted here (sender.tls.ca)", 1, null, false),
  RECEIVER_PROTOCOL_MISMATCH: e('sender.parent says http:// for an https port, or the reverse', 1, null, false),
  RECEIVER_TLS_CLIENT_CERT: e(
    'the parent requires a TLS client certificate (receiver.tls.clientCa) and this Sender presents none (sender.tls.cert, sender.tls.key)',
    1,
    null,
    false,
  ),
  RECEIVER_REJECTED: e('the parent Receiver refused a zip or a request (a 4xx answer)', 1, null, false),
  RECEIVER_BUSY: e('the parent Receiver is busy or failing (a 5xx answer)', 1, null, true),
  UPLOAD_INVALID: e('an upload is not acceptable (a bad header, a body cut short)', 1, 400, false),
  DIGEST_MISMATCH: e('the body does not match its Repr-Digest (damaged in transit; send it again)', 1, 400, true),
  UPLOAD_IN_PROGRESS: e('the same zip is being uploaded right now; try again after Retry-After', 1, 503, true),
  BUSY: e('the Receiver is handling as many uploads as it may; try again after Retry-After', 1, 503, true),
  SHUTTING_DOWN: e('the Receiver is stopping', 1, 503, true),
  REQUEST_TIMEOUT: e('the client sent nothing for too long', 1, 408, true),
  NOT_FOUND: e('no such path', 1, 404, false),
  METHOD_NOT_ALLOWED: e('the path does not take this method', 1, 405, false),
  UNHEALTHY: e('the Receiver cannot accept uploads now', 1, 503, true),
  LOCK_HELD: e('another process holds the lock', 1, null, true),
  LOCK_LOST: e('the lock was taken over while this process held it', 1, null, false),
  DIRECTORY_UNREACHABLE: e('the LDAP directory did not answer', 1, null, true),
  DIRECTORY_WRITE_FAILED: e('the LDAP directory refused a write', 1, null, false),
  DIRECTORY_READ_FAILED: e('the LDAP directory refused a read', 1, null, false),
  JOURNAL_CORRUPT: e('the local journal holds a line that is not a record', 1, null, false),
  RECORD_INVALID: e('a log record is not in the form of docs/SPEC.md §7', 1, null, false),
  WAIT_EXCEEDED: e(
    'zenroll rollup --max-wait ran out: the rest waits for the next roll-up (the service goes on with one it runs)',
    1,
    null,
    false,
  ),
  USAGE: e('the command line is wrong, or the command does not fit the role', 2, null, false),
  INTERNAL: e('a bug: an invariant did not hold (a Receiver that answers it may be fixed by a restart: retried)', 1, 500, true),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Each code's meaning (the table's `text`), for code that only needs the words. */
const codeTexts = Object.fromEntries(Object.entries(ERRORS).map(([code, spec]) => [code, spec.text]));
// biome-ignore lint/nursery/noUnsafeTypeAssertion: Object.fromEntries forgets the keys, which are ERRORS' own
export const ERROR_CODES: { readonly [C in ErrorCode]: string } = codeTexts as { [C in ErrorCode]: string };

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code);
}

/** The table's row of `code`; an unknown code (from a newer peer, say) is met like INTERNAL. */
export function errorSpec(code: string): ErrorSpec {
  return isErrorCode(code) ? ERRORS[code] : ERRORS.INTERNAL;
}

export interface ZenrollErrorOptions {
  cause?: unknown;
  /** Structured facts for logs and JSON answers (never secrets). */
  details?: Record<string, unknown>;
}

export class ZenrollError extends Error {
  override readonly name = 'ZenrollError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ZenrollErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** What to do about it, when there is something to do (`details.fix`). */
  get fix(): string | undefined {
    return typeof this.details.fix === 'string' ? this.details.fix : undefined;
  }

  toJSON(): { error: ErrorCode; message: string; fix?: string } {
    const fix = this.fix;
    return fix === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, fix };
  }
}

export function isZenrollError(err: unknown, code?: ErrorCode): err is ZenrollError {
  return err instanceof ZenrollError && (code === undefined || err.code === code);
}

/** Cut a user-supplied value short for a message, keeping it readable. */
export function shown(value: unknown, max = 60): string {
  const s = typeof value === 'string' ? value : String(value);
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}

/** The errno code of a Node system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err) {
    return typeof err.code === 'string' ? err.code : undefined;
  }
  return undefined;
}

/** The message of anything thrown: an Error's own, else the value as text (a library may throw a string). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The one place where file-system errors become ZenrollErrors. ENOSPC and
 * EDQUOT are a full disk (the Receiver answers 507 for them); the rest keep
 * their errno in the message so a user can tell a missing file from a
 * permission problem.
 */
export function fsError(err: unknown, action: string, path: string): ZenrollError {
  if (err instanceof ZenrollError) return err;
  const errno = errnoCode(err);
  const code: ErrorCode = errno === 'ENOSPC' || errno === 'EDQUOT' ? 'FS_NO_SPACE' : 'FS_FAILED';
  const reason = err instanceof Error ? err.message : String(err);
  return new ZenrollError(code, `cannot ${action} ${shown(path, 200)}: ${reason}`, {
    cause: err,
    details: { errno, path },
  });
}

/**
 * A port another process holds may be free in a moment (an old process still
 * stopping): PORT_IN_USE, exit 1, which systemd restarts. An address this
 * host does not have is the config's fault: exit 2.
 */
export function listenError(key: string, host: string, port: number, err: Error): ZenrollError {
  if (errnoCode(err) === 'EADDRINUSE') {
    return new ZenrollError('PORT_IN_USE', `${key}: ${host}:${port} is in use by another process`, {
      cause: err,
      details: { fix: `stop the other process (ss -ltnp 'sport = :${port}' shows it), or set ${key} to a free port` },
    });
  }
  return new ZenrollError('CONFIG_INVALID', `${key}: cannot listen on ${host}:${port}: ${err.message}`, { cause: err });
}
