/**
 * A strict reader for the canonical CBOR profile (SPEC §5). It parses hostile bytes and rejects, at the
 * first offending byte, everything the profile forbids: non-shortest heads, indefinite lengths, tags,
 * simple values other than false/true/null, float16/float32, float64 holding a safe integer or NaN/±∞,
 * integers beyond ±(2^53-1), non-text or unsorted or duplicate map keys, `__proto__`, invalid UTF-8,
 * nesting deeper than MAX_NESTING_DEPTH, truncation and trailing bytes.
 *
 * Why not cbor-x's decoder: it accepts non-canonical input by design, returns bigints and Buffers that
 * alias the input, renames `__proto__`, and when its native addon is missing its JS fallback strips a
 * leading U+FEFF from strings over 64 bytes, so the same valid bytes would decode differently on two
 * machines. Everything this accepts must re-encode to itself; the codec's tests hold it to that.
 *
 * Owns parsing only; it must not import cbor-x and must not throw anything but LedgerError('NON_CANONICAL').
 */

import { LedgerError } from '../errors.js';
import { MAX_NESTING_DEPTH } from './values.js';

const TWO_POW_32 = 2 ** 32;
/** Largest high 32-bit word of a safe integer: 2^53-1 = 0x1f_ffff_ffff_ffff. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
/** `fatal` rejects invalid UTF-8 (overlong forms, surrogates, truncation); `ignoreBOM` keeps a leading U+FEFF. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function nonCanonical(offset: number, problem: string, cause?: unknown): LedgerError {
  return new LedgerError('NON_CANONICAL', `non-canonical CBOR at byte ${offset}: ${problem}`, {
    details: { offset },
    cause,
  });
}

/** Parses exactly one data item spanning all of `bytes`. Byte strings in the result are fresh copies. */
export function readCanonical(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw nonCanonical(0, 'the input is empty');
  const reader = new Reader(bytes);
  const value = reader.readItem(0);
  if (reader.position !== bytes.length) {
    throw nonCanonical(reader.position, `${bytes.length - reader.position} trailing byte(s) after the data item`);
  }
  return value;
}

