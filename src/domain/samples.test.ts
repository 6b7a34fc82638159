/**
 * SPEC §21.5: the chunk events of a sample set (built, then read back strictly) and the licence summary its
 * record carries.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../event/event.js';
import { toSampleList } from './sample-file.js';
import { licenseSummary, parseSampleChunk, sampleChunkPayloads } from './samples.js';

const fp = (n: number) => n.toString(16).padStart(64, '0');

describe('SPEC §21.5: chunks hold 8192 sorted samples each, and read back as written', () => {
  const list = toSampleList({ fingerprints: Array.from({ length: 8192 + 3 }, (_, i) => fp(i + 1)), licenses: Array.from({ length: 8192 + 3 }, (_, i) => (i % 2 === 0 ? 'MIT' : 'CC0-1.0')) });
  const payloads = sampleChunkPayloads('set', 2, list);
  it('splits at 8192 and names the set, the version, the position and the count', () => {
    expect(payloads).toHaveLength(2);
    const chunks = payloads.map((p) => parseSampleChunk(p));
    expect(chunks.map((c) => typeof c !== 'string' && [c.id, c.version, c.chunk, c.chunks, c.fingerprints.length])).toEqual([
      ['set', 2, 0, 2, 8192],
      ['set', 2, 1, 2, 3],
    ]);
    const last = chunks[1] as Exclude<(typeof chunks)[1], string>;
    expect(last.fingerprints).toEqual(list.fingerprints.slice(8192));
    expect(last.licenses).toEqual(list.licenses!.slice(8192));
    expect((payloads[1] as { licenseTable: string[] }).licenseTable).toEqual(['CC0-1.0', 'MIT']);
  });
});

describe('SPEC §21.5: a malformed chunk is named, never thrown', () => {
  const good = sampleChunkPayloads('set', 1, toSampleList({ fingerprints: [fp(1), fp(2)], licenses: ['MIT', 'MIT'] }))[0] as { [key: string]: JsonValue };
  const cases: [string, JsonValue, RegExp][] = [
    ['not an object', [1], /must be an object/],
    ['an extra field', { ...good, extra: 1 }, /exactly the fields/],
    ['a missing licence table', { ...good, licenseTable: undefined as never }, /exactly the fields/],
    ['a bad id', { ...good, id: '-x' }, /id/],
    ['version 0', { ...good, version: 0 }, /version/],
    ['a position past the count', { ...good, chunk: 1 }, /position below its chunk count/],
    ['an unfull chunk that is not the last', { ...good, chunks: 2 }, /is not full/],
    ['upper-case hex', { ...good, fingerprints: [fp(1), fp(0xab).toUpperCase()] }, /lower-case/],
    ['unsorted fingerprints', { ...good, fingerprints: [fp(2), fp(1)] }, /not above the one before it/],
    ['a duplicate fingerprint', { ...good, fingerprints: [fp(1), fp(1)] }, /not above the one before it/],
    ['a licence not in canonical form', { ...good, licenseTable: ['mit'] }, /canonical/],
    ['an unused licence', { ...good, licenseTable: ['Apache-2.0', 'MIT'], licenses: [1, 1] }, /names a licence no sample has/],
    ['an index outside the table', { ...good, licenses: [0, 1] }, /not a position in its licenseTable/],
    ['too few licence indexes', { ...good, licenses: [0] }, /one licence index per fingerprint/],
    ['no fingerprints', { ...good, fingerprints: [], licenses: [] }, /1 to 8192 fingerprints/],
  ];
  it.each(cases)('%s', (_name, payload, message) => {
    const read = parseSampleChunk(JSON.parse(JSON.stringify(payload)) as JsonValue);
    expect(typeof read).toBe('string');
    expect(read).toMatch(message);
  });
  it('accepts the good one', () => expect(typeof parseSampleChunk(good)).toBe('object'));
});

describe('SPEC §21.5: the record counts samples per licence and concludes one licence', () => {
  it('is the licence itself when there is one', () => {
    expect(licenseSummary(['MIT', 'MIT'])).toEqual({ sampleLicenses: { MIT: 2 }, concluded: 'MIT' });
    expect(licenseSummary(['unknown']).concluded).toBe('unknown');
  });
  it('is the AND of every licence when each is an SPDX expression', () => {
    expect(licenseSummary(['MIT', 'Apache-2.0 OR MIT', 'CC-BY-4.0', 'MIT'])).toEqual({ sampleLicenses: { 'Apache-2.0 OR MIT': 1, 'CC-BY-4.0': 1, MIT: 2 }, concluded: '(Apache-2.0 OR MIT) AND CC-BY-4.0 AND MIT' });
  });
  it('is NOASSERTION when a sample is NONE, NOASSERTION or unknown beside others, or the AND is too long', () => {
    expect(licenseSummary(['MIT', 'NONE']).concluded).toBe('NOASSERTION');
    expect(licenseSummary(Array.from({ length: 100 }, (_, i) => `LicenseRef-a-long-licence-name-${i}`)).concluded).toBe('NOASSERTION');
  });
});
