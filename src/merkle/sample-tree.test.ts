/**
 * SPEC §21.5: a sample's leaf bytes, and the two-level audit path (inside one chunk, then among the chunk roots)
 * being exactly RFC 9162's path over all the leaves. Expected values are computed with node:crypto from the
 * SPEC's text, independently of tree.ts.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkCount, SAMPLE_CHUNK_SIZE, sampleLeafData, sampleLeafHash, samplePath, subtreeRoot } from './sample-tree.js';
import { inclusionProof, verifyInclusion, type NodeReader } from './tree.js';

const sha = (...parts: (string | Uint8Array)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};

/** MTH over already-hashed leaves, straight from RFC 9162 §2.1.1's recursion. */
function mth(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha(new Uint8Array([1]), mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

const readerOver = (hashes: readonly Uint8Array[]): NodeReader => async (positions) => positions.map(({ level, index }) => mth(hashes.slice(index * 2 ** level, (index + 1) * 2 ** level)));

describe('SPEC §21.5: a leaf is tag ‖ fingerprint ‖ licence, hashed as an RFC 9162 leaf', () => {
  const fingerprint = sha('sample 1');
  it('hashes 0x00 ‖ "provledger/v1/sample" ‖ 0x00 ‖ the 32 fingerprint bytes, without a licence', () => {
    expect(sampleLeafHash(fingerprint)).toEqual(sha(new Uint8Array([0]), 'provledger/v1/sample\0', fingerprint));
  });
  it('appends the UTF-8 licence in a licensed set, so the same fingerprint under another licence is another leaf', () => {
    expect(sampleLeafHash(fingerprint, 'MIT')).toEqual(sha(new Uint8Array([0]), 'provledger/v1/sample\0', fingerprint, 'MIT'));
    expect(sampleLeafHash(fingerprint, 'MIT')).not.toEqual(sampleLeafHash(fingerprint, 'Apache-2.0'));
  });
  it('refuses a fingerprint that is not 32 bytes', () => {
    expect(() => sampleLeafData(fingerprint.subarray(1))).toThrow(TypeError);
  });
});

describe('SPEC §21.5: chunks of a power of two make the root over chunk roots the root over all leaves', () => {
  it('holds for every size and chunk width, and the two-level path is RFC 9162 PATH(m, D[n])', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 4 }), fc.nat(), async (n, bits, pick) => {
        const width = 2 ** bits;
        const leaves = Array.from({ length: n }, (_, i) => sha(`leaf ${i}`));
        const chunks = Array.from({ length: Math.ceil(n / width) }, (_, c) => leaves.slice(c * width, (c + 1) * width));
        const roots = chunks.map(subtreeRoot);
        const root = mth(leaves);
        expect(subtreeRoot(roots)).toEqual(root);
        const m = pick % n;
        const [c, offset] = [Math.floor(m / width), m % width];
        const path = await samplePath(chunks[c]!, offset, roots, c);
        expect(path).toEqual(await inclusionProof(m, n, readerOver(leaves)));
        expect(verifyInclusion(leaves[m]!, m, n, path, root)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
  it('counts chunks of 8192 samples', () => {
    expect(SAMPLE_CHUNK_SIZE).toBe(8192);
    expect([1, 8192, 8193, 1_000_000].map((n) => chunkCount(n))).toEqual([1, 1, 2, 123]);
  });
});
