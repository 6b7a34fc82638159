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
