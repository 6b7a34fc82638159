/**
 * Worker thread for the raw parallel-verify measurement in bench.js: node:crypto Ed25519 verify in a tight
 * loop with a cached KeyObject, and nothing else (no decoding, no hashing, no message passing per item).
 * It is the "raw verify limit" actually reached when every core verifies at once on this machine, shown
 * beside the nominal limit (single-thread verifies/s × cores).
 *
 * workerData: { publicKeyDer: Uint8Array, messages: Uint8Array[], signatures: Uint8Array[], seconds: number }.
 * Posts 'ready', waits for 'go', then posts { ops, seconds }.
 */
import { createPublicKey, verify } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { publicKeyDer, messages, signatures, seconds } = workerData;
const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
const count = messages.length;

function verifyFor(ms) {
  let ops = 0;
  const start = performance.now();
  const until = start + ms;
  do {
    for (let i = 0; i < 100; i++) {
      const n = (ops + i) % count;
      if (!verify(null, messages[n], key, signatures[n])) throw new Error('raw-verify-worker: a valid signature failed');
    }
    ops += 100;
  } while (performance.now() < until);
  return { ops, seconds: (performance.now() - start) / 1000 };
}

verifyFor(100); // warm-up
parentPort.postMessage('ready');
parentPort.once('message', () => parentPort.postMessage(verifyFor(seconds * 1000)));
