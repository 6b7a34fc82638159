/**
 * The Merkle tree over the log as stored (SPEC §17.2): the `mt` entries an append writes, reading stored nodes
 * back for proofs, and checking the stored tree against the log in verify's streaming pass. The tree itself
 * (hashing, proofs, their verification) is pure and lives in merkle/; this module only connects it to the index.
 */
import type { VerifyFailure } from '../chain/failures.js';
import type { DecodedEvent, ExtraChecks, StoredLeaf } from '../chain/verify.js';
import { equalBytes, toHex } from '../bytes.js';
import { LedgerError } from '../errors.js';
import { eventHash } from '../event/event.js';
import { Frontier, leafHash, peakPositions, type NodePosition, type NodeReader } from '../merkle/tree.js';
import { decodeNode, keys, type IndexReader, type IndexWrite } from './indexes.js';

/**
 * The `mt` writes of appending the event with hash `hash`; advances `frontier`. Leaves (level 0) are not
 * stored: each is one hash of its event, read from the log when a proof needs it, which halves the writes.
 */
export function projectTree(frontier: Frontier, hash: Uint8Array): IndexWrite[] {
  return frontier
    .append(leafHash(hash))
    .filter((node) => node.level > 0)
    .map((node) => ({ index: 'mt', key: keys.node(node.level, node.index), value: node.hash }));
}

/** Where the tree's nodes come from: the `mt` index, and the log for leaves. */
export interface TreeSource extends IndexReader {
  get(seq: number): Promise<Uint8Array | undefined>;
}

/** Stored nodes for proof generation: one batched index read plus a log read per leaf; anything missing or malformed is STORE_CORRUPT. */
export function storedNodes(source: TreeSource): NodeReader {
  return async (positions: readonly NodePosition[]) => {
    const inner = positions.filter((p) => p.level > 0);
    const found = await source.indexGetMany('mt', inner.map((p) => keys.node(p.level, p.index)));
    const byPosition = new Map(inner.map((p, i) => [`${p.level}/${p.index}`, found[i]]));
    return Promise.all(
      positions.map(async ({ level, index }) => {
        if (level === 0) {
          const bytes = await source.get(index);
          if (bytes === undefined) throw new LedgerError('STORE_CORRUPT', `event ${index}, a leaf of the Merkle tree, is missing from the log; run \`provledger verify\``);
          return leafHash(eventHash(bytes));
        }
        const bytes = byPosition.get(`${level}/${index}`);
        const what = `Merkle tree (mt) node ${level}/${index}`;
        if (bytes === undefined) throw new LedgerError('STORE_CORRUPT', `the ${what} is missing; run \`provledger verify\`, then \`provledger rebuild\``);
        return decodeNode(bytes, what);
      }),
    );
  };
}

/** The tree state after `size` events, from its stored peaks: O(log size) reads. */
export async function loadFrontier(reader: TreeSource, size: number): Promise<Frontier> {
  const peaks = await storedNodes(reader)(peakPositions(size));
  return Frontier.fromPeaks(size, peaks);
}

/** A signed tree head to hold the log to (`verify --checkpoint`, SPEC §17.5). */
export interface CheckpointClaim {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The hash of event size-1, when the checkpoint names it. */
  readonly headHash?: Uint8Array;
}

/**
 * Verify's tree check (SPEC §17.2): recomputes the tree from the hashes of the stored entries as they stream
 * by, compares every node the log implies with the stored one, then counts the index so a node no event
 * implies is caught too. With a checkpoint, the root at its size must be the checkpoint's root. Memory is
 * O(log n): the frontier only.
 */
