/**
 * The Merkle tree of a sample set (SPEC §21.5): one leaf per sample, in byte order of the fingerprints, rolled
 * into an RFC 9162 Merkle Tree Hash with the same functions as the log's tree (tree.ts). Owns: the bytes of a
 * leaf, the fixed chunk layout, and building an audit path from one chunk's leaves plus the roots of the chunks.
 * Must not: do I/O, or hash anything in a way tree.ts does not.
 *
 * Why chunks of a power of two: every chunk but the last is then a complete aligned subtree, so the tree over
 * all leaves equals the tree over the chunk roots (RFC 9162 §2.1.1 splits at the largest power of two below n,
 * which for n above one chunk is a chunk boundary). A proof then needs the leaves of one chunk and the roots of
 * all chunks, not the millions of other leaves.
 */
import { concatBytes, utf8 } from '../bytes.js';
import { Frontier, inclusionProof, leafHash, type NodeReader } from './tree.js';

/** Samples per chunk event (2^13): about 540 KB of fingerprints, well under the 1 MiB event limit (SPEC §3.4). */
export const SAMPLE_CHUNK_SIZE = 8192;

/**
 * Domain tag of a sample leaf (SPEC §2.1 habit): a sample set's root can never equal the root of a tree of other
 * 32-byte values, such as the log's tree over event hashes.
 */
export const SAMPLE_LEAF_TAG: Uint8Array = utf8.encode('provledger/v1/sample\0');

/**
 * The bytes a sample's leaf hashes: tag ‖ 32 fingerprint bytes ‖ the UTF-8 canonical licence (only in a set
 * whose samples carry licences). The fingerprint has a fixed length, so the licence needs no separator.
 * @throws {TypeError} when the fingerprint is not 32 bytes.
 * @example sampleLeafData(fingerprint, 'MIT')
 */
export function sampleLeafData(fingerprint: Uint8Array, license?: string): Uint8Array {
  if (!(fingerprint instanceof Uint8Array) || fingerprint.length !== 32) throw new TypeError('sampleLeafData: a fingerprint is 32 bytes');
  return license === undefined ? concatBytes(SAMPLE_LEAF_TAG, fingerprint) : concatBytes(SAMPLE_LEAF_TAG, fingerprint, utf8.encode(license));
}

/** RFC 9162 leaf hash of `sampleLeafData`. */
export function sampleLeafHash(fingerprint: Uint8Array, license?: string): Uint8Array {
  return leafHash(sampleLeafData(fingerprint, license));
}

/** How many chunks hold `count` samples. */
export function chunkCount(count: number, chunkSize = SAMPLE_CHUNK_SIZE): number {
  return Math.ceil(count / chunkSize);
}

/**
 * MTH over hashes that are already leaf hashes (or complete subtree roots): the root of one chunk from its
 * leaves, and the root of the set from its chunk roots.
 * @example subtreeRoot(chunkRoots) // the sample set's root
 */
export function subtreeRoot(hashes: readonly Uint8Array[]): Uint8Array {
  const frontier = Frontier.empty();
  for (const hash of hashes) frontier.append(hash);
  return frontier.root();
}

/** The nodes of the tree over `hashes`, computed from them (for tree.ts's proof builder). */
function readerOver(hashes: readonly Uint8Array[]): NodeReader {
  return async (positions) => positions.map(({ level, index }) => subtreeRoot(hashes.slice(index * 2 ** level, (index + 1) * 2 ** level)));
}

/**
 * PATH(chunk·chunkSize + offset, D[n]) of RFC 9162 §2.1.3.1 for a set stored in chunks: the path inside the
 * chunk, then the path of the chunk among the chunk roots. Leaf side first, as `verifyInclusion` takes it.
 * @param leaves - the leaf hashes of the chunk that holds the sample.
 * @param chunkRoots - the root of every chunk of the set, in order.
 * @example const proof = await samplePath(leaves, 5, roots, 2); verifyInclusion(leaves[5], 2 * 8192 + 5, count, proof, subtreeRoot(roots));
 */
export async function samplePath(leaves: readonly Uint8Array[], offset: number, chunkRoots: readonly Uint8Array[], chunk: number): Promise<Uint8Array[]> {
  const inner = await inclusionProof(offset, leaves.length, readerOver(leaves));
  const outer = await inclusionProof(chunk, chunkRoots.length, readerOver(chunkRoots));
  return [...inner, ...outer];
}
