/**
 * One error class for the whole project. Users, the CLI and the HTTP layer
 * match on `code`, never on the message; codes are stable once released.
 */
export const ERROR_CODES = {
  // names (SPEC §3)
  NAME_INVALID: 'a file, server or tree name does not follow SPEC §3',
  // the .prp manifest (SPEC §3)
  PRP_MALFORMED: 'the .prp is not UTF-8 key=value lines',
  PRP_KEY_MISSING: 'a required .prp key is missing',
  PRP_KEY_REPEATED: 'a .prp key appears twice',
  PRP_KEY_ORDER: 'the .prp keys are not in the order of SPEC §3',
  PRP_VALUE_INVALID: 'a .prp value is not of the expected form',
  PRP_AFTER_SIGNATURE: 'a line follows the signature line',
  PRP_SIGNATURE_INVALID: 'the .prp signature does not verify',
  PRP_SIGNER_UNKNOWN: 'the .prp was signed by a key that is not trusted',
  PRP_SIGNER_MISMATCH: 'the .prp was signed by a key trusted for another server than the one it names',
  // keys
  KEY_INVALID: 'a key file is not an Ed25519 PEM key',
  KEY_NOT_FOUND: 'a key file does not exist',
  // zips
  ZIP_UNREADABLE: 'the zip cannot be read (truncated, not a zip, bad structure)',
  ZIP_ENTRY_UNSAFE: 'a zip entry has an unsafe name or type',
  ZIP_ENTRY_UNEXPECTED: 'a zip holds entries other than the expected ones',
  ZIP_ENTRY_DUPLICATE: 'a zip holds the same entry name twice',
  ZIP_TOO_MANY_FILES: 'a zip holds more .str files than allowed',
  ZIP_TOO_LARGE: 'a zip or one of its entries is larger than allowed',
  ZIP_RATIO_EXCEEDED: 'an entry expands more than the ratio cap (zip bomb)',
  ZIP_CRC_MISMATCH: 'an entry does not match its CRC-32',
  ZIP_SIZE_MISMATCH: 'an entry does not match its declared size',
  ZIP_MANIFEST_MISMATCH: 'the zip does not match its signed .prp',
  ZIP_NAME_MISMATCH: 'the outer zip name does not match its content',
  // packing
  PACK_INPUT_INVALID: 'the files given to the packer are not a valid batch',
  PACK_SOURCE_UNREADABLE: 'a .str of the batch vanished or cannot be read',
  PACK_FAILED: 'writing a zip failed',
  // files
  FS_FAILED: 'a file operation failed',
  FS_NO_SPACE: 'the disk is full',
  // config
  CONFIG_INVALID: 'the config file does not follow SPEC §6',
  CONFIG_NOT_FOUND: 'the config file does not exist',
  // network and services
  RECEIVER_UNREACHABLE: 'the parent Receiver did not answer',
  RECEIVER_REJECTED: 'the parent Receiver refused a zip',
  RECEIVER_BUSY: 'the parent Receiver is busy',
  UPLOAD_INVALID: 'an upload is not acceptable',
  LOCK_HELD: 'another process holds the lock',
  LOCK_LOST: 'the lock was taken over while this process held it',
  DIRECTORY_UNREACHABLE: 'the LDAP directory did not answer',
  DIRECTORY_WRITE_FAILED: 'the LDAP directory refused a write',
  DIRECTORY_READ_FAILED: 'the LDAP directory refused a read',
  JOURNAL_CORRUPT: 'the local journal holds a line that is not a record',
  RECORD_INVALID: 'a log record is not in the form of SPEC §7',
  USAGE: 'the command line is wrong',
  INTERNAL: 'a bug: an invariant did not hold',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
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
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
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
