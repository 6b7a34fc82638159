/**
 * The one error class of provledger and the closed list of its codes (SPEC §9).
 *
 * Every failure the library reports on purpose is a `LedgerError` whose `code` is one of `ERROR_CODES`.
 * Codes are a stable contract: tests and callers match on them, never on messages. Foreign errors
 * (LevelDB, zod, CBOR, node:crypto) are wrapped with `cause` so the original stays inspectable.
 * This module imports nothing, so every other module may import it.
 */

export const ERROR_CODES = [
  // bad input or usage: the caller can fix it (CLI exit 2)
  'USAGE',
  'INVALID_ARGUMENT',
  'INVALID_JSON',
  'INVALID_PAYLOAD',
  'INVALID_TYPE',
  'EVENT_TOO_LARGE',
  'KEY_INVALID',
  'KEY_WEAK',
  'KEY_NOT_AUTHORIZED',
  'FILE_EXISTS',
  'LEDGER_EXISTS',
  'EVENT_NOT_FOUND',
  'CLOCK_INVALID',
  'INVALID_RECORD_ID',
  'INVALID_KIND',
  'RECORD_EXISTS',
  'RECORD_NOT_FOUND',
  'RECORD_DELETED',
  'VERSION_NOT_FOUND',
  'AT_OUT_OF_RANGE',
  'KEY_NOT_FOUND',
  'KEY_REVOKED',
  'KEY_UNCHANGED',
  'LAST_ADMIN',
  'PASSPHRASE_REQUIRED',
  'CHECKPOINT_MALFORMED',
  'CHECKPOINT_FOREIGN',
  'CHECKPOINT_UNTRUSTED',
  'PROOF_MALFORMED',
  'BUNDLE_MALFORMED',
  'INVALID_LINK',
  'LINK_EXISTS',
  'LINK_NOT_FOUND',
  'LINK_CYCLE',
  'RUN_FINISHED',
  'ALREADY_INVALID',
  'EXPORT_MALFORMED',
  // a checkpoint this ledger no longer matches: rewritten, forked or truncated since (CLI exit 1)
  'CHECKPOINT_MISMATCH',
  // a fingerprint that is not in the sample set: there is nothing to prove (CLI exit 1)
  'SAMPLE_NOT_FOUND',
  // an export whose events were changed or fail verification; nothing was imported (CLI exit 1)
  'IMPORT_INVALID',
  // a stale --base: someone else wrote first (CLI exit 4)
  'CONFLICT',
  // the ledger cannot be used (CLI exit 3)
  'LEDGER_NOT_FOUND',
  'LEDGER_LOCKED',
  'LEDGER_CLOSED',
  'STORE_CORRUPT',
  'STORE_ERROR',
  // bytes that are not a valid event (reported by decode; verify turns them into failures)
  'NON_CANONICAL',
  'MALFORMED_EVENT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface LedgerErrorOptions {
  /** Structured facts about the failure (seq, path, limit...). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: LedgerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a LedgerError, optionally with the given code. */
export function isLedgerError(error: unknown, code?: ErrorCode): error is LedgerError {
  return error instanceof LedgerError && (code === undefined || error.code === code);
}
