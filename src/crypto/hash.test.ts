/** sha256 (node:crypto) and sha256Reference (@noble/hashes) must agree, and hash parts as one concatenation; createSha256 streams the same function. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../bytes.js';
import { createSha256, sha256, sha256Reference } from './hash.js';

describe('sha256', () => {
  // FIPS 180-2 Appendix B.1 ("abc") and the empty string.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('hashes %j to its known digest on both implementations', (text, digest) => {
    expect(toHex(sha256(utf8.encode(text)))).toBe(digest);
    expect(toHex(sha256Reference(utf8.encode(text)))).toBe(digest);
  });

  it('returns a plain 32-byte Uint8Array, not a Buffer', () => {
    const digest = sha256(new Uint8Array([1]));
    expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
    expect(digest).toHaveLength(32);
    expect(sha256()).toEqual(sha256(new Uint8Array(0)));
  });

  it('hashes parts as their concatenation, and both implementations agree', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (parts) => {
        const whole = sha256(concatBytes(...parts));
        expect(sha256(...parts)).toEqual(whole);
        expect(sha256Reference(...parts)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a part that is not a Uint8Array', () => {
    expect(() => sha256('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => sha256Reference(new Uint8Array(1), 5 as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('createSha256 (streaming)', () => {
  it('gives the one-shot digest of the concatenated chunks, and agrees with the reference', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (parts) => {
        const hash = createSha256();
        for (const part of parts) hash.update(part);
        const digest = hash.digest();
        expect(digest).toEqual(sha256(...parts));
        expect(digest).toEqual(sha256Reference(concatBytes(...parts)));
      }),
      { numRuns: 200 },
    );
  });

  it('hashes the FIPS 180-2 "abc" vector fed one byte at a time, into a plain Uint8Array', () => {
    const hash = createSha256();
    for (const byte of utf8.encode('abc')) hash.update(new Uint8Array([byte]));
    const digest = hash.digest();
    expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
    expect(toHex(digest)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('keeps no reference to a chunk, so the caller may reuse its buffer at once', () => {
    const buffer = utf8.encode('abc');
    const hash = createSha256();
    hash.update(buffer.subarray(0, 2));
    buffer.fill(0);
    hash.update(utf8.encode('c'));
    expect(hash.digest()).toEqual(sha256(utf8.encode('abc')));
  });

  it('is used once: update or digest after digest is a TypeError, as is a chunk that is not bytes', () => {
    const hash = createSha256();
    expect(() => hash.update('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(toHex(hash.digest())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(() => hash.digest()).toThrow(TypeError);
    expect(() => hash.update(new Uint8Array(1))).toThrow(TypeError);
  });
});
