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
  /** The item's bytes. The worker signs a copy; signing in this thread (`signLink`) writes the link into them. */
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

const WORKER_URL = new URL('./chain-worker.js', import.meta.url);
/** Items per message: small enough that the calling thread gets results early, big enough to amortise a message. */
export const CHAIN_CHUNK = 64;

/** Signs one item in this thread, exactly as the worker does. */
export function signLink(key: SigningKey, layout: ChainLayout, item: ChainItem, link: Uint8Array): ChainLink {
  item.bytes.set(link, item.linkOffset);
  const signature = key.sign(concat(layout.signaturePrefix, item.bytes));
  return { link, signature, digest: sha256(layout.hashPrefix, signature, layout.hashMiddle, item.bytes) };
}

/** A run signed while it is still being built: items are pushed as they are ready and signed in that order. */
export interface ChainStream {
  /** Queues items after those already pushed. */
  push(items: readonly ChainItem[]): void;
  /** Resolves once every pushed item was handed to the callback; rejects with the callback's own error. */
  end(): Promise<void>;
  /** Abandons the run: nothing more is handed to the callback, and `end` resolves. */
  cancel(): void;
}

type OnLinks = (from: number, links: readonly ChainLink[]) => void;

/** One run: what was pushed, what was delivered, and where it goes on if the worker fails. */
class Run implements ChainStream {
  readonly #signer: ChainSigner;
  readonly id: number;
  readonly #onLinks: OnLinks;
  readonly #items: ChainItem[] = [];
  #delivered = 0;
  #link: Uint8Array;
  #inline = false;
  #closed = false;
  #error: unknown;
  #waiting: { resolve: () => void; reject: (error: unknown) => void } | null = null;
  #ended: Promise<void> | undefined;

  constructor(signer: ChainSigner, id: number, first: Uint8Array, onLinks: OnLinks) {
    this.#signer = signer;
    this.id = id;
    this.#link = new Uint8Array(first);
    this.#onLinks = onLinks;
  }

  push(items: readonly ChainItem[]): void {
    if (this.#closed || items.length === 0) return;
    const from = this.#items.length;
    this.#items.push(...items);
    if (this.#inline) this.#signInline();
    else this.#signer.send(this, from, items);
  }

  end(): Promise<void> {
    this.#ended ??= new Promise<void>((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#settle();
    });
    return this.#ended;
  }

  cancel(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#signer.forget(this);
    this.#settle();
  }

  /** A chunk of results from the worker, for the items from `from` on. */
  deliver(from: number, signed: readonly { signature: Uint8Array; digest: Uint8Array }[]): void {
    if (this.#closed || this.#inline) return;
    if (from !== this.#delivered || signed.length === 0) return this.fail();
    let link = this.#link;
    const links = signed.map(({ signature, digest }) => {
      const entry = { link, signature, digest };
      link = digest;
      return entry;
    });
    this.#hand(from, links);
  }

  /** The worker cannot go on: the rest is signed here, from the first item not delivered, with identical bytes. */
  fail(): void {
    if (this.#closed || this.#inline) return;
    this.#inline = true;
    this.#signer.forget(this);
    this.#signInline();
  }

  #signInline(): void {
    while (!this.#closed && this.#delivered < this.#items.length) {
      this.#hand(this.#delivered, [this.#signer.signHere(this.#items[this.#delivered]!, this.#link)]);
    }
  }

  #hand(from: number, links: readonly ChainLink[]): void {
    // Counted as delivered before the callback runs: a callback that closes the signer must not see them again.
    this.#delivered = from + links.length;
    this.#link = links[links.length - 1]!.digest;
    try {
      this.#onLinks(from, links);
    } catch (error) {
      this.#error = error;
      this.cancel();
      return;
    }
    this.#settle();
  }

  #settle(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    if (this.#error !== undefined) waiting.reject(this.#error);
    else if (this.#closed || this.#delivered === this.#items.length) {
      if (!this.#closed) {
        this.#closed = true;
        this.#signer.forget(this);
      }
      waiting.resolve();
    } else return;
    this.#waiting = null;
  }
}

export class ChainSigner {
  readonly #key: SigningKey;
  readonly #layout: ChainLayout;
  #worker: Worker | null = null;
  readonly #runs = new Map<number, Run>();
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
  async sign(first: Uint8Array, items: readonly ChainItem[], onLinks: OnLinks): Promise<void> {
    const run = this.stream(first, onLinks);
    for (let from = 0; from < items.length; from += CHAIN_CHUNK) run.push(items.slice(from, from + CHAIN_CHUNK));
    await run.end();
  }

  /** Opens a run whose items are pushed as they are built (see ChainStream). */
  stream(first: Uint8Array, onLinks: OnLinks): ChainStream {
    const run = new Run(this, this.#nextId++, first, onLinks);
    try {
      const worker = this.#worker ?? this.#start();
      this.#runs.set(run.id, run);
      if (this.#runs.size === 1) worker.ref();
      const firstCopy = new Uint8Array(first).buffer;
      worker.postMessage({ type: 'start', id: run.id, first: firstCopy }, [firstCopy]);
    } catch {
      run.fail();
    }
    return run;
  }

  /** @internal Sends pushed items to the worker, packed into one transferred buffer. */
  send(run: Run, from: number, items: readonly ChainItem[]): void {
    const worker = this.#worker;
    if (worker === null || !this.#runs.has(run.id)) return run.fail();
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
    worker.postMessage({ type: 'items', id: run.id, from, bytes: bytes.buffer, layout: layout.buffer }, [bytes.buffer, layout.buffer]);
  }

  /** @internal A run that ended or went inline: the worker forgets it, and is unref'd when it holds none. */
  forget(run: Run): void {
    if (!this.#runs.delete(run.id)) return;
    this.#worker?.postMessage({ type: 'cancel', id: run.id });
    if (this.#runs.size === 0) this.#worker?.unref();
  }

  /** @internal */
  signHere(item: ChainItem, link: Uint8Array): ChainLink {
    return signLink(this.#key, this.#layout, item, link);
  }

  #start(): Worker {
    const layout = this.#layout;
    const worker = new Worker(WORKER_URL, {
      workerData: { key: keyObjectOf(this.#key), signaturePrefix: layout.signaturePrefix, hashPrefix: layout.hashPrefix, hashMiddle: layout.hashMiddle },
    });
    worker.unref();
    worker.on('message', (reply: { id: number; from?: number; results?: ArrayBuffer; error?: string }) => {
      const run = this.#runs.get(reply.id);
      if (run === undefined) return;
      if (reply.results === undefined || reply.from === undefined) return run.fail();
      const results = new Uint8Array(reply.results);
      const signed: { signature: Uint8Array; digest: Uint8Array }[] = [];
      for (let at = 0; at < results.length; at += 96) signed.push({ signature: results.slice(at, at + 64), digest: results.slice(at + 64, at + 96) });
      run.deliver(reply.from, signed);
    });
    const onFailure = (): void => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      const runs = [...this.#runs.values()];
      this.#runs.clear();
      for (const run of runs) run.fail();
    };
    worker.on('error', onFailure);
    worker.on('exit', onFailure);
    this.#worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    const runs = [...this.#runs.values()];
    this.#runs.clear();
    for (const run of runs) run.fail();
    if (worker !== null) await worker.terminate();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
