/**
 * The LevelDB implementation of LogStore (SPEC §8). Layout: sublevel `log` maps an 8-byte big-endian seq
 * to the event bytes; sublevel `meta` holds `head` and `ledger` as canonical CBOR. LevelDB's own LOCK file
 * is the process lock: a second opener waits, bounded, and then gets LEDGER_LOCKED.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Level } from 'level';
import { readUint64be, toPlainBytes, uint64be } from '../bytes.js';
import type { StoredEntry } from '../chain/verify.js';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.js';
import { LedgerError } from '../errors.js';
import { SnapshotGate } from './snapshot-gate.js';
import type { CommitBatch, IndexPut, LogStore, StagedCommit, StoreRange, StoredHead, StoredMeta } from './store.js';

export interface OpenStoreOptions {
  /** Create a new, empty store; refuse if one exists. */
  readonly create: boolean;
  /** How long to wait for another process's lock, in ms (default 30 000). */
  readonly waitMs?: number;
  /** fsync every commit (default true). */
  readonly sync?: boolean;
}

type Db = Level<Uint8Array, Uint8Array>;
const sublevelsOf = (db: Db) => ({
  log: db.sublevel<Uint8Array, Uint8Array>('log', BYTES),
  meta: db.sublevel<Uint8Array, Uint8Array>('meta', BYTES),
});
type Sub = ReturnType<typeof sublevelsOf>['log'];
interface NativeBatch {
  add(op: Operation): void;
  clear(): void;
  write(): Promise<void>;
  close(): Promise<void>;
}
interface PageIterator<T> {
  nextv(size: number): Promise<T[]>;
  close(): Promise<void>;
}
type Operation = { readonly type: 'put'; readonly sublevel: Sub; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly sublevel: Sub; readonly key: Uint8Array };

const HEAD_KEY = new TextEncoder().encode('head');
const LEDGER_KEY = new TextEncoder().encode('ledger');
const REBUILDING_KEY = new TextEncoder().encode('rebuilding');
const CHECKPOINT_KEY = new TextEncoder().encode('checkpoint');
/**
 * Stores open in this process, by real path. LevelDB's lock is a POSIX fcntl lock, and LevelDB checks its own
 * in-process lock table only after opening an fd on LOCK, which it then closes, and closing any fd on a file
 * drops every fcntl lock the process holds on it. A second open of a held ledger in the same process would so
 * release the holder's lock and let another process in beside it. Second opens wait here instead, and never
 * reach LevelDB.
 */
const openInProcess = new Map<string, Promise<void>>();

/** Index sublevel names: short, and within LevelDB's allowed prefix characters. */
const INDEX_NAME = /^[a-z]{1,8}$/;
const BYTES = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const PAGE_BYTES = 1024 * 1024;

export class LevelLogStore implements LogStore {
  readonly dir: string;
  readonly #db: Db;
  readonly #log: Sub;
  readonly #meta: Sub;
  readonly #sync: boolean;
  readonly #indexes = new Map<string, Sub>();
  readonly #prefixes = new Map<Sub, Uint8Array>();
  readonly #gate = new SnapshotGate();
  #release: () => void = () => undefined;

  private constructor(dir: string, db: Db, sync: boolean) {
    this.dir = dir;
    this.#db = db;
    const { log, meta } = sublevelsOf(db);
    this.#log = log;
    this.#meta = meta;
    this.#sync = sync;
  }

