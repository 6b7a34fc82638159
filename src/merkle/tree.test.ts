/**
 * The Merkle tree (tree.ts), one describe per rule: the published RFC 6962 vectors; generation through the
 * frontier and a batched node reader equals a deliberately naive implementation of RFC 6962 §2.1 written here;
 * every proof verifies and every tampering is caught; the frontier completes exactly the right nodes; proof
 * generation reads O(log n) nodes in one batch; positions and proofs stay exact beyond 2^32 leaves.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { sha256Reference } from '../crypto/hash.js';
import { isLedgerError } from '../errors.js';
import {
  consistencyProof,
  EMPTY_ROOT,
  foldPeaks,
  Frontier,
  inclusionProof,
  leafHash,
  nodeHash,
  peakPositions,
  rangePositions,
  rootAt,
  verifyConsistency,
  verifyInclusion,
  type NodePosition,
  type NodeReader,
} from './tree.js';

// ---------------------------------------------------------------- the published vectors

/**
 * The RFC 6962 reference data that Certificate Transparency implementations share (google/certificate-
 * transparency-go, Trillian), as published in transparency-dev/merkle: testonly/constants.go (LeafInputs,
 * NodeHashes, RootHashes) and proof/verify_test.go (inclusionProofs, consistencyProofs). Leaves are raw leaf
 * data, hashed with leafHash. verify_test.go numbers leaves from 1; the indexes here are 0-based.
 */
const VECTORS = {
  leaves: ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'],
  /** nodes[level][index]: every complete subtree of the 8-leaf tree. */
  nodes: [
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
      '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
    ],
    [
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    ],
    ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
    ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
  ],
  /** roots[size] for sizes 0..8. */
  roots: [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ],
  inclusion: [
    { index: 0, size: 1, proof: [] },
    {
      index: 0,
      size: 8,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      index: 5,
      size: 8,
      proof: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
    {
      index: 1,
      size: 5,
      proof: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
  ],
  consistency: [
    { m: 1, n: 1, proof: [] },
    {
      m: 1,
      n: 8,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      m: 6,
      n: 8,
      proof: [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      m: 2,
      n: 5,
      proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
    },
    {
      m: 6,
      n: 7,
      proof: [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
  ],
} as const;

// ---------------------------------------------------------------- the naive reference

/** A list of raw leaf data; arrays qualify, and so do `Copies` (a virtual list of one leaf repeated). */
interface LeafList {
  readonly length: number;
  slice(start: number, end: number): LeafList;
  at(index: number): Uint8Array | undefined;
  /** MTH by length, only for lists whose MTH depends on nothing else. */
  readonly memo?: Map<number, Uint8Array>;
}

/**
 * RFC 6962 §2.1 transcribed as literally as possible: recursion over lists of raw data, slicing, explicit
 * concatenation, and the other SHA-256 backend (@noble/hashes). Shares no code with tree.ts.
 */
const naive = {
  hash: (...parts: Uint8Array[]): Uint8Array => sha256Reference(concatBytes(...parts)),

  /** "k is the largest power of two smaller than n" (§2.1). */
  k(n: number): number {
    let power = 1;
    while (power < n) power *= 2;
    return power / 2;
  },

  /** MTH(D[n]) (§2.1). */
  mth(d: LeafList): Uint8Array {
    const known = d.memo?.get(d.length);
    if (known !== undefined) return known;
    const n = d.length;
    let result: Uint8Array;
    if (n === 0) result = naive.hash();
    else if (n === 1) result = naive.hash(new Uint8Array([0x00]), d.at(0)!);
    else {
      const k = naive.k(n);
      result = naive.hash(new Uint8Array([0x01]), naive.mth(d.slice(0, k)), naive.mth(d.slice(k, n)));
    }
    d.memo?.set(n, result);
    return result;
  },

  /** PATH(m, D[n]) (§2.1.1). */
  path(m: number, d: LeafList): Uint8Array[] {
    const n = d.length;
    if (n === 1) return [];
    const k = naive.k(n);
    if (m < k) return [...naive.path(m, d.slice(0, k)), naive.mth(d.slice(k, n))];
    return [...naive.path(m - k, d.slice(k, n)), naive.mth(d.slice(0, k))];
  },

  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.2). */
  proof(m: number, d: LeafList): Uint8Array[] {
    return naive.subproof(m, d, true);
  },

  subproof(m: number, d: LeafList, b: boolean): Uint8Array[] {
    const n = d.length;
    if (m === n) return b ? [] : [naive.mth(d)];
    const k = naive.k(n);
    if (m <= k) return [...naive.subproof(m, d.slice(0, k), b), naive.mth(d.slice(k, n))];
    return [...naive.subproof(m - k, d.slice(k, n), false), naive.mth(d.slice(0, k))];
  },

  /**
   * The shape of PATH(m, D[n]): for each element, leaf side first, whether it is the sibling on the left (L)
   * or the right (R). Two proofs with the same shape make a verifier do the very same hashing.
   */
  pathShape(m: number, n: number): string {
    if (n === 1) return '';
    const k = naive.k(n);
    return m < k ? `${naive.pathShape(m, k)}R` : `${naive.pathShape(m - k, n - k)}L`;
  },

  /** The shape of PROOF(m, D[n]): S when it starts with the seed MTH(D[0:m]) (not sent when b stayed true). */
  proofShape(m: number, n: number, b = true): string {
    if (m === n) return b ? '' : 'S';
    const k = naive.k(n);
    return m <= k ? `${naive.proofShape(m, k, b)}R` : `${naive.proofShape(m - k, n - k, false)}L`;
  },
};

/** `length` copies of one leaf, without the memory: a tree of 2^53 − 1 such leaves has cheap, exact hashes. */
class Copies implements LeafList {
  constructor(
    readonly leaf: Uint8Array,
    readonly length: number,
    readonly memo: Map<number, Uint8Array> = new Map(),
  ) {}
  slice(start: number, end: number): Copies {
    return new Copies(this.leaf, end - start, this.memo);
  }
  at(index: number): Uint8Array | undefined {
    return index >= 0 && index < this.length ? this.leaf : undefined;
  }
}

// ---------------------------------------------------------------- an in-memory store, built from Frontier.append

interface ReadLog {
  calls: number;
  positions: NodePosition[];
}

interface MemoryTree {
  readonly data: Uint8Array[];
  readonly frontier: Frontier;
  readonly nodes: Map<string, Uint8Array>;
  /** A fresh counting reader over the stored nodes, refusing any node outside the first `size` leaves. */
  reader(size?: number): { read: NodeReader; log: ReadLog };
}

const positionKey = (p: NodePosition): string => `${p.level}:${p.index}`;

function memoryTree(data: readonly Uint8Array[]): MemoryTree {
  const frontier = Frontier.empty();
  const nodes = new Map<string, Uint8Array>();
  for (const datum of data) for (const node of frontier.append(leafHash(datum))) nodes.set(positionKey(node), node.hash);
  return {
    data: [...data],
    frontier,
    nodes,
    reader(size = data.length) {
      const log: ReadLog = { calls: 0, positions: [] };
      const read: NodeReader = async (positions) => {
        log.calls += 1;
        log.positions.push(...positions);
        return positions.map((p) => {
          if ((p.index + 1) * 2 ** p.level > size) throw new Error(`node ${positionKey(p)} lies beyond the ${size}-leaf tree`);
          const hash = nodes.get(positionKey(p));
          if (hash === undefined) throw new Error(`node ${positionKey(p)} is missing`);
          return hash;
        });
      };
      return { read, log };
    },
  };
}

/** A reader over `Copies`: every node of level L is the MTH of 2^L copies of the leaf. */
function copiesReader(copies: Copies): { read: NodeReader; log: ReadLog } {
  const log: ReadLog = { calls: 0, positions: [] };
  const read: NodeReader = async (positions) => {
    log.calls += 1;
    log.positions.push(...positions);
    return positions.map((p) => {
      if ((p.index + 1) * 2 ** p.level > copies.length) throw new Error(`node ${positionKey(p)} lies beyond the tree`);
      return naive.mth(copies.slice(0, 2 ** p.level));
    });
  };
  return { read, log };
}

// ---------------------------------------------------------------- small helpers

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`bad hex in a vector: ${text}`);
  return bytes;
}
const hexes = (list: readonly Uint8Array[]): string[] => list.map(toHex);
const datum = (i: number): Uint8Array => utf8.encode(`event ${i}`);
const data = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => datum(i));
const flipped = (bytes: Uint8Array, at: number, mask = 1 << (at % 8)): Uint8Array => {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ mask;
  return copy;
};
/** Collects the labels of failed checks, so that a loop of thousands of checks costs one `expect`. */
function checklist(): { check: (ok: boolean, label: string) => void; failed: string[] } {
  const failed: string[] = [];
  return { check: (ok, label) => void (ok || failed.push(label)), failed };
}
const OTHER_HASH = hex('abacaba000000000000000000000000000000000000000000060061e00123456');
/** The bound on distinct nodes one proof may read: its elements, plus one incomplete right subtree's peaks. */
const readBound = (n: number): number => 2 * Math.log2(n) + 2;

