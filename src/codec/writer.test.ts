import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { encodeCanonical, encodeCanonicalReference } from './canonical.js';
import { MAX_NESTING_DEPTH } from './values.js';
import { writeCanonical } from './writer.js';

/** Values made only of what the fast path takes: ASCII keys, finite numbers, well-formed strings, byte strings. */
const asciiKey = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzAB_-.0123456789 "'.split('')), maxLength: 12 }).filter((key) => key !== '__proto__');
const plainLeaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n) || Number.isSafeInteger(n)),
  fc.uint8Array({ maxLength: 40 }),
);
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, plainLeaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 6 }),
  object: fc.dictionary(asciiKey, tie('value'), { maxKeys: 8, noNullPrototype: true }),
})).value;

describe('the fast encoder writes exactly the reference bytes (SPEC §5)', () => {
  it('on generated plain values it answers, and with the reference encoder’s bytes', () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        const fast = writeCanonical(value, true);
        expect(fast).toBeDefined();
        expect(toHex(fast!)).toBe(toHex(encodeCanonicalReference(value)));
      }),
      { numRuns: 3000 },
    );
  });

  it('on any JSON value, whenever it answers, it gives the reference bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.object({ withNullPrototype: true, withBigInt: true, withMap: true, withTypedArray: true })), (value) => {
        const fast = writeCanonical(value, false);
        if (fast !== undefined) expect(toHex(fast)).toBe(toHex(encodeCanonicalReference(value)));
      }),
      { numRuns: 3000 },
    );
  });

  it('sorts keys shorter first, then bytewise, whatever the insertion order (integer-like keys included)', () => {
    const value = { b: 1, aa: 2, a: 3, '10': 4, '9': 5, B: 6 };
    expect(toHex(writeCanonical(value, false)!)).toBe(toHex(encodeCanonicalReference(value)));
    expect(toHex(writeCanonical(value, false)!)).toBe('a661390561420661610361620162313004626161' + '02');
  });

  it('returns a plain Uint8Array that does not alias its scratch buffer', () => {
    const first = writeCanonical({ a: 'x' }, false)!;
    writeCanonical({ a: 'y' }, false);
    expect(Object.getPrototypeOf(first)).toBe(Uint8Array.prototype);
    expect(toHex(first)).toBe('a161616178');
  });

  it('keeps working after a value larger than its kept scratch size', () => {
    const big = 'x'.repeat(3 << 20);
    expect(writeCanonical(big, false)!.length).toBe((3 << 20) + 5);
    expect(toHex(writeCanonical({ a: 1 }, false)!)).toBe('a1616101');
  });
});

describe('the fast encoder leaves every unusual value to the reference path, which words the error', () => {
  const deep = (levels: number): unknown => (levels === 0 ? 1 : [deep(levels - 1)]);
  const cases: [string, unknown][] = [
    ['a lone surrogate', { a: 'x\ud800' }],
    ['a __proto__ key', JSON.parse('{"__proto__": 1}')],
    ['a non-ASCII key', { 'é': 1 }],
    ['NaN', { a: NaN }],
    ['Infinity', [Infinity]],
    ['a whole number beyond 2^53', 2 ** 53],
    ['undefined', { a: undefined }],
    ['a hole in an array', [1, , 3]],
    ['a bigint', 1n],
    ['a Map', new Map()],
    ['a Date', new Date(0)],
    ['an object without a prototype', Object.create(null)],
    ['a function', () => 1],
    [`nesting deeper than ${MAX_NESTING_DEPTH}`, deep(MAX_NESTING_DEPTH + 1)],
  ];
  it.each(cases)('%s', (_name, value) => {
    expect(writeCanonical(value, true)).toBeUndefined();
    let reference: unknown;
    let encoded: unknown;
    try {
      reference = toHex(encodeCanonicalReference(value));
    } catch (error) {
      reference = (error as Error).message;
    }
    try {
      encoded = toHex(encodeCanonical(value));
    } catch (error) {
      encoded = (error as Error).message;
    }
    expect(encoded).toBe(reference);
  });

  it('byte strings only where they are allowed (payloads are JSON)', () => {
    expect(writeCanonical({ a: new Uint8Array(1) }, false)).toBeUndefined();
    expect(toHex(writeCanonical({ a: new Uint8Array(1) }, true)!)).toBe('a161614100');
  });

  it(`nesting of exactly ${MAX_NESTING_DEPTH} levels is written`, () => {
    const value = deep(MAX_NESTING_DEPTH);
    expect(toHex(writeCanonical(value, true)!)).toBe(toHex(encodeCanonicalReference(value)));
  });
});

describe('the fast encoder is safe against values that misbehave while they are read', () => {
  it('a getter that encodes something itself does not write over the outer value', () => {
    const value = {
      get a() {
        encodeCanonical({ z: 1 });
        return 'x';
      },
      b: 2,
    };
    expect(toHex(encodeCanonical(value))).toBe('a261616178616202');
  });
});
