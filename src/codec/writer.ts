/**
 * The fast path of the canonical encoder (SPEC §5): one walk over a value that writes the profile's bytes
 * directly, without building the sorted `Map` tree that cbor-x needs (`values.ts`).
 *
 * Why it exists: every append encodes its body, and the Map tree plus cbor-x were a tenth of an append's CPU
 * time and a good part of its garbage (BENCHMARKS.md, "append"). Why it is safe: it handles only the plain
 * cases (well-formed strings, safe integers, finite floats, booleans, null, byte strings when allowed, arrays,
 * and plain objects with ASCII keys, within the nesting limit) and returns `undefined` for anything else, so the
 * reference path (`prepareValue` + cbor-x) decides every unusual value and words every error. The codec tests
 * hold the two paths to identical bytes on generated values.
 *
 * Owns writing bytes only; must not throw for any input (a bail-out is `undefined`) and must not import cbor-x.
 */

import { MAX_NESTING_DEPTH } from './values.js';

const TWO_POW_32 = 2 ** 32;
const ASCII_ONLY = /^[\x00-\x7f]*$/;
/** Scratch buffers above this size are dropped after use, so one huge value does not pin memory. */
const KEEP_SCRATCH_BYTES = 1 << 20;

/** Thrown inside the walk to abandon it; never escapes this module. */
const BAIL = Symbol('bail');

class Writer {
  bytes: Buffer = Buffer.allocUnsafeSlow(4096);
  view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  position = 0;

  reset(): void {
    this.bytes = Buffer.allocUnsafeSlow(4096);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  reserve(count: number): void {
    const needed = this.position + count;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    grown.set(this.bytes.subarray(0, this.position));
    this.bytes = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** A major type and argument in the shortest form (RFC 8949 §4.2.1). `argument` is a safe non-negative integer. */
  head(major: number, argument: number): void {
    this.reserve(9);
    const type = major << 5;
    const at = this.position;
    if (argument < 24) {
      this.bytes[at] = type | argument;
      this.position = at + 1;
    } else if (argument < 0x100) {
      this.bytes[at] = type | 24;
      this.bytes[at + 1] = argument;
      this.position = at + 2;
    } else if (argument < 0x10000) {
      this.bytes[at] = type | 25;
      this.view.setUint16(at + 1, argument);
      this.position = at + 3;
    } else if (argument < TWO_POW_32) {
      this.bytes[at] = type | 26;
      this.view.setUint32(at + 1, argument);
      this.position = at + 5;
    } else {
      this.bytes[at] = type | 27;
      this.view.setUint32(at + 1, Math.floor(argument / TWO_POW_32));
      this.view.setUint32(at + 5, argument >>> 0);
      this.position = at + 9;
    }
  }

  text(value: string): void {
    if (!value.isWellFormed()) throw BAIL;
    const length = Buffer.byteLength(value, 'utf8');
    this.head(3, length);
    this.reserve(length);
    this.position += this.bytes.write(value, this.position, length, 'utf8');
  }

  value(value: unknown, depth: number, allowBytes: boolean): void {
    switch (typeof value) {
      case 'string':
        this.text(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'boolean':
        this.reserve(1);
        this.bytes[this.position++] = value ? 0xf5 : 0xf4;
        return;
      case 'object':
        if (value === null) {
          this.reserve(1);
          this.bytes[this.position++] = 0xf6;
          return;
        }
        if (depth >= MAX_NESTING_DEPTH) throw BAIL;
        if (Array.isArray(value)) {
          const length = value.length;
          this.head(4, length);
          for (let i = 0; i < length; i++) this.value(value[i], depth + 1, allowBytes);
          return;
        }
        if (value instanceof Uint8Array) {
          if (!allowBytes) throw BAIL;
          this.head(2, value.length);
          this.reserve(value.length);
          this.bytes.set(value, this.position);
          this.position += value.length;
          return;
        }
        if (Object.getPrototypeOf(value) !== Object.prototype) throw BAIL;
        this.object(value as Record<string, unknown>, depth + 1, allowBytes);
        return;
      default:
        throw BAIL;
    }
  }

  number(value: number): void {
    if (Number.isSafeInteger(value)) {
      // -0 is a safe integer and writes as 0, as the profile requires.
      if (value >= 0) this.head(0, value);
      else this.head(1, -1 - value);
      return;
    }
    // Non-finite numbers and whole numbers beyond 2^53 are errors the reference path words.
    if (!Number.isFinite(value) || Number.isInteger(value)) throw BAIL;
    this.reserve(9);
    this.bytes[this.position] = 0xfb;
    this.view.setFloat64(this.position + 1, value);
    this.position += 9;
  }

  object(object: Record<string, unknown>, depth: number, allowBytes: boolean): void {
    const keys = Object.keys(object);
    for (const key of keys) {
      // Non-ASCII keys sort by their UTF-8 bytes and `__proto__` is refused: both left to the reference path.
      if (key === '__proto__' || !ASCII_ONLY.test(key)) throw BAIL;
    }
    // ASCII: UTF-16 order is byte order, and the encoded form sorts shorter first (RFC 8949 §4.2.1).
    keys.sort(compareAsciiKeys);
    this.head(5, keys.length);
    for (const key of keys) {
      this.text(key);
      this.value(object[key], depth, allowBytes);
    }
  }
}

function compareAsciiKeys(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const writer = new Writer();
let busy = false;

/**
 * The canonical bytes of `value`, or `undefined` when it holds anything the fast path leaves to the
 * reference encoder (see the module comment). Never throws.
 */
export function writeCanonical(value: unknown, allowBytes: boolean): Uint8Array | undefined {
  // One scratch writer: a getter that encodes while it is being read must not write over the outer call.
  if (busy) return undefined;
  busy = true;
  writer.position = 0;
  try {
    writer.value(value, 0, allowBytes);
    // A plain Uint8Array copy: callers own their bytes and never see a Buffer.
    return new Uint8Array(writer.bytes.subarray(0, writer.position));
  } catch {
    // BAIL, or a getter or proxy that throws, or a stack overflow: the reference path meets it again and reports it.
    return undefined;
  } finally {
    if (writer.bytes.length > KEEP_SCRATCH_BYTES) writer.reset();
    busy = false;
  }
}
