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

export interface CommitBatch {
  readonly events: readonly { readonly seq: number; readonly bytes: Uint8Array }[];
  readonly head: StoredHead;
  /** Written once, with the genesis. */
  readonly meta?: StoredMeta;
}

export interface LogStore {
  readonly dir: string;
  readHead(): Promise<StoredHead | null>;
  readMeta(): Promise<StoredMeta | null>;
  get(seq: number): Promise<Uint8Array | undefined>;
  /** Stored entries in key order, `from` and `to` inclusive. */
  entries(range?: { from?: number; to?: number }): AsyncIterable<StoredEntry>;
  /** Writes events, head and meta in one atomic batch. */
  commit(batch: CommitBatch): Promise<void>;
  close(): Promise<void>;
}
