/**
 * Append-only storage of the log and the facts kept beside it, behind a small interface (SPEC §8).
 * This folder is the only importer of `level`. It stores and returns bytes; it does not judge them
 * (decoding and verification belong to event/ and chain/). Every write is one atomic batch.
 */
import type { StoredEntry } from '../chain/verify.js';

export interface StoredHead {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly ts: number;
}

/** Facts fixed by the genesis, stored so a reader can name the ledger without reading event 0. */
export interface StoredMeta {
  readonly ledgerId: string;
  readonly owner: Uint8Array;
  readonly formatVersion: number;
}

/** One entry of a named index (a projection, SPEC §12), written in the same batch as its event. */
export interface IndexPut {
  readonly index: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface StoreRange {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface CommitBatch {
  readonly events: readonly { readonly seq: number; readonly bytes: Uint8Array }[];
  readonly head: StoredHead;
  /** Written once, with the genesis. */
  readonly meta?: StoredMeta;
  readonly indexes?: readonly IndexPut[];
}

/**
 * A commit filled while its events are still being sealed, so the batch is built while the signer works and
 * only the write remains once the last signature is in (SPEC §6.3). Nothing is written before `write`; one
 * stage writes once, or is discarded.
 */
export interface StagedCommit {
  events(events: readonly { readonly seq: number; readonly bytes: Uint8Array }[]): void;
  indexes(puts: readonly IndexPut[]): void;
  /** Drops everything staged so far (the group is being sealed afresh). */
  clear(): void;
  /** Writes what was staged with the new head (and, with the genesis, the ledger facts) in one atomic batch. */
  write(head: StoredHead, meta?: StoredMeta): Promise<void>;
  /** Drops the stage without writing. Idempotent. */
  discard(): Promise<void>;
}

export interface LogStore {
  readonly dir: string;
  readHead(): Promise<StoredHead | null>;
  readMeta(): Promise<StoredMeta | null>;
  get(seq: number): Promise<Uint8Array | undefined>;
  /** The last checkpoint this ledger signed (a signed note's UTF-8 bytes), kept so the next one checks only newer events (SPEC §17.3). */
  readLastCheckpoint(): Promise<Uint8Array | undefined>;
  saveLastCheckpoint(note: Uint8Array): Promise<void>;
  /** The seq of the last log key (-1 for a key that is not a seq), or undefined for an empty log. */
  lastSeq(): Promise<number | undefined>;
  /** Stored entries in key order, `from` and `to` inclusive. */
  entries(range?: { from?: number; to?: number }): AsyncIterable<StoredEntry>;
  /** The same entries in batches of up to 1,000, for readers of the whole log: one await per batch, not per entry. */
  entryBatches(range?: { from?: number; to?: number }): AsyncIterable<readonly StoredEntry[]>;
  /** Writes events, head, meta and index entries in one atomic batch. */
  commit(batch: CommitBatch): Promise<void>;
  /** Starts a commit to fill piece by piece (StagedCommit). */
  stage(): StagedCommit;
  indexGet(index: string, key: Uint8Array): Promise<Uint8Array | undefined>;
  indexGetMany(index: string, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  indexEntries(index: string, range?: StoreRange): AsyncIterable<{ key: Uint8Array; value: Uint8Array }>;
  /** How many entries an index holds (reads keys only, in large batches). */
  indexCount(index: string): Promise<number>;
  /**
   * Replaces the named indexes wholesale (rebuild, SPEC §12.5): marks a rebuild as started, clears them, then
   * lets `fill` write entries in batches, and clears the mark only when `fill` finishes.
   */
  replaceIndexes(names: readonly string[], fill: (put: (entries: readonly IndexPut[]) => Promise<void>) => Promise<void>): Promise<void>;
  /** True when a rebuild started and did not finish: the indexes are incomplete. */
  isRebuilding(): Promise<boolean>;
  close(): Promise<void>;
}
