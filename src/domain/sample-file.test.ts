/**
 * SPEC §21.5 input: the plain and JSON Lines formats of a sample file, and every refusal naming its line.
 */
import { describe, expect, it } from 'vitest';
import { LedgerError } from '../errors.js';
import { MAX_SAMPLE_LICENSES, parseSampleText, toSampleList } from './sample-file.js';

const fp = (n: number) => n.toString(16).padStart(64, '0');
const A = fp(0xa);
const B = fp(0xb);
const C = fp(0xc);

function refusal(text: string): { code: string; message: string } {
  try {
    parseSampleText(text, 'in.txt');
  } catch (error) {
    if (error instanceof LedgerError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('SPEC §21.5: a plain file is one fingerprint per line', () => {
  it('sorts the samples, lower-cases them, skips blank lines and takes CRLF and a missing final newline', () => {
    expect(parseSampleText(`${C}\r\n\n${A.toUpperCase()}\n  \n${B}`)).toEqual({ fingerprints: [A, B, C], licenses: null });
  });
});

describe('SPEC §21.5: JSON Lines carry a licence per sample', () => {
  it('stores each licence in canonical form, parallel to the sorted fingerprints', () => {
    const list = parseSampleText(`{"fingerprint":"${B}","license":"mit"}\n{"fingerprint":"${A}","license":"apache-2.0 or mit"}\n`);
    expect(list).toEqual({ fingerprints: [A, B], licenses: ['Apache-2.0 OR MIT', 'MIT'] });
  });
  it('reads JSON Lines without licences as a set without licences', () => {
    expect(parseSampleText(`{"fingerprint":"${A}"}`)).toEqual({ fingerprints: [A], licenses: null });
  });
});

describe('SPEC §21.5: a malformed file is refused with INVALID_ARGUMENT naming the line', () => {
  const cases: [string, string, RegExp][] = [
    ['bad hex', `${A}\n${'g'.repeat(64)}\n`, /^in\.txt line 2 .*not a SHA-256 fingerprint/],
    ['a short fingerprint', `${A.slice(1)}\n`, /^in\.txt line 1 /],
    ['a fingerprint with spaces around it', ` ${A}\n`, /^in\.txt line 1 /],
    ['JSON after a plain line', `${A}\n{"fingerprint":"${B}"}\n`, /line 2 is JSON, but the first line is a plain fingerprint/],
    ['bad JSON', `{"fingerprint":"${A}"}\n{"fingerprint":\n`, /line 2 is not valid JSON/],
    ['a JSON value that is not an object', `{"fingerprint":"${A}"}\n[1]\n`, /line 2 must be a JSON object/],
    ['an unknown field (a typo of license)', `{"fingerprint":"${A}","licence":"MIT"}\n`, /line 1 has an unknown field "licence"/],
    ['no fingerprint', `{"license":"MIT"}\n`, /line 1 has no "fingerprint"/],
    ['a bad licence', `{"fingerprint":"${A}","license":"MIT ANDOR GPL"}\n`, /line 1 has an invalid licence/],
    ['a licence that is not text', `{"fingerprint":"${A}","license":3}\n`, /line 1 has a "license" that is not a string/],
    ['licences on some samples only', `{"fingerprint":"${A}","license":"MIT"}\n{"fingerprint":"${B}"}\n`, /line 2 has no licence, but the samples before it have one/],
    ['a duplicate (even in another case)', `${B}\n${A}\n\n${B.toUpperCase()}\n`, new RegExp(`line 4 repeats the fingerprint ${B} of line 1`)],
    ['an empty file', '', /in\.txt holds no fingerprints/],
    ['only blank lines', '\n \r\n', /in\.txt holds no fingerprints/],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    const { code, message: got } = refusal(text);
    expect(code).toBe('INVALID_ARGUMENT');
    expect(got).toMatch(message);
    expect(got).not.toContain('\n');
  });
  it(`refuses more than ${MAX_SAMPLE_LICENSES} distinct licences`, () => {
    const lines = Array.from({ length: MAX_SAMPLE_LICENSES + 1 }, (_, i) => JSON.stringify({ fingerprint: fp(i + 1), license: `LicenseRef-l${i}` }));
    expect(refusal(lines.join('\n')).message).toMatch(new RegExp(`line ${MAX_SAMPLE_LICENSES + 1} brings the set to more than ${MAX_SAMPLE_LICENSES} distinct licences`));
    expect(() => parseSampleText(lines.slice(0, MAX_SAMPLE_LICENSES).join('\n'))).not.toThrow();
  });
});

describe('SPEC §21.5: the library takes arrays with the same checks', () => {
  it('sorts and canonicalises', () => {
    expect(toSampleList({ fingerprints: [B, A], licenses: ['mit', 'NONE'] })).toEqual({ fingerprints: [A, B], licenses: ['NONE', 'MIT'] });
  });
  it('names the entry of a bad sample, and refuses licences that do not pair with the fingerprints', () => {
    expect(() => toSampleList({ fingerprints: [A, 'x'] })).toThrow(/entry 2/);
    expect(() => toSampleList({ fingerprints: [A, B], licenses: ['MIT'] })).toThrow(/one licence per fingerprint/);
  });
});
