/**
 * The Merkle tree over the log's event hashes, as RFC 9162 §2.1 (identical to RFC 6962 §2.1) defines it: tree
 * hashes, the incremental frontier an append advances, inclusion and consistency proofs, and their verification.
 *
 * Owns: the tree's arithmetic. Storage keeps every complete aligned subtree ("node") an append completes; proof
 * generation first works out, without I/O, which stored nodes it needs, asks a `NodeReader` for all of them in
 * one batch, then hashes. Must not: do I/O itself, import anything but bytes, errors and crypto/hash, or use
 * 32-bit bit operators: sizes and indexes are safe integers up to 2^53 − 1, so bits are taken with arithmetic.
 */

import { equalBytes } from '../bytes.js';
import { sha256 } from '../crypto/hash.js';
import { LedgerError } from '../errors.js';

const HASH_LENGTH = 32;
// RFC 9162 §2.1.1 domain separation: a leaf can never be read as an interior node, nor the reverse.
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);
/**
 * No valid proof for a tree of at most 2^53 − 1 leaves is longer: each element consumes at least one bit of
 * `sn` (RFC 9162 §2.1.3.2 step 4c, §2.1.4.2 step 6c), plus the seed of a consistency proof. Rejecting longer
 * proofs up front gives the same answers as the RFC loop without walking an attacker's huge array.
 */
const MAX_PROOF_LENGTH = 64;

/**
 * MTH({}), the hash of the empty tree (RFC 9162 §2.1.1): SHA-256 of the empty string. Treat it as read-only;
 * the functions here hand out copies, never this array.
 */
export const EMPTY_ROOT: Uint8Array = sha256();

/**
 * The hash of one leaf, MTH({d}) = SHA-256(0x00 ‖ d) (RFC 9162 §2.1.1). The 0x00 prefix is what stops a
 * second-preimage attack passing an interior node off as a leaf.
 *
 * @throws {TypeError} when `data` is not a Uint8Array.
 * @example
 * const leaf = leafHash(eventHash); // 32 bytes; what Frontier.append takes
 */
export function leafHash(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError(`leafHash: data must be a Uint8Array, got ${describe(data)}`);
  return sha256(LEAF_PREFIX, data);
}

/**
 * The hash of an interior node, SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1). Children must be 32-byte hashes:
 * anything else is a bug in the caller, and hashing it would silently give a root no verifier can reproduce.
 *
 * @throws {TypeError} when `left` or `right` is not a 32-byte Uint8Array.
 * @example
 * nodeHash(leafHash(a), leafHash(b)); // the root of the two-leaf tree [a, b]
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'nodeHash: left');
  assertHash(right, 'nodeHash: right');
  return sha256(NODE_PREFIX, left, right);
}

/**
 * A complete aligned subtree: it covers leaves [index·2^level, (index+1)·2^level). Level 0 is a leaf hash.
 * These are the only nodes storage keeps: a node is final once its last leaf is appended, whatever comes after.
 */
export interface NodePosition {
  readonly level: number;
  readonly index: number;
}

/**
 * The complete subtrees that make up a tree of `size` leaves, left to right (largest first): one per set bit
 * of `size`. Their hashes are all the state an append needs, and `foldPeaks` of them is the root.
 *
 * @throws {RangeError} when `size` is not a safe integer ≥ 0.
 * @example
 * peakPositions(6); // [{ level: 2, index: 0 }, { level: 1, index: 2 }]
 */
export function peakPositions(size: number): NodePosition[] {
  assertSize(size, 'peakPositions: size');
  return rangePositions(0, size);
}

