/**
 * The value model of the canonical CBOR profile (SPEC §5): which JS values may be encoded, and how each
 * is normalised before it reaches cbor-x. Owns the validation walk, the RFC 8949 §4.2.1 key order and the
 * JSON-path error messages. It must not import cbor-x or produce bytes: `canonical.ts` does that.
 *
 * The walk returns a tree cbor-x writes exactly as the profile requires: maps become `Map`s whose entries
 * are already in canonical order (a plain object cannot hold that order: JS lists integer-like keys first),
 * integers outside ±2^32 become bigints (cbor-x would write them as float64), `-0` becomes `0`.
 */

import { LedgerError } from '../errors.js';

/**
 * Deepest nesting of arrays and maps the profile allows (SPEC §5.6). `[[1]]` has depth 2. The same limit
 * applies on encode and decode, so whatever we write we can read back on every machine; it also turns a
 * cyclic object into a clear error instead of a stack overflow.
 */
export const MAX_NESTING_DEPTH = 64;

const TWO_POW_32 = 2 ** 32;
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const textEncoder = new TextEncoder();

/** A map entry decorated with its sort key: the key itself when ASCII (then UTF-16 order = byte order), else its UTF-8 bytes. */
type DecoratedEntry = [sortKey: string | Uint8Array, key: string, value: unknown];

/**
 * RFC 8949 §4.2.1: keys sort bytewise by their encoded form. For text keys the header grows with the
 * length, so this is "shorter UTF-8 first, then bytewise".
 */
function compareEntries(a: DecoratedEntry, b: DecoratedEntry): number {
  const x = a[0];
  const y = b[0];
  if (x.length !== y.length) return x.length - y.length;
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  return Buffer.compare(toUtf8(x), toUtf8(y));
}

function toUtf8(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? textEncoder.encode(key) : key;
}

/** Where we are in the value, for messages only: array indices and object keys from the root. */
interface WalkContext {
  readonly root: string;
  readonly allowBytes: boolean;
  readonly segments: (string | number)[];
}

/** Formats a JSON path like `$.metrics.loss`, `$.tags[2]` or `$["odd key"]`. */
export function formatPath(root: string, segments: readonly (string | number)[]): string {
  let path = root;
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

function invalid(context: WalkContext, problem: string): LedgerError {
  const path = formatPath(context.root, context.segments);
  return new LedgerError('INVALID_PAYLOAD', `${path}: ${problem}`, { details: { path } });
}

function describeNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

function describeObject(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'an object with a custom prototype';
}

function unsupportedObjectProblem(value: object, allowBytes: boolean): string {
  const allowed = allowBytes ? 'a plain object, array, Uint8Array' : 'a plain object, array';
  if (value instanceof Date) return 'a Date is not allowed; use an RFC 3339 string or an integer of milliseconds';
  if (value instanceof Map) return 'a Map is not allowed; use a plain object with string keys';
  if (ArrayBuffer.isView(value)) {
    return allowBytes
      ? `${describeObject(value)} is not allowed; use a Uint8Array for bytes or an array of numbers`
      : `${describeObject(value)} is not allowed; use an array of numbers or a hex/base64 string`;
  }
  return `${describeObject(value)} is not allowed; use ${allowed}, string, number, boolean or null`;
}

/**
 * Validates `value` against the profile and returns the tree cbor-x must encode.
 * Public entry points validate; this walk trusts nothing and names the path of the first problem.
 */
export function prepareValue(value: unknown, root: string, allowBytes: boolean): unknown {
  return prepare(value, { root, allowBytes, segments: [] }, 0);
}

function prepare(value: unknown, context: WalkContext, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) {
        throw invalid(context, 'the string contains a lone surrogate (not well-formed Unicode); repair or remove it');
      }
      return value;
    case 'number':
      return prepareNumber(value, context);
    case 'boolean':
      return value;
    case 'object':
      if (value === null) return null;
      if (value instanceof Uint8Array) {
        if (!context.allowBytes) {
          throw invalid(context, 'byte strings are not allowed in a JSON value; encode the bytes as a hex or base64 string');
        }
        return value;
      }
      if (depth >= MAX_NESTING_DEPTH) {
        throw invalid(context, `arrays and objects nest deeper than ${MAX_NESTING_DEPTH} levels (or form a cycle); flatten the value`);
      }
      if (Array.isArray(value)) return prepareArray(value, context, depth + 1);
      {
        const prototype: unknown = Object.getPrototypeOf(value);
        if (prototype !== Object.prototype && prototype !== null) {
          throw invalid(context, unsupportedObjectProblem(value, context.allowBytes));
        }
      }
      return prepareObject(value as Record<string, unknown>, context, depth + 1);
    case 'undefined':
      throw invalid(context, 'undefined is not allowed; omit the property or use null');
    case 'bigint':
      throw invalid(context, 'a bigint is not allowed; use a number between -(2^53-1) and 2^53-1, or a decimal string');
    default:
      throw invalid(context, `a ${typeof value} is not allowed; use a string, number, boolean, null, array or plain object`);
  }
}

/**
 * SPEC §5.2, §5.3: safe integers are CBOR integers in shortest form; every other finite number is a float64
 * (the DAG-CBOR deviation from RFC 8949 preferred serialization); NaN and infinities are rejected.
 */
function prepareNumber(value: number, context: WalkContext): number | bigint {
  if (Number.isSafeInteger(value)) {
    if (value >= TWO_POW_32 || value < -TWO_POW_32) return BigInt(value); // cbor-x would write float64
    return value === 0 ? 0 : value; // -0 -> 0
  }
  if (!Number.isFinite(value)) {
    throw invalid(context, `${describeNumber(value)} is not allowed; use a finite number or null`);
  }
  // SPEC §5.2: a whole number beyond ±(2^53-1) may already have lost digits in JSON.parse, so it is refused
  // rather than silently stored as a float; the issue that defined the format asks for exactly this.
  if (Number.isInteger(value)) {
    throw invalid(context, `${String(value)} is a whole number beyond ±(2^53-1), which cannot be stored exactly; store it as a string`);
  }
  return value;
}

function prepareArray(array: readonly unknown[], context: WalkContext, depth: number): unknown[] {
  const length = array.length;
  const out = new Array<unknown>(length);
  const segments = context.segments;
  for (let i = 0; i < length; i++) {
    segments.push(i);
    out[i] = prepare(array[i], context, depth);
    segments.pop();
  }
  return out;
}

function prepareObject(object: Record<string, unknown>, context: WalkContext, depth: number): Map<string, unknown> {
  const keys = Object.keys(object);
  const entries = new Array<DecoratedEntry>(keys.length);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === '__proto__') {
      context.segments.push(key);
      throw invalid(context, 'the key "__proto__" is not allowed (JavaScript treats it as the prototype); rename the key');
    }
    let sortKey: string | Uint8Array = key;
    if (!ASCII_ONLY.test(key)) {
      if (!key.isWellFormed()) {
        context.segments.push(key);
        throw invalid(context, 'the key contains a lone surrogate (not well-formed Unicode); rename the key');
      }
      sortKey = textEncoder.encode(key);
    }
    const entry: DecoratedEntry = [sortKey, key, object[key]];
    if (sorted && i > 0 && compareEntries(entries[i - 1]!, entry) > 0) sorted = false;
    entries[i] = entry;
  }
  if (!sorted) entries.sort(compareEntries);

  const out = new Map<string, unknown>();
  const segments = context.segments;
  for (const [, key, value] of entries) {
    segments.push(key);
    out.set(key, prepare(value, context, depth));
    segments.pop();
  }
  return out;
}
