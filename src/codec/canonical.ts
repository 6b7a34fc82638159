/**
 * Canonical CBOR for provledger (SPEC §5): the one byte form of every value that is hashed or signed.
 *
 * Owns the profile: RFC 8949 §4.2.1 core deterministic encoding, with every non-integer number as a float64
 * (as IPLD DAG-CBOR does). Exposes encodeCanonical, decodeCanonical and assertJsonValue. This folder is the
 * only importer of cbor-x (used to write bytes; see `reader.ts` for why reading is our own). It must not
 * know what an event is, must not do I/O, and must not let a foreign exception escape.
 */

import { Encoder, type Options } from 'cbor-x';
import { LedgerError } from '../errors.js';
import { readCanonical } from './reader.js';
import { prepareValue } from './values.js';
import { writeCanonical } from './writer.js';

export { MAX_NESTING_DEPTH } from './values.js';

/**
 * cbor-x has no canonical mode; these options plus `prepareValue` (sorted Maps, bigints beyond ±2^32)
 * make its output canonical. `useTag259ForMaps` works but is missing from the Options type.
 */
const encoderOptions: Options & { useTag259ForMaps: boolean } = {
  useRecords: false, // records are a cbor-x tag extension
  mapsAsObjects: true,
  useTag259ForMaps: false, // else Maps get tag 259
  variableMapSize: true, // else every object gets a map16 head
  tagUint8Array: false, // else Uint8Array gets tag 64
  pack: false,
  structuredClone: false,
  bundleStrings: false,
};
const encoder = new Encoder(encoderOptions);

/**
 * Encodes a value in the canonical CBOR profile (SPEC §5).
 *
 * Accepts null, booleans, well-formed strings, safe integers, finite non-integer numbers (written as
 * float64), Uint8Array (Buffer too, written as a plain byte string), arrays, and plain objects (prototype
 * Object.prototype or null) with text keys other than `__proto__`, nested at most MAX_NESTING_DEPTH deep.
 * Key insertion order does not matter. `-0` is written as `0`.
 *
 * @returns a fresh Uint8Array that aliases nothing.
 * @throws LedgerError `INVALID_PAYLOAD` naming the JSON path of the first bad value in its message and in
 *   `details.path`, e.g. `$.metrics.loss: NaN is not allowed; use a finite number or null`.
 * @example
 *   toHex(encodeCanonical({ b: 1, aa: 2 })) // 'a261620162616102'
 */
export function encodeCanonical(value: unknown): Uint8Array {
  return writeCanonical(value, true) ?? encodeCanonicalReference(value);
}

/**
 * The reference encoder: the validation walk of `values.ts`, then cbor-x. `encodeCanonical` takes the fast path
 * of `writer.ts` for plain values and this one for everything else, so this one decides and words every error;
 * the tests hold the two to identical bytes wherever both answer.
 */
export function encodeCanonicalReference(value: unknown): Uint8Array {
  return encodePrepared(prepareValue(value, '$', true));
}

/** cbor-x's bytes for a tree `prepareValue` returned (our own copy: the caller's value is not read again). */
function encodePrepared(prepared: unknown): Uint8Array {
  let encoded: Uint8Array;
  try {
    encoded = encoder.encode(prepared);
  } catch (error) {
    // Unreachable for a prepared tree; kept so a cbor-x surprise still surfaces as a coded error.
    throw new LedgerError('INVALID_PAYLOAD', `$: the value could not be encoded as CBOR (${String(error)})`, {
      details: { path: '$' },
      cause: error,
    });
  }
  // cbor-x returns a view into its shared pool; copy so callers own their bytes.
  return new Uint8Array(encoded);
}

/**
 * Decodes bytes that must be in the canonical profile, and nothing else (SPEC §5.8). Treats the input as
 * hostile: one strict pass that rejects at the first byte outside the profile.
 *
 * Returns plain objects (prototype Object.prototype), arrays, numbers (never bigint), strings, booleans,
 * null, and byte strings as fresh plain Uint8Array copies (never Buffer, never aliasing `bytes`).
 *
 * @throws LedgerError `NON_CANONICAL` for any problem: empty or truncated input, trailing bytes, malformed
 *   CBOR, non-shortest heads, indefinite lengths, tags, unsorted or duplicate keys, non-text keys,
 *   invalid UTF-8, undefined or other simple values, float16/float32, float64 holding a safe integer,
 *   NaN/±∞, integers beyond ±(2^53-1), too deep nesting. `details.offset` gives the offending byte when known.
 * @example
 *   decodeCanonical(fromHex('a261620162616102')!) // { b: 1, aa: 2 }
 *   decodeCanonical(fromHex('a262616102616201')!) // throws NON_CANONICAL (keys out of order)
 */
export function decodeCanonical(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new LedgerError('NON_CANONICAL', 'non-canonical CBOR: the input is not a Uint8Array');
  }
  // One strict pass. The reader enforces every rule of the profile at the byte it concerns, so whatever it
  // accepts re-encodes to itself; canonical.test.ts holds it to that on golden vectors and on tens of
  // thousands of random mutations. Re-encoding here as well cost ~12 µs per event, a third of verify's
  // main-thread time (BENCHMARKS.md).
  return readCanonical(bytes);
}

/**
 * The canonical bytes of a JSON-compatible value (no byte strings), checked as `assertJsonValue` checks it: one
 * walk that both validates and encodes, for payloads (SPEC §5.9). The bytes are also a frozen copy of the value.
 * @throws LedgerError `INVALID_PAYLOAD` as assertJsonValue.
 * @example toHex(encodeJsonValue({ loss: 0.5 })) // 'a1646c6f7373fb3fe0000000000000'
 */
export function encodeJsonValue(value: unknown, path = '$'): Uint8Array {
  const fast = writeCanonical(value, false);
  if (fast !== undefined) return fast;
  // The walk words the first problem with its path. A value that passes it (a non-ASCII key, say) is encoded
  // from the tree the walk built, so a getter that answers differently the next time is never read again.
  return encodePrepared(prepareValue(value, path, false));
}

/**
 * Asserts that `value` is in the JSON-compatible subset of the profile: the same rules as encodeCanonical,
 * but byte strings are not allowed. Used for event payloads (SPEC §5.9).
 *
 * @param path the JSON path of `value` in messages, `$` by default (e.g. `$.payload`).
 * @throws LedgerError `INVALID_PAYLOAD` naming the path of the first bad value, in the message and in
 *   `details.path`.
 * @example
 *   assertJsonValue({ loss: 0.25 }, '$.payload')     // ok
 *   assertJsonValue({ loss: NaN }, '$.payload')      // throws: `$.payload.loss: NaN is not allowed; ...`
 */
export function assertJsonValue(value: unknown, path = '$'): void {
  // The fast writer accepts a subset of what the profile allows, so its success settles it; the walk words errors.
  if (writeCanonical(value, false) !== undefined) return;
  prepareValue(value, path, false);
}