/**
 * The fewest complete aligned subtrees that cover leaves [start, end), left to right. Any range has such a
 * cover; when `start` is a multiple of a power of two ≥ end − start, which holds for every subtree the
 * recursion of RFC 9162 §2.1.1 visits, the subtrees shrink strictly from left to right and `foldPeaks` of their
 * hashes is MTH(D[start:end]). For other ranges (e.g. [1, 4)) the cover is still exact but is not a tree shape.
 *
 * @throws {RangeError} unless `start` and `end` are safe integers with 0 ≤ start ≤ end.
 * @example
 * rangePositions(4, 7); // [{ level: 1, index: 2 }, { level: 0, index: 6 }]
 */
export function rangePositions(start: number, end: number): NodePosition[] {
  assertSize(start, 'rangePositions: start');
  assertSize(end, 'rangePositions: end');
  if (start > end) throw new RangeError(`rangePositions: start ${start} is after end ${end}`);
  const positions: NodePosition[] = [];
  let at = start;
  while (at < end) {
    // The largest block that starts at `at`, is aligned there and still fits.
    let level = 0;
    let width = 1;
    while (at % (width * 2) === 0 && width * 2 <= end - at) {
      width *= 2;
      level += 1;
    }
    positions.push({ level, index: at / width });
    at += width;
  }
  return positions;
}

/**
 * MTH of the concatenation of left-to-right complete subtrees whose sizes strictly decrease (a tree's peaks,
 * or any cover `rangePositions` gives for an RFC subtree): folded from the right, because RFC 9162 §2.1.1
 * splits off the largest power of two on the left and recurses on the rest. No subtrees is the empty tree.
 *
 * @throws {TypeError} when an element is not a 32-byte Uint8Array.
 * @example
 * foldPeaks([h0123, h45]); // nodeHash(h0123, h45), the root of a 6-leaf tree
 */
export function foldPeaks(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT.slice();
  const last = hashes[hashes.length - 1];
  assertHash(last, `foldPeaks: hashes[${hashes.length - 1}]`);
  let root: Uint8Array = last.slice();
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i]!, root);
  return root;
}

/**
 * The incremental state of the tree: its size and the hashes of its peaks (`peakPositions(size)`). O(log n)
 * memory, so an append needs no reads and a past root needs only its peaks.
 */
export class Frontier {
  #size: number;
  readonly #peaks: Uint8Array[];

  private constructor(size: number, peaks: Uint8Array[]) {
    this.#size = size;
    this.#peaks = peaks;
  }

  /**
   * @example
   * const frontier = Frontier.empty(); // size 0, root EMPTY_ROOT
   */
  static empty(): Frontier {
    return new Frontier(0, []);
  }

  /**
   * Rebuilds the state from stored peaks (as read at `peakPositions(size)`). The peaks are copied.
   *
   * @throws {RangeError} when `size` is not a safe integer ≥ 0.
   * @throws {TypeError} when `peaks` is not one 32-byte Uint8Array per peak of `size`.
   * @example
   * const frontier = Frontier.fromPeaks(size, await read(peakPositions(size)));
   */
  static fromPeaks(size: number, peaks: readonly Uint8Array[]): Frontier {
    assertSize(size, 'Frontier.fromPeaks: size');
    const expected = peakPositions(size).length;
    if (!Array.isArray(peaks) || peaks.length !== expected) {
      throw new TypeError(`Frontier.fromPeaks: a tree of ${size} leaves has ${expected} peaks, got ${Array.isArray(peaks) ? peaks.length : describe(peaks)}`);
    }
    peaks.forEach((peak, i) => assertHash(peak, `Frontier.fromPeaks: peaks[${i}]`));
    return new Frontier(size, peaks.map((peak) => peak.slice()));
  }

  get size(): number {
    return this.#size;
  }

  /** Copies of the peak hashes, left to right (largest subtree first). */
  peaks(): readonly Uint8Array[] {
    return this.#peaks.map((peak) => peak.slice());
  }

