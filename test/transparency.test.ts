/**
 * SPEC §17 through the library: checkpoints a ledger signs and is held to (`verify --checkpoint`, §17.5), the
 * stored Merkle tree against an attacker with the files (§17.2), proofs refused from a damaged tree, and audit
 * bundles checked offline (§17.7). Each test builds its own small ledger with the library from src/, closes it,
 * edits the store raw where it says so (test/helpers/raw-store.ts), and reopens it. Codes are asserted, never
 * messages; verify findings are compared as [seq, code] pairs in report order.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { encodeCanonical } from '../src/codec/canonical.js';
import { SigningKey } from '../src/crypto/keys.js';
import { eventHash, openEvent, sealEvent } from '../src/event/event.js';
import { signNote } from '../src/merkle/checkpoint.js';
import { EMPTY_ROOT, Frontier, leafHash } from '../src/merkle/tree.js';
import { keys } from '../src/projections/indexes.js';
import { signCheckpoint } from '../src/transparency.js';
import { Ledger, parseCheckpoint, parseSignedNote, verifyBundle, verifyCheckpoint, verifyInclusion, type AppendInput, type TrustedKey } from '../src/index.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { appendForged } from './helpers/forge.js';
import { editIndexes, editStore, seqKey, type RawIndexes } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';
import { codeOf } from './helpers/codes.js';
import { createOptions, dumpStore, withOpen } from './helpers/ledgers.js';

const HEAD_KEY = new TextEncoder().encode('head');
const mallory = SigningKey.generate();
const trustOwner: TrustedKey[] = [{ publicKey: ownerKey.publicKey }];

const note = (n: number): AppendInput => ({ type: 'app.note', payload: { n } });
const notes = (from: number, count: number): AppendInput[] => Array.from({ length: count }, (_, i) => note(from + i));

/** Creates a ledger of `size` events (the genesis and size − 1 notes) at `dir`, and closes it. */
async function createLedger(dir: string, size: number): Promise<void> {
  const ledger = await Ledger.create(dir, createOptions());
  try {
    await ledger.appendMany(notes(1, size - 1));
  } finally {
    await ledger.close();
  }
}

/** What verify finds, as [seq, code] pairs in report order. */
async function findings(ledger: Ledger, options: Parameters<Ledger['verify']>[0] = {}): Promise<[number | null, string][]> {
  const report = await ledger.verify(options);
  expect(report.ok).toBe(report.failures.length === 0);
  return report.failures.map((f) => [f.seq, f.code]);
}

/** The `mt` index, key hex → node hex. */
async function treeEntries(dir: string): Promise<[string, string][]> {
  return editIndexes(dir, async (ix) => {
    const entries: [string, string][] = [];
    for await (const [key, value] of ix.mt.iterator()) entries.push([toHex(key), toHex(value)]);
    return entries;
  });
}

/** Moves the stored head to the event stored at `seq`, as an attacker who truncates the log would. */
async function moveHead(dir: string, seq: number): Promise<void> {
  await editStore(dir, async ({ log, meta }) => {
    const bytes = (await log.get(seqKey(seq)))!;
    await meta.put(HEAD_KEY, encodeCanonical({ seq, hash: eventHash(bytes), ts: openEvent(bytes).body.ts }));
  });
}

/**
 * Replaces event `seq` by one with payload `payload`, validly signed by the owner; with `rechain`, re-signs
 * every later event to link to it and moves the head, as an attacker holding the owner's key would.
 */
async function rewriteEvent(dir: string, seq: number, payload: { n: number }, rechain: boolean): Promise<void> {
  await editStore(dir, async ({ log, meta }) => {
    const old = openEvent((await log.get(seqKey(seq)))!);
    let previous = sealEvent({ ...old.body, payload }, ownerKey);
    await log.put(seqKey(seq), previous.bytes);
    if (!rechain) return;
    for (let next = seq + 1; ; next++) {
      const bytes = await log.get(seqKey(next));
      if (bytes === undefined) break;
      previous = sealEvent({ ...openEvent(bytes).body, prev: previous.hash }, ownerKey);
      await log.put(seqKey(next), previous.bytes);
    }
    await meta.put(HEAD_KEY, encodeCanonical({ seq: previous.body.seq, hash: previous.hash, ts: previous.body.ts }));
  });
}

/** A checkpoint's signed text re-signed by `key` under the checkpoint's own origin (the default verifier name). */
function resign(checkpoint: string, key: SigningKey): string {
  const { text } = parseSignedNote(checkpoint);
  return signNote(text, parseCheckpoint(text).origin, key);
}

/** The checkpoint with one bit of its (first) signature flipped, still canonical base64. */
function breakCheckpointSignature(checkpoint: string): string {
  return checkpoint.replace(/^(— \S+ )(\S+)$/m, (_line, prefix: string, base64: string) => {
    const bytes = Buffer.from(base64, 'base64');
    bytes[14] = bytes[14]! ^ 0x01; // past the 4-byte key id: a byte of the Ed25519 signature
    return `${prefix}${bytes.toString('base64')}`;
  });
}

/** `use` runs against the open ledger; the stored content must be exactly the same afterwards. */
async function expectStoreUnchanged(dir: string, use: (ledger: Ledger) => Promise<void>, key: SigningKey = ownerKey): Promise<void> {
  const before = await dumpStore(dir);
  await withOpen(dir, use, key);
  expect(await dumpStore(dir)).toEqual(before);
}

