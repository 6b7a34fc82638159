/**
 * Parallel Ed25519 verification for the ledger's verify: spreads each batch of signatures over worker threads.
 *
 * Owns: the worker threads (verify-worker.js), packing batches into one transferred ArrayBuffer per message,
 * and putting results back in input order. The rule stays in ed25519.ts: keys arrive already vetted (a
 * VerifyingKey exists only for keys passing rules 1, 3, 5, 6), rules 1-2 run here in the calling thread, and a
 * worker only runs node:crypto's equation check, which with A vetted implies rules 4 and 7.
 * Must not: keep the process alive when idle (workers are unref'd between batches), reorder results, or send
 * items that already failed rules 1-2 to a worker.
 */

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LedgerError } from '../errors.js';
import { checkSignatureEncoding, SIGNATURE_LENGTH, VerifyingKey } from './ed25519.js';
import { assertBytes } from './guards.js';

/** One signature to check: `signature` over `message` by `key`. Extra fields (a seq, say) are ignored. */
export interface VerifyItem {
  signature: Uint8Array;
  message: Uint8Array;
  key: VerifyingKey;
}

export interface VerifyPoolOptions {
  /** Worker threads; defaults to os.availableParallelism(). 0 or 1 verifies in the calling thread. */
  threads?: number;
}

const WORKER_URL = new URL('./verify-worker.js', import.meta.url);
/** Items per posted batch: big enough to amortise postMessage (~50 µs), small enough to pipeline and balance. */
const MAX_BATCH_ITEMS = 1024;
/** Message bytes per posted batch, so a few huge events do not build one giant buffer. */
const MAX_BATCH_MESSAGE_BYTES = 8 * 1024 * 1024;

interface Pending {
  resolve: (results: Uint8Array) => void;
  reject: (error: Error) => void;
}

interface WorkerReply {
  id: number;
  results?: ArrayBuffer;
  error?: string;
}

/** One worker thread, started on first use and restarted after a crash. Ref'd only while it owes replies. */
class WorkerSlot {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Items sent and not yet answered: batches go to the least-loaded slot. */
  load = 0;

  async runBatch(buffer: ArrayBuffer, items: number): Promise<Uint8Array> {
    this.load += items;
    try {
      return await this.run(buffer);
    } finally {
      this.load -= items;
    }
  }

