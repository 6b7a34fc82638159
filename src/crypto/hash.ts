/**
 * SHA-256 for the ledger: event hashes, chain links, fingerprints.
 *
 * Owns: one fast implementation (node:crypto, OpenSSL) and one reference implementation (@noble/hashes) that
 * must give the same answers; tests hold them to it. Must not: add domain separation itself (callers pass their
 * versioned tag as the first part), or return a Buffer (the core works on plain Uint8Array).
 */

import { createHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from './guards.js';

/**
 * SHA-256 (FIPS 180-4) of the concatenation of `parts`, computed by node:crypto without copying them together.
 *
 * @param parts - byte strings hashed in order, as if concatenated.
 * @returns a fresh 32-byte plain Uint8Array.
 * @throws {TypeError} when a part is not a Uint8Array.
 * @example
 * const digest = sha256(utf8.encode('provledger/event/v1\0'), eventBytes);
 * toHex(digest).length === 64;
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const [index, part] of parts.entries()) {
    assertBytes(part, `sha256 part ${index}`);
    hash.update(part);
  }
  // digest() hands back a Buffer; copy into a plain Uint8Array so callers' equality checks stay simple.
  return new Uint8Array(hash.digest());
}

/**
 * The same function computed by @noble/hashes, for cross-checking the fast path and for environments without
 * node:crypto. Slower (about half the speed on 400-byte inputs).
 *
 * @throws {TypeError} when a part is not a Uint8Array.
 * @example
 * sha256Reference(a, b); // equal bytes to sha256(a, b)
 */
export function sha256Reference(...parts: Uint8Array[]): Uint8Array {
  const hash = nobleSha256.create();
  for (const [index, part] of parts.entries()) {
    assertBytes(part, `sha256Reference part ${index}`);
    hash.update(part);
  }
  return hash.digest();
}

/** An incremental SHA-256: feed bytes in order with `update`, then call `digest` once. */
export interface Sha256Stream {
  /** Hashes `bytes` now (no copy is kept, so the caller may reuse the buffer at once). */
  update(bytes: Uint8Array): void;
  /** The digest of everything fed so far, as a fresh 32-byte plain Uint8Array. Ends the stream. */
  digest(): Uint8Array;
}

/**
 * A streaming SHA-256 (node:crypto), for inputs too large to hold in memory such as artifact files: its state is
 * a few hundred bytes whatever the input length. `createSha256()` fed parts in order gives `sha256(...parts)`.
 *
 * @returns a new stream.
 * @throws {TypeError} from `update` when the argument is not a Uint8Array, and from `update` or `digest` once
 * `digest` has been called (a stream is used once; create another).
 * @example
 * const hash = createSha256();
 * for await (const chunk of chunks) hash.update(chunk);
 * toHex(hash.digest());
 */
export function createSha256(): Sha256Stream {
  const hash = createHash('sha256');
  let finished = false;
  const assertOpen = (call: string): void => {
    if (finished) throw new TypeError(`createSha256: ${call} after digest(); a stream is used once, create another`);
  };
  return {
    update(bytes: Uint8Array): void {
      assertBytes(bytes, 'createSha256 update bytes');
      assertOpen('update');
      hash.update(bytes);
    },
    digest(): Uint8Array {
      assertOpen('digest');
      finished = true;
      return new Uint8Array(hash.digest());
    },
  };
}
