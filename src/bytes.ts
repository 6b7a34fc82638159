/**
 * Byte helpers shared by every layer: hex at the edges, concatenation, constant-time equality and
 * fixed-width big-endian integers for storage keys. Imports nothing; works on plain Uint8Array.
 */

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Parses lower- or upper-case hex. Returns undefined for anything else (odd length, stray characters,
 * a "0x" prefix) so callers name the bad argument in their own error.
 */
export function fromHex(hex: string, expectedLength?: number): Uint8Array | undefined {
  const lower = hex.toLowerCase();
  if (!HEX_RE.test(lower)) return undefined;
  if (expectedLength !== undefined && lower.length !== expectedLength * 2) return undefined;
  return new Uint8Array(Buffer.from(lower, 'hex'));
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Equality whose running time depends only on the lengths, for digests and signatures. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * The same bytes as a plain Uint8Array that aliases nothing else. LevelDB hands out a Buffer per entry, each with
 * its own memory: that memory is viewed, not copied (a copy per entry was a good part of verify's garbage). A
 * view into a larger buffer (Node's pool, cbor-x's scratch) is copied, so no caller can reach other bytes.
 */
export function toPlainBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength && !(bytes.buffer instanceof SharedArrayBuffer)) {
    return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, 0, bytes.byteLength);
  }
  return new Uint8Array(bytes);
}

/** 8-byte big-endian encoding, so that byte order equals numeric order for storage keys. */
export function uint64be(value: number): Uint8Array {
  return writeUint64be(new Uint8Array(8), 0, value);
}

/**
 * Writes `value` as 8 big-endian bytes into `out` at `offset` and returns `out`, so a storage key of several
 * parts is one allocation. Two 32-bit halves by arithmetic: a BigInt, or a DataView, per key was measurable
 * on every append (BENCHMARKS.md, "append").
 */
export function writeUint64be(out: Uint8Array, offset: number, value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uint64be: ${value} is not a safe non-negative integer`);
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = (high >>> 16) & 0xff;
  out[offset + 2] = (high >>> 8) & 0xff;
  out[offset + 3] = high & 0xff;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = (low >>> 16) & 0xff;
  out[offset + 6] = (low >>> 8) & 0xff;
  out[offset + 7] = low & 0xff;
  return out;
}

/** Inverse of uint64be; undefined when `bytes` is not 8 bytes or exceeds the safe-integer range. */
export function readUint64be(bytes: Uint8Array): number | undefined {
  if (bytes.length !== 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const high = view.getUint32(0);
  // Safe integers stop at 2^53 - 1: the high half holds at most 21 bits.
  return high <= 0x1f_ffff ? high * 2 ** 32 + view.getUint32(4) : undefined;
}

export const utf8 = {
  encode: (text: string): Uint8Array => new TextEncoder().encode(text),
};