const SMALL = 70; // exhaustive sizes for equality with the naive reference
const TAMPER = 24; // exhaustive sizes for tampering (every byte of every element)

const small = memoryTree(data(SMALL));
const vectorTree = memoryTree(VECTORS.leaves.map(hex));

// ---------------------------------------------------------------- the rules

describe('RFC 6962 published vectors (transparency-dev/merkle testonly and proof/verify_test.go)', () => {
  it('EMPTY_ROOT is SHA-256 of the empty string, MTH({})', () => {
    expect(toHex(EMPTY_ROOT)).toBe(VECTORS.roots[0]);
    expect(toHex(Frontier.empty().root())).toBe(VECTORS.roots[0]);
  });

  it('appending the 8 leaves completes exactly the published nodes, level by level', () => {
    const completed: string[][] = [[], [], [], []];
    const frontier = Frontier.empty();
    for (const leaf of VECTORS.leaves) {
      for (const node of frontier.append(leafHash(hex(leaf)))) {
        expect(node.index).toBe(completed[node.level]!.length);
        completed[node.level]!.push(toHex(node.hash));
      }
    }
    expect(completed).toEqual(VECTORS.nodes);
  });

  it.each(VECTORS.roots.map((root, size) => [size, root] as const))('the root of the first %i leaves is published', async (size, root) => {
    const frontier = Frontier.empty();
    for (const leaf of VECTORS.leaves.slice(0, size)) frontier.append(leafHash(hex(leaf)));
    expect(toHex(frontier.root())).toBe(root);
    expect(toHex(await rootAt(size, vectorTree.reader(size).read))).toBe(root);
    expect(toHex(naive.mth(VECTORS.leaves.slice(0, size).map(hex)))).toBe(root);
  });

  it.each(VECTORS.inclusion.map((v) => [v.index, v.size, v] as const))('PATH(%i, D[%i]) is the published inclusion proof and verifies', async (index, size, vector) => {
    const proof = await inclusionProof(index, size, vectorTree.reader(size).read);
    expect(hexes(proof)).toEqual(vector.proof);
    expect(verifyInclusion(leafHash(hex(VECTORS.leaves[index]!)), index, size, vector.proof.map(hex), hex(VECTORS.roots[size]!))).toBe(true);
  });

  it.each(VECTORS.consistency.map((v) => [v.m, v.n, v] as const))('PROOF(%i, D[%i]) is the published consistency proof and verifies', async (m, n, vector) => {
    const proof = await consistencyProof(m, n, vectorTree.reader(n).read);
    expect(hexes(proof)).toEqual(vector.proof);
    expect(verifyConsistency(m, n, hex(VECTORS.roots[m]!), hex(VECTORS.roots[n]!), vector.proof.map(hex))).toBe(true);
  });

  it('the corruptions verify_test.go probes are all rejected', () => {
    const root = (size: number): Uint8Array => hex(VECTORS.roots[size]!);
    for (const { index, size, proof: published } of VECTORS.inclusion.slice(1)) {
      const proof = published.map(hex);
      const leaf = leafHash(hex(VECTORS.leaves[index]!));
      const probes: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [index - 1, size, root(size), leaf, proof],
        [index + 1, size, root(size), leaf, proof],
        [index ^ 2, size, root(size), leaf, proof],
        [index, size * 2, root(size), leaf, proof],
        [index, Math.floor(size / 2), root(size), leaf, proof],
        [index, size, root(size), utf8.encode('WrongLeaf'), proof],
        [index, size, EMPTY_ROOT, leaf, proof],
        [index, size, OTHER_HASH, leaf, proof],
        [index, size, root(size), leaf, [...proof, new Uint8Array(0)]],
        [index, size, root(size), leaf, [...proof, root(size)]],
        [index, size, root(size), leaf, [new Uint8Array(0), ...proof]],
        [index, size, root(size), leaf, [root(size), ...proof]],
        [index, size, root(size), leaf, proof.slice(0, -1)],
        ...proof.map((_, i): [number, number, Uint8Array, Uint8Array, Uint8Array[]] => [index, size, root(size), leaf, proof.map((p, j) => (j === i ? flipped(p, 0, 8) : p))]),
      ];
      for (const [i, s, r, l, p] of probes) expect(verifyInclusion(l, i, s, p, r), `inclusion ${index}/${size} probe ${i}/${s}`).toBe(false);
    }
    for (const { m, n, proof: published } of VECTORS.consistency.slice(1)) {
      const proof = published.map(hex);
      const probes: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [m - 1, n, root(m), root(n), proof],
        [m + 1, n, root(m), root(n), proof],
        [m ^ 2, n, root(m), root(n), proof],
        [m, n * 2, root(m), root(n), proof],
        [m, Math.floor(n / 2), root(m), root(n), proof],
        [m, n, utf8.encode('WrongRoot'), root(n), proof],
        [m, n, root(m), utf8.encode('WrongRoot'), proof],
        [m, n, root(n), root(m), proof],
        [m, n, root(m), root(n), []],
        [m, n, root(m), root(n), [...proof, new Uint8Array(0)]],
        [m, n, root(m), root(n), [...proof, root(m)]],
        [m, n, root(m), root(n), [...proof, root(n)]],
        [m, n, root(m), root(n), [new Uint8Array(0), ...proof]],
        [m, n, root(m), root(n), [root(m), ...proof]],
        [m, n, root(m), root(n), [root(n), ...proof]],
        [m, n, root(m), root(n), [proof[0]!, ...proof]],
        [m, n, root(m), root(n), proof.slice(0, -1)],
        ...proof.map((_, i): [number, number, Uint8Array, Uint8Array, Uint8Array[]] => [m, n, root(m), root(n), proof.map((p, j) => (j === i ? flipped(p, 0, 16) : p))]),
      ];
      for (const [a, b, ra, rb, p] of probes) expect(verifyConsistency(a, b, ra, rb, p), `consistency ${m}/${n} probe ${a}/${b}`).toBe(false);
    }
  });

  it('a one-leaf tree: the leaf hash is the root and the path is empty; hashes of the wrong size never verify', () => {
    const leaf = leafHash(utf8.encode('data'));
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion(leaf, 0, 1, [], new Uint8Array(0))).toBe(false);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], leaf)).toBe(false);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], new Uint8Array(0))).toBe(false);
  });

  it('consistency needs 0 < m ≤ n; m = n needs equal roots and an empty proof (verify_test.go accepts m = 0, RFC 9162 §2.1.4 does not)', () => {
    const [r1, r2] = [hex(VECTORS.roots[1]!), hex(VECTORS.roots[2]!)];
    expect(verifyConsistency(1, 1, r1, r1, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 1, r1, r1, [EMPTY_ROOT])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(0, 1, EMPTY_ROOT, r1, [])).toBe(false);
    expect(verifyConsistency(1, 0, r1, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(2, 1, r2, r1, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, r2, [])).toBe(false);
  });
});

