/**
 * Hash-chained signing on a worker thread, for large appends (SPEC §6.3): item i carries the digest of item
 * i-1 (its link) at a known offset, is signed, and its digest links the next. The chain makes signing strictly
 * sequential, so the worker takes the whole run while the calling thread encodes, projects and stores; the
 * calling thread receives signatures and digests chunk by chunk and can use them while the worker goes on.
 *
 * Owns: the worker thread (chain-worker.js), packing a run into one transferred buffer, and the inline
 * computation the worker must match. Must not: know the event format (the prefixes are parameters) or keep the
 * process alive when idle (the worker is unref'd between runs).
 */

import { Worker } from 'node:worker_threads';
import { sha256 } from './hash.js';
import { keyObjectOf, type SigningKey } from './keys.js';

/** The fixed bytes around each item: signed message = signaturePrefix ‖ item; digest = SHA-256(hashPrefix ‖ signature ‖ hashMiddle ‖ item). */
export interface ChainLayout {
  readonly signaturePrefix: Uint8Array;
  readonly hashPrefix: Uint8Array;
  readonly hashMiddle: Uint8Array;
}

export interface ChainItem {
  /** The item's bytes; the link is written into them in place. */
  readonly bytes: Uint8Array;
  /** Where the 32-byte link goes. */
  readonly linkOffset: number;
}

export interface ChainLink {
  /** The link written into the item: the previous item's digest, or the run's first link. */
  readonly link: Uint8Array;
  readonly signature: Uint8Array;
  readonly digest: Uint8Array;
}

/** Wraps an error thrown by the caller's callback, so it is not taken for a worker failure. */
class CallbackError extends Error {}

const WORKER_URL = new URL('./chain-worker.js', import.meta.url);
/** Items per reply: small enough that the calling thread starts early, big enough to amortise a message. */
const CHUNK = 64;

/** Signs one item in this thread, exactly as the worker does. */
export function signLink(key: SigningKey, layout: ChainLayout, item: ChainItem, link: Uint8Array): ChainLink {
  item.bytes.set(link, item.linkOffset);
  const signature = key.sign(concat(layout.signaturePrefix, item.bytes));
  return { link, signature, digest: sha256(layout.hashPrefix, signature, layout.hashMiddle, item.bytes) };
}

interface Job {
  readonly count: number;
  next: number;
  /** The digest the next reply's first item was linked to. */
  link: Uint8Array;
  readonly onLinks: (from: number, links: readonly ChainLink[]) => void;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class ChainSigner {
  readonly #key: SigningKey;
  readonly #layout: ChainLayout;
  #worker: Worker | null = null;
  readonly #jobs = new Map<number, Job>();
  #nextId = 1;

  constructor(key: SigningKey, layout: ChainLayout) {
    this.#key = key;
    this.#layout = layout;
  }

  /**
   * Signs `items` in order on the worker, the first linked to `first`, calling `onLinks` for each chunk in
   * order. If the worker fails, the rest is signed in this thread from where it stopped, so a run always
   * completes with the same bytes.
   */
  async sign(first: Uint8Array, items: readonly ChainItem[], onLinks: (from: number, links: readonly ChainLink[]) => void): Promise<void> {
    if (items.length === 0) return;
    let done = 0;
    let link = first;
    try {
      await this.#run(first, items, (from, links) => {
        onLinks(from, links);
        done = from + links.length;
        link = links[links.length - 1]!.digest;
      });
    } catch (error) {
      // An error from the caller's own callback is theirs; anything else is the worker's, and the run goes on here.
      if (error instanceof CallbackError) throw error.cause;
      // Deterministic signatures: finishing here gives exactly the bytes the worker would have.
      for (let i = done; i < items.length; i++) {
        const signed = signLink(this.#key, this.#layout, items[i]!, link);
        onLinks(i, [signed]);
        link = signed.digest;
      }
    }
  }

  #run(first: Uint8Array, items: readonly ChainItem[], onLinks: (from: number, links: readonly ChainLink[]) => void): Promise<void> {
    let total = 0;
    for (const item of items) total += item.bytes.length;
    const bytes = new Uint8Array(total);
    const layout = new Uint32Array(items.length * 3);
    let offset = 0;
    items.forEach((item, i) => {
      bytes.set(item.bytes, offset);
      layout[3 * i] = offset;
      layout[3 * i + 1] = item.bytes.length;
      layout[3 * i + 2] = item.linkOffset;
      offset += item.bytes.length;
    });
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#jobs.set(id, { count: items.length, next: 0, link: new Uint8Array(first), onLinks, resolve, reject });
      if (this.#jobs.size === 1) worker.ref();
      const firstCopy = new Uint8Array(first).buffer;
      worker.postMessage({ id, first: firstCopy, bytes: bytes.buffer, layout: layout.buffer, chunk: CHUNK }, [firstCopy, bytes.buffer, layout.buffer]);
    });
  }

  #start(): Worker {
    const layout = this.#layout;
    const worker = new Worker(WORKER_URL, {
      workerData: { key: keyObjectOf(this.#key), signaturePrefix: layout.signaturePrefix, hashPrefix: layout.hashPrefix, hashMiddle: layout.hashMiddle },
    });
    worker.unref();
    worker.on('message', (reply: { id: number; from?: number; results?: ArrayBuffer; error?: string }) => {
      const job = this.#jobs.get(reply.id);
      if (job === undefined) return;
      const finish = (error?: Error): void => {
        this.#jobs.delete(reply.id);
        if (this.#jobs.size === 0) worker.unref();
        if (error === undefined) job.resolve();
        else job.reject(error);
      };
      if (reply.results === undefined || reply.from !== job.next) {
        finish(new Error(`signing worker: ${reply.error ?? 'a reply out of order'}`));
        return;
      }
      const results = new Uint8Array(reply.results);
      const links: ChainLink[] = [];
      let link = job.link;
      for (let at = 0; at < results.length; at += 96) {
        const digest = results.slice(at + 64, at + 96);
        links.push({ link, signature: results.slice(at, at + 64), digest });
        link = digest;
      }
      job.link = link;
      try {
        job.onLinks(reply.from, links);
      } catch (error) {
        finish(new CallbackError('callback', { cause: error }));
        return;
      }
      job.next += links.length;
      if (job.next === job.count) finish();
    });
    const onFailure = (error: Error): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      for (const [id, job] of this.#jobs) {
        this.#jobs.delete(id);
        job.reject(error);
      }
    };
    worker.on('error', (error) => onFailure(new Error('signing worker crashed', { cause: error })));
    worker.on('exit', (code) => onFailure(new Error(`signing worker exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    for (const [id, job] of this.#jobs) {
      this.#jobs.delete(id);
      job.reject(new Error('the signer was closed'));
    }
    if (worker !== null) await worker.terminate();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