describe('SPEC §17.5: verify --checkpoint holds the ledger to a checkpoint it signed', () => {
  it('accepts a checkpoint of the ledger now, and still after more appends', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 5);
      await withOpen(dir, async (ledger) => {
        const checkpoint = await ledger.checkpoint();
        expect(parseCheckpoint(parseSignedNote(checkpoint).text).size).toBe(5);
        expect(await findings(ledger, { checkpoint })).toEqual([]);
        await ledger.appendMany(notes(5, 6));
        expect(await findings(ledger, { checkpoint })).toEqual([]);
        expect(await findings(ledger, { checkpoint: await ledger.checkpoint() })).toEqual([]);
      });
    });
  });

  it('reports a truncated ledger as CHECKPOINT_TRUNCATED when nothing else shows it', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 10);
      const checkpoint = await withOpen(dir, (ledger) => ledger.checkpoint());
      // Drop events 7..9 and move the head to 6; the rebuild makes projections and tree fit the shorter log.
      await editStore(dir, async ({ log }) => {
        for (const seq of [7, 8, 9]) await log.del(seqKey(seq));
      });
      await moveHead(dir, 6);
      await withOpen(dir, async (ledger) => {
        await ledger.rebuild();
        expect(await findings(ledger)).toEqual([]);
        expect(await findings(ledger, { checkpoint })).toEqual([[null, 'CHECKPOINT_TRUNCATED']]);
        // The ledger refuses to hand out proofs against what it no longer holds.
        expect(await codeOf(() => ledger.proveInclusion(0, checkpoint))).toBe('CHECKPOINT_MISMATCH');
      });
    });
  });

  it('reports an event rewritten below the checkpoint size as CHECKPOINT_MISMATCH, besides the chain failures', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 10);
      const checkpoint = await withOpen(dir, (ledger) => ledger.checkpoint());
      await rewriteEvent(dir, 4, { n: 999 }, false);
      await withOpen(dir, async (ledger) => {
        // The stored tree still commits to the old event 4: every stored node above its leaf (completed by
        // events 5 and 7) differs from what the log now implies. Leaves are not stored (SPEC §17.2).
        expect(await findings(ledger, { checkpoint })).toEqual([
          [5, 'BAD_PREV'],
          [5, 'TREE_MISMATCH'],
          [7, 'TREE_MISMATCH'],
          [9, 'CHECKPOINT_MISMATCH'],
        ]);
      });
    });
  });

  it('reports a history rewritten and re-signed with the owner key, projections rebuilt, only as CHECKPOINT_MISMATCH', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 10);
      const checkpoint = await withOpen(dir, (ledger) => ledger.checkpoint());
      await rewriteEvent(dir, 4, { n: 999 }, true);
      await withOpen(dir, async (ledger) => {
        await ledger.rebuild();
        expect(await findings(ledger)).toEqual([]);
        expect(await findings(ledger, { checkpoint })).toEqual([[9, 'CHECKPOINT_MISMATCH']]);
        expect(await codeOf(() => ledger.proveInclusion(2, checkpoint))).toBe('CHECKPOINT_MISMATCH');
      });
    });
  });

  it('reports a checkpoint whose root fits but whose chain head is another event as CHECKPOINT_MISMATCH', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 6);
      await withOpen(dir, async (ledger) => {
        const { rootHash, size } = parseCheckpoint(parseSignedNote(await ledger.checkpoint()).text);
        const wrongHead = Buffer.from((await ledger.get(size - 2)).hash, 'hex');
        const checkpoint = signCheckpoint(ledger.id!, size, rootHash, wrongHead, ownerKey);
        expect(await findings(ledger, { checkpoint })).toEqual([[size - 1, 'CHECKPOINT_MISMATCH']]);
        expect(await codeOf(() => ledger.proveInclusion(0, checkpoint))).toBe('CHECKPOINT_MISMATCH');
      });
    });
  });

  it('reports a fork: a copy of the ledger held to the other copy\'s later checkpoint fails with CHECKPOINT_MISMATCH', async () => {
    await withTempDir(async (root) => {
      const [a, b] = [join(root, 'a'), join(root, 'b')];
      await createLedger(a, 5);
      await cp(a, b, { recursive: true });
      await withOpen(a, (ledger) => ledger.appendMany(notes(100, 5)));
      const [checkpointB7, checkpointB10] = await withOpen(b, async (ledger) => {
        await ledger.appendMany(notes(200, 2));
        const at7 = await ledger.checkpoint();
        await ledger.appendMany(notes(300, 3));
        return [at7, await ledger.checkpoint()];
      });
      await withOpen(a, async (ledger) => {
        expect(await findings(ledger, { checkpoint: checkpointB10 })).toEqual([[9, 'CHECKPOINT_MISMATCH']]);
        expect(await findings(ledger, { checkpoint: checkpointB7 })).toEqual([[6, 'CHECKPOINT_MISMATCH']]);
        expect(await codeOf(() => ledger.proveInclusion(0, checkpointB10))).toBe('CHECKPOINT_MISMATCH');
        expect(await codeOf(() => ledger.proveConsistency(checkpointB7, checkpointB10))).toBe('CHECKPOINT_MISMATCH');
      });
    });
  });

  it('throws CHECKPOINT_FOREIGN for a checkpoint of another ledger, changing nothing', async () => {
    await withTempDir(async (root) => {
      const [dir, otherDir] = [join(root, 'ledger'), join(root, 'other')];
      await createLedger(dir, 3);
      await createLedger(otherDir, 3);
      const foreign = await withOpen(otherDir, (ledger) => ledger.checkpoint());
      await expectStoreUnchanged(dir, async (ledger) => {
        expect(await codeOf(() => ledger.verify({ checkpoint: foreign }))).toBe('CHECKPOINT_FOREIGN');
        expect(await codeOf(() => ledger.proveInclusion(0, foreign))).toBe('CHECKPOINT_FOREIGN');
        expect(await codeOf(() => ledger.bundle('x', { checkpoint: foreign }))).toBe('CHECKPOINT_FOREIGN');
      });
    });
  });

  it('throws CHECKPOINT_MALFORMED for what is no checkpoint, or one of an empty tree', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 3);
      const ledgerId = await withOpen(dir, async (ledger) => ledger.id!);
      // Validly signed by the owner, but a provledger checkpoint covers at least the genesis.
      const empty = signCheckpoint(ledgerId, 0, EMPTY_ROOT, new Uint8Array(32), ownerKey);
      await expectStoreUnchanged(dir, async (ledger) => {
        for (const text of ['', 'not a checkpoint\n', empty]) {
          expect(await codeOf(() => ledger.verify({ checkpoint: text }))).toBe('CHECKPOINT_MALFORMED');
          expect(await codeOf(() => ledger.proveInclusion(0, text))).toBe('CHECKPOINT_MALFORMED');
        }
      });
    });
  });

  it('throws CHECKPOINT_UNTRUSTED for an altered signature or a key the ledger never had, unless trustedKeys names it', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 3);
      const checkpoint = await withOpen(dir, (ledger) => ledger.checkpoint());
      const altered = breakCheckpointSignature(checkpoint);
      const byMallory = resign(checkpoint, mallory);
      expect(altered).not.toBe(checkpoint);
      await expectStoreUnchanged(dir, async (ledger) => {
        expect(await codeOf(() => ledger.verify({ checkpoint: altered }))).toBe('CHECKPOINT_UNTRUSTED');
        expect(await codeOf(() => ledger.verify({ checkpoint: byMallory }))).toBe('CHECKPOINT_UNTRUSTED');
        expect(await codeOf(() => ledger.proveInclusion(0, byMallory))).toBe('CHECKPOINT_UNTRUSTED');
        expect(await codeOf(() => ledger.verify({ checkpoint: byMallory, trustedKeys: [{ publicKey: otherKey.publicKey }] }))).toBe('CHECKPOINT_UNTRUSTED');
        expect(await codeOf(() => ledger.verify({ checkpoint: altered, trustedKeys: trustOwner }))).toBe('CHECKPOINT_UNTRUSTED');
      });
      await withOpen(dir, async (ledger) => {
        expect(await findings(ledger, { checkpoint: byMallory, trustedKeys: [{ publicKey: mallory.publicKey }] })).toEqual([]);
      });
    });
  });

  it('accepts a revoked key\'s checkpoint made before the revocation, though it can make none after (KEY_NOT_AUTHORIZED)', async () => {
    // acceptCheckpoint trusts every key the ledger has EVER authorised: checkpoints carry no date, so a later
    // revocation cannot be placed against one.
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 2);
      const before = await withOpen(dir, async (ledger) => {
        await ledger.keys.add(otherKey.publicKeyHex, { role: 'writer', name: 'alice' });
        const made = await ledger.checkpoint({ key: otherKey });
        await ledger.keys.revoke(otherKey.publicKeyHex);
        return made;
      });
      await expectStoreUnchanged(dir, async (ledger) => {
        expect(await codeOf(() => ledger.checkpoint({ key: otherKey }))).toBe('KEY_NOT_AUTHORIZED');
        expect(await codeOf(() => ledger.checkpoint({ key: mallory }))).toBe('KEY_NOT_AUTHORIZED');
        expect(await findings(ledger, { checkpoint: before })).toEqual([]);
      });
      await expectStoreUnchanged(dir, async (ledger) => {
        expect(await codeOf(() => ledger.checkpoint())).toBe('KEY_NOT_AUTHORIZED');
      }, otherKey);
    });
  });

  it('changes nothing when a proof is refused for a mismatching checkpoint', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 6);
      const checkpoint = await withOpen(dir, (ledger) => ledger.checkpoint());
      await rewriteEvent(dir, 2, { n: 999 }, true);
      await withOpen(dir, (ledger) => ledger.rebuild());
      await expectStoreUnchanged(dir, async (ledger) => {
        expect(await codeOf(() => ledger.proveInclusion(1, checkpoint))).toBe('CHECKPOINT_MISMATCH');
        expect(await codeOf(() => ledger.proveConsistency(checkpoint, checkpoint))).toBe('CHECKPOINT_MISMATCH');
        expect(await findings(ledger, { checkpoint })).toEqual([[5, 'CHECKPOINT_MISMATCH']]);
      });
    });
  });
});

