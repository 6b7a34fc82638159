/**
 * What verify can find wrong, as a closed list of stable codes (SPEC §7.2). A report names every
 * failure with the seq where it was found; tests and callers match codes, never messages.
 */

export const FAILURE_CODES = [
  'EMPTY', //            no genesis at all
  'BAD_KEY_ENCODING', // a storage key that is not an 8-byte seq
  'TOO_LARGE', //        stored event over the size limit
  'NON_CANONICAL', //    bytes that are not canonical CBOR of our profile
  'MALFORMED_EVENT', //  canonical CBOR, but not a v1 event
  'SEQ_GAP', //          one or more seqs missing before this one
  'SEQ_MISMATCH', //     the event's own seq differs from the seq it is stored under
  'BAD_PREV', //         prev is not the hash of the event before
  'TIME_REVERSED', //    ts lower than the previous event's ts
  'BAD_GENESIS', //      event 0 is not a valid genesis, or a genesis appears later
  'WEAK_KEY', //         the author key fails the key rules (SPEC §2.2)
  'UNAUTHORIZED', //     the author was never an authorised key at this seq
  'KEY_REVOKED', //      the author's key had been revoked before this seq
  'NOT_ADMIN', //        a key change signed by a key that was not an admin at this seq
  'BAD_KEY_EVENT', //    a key.* event with a malformed payload or a forbidden change (SPEC §14.3)
  'BAD_SIGNATURE', //    the signature fails the strict rule
  'HEAD_MISMATCH', //    the stored head does not name the last event
  'META_MISMATCH', //    stored ledger facts differ from the genesis
  'EXPECTED_HEAD', //    --expect-head names an event that is missing or different
  'BAD_RECORD_EVENT', // a record.* event whose payload is not a valid record event
  'VERSION_BREAK', //    record versions not consecutive, created twice, or written after a tombstone
  'BAD_LINK_EVENT', //   a link.* event whose payload is not a valid link (SPEC §19.1)
  'LINK_BREAK', //       a link added while in place, or removed while not (SPEC §19.2)
  'PROJECTION_MISMATCH', // a stored projection (index) differs from what the log implies
  'BACKEND_DISAGREEMENT', // the fast and the reference Ed25519 backends disagree on a signature (audit --reference)
  'SAMPLE_SET_BREAK', // sample-set chunks incomplete, out of order, or not rolling up to their record (SPEC §21.5)
  'TREE_MISMATCH', //    a stored Merkle tree node differs from what the log implies (SPEC §17.2)
  'CHECKPOINT_MISMATCH', // the log's root or head at the checkpoint's size differs: rewritten or forked (verify --checkpoint)
  'CHECKPOINT_TRUNCATED', // the log holds fewer events than a checkpoint committed to (verify --checkpoint)
  'STORE_ERROR', //      the store could not be read to the end
] as const;

export type FailureCode = (typeof FAILURE_CODES)[number];

export interface VerifyFailure {
  /** Where the failure was found; null for ledger-wide findings. */
  readonly seq: number | null;
  readonly code: FailureCode;
  readonly message: string;
}
