import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readUint64be, toHex, toPlainBytes, uint64be } from './bytes.js';

/** What the two 32-bit halves must equal: the BigInt encoding the format names (SPEC §8.1). */
function reference(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(value));
  return toHex(new Uint8Array(view.buffer));
}

describe('SPEC §8.1 storage keys are 8-byte big-endian seqs', () => {
  it('uint64be writes the big-endian bytes and readUint64be reads them back, for every safe integer', () => {
    for (const value of [0, 1, 255, 256, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER]) {
      expect(toHex(uint64be(value))).toBe(reference(value));
      expect(readUint64be(uint64be(value))).toBe(value);
    }
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        expect(toHex(uint64be(value))).toBe(reference(value));
        expect(readUint64be(uint64be(value))).toBe(value);
      }),
    );
  });

  it('byte order is numeric order', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => {
        expect(Math.sign(Buffer.compare(uint64be(a), uint64be(b)))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('uint64be refuses what is not a safe non-negative integer; readUint64be refuses keys beyond 2^53-1 or not 8 bytes', () => {
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) expect(() => uint64be(bad)).toThrow(RangeError);
    expect(readUint64be(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0))).toBeUndefined();
    expect(readUint64be(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBeUndefined();
    expect(readUint64be(new Uint8Array(7))).toBeUndefined();
    // A key read out of a larger buffer is read from its own offset.
    const inside = new Uint8Array(16);
    inside.set(uint64be(2 ** 40 + 7), 5);
    expect(readUint64be(inside.subarray(5, 13))).toBe(2 ** 40 + 7);
  });
});

describe('toPlainBytes: plain bytes that alias nothing else', () => {
  it('a Buffer with memory of its own becomes a plain Uint8Array over the same memory (no copy)', () => {
    const own = Buffer.alloc(64, 7);
    const plain = toPlainBytes(own);
    expect(Object.getPrototypeOf(plain)).toBe(Uint8Array.prototype);
    expect(plain.buffer).toBe(own.buffer);
    expect(toHex(plain)).toBe(toHex(own));
  });

  it('a view into a larger buffer (Node’s Buffer pool, a subarray) is copied, so the rest cannot be reached', () => {
    const pooled = Buffer.from('abc');
    expect(pooled.buffer.byteLength).toBeGreaterThan(3);
    const plain = toPlainBytes(pooled);
    expect(plain.buffer).not.toBe(pooled.buffer);
    expect(plain.buffer.byteLength).toBe(3);
    expect(toHex(plain)).toBe('616263');
    const larger = new Uint8Array(10).fill(1);
    const part = toPlainBytes(larger.subarray(2, 4));
    expect(part.buffer.byteLength).toBe(2);
    part[0] = 9;
    expect(larger[2]).toBe(1);
  });
});