/**
 * The ledger of the tree tests: 11 events, so the tree has peaks (3,0), (1,4) and (0,10). A node (level, index)
 * is completed by event (index + 1)·2^level − 1, which is also the seq in its key.
 */
const TREE_SIZE = 11;
const completedBy = (level: number, index: number) => (index + 1) * 2 ** level - 1;

describe('SPEC §17.2: verify checks the stored Merkle tree node by node', () => {
  it.each([
    { name: 'a node over two events', level: 1, index: 2 },
    { name: 'an interior node', level: 2, index: 0 },
    { name: 'a peak', level: 1, index: 4 },
  ])('reports a changed node ($name) as TREE_MISMATCH at the event that completed it', async ({ level, index }) => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, TREE_SIZE);
      await editIndexes(dir, async (ix) => {
        const stored = (await ix.mt.get(keys.node(level, index)))!;
        expect(stored).toHaveLength(32);
        await ix.mt.put(keys.node(level, index), Uint8Array.from(stored, (byte, i) => (i === 0 ? byte ^ 0x80 : byte)));
      });
      await withOpen(dir, async (ledger) => expect(await findings(ledger)).toEqual([[completedBy(level, index), 'TREE_MISMATCH']]));
    });
  });

  it('reports a deleted node as TREE_MISMATCH at the event that completed it', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, TREE_SIZE);
      await editIndexes(dir, (ix) => ix.mt.del(keys.node(1, 2)));
      await withOpen(dir, async (ledger) => expect(await findings(ledger)).toEqual([[completedBy(1, 2), 'TREE_MISMATCH']]));
    });
  });

  it.each([
    { name: 'a node past the last event', key: () => keys.node(0, TREE_SIZE + 3) },
    { name: 'a node at a level no event reaches', key: () => keys.node(5, 0) },
    { name: 'a key that is no node position at all', key: () => new Uint8Array([1, 2, 3]) },
  ])('reports a stray extra entry ($name) as TREE_MISMATCH for the whole ledger (seq null)', async ({ key }) => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, TREE_SIZE);
      await editIndexes(dir, (ix) => ix.mt.put(key(), new Uint8Array(32).fill(7)));
      await withOpen(dir, async (ledger) => expect(await findings(ledger)).toEqual([[null, 'TREE_MISMATCH']]));
    });
  });

  it('reports an emptied tree index once, as TREE_MISMATCH for the whole ledger, and still checks a checkpoint', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, TREE_SIZE);
      const [checkpoint, wrongRoot] = await withOpen(dir, async (ledger) => {
        const head = (await ledger.head())!;
        return [await ledger.checkpoint(), signCheckpoint(ledger.id!, TREE_SIZE, new Uint8Array(32), Buffer.from(head.hash, 'hex'), ownerKey)];
      });
      await editIndexes(dir, (ix) => ix.mt.clear());
      await withOpen(dir, async (ledger) => {
        // The tree is computed from the log all the same, so the checkpoint is still held to it.
        expect(await findings(ledger, { checkpoint })).toEqual([[null, 'TREE_MISMATCH']]);
        expect(await findings(ledger, { checkpoint: wrongRoot })).toEqual([[TREE_SIZE - 1, 'CHECKPOINT_MISMATCH'], [null, 'TREE_MISMATCH']]);
        expect(await codeOf(() => ledger.append(note(1)))).toBe('STORE_CORRUPT');
      });
    });
  });
});