  /**
   * Appends one leaf and returns the nodes it completes, level 0 (the leaf itself) first: exactly the nodes
   * storage must write for this append, since no later append changes a complete subtree.
   *
   * @param leaf - the leaf's hash, already `leafHash`ed.
   * @throws {TypeError} when `leaf` is not a 32-byte Uint8Array.
   * @throws {RangeError} when the tree already holds 2^53 − 1 leaves.
   * @example
   * frontier.append(leafHash(eventHash)); // size 3 → 4: [{0,3,…}, {1,1,…}, {2,0,…}]
   */
  append(leaf: Uint8Array): { level: number; index: number; hash: Uint8Array }[] {
    assertHash(leaf, 'Frontier.append: leaf');
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('Frontier.append: the tree is full (2^53 − 1 leaves)');
    let hash: Uint8Array = leaf.slice();
    let level = 0;
    let index = this.#size;
    const completed = [{ level, index, hash }];
    // Each trailing 1 bit of the old size is a peak of the same width just left of the new node: merge it.
    for (let rest = this.#size; rest % 2 === 1; rest = Math.floor(rest / 2)) {
      hash = nodeHash(this.#peaks.pop()!, hash);
      level += 1;
      index = Math.floor(index / 2);
      completed.push({ level, index, hash });
    }
    this.#peaks.push(hash);
    this.#size += 1;
    return completed.map((node) => ({ ...node, hash: node.hash.slice() }));
  }

  /** MTH of the leaves so far (RFC 9162 §2.1.1); a copy of EMPTY_ROOT for the empty tree. */
  root(): Uint8Array {
    return foldPeaks(this.#peaks);
  }

  clone(): Frontier {
    return new Frontier(this.#size, this.#peaks.map((peak) => peak.slice()));
  }
}

/**
 * Reads stored node hashes in one batch, returned in the order of `positions`; must throw when one is missing.
 * One call per proof lets storage turn O(log n) lookups into a single multi-get.
 */
export type NodeReader = (positions: readonly NodePosition[]) => Promise<Uint8Array[]>;

/**
 * MTH(D[0:size]) from the stored peaks of `size`, for any size the store has reached.
 *
 * @throws {RangeError} when `size` is not a safe integer ≥ 0.
 * @throws {LedgerError} STORE_CORRUPT when `read` returns the wrong number of hashes or one not 32 bytes long;
 *   whatever `read` throws for a missing node passes through.
 * @example
 * const root = await rootAt(checkpoint.size, read);
 */
export async function rootAt(size: number, read: NodeReader): Promise<Uint8Array> {
  assertSize(size, 'rootAt: size');
  if (size === 0) return EMPTY_ROOT.slice();
  const [root] = await hashRanges([{ start: 0, end: size }], read);
  return root!;
}

/**
 * PATH(index, D[size]) of RFC 9162 §2.1.3.1: the sibling subtree hashes from the leaf up to the root.
 *
 * @throws {RangeError} unless `index` and `size` are safe integers with 0 ≤ index < size.
 * @throws {LedgerError} STORE_CORRUPT as for `rootAt`.
 * @example
 * const proof = await inclusionProof(seq, size, read);
 * verifyInclusion(leafHash(eventHash), seq, size, proof, await rootAt(size, read)); // true
 */
export async function inclusionProof(index: number, size: number, read: NodeReader): Promise<Uint8Array[]> {
  assertSize(index, 'inclusionProof: index');
  assertSize(size, 'inclusionProof: size');
  if (index >= size) throw new RangeError(`inclusionProof: index ${index} is not below size ${size}`);
  return hashRanges(inclusionRanges(index, size), read);
}

/**
 * PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the subtree hashes that show the first m leaves of the n-leaf tree are
 * the m-leaf tree. Empty when m = n, by the definition SUBPROOF(m, D[m], true) = {}.
 *
 * @throws {RangeError} unless `m` and `n` are safe integers with 0 < m ≤ n.
 * @throws {LedgerError} STORE_CORRUPT as for `rootAt`.
 * @example
 * const proof = await consistencyProof(checkpoint.size, size, read);
 * verifyConsistency(checkpoint.size, size, checkpoint.rootHash, await rootAt(size, read), proof); // true
 */
export async function consistencyProof(m: number, n: number, read: NodeReader): Promise<Uint8Array[]> {
  assertSize(m, 'consistencyProof: m');
  assertSize(n, 'consistencyProof: n');
  if (m === 0 || m > n) throw new RangeError(`consistencyProof: needs 0 < m ≤ n, got m = ${m}, n = ${n}`);
  return hashRanges(consistencyRanges(m, n), read);
}

/**
 * Whether `proof` shows that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves with root
 * `root`: RFC 9162 §2.1.3.2 step by step. Never throws: anything malformed, including a proof element that is
 * not exactly 32 bytes, is `false`. The proof binds the leaf's path, not `size` itself: take `size` and `root`
 * from the same signed tree head.
 *
 * @example
 * verifyInclusion(leafHash(eventHash), seq, head.size, proof, head.rootHash);
 */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  try {
    if (!isHash(leaf) || !isHash(root) || !isSize(index) || !isSize(size) || !isProof(proof)) return false;
    // 1. leaf_index must be below tree_size.
    if (index >= size) return false;
    // 2.
    let fn = index;
    let sn = size - 1;
    // 3.
    let r = leaf;
    // 4.
    for (const p of proof) {
      // a. A path longer than the tree is tall is wrong.
      if (sn === 0) return false;
      // b.
      if (isOdd(fn) || fn === sn) {
        // i.
        r = nodeHash(p, r);
        // ii. Skip the levels where the leaf's subtree is the rightmost one and has no sibling.
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        // Otherwise, i.
        r = nodeHash(r, p);
      }
      // c.
      fn = half(fn);
      sn = half(sn);
    }
    // 5. sn = 0 means the path reached the root, neither short nor long.
    return sn === 0 && equalBytes(r, root);
  } catch {
    // Only a hostile object (a throwing getter, a proxy) gets here; the contract is a boolean.
    return false;
  }
}

/**
 * Whether `proof` shows that the tree of `m` leaves with root `rootM` is a prefix of the tree of `n` leaves
 * with root `rootN`: RFC 9162 §2.1.4.2 step by step. The RFC states the algorithm for 0 < m < n; m = n is
 * consistent exactly when the proof is empty and the roots are equal (PROOF(m, D[m]) = {}, §2.1.4.1). Never
 * throws: m = 0, m > n, a proof of the wrong length or an element not exactly 32 bytes is `false`. As with
 * inclusion, take each size from the same signed tree head as its root.
 *
 * @example
 * verifyConsistency(old.size, head.size, old.rootHash, head.rootHash, proof);
 */
export function verifyConsistency(m: number, n: number, rootM: Uint8Array, rootN: Uint8Array, proof: readonly Uint8Array[]): boolean {
  try {
    if (!isSize(m) || !isSize(n) || !isHash(rootM) || !isHash(rootN) || !isProof(proof)) return false;
    if (m === 0 || m > n) return false;
    if (m === n) return proof.length === 0 && equalBytes(rootM, rootN);
    // 1.
    if (proof.length === 0) return false;
    // 2. PROOF omits MTH(D[0:m]) when it is a complete subtree of D[n]; the verifier already holds it.
    const path = isPowerOfTwo(m) ? [rootM, ...proof] : [...proof];
    // 3.
    let fn = m - 1;
    let sn = n - 1;
    // 4. Climb to the top of the largest complete subtree that ends at leaf m − 1.
    while (isOdd(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    // 5.
    let fr = path[0]!;
    let sr = path[0]!;
    // 6.
    for (const c of path.slice(1)) {
      // a.
      if (sn === 0) return false;
      // b. A left sibling is inside both trees; a right sibling only inside the new one.
      if (isOdd(fn) || fn === sn) {
        // i., ii.
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        // iii.
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      } else {
        // Otherwise, i.
        sr = nodeHash(sr, c);
      }
      // c.
      fn = half(fn);
      sn = half(sn);
    }
    // 7.
    return equalBytes(fr, rootM) && equalBytes(sr, rootN) && sn === 0;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- planning: which subtrees a proof needs

/** Leaves [start, end) of an RFC 9162 subtree: start is a multiple of a power of two ≥ end − start. */
interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The subtrees whose hashes make up PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf side first. Walks the
 * recursion from the root down, so it collects the siblings top-down and reverses them.
 */
function inclusionRanges(index: number, size: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
    }
  }
  return topDown.reverse();
}

/** The subtrees whose hashes make up PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1), in order. */
function consistencyRanges(m: number, n: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = n;
  let first = m; // m relative to start
  let isOriginal = true; // the RFC's b: whether D[start:start+first] is still the whole old tree
  while (first !== end - start) {
    const k = splitPoint(end - start);
    if (first <= k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
      first -= k;
      isOriginal = false;
    }
  }
  // SUBPROOF(m, D[m], b): nothing when D[m] is the old tree itself, whose root the verifier holds.
  if (!isOriginal) topDown.push({ start, end });
  return topDown.reverse();
}

/**
 * The hashes MTH(D[start:end]) of `ranges`, from one batched read of every stored node their covers need.
 * Positions go to `read` deduplicated and in leaf order, which is the order storage keys sort in.
 */
async function hashRanges(ranges: readonly LeafRange[], read: NodeReader): Promise<Uint8Array[]> {
  const covers = ranges.map((range) => rangePositions(range.start, range.end));
  const unique = new Map<string, NodePosition>();
  for (const cover of covers) for (const position of cover) unique.set(positionKey(position), position);
  if (unique.size === 0) return [];
  const positions = [...unique.values()].sort((a, b) => lastLeaf(a) - lastLeaf(b) || a.level - b.level);
  const hashes = await read(positions);
  if (!Array.isArray(hashes) || hashes.length !== positions.length) {
    throw new LedgerError('STORE_CORRUPT', `the Merkle tree store answered ${Array.isArray(hashes) ? hashes.length : 'no list of'} hashes for ${positions.length} nodes`, {
      details: { wanted: positions.length },
    });
  }
  const byKey = new Map<string, Uint8Array>();
  positions.forEach((position, i) => {
    const hash = hashes[i];
    if (!isHash(hash)) {
      throw new LedgerError('STORE_CORRUPT', `the Merkle tree node ${position.level}/${position.index} is not a 32-byte hash`, {
        details: { level: position.level, index: position.index },
      });
    }
    byKey.set(positionKey(position), hash);
  });
  return covers.map((cover) => foldPeaks(cover.map((position) => byKey.get(positionKey(position))!)));
}

// ---------------------------------------------------------------- arithmetic on safe integers, without bit operators

/** RFC 9162 §2.1.1's k: the largest power of two smaller than n, for n ≥ 2. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function lastLeaf(position: NodePosition): number {
  return (position.index + 1) * 2 ** position.level - 1;
}

function positionKey(position: NodePosition): string {
  return `${position.level}:${position.index}`;
}

// ---------------------------------------------------------------- guards

function isSize(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_LENGTH;
}

function isProof(value: unknown): value is readonly Uint8Array[] {
  return Array.isArray(value) && value.length <= MAX_PROOF_LENGTH && value.every(isHash);
}

function assertSize(value: number, name: string): void {
  if (!isSize(value)) throw new RangeError(`${name} must be a safe integer ≥ 0, got ${String(value)}`);
}

function assertHash(value: unknown, name: string): asserts value is Uint8Array {
  if (!isHash(value)) throw new TypeError(`${name} must be a ${HASH_LENGTH}-byte Uint8Array, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return value === null ? 'null' : typeof value;
}
