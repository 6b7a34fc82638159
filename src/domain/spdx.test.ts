/**
 * SPDX license expressions (SPDX 2.3 Annex D, SPDX 3.0 Annex D) and their ML classification, one describe per
 * rule. Tests assert codes and columns, not messages, except where the message is the feature.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLedgerError, type LedgerError } from '../errors.js';
import {
  classifyLicense,
  formatLicense,
  LICENSE_FINDING_SEVERITY,
  licenseFindings,
  licenseIds,
  licenseInfo,
  MAX_LICENSE_LENGTH,
  MAX_LICENSE_NESTING,
  parseLicense,
  type LicenseExpression,
  type LicenseValue,
} from './spdx.js';

function invalid(text: string): LedgerError {
  try {
    parseLicense(text);
  } catch (error) {
    if (!isLedgerError(error, 'INVALID_ARGUMENT')) throw new Error(`expected LedgerError INVALID_ARGUMENT, got ${String(error)}`, { cause: error });
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

const canonical = (text: string) => formatLicense(parseLicense(text));
const expression = (text: string): LicenseExpression => {
  const value = parseLicense(text);
  if (value.kind !== 'expression') throw new Error(`${text} is ${value.kind}, not an expression`);
  return value.expression;
};
const id = (name: string, orLater = false): LicenseExpression => ({ type: 'license', id: name, orLater });

describe('SPDX D.3–D.4: valid expressions and their canonical forms', () => {
  it.each([
    ['MIT', 'MIT'],
    ['  MIT\t', 'MIT'],
    ['GPL-2.0+', 'GPL-2.0+'],
    ['CDDL-1.0+', 'CDDL-1.0+'],
    ['LicenseRef-23', 'LicenseRef-23'],
    ['LicenseRef-MIT-Style-1', 'LicenseRef-MIT-Style-1'],
    ['DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2', 'DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2'],
    ['GPL-2.0-or-later WITH Bison-exception-2.2', 'GPL-2.0-or-later WITH Bison-exception-2.2'],
    ['GPL-2.0+ WITH Classpath-exception-2.0', 'GPL-2.0+ WITH Classpath-exception-2.0'],
    ['LicenseRef-x WITH AdditionRef-y', 'LicenseRef-x WITH AdditionRef-y'],
    ['MIT WITH DocumentRef-d:AdditionRef-y', 'MIT WITH DocumentRef-d:AdditionRef-y'],
    ['LGPL-2.1-only OR MIT', 'LGPL-2.1-only OR MIT'],
    ['LGPL-2.1-only OR MIT OR BSD-3-Clause', 'LGPL-2.1-only OR MIT OR BSD-3-Clause'],
    ['LGPL-2.1-only AND MIT AND BSD-2-Clause', 'LGPL-2.1-only AND MIT AND BSD-2-Clause'],
    ['(MIT)', 'MIT'],
    ['((MIT OR Apache-2.0))', 'MIT OR Apache-2.0'],
    ['MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)', 'MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)'],
    ['(LGPL-2.1-only OR BSD-3-Clause) AND MIT', '(LGPL-2.1-only OR BSD-3-Clause) AND MIT'],
    ['LGPL-2.1-only OR (BSD-3-Clause AND MIT)', 'LGPL-2.1-only OR BSD-3-Clause AND MIT'],
    ['MIT AND(Apache-2.0 OR ISC)', 'MIT AND (Apache-2.0 OR ISC)'],
    ['(MIT)AND(ISC)', 'MIT AND ISC'],
    ['MIT  OR\tISC', 'MIT OR ISC'],
    ['MIT AND (ISC AND Zlib)', 'MIT AND (ISC AND Zlib)'],
    ['My-Own-License.2', 'My-Own-License.2'],
  ])('%s → %s', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });
});

describe('SPDX D.2: case', () => {
  it('accepts operators in all upper or all lower case, and prints them upper case', () => {
    expect(canonical('MIT or Apache-2.0 and ISC')).toBe('MIT OR Apache-2.0 AND ISC');
    expect(canonical('GPL-2.0-only with Classpath-exception-2.0')).toBe('GPL-2.0-only WITH Classpath-exception-2.0');
  });

  it.each([['MIT And ISC', 5], ['MIT oR ISC', 5], ['GPL-2.0-only With Classpath-exception-2.0', 14], ['MIT AND aNd', 9]])(
    'rejects the mixed-case operator in %s at column %i',
    (text, column) => {
      expect(invalid(text).details.column).toBe(column);
    },
  );

  it('matches recognised ids and exceptions case-insensitively and stores their canonical case', () => {
    expect(expression('mit')).toEqual(id('MIT'));
    expect(expression('cc-by-nc-4.0')).toEqual(id('CC-BY-NC-4.0'));
    expect(canonical('gpl-2.0-only WITH classpath-exception-2.0')).toBe('GPL-2.0-only WITH Classpath-exception-2.0');
    expect(canonical('LicenseRef-llama-2')).toBe('LicenseRef-Llama-2');
  });

  it('keeps unrecognised ids as written', () => {
    expect(expression('Foo-1.0')).toEqual(id('Foo-1.0'));
    expect(canonical('LicenseRef-foo WITH my-exception')).toBe('LicenseRef-foo WITH my-exception');
  });

  it.each(['licenseref-foo', 'LICENSEREF-foo', 'documentref-x:LicenseRef-y', 'DocumentRef-x:licenseRef-y', 'MIT WITH additionref-x'])(
    'rejects the mis-cased prefix in %s',
    (text) => {
      invalid(text);
    },
  );
});

describe('SPDX D.4.5: precedence is + then WITH then AND then OR, grouping to the left', () => {
  it('reads A OR B AND C as A OR (B AND C)', () => {
    expect(expression('MIT OR ISC AND Zlib')).toEqual({ type: 'or', left: id('MIT'), right: { type: 'and', left: id('ISC'), right: id('Zlib') } });
  });

  it('reads A AND B OR C as (A AND B) OR C', () => {
    expect(expression('MIT AND ISC OR Zlib')).toEqual({ type: 'or', left: { type: 'and', left: id('MIT'), right: id('ISC') }, right: id('Zlib') });
  });

  it('lets parentheses override it', () => {
    expect(expression('(MIT OR ISC) AND Zlib')).toEqual({ type: 'and', left: { type: 'or', left: id('MIT'), right: id('ISC') }, right: id('Zlib') });
  });

  it('binds WITH tightest', () => {
    expect(expression('MIT OR GPL-2.0-only WITH Classpath-exception-2.0 AND ISC')).toEqual({
      type: 'or',
      left: id('MIT'),
      right: { type: 'and', left: { type: 'license', id: 'GPL-2.0-only', orLater: false, exception: 'Classpath-exception-2.0' }, right: id('ISC') },
    });
  });

  it('binds + to its id before WITH', () => {
    expect(expression('GPL-2.0+ WITH Bison-exception-2.2')).toEqual({ type: 'license', id: 'GPL-2.0', orLater: true, exception: 'Bison-exception-2.2' });
  });

  it('groups chains of one operator to the left', () => {
    expect(expression('MIT AND ISC AND Zlib')).toEqual({ type: 'and', left: { type: 'and', left: id('MIT'), right: id('ISC') }, right: id('Zlib') });
  });
});

describe('the whole values NONE, NOASSERTION and unknown', () => {
  it.each([
    ['NONE', { kind: 'none' }],
    ['NOASSERTION', { kind: 'noassertion' }],
    ['unknown', { kind: 'unknown' }],
    [' NONE ', { kind: 'none' }],
  ] as const)('parses %s', (text, value) => {
    expect(parseLicense(text)).toEqual(value);
    expect(formatLicense(value)).toBe(text.trim());
  });

  it.each(['none', 'None', 'noassertion', 'UNKNOWN', 'Unknown'])('rejects the mis-spelled %s rather than read it as a license id', (text) => {
    expect(invalid(text).details.column).toBe(1);
  });

  it.each([['MIT AND NONE', 9], ['NOASSERTION OR MIT', 1], ['(unknown)', 2], ['GPL-2.0-only WITH NONE', 19]])(
    'rejects %s, where a whole value is part of an expression, at column %i',
    (text, column) => {
      expect(invalid(text).details.column).toBe(column);
    },
  );
});

describe('invalid expressions name the column and what was expected', () => {
  it.each([
    ['', 1],
    ['   ', 4],
    ['MIT AND', 8],
    ['AND MIT', 1],
    ['MIT ISC', 5],
    ['MIT OR OR ISC', 8],
    ['(MIT', 5],
    ['MIT)', 4],
    ['()', 2],
    ['(MIT OR ISC', 12],
    ['MIT OR ISC)', 11],
    ['GPL-2.0 + ', 9],
    ['GPL-2.0++', 1],
    ['GP+L', 1],
    ['+', 1],
    ['-', 1],
    ['MIT/ISC', 4],
    ['MIT, ISC', 4],
    ['MIT OR\nISC', 7],
    ['MIT OR é', 8],
    ['LicenseRef-', 1],
    ['LicenseRef-foo+', 1],
    ['DocumentRef-x', 1],
    ['DocumentRef-x:', 1],
    ['DocumentRef-x:MIT', 1],
    ['foo:bar', 1],
    ['AdditionRef-x', 1],
    ['MIT WITH', 9],
    ['MIT WITH (Classpath-exception-2.0)', 10],
    ['MIT WITH LicenseRef-x', 10],
    ['MIT WITH GPL-2.0+', 10],
    ['(MIT) WITH Classpath-exception-2.0', 7],
    ['MIT WITH Classpath-exception-2.0 WITH LLVM-exception', 34],
    ['MIT AND OR', 9],
  ])('%j at column %i', (text, column) => {
    expect(invalid(text).details.column).toBe(column);
  });

  it('says in one sentence where and what was expected', () => {
    expect(invalid('MIT AND').message).toBe('license "MIT AND" is not valid: at column 8, expected a license id, LicenseRef-… or "(", found the end');
    expect(invalid('MIT ISC').message).toBe('license "MIT ISC" is not valid: at column 5, expected AND, OR, WITH or the end, found "ISC"');
    expect(invalid('(MIT OR ISC').message).toContain('expected AND, OR, WITH or ")", found the end');
  });

  it('refuses values that are not strings', () => {
    expect(isLedgerError(catching(() => parseLicense(42 as unknown as string)), 'INVALID_ARGUMENT')).toBe(true);
    expect(isLedgerError(catching(() => parseLicense(null as unknown as string)), 'INVALID_ARGUMENT')).toBe(true);
  });
});

function catching(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('hostile input fails fast with INVALID_ARGUMENT, never a RangeError', () => {
  const fastInvalid = (text: string) => {
    const start = performance.now();
    const error = invalid(text);
    expect(performance.now() - start).toBeLessThan(100); // generous: the machine is shared
    return error;
  };

  it('refuses 100,000 characters by length alone', () => {
    expect(fastInvalid('MIT OR '.repeat(14_286)).details).toMatchObject({ column: MAX_LICENSE_LENGTH + 1, limit: MAX_LICENSE_LENGTH });
  });

  it('refuses 10,000 nested parentheses', () => {
    fastInvalid(`${'('.repeat(10_000)}MIT${')'.repeat(10_000)}`);
  });

  it(`refuses nesting deeper than ${MAX_LICENSE_NESTING} within the length limit`, () => {
    const depth = MAX_LICENSE_NESTING + 1;
    expect(fastInvalid(`${'('.repeat(depth)}MIT${')'.repeat(depth)}`).details.column).toBe(depth);
    expect(fastInvalid('('.repeat(MAX_LICENSE_LENGTH)).details.column).toBe(depth);
  });

  it(`accepts nesting of exactly ${MAX_LICENSE_NESTING}`, () => {
    expect(canonical(`${'('.repeat(MAX_LICENSE_NESTING)}MIT${')'.repeat(MAX_LICENSE_NESTING)}`)).toBe('MIT');
  });

  /** As many terms as fit in MAX_LICENSE_LENGTH. */
  const longest = (term: (i: number) => string, operator: string) => {
    const terms: string[] = [];
    while ([...terms, term(terms.length)].join(operator).length <= MAX_LICENSE_LENGTH) terms.push(term(terms.length));
    return terms;
  };

  it('parses, prints and classifies the longest allowed chain', () => {
    const chain = longest((i) => (i % 2 ? 'MIT' : 'CC-BY-NC-4.0'), ' OR ').join(' OR ');
    const value = parseLicense(chain);
    expect(formatLicense(value)).toBe(chain);
    expect(classifyLicense(value).flags.nonCommercial).toBe(false);
  });

  it('classifies the longest AND of ORs without enumerating every way to comply', () => {
    const groups = longest((i) => `(CC-BY-NC-4.0 OR LicenseRef-${i})`, ' AND ');
    expect(groups.length).toBeGreaterThan(25); // over 2^25 ways to comply, collapsed to their distinct restrictions
    const start = performance.now();
    expect(classifyLicense(parseLicense(groups.join(' AND '))).unknown).toBe(true);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('throws nothing but INVALID_ARGUMENT for any text over its alphabet', () => {
    const alphabet = fc.constantFrom('(', ')', ' ', 'MIT', 'AND', 'or', 'WITH', '+', ':', 'LicenseRef-', 'DocumentRef-a', 'NONE', 'x', '-', '.', '\n', 'é');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((parts) => parts.join('')), (text) => {
        try {
          const value = parseLicense(text);
          expect(parseLicense(formatLicense(value))).toEqual(value);
        } catch (error) {
          expect(isLedgerError(error, 'INVALID_ARGUMENT')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- round trip --------------------------------------------------------------------------------------

const idstring = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.-]{0,10}$/);
const reserved = /^(and|or|with|none|noassertion|unknown|licenseref-.*|documentref-.*|additionref-.*)$/i;
/** Ids the parser keeps as they are: canonical table ids, or unrecognised ids that cannot be mistaken for anything else. */
const licenseIdArb = fc.oneof(fc.constantFrom('MIT', 'Apache-2.0', 'GPL-2.0-only', 'CC-BY-NC-4.0', 'CC-BY-SA-4.0', 'CC0-1.0'), idstring.filter((s) => licenseInfo(s) === undefined && !reserved.test(s)));
const exceptionArb = fc.oneof(fc.constantFrom('Classpath-exception-2.0', 'LLVM-exception', 'AdditionRef-x', 'DocumentRef-d:AdditionRef-y'), idstring.filter((s) => !reserved.test(s) && s.toLowerCase() !== 'classpath-exception-2.0' && s.toLowerCase() !== 'llvm-exception'));
const refArb = fc.oneof(
  fc.constant('LicenseRef-Llama-3'),
  idstring.filter((s) => licenseInfo(`LicenseRef-${s}`) === undefined).map((s) => `LicenseRef-${s}`),
  fc.tuple(idstring, idstring).map(([d, r]) => `DocumentRef-${d}:LicenseRef-${r}`),
);
const withException = <T extends object>(base: T, exception: string | null): T => (exception === null ? base : { ...base, exception });
const leafArb: fc.Arbitrary<LicenseExpression> = fc.oneof(
  fc.tuple(licenseIdArb, fc.boolean(), fc.option(exceptionArb)).map(([name, orLater, exception]) => withException({ type: 'license' as const, id: name, orLater }, exception)),
  fc.tuple(refArb, fc.option(exceptionArb)).map(([ref, exception]) => withException({ type: 'ref' as const, ref }, exception)),
);
const { tree: treeArb } = fc.letrec<{ tree: LicenseExpression }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ type: fc.constantFrom('and' as const, 'or' as const), left: tie('tree'), right: tie('tree') }, { noNullPrototype: true }),
  ),
}));
const valueArb: fc.Arbitrary<LicenseValue> = fc.oneof(
  treeArb.map((tree) => ({ kind: 'expression' as const, expression: tree })),
  fc.constantFrom<LicenseValue>({ kind: 'none' }, { kind: 'noassertion' }, { kind: 'unknown' }),
);