describe('SPEC §17.2, §12.5: rebuild restores the stored tree byte for byte', () => {
  it.each([
    { name: 'changed, deleted and stray nodes', edit: async (ix: RawIndexes) => {
      await ix.mt.put(keys.node(2, 0), new Uint8Array(32));
      await ix.mt.del(keys.node(1, 4));
      await ix.mt.put(keys.node(0, 40), new Uint8Array(32).fill(1));
    } },
    { name: 'an emptied index', edit: (ix: RawIndexes) => ix.mt.clear() },
  ])('after $name', async ({ edit }) => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, TREE_SIZE);
      const tree = await treeEntries(dir);
      // Every complete subtree of two or more leaves is kept, not only the peaks: n − popcount(n) nodes, 8 for 11 events.
      expect(tree).toHaveLength(8);
      const store = await dumpStore(dir);
      await editIndexes(dir, edit);
      expect(await treeEntries(dir)).not.toEqual(tree);
      await withOpen(dir, (ledger) => ledger.rebuild());
      // Not only the tree: the whole store is as the appends left it.
      expect(await treeEntries(dir)).toEqual(tree);
      expect(await dumpStore(dir)).toEqual(store);
      await withOpen(dir, async (ledger) => {
        await ledger.append(note(99)); // the frontier was reloaded from the rebuilt peaks: appends extend the right tree
        expect(await findings(ledger)).toEqual([]);
      });
    });
  });
});

describe('SPEC §17.2: a damaged tree refuses appends and proofs, but can be verified', () => {
  it.each([
    { name: 'with no earlier checkpoint', earlier: false },
    { name: 'after an earlier checkpoint by the same key', earlier: true },
  ])('never signs a checkpoint over a changed peak ($name): the root is recomputed from the log (SPEC §17.3)', async ({ earlier }) => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, createOptions());
      try {
        await ledger.appendMany(notes(1, 4));
        if (earlier) await ledger.checkpoint(); // size 5: only events 5..10 are re-hashed later
        await ledger.appendMany(notes(5, TREE_SIZE - 5));
      } finally {
        await ledger.close();
      }
      // A consistent forgery of the in-memory state: the peak (1,4) over events 8..9 is replaced.
      await editIndexes(dir, (ix) => ix.mt.put(keys.node(1, 4), new Uint8Array(32).fill(3)));
      await expectStoreUnchanged(dir, async (damaged) => {
        expect(await codeOf(() => damaged.checkpoint())).toBe('STORE_CORRUPT');
      });
      await withOpen(dir, (repaired) => repaired.rebuild());
      await withOpen(dir, async (repaired) => {
        const checkpoint = await repaired.checkpoint();
        expect(await findings(repaired, { checkpoint })).toEqual([]);
      });
    });
  });

  it('opens with a missing peak: appends and checkpoints are refused (STORE_CORRUPT), verify names the node', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, TREE_SIZE);
      await editIndexes(dir, (ix) => ix.mt.del(keys.node(1, 4)));
      await expectStoreUnchanged(dir, async (ledger) => {
        expect(await codeOf(() => ledger.append(note(1)))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => ledger.checkpoint())).toBe('STORE_CORRUPT');
        expect(await codeOf(() => ledger.proveInclusion(0))).toBe('STORE_CORRUPT');
        expect(await findings(ledger)).toEqual([[completedBy(1, 4), 'TREE_MISMATCH']]);
        expect((await ledger.get(10)).seq).toBe(10);
      });
    });
  });

  it.each([
    { name: 'changed', edit: (ix: RawIndexes) => ix.mt.put(keys.node(1, 3), new Uint8Array(32).fill(9)) },
    { name: 'deleted', edit: (ix: RawIndexes) => ix.mt.del(keys.node(1, 3)) },
  ])('refuses proofs whose path crosses a $name node (STORE_CORRUPT), and still serves the others', async ({ edit }) => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, createOptions());
      const checkpoints: string[] = [];
      try {
        await ledger.appendMany(notes(1, 4));
        checkpoints.push(await ledger.checkpoint()); // size 5: peaks (2,0), (0,4); node (1,3) is no part of it
        await ledger.appendMany(notes(5, TREE_SIZE - 5));
        checkpoints.push(await ledger.checkpoint());
      } finally {
        await ledger.close();
      }
      const [at5, at11] = checkpoints as [string, string];
      await editIndexes(dir, edit);
      await expectStoreUnchanged(dir, async (damaged) => {
        // Leaf 4's audit path is leaf 5, then node (1,3) over events 6..7.
        expect(await codeOf(() => damaged.proveInclusion(4, at11))).toBe('STORE_CORRUPT');
        // The consistency proof from 5 to 11 needs MTH(D[6:8]), the damaged node.
        expect(await codeOf(() => damaged.proveConsistency(at5, at11))).toBe('STORE_CORRUPT');
        // Leaf 9's path crosses only nodes of [8, 11) and the intact (3,0).
        expect(verifyInclusion(await damaged.proveInclusion(9, at11), { trustedKeys: trustOwner }).ok).toBe(true);
      });
    });
  });
});

