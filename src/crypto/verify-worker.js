// @ts-check
/**
 * Worker thread for VerifyPool (pool.ts): runs node:crypto Ed25519 verification on packed batches.
 *
 * Owns: only the equation check (crypto.verify) and a per-worker cache of KeyObjects by public key hex.
 * Must not: decide any part of the strict prime-order rule. The calling thread has already vetted every key
 * (rules 1, 3, 5, 6) and every signature's length and S < L (rules 1, 2); with A vetted, OpenSSL's own check
 * implies rules 4 and 7 (see ed25519.ts). Keeping the rule out of here keeps it in one place.
 *
 * Plain ESM JavaScript so it runs unchanged from src (vitest) and from dist (tsc copies it with allowJs).
 *
 * Batch layout (little-endian u32, all offsets in bytes; written by packBatch in pool.ts):
 *   [0]  count        [4]  keyCount
 *   [8]  keyCount × 32 raw public keys
 *   then count × (u32 keyIndex, u32 messageLength)
 *   then count × 64-byte signatures
 *   then the messages, concatenated in item order
 * Reply: { id, results: ArrayBuffer } with one byte per item (1 = valid), or { id, error } if the batch is
 * malformed.
 */

import { createPublicKey, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4). */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_CACHE_LIMIT = 1024;

/** @type {Map<string, import('node:crypto').KeyObject>} */
const keyObjects = new Map();

/**
 * @param {Uint8Array} publicKey 32 bytes, already vetted by the calling thread
 * @returns {import('node:crypto').KeyObject}
 */
function keyObjectFor(publicKey) {
  const hex = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  let keyObject = keyObjects.get(hex);
  if (keyObject === undefined) {
    keyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (keyObjects.size >= KEY_CACHE_LIMIT) {
      const oldest = keyObjects.keys().next().value;
      if (oldest !== undefined) keyObjects.delete(oldest);
    }
    keyObjects.set(hex, keyObject);
  }
  return keyObject;
}

/**
 * @param {ArrayBuffer} buffer a batch in the layout above
 * @returns {Uint8Array<ArrayBuffer>} one byte per item: 1 when the signature verifies
 */
function verifyBatch(buffer) {
  const header = new DataView(buffer);
  const count = header.getUint32(0, true);
  const keyCount = header.getUint32(4, true);
  const keysOffset = 8;
  const tableOffset = keysOffset + keyCount * 32;
  const signaturesOffset = tableOffset + count * 8;
  let messageOffset = signaturesOffset + count * 64;
  if (messageOffset > buffer.byteLength) throw new RangeError('batch is shorter than its header says');

  /** @type {import('node:crypto').KeyObject[]} */
  const keys = [];
  for (let k = 0; k < keyCount; k++) keys.push(keyObjectFor(new Uint8Array(buffer, keysOffset + k * 32, 32)));

  const results = new Uint8Array(new ArrayBuffer(count));
  for (let i = 0; i < count; i++) {
    const keyIndex = header.getUint32(tableOffset + i * 8, true);
    const messageLength = header.getUint32(tableOffset + i * 8 + 4, true);
    const key = keys[keyIndex];
    if (key === undefined || messageOffset + messageLength > buffer.byteLength) {
      throw new RangeError(`item ${i} points outside the batch`);
    }
    const signature = new Uint8Array(buffer, signaturesOffset + i * 64, 64);
    const message = new Uint8Array(buffer, messageOffset, messageLength);
    messageOffset += messageLength;
    results[i] = verify(null, message, key, signature) ? 1 : 0;
  }
  return results;
}

if (parentPort === null) throw new Error('verify-worker.js must be started as a worker thread by VerifyPool');
const port = parentPort;

port.on('message', (/** @type {{ id: number, buffer: ArrayBuffer }} */ request) => {
  try {
    const results = verifyBatch(request.buffer).buffer;
    port.postMessage({ id: request.id, results }, [results]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