class Reader {
  position = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    // A plain view, so that `slice` copies into a plain Uint8Array even when the caller passed a Buffer.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(count: number, start: number): void {
    if (count > this.bytes.length - this.position) throw nonCanonical(start, 'the input ends inside a data item');
  }

  readItem(depth: number): unknown {
    const start = this.position;
    this.need(1, start);
    const initial = this.bytes[this.position++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
        return this.readArgument(info, start);
      case 1: {
        const value = -1 - this.readArgument(info, start);
        if (!Number.isSafeInteger(value)) throw nonCanonical(start, 'the integer is below -(2^53-1)');
        return value;
      }
      case 2: {
        const length = this.readArgument(info, start);
        this.need(length, start);
        return this.bytes.slice(this.position, (this.position += length));
      }
      case 3:
        return this.readText(this.readArgument(info, start), start);
      case 4:
        return this.readArray(this.readArgument(info, start), start, depth);
      case 5:
        return this.readMap(this.readArgument(info, start), start, depth);
      case 6:
        throw nonCanonical(start, 'tags are not allowed');
      default:
        return this.readSimple(info, start);
    }
  }

  /** The head's argument: an integer or a length, in shortest form and at most 2^53-1. */
  private readArgument(info: number, start: number): number {
    if (info < 24) return info;
    let value: number;
    let minimum: number;
    switch (info) {
      case 24:
        this.need(1, start);
        value = this.bytes[this.position]!;
        minimum = 24;
        this.position += 1;
        break;
      case 25:
        this.need(2, start);
        value = this.view.getUint16(this.position);
        minimum = 0x100;
        this.position += 2;
        break;
      case 26:
        this.need(4, start);
        value = this.view.getUint32(this.position);
        minimum = 0x1_0000;
        this.position += 4;
        break;
      case 27: {
        this.need(8, start);
        const high = this.view.getUint32(this.position);
        if (high > MAX_SAFE_HIGH_WORD) throw nonCanonical(start, 'the integer or length exceeds 2^53-1');
        value = high * TWO_POW_32 + this.view.getUint32(this.position + 4);
        minimum = TWO_POW_32;
        this.position += 8;
        break;
      }
      case 31:
        throw nonCanonical(start, 'indefinite lengths are not allowed');
      default:
        throw nonCanonical(start, `additional information ${info} is reserved`);
    }
    if (value < minimum) throw nonCanonical(start, `the head's argument ${value} is not in its shortest form`);
    return value;
  }

  private readText(length: number, start: number): string {
    this.need(length, start);
    const from = this.position;
    const to = from + length;
    this.position = to;
    const bytes = this.bytes;
    // ASCII fast path: most keys and many values are short ASCII.
    if (length <= 32) {
      let text = '';
      for (let i = from; i < to; i++) {
        const byte = bytes[i]!;
        if (byte >= 0x80) return this.decodeUtf8(from, to, start);
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return this.decodeUtf8(from, to, start);
  }

  private decodeUtf8(from: number, to: number, start: number): string {
    try {
      return utf8Decoder.decode(this.bytes.subarray(from, to));
    } catch (error) {
      throw nonCanonical(start, 'the text string is not valid UTF-8', error);
    }
  }

  private enter(depth: number, start: number): void {
    if (depth >= MAX_NESTING_DEPTH) {
      throw nonCanonical(start, `arrays and maps nest deeper than ${MAX_NESTING_DEPTH} levels`);
    }
  }

  private readArray(length: number, start: number, depth: number): unknown[] {
    this.enter(depth, start);
    this.need(length, start); // every item takes at least one byte: no huge allocation from a tiny head
    const array = new Array<unknown>(length);
    for (let i = 0; i < length; i++) array[i] = this.readItem(depth + 1);
    return array;
  }

  private readMap(length: number, start: number, depth: number): Record<string, unknown> {
    this.enter(depth, start);
    this.need(length * 2, start);
    const object: Record<string, unknown> = {};
    const bytes = this.bytes;
    let previousFrom = 0;
    let previousTo = 0;
    for (let i = 0; i < length; i++) {
      const keyStart = this.position;
      this.need(1, keyStart);
      const initial = bytes[this.position++]!;
      if (initial >> 5 !== 3) throw nonCanonical(keyStart, 'map keys must be text strings');
      const key = this.readText(this.readArgument(initial & 0x1f, keyStart), keyStart);
      // RFC 8949 §4.2.1: encoded keys in strictly increasing bytewise order (this also rules out duplicates).
      if (i > 0 && compareRanges(bytes, previousFrom, previousTo, keyStart, this.position) >= 0) {
        throw nonCanonical(keyStart, `the map key ${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)} is out of order or duplicated`);
      }
      if (key === '__proto__') throw nonCanonical(keyStart, 'the map key "__proto__" is not allowed');
      previousFrom = keyStart;
      previousTo = this.position;
      object[key] = this.readItem(depth + 1);
    }
    return object;
  }

  private readSimple(info: number, start: number): unknown {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        throw nonCanonical(start, 'undefined is not allowed');
      case 25:
        throw nonCanonical(start, 'float16 is not allowed; floats are always float64');
      case 26:
        throw nonCanonical(start, 'float32 is not allowed; floats are always float64');
      case 27: {
        this.need(8, start);
        const value = this.view.getFloat64(this.position);
        this.position += 8;
        if (!Number.isFinite(value)) throw nonCanonical(start, 'NaN and infinities are not allowed');
        if (Number.isSafeInteger(value)) {
          const shown = Object.is(value, -0) ? '-0' : String(value);
          throw nonCanonical(start, `the float64 ${shown} holds a safe integer, which must be encoded as the integer ${value === 0 ? 0 : value}`);
        }
        if (Number.isInteger(value)) throw nonCanonical(start, `the float64 ${value} is a whole number beyond ±(2^53-1), which the profile refuses`);
        return value;
      }
      case 31:
        throw nonCanonical(start, 'a break code outside an indefinite-length item');
      default:
        throw nonCanonical(start, `the simple value ${info < 24 ? info : '(extended)'} is not allowed`);
    }
  }
}

/** Bytewise comparison of two encoded items in the same buffer; a shorter encoding sorts first. */
function compareRanges(bytes: Uint8Array, aFrom: number, aTo: number, bFrom: number, bTo: number): number {
  const aLength = aTo - aFrom;
  const bLength = bTo - bFrom;
  if (aLength !== bLength) return aLength - bLength;
  for (let i = 0; i < aLength; i++) {
    const diff = bytes[aFrom + i]! - bytes[bFrom + i]!;
    if (diff !== 0) return diff;
  }
  return 0;
}