/**
 * The ledger of the bundle tests. The owner adds alice as a writer; the record `m` is created by the owner,
 * updated by alice and deleted by the owner; another record `n` and notes are interleaved.
 *   0 genesis · 1 note · 2 key.add alice · 3 create m · 4 create n · 5 update m (alice) · 6 note (alice) · 7 delete m
 */
const BUNDLE_SEQ = { keyAdd: 2, create: 3, otherCreate: 4, update: 5, delete: 7 } as const;

async function buildBundleLedger(dir: string): Promise<void> {
  const owner = await Ledger.create(dir, createOptions());
  try {
    await owner.append(note(1));
    await owner.keys.add(otherKey.publicKeyHex, { role: 'writer', name: 'alice' });
    await owner.records.create('model', { layers: 50 }, { id: 'm' });
    await owner.records.create('dataset', { rows: 10 }, { id: 'n' });
  } finally {
    await owner.close();
  }
  await withOpen(dir, async (alice) => {
    await alice.records.update('m', { layers: 51 });
    await alice.append(note(2));
  }, otherKey);
  await withOpen(dir, async (owner) => {
    await owner.records.delete('m');
    expect((await owner.head())!.seq).toBe(BUNDLE_SEQ.delete);
  });
}

interface BundleJson {
  format: string;
  record: string;
  checkpoint: string;
  events: { seq: number; event: string; proof: string[] }[];
}

/** Builds the bundle ledger and the bundle of `m` against a checkpoint of all 8 events, for `use`. */
function withBundle(use: (bundle: string, dir: string) => Promise<void>): Promise<void> {
  return withTempDir(async (root) => {
    const dir = join(root, 'ledger');
    await buildBundleLedger(dir);
    const bundle = await withOpen(dir, (ledger) => ledger.bundle('m'));
    await use(bundle, dir);
  });
}

/** Edits the bundle's JSON and gives back its text. */
function editBundle(bundle: string, edit: (json: BundleJson) => void): string {
  const json = JSON.parse(bundle) as BundleJson;
  edit(json);
  return JSON.stringify(json, null, 2);
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The same bytes in base64 that is not canonical: the lowest (padding) bit of the last data character set. */
function setPaddingBit(base64: string): string {
  const last = base64.replace(/=+$/, '').length - 1;
  return `${base64.slice(0, last)}${BASE64_ALPHABET[BASE64_ALPHABET.indexOf(base64[last]!) | 1]}${base64.slice(last + 1)}`;
}

const verdictCode = (text: string, trustedKeys: readonly TrustedKey[] = trustOwner) => {
  const verdict = verifyBundle(text, { trustedKeys });
  return verdict.ok ? 'ok' : verdict.code;
};

describe('SPEC §17.7: a bundle proves one record\'s history offline', () => {
  it('verifies with only the owner\'s key, listing every version with who wrote it', async () => {
    await withBundle(async (bundle, dir) => {
      const json = JSON.parse(bundle) as BundleJson;
      expect(json.events.map((e) => e.seq)).toEqual([0, BUNDLE_SEQ.keyAdd, BUNDLE_SEQ.create, BUNDLE_SEQ.update, BUNDLE_SEQ.delete]);
      const verdict = verifyBundle(bundle, { trustedKeys: trustOwner });
      expect(verdict.ok).toBe(true);
      if (!verdict.ok) return;
      const [ledgerId, created, updated, deleted] = await withOpen(dir, async (ledger) => [
        ledger.id,
        ...(await Promise.all([BUNDLE_SEQ.create, BUNDLE_SEQ.update, BUNDLE_SEQ.delete].map(async (seq) => (await ledger.get(seq)).timeMs))),
      ]);
      expect(verdict.ledgerId).toBe(ledgerId);
      expect(verdict.keyChanges).toBe(1);
      expect(verdict.signedBy).toEqual([ownerKey.publicKeyHex]);
      expect(verdict.record).toEqual({
        id: 'm',
        kind: 'model',
        versions: [
          { version: 1, op: 'create', seq: BUNDLE_SEQ.create, timeMs: created, author: ownerKey.publicKeyHex, authorLabel: 'owner (admin)', data: { layers: 50 } },
          { version: 2, op: 'update', seq: BUNDLE_SEQ.update, timeMs: updated, author: otherKey.publicKeyHex, authorLabel: 'alice (writer)', data: { layers: 51 } },
          { version: 3, op: 'delete', seq: BUNDLE_SEQ.delete, timeMs: deleted, author: ownerKey.publicKeyHex, authorLabel: 'owner (admin)', data: null },
        ],
        invalidations: [],
      });
    });
  });

  it('refuses a bundle of a record the checkpoint does not cover yet (RECORD_NOT_FOUND)', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 3);
      await withOpen(dir, async (ledger) => {
        const early = await ledger.checkpoint();
        await ledger.records.create('model', { layers: 1 }, { id: 'late' });
        expect(await codeOf(() => ledger.bundle('late', { checkpoint: early }))).toBe('RECORD_NOT_FOUND');
        expect(await codeOf(() => ledger.bundle('never'))).toBe('RECORD_NOT_FOUND');
        expect(verdictCode(await ledger.bundle('late'))).toBe('ok');
      });
    });
  });
});

