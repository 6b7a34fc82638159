import { readFileSync } from 'node:fs';
import { encode as cborgEncode, rfc8949EncodeOptions } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { isLedgerError, type ErrorCode } from '../errors.js';
import { assertJsonValue, decodeCanonical, encodeCanonical, MAX_NESTING_DEPTH } from './index.js';

// ---- fixtures --------------------------------------------------------------------------------------

interface ValidVector { name: string; json: unknown; hex: string }
interface InvalidVector { name: string; hex: string; why: string }
const vectors = JSON.parse(
  readFileSync(new URL('../../fixtures/cbor/vectors.json', import.meta.url), 'utf8'),
) as { valid: ValidVector[]; invalid: InvalidVector[] };

/** Turns `{ "bytesHex": "..." }` markers in a fixture into Uint8Array. */
function fromFixture(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(fromFixture);
  if (json !== null && typeof json === 'object') {
    const entries = Object.entries(json);
    if (entries.length === 1 && entries[0]![0] === 'bytesHex') return hex(entries[0]![1] as string);
    return Object.fromEntries(entries.map(([key, value]) => [key, fromFixture(value)]));
  }
  return json;
}

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`bad hex in test: ${text}`);
  return bytes;
}

/** Runs `action`, expecting a LedgerError with `code`; returns it for further checks. */
function expectLedgerError(action: () => unknown, code: ErrorCode) {
  try {
    action();
  } catch (error) {
    if (!isLedgerError(error)) throw new Error(`expected LedgerError ${code}, got ${String(error)}`, { cause: error });
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected LedgerError ${code}, but nothing was thrown`);
}

// ---- arbitraries -----------------------------------------------------------------------------------

/** Full-Unicode, well-formed keys; `__proto__` is excluded because the profile rejects it (tested below). */
const keyArb = fc
  .oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }))
  .filter((key) => key !== '__proto__');
const integerArb = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -70_000, max: 70_000 }),
  fc.constantFrom(0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
);
/** Finite doubles that the profile writes as float64: every non-integral one (whole numbers are integers or refused). */
const floatArb = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d));

function treeArb(withFloats: boolean, withBytes: boolean): fc.Arbitrary<unknown> {
  const leaves: fc.Arbitrary<unknown>[] = [
    fc.constant(null),
    fc.boolean(),
    integerArb,
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ maxLength: 30 }),
  ];
  if (withFloats) leaves.push(floatArb);
  if (withBytes) leaves.push(fc.uint8Array({ maxLength: 40 }));
  const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      ...leaves,
      fc.array(tie('tree'), { maxLength: 6 }),
      fc.dictionary(keyArb, tie('tree'), { maxKeys: 6, noNullPrototype: true }),
    ),
  }));
  return tree;
}

/** The same plain-object tree with every object's keys inserted in reverse order. */
function reverseKeyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeyOrder);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const entries = Object.entries(value).reverse();
    return Object.fromEntries(entries.map(([key, inner]) => [key, reverseKeyOrder(inner)]));
  }
  return value;
}

// ---- tests -----------------------------------------------------------------------------------------

describe('golden vectors (fixtures/cbor/vectors.json)', () => {
  it.each(vectors.valid.map((v) => [v.name, v] as const))('encodes and decodes %s', (_name, vector) => {
    const value = fromFixture(vector.json);
    expect(toHex(encodeCanonical(value))).toBe(vector.hex);
    expect(decodeCanonical(hex(vector.hex))).toEqual(value);
  });

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('rejects %s', (_name, vector) => {
    expectLedgerError(() => decodeCanonical(hex(vector.hex)), 'NON_CANONICAL');
  });

  it('covers every rule with at least 50 vectors', () => {
    expect(vectors.valid.length).toBeGreaterThanOrEqual(50);
    expect(vectors.invalid.length).toBeGreaterThanOrEqual(50);
  });
});

describe('SPEC §5.7 map keys are sorted by their encoded form', () => {
  it('puts shorter keys first, then sorts bytewise', () => {
    expect(toHex(encodeCanonical({ b: 1, aa: 2 }))).toBe('a261620162616102');
    expect(toHex(encodeCanonical({ aa: 2, b: 1 }))).toBe('a261620162616102');
  });

  it('orders by UTF-8 bytes, not UTF-16 code units', () => {
    // U+1F600 is a surrogate pair (sorts before U+FFFD in UTF-16) but 4 bytes long in UTF-8.
    const bytes = encodeCanonical({ '\u{1F600}': 1, '\uFFFD': 2 });
    expect(toHex(bytes)).toBe('a263efbfbd0264f09f988001');
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(treeArb(true, true), (value) => {
        expect(toHex(encodeCanonical(reverseKeyOrder(value)))).toBe(toHex(encodeCanonical(value)));
      }),
      { numRuns: 400 },
    );
  });

  it('accepts null-prototype objects', () => {
    const object = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
    expect(toHex(encodeCanonical(object))).toBe('a2616102616201');
  });

  it('rejects the key __proto__ on encode, naming its path', () => {
    const value: unknown = JSON.parse('{"meta":{"__proto__":{"admin":true}}}');
    const error = expectLedgerError(() => encodeCanonical(value), 'INVALID_PAYLOAD');
    expect(error.details).toEqual({ path: '$.meta.__proto__' });
    expect(error.message).toMatch(/^\$\.meta\.__proto__: .*__proto__.*; rename the key$/);
  });

  it('rejects a key with a lone surrogate', () => {
    expectLedgerError(() => encodeCanonical({ ['a\uD800']: 1 }), 'INVALID_PAYLOAD');
  });
});

describe('SPEC §5.2 integers are safe integers in shortest form', () => {
  it('writes -0 as the integer 0', () => {
    expect(toHex(encodeCanonical(-0))).toBe('00');
    expect(toHex(encodeCanonical({ x: -0 }))).toBe('a1617800');
  });

  it('writes integers beyond ±2^32 as 8-byte integers, not float64 (cbor-x default)', () => {
    expect(toHex(encodeCanonical(1_763_800_000_000))).toBe('1b0000019aaaac2600');
    expect(decodeCanonical(hex('1b0000019aaaac2600'))).toBe(1_763_800_000_000);
  });

  it('decodes 8-byte integers as numbers, never bigint', () => {
    expect(decodeCanonical(hex('1b001fffffffffffff'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeCanonical(hex('3b001ffffffffffffe'))).toBe(Number.MIN_SAFE_INTEGER);
  });

  it('rejects bigint on encode', () => {
    const error = expectLedgerError(() => encodeCanonical({ n: 5n }), 'INVALID_PAYLOAD');
    expect(error.message).toMatch(/^\$\.n: a bigint is not allowed; /);
  });

  it('round-trips every safe integer exactly', () => {
    fc.assert(
      fc.property(integerArb, (n) => {
        expect(decodeCanonical(encodeCanonical(n))).toBe(n);
      }),
      { numRuns: 500 },
    );
  });
});

describe('SPEC §5.3 every other finite number is a float64', () => {
  it('writes 1.5 as float64, never float16/float32', () => {
    expect(toHex(encodeCanonical(1.5))).toBe('fb3ff8000000000000');
  });

  it('refuses whole numbers beyond 2^53-1 on encode and decode (they may have lost digits already)', () => {
    for (const n of [2 ** 53, -(2 ** 53), 1e300]) {
      expect(() => encodeCanonical(n)).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }));
    }
    expect(() => decodeCanonical(hex('fb4340000000000000'))).toThrow(expect.objectContaining({ code: 'NON_CANONICAL' }));
  });

  it('round-trips every non-integer finite double exactly', () => {
    fc.assert(
      fc.property(floatArb, (d) => {
        const bytes = encodeCanonical(d);
        expect(bytes.length).toBe(9);
        expect(bytes[0]).toBe(0xfb);
        expect(Object.is(decodeCanonical(bytes), d)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('rejects %s naming the path', (bad, shown) => {
    const error = expectLedgerError(() => encodeCanonical({ metrics: { loss: bad } }), 'INVALID_PAYLOAD');
    expect(error.message).toBe(`$.metrics.loss: ${shown} is not allowed; use a finite number or null`);
    expect(error.details).toEqual({ path: '$.metrics.loss' });
  });
});

describe('SPEC §5.4 text strings are well-formed Unicode', () => {
  it('rejects a lone surrogate on encode', () => {
    const error = expectLedgerError(() => encodeCanonical({ tags: ['ok', 'x\uDC00'] }), 'INVALID_PAYLOAD');
    expect(error.details).toEqual({ path: '$.tags[1]' });
  });

  it('keeps a leading U+FEFF (cbor-x JS fallback would strip it)', () => {
    const text = '\uFEFF' + 'a'.repeat(100);
    expect(decodeCanonical(encodeCanonical(text))).toBe(text);
  });
});

describe('SPEC §5.5 byte strings are untagged and copied', () => {
  it('writes Uint8Array and Buffer as major type 2 without tag 64', () => {
    expect(toHex(encodeCanonical(new Uint8Array([1, 2])))).toBe('420102');
    expect(toHex(encodeCanonical(Buffer.from([1, 2])))).toBe('420102');
  });

  it('decodes to a plain Uint8Array that does not alias the input, even from a Buffer', () => {
    const input = Buffer.from('a16168420102', 'hex');
    const decoded = decodeCanonical(input) as { h: Uint8Array };
    expect(decoded.h.constructor).toBe(Uint8Array);
    expect(decoded.h.buffer).not.toBe(input.buffer);
    input[4] = 0xff;
    expect([...decoded.h]).toEqual([1, 2]);
  });

  it('decodes from a view with a non-zero byteOffset', () => {
    const backing = hex('ffff420102ffff');
    expect(decodeCanonical(backing.subarray(2, 5))).toEqual(new Uint8Array([1, 2]));
  });

  it('rejects other typed arrays', () => {
    const error = expectLedgerError(() => encodeCanonical({ w: new Uint16Array(2) }), 'INVALID_PAYLOAD');
    expect(error.message).toMatch(/^\$\.w: Uint16Array is not allowed; /);
  });
});

describe('SPEC §5.6 nesting depth is limited', () => {
  function nested(depth: number): unknown {
    let value: unknown = [];
    for (let i = 1; i < depth; i++) value = [value];
    return value;
  }

  it(`accepts ${MAX_NESTING_DEPTH} levels and rejects one more`, () => {
    expect(decodeCanonical(encodeCanonical(nested(MAX_NESTING_DEPTH)))).toEqual(nested(MAX_NESTING_DEPTH));
    expectLedgerError(() => encodeCanonical(nested(MAX_NESTING_DEPTH + 1)), 'INVALID_PAYLOAD');
  });

  it('does not count byte strings as a level', () => {
    let value: unknown = new Uint8Array([1]);
    for (let i = 0; i < MAX_NESTING_DEPTH; i++) value = [value];
    expect(decodeCanonical(encodeCanonical(value))).toEqual(value);
  });

  it('reports a cycle as a coded error, not a stack overflow', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expectLedgerError(() => encodeCanonical(cyclic), 'INVALID_PAYLOAD');
  });
});

describe('SPEC §5.1 only profile values are encoded', () => {
  class Point { x = 1; }
  it.each([
    ['undefined', { a: undefined }, '$.a', /undefined is not allowed; omit the property or use null/],
    ['a hole in an array', [1, , 3], '$[1]', /undefined is not allowed/],
    ['a Date', { at: new Date(0) }, '$.at', /a Date is not allowed; use an RFC 3339 string/],
    ['a Map', { m: new Map() }, '$.m', /a Map is not allowed; use a plain object/],
    ['a class instance', { p: new Point() }, '$.p', /Point is not allowed/],
    ['a function', { f: () => 1 }, '$.f', /a function is not allowed/],
    ['a symbol', { s: Symbol('s') }, '$.s', /a symbol is not allowed/],
    ['a key that is not an identifier', { 'a b': [undefined] }, '$["a b"][0]', /undefined/],
  ])('rejects %s with INVALID_PAYLOAD and its path', (_name, value, path, message) => {
    const error = expectLedgerError(() => encodeCanonical(value), 'INVALID_PAYLOAD');
    expect(error.details).toEqual({ path });
    expect(error.message.startsWith(`${path}: `)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it('returns a fresh plain Uint8Array that owns its buffer', () => {
    const bytes = encodeCanonical({ a: 1 });
    expect(bytes.constructor).toBe(Uint8Array);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });

  it('is byte-identical to cborg rfc8949EncodeOptions for trees without floats', () => {
    fc.assert(
      fc.property(treeArb(false, true), (value) => {
        expect(toHex(encodeCanonical(value))).toBe(toHex(cborgEncode(value, rfc8949EncodeOptions)));
      }),
      { numRuns: 2000 },
    );
  });

  it('is byte-identical to cborg with float64 for trees with floats', () => {
    fc.assert(
      fc.property(treeArb(true, true), (value) => {
        expect(toHex(encodeCanonical(value))).toBe(toHex(cborgEncode(value, { ...rfc8949EncodeOptions, float64: true })));
      }),
      { numRuns: 400 },
    );
  });
});

describe('SPEC §5.8 decoding is strict', () => {
  it('round-trips: decode(encode(v)) equals v and re-encodes identically', () => {
    fc.assert(
      fc.property(treeArb(true, true), (value) => {
        const bytes = encodeCanonical(value);
        const decoded = decodeCanonical(bytes);
        expect(decoded).toEqual(value);
        expect(toHex(encodeCanonical(decoded))).toBe(toHex(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes maps to plain objects with Object.prototype', () => {
    const decoded = decodeCanonical(hex('a1616180')) as object;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('accepts a single-byte mutation only when the result is itself canonical', () => {
    const mutationArb = treeArb(true, true)
      .map((value) => encodeCanonical(value))
      .chain((bytes) => fc.tuple(fc.constant(bytes), fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })));
    fc.assert(
      fc.property(mutationArb, ([bytes, index, delta]) => {
        const mutated = bytes.slice();
        mutated[index] = (mutated[index]! + delta) & 0xff;
        let decoded: unknown;
        try {
          decoded = decodeCanonical(mutated);
        } catch (error) {
          expect(isLedgerError(error, 'NON_CANONICAL')).toBe(true);
          return;
        }
        expect(toHex(encodeCanonical(decoded))).toBe(toHex(mutated));
      }),
      { numRuns: 10_000 },
    );
  });

  it('accepts an inserted or removed byte only when the result is itself canonical', () => {
    const editArb = treeArb(true, true)
      .map((value) => encodeCanonical(value))
      .chain((bytes) => fc.tuple(fc.constant(bytes), fc.nat(bytes.length), fc.integer({ min: 0, max: 255 }), fc.boolean()));
    fc.assert(
      fc.property(editArb, ([bytes, index, byte, insert]) => {
        const edited = insert ? Uint8Array.from([...bytes.subarray(0, index), byte, ...bytes.subarray(index)]) : Uint8Array.from([...bytes.subarray(0, index), ...bytes.subarray(index + 1)]);
        let decoded: unknown;
        try {
          decoded = decodeCanonical(edited);
        } catch (error) {
          expect(isLedgerError(error, 'NON_CANONICAL')).toBe(true);
          return;
        }
        expect(toHex(encodeCanonical(decoded))).toBe(toHex(edited));
      }),
      { numRuns: 5_000 },
    );
  });

  it('never lets a foreign exception escape on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const decoded = decodeCanonical(bytes);
          expect(toHex(encodeCanonical(decoded))).toBe(toHex(bytes));
        } catch (error) {
          expect(isLedgerError(error, 'NON_CANONICAL')).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('names the offending byte offset', () => {
    const error = expectLedgerError(() => decodeCanonical(hex('a2616201616102')), 'NON_CANONICAL');
    expect(error.details).toEqual({ offset: 4 });
  });

  it('rejects a non-Uint8Array input with a coded error', () => {
    expectLedgerError(() => decodeCanonical('a0' as unknown as Uint8Array), 'NON_CANONICAL');
  });
});

describe('SPEC §5.9 assertJsonValue: payloads are JSON-compatible', () => {
  it('accepts JSON values, floats included', () => {
    expect(() => assertJsonValue({ loss: 0.25, tags: ['a'], ok: true, none: null, n: -3 })).not.toThrow();
  });

  it('rejects byte strings, naming the path under the given root', () => {
    const error = expectLedgerError(() => assertJsonValue({ a: [new Uint8Array(1)] }, '$.payload'), 'INVALID_PAYLOAD');
    expect(error.details).toEqual({ path: '$.payload.a[0]' });
    expect(error.message).toMatch(/^\$\.payload\.a\[0\]: byte strings are not allowed in a JSON value; /);
  });

  it('applies the other rules of the profile', () => {
    const error = expectLedgerError(() => assertJsonValue({ m: { loss: Number.NaN } }), 'INVALID_PAYLOAD');
    expect(error.message).toBe('$.m.loss: NaN is not allowed; use a finite number or null');
  });

  it('accepts exactly the byte-free trees that encodeCanonical accepts', () => {
    fc.assert(
      fc.property(treeArb(true, false), (value) => {
        expect(() => assertJsonValue(value)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
