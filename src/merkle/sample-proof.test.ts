/**
 * SPEC §21.6: the sample proof file and its offline verifier. Proofs are built here from the pure pieces (the
 * chunk layout, the two-level path, a record event sealed with the fixture owner key), without a ledger.
 * Properties: every member's proof verifies; any changed character of the file, or another fingerprint, fails;
 * a fingerprint that is not a member cannot borrow a member's path.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SigningKey } from '../crypto/keys.js';
import { toSampleList, type SampleList } from '../domain/sample-file.js';
import { licenseSummary, sampleLeaves, sampleTree } from '../domain/samples.js';
import { sealEvent, type JsonValue } from '../event/event.js';
import { ownerKey, otherKey } from '../../test/helpers/events.js';
import { formatSampleProof, parseSampleProof, verifySampleProof, type SampleProofFile } from './sample-proof.js';
import { SAMPLE_CHUNK_SIZE, samplePath } from './sample-tree.js';

const fp = (n: number) => createHash('sha256').update(`sample ${n}`).digest('hex');
const trusted = [{ publicKey: ownerKey.publicKey }];

function recordEvent(list: SampleList, key: SigningKey = ownerKey, data: { [key: string]: JsonValue } = {}): Uint8Array {
  const { root, count } = sampleTree(list);
  const licensed: { [key: string]: JsonValue } = list.licenses === null ? {} : { sampleLicenses: licenseSummary(list.licenses).sampleLicenses };
  const payload: JsonValue = { id: 'set', kind: 'sample-set', version: 1, data: { name: 'set', root, count, fingerprint: 'sha256', ...licensed, ...data } };
  return sealEvent({ v: 1, seq: 9, prev: new Uint8Array(32), ts: 1_800_000_000_000, type: 'record.create', author: key.publicKey, payload }, key).bytes;
}

async function proofOf(list: SampleList, index: number, record = recordEvent(list)): Promise<SampleProofFile> {
  const { chunkRoots } = sampleTree(list);
  const chunk = Math.floor(index / SAMPLE_CHUNK_SIZE);
  const from = chunk * SAMPLE_CHUNK_SIZE;
  const to = Math.min(from + SAMPLE_CHUNK_SIZE, list.fingerprints.length);
  const leaves = sampleLeaves(list.fingerprints.slice(from, to), list.licenses?.slice(from, to) ?? null);
  const hashes = await samplePath(leaves, index - from, chunkRoots, chunk);
  return { record, fingerprint: list.fingerprints[index]!, license: list.licenses?.[index] ?? null, index, hashes, ledgerProof: null };
}

const small = toSampleList({ fingerprints: Array.from({ length: 37 }, (_, i) => fp(i)) });
const licensed = toSampleList({ fingerprints: Array.from({ length: 20 }, (_, i) => fp(i)), licenses: Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 'CC-BY-NC-4.0' : 'MIT')) });

describe('SPEC §21.6: the proof file reads back as written', () => {
  it('round-trips, with and without a licence', async () => {
    for (const list of [small, licensed]) {
      const proof = await proofOf(list, 5);
      expect(parseSampleProof(formatSampleProof(proof))).toEqual(proof);
    }
  });
  const cases: [string, (text: string) => string, RegExp][] = [
    ['another header', (t) => t.replace('sample-proof@v1', 'sample-proof@v2'), /first line/],
    ['CRLF line ends', (t) => t.replaceAll('\n', '\r\n'), /carriage return/],
    ['a fingerprint in upper case', (t) => t.replace(/^fingerprint (.*)$/m, (_m, f: string) => `fingerprint ${f.toUpperCase()}`), /lower-case/],
    ['an index with a leading zero', (t) => t.replace(/^index (\d+)$/m, 'index 05'), /leading zeros/],
    ['non-canonical base64', (t) => t.replace(/^record (.*)$/m, (_m, b: string) => `record ${b.replace(/=*$/, '')}`), /canonical base64/],
    ['a short hash', (t) => t.replace(/^index (\d+)\n(.*)$/m, (_m, i: string) => `index ${i}\nAAAA`), /32 bytes/],
    ['no blank line after the hashes', (t) => t.trimEnd(), /followed by a blank line/],
    ['something else after the blank line', (t) => `${t}hello\n`, /ledger inclusion proof/],
  ];
  it.each(cases)('is MALFORMED with %s', async (_name, edit, message) => {
    const text = edit(formatSampleProof(await proofOf(small, 5)));
    expect(() => parseSampleProof(text)).toThrow(message);
    const verdict = verifySampleProof(text, { trustedKeys: trusted });
    expect(verdict.ok ? null : verdict.code).toBe('MALFORMED');
  });
});

describe('SPEC §21.6: every member of a set has a proof that verifies', () => {
  it('for any set size (across chunk boundaries too) and any member', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.nat(), fc.boolean(), async (n, pick, withLicences) => {
        const list = toSampleList({ fingerprints: Array.from({ length: n }, (_, i) => fp(i)), ...(withLicences ? { licenses: Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'MIT' : 'NONE')) } : {}) });
        const index = pick % n;
        const verdict = verifySampleProof(formatSampleProof(await proofOf(list, index)), { trustedKeys: trusted });
        expect(verdict).toMatchObject({ ok: true, id: 'set', version: 1, index, count: n, fingerprint: list.fingerprints[index], license: list.licenses?.[index] ?? null });
      }),
      { numRuns: 60 },
    );
  });
  it('also past the first chunk of a large set', async () => {
    const large = toSampleList({ fingerprints: Array.from({ length: SAMPLE_CHUNK_SIZE + 5 }, (_, i) => fp(i)) });
    for (const index of [0, SAMPLE_CHUNK_SIZE - 1, SAMPLE_CHUNK_SIZE, SAMPLE_CHUNK_SIZE + 4]) {
      expect(verifySampleProof(formatSampleProof(await proofOf(large, index)), { trustedKeys: trusted }).ok).toBe(true);
    }
  });
});

describe('SPEC §21.6: a changed proof, or a sample that is not a member, does not verify', () => {
  it('fails when any one character of the file changes', async () => {
    const text = formatSampleProof(await proofOf(licensed, 7));
    await fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.integer({ min: 1, max: 127 }), (at, delta) => {
        const code = text.charCodeAt(at);
        const changed = text.slice(0, at) + String.fromCharCode((code + delta) % 128) + text.slice(at + 1);
        fc.pre(changed !== text);
        expect(verifySampleProof(changed, { trustedKeys: trusted }).ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
  it('fails for another fingerprint on a member\'s path (INCLUSION_FAILED): a non-member never gets a proof', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: small.fingerprints.length - 1 }), fc.integer({ min: 1000, max: 2000 }), async (index, other) => {
        const proof = await proofOf(small, index);
        const verdict = verifySampleProof(formatSampleProof({ ...proof, fingerprint: fp(other) }), { trustedKeys: trusted });
        expect(verdict.ok ? null : verdict.code).toBe('INCLUSION_FAILED');
      }),
      { numRuns: 30 },
    );
  });
  it('fails without the licence in a licensed set, or with another licence', async () => {
    const proof = await proofOf(licensed, 3);
    for (const license of [null, proof.license === 'MIT' ? 'CC-BY-NC-4.0' : 'MIT']) {
      const verdict = verifySampleProof(formatSampleProof({ ...proof, license }), { trustedKeys: trusted });
      expect(verdict.ok ? null : verdict.code).toBe('INCLUSION_FAILED');
    }
  });
  it('fails with an index at or past the count', async () => {
    const proof = await proofOf(small, 3);
    const verdict = verifySampleProof(formatSampleProof({ ...proof, index: small.fingerprints.length }), { trustedKeys: trusted });
    expect(verdict.ok ? null : verdict.code).toBe('INCLUSION_FAILED');
  });
});

describe('SPEC §21.6: the record event is signed, a sample set, and by a trusted key', () => {
  it('is AUTHOR_UNAUTHORIZED when its author is not trusted', async () => {
    const verdict = verifySampleProof(formatSampleProof(await proofOf(small, 1, recordEvent(small, otherKey))), { trustedKeys: trusted });
    expect(verdict.ok ? null : verdict.code).toBe('AUTHOR_UNAUTHORIZED');
  });
  it('is EVENT_INVALID when the signature fails, or the event is not a sample-set version', async () => {
    const bytes = recordEvent(small);
    bytes[10] = bytes[10]! ^ 1; // inside the signature
    const forged = verifySampleProof(formatSampleProof(await proofOf(small, 1, bytes)), { trustedKeys: trusted });
    expect(forged.ok ? null : forged.code).toBe('EVENT_INVALID');
    const wrong = verifySampleProof(formatSampleProof(await proofOf(small, 1, recordEvent(small, ownerKey, { fingerprint: 'sha512' }))), { trustedKeys: trusted });
    expect(wrong.ok ? null : wrong.code).toBe('EVENT_INVALID');
  });
});