describe('SPEC §17.7: a bundle that was tampered with fails with the code of what is wrong', () => {
  it('EVENT_INVALID or INCLUSION_FAILED: any byte of any event changed', async () => {
    await withBundle(async (bundle) => {
      const json = JSON.parse(bundle) as BundleJson;
      for (const [i, entry] of json.events.entries()) {
        const length = Buffer.from(entry.event, 'base64').length;
        for (const offset of [0, 7, 40, Math.floor(length / 2), length - 1]) {
          const changed = editBundle(bundle, (j) => {
            const bytes = Buffer.from(j.events[i]!.event, 'base64');
            bytes[offset] = bytes[offset]! ^ 0x01;
            j.events[i]!.event = bytes.toString('base64');
          });
          expect(['EVENT_INVALID', 'INCLUSION_FAILED'], `event ${entry.seq} byte ${offset}`).toContain(verdictCode(changed));
        }
      }
    });
  });

  it('INCLUSION_FAILED: one proof hash changed', async () => {
    await withBundle(async (bundle) => {
      const changed = editBundle(bundle, (j) => {
        const hash = Buffer.from(j.events[3]!.proof[0]!, 'base64');
        hash[0] = hash[0]! ^ 0x01;
        j.events[3]!.proof[0] = hash.toString('base64');
      });
      expect(verdictCode(changed)).toBe('INCLUSION_FAILED');
      expect(verdictCode(editBundle(bundle, (j) => j.events[3]!.proof.pop()))).toBe('INCLUSION_FAILED');
      // An event moved to another seq, still in order: it says where it belongs.
      expect(verdictCode(editBundle(bundle, (j) => (j.events[4]!.seq = BUNDLE_SEQ.delete - 1)))).toBe('EVENT_INVALID');
    });
  });

  it('UNTRUSTED_CHECKPOINT: the checkpoint signed by a key the verifier does not trust', async () => {
    await withBundle(async (bundle) => {
      expect(verdictCode(bundle, [{ publicKey: mallory.publicKey }])).toBe('UNTRUSTED_CHECKPOINT');
      expect(verdictCode(bundle, [])).toBe('UNTRUSTED_CHECKPOINT');
      const byMallory = editBundle(bundle, (j) => (j.checkpoint = resign(j.checkpoint, mallory)));
      expect(verdictCode(byMallory)).toBe('UNTRUSTED_CHECKPOINT');
      expect(verdictCode(byMallory, [{ publicKey: mallory.publicKey }])).toBe('ok');
      expect(verdictCode(editBundle(bundle, (j) => (j.checkpoint = breakCheckpointSignature(j.checkpoint))))).toBe('UNTRUSTED_CHECKPOINT');
    });
  });

  it('HISTORY_INCOMPLETE: the genesis or a middle version left out', async () => {
    await withBundle(async (bundle) => {
      expect(verdictCode(editBundle(bundle, (j) => j.events.shift()))).toBe('HISTORY_INCOMPLETE');
      expect(verdictCode(editBundle(bundle, (j) => (j.events = j.events.filter((e) => e.seq !== BUNDLE_SEQ.update))))).toBe('HISTORY_INCOMPLETE');
      expect(verdictCode(editBundle(bundle, (j) => (j.events = j.events.filter((e) => e.seq !== BUNDLE_SEQ.create))))).toBe('HISTORY_INCOMPLETE');
      expect(verdictCode(editBundle(bundle, (j) => (j.events = j.events.filter((e) => e.seq < BUNDLE_SEQ.create))))).toBe('HISTORY_INCOMPLETE');
    });
  });

  it('MALFORMED: an event of another record slipped in, with its valid proof', async () => {
    await withBundle(async (bundle, dir) => {
      const other = JSON.parse(await withOpen(dir, (ledger) => ledger.bundle('n'))) as BundleJson;
      const intruder = other.events.find((e) => e.seq === BUNDLE_SEQ.otherCreate)!;
      const changed = editBundle(bundle, (j) => {
        j.events.push(intruder);
        j.events.sort((x, y) => x.seq - y.seq);
      });
      expect(verdictCode(changed)).toBe('MALFORMED');
      expect(verdictCode(JSON.stringify(other))).toBe('ok');
    });
  });

  it('AUTHOR_UNAUTHORIZED: the key.add of the writer left out', async () => {
    await withBundle(async (bundle) => {
      expect(verdictCode(editBundle(bundle, (j) => (j.events = j.events.filter((e) => e.seq !== BUNDLE_SEQ.keyAdd))))).toBe('AUTHOR_UNAUTHORIZED');
    });
  });

  it('AUTHOR_UNAUTHORIZED: a writer\'s event forged into the log after its key was revoked', async () => {
    await withBundle(async (_bundle, dir) => {
      await withOpen(dir, (ledger) => ledger.keys.revoke(otherKey.publicKeyHex));
      // A validly signed, chained record.create by alice after her revocation; projections rebuilt to fit.
      await appendForged(dir, [{ type: 'record.create', payload: { id: 'z', kind: 'model', version: 1, data: { x: 1 } }, key: otherKey }]);
      await withOpen(dir, async (ledger) => {
        await ledger.rebuild();
        expect((await findings(ledger)).map(([, code]) => code)).toEqual(['KEY_REVOKED']);
        // The ledger refuses to sign a checkpoint of a log that fails verify (SPEC §17.3): the owner signs one by hand.
        expect(await codeOf(() => ledger.bundle('z'))).toBe('STORE_CORRUPT');
        const frontier = Frontier.empty();
        for await (const event of ledger.events()) frontier.append(leafHash(Buffer.from(event.hash, 'hex')));
        const head = (await ledger.head())!;
        const checkpoint = signCheckpoint(ledger.id!, head.seq + 1, frontier.root(), Buffer.from(head.hash, 'hex'), ownerKey);
        expect(verdictCode(await ledger.bundle('z', { checkpoint }))).toBe('AUTHOR_UNAUTHORIZED');
      });
    });
  });

  it.each([
    ['garbage', () => 'not json {'],
    ['JSON that is not an object', () => '[1,2,3]'],
    ['an extra top-level field', (b: string) => editBundle(b, (j) => Object.assign(j, { note: 'hi' }))],
    ['an extra field in an event', (b: string) => editBundle(b, (j) => Object.assign(j.events[1]!, { extra: 1 }))],
    ['a missing field', (b: string) => editBundle(b, (j) => delete (j as Partial<BundleJson>).record)],
    ['another format', (b: string) => editBundle(b, (j) => (j.format = 'provledger-bundle@v2'))],
    ['no events', (b: string) => editBundle(b, (j) => (j.events = []))],
    ['a seq that is not an integer', (b: string) => editBundle(b, (j) => (j.events[1]!.seq = 1.5))],
    ['unpadded base64', (b: string) => editBundle(b, (j) => (j.events[1]!.proof[0] = j.events[1]!.proof[0]!.replace(/=+$/, '')))],
    ['base64 with a padding bit set in its last character', (b: string) => editBundle(b, (j) => (j.events[1]!.proof[0] = setPaddingBit(j.events[1]!.proof[0]!)))],
    ['url-safe base64', (b: string) => editBundle(b, (j) => (j.events[0]!.event = Buffer.from(j.events[0]!.event, 'base64').toString('base64url')))],
    ['a proof hash of 31 bytes', (b: string) => editBundle(b, (j) => (j.events[1]!.proof[0] = Buffer.alloc(31).toString('base64')))],
    ['two events swapped', (b: string) => editBundle(b, (j) => ([j.events[1], j.events[2]] = [j.events[2]!, j.events[1]!]))],
    ['an event repeated', (b: string) => editBundle(b, (j) => j.events.splice(3, 0, j.events[3]!))],
  ])('MALFORMED: %s', async (_name, make) => {
    await withBundle(async (bundle) => {
      const text = make(bundle);
      expect(text).not.toBe(bundle);
      expect(verdictCode(text)).toBe('MALFORMED');
    });
  });
});