  /**
   * Opens (or creates) the store at `dir`.
   * @throws LedgerError LEDGER_NOT_FOUND, LEDGER_EXISTS, INVALID_ARGUMENT (a non-empty directory that is not a
   * ledger), LEDGER_LOCKED after waiting, STORE_CORRUPT or STORE_ERROR.
   */
  static async open(dir: string, options: OpenStoreOptions): Promise<LevelLogStore> {
    await checkDirectory(dir, options.create);
    const waitMs = options.waitMs ?? 30_000;
    const deadline = Date.now() + waitMs;
    const locked = (cause?: unknown) =>
      new LedgerError('LEDGER_LOCKED', `the ledger at ${dir} is locked by another process; wait for it to finish or raise --wait (waited ${Math.round(waitMs / 1000)} s)`, { cause });

    // First the holders in this process (see openInProcess), then LevelDB's lock against other processes.
    const key = await canonicalPath(dir);
    for (let held = openInProcess.get(key); held !== undefined; held = openInProcess.get(key)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw locked();
      await Promise.race([held, sleep(remaining)]);
    }
    let release!: () => void;
    openInProcess.set(key, new Promise<void>((resolve) => (release = resolve)));
    const releaseSlot = () => {
      openInProcess.delete(key);
      release();
    };

    let delayMs = 5;
    try {
      for (;;) {
        const db: Db = new Level<Uint8Array, Uint8Array>(dir, { ...BYTES, createIfMissing: options.create, errorIfExists: options.create });
        try {
          await db.open();
          const store = new LevelLogStore(dir, db, options.sync ?? true);
          store.#release = releaseSlot;
          return store;
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          if (cause?.code !== 'LEVEL_LOCKED') throw mapOpenError(dir, error);
          if (Date.now() >= deadline) throw locked(error);
          // Jittered exponential back-off so several waiting pipeline steps do not retry in lock-step; a short
          // cap keeps hand-off fair, since a failed attempt is cheap and a long sleep lets the last holder win again.
          await sleep(Math.min(delayMs, Math.max(1, deadline - Date.now())) * (0.5 + Math.random()));
          delayMs = Math.min(delayMs * 2, 25);
        }
      }
    } catch (error) {
      releaseSlot();
      throw error;
    }
  }

  async readHead(): Promise<StoredHead | null> {
    const bytes = await this.#read(() => this.#meta.get(HEAD_KEY));
    if (bytes === undefined) return null;
    const value = decodeMetaRecord(bytes, 'head');
    const { seq, hash, ts } = value;
    if (Object.keys(value).length !== 3 || !isUint(seq) || !isUint(ts) || !(hash instanceof Uint8Array) || hash.length !== 32) throw corrupt('the stored head is malformed');
    return { seq, hash, ts };
  }

  async readMeta(): Promise<StoredMeta | null> {
    const bytes = await this.#read(() => this.#meta.get(LEDGER_KEY));
    if (bytes === undefined) return null;
    const record = decodeMetaRecord(bytes, 'ledger');
    const { id, owner, version } = record;
    if (Object.keys(record).length !== 3 || typeof id !== 'string' || !(owner instanceof Uint8Array) || owner.length !== 32 || !isUint(version)) throw corrupt('the stored ledger facts are malformed');
    return { ledgerId: id, owner, formatVersion: version };
  }

  async readLastCheckpoint(): Promise<Uint8Array | undefined> {
    const bytes = await this.#read(() => this.#meta.get(CHECKPOINT_KEY));
    return bytes === undefined ? undefined : toPlainBytes(bytes);
  }

  async saveLastCheckpoint(note: Uint8Array): Promise<void> {
    await this.#write([{ type: 'put', sublevel: this.#meta, key: CHECKPOINT_KEY, value: note }]);
  }

  async get(seq: number): Promise<Uint8Array | undefined> {
    const bytes = await this.#read(() => this.#log.get(uint64be(seq)));
    return bytes === undefined ? undefined : toPlainBytes(bytes);
  }

  entries(range: { from?: number; to?: number } = {}): AsyncIterable<StoredEntry> {
    return this.#iterate(this.#log, logRange(range));
  }

  entryBatches(range: { from?: number; to?: number } = {}): AsyncIterable<readonly StoredEntry[]> {
    return this.#batches(this.#log, logRange(range));
  }

  async commit(batch: CommitBatch): Promise<void> {
    const staged = this.stage();
    staged.events(batch.events);
    staged.indexes(batch.indexes ?? []);
    await staged.write(batch.head, batch.meta);
  }

