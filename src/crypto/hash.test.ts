/** sha256 (node:crypto) and sha256Reference (@noble/hashes) must agree, and hash parts as one concatenation. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../bytes.js';
import { sha256, sha256Reference } from './hash.js';

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