describe('SPEC §17.6: the offline verifiers trust only the caller\'s keys', () => {
  it('accept a checkpoint and an inclusion proof with the owner\'s key, and nothing signed by another', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 4);
      await withOpen(dir, async (ledger) => {
        const checkpoint = await ledger.checkpoint();
        const proof = await ledger.proveInclusion(2, checkpoint);
        expect(verifyCheckpoint(checkpoint, trustOwner)).toMatchObject({ ok: true, signedBy: [ownerKey.publicKeyHex] });
        expect(verifyCheckpoint(checkpoint, [{ publicKey: mallory.publicKey }])).toMatchObject({ ok: false, code: 'UNTRUSTED_CHECKPOINT' });
        expect(verifyCheckpoint(checkpoint, [{ publicKey: ownerKey.publicKey, name: 'someone.else/log' }])).toMatchObject({ ok: false, code: 'UNTRUSTED_CHECKPOINT' });
        expect(verifyCheckpoint('not a checkpoint', trustOwner)).toMatchObject({ ok: false, code: 'MALFORMED' });
        expect(verifyInclusion(proof, { trustedKeys: trustOwner })).toMatchObject({ ok: true, index: 2, event: { seq: 2, hash: (await ledger.get(2)).hash } });
        expect(verifyInclusion(proof, { trustedKeys: [{ publicKey: mallory.publicKey }] })).toMatchObject({ ok: false, code: 'UNTRUSTED_CHECKPOINT' });
      });
    });
  });
});

describe('SPEC §17.7: a lineage bundle carries the records upstream and the links between them', () => {
  type BundleJson = { upstream: string[]; events: { seq: number; event: string; proof: string[] }[] } & Record<string, unknown>;
  const edit = (text: string, change: (bundle: BundleJson) => void) => {
    const bundle = JSON.parse(text) as BundleJson;
    change(bundle);
    bundle.events.sort((a, b) => a.seq - b.seq);
    return JSON.stringify(bundle);
  };

  /** d (dataset) and s (software) used by run r, which generated model m; x is unrelated. Returns three bundles against one checkpoint. */
  async function build(dir: string) {
    const ledger = await Ledger.create(dir, createOptions());
    try {
      for (const [kind, id] of [['dataset', 'd'], ['software', 's'], ['run', 'r'], ['model', 'm'], ['dataset', 'x']] as const) await ledger.records.create(kind, { name: id }, { id });
      await ledger.records.update('d', { name: 'd', fixed: true });
      await ledger.links.add({ from: 'r', to: 'd', rel: 'used', role: 'train' });
      await ledger.links.add({ from: 'r', to: 's', rel: 'used', role: 'code' });
      await ledger.links.add({ from: 'r', to: 'm', rel: 'generated' });
      const checkpoint = await ledger.checkpoint();
      return {
        lineage: await ledger.bundle('m', { checkpoint, lineage: true }),
        plain: await ledger.bundle('m', { checkpoint }),
        unrelated: await ledger.bundle('x', { checkpoint }),
      };
    } finally {
      await ledger.close();
    }
  }

  it('verifies offline: the root, each upstream record with every version, and the links in place', async () => {
    await withTempDir(async (root) => {
      const { lineage } = await build(join(root, 'ledger'));
      const verdict = verifyBundle(lineage, { trustedKeys: trustOwner });
      expect(verdict.ok).toBe(true);
      if (!verdict.ok) return;
      expect(verdict.record.id).toBe('m');
      expect(verdict.upstream.map((r) => [r.id, r.kind, r.versions.length])).toEqual([
        ['r', 'run', 1],
        ['d', 'dataset', 2],
        ['s', 'software', 1],
      ]);
      expect(verdict.links.map((l) => `${l.from} ${l.rel} ${l.to}`).sort()).toEqual(['r generated m', 'r used d', 'r used s']);
    });
  });

  it.each([
    { name: 'the link that reaches an upstream record is left out', change: (b: BundleJson, seqs: Seqs) => void (b.events = b.events.filter((e) => e.seq !== seqs.usedD)), code: 'HISTORY_INCOMPLETE' },
    { name: 'an upstream record’s create is left out', change: (b: BundleJson, seqs: Seqs) => void (b.events = b.events.filter((e) => e.seq !== seqs.createD)), code: 'HISTORY_INCOMPLETE' },
    { name: 'a record is listed upstream that no link reaches', change: (b: BundleJson) => void b.upstream.push('x'), code: 'HISTORY_INCOMPLETE' },
  ])('fails when $name ($code)', async ({ change, code }) => {
    await withTempDir(async (root) => {
      const { lineage } = await build(join(root, 'ledger'));
      const seqs = seqsOf(lineage);
      expect(verifyBundle(edit(lineage, (b) => change(b, seqs)), { trustedKeys: trustOwner })).toMatchObject({ ok: false, code });
    });
  });

  it('refuses events of a record it does not cover, and link events in a bundle without lineage (MALFORMED)', async () => {
    await withTempDir(async (root) => {
      const { lineage, plain, unrelated } = await build(join(root, 'ledger'));
      // Both events are genuine and carry valid proofs against the same checkpoint: only their place is wrong.
      const xCreate = (JSON.parse(unrelated) as BundleJson).events.find((e) => e.seq === seqsOf(unrelated).createX)!;
      const usedD = (JSON.parse(lineage) as BundleJson).events.find((e) => e.seq === seqsOf(lineage).usedD)!;
      expect(verifyBundle(edit(lineage, (b) => void b.events.push(xCreate)), { trustedKeys: trustOwner })).toMatchObject({ ok: false, code: 'MALFORMED' });
      expect(verifyBundle(edit(plain, (b) => void b.events.push(usedD)), { trustedKeys: trustOwner })).toMatchObject({ ok: false, code: 'MALFORMED' });
      expect(verifyBundle(plain, { trustedKeys: trustOwner })).toMatchObject({ ok: true, upstream: [], links: [] });
    });
  });
});