describe('formatLicense is canonical and round-trips', () => {
  it('prints minimal parentheses', () => {
    const [a, b, c] = [id('MIT'), id('ISC'), id('Zlib')];
    const show = (expression: LicenseExpression) => formatLicense({ kind: 'expression', expression });
    expect(show({ type: 'and', left: { type: 'or', left: a, right: b }, right: c })).toBe('(MIT OR ISC) AND Zlib');
    expect(show({ type: 'or', left: a, right: { type: 'and', left: b, right: c } })).toBe('MIT OR ISC AND Zlib');
    expect(show({ type: 'or', left: a, right: { type: 'or', left: b, right: c } })).toBe('MIT OR (ISC OR Zlib)');
    expect(show({ type: 'or', left: { type: 'or', left: a, right: b }, right: c })).toBe('MIT OR ISC OR Zlib');
  });

  it('parse(format(x)) equals x for generated values', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const text = formatLicense(value);
        fc.pre(text.length <= MAX_LICENSE_LENGTH);
        expect(parseLicense(text)).toStrictEqual(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('format(parse(s)) is a fixed point for any valid s', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const text = formatLicense(value).toLowerCase().replaceAll(' ', '  ');
        fc.pre(text.length <= MAX_LICENSE_LENGTH && !/licenseref|documentref|additionref|^(none|noassertion)$/.test(text));
        const once = canonical(text);
        expect(canonical(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('licenseIds lists the licenses named, sorted and unique', () => {
  it.each([
    ['MIT', ['MIT']],
    ['MIT OR (GPL-2.0+ WITH Classpath-exception-2.0) OR mit', ['GPL-2.0+', 'MIT']],
    ['LicenseRef-b AND DocumentRef-d:LicenseRef-a AND Apache-2.0', ['Apache-2.0', 'DocumentRef-d:LicenseRef-a', 'LicenseRef-b']],
    ['GPL-2.0-only AND GPL-2.0+', ['GPL-2.0+', 'GPL-2.0-only']],
    ['NONE', []],
    ['NOASSERTION', []],
    ['unknown', []],
  ])('%s → %j', (text, ids) => {
    expect(licenseIds(parseLicense(text))).toEqual(ids);
  });
});

// ---- classification ----------------------------------------------------------------------------------

const flags = (text: string) => {
  const { flags: f, unknown } = classifyLicense(parseLicense(text));
  return { nc: f.nonCommercial, nd: f.noDerivatives, sa: f.shareAlike, known: f.recognised, unknown };
};
const clean = { nc: false, nd: false, sa: false, known: true, unknown: false };

describe('classification of single licenses (the built-in table)', () => {
  it.each([
    ['MIT', clean],
    ['Apache-2.0', clean],
    ['BSD-3-Clause', clean],
    ['CC0-1.0', clean],
    ['CC-BY-4.0', clean],
    ['CDLA-Permissive-2.0', clean],
    ['ODC-By-1.0', clean],
    ['PDDL-1.0', clean],
    ['OpenMDW-1.0', clean],
    ['GPL-3.0-or-later', { ...clean, sa: true }],
    ['AGPL-3.0-only', { ...clean, sa: true }],
    ['MPL-2.0', { ...clean, sa: true }],
    ['CC-BY-SA-4.0', { ...clean, sa: true }],
    ['ODbL-1.0', { ...clean, sa: true }],
    ['CDLA-Sharing-1.0', { ...clean, sa: true }],
    ['CC-BY-NC-4.0', { ...clean, nc: true }],
    ['CC-BY-NC-3.0', { ...clean, nc: true }],
    ['CC-BY-NC-SA-4.0', { ...clean, nc: true, sa: true }],
    ['CC-BY-ND-4.0', { ...clean, nd: true }],
    ['CC-BY-NC-ND-4.0', { ...clean, nc: true, nd: true }],
    ['CC-BY-NC-ND-3.0', { ...clean, nc: true, nd: true }],
    ['LicenseRef-CreativeML-OpenRAIL-M', { ...clean, sa: true }],
    ['LicenseRef-Llama-2', { ...clean, sa: true }],
    ['GPL-2.0+', { ...clean, sa: true }],
    ['GPL-2.0-only WITH Classpath-exception-2.0', { ...clean, sa: true }],
    ['Foo-1.0', { ...clean, known: false, unknown: true }],
    ['LicenseRef-in-house', { ...clean, known: false, unknown: true }],
    ['DocumentRef-other:LicenseRef-Llama-2', { ...clean, known: false, unknown: true }],
    ['MIT WITH AdditionRef-no-commercial-use', { ...clean, known: false, unknown: true }],
  ])('%s', (text, expected) => {
    expect(flags(text)).toEqual(expected);
  });

  it('gives reasons, with a hint for model-hub names', () => {
    expect(classifyLicense(parseLicense('CC-BY-NC-SA-4.0')).reasons).toEqual(['CC-BY-NC-SA-4.0 is non-commercial, share-alike']);
    expect(classifyLicense(parseLicense('GPL-2.0+')).reasons).toEqual(['GPL-2.0+ is share-alike']);
    expect(classifyLicense(parseLicense('llama2')).reasons).toEqual(["llama2 is not in provledger's license table; did you mean LicenseRef-Llama-2?"]);
  });

  it('knows each table entry by any case', () => {
    expect(licenseInfo('cc-by-nc-nd-4.0')).toMatchObject({ id: 'CC-BY-NC-ND-4.0', nonCommercial: true, noDerivatives: true });
    expect(licenseInfo('Unlicense')).toMatchObject({ publicDomain: true, permissive: true });
    expect(licenseInfo('licenseref-Llama-2')).toBeUndefined();
    expect(licenseInfo('Apache 2')).toBeUndefined();
  });
});

describe('classification: OR lets the user choose the most permissive option (SPDX D.4.2)', () => {
  it.each([
    ['MIT OR CC-BY-NC-4.0', clean],
    ['CC-BY-NC-4.0 OR MIT', clean],
    ['CC-BY-NC-4.0 OR CC-BY-NC-SA-4.0', { ...clean, nc: true }],
    ['CC-BY-SA-4.0 OR CC-BY-NC-4.0', { ...clean, sa: true }],
    ['GPL-3.0-only OR MIT', clean],
    ['Foo-1.0 OR MIT', clean],
    ['LicenseRef-x OR CC-BY-SA-4.0', { ...clean, sa: true }],
    ['CC-BY-NC-4.0 OR LicenseRef-x', { ...clean, known: false, unknown: true }],
    ['CC-BY-NC-ND-4.0 OR CC-BY-NC-SA-4.0', { ...clean, nc: true, sa: true }],
  ])('%s', (text, expected) => {
    expect(flags(text)).toEqual(expected);
  });

  it('reports the first option when every option conflicts and none dominates', () => {
    expect(flags('CC-BY-NC-4.0 OR CC-BY-ND-4.0')).toEqual({ ...clean, nc: true });
    expect(flags('CC-BY-ND-4.0 OR CC-BY-NC-4.0')).toEqual({ ...clean, nd: true });
  });

  it('says which choice it made', () => {
    expect(classifyLicense(parseLicense('CC-BY-NC-4.0 OR MIT')).reasons).toEqual(['the most permissive choice of CC-BY-NC-4.0 OR MIT is MIT', 'MIT is permissive']);
  });
});

describe('classification: AND accumulates the restrictions of every part (SPDX D.4.3)', () => {
  it.each([
    ['MIT AND CC-BY-NC-4.0', { ...clean, nc: true }],
    ['CC-BY-NC-4.0 AND CC-BY-ND-4.0', { ...clean, nc: true, nd: true }],
    ['CC-BY-SA-4.0 AND CC-BY-NC-4.0', { ...clean, nc: true, sa: true }],
    ['MIT AND Foo-1.0', { ...clean, known: false, unknown: true }],
    ['(MIT OR CC-BY-NC-4.0) AND CC-BY-SA-4.0', { ...clean, sa: true }],
    ['(MIT OR CC-BY-NC-4.0) AND (CC-BY-ND-4.0 OR Apache-2.0)', clean],
    ['(CC-BY-SA-4.0 OR LicenseRef-x) AND LicenseRef-y', { ...clean, known: false, unknown: true }],
  ])('%s', (text, expected) => {
    expect(flags(text)).toEqual(expected);
  });

  it('chooses across a product by the whole option, not branch by branch', () => {
    // Taking CC-BY-SA-4.0 (best alone) forces SA and unknown; taking LicenseRef-x avoids SA.
    expect(flags('(CC-BY-SA-4.0 OR LicenseRef-x) AND LicenseRef-y')).toEqual({ ...clean, known: false, unknown: true });
    expect(classifyLicense(parseLicense('(CC-BY-SA-4.0 OR LicenseRef-x) AND LicenseRef-y')).reasons[0]).toBe(
      'the most permissive choice of (CC-BY-SA-4.0 OR LicenseRef-x) AND LicenseRef-y is LicenseRef-x AND LicenseRef-y',
    );
  });
});

describe('classification: NONE, NOASSERTION and unknown', () => {
  it('treats NONE as all rights reserved: known, non-commercial and no-derivatives', () => {
    expect(flags('NONE')).toEqual({ ...clean, nc: true, nd: true });
    expect(classifyLicense(parseLicense('NONE')).reasons[0]).toMatch(/all rights are reserved/);
  });

  it.each(['NOASSERTION', 'unknown'])('treats %s as unknown, not as a restriction', (text) => {
    expect(flags(text)).toEqual({ ...clean, known: false, unknown: true });
  });
});

// ---- findings ----------------------------------------------------------------------------------------

const findings = (records: Record<string, string>, kind = 'model') =>
  licenseFindings(Object.entries(records).map(([recordId, text]) => ({ id: recordId, license: parseLicense(text) })), { kind });
const codes = (list: ReturnType<typeof findings>) => list.map((f) => `${f.code}@${f.recordId}`);

describe('findings for what is made from upstream records', () => {
  it('flags a model trained on CC-BY-NC-4.0 data as a non-commercial conflict', () => {
    const list = findings({ faces: 'CC-BY-NC-4.0' });
    expect(list).toEqual([
      {
        code: 'NON_COMMERCIAL_UPSTREAM',
        recordId: 'faces',
        license: 'CC-BY-NC-4.0',
        message: 'faces is licensed CC-BY-NC-4.0, which is non-commercial, so the model made from it must not be used commercially',
      },
    ]);
    expect(LICENSE_FINDING_SEVERITY[list[0]!.code]).toBe('conflict');
  });

  it('finds nothing for MIT OR CC-BY-NC-4.0 data, since MIT may be chosen', () => {
    expect(findings({ mixed: 'MIT OR CC-BY-NC-4.0' })).toEqual([]);
  });

  it('flags unknown, NOASSERTION and unrecognised licenses as unknown, not as conflicts', () => {
    const list = findings({ a: 'unknown', b: 'NOASSERTION', c: 'LicenseRef-in-house', d: 'mit' });
    expect(codes(list)).toEqual(['UNKNOWN_LICENSE@a', 'UNKNOWN_LICENSE@b', 'UNKNOWN_LICENSE@c']);
    expect(list.every((f) => LICENSE_FINDING_SEVERITY[f.code] === 'unknown')).toBe(true);
  });

  it('flags NONE as NO_LICENSE alone, a conflict', () => {
    const list = findings({ scraped: 'NONE' });
    expect(codes(list)).toEqual(['NO_LICENSE@scraped']);
    expect(list[0]!.message).toMatch(/all rights reserved/);
    expect(LICENSE_FINDING_SEVERITY.NO_LICENSE).toBe('conflict');
  });

  it('flags no-derivatives as a conflict and share-alike as a notice', () => {
    expect(codes(findings({ nd: 'CC-BY-ND-4.0', sa: 'CC-BY-SA-4.0', both: 'CC-BY-NC-ND-4.0' }))).toEqual([
      'NO_DERIVATIVES_UPSTREAM@nd',
      'SHARE_ALIKE_UPSTREAM@sa',
      'NON_COMMERCIAL_UPSTREAM@both',
      'NO_DERIVATIVES_UPSTREAM@both',
    ]);
    expect(LICENSE_FINDING_SEVERITY.SHARE_ALIKE_UPSTREAM).toBe('notice');
  });

  it('names the part and the choice behind each finding', () => {
    const [finding] = findings({ pile: 'MIT AND (CC-BY-NC-SA-4.0 OR CC-BY-NC-4.0)' }, 'dataset');
    expect(finding).toMatchObject({ code: 'NON_COMMERCIAL_UPSTREAM', license: 'MIT AND (CC-BY-NC-SA-4.0 OR CC-BY-NC-4.0)' });
    expect(finding!.message).toBe(
      'pile is licensed MIT AND (CC-BY-NC-SA-4.0 OR CC-BY-NC-4.0); its most permissive choice is MIT AND CC-BY-NC-4.0, in which CC-BY-NC-4.0 is non-commercial, so the dataset made from it must not be used commercially',
    );
  });

  it('keeps the order of upstream and reports every problem of a record', () => {
    expect(codes(findings({ z: 'LicenseRef-x AND CC-BY-NC-SA-4.0', a: 'MIT' }))).toEqual([
      'UNKNOWN_LICENSE@z',
      'NON_COMMERCIAL_UPSTREAM@z',
      'SHARE_ALIKE_UPSTREAM@z',
    ]);
  });
});