describe('generation through the frontier and a node reader equals the naive RFC 6962 §2.1 definitions', () => {
  const same = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => hexes(a).join() === hexes(b).join();

  it(`MTH for every size 0..${SMALL}`, async () => {
    const { check, failed } = checklist();
    for (let n = 0; n <= SMALL; n++) check(same([await rootAt(n, small.reader(n).read)], [naive.mth(small.data.slice(0, n))]), `MTH(D[${n}])`);
    expect(failed).toEqual([]);
  });

  it(`PATH(m, D[n]) for every 0 ≤ m < n ≤ ${SMALL}, from a store that has grown past n`, async () => {
    const { check, failed } = checklist();
    for (let n = 1; n <= SMALL; n++) {
      const d = small.data.slice(0, n);
      for (let m = 0; m < n; m++) check(same(await inclusionProof(m, n, small.reader(n).read), naive.path(m, d)), `PATH(${m}, D[${n}])`);
    }
    expect(failed).toEqual([]);
  });

  it(`PROOF(m, D[n]) for every 0 < m ≤ n ≤ ${SMALL}`, async () => {
    const { check, failed } = checklist();
    for (let n = 1; n <= SMALL; n++) {
      const d = small.data.slice(0, n);
      for (let m = 1; m <= n; m++) check(same(await consistencyProof(m, n, small.reader(n).read), naive.proof(m, d)), `PROOF(${m}, D[${n}])`);
    }
    expect(failed).toEqual([]);
  });

  it('for random trees of up to a few thousand leaves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.integer({ min: 1, max: n }), fc.integer({ min: n, max: n + 50 }))),
        async ([n, index, m, stored]) => {
          const tree = memoryTree(data(stored));
          const d = tree.data.slice(0, n);
          expect(toHex(await rootAt(n, tree.reader(n).read))).toBe(toHex(naive.mth(d)));
          expect(hexes(await inclusionProof(index, n, tree.reader(n).read))).toEqual(hexes(naive.path(index, d)));
          expect(hexes(await consistencyProof(m, n, tree.reader(n).read))).toEqual(hexes(naive.proof(m, d)));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('and the naive shapes (used by the tampering rules) have one letter per proof element', async () => {
    const { check, failed } = checklist();
    for (let n = 1; n <= SMALL; n++) {
      const { read } = small.reader(n);
      for (let m = 0; m < n; m++) check(naive.pathShape(m, n).length === (await inclusionProof(m, n, read)).length, `PATH(${m}, D[${n}])`);
      for (let m = 1; m <= n; m++) check(naive.proofShape(m, n).length === (await consistencyProof(m, n, read)).length, `PROOF(${m}, D[${n}])`);
    }
    expect(failed).toEqual([]);
  });
});

describe('proof generation reads O(log n) stored nodes, in one batch', () => {
  it(`every root, inclusion and consistency proof up to size ${SMALL}: one read call, distinct nodes, at most 2·log2(n) + 2`, async () => {
    const { check, failed } = checklist();
    for (let n = 1; n <= SMALL; n++) {
      const runs: [string, (read: NodeReader) => Promise<unknown>][] = [[`rootAt(${n})`, (read) => rootAt(n, read)]];
      for (let m = 0; m < n; m++) runs.push([`inclusionProof(${m}, ${n})`, (read) => inclusionProof(m, n, read)]);
      for (let m = 1; m <= n; m++) runs.push([`consistencyProof(${m}, ${n})`, (read) => consistencyProof(m, n, read)]);
      for (const [what, run] of runs) {
        const { read, log } = small.reader(n);
        await run(read);
        check(log.calls <= 1, `${what}: ${log.calls} calls`);
        check(new Set(log.positions.map(positionKey)).size === log.positions.length, `${what}: a node asked twice`);
        check(log.positions.length <= readBound(n), `${what}: ${log.positions.length} nodes`);
      }
    }
    expect(failed).toEqual([]);
  });

  it('asks for nodes in leaf order (the order storage keys sort in)', async () => {
    const { read, log } = small.reader(SMALL);
    await inclusionProof(5, 63, read);
    const lastLeaves = log.positions.map((p) => (p.index + 1) * 2 ** p.level - 1);
    expect(lastLeaves).toEqual([...lastLeaves].sort((a, b) => a - b));
  });

  it('reads nothing when nothing is needed: the empty root, PATH(0, D[1]), PROOF(n, D[n]) for a power of two', async () => {
    const { read, log } = small.reader();
    expect(toHex(await rootAt(0, read))).toBe(toHex(EMPTY_ROOT));
    expect(await inclusionProof(0, 1, read)).toEqual([]);
    expect(await consistencyProof(8, 8, read)).toEqual([]);
    expect(log.calls).toBe(0);
  });
});

describe('every generated proof verifies', () => {
  it(`inclusion of every leaf and consistency of every pair, up to size ${SMALL}`, async () => {
    const { check, failed } = checklist();
    for (let n = 1; n <= SMALL; n++) {
      const { read } = small.reader(n);
      const root = await rootAt(n, read);
      for (let m = 0; m < n; m++) check(verifyInclusion(leafHash(small.data[m]!), m, n, await inclusionProof(m, n, read), root), `leaf ${m} of ${n}`);
      for (let m = 1; m <= n; m++) check(verifyConsistency(m, n, await rootAt(m, read), root, await consistencyProof(m, n, read)), `${m} → ${n}`);
    }
    expect(failed).toEqual([]);
  });

  it('for random trees of up to a few thousand leaves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.integer({ min: 1, max: n }))),
        async ([n, index, m]) => {
          const tree = memoryTree(data(n));
          const { read } = tree.reader();
          const root = await rootAt(n, read);
          expect(verifyInclusion(leafHash(tree.data[index]!), index, n, await inclusionProof(index, n, read), root)).toBe(true);
          expect(verifyConsistency(m, n, await rootAt(m, read), root, await consistencyProof(m, n, read))).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('tampering with an inclusion proof is caught (RFC 9162 §2.1.3.2)', () => {
  /** Every case for sizes 1..TAMPER, with the root each proof is for. */
  async function inclusionCases(): Promise<{ m: number; n: number; proof: Uint8Array[]; root: Uint8Array; leaf: Uint8Array }[]> {
    const cases = [];
    for (let n = 1; n <= TAMPER; n++) {
      const { read } = small.reader(n);
      const root = await rootAt(n, read);
      for (let m = 0; m < n; m++) cases.push({ m, n, proof: await inclusionProof(m, n, read), root, leaf: leafHash(small.data[m]!) });
    }
    return cases;
  }

  it('altering any byte of any element', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, root, leaf } of await inclusionCases()) {
      proof.forEach((element, i) => {
        for (let at = 0; at < 32; at++) {
          const altered = proof.map((p, j) => (j === i ? flipped(element, at) : p));
          check(!verifyInclusion(leaf, m, n, altered, root), `leaf ${m} of ${n}, element ${i} byte ${at}`);
        }
      });
    }
    expect(failed).toEqual([]);
  });

  it('dropping any element, or adding one anywhere', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, root, leaf } of await inclusionCases()) {
      proof.forEach((_, i) => check(!verifyInclusion(leaf, m, n, proof.toSpliced(i, 1), root), `leaf ${m} of ${n} without ${i}`));
      for (let i = 0; i <= proof.length; i++) {
        for (const extra of [OTHER_HASH, root, leaf, proof[0] ?? OTHER_HASH]) {
          check(!verifyInclusion(leaf, m, n, proof.toSpliced(i, 0, extra), root), `leaf ${m} of ${n} with an element at ${i}`);
        }
      }
    }
    expect(failed).toEqual([]);
  });

  it('any other index, another leaf, or the leaf and root swapped', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, root, leaf } of await inclusionCases()) {
      for (let other = 0; other < n; other++) if (other !== m) check(!verifyInclusion(leaf, other, n, proof, root), `leaf ${m} of ${n} as ${other}`);
      if (n > 1) {
        check(!verifyInclusion(leafHash(small.data[(m + 1) % n]!), m, n, proof, root), `leaf ${m} of ${n}, another leaf`);
        check(!verifyInclusion(root, m, n, proof, leaf), `leaf ${m} of ${n}, swapped`);
      }
    }
    expect(failed).toEqual([]);
  });

  it('another size fails unless it gives the leaf the very same path shape: the path binds the shape, not the size', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, root, leaf } of await inclusionCases()) {
      for (const other of [n - 1, n + 1, n + 2, n * 2, Math.floor(n / 2), n + 16]) {
        if (other === n) continue;
        const sameShape = m < other && naive.pathShape(m, other) === naive.pathShape(m, n);
        check(verifyInclusion(leaf, m, other, proof, root) === sameShape, `leaf ${m} of ${n} as size ${other}`);
      }
    }
    expect(failed).toEqual([]);
    // The example to remember: leaf 0 of the 4-leaf tree proves as leaf 0 of a "3-leaf tree" with the 4-leaf root.
    const { read } = small.reader(4);
    expect(verifyInclusion(leafHash(small.data[0]!), 0, 3, await inclusionProof(0, 4, read), await rootAt(4, read))).toBe(true);
  });

  it('a flipped bit of any element, index or size, in random trees of up to a few thousand leaves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 3000 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(), fc.nat(31), fc.nat(7), fc.nat(n - 1))),
        async ([n, index, pick, at, bit, otherIndex]) => {
          const tree = memoryTree(data(n));
          const { read } = tree.reader();
          const [root, proof, leaf] = [await rootAt(n, read), await inclusionProof(index, n, read), leafHash(tree.data[index]!)];
          const i = pick % proof.length;
          expect(verifyInclusion(leaf, index, n, proof.map((p, j) => (j === i ? flipped(p, at, 1 << bit) : p)), root)).toBe(false);
          expect(verifyInclusion(flipped(leaf, at, 1 << bit), index, n, proof, root)).toBe(false);
          expect(verifyInclusion(leaf, index, n, proof, flipped(root, at, 1 << bit))).toBe(false);
          if (otherIndex !== index) expect(verifyInclusion(leaf, otherIndex, n, proof, root)).toBe(false);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('tampering with a consistency proof is caught (RFC 9162 §2.1.4.2)', () => {
  async function consistencyCases(): Promise<{ m: number; n: number; proof: Uint8Array[]; rootM: Uint8Array; rootN: Uint8Array }[]> {
    const cases = [];
    for (let n = 2; n <= TAMPER; n++) {
      const { read } = small.reader(n);
      for (let m = 1; m < n; m++) cases.push({ m, n, proof: await consistencyProof(m, n, read), rootM: await rootAt(m, read), rootN: await rootAt(n, read) });
    }
    return cases;
  }

  it('altering any byte of any element', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, rootM, rootN } of await consistencyCases()) {
      proof.forEach((element, i) => {
        for (let at = 0; at < 32; at++) {
          const altered = proof.map((p, j) => (j === i ? flipped(element, at) : p));
          check(!verifyConsistency(m, n, rootM, rootN, altered), `${m} → ${n}, element ${i} byte ${at}`);
        }
      });
    }
    expect(failed).toEqual([]);
  });

  it('dropping any element, or adding one anywhere (including the root of m in front, when m is a power of two)', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, rootM, rootN } of await consistencyCases()) {
      proof.forEach((_, i) => check(!verifyConsistency(m, n, rootM, rootN, proof.toSpliced(i, 1)), `${m} → ${n} without ${i}`));
      for (let i = 0; i <= proof.length; i++) {
        for (const extra of [OTHER_HASH, rootM, rootN, proof[0]!]) {
          check(!verifyConsistency(m, n, rootM, rootN, proof.toSpliced(i, 0, extra)), `${m} → ${n} with an element at ${i}`);
        }
      }
    }
    expect(failed).toEqual([]);
  });

  it('swapped roots, a wrong root, or the roots of other sizes', async () => {
    const { check, failed } = checklist();
    const { read } = small.reader(TAMPER);
    const roots = await Promise.all(Array.from({ length: TAMPER + 1 }, (_, size) => rootAt(size, read)));
    for (const { m, n, proof, rootM, rootN } of await consistencyCases()) {
      check(!verifyConsistency(m, n, rootN, rootM, proof), `${m} → ${n}, swapped`);
      check(!verifyConsistency(m, n, OTHER_HASH, rootN, proof), `${m} → ${n}, another old root`);
      check(!verifyConsistency(m, n, rootM, OTHER_HASH, proof), `${m} → ${n}, another new root`);
      roots.forEach((other, size) => {
        if (size !== m) check(!verifyConsistency(m, n, other, rootN, proof), `${m} → ${n} with the root of ${size} as old`);
        if (size !== n) check(!verifyConsistency(m, n, rootM, other, proof), `${m} → ${n} with the root of ${size} as new`);
      });
    }
    expect(failed).toEqual([]);
  });

  it('other sizes fail unless they give the proof the very same shape: the proof binds the shape, not the sizes', async () => {
    const { check, failed } = checklist();
    for (const { m, n, proof, rootM, rootN } of await consistencyCases()) {
      const shape = naive.proofShape(m, n);
      for (let otherM = 0; otherM <= n + 1; otherM++) {
        if (otherM === m) continue;
        const sameShape = otherM > 0 && otherM <= n && naive.proofShape(otherM, n) === shape;
        check(verifyConsistency(otherM, n, rootM, rootN, proof) === sameShape, `${m} → ${n} as ${otherM} → ${n}`);
      }
      for (const otherN of [m, n - 1, n + 1, n + 2, n * 2, Math.floor(n / 2), n + 16]) {
        if (otherN === n) continue;
        const sameShape = otherN >= m && naive.proofShape(m, otherN) === shape;
        check(verifyConsistency(m, otherN, rootM, rootN, proof) === sameShape, `${m} → ${n} as ${m} → ${otherN}`);
      }
    }
    expect(failed).toEqual([]);
    // The example to remember: PROOF(2, D[4]) = [MTH(D[2:4])] also passes as a proof from 2 to "3" with the 4-leaf root.
    const { read } = small.reader(4);
    expect(verifyConsistency(2, 3, await rootAt(2, read), await rootAt(4, read), await consistencyProof(2, 4, read))).toBe(true);
  });

  it('a tree forked below m is not consistent with the original, whichever proof is shown', async () => {
    const { check, failed } = checklist();
    for (let n = 2; n <= TAMPER; n++) {
      const { read } = small.reader(n);
      for (let changed = 0; changed < n - 1; changed++) {
        const forkRead = memoryTree(small.data.slice(0, n).map((d, i) => (i === changed ? utf8.encode('forked') : d))).reader().read;
        for (let m = changed + 1; m < n; m++) {
          const [rootM, rootN, forkM, forkN] = [await rootAt(m, read), await rootAt(n, read), await rootAt(m, forkRead), await rootAt(n, forkRead)];
          for (const [whose, proof] of [['original', await consistencyProof(m, n, read)], ['forked', await consistencyProof(m, n, forkRead)]] as const) {
            check(!verifyConsistency(m, n, forkM, rootN, proof), `leaf ${changed} forked, ${m} → ${n}, ${whose} proof, forked old root`);
            check(!verifyConsistency(m, n, rootM, forkN, proof), `leaf ${changed} forked, ${m} → ${n}, ${whose} proof, forked new root`);
          }
        }
      }
    }
    expect(failed).toEqual([]);
  });

  it('a flipped bit of any element or root, or another m, in random trees of up to a few thousand leaves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 3000 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }), fc.nat(), fc.nat(31), fc.nat(7), fc.integer({ min: 1, max: n }))),
        async ([n, m, pick, at, bit, otherM]) => {
          const tree = memoryTree(data(n));
          const { read } = tree.reader();
          const [rootM, rootN, proof] = [await rootAt(m, read), await rootAt(n, read), await consistencyProof(m, n, read)];
          const i = pick % proof.length;
          expect(verifyConsistency(m, n, rootM, rootN, proof.map((p, j) => (j === i ? flipped(p, at, 1 << bit) : p)))).toBe(false);
          expect(verifyConsistency(m, n, flipped(rootM, at, 1 << bit), rootN, proof)).toBe(false);
          expect(verifyConsistency(m, n, rootM, flipped(rootN, at, 1 << bit), proof)).toBe(false);
          if (otherM !== m) expect(verifyConsistency(otherM, n, rootM, rootN, proof)).toBe(naive.proofShape(otherM, n) === naive.proofShape(m, n));
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('the verifiers answer false, never throw, for malformed input', () => {
  const { read } = small.reader(13);
  const setup = (async () => ({
    leaf: leafHash(small.data[6]!),
    root: await rootAt(13, read),
    rootM: await rootAt(6, read),
    inclusion: await inclusionProof(6, 13, read),
    consistency: await consistencyProof(6, 13, read),
  }))();

  it('the well-formed baseline verifies', async () => {
    const { leaf, root, rootM, inclusion, consistency } = await setup;
    expect(verifyInclusion(leaf, 6, 13, inclusion, root)).toBe(true);
    expect(verifyConsistency(6, 13, rootM, root, consistency)).toBe(true);
  });

  it.each([
    ['negative', -1],
    ['fractional', 6.5],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
    ['unsafe', 2 ** 53],
    ['a string', '6'],
    ['a bigint', 6n],
    ['null', null],
  ])('an index or size that is %s', async (_what, bad) => {
    const { leaf, root, rootM, inclusion, consistency } = await setup;
    const value = bad as unknown as number;
    expect(verifyInclusion(leaf, value, 13, inclusion, root)).toBe(false);
    expect(verifyInclusion(leaf, 6, value, inclusion, root)).toBe(false);
    expect(verifyConsistency(value, 13, rootM, root, consistency)).toBe(false);
    expect(verifyConsistency(6, value, rootM, root, consistency)).toBe(false);
  });

  it('index ≥ size; m = 0; m > n', async () => {
    const { leaf, root, rootM, inclusion } = await setup;
    expect(verifyInclusion(leaf, 13, 13, inclusion, root)).toBe(false);
    expect(verifyInclusion(leaf, 14, 13, inclusion, root)).toBe(false);
    expect(verifyInclusion(leaf, 0, 0, [], EMPTY_ROOT)).toBe(false);
    expect(verifyConsistency(0, 13, EMPTY_ROOT, root, [])).toBe(false);
    expect(verifyConsistency(0, 13, EMPTY_ROOT, root, [root])).toBe(false);
    expect(verifyConsistency(13, 6, root, rootM, [])).toBe(false);
  });

  it.each([
    ['31 bytes', (p: Uint8Array) => p.subarray(0, 31)],
    ['33 bytes', (p: Uint8Array) => concatBytes(p, new Uint8Array(1))],
    ['empty', () => new Uint8Array(0)],
    ['a plain array', (p: Uint8Array) => [...p]],
    ['a hex string', (p: Uint8Array) => toHex(p)],
    ['undefined', () => undefined],
  ])('a proof element, leaf or root that is %s', async (_what, spoil) => {
    const { leaf, root, rootM, inclusion, consistency } = await setup;
    const bad = (p: Uint8Array): Uint8Array => spoil(p) as unknown as Uint8Array;
    for (let i = 0; i < inclusion.length; i++) expect(verifyInclusion(leaf, 6, 13, inclusion.map((p, j) => (j === i ? bad(p) : p)), root)).toBe(false);
    for (let i = 0; i < consistency.length; i++) expect(verifyConsistency(6, 13, rootM, root, consistency.map((p, j) => (j === i ? bad(p) : p)))).toBe(false);
    expect(verifyInclusion(bad(leaf), 6, 13, inclusion, root)).toBe(false);
    expect(verifyInclusion(leaf, 6, 13, inclusion, bad(root))).toBe(false);
    expect(verifyConsistency(6, 13, bad(rootM), root, consistency)).toBe(false);
    expect(verifyConsistency(6, 13, rootM, bad(root), consistency)).toBe(false);
  });

  it('a proof that is not an array, is absurdly long, or throws when read', async () => {
    const { leaf, root, rootM, inclusion, consistency } = await setup;
    for (const proof of [undefined, null, 'proof', { length: 1, 0: inclusion[0] }, new Set(inclusion)]) {
      expect(verifyInclusion(leaf, 6, 13, proof as unknown as Uint8Array[], root)).toBe(false);
      expect(verifyConsistency(6, 13, rootM, root, proof as unknown as Uint8Array[])).toBe(false);
    }
    const long = Array.from({ length: 100_000 }, () => OTHER_HASH);
    expect(verifyInclusion(leaf, 6, 13, long, root)).toBe(false);
    expect(verifyConsistency(6, 13, rootM, root, long)).toBe(false);
    const hostile = new Proxy(consistency, {
      get(target, property, receiver) {
        if (property === '0') throw new Error('boom');
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    expect(verifyInclusion(leaf, 6, 13, hostile, root)).toBe(false);
    expect(verifyConsistency(6, 13, rootM, root, hostile)).toBe(false);
  });

  it('anything at all', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (a, b, c, d, e) => {
        const args = [a, b, c, d, e] as unknown[];
        expect(verifyInclusion(...(args as Parameters<typeof verifyInclusion>))).toBe(false);
        expect(verifyConsistency(...(args as Parameters<typeof verifyConsistency>))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Frontier: an append completes exactly the subtrees that end at the new leaf', () => {
  it(`for every size up to ${SMALL}: positions, hashes (against the naive MTH), roots and peaks`, () => {
    const frontier = Frontier.empty();
    for (let size = 0; size < SMALL; size++) {
      const completed = frontier.append(leafHash(small.data[size]!));
      const expected: NodePosition[] = [];
      for (let level = 0; 2 ** level <= size + 1; level++) {
        if ((size + 1) % 2 ** level === 0) expected.push({ level, index: (size + 1) / 2 ** level - 1 });
      }
      expect(completed.map(({ level, index }) => ({ level, index })), `append #${size}`).toEqual(expected);
      for (const node of completed) {
        const start = node.index * 2 ** node.level;
        expect(toHex(node.hash)).toBe(toHex(naive.mth(small.data.slice(start, start + 2 ** node.level))));
      }
      expect(frontier.size).toBe(size + 1);
      expect(toHex(frontier.root())).toBe(toHex(naive.mth(small.data.slice(0, size + 1))));
      const peaks = peakPositions(size + 1).map((p) => naive.mth(small.data.slice(p.index * 2 ** p.level, (p.index + 1) * 2 ** p.level)));
      expect(hexes(frontier.peaks())).toEqual(hexes(peaks));
    }
  });

  it('the empty frontier has size 0, no peaks, and the empty root', () => {
    const frontier = Frontier.empty();
    expect(frontier.size).toBe(0);
    expect(frontier.peaks()).toEqual([]);
    expect(toHex(frontier.root())).toBe(toHex(EMPTY_ROOT));
  });

  it('fromPeaks(size, peaks()) and clone() continue exactly as the original, and neither shares state', () => {
    for (let size = 0; size <= 40; size++) {
      const original = memoryTree(small.data.slice(0, size)).frontier;
      const restored = Frontier.fromPeaks(size, original.peaks());
      const cloned = original.clone();
      expect(restored.size).toBe(size);
      expect(toHex(restored.root())).toBe(toHex(original.root()));
      const reference = memoryTree(small.data.slice(0, size)).frontier.append(leafHash(small.data[size]!));
      for (const other of [restored, cloned]) {
        const continued = other.append(leafHash(small.data[size]!));
        expect(continued.map((n) => ({ ...n, hash: toHex(n.hash) }))).toEqual(reference.map((n) => ({ ...n, hash: toHex(n.hash) })));
        expect(toHex(other.root())).toBe(toHex(naive.mth(small.data.slice(0, size + 1))));
      }
      expect(original.size).toBe(size);
      expect(toHex(original.root())).toBe(toHex(naive.mth(small.data.slice(0, size))));
    }
  });

  it('fromPeaks takes stored peaks as read at peakPositions(size)', async () => {
    for (let size = 0; size <= SMALL; size++) {
      const { read } = small.reader(size);
      const positions = peakPositions(size);
      const frontier = Frontier.fromPeaks(size, positions.length === 0 ? [] : await read(positions));
      expect(toHex(frontier.root())).toBe(toHex(await rootAt(size, read)));
    }
  });

  it('hands out copies: mutating what it returns or was given changes nothing', () => {
    const frontier = Frontier.empty();
    const leaf = leafHash(small.data[0]!);
    const [node] = frontier.append(leaf);
    const before = toHex(frontier.root());
    leaf.fill(0);
    node!.hash.fill(0);
    frontier.peaks()[0]!.fill(0);
    frontier.root().fill(0);
    expect(toHex(frontier.root())).toBe(before);
    Frontier.empty().root().fill(0);
    foldPeaks([]).fill(0);
    expect(toHex(EMPTY_ROOT)).toBe(VECTORS.roots[0]);
  });

  it('rejects a wrong peak count or a peak that is not 32 bytes (TypeError), and a bad size (RangeError)', () => {
    const peak = leafHash(small.data[0]!);
    expect(() => Frontier.fromPeaks(3, [peak])).toThrow(TypeError);
    expect(() => Frontier.fromPeaks(3, [peak, peak, peak])).toThrow(TypeError);
    expect(() => Frontier.fromPeaks(0, [peak])).toThrow(TypeError);
    expect(() => Frontier.fromPeaks(1, [peak.subarray(1)])).toThrow(TypeError);
    expect(() => Frontier.fromPeaks(1, 'peaks' as unknown as Uint8Array[])).toThrow(TypeError);
    expect(() => Frontier.fromPeaks(-1, [])).toThrow(RangeError);
    expect(() => Frontier.fromPeaks(1.5, [peak])).toThrow(RangeError);
    expect(Frontier.fromPeaks(2 ** 53 - 1, Array.from({ length: 53 }, () => peak)).size).toBe(2 ** 53 - 1);
  });

  it('append takes a 32-byte leaf hash and stops at 2^53 − 1 leaves', () => {
    expect(() => Frontier.empty().append(new Uint8Array(31))).toThrow(TypeError);
    expect(() => Frontier.empty().append(utf8.encode('raw event') as Uint8Array)).toThrow(TypeError);
    const peak = leafHash(small.data[0]!);
    const full = Frontier.fromPeaks(2 ** 53 - 1, Array.from({ length: 53 }, () => peak));
    expect(() => full.append(peak)).toThrow(RangeError);
    const almost = Frontier.fromPeaks(2 ** 53 - 2, Array.from({ length: 52 }, () => peak));
    expect(almost.append(peak).map((n) => n.level)).toEqual([0]);
    expect(almost.size).toBe(2 ** 53 - 1);
  });
});

describe('hashes are domain-separated (RFC 9162 §2.1.1)', () => {
  it('leafHash is SHA-256(0x00 ‖ d) and nodeHash is SHA-256(0x01 ‖ left ‖ right)', () => {
    const [a, b] = [leafHash(datum(1)), leafHash(datum(2))];
    expect(toHex(leafHash(datum(1)))).toBe(toHex(sha256Reference(new Uint8Array([0]), datum(1))));
    expect(toHex(nodeHash(a, b))).toBe(toHex(sha256Reference(new Uint8Array([1]), a, b)));
    expect(toHex(nodeHash(a, b))).not.toBe(toHex(leafHash(concatBytes(a, b))));
  });

  it('nodeHash takes only 32-byte children; leafHash takes any bytes', () => {
    const a = leafHash(datum(1));
    expect(() => nodeHash(a, a.subarray(1))).toThrow(TypeError);
    expect(() => nodeHash(concatBytes(a, a), a)).toThrow(TypeError);
    expect(() => leafHash('text' as unknown as Uint8Array)).toThrow(TypeError);
    expect(leafHash(new Uint8Array(0))).toHaveLength(32);
  });

  it('foldPeaks folds from the right; no peaks is the empty tree', () => {
    const [a, b, c] = [leafHash(datum(1)), leafHash(datum(2)), leafHash(datum(3))];
    expect(toHex(foldPeaks([]))).toBe(toHex(EMPTY_ROOT));
    expect(toHex(foldPeaks([a]))).toBe(toHex(a));
    expect(toHex(foldPeaks([a, b, c]))).toBe(toHex(nodeHash(a, nodeHash(b, c))));
    expect(() => foldPeaks([a, new Uint8Array(3)])).toThrow(TypeError);
  });
});

describe('positions are exact for any safe size, beyond 2^32 (no 32-bit arithmetic)', () => {
  const MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1

  /**
   * What is wrong with a cover of [start, end), if anything: it must be contiguous, aligned and exact, and hold
   * no two siblings (which would merge into their parent: then it would not be the fewest nodes).
   */
  function coverProblem(start: number, end: number, cover: readonly NodePosition[]): string | undefined {
    let at = start;
    for (const [i, p] of cover.entries()) {
      if (!Number.isSafeInteger(p.index) || p.index < 0 || !Number.isInteger(p.level) || p.level < 0 || p.level > 53) return `node ${i} is ${p.level}:${p.index}`;
      if (p.index * 2 ** p.level !== at) return `node ${i} starts at ${p.index * 2 ** p.level}, not ${at}`;
      at += 2 ** p.level;
      const next = cover[i + 1];
      if (next !== undefined && next.level === p.level && p.index % 2 === 0) return `nodes ${i} and ${i + 1} are siblings`;
    }
    return at === end ? undefined : `the cover ends at ${at}`;
  }

  it('peakPositions gives one peak per set bit, largest first', () => {
    expect(peakPositions(0)).toEqual([]);
    expect(peakPositions(6)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
    ]);
    expect(peakPositions(2 ** 32)).toEqual([{ level: 32, index: 0 }]);
    expect(peakPositions(2 ** 32 + 5)).toEqual([
      { level: 32, index: 0 },
      { level: 2, index: 2 ** 30 },
      { level: 0, index: 2 ** 32 + 4 },
    ]);
    const all = peakPositions(MAX);
    expect(all.map((p) => p.level)).toEqual(Array.from({ length: 53 }, (_, i) => 52 - i));
    expect(all.at(-1)).toEqual({ level: 0, index: MAX - 1 });
    expect(coverProblem(0, MAX, all)).toBeUndefined();
  });

  it('rangePositions covers any range exactly and minimally', () => {
    expect(rangePositions(4, 7)).toEqual([
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(rangePositions(1, 4)).toEqual([
      { level: 0, index: 1 },
      { level: 1, index: 1 },
    ]);
    expect(rangePositions(9, 9)).toEqual([]);
    expect(rangePositions(2 ** 40, 2 ** 40 + 2 ** 33 + 3)).toEqual([
      { level: 33, index: 2 ** 7 },
      { level: 1, index: 2 ** 39 + 2 ** 32 },
      { level: 0, index: 2 ** 40 + 2 ** 33 + 2 },
    ]);
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: MAX })), ([a, b]) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        return coverProblem(start, end, rangePositions(start, end)) === undefined;
      }),
      { numRuns: 1000 },
    );
  });

  it('for every subtree the RFC recursion visits, the cover shrinks strictly and folds to MTH', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 52 }), fc.nat(), fc.nat(), (exponent, rawBlock, rawLength) => {
        const width = 2 ** exponent;
        const start = (rawBlock % Math.floor((MAX - width) / width + 1)) * width;
        const length = 1 + (rawLength % width);
        const levels = rangePositions(start, start + length).map((p) => p.level);
        return levels.every((level, i) => i === 0 || level < levels[i - 1]!);
      }),
      { numRuns: 1000 },
    );
    for (let start = 0; start < SMALL; start++) {
      for (let end = start + 1; end <= SMALL; end++) {
        const width = 2 ** Math.ceil(Math.log2(end - start));
        if (start % width !== 0) continue;
        const cover = rangePositions(start, end).map((p) => small.nodes.get(positionKey(p))!);
        expect(toHex(foldPeaks(cover)), `[${start}, ${end})`).toBe(toHex(naive.mth(small.data.slice(start, end))));
      }
    }
  });

  it('rejects sizes that are negative, fractional or unsafe, and ranges that run backwards (RangeError)', () => {
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => peakPositions(bad)).toThrow(RangeError);
      expect(() => rangePositions(bad, 10)).toThrow(RangeError);
      expect(() => rangePositions(0, bad)).toThrow(RangeError);
    }
    expect(() => rangePositions(5, 4)).toThrow(RangeError);
  });

  const HUGE = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 40 + 12_345, MAX - 1, MAX];

  it('proofs over trees of 2^32 .. 2^53 − 1 leaves equal the naive definitions, verify, and read O(log n) nodes', async () => {
    const copies = new Copies(datum(7), MAX);
    const leaf = leafHash(datum(7));
    for (const n of HUGE) {
      const tree = copies.slice(0, n);
      const root = await rootAt(n, copiesReader(copies).read);
      expect(toHex(root)).toBe(toHex(naive.mth(tree)));
      for (const index of [0, 1, 2 ** 31 + 3, 2 ** 32 + 7, Math.floor(n / 3), n - 2, n - 1].filter((i) => i < n)) {
        const { read, log } = copiesReader(copies);
        const proof = await inclusionProof(index, n, read);
        expect(hexes(proof), `PATH(${index}, D[${n}])`).toEqual(hexes(naive.path(index, tree)));
        expect(verifyInclusion(leaf, index, n, proof, root)).toBe(true);
        expect(log.calls).toBe(1);
        expect(log.positions.length).toBeLessThanOrEqual(readBound(n));
      }
      for (const m of [1, 2 ** 31 + 3, 2 ** 32, 2 ** 32 + 1, Math.floor(n / 3), n - 1, n].filter((i) => i <= n)) {
        const { read, log } = copiesReader(copies);
        const proof = await consistencyProof(m, n, read);
        expect(hexes(proof), `PROOF(${m}, D[${n}])`).toEqual(hexes(naive.proof(m, tree)));
        expect(verifyConsistency(m, n, naive.mth(copies.slice(0, m)), root, proof)).toBe(true);
        expect(log.calls).toBeLessThanOrEqual(1);
        expect(log.positions.length).toBeLessThanOrEqual(readBound(n));
      }
    }
  });

  it('and for random sizes up to 2^53 − 1', async () => {
    const copies = new Copies(datum(9), MAX);
    const leaf = leafHash(datum(9));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2 ** 32, max: MAX }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n }))),
        async ([n, index, m]) => {
          const root = await rootAt(n, copiesReader(copies).read);
          const inclusion = await inclusionProof(index, n, copiesReader(copies).read);
          const consistency = await consistencyProof(m, n, copiesReader(copies).read);
          expect(inclusion).toHaveLength(naive.pathShape(index, n).length);
          expect(consistency).toHaveLength(naive.proofShape(m, n).length);
          expect(verifyInclusion(leaf, index, n, inclusion, root)).toBe(true);
          expect(verifyConsistency(m, n, naive.mth(copies.slice(0, m)), root, consistency)).toBe(true);
          expect(verifyInclusion(leaf, index, n, inclusion.slice(1), root)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('proof generation checks its arguments and what the store answers', () => {
  it('inclusionProof needs 0 ≤ index < size; consistencyProof needs 0 < m ≤ n; rootAt needs size ≥ 0 (RangeError)', async () => {
    const { read, log } = small.reader();
    for (const [index, size] of [
      [0, 0],
      [5, 5],
      [-1, 5],
      [1.5, 5],
      [0, 2 ** 53],
    ] as const) {
      await expect(inclusionProof(index, size, read)).rejects.toThrow(RangeError);
    }
    for (const [m, n] of [
      [0, 5],
      [0, 0],
      [6, 5],
      [Number.NaN, 5],
    ] as const) {
      await expect(consistencyProof(m, n, read)).rejects.toThrow(RangeError);
    }
    await expect(rootAt(-1, read)).rejects.toThrow(RangeError);
    expect(log.calls).toBe(0);
  });

  it("a missing node fails with the reader's own error", async () => {
    const failing: NodeReader = async () => {
      throw new Error('node 3:0 is missing');
    };
    await expect(inclusionProof(1, 9, failing)).rejects.toThrow('node 3:0 is missing');
  });

  it('a store answering the wrong number of hashes, or a hash that is not 32 bytes, is STORE_CORRUPT', async () => {
    const { read } = small.reader();
    const short: NodeReader = async (positions) => (await read(positions)).slice(1);
    const truncated: NodeReader = async (positions) => (await read(positions)).map((h, i) => (i === 0 ? h.subarray(0, 31) : h));
    for (const reader of [short, truncated]) {
      const error: unknown = await inclusionProof(3, 11, reader).catch((e: unknown) => e);
      expect(isLedgerError(error, 'STORE_CORRUPT')).toBe(true);
    }
  });

  it('the hashes it returns are its own: mutating them does not change the store or later proofs', async () => {
    const { read } = small.reader();
    const proof = await inclusionProof(3, 11, read);
    const again = hexes(proof);
    for (const p of proof) p.fill(0);
    expect(hexes(await inclusionProof(3, 11, read))).toEqual(again);
    const root = await rootAt(1, read);
    root.fill(0);
    expect(toHex(await rootAt(1, read))).toBe(toHex(naive.mth(small.data.slice(0, 1))));
  });
});