type Seqs = { createD: number; createX: number; usedD: number };

/** The seqs of the events the lineage tests change, read from a bundle's own events. */
function seqsOf(text: string): Seqs {
  const seqs: Partial<Seqs> = {};
  for (const entry of (JSON.parse(text) as { events: { seq: number; event: string }[] }).events) {
    const { body } = openEvent(new Uint8Array(Buffer.from(entry.event, 'base64')));
    const payload = body.payload as Record<string, unknown>;
    if (body.type === 'record.create' && payload['id'] === 'd') seqs.createD = entry.seq;
    if (body.type === 'record.create' && payload['id'] === 'x') seqs.createX = entry.seq;
    if (body.type === 'link.add' && payload['to'] === 'd') seqs.usedD = entry.seq;
  }
  return seqs as Seqs;
}

describe('SPEC §17.3: a key never signs a checkpoint of bytes changed on disk', () => {
  /** Replaces the last event by one with the same place in the chain, signed by `key`, and points the head at it. */
  async function replaceLast(dir: string, key: SigningKey): Promise<void> {
    await editStore(dir, async ({ log, meta }) => {
      let last = 0;
      for await (const k of log.keys()) last = Number(new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0));
      const old = openEvent((await log.get(seqKey(last)))!);
      const forged = sealEvent({ ...old.body, author: key.publicKey, payload: { n: -1 } }, key);
      await log.put(seqKey(last), forged.bytes);
      await meta.put(HEAD_KEY, encodeCanonical({ seq: last, hash: forged.hash, ts: forged.body.ts }));
    });
  }

  it('refuses (STORE_CORRUPT) when the log fails the chain checks and no earlier checkpoint of the key exists', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 6);
      await replaceLast(dir, otherKey); // validly signed, by a key the ledger never authorised
      await withOpen(dir, async (ledger) => expect(await codeOf(() => ledger.checkpoint())).toBe('STORE_CORRUPT'));
    });
  });

  it('checks the events since the key’s previous checkpoint: a forged one after it is refused', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 4);
      await withOpen(dir, async (ledger) => {
        await ledger.checkpoint();
        await ledger.appendMany(notes(10, 2));
      });
      await replaceLast(dir, otherKey);
      await withOpen(dir, async (ledger) => expect(await codeOf(() => ledger.checkpoint())).toBe('STORE_CORRUPT'));
    });
  });

  it('refuses a ledger rolled back below the key’s previous checkpoint, instead of starting again from the genesis', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 6);
      await withOpen(dir, (ledger) => ledger.checkpoint());
      await editStore(dir, async ({ log, meta }) => {
        const previous = openEvent((await log.get(seqKey(4)))!);
        await log.del(seqKey(5));
        await meta.put(HEAD_KEY, encodeCanonical({ seq: 4, hash: previous.hash, ts: previous.body.ts }));
      });
      await editIndexes(dir, (ix) => ix.mt.del(keys.node(1, 2))); // the node over events 4..5, which event 5 completed
      await withOpen(dir, async (ledger) => expect(await codeOf(() => ledger.checkpoint())).toBe('STORE_CORRUPT'));
    });
  });

  it('signs the state committed when it was called, even while appends go on', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      await createLedger(dir, 5);
      await withOpen(dir, async (ledger) => {
        const [checkpoint] = await Promise.all([ledger.checkpoint(), ledger.appendMany(notes(20, 3)), ledger.append(note(30))]);
        const verdict = verifyCheckpoint(checkpoint, trustOwner);
        expect(verdict.ok).toBe(true);
        expect((await ledger.verify({ checkpoint })).ok).toBe(true);
      });
    });
  });
});

describe('SPEC §17.7: a bundle carries the record’s invalidations, so a withdrawn dataset never looks clean', () => {
  it('lists each invalidation; one that names a version the bundle does not show is HISTORY_INCOMPLETE', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, createOptions());
      let bundle: string;
      try {
        await ledger.records.create('dataset', { name: 'd' }, { id: 'd' });
        await ledger.records.update('d', { name: 'd', fixed: true });
        await ledger.provenance.invalidate('d', { version: 1, reason: 'labels swapped' });
        bundle = await ledger.bundle('d');
      } finally {
        await ledger.close();
      }
      const verdict = verifyBundle(bundle, { trustedKeys: trustOwner });
      expect(verdict).toMatchObject({ ok: true, record: { id: 'd', invalidations: [{ version: 1, reason: 'labels swapped' }] } });
      // Without the update, the bundle still proves version 1 is invalid; without the create it proves nothing.
      const json = JSON.parse(bundle) as { events: { seq: number }[] };
      const createSeq = json.events[1]!.seq;
      const withoutCreate = JSON.stringify({ ...json, events: json.events.filter((e) => e.seq !== createSeq) });
      expect(verifyBundle(withoutCreate, { trustedKeys: trustOwner })).toMatchObject({ ok: false, code: 'HISTORY_INCOMPLETE' });
    });
  });
});
