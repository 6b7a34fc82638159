// @ts-check
/**
 * Worker thread for ChainSigner (chain-signer.ts): signs runs of hash-chained items, one after another, as the
 * calling thread sends them.
 *
 * Owns: the loop that writes each item's link (the previous item's digest) into its bytes, signs, and digests
 * the signed item, and the last digest of every open run. Must not: decide anything about the format (the
 * prefixes arrive from the calling thread) or let the key leave this thread.
 *
 * Plain ESM JavaScript so it runs unchanged from src (vitest) and from dist (tsc copies it with allowJs).
 *
 * workerData: { key: KeyObject, signaturePrefix, hashPrefix, hashMiddle } (Uint8Array each).
 * Messages, in order per run:
 *   { type: 'start', id, first: ArrayBuffer(32) }                  opens run `id`, linked first to `first`
 *   { type: 'items', id, from, bytes: ArrayBuffer, layout: ArrayBuffer of u32 triples (start, length, linkOffset) }
 *   { type: 'cancel', id }                                        forgets the run; its later items are ignored
 * Replies: { id, from, results: ArrayBuffer of 96 bytes per item (64-byte signature, 32-byte digest) } for every
 * items message, or { id, error } once (the run is then forgotten).
 */

import { createHash, sign } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { key, signaturePrefix, hashPrefix, hashMiddle } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
/** The digest the next item of each open run links to. @type {Map<number, Uint8Array>} */
const runs = new Map();

port.on('message', (/** @type {{ type: string, id: number, first?: ArrayBuffer, from?: number, bytes?: ArrayBuffer, layout?: ArrayBuffer }} */ message) => {
  const { id } = message;
  if (message.type === 'start') {
    const first = new Uint8Array(/** @type {ArrayBuffer} */ (message.first));
    if (first.length === 32) runs.set(id, first);
    else port.postMessage({ id, error: 'malformed start' });
    return;
  }
  if (message.type === 'cancel') {
    runs.delete(id);
    return;
  }
  let link = runs.get(id);
  if (link === undefined) return; // cancelled, or never started
  try {
    const all = new Uint8Array(/** @type {ArrayBuffer} */ (message.bytes));
    const layout = new Uint32Array(/** @type {ArrayBuffer} */ (message.layout));
    if (layout.length % 3 !== 0) throw new Error('malformed items');
    const count = layout.length / 3;
    const results = new Uint8Array(count * 96);
    for (let i = 0; i < count; i++) {
      const start = /** @type {number} */ (layout[3 * i]);
      const length = /** @type {number} */ (layout[3 * i + 1]);
      const linkOffset = /** @type {number} */ (layout[3 * i + 2]);
      if (start + length > all.length || linkOffset + 32 > length) throw new Error('malformed items');
      const item = all.subarray(start, start + length);
      item.set(link, linkOffset);
      const signature = sign(null, Buffer.concat([signaturePrefix, item]), key);
      const digest = createHash('sha256').update(hashPrefix).update(signature).update(hashMiddle).update(item).digest();
      results.set(signature, i * 96);
      results.set(digest, i * 96 + 64);
      link = digest;
    }
    runs.set(id, link);
    port.postMessage({ id, from: message.from, results: results.buffer }, [results.buffer]);
  } catch (error) {
    runs.delete(id);
    port.postMessage({ id, error: String(/** @type {Error} */ (error)?.message ?? error) });
  }
});
