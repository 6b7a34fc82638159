// @ts-check
/**
 * Worker thread for ChainSigner (chain-signer.ts): signs a run of hash-chained messages, one after another.
 *
 * Owns: the loop that writes each item's link (the previous item's digest) into its bytes, signs, and digests
 * the signed item. Must not: decide anything about the format (the prefixes arrive from the calling thread) or
 * let the key leave this thread (it is used here and nowhere else).
 *
 * Plain ESM JavaScript so it runs unchanged from src (vitest) and from dist (tsc copies it with allowJs).
 *
 * workerData: { key: KeyObject, signaturePrefix, hashPrefix, hashMiddle } (Uint8Array each).
 * Job: { id, first: ArrayBuffer(32), bytes: ArrayBuffer (the items concatenated), layout: ArrayBuffer of
 * u32 triples (start, length, linkOffset), chunk: items per reply }.
 * Replies: { id, from, results: ArrayBuffer of 96 bytes per item (64-byte signature, 32-byte digest) } for
 * every chunk in order, or { id, error } once.
 */

import { createHash, sign } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { key, signaturePrefix, hashPrefix, hashMiddle } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

port.on('message', (/** @type {{ id: number, first: ArrayBuffer, bytes: ArrayBuffer, layout: ArrayBuffer, chunk: number }} */ job) => {
  const { id } = job;
  try {
    const all = new Uint8Array(job.bytes);
    const layout = new Uint32Array(job.layout);
    const count = layout.length / 3;
    let link = new Uint8Array(job.first);
    if (link.length !== 32 || layout.length % 3 !== 0 || !(job.chunk > 0)) throw new Error('malformed job');
    for (let from = 0; from < count; from += job.chunk) {
      const n = Math.min(job.chunk, count - from);
      const results = new Uint8Array(n * 96);
      for (let i = 0; i < n; i++) {
        const at = 3 * (from + i);
        const start = /** @type {number} */ (layout[at]);
        const length = /** @type {number} */ (layout[at + 1]);
        const linkOffset = /** @type {number} */ (layout[at + 2]);
        if (start + length > all.length || linkOffset + 32 > length) throw new Error('malformed job');
        const item = all.subarray(start, start + length);
        item.set(link, linkOffset);
        const signature = sign(null, Buffer.concat([signaturePrefix, item]), key);
        const digest = createHash('sha256').update(hashPrefix).update(signature).update(hashMiddle).update(item).digest();
        results.set(signature, i * 96);
        results.set(digest, i * 96 + 64);
        link = digest;
      }
      port.postMessage({ id, from, results: results.buffer }, [results.buffer]);
    }
  } catch (error) {
    port.postMessage({ id, error: String(/** @type {Error} */ (error)?.message ?? error) });
  }
});