export function createTreeChecker(reader: IndexReader, options: { checkpoint?: CheckpointClaim } = {}): ExtraChecks {
  const frontier = Frontier.empty();
  const checkpoint = options.checkpoint;
  let present = 0;
  /** The log skips a seq: leaves past it have no position, so the check stops there. */
  let gap = false;
  /** False for a store without a tree: the log's tree is still computed, but there is nothing stored to compare. */
  let compareStored = true;
  let checkpointChecked = checkpoint === undefined;
  const failures: VerifyFailure[] = [];

  async function hasAnyNode(): Promise<boolean> {
    for await (const _ of reader.indexEntries('mt', { limit: 1 })) return true;
    return false;
  }

  function compareCheckpoint(leaf: StoredLeaf): void {
    checkpointChecked = true;
    const claim = checkpoint!;
    if (!equalBytes(frontier.root(), claim.rootHash)) {
      failures.push({
        seq: leaf.seq,
        code: 'CHECKPOINT_MISMATCH',
        message: `the first ${claim.size} events have Merkle root ${toHex(frontier.root())}, not the checkpoint's ${toHex(claim.rootHash)}: the ledger was rewritten or forked`,
      });
    } else if (claim.headHash !== undefined && !equalBytes(leaf.hash, claim.headHash)) {
      failures.push({ seq: leaf.seq, code: 'CHECKPOINT_MISMATCH', message: `event ${leaf.seq} has hash ${toHex(leaf.hash)}, not the checkpoint's chain head ${toHex(claim.headHash)}` });
    }
  }

  return {
    async checkChunk(_events: readonly DecodedEvent[], leaves: readonly StoredLeaf[] = []) {
      if (gap) return [];
      // Two events complete the first stored node, so from then on the index cannot be empty.
      if (frontier.size === 0 && leaves.length >= 2 && !(await hasAnyNode())) {
        // A store written before the tree existed (SPEC §17.8): one finding, not one per event. The tree is
        // still computed from the log, so a checkpoint can be checked all the same.
        compareStored = false;
        failures.push({ seq: null, code: 'TREE_MISMATCH', message: 'the Merkle tree index is empty (the store predates it, or it was deleted); run `provledger rebuild` to build it from the log' });
      }
      const wanted: { seq: number; key: Uint8Array; hash: Uint8Array; first: number }[] = [];
      for (const leaf of leaves) {
        if (leaf.seq !== frontier.size) {
          // Leaves are positional: past a gap, no stored node can be matched to an event.
          gap = true;
          failures.push({ seq: leaf.seq, code: 'TREE_MISMATCH', message: `the Merkle tree cannot be checked from event ${leaf.seq} on: the log does not hold events 0..${leaf.seq - 1} in order` });
          break;
        }
        for (const node of frontier.append(leafHash(leaf.hash))) if (node.level > 0) wanted.push({ seq: leaf.seq, key: keys.node(node.level, node.index), hash: node.hash, first: node.index * 2 ** node.level });
        if (checkpoint !== undefined && frontier.size === checkpoint.size) compareCheckpoint(leaf);
      }
      const found = wanted.length === 0 || !compareStored ? [] : await reader.indexGetMany('mt', wanted.map((w) => w.key));
      let reported = -1;
      if (compareStored) {
        wanted.forEach((w, i) => {
          const stored = found[i];
          if (stored !== undefined) present++;
          if (stored !== undefined && equalBytes(stored, w.hash)) return;
          // One finding per event, however many of its nodes differ.
          if (reported === w.seq) return;
          reported = w.seq;
          const over = w.first === w.seq ? `event ${w.seq}` : `events ${w.first}..${w.seq}`;
          failures.push({ seq: w.seq, code: 'TREE_MISMATCH', message: `the Merkle tree ${stored === undefined ? 'lacks' : 'holds a wrong'} node over ${over}, which the log implies` });
        });
      }
      return failures.splice(0);
    },
    async finish() {
      if (compareStored && !gap) {
        const count = await reader.indexCount('mt');
        if (count > present) failures.push({ seq: null, code: 'TREE_MISMATCH', message: `the Merkle tree index holds ${count - present} nodes that no event implies` });
      }
      if (!checkpointChecked) {
        failures.push(
          gap
            ? { seq: null, code: 'CHECKPOINT_MISMATCH', message: `the log has a gap before event ${checkpoint!.size - 1}, so it no longer holds the ${checkpoint!.size} events the checkpoint committed to` }
            : { seq: null, code: 'CHECKPOINT_TRUNCATED', message: `the checkpoint commits to ${checkpoint!.size} events, but the ledger holds ${frontier.size}: it was truncated` },
        );
      }
      return failures.splice(0);
    },
  };
}