  run(buffer: ArrayBuffer): Promise<Uint8Array> {
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A pending reply must keep the process alive (an awaited verify at top level), an idle worker must not.
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ id, buffer }, [buffer]);
    });
  }

  async terminate(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#failAll(new Error('VerifyPool was closed while verifying'));
    if (worker !== null) await worker.terminate();
  }

  #start(): Worker {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if (reply.results !== undefined) pending.resolve(new Uint8Array(reply.results));
      else pending.reject(new Error(`verify worker rejected a batch: ${reply.error ?? 'no reason given'}`));
    });
    const onFailure = (error: Error): void => {
      if (this.#worker !== worker) return; // already replaced or closed
      this.#worker = null; // the next run starts a fresh worker
      this.#failAll(error);
    };
    worker.on('error', (error) => onFailure(new Error('verify worker crashed', { cause: error })));
    worker.on('exit', (code) => onFailure(new Error(`verify worker exited unexpectedly with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/** Packs items[indices] into the layout documented in verify-worker.js; keys are deduplicated per batch. */
function packBatch(items: readonly VerifyItem[], indices: readonly number[]): ArrayBuffer {
  const keyIndexByHex = new Map<string, number>();
  const keys: VerifyingKey[] = [];
  let messageBytes = 0;
  for (const i of indices) {
    const item = items[i]!;
    if (!keyIndexByHex.has(item.key.hex)) {
      keyIndexByHex.set(item.key.hex, keys.length);
      keys.push(item.key);
    }
    messageBytes += item.message.length;
  }
  const count = indices.length;
  const keysOffset = 8;
  const tableOffset = keysOffset + keys.length * 32;
  const signaturesOffset = tableOffset + count * 8;
  const messagesOffset = signaturesOffset + count * SIGNATURE_LENGTH;
  const buffer = new ArrayBuffer(messagesOffset + messageBytes);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, count, true);
  view.setUint32(4, keys.length, true);
  keys.forEach((key, k) => bytes.set(key.bytes, keysOffset + k * 32));
  let messageOffset = messagesOffset;
  indices.forEach((i, n) => {
    const item = items[i]!;
    view.setUint32(tableOffset + n * 8, keyIndexByHex.get(item.key.hex)!, true);
    view.setUint32(tableOffset + n * 8 + 4, item.message.length, true);
    bytes.set(item.signature, signaturesOffset + n * SIGNATURE_LENGTH);
    bytes.set(item.message, messageOffset);
    messageOffset += item.message.length;
  });
  return buffer;
}

/** Splits indices into batches bounded by MAX_BATCH_ITEMS and MAX_BATCH_MESSAGE_BYTES, at most `perBatch` each. */
function splitBatches(items: readonly VerifyItem[], indices: readonly number[], perBatch: number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (const i of indices) {
    const size = items[i]!.message.length;
    if (current.length > 0 && (current.length >= perBatch || currentBytes + size > MAX_BATCH_MESSAGE_BYTES)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(i);
    currentBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function assertItem(item: VerifyItem, index: number): void {
  if (item === null || typeof item !== 'object') throw new TypeError(`items[${index}] must be an object`);
  assertBytes(item.signature, `items[${index}].signature`);
  assertBytes(item.message, `items[${index}].message`);
  if (!(item.key instanceof VerifyingKey)) {
    throw new TypeError(`items[${index}].key must be a VerifyingKey (make one with VerifyingKey.fromBytes)`);
  }
}

/**
 * A set of worker threads that verify Ed25519 signatures in parallel, with the same answers as
 * `VerifyingKey.verify` (node backend). Create one per ledger verification and close it afterwards.
 *
 * @example
 * const pool = VerifyPool.create();
 * try { const ok = await pool.verify(items); } finally { await pool.close(); }
 */
export class VerifyPool {
  /** Worker threads in use; 0 means verification runs in the calling thread. */
  readonly threads: number;
  readonly #slots: WorkerSlot[];
  #closed = false;

  private constructor(threads: number) {
    this.threads = threads;
    this.#slots = Array.from({ length: threads }, () => new WorkerSlot());
  }

  /**
   * Makes a pool. Workers start lazily on the first `verify`, and are unref'd while idle, so an unclosed
   * pool never keeps the process alive.
   *
   * @param options.threads - worker threads, default os.availableParallelism(); 0 or 1 means no workers.
   * @throws {LedgerError} `INVALID_ARGUMENT` when `threads` is not a non-negative integer.
   * @example
   * const pool = VerifyPool.create({ threads: 2 });
   * const inline = VerifyPool.create({ threads: 1 }); // no workers
   */
  static create(options: VerifyPoolOptions = {}): VerifyPool {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isSafeInteger(threads) || threads < 0) {
      throw new LedgerError('INVALID_ARGUMENT', `threads must be a non-negative integer, got ${String(threads)}`, {
        details: { threads },
      });
    }
    return new VerifyPool(threads <= 1 ? 0 : threads);
  }

  /**
   * Verifies every item; `result[i]` answers `items[i]`. Items failing rules 1-2 (length, S < L) are false
   * without reaching a worker. Never rejects because of the bytes in an item.
   *
   * @throws {TypeError} (as a rejection) when an item is malformed (not bytes, key not a VerifyingKey).
   * @throws {Error} (as a rejection) when the pool is closed or a worker crashes.
   * @example
   * const [first, second] = await pool.verify([{ signature, message, key }, other]);
   */
  async verify(items: readonly VerifyItem[]): Promise<boolean[]> {
    if (this.#closed) throw new Error('VerifyPool is closed');
    if (!Array.isArray(items)) throw new TypeError('items must be an array');
    items.forEach(assertItem);
    if (this.threads === 0) {
      return items.map((item) => item.key.verify(item.signature, item.message, 'node'));
    }
    const results = new Array<boolean>(items.length).fill(false);
    const admitted: number[] = [];
    items.forEach((item, i) => {
      if (checkSignatureEncoding(item.signature) === null) admitted.push(i); // rules 1, 2
    });
    if (admitted.length === 0) return results;
    // Several batches per worker, each sent to the least-loaded worker: when calls overlap (verify keeps
    // two chunks in flight), a worker that finishes early picks up work instead of idling.
    const perBatch = Math.min(MAX_BATCH_ITEMS, Math.max(64, Math.ceil(admitted.length / (this.threads * 4))));
    const batches = splitBatches(items, admitted, perBatch);
    const runs = batches.map(async (batch) => {
      const slot = this.#slots.reduce((least, candidate) => (candidate.load < least.load ? candidate : least));
      const answers = await slot.runBatch(packBatch(items, batch), batch.length);
      batch.forEach((i, n) => {
        results[i] = answers[n] === 1;
      });
    });
    await Promise.all(runs);
    return results;
  }

  /** Stops the workers; pending verifications reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot.terminate()));
  }
}