  stage(): StagedCommit {
    let batch: NativeBatch | null = null;
    let done = false;
    const add = (op: Operation) => {
      if (done) throw new TypeError('internal: this staged commit was already written or discarded');
      (batch ??= this.#begin()).add(op);
    };
    return {
      events: (events) => {
        for (const event of events) add({ type: 'put', sublevel: this.#log, key: uint64be(event.seq), value: event.bytes });
      },
      indexes: (puts) => {
        for (const put of puts) add({ type: 'put', sublevel: this.#index(put.index), key: put.key, value: put.value });
      },
      clear: () => batch?.clear(),
      write: async (head, meta) => {
        add({ type: 'put', sublevel: this.#meta, key: HEAD_KEY, value: encodeCanonical({ seq: head.seq, hash: head.hash, ts: head.ts }) });
        if (meta !== undefined) add({ type: 'put', sublevel: this.#meta, key: LEDGER_KEY, value: encodeCanonical({ id: meta.ledgerId, owner: meta.owner, version: meta.formatVersion }) });
        done = true;
        await batch!.write();
      },
      discard: async () => {
        done = true;
        await batch?.close();
      },
    };
  }

  async indexGet(index: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const sub = this.#index(index);
    const bytes = await this.#read(() => sub.get(key));
    return bytes === undefined ? undefined : toPlainBytes(bytes);
  }

  async indexGetMany(index: string, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    const sub = this.#index(index);
    const found = await this.#read(() => sub.getMany([...keys]));
    return found.map((bytes) => (bytes === undefined ? undefined : toPlainBytes(bytes)));
  }

  indexEntries(index: string, range: StoreRange = {}): AsyncIterable<{ key: Uint8Array; value: Uint8Array }> {
    return this.#iterate(this.#index(index), range);
  }

  async *#iterate(sublevel: Sub, range: StoreRange): AsyncIterable<StoredEntry> {
    for await (const batch of this.#batches(sublevel, range)) yield* batch;
  }

  /**
   * Reads a range in batches, each from its own short-lived iterator: classic-level gives every iterator a
   * snapshot, and no snapshot may stay alive while anything is written (SnapshotGate). So a consumer may write
   * between batches, and a long iteration sees what was written meanwhile beyond where it has read.
   */
  async *#batches(sublevel: Sub, range: StoreRange, size = 1000): AsyncIterable<StoredEntry[]> {
    for await (const batch of this.#pages(range, size, (bounds) => sublevel.iterator(bounds))) {
      yield batch.map(([key, value]) => ({ key: toPlainBytes(key), value: toPlainBytes(value) }));
    }
  }

  /** The keys of a range, in batches, as #batches reads entries. */
  #keyBatches(sublevel: Sub, range: StoreRange, size: number): AsyncIterable<Uint8Array[]> {
    return this.#pages(range, size, (bounds) => sublevel.keys(bounds), (key) => key);
  }

  async *#pages<T>(range: StoreRange, size: number, open: (options: StoreRange & { highWaterMarkBytes: number }) => PageIterator<T>, keyOf: (item: T) => Uint8Array = (item) => (item as [Uint8Array])[0]): AsyncIterable<T[]> {
    let remaining = range.limit === undefined || range.limit < 0 ? Infinity : range.limit;
    let bounds: StoreRange = { ...range };
    while (remaining > 0) {
      const want = Math.min(size, remaining);
      const page = await this.#read(async () => {
        // classic-level's nextv stops at highWaterMarkBytes (16 KiB by default, ~30 events): a page of up to
        // `want` entries needs more, and 1 MiB still bounds memory when events are large.
        const iterator = open({ ...bounds, limit: want, highWaterMarkBytes: PAGE_BYTES });
        try {
          // nextv amortises the native call over many entries (dependencies.md §3: ~25% faster than next()).
          return await iterator.nextv(want);
        } finally {
          await iterator.close();
        }
      });
      // Only an empty page ends the range: nextv also stops short at a byte budget.
      if (page.length === 0) return;
      yield page;
      remaining -= page.length;
      bounds = resumeAfter(range, keyOf(page[page.length - 1]!));
    }
  }

  async indexCount(index: string): Promise<number> {
    let count = 0;
    for await (const keys of this.#keyBatches(this.#index(index), {}, 10_000)) count += keys.length;
    return count;
  }

  async replaceIndexes(names: readonly string[], fill: (put: (entries: readonly IndexPut[]) => Promise<void>) => Promise<void>): Promise<void> {
    await this.#write([{ type: 'put', sublevel: this.#meta, key: REBUILDING_KEY, value: new Uint8Array([1]) }]);
    // Not abstract-level's clear(): classic-level's clear deletes while holding its own snapshot (SnapshotGate).
    for (const name of names) {
      const sub = this.#index(name);
      try {
        for await (const keys of this.#keyBatches(sub, {}, 4000)) await this.#write(keys.map((key) => ({ type: 'del' as const, sublevel: sub, key })));
      } catch (error) {
        throw new LedgerError('STORE_ERROR', `could not clear the ${name} index: ${(error as Error).message}; run rebuild again`, { cause: error });
      }
    }
    await fill((entries) => this.#write(entries.map((put) => ({ type: 'put' as const, sublevel: this.#index(put.index), key: put.key, value: put.value }))));
    await this.#write([{ type: 'del', sublevel: this.#meta, key: REBUILDING_KEY }]);
  }

  async isRebuilding(): Promise<boolean> {
    return (await this.#read(() => this.#meta.get(REBUILDING_KEY))) !== undefined;
  }

  async lastSeq(): Promise<number | undefined> {
    const [key] = await this.#read(() => this.#log.keys({ reverse: true, limit: 1 }).all());
    return key === undefined ? undefined : (readUint64be(key) ?? -1);
  }

  async close(): Promise<void> {
    try {
      await this.#db.close();
    } finally {
      this.#release();
      this.#release = () => undefined;
    }
  }

  #index(name: string): Sub {
    let sub = this.#indexes.get(name);
    if (sub === undefined) {
      if (!INDEX_NAME.test(name)) throw new TypeError(`index name ${JSON.stringify(name)} must be 1-8 lower-case letters`);
      sub = this.#db.sublevel<Uint8Array, Uint8Array>(`i-${name}`, BYTES);
      this.#indexes.set(name, sub);
    }
    return sub;
  }

  /** One atomic LevelDB write of `operations`. */
  async #write(operations: Operation[]): Promise<void> {
    const batch = this.#begin();
    for (const op of operations) batch.add(op);
    await batch.write();
  }

  /**
   * A native chained batch that operations enter as they come, with full root keys: classic-level's array
   * batch reads every operation's fields back through N-API, which cost ~28 µs per appended event (three
   * operations) against ~8 µs this way (BENCHMARKS.md, "store commit"). The write goes through the gate
   * (SnapshotGate). A failure closes the batch and is reported as STORE_ERROR.
   */
  #begin(): NativeBatch {
    const failed = (error: unknown) => new LedgerError('STORE_ERROR', `could not write to the ledger at ${this.dir}: ${(error as Error).message}`, { cause: error });
    let batch: ReturnType<Db['batch']>;
    try {
      batch = this.#db.batch();
    } catch (error) {
      throw failed(error);
    }
    const close = async () => {
      // The first error is the one to report; closing an unwritten batch is only tidying up.
      await batch.close().catch(() => undefined);
    };
    return {
      add: (op) => {
        try {
          const key = withPrefix(this.#prefix(op.sublevel), op.key);
          if (op.type === 'put') batch.put(key, op.value);
          else batch.del(key);
        } catch (error) {
          void close();
          throw failed(error);
        }
      },
      clear: () => {
        try {
          batch.clear();
        } catch (error) {
          throw failed(error);
        }
      },
      write: async () => {
        try {
          await this.#gate.write(() => batch.write({ sync: this.#sync }));
        } catch (error) {
          throw failed(error);
        }
      },
      close,
    };
  }

  /**
   * A sublevel's key prefix as bytes, asked of abstract-level once per sublevel: operations then go to the root
   * with their full keys, which skips the per-operation sublevel handling (~1 µs an operation).
   */
  #prefix(sublevel: Sub): Uint8Array {
    let prefix = this.#prefixes.get(sublevel);
    if (prefix === undefined) this.#prefixes.set(sublevel, (prefix = new Uint8Array(sublevel.prefixKey(new Uint8Array(0), 'view'))));
    return prefix;
  }

  /** Every read goes through the gate: classic-level takes a snapshot for each one (SnapshotGate, SPEC §8.5). */
  async #read<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await this.#gate.read(operation);
    } catch (error) {
      if ((error as { code?: string }).code === 'LEVEL_DATABASE_NOT_OPEN') throw new LedgerError('LEDGER_CLOSED', 'the ledger is closed', { cause: error });
      throw new LedgerError('STORE_CORRUPT', `could not read the ledger at ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
  }
}

function withPrefix(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix);
  out.set(key, prefix.length);
  return out;
}

/** The rest of `range` after `key`, the last key read (in the range's direction). */
function resumeAfter(range: StoreRange, key: Uint8Array): StoreRange {
  const { gt, gte, lt, lte, limit, ...rest } = range;
  return range.reverse === true ? { ...rest, ...(gt !== undefined ? { gt } : {}), ...(gte !== undefined ? { gte } : {}), lt: key } : { ...rest, ...(lt !== undefined ? { lt } : {}), ...(lte !== undefined ? { lte } : {}), gt: key };
}

function logRange(range: { from?: number; to?: number }): StoreRange {
  return {
    ...(range.from !== undefined ? { gte: uint64be(range.from) } : {}),
    ...(range.to !== undefined ? { lte: uint64be(range.to) } : {}),
  };
}

/** The real path of `dir` (or of its parent, for a ledger not created yet), so two spellings share one slot. */
async function canonicalPath(dir: string): Promise<string> {
  const absolute = resolve(dir);
  try {
    return await realpath(absolute);
  } catch {
    try {
      return join(await realpath(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

async function checkDirectory(dir: string, create: boolean): Promise<void> {
  let entries: string[] | undefined;
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new LedgerError(create ? 'INVALID_ARGUMENT' : 'LEDGER_NOT_FOUND', `${dir} is not a directory; choose another --ledger path`);
    entries = await readdir(dir);
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new LedgerError('STORE_ERROR', `cannot read ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const isLedger = entries?.includes('CURRENT') === true;
  if (create && isLedger) throw new LedgerError('LEDGER_EXISTS', `a ledger already exists at ${dir}; use it, or choose another --ledger directory`);
  if (create && entries !== undefined && entries.length > 0) {
    throw new LedgerError('INVALID_ARGUMENT', `${dir} is not empty and is not a ledger; choose an empty or new --ledger directory`);
  }
  if (!create && !isLedger) throw new LedgerError('LEDGER_NOT_FOUND', `no ledger at ${dir}; run \`provledger init\` or pass --ledger DIR`);
}

function mapOpenError(dir: string, error: unknown): LedgerError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'LEVEL_CORRUPTION') return new LedgerError('STORE_CORRUPT', `the ledger store at ${dir} is corrupt (${cause.message ?? 'corruption'}); restore it from a copy`, { cause: error });
  if (cause?.code === 'LEVEL_DATABASE_NOT_OPEN' || cause?.message?.includes('does not exist') === true) {
    return new LedgerError('LEDGER_NOT_FOUND', `no ledger at ${dir}; run \`provledger init\` or pass --ledger DIR`, { cause: error });
  }
  return new LedgerError('STORE_CORRUPT', `cannot open the ledger store at ${dir}: ${cause?.message ?? (error as Error).message}`, { cause: error });
}

function decodeMetaRecord(bytes: Uint8Array, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decodeCanonical(toPlainBytes(bytes));
  } catch (error) {
    throw corrupt(`the stored ${name} record is not canonical CBOR`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(`the stored ${name} record is not a map`);
  return value as Record<string, unknown>;
}

function corrupt(message: string, cause?: unknown): LedgerError {
  return new LedgerError('STORE_CORRUPT', `${message}; run \`provledger verify\` to see what is wrong`, { cause });
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

