/**
 * SPDX license expressions for ML provenance: parse, print canonically, classify for ML use, and turn the
 * licenses upstream of an artifact into findings.
 *
 * Owns the expression grammar of SPDX 2.3 Annex D (with the lower-case operators of SPDX 3.0 Annex D), the
 * three whole values NONE, NOASSERTION and our own `unknown`, a built-in table of common licenses with the
 * restrictions that matter when training models, and the rule that makes those restrictions findings.
 * Must not do I/O or fetch the SPDX License List, and must not guess: whatever the table does not know is
 * reported as unknown. This is a triage aid, not legal advice.
 * License text comes from records, so it is parsed as if hostile: bounded in length and nesting, and every
 * failure is a LedgerError INVALID_ARGUMENT that names the column and what was expected.
 */
import { LedgerError } from '../errors.js';

// ---- values ------------------------------------------------------------------------------------------

/**
 * A parsed expression. `id` and `exception` are in canonical case when the table knows them (SPDX D.2 matches
 * ids case-insensitively, so `mit` and `MIT` are one license) and as written otherwise. A `ref` is a
 * `LicenseRef-…` or `DocumentRef-…:LicenseRef-…` (SPDX D.3); it may carry an exception because the grammar's
 * `simple-expression WITH addition-expression` allows one after any simple expression (SPDX D.4.4).
 */
export type LicenseExpression =
  | { type: 'license'; id: string; orLater: boolean; exception?: string }
  | { type: 'ref'; ref: string; exception?: string }
  | { type: 'and' | 'or'; left: LicenseExpression; right: LicenseExpression };

/**
 * What a record says about its license. NONE and NOASSERTION are SPDX's own field values (SPDX 2.3 §7.13:
 * NONE = no license is granted, NOASSERTION = no assertion is made); `unknown` is ours, for "we looked and do
 * not know". All three stand alone: none of them may be part of an expression.
 */
export type LicenseValue =
  | { kind: 'expression'; expression: LicenseExpression }
  | { kind: 'none' }
  | { kind: 'noassertion' }
  | { kind: 'unknown' };

/** Longer text is refused before any parsing, so hostile input costs O(1). */
export const MAX_LICENSE_LENGTH = 1000;
/** Deeper parentheses are refused, so the recursive-descent parser cannot overflow the stack. */
export const MAX_LICENSE_NESTING = 32;

// ---- the license table -------------------------------------------------------------------------------

/** What provledger knows about one license: the restrictions that decide what may be made from it. */
export interface LicenseInfo {
  /** Canonical spelling (the SPDX License List's, or ours for the built-in LicenseRefs). */
  readonly id: string;
  readonly nonCommercial: boolean;
  readonly noDerivatives: boolean;
  /** Copyleft: derivatives must be shared under the same (or compatible) terms. */
  readonly shareAlike: boolean;
  readonly permissive: boolean;
  readonly publicDomain: boolean;
  /** Anything else a reviewer should know, in a few words. */
  readonly note?: string;
}

type Category = 'publicDomain' | 'permissive' | 'shareAlike' | 'nonCommercial' | 'nonCommercialShareAlike' | 'noDerivatives' | 'nonCommercialNoDerivatives';

const creativeCommons = (prefix: string): string[] => ['1.0', '2.0', '2.5', '3.0', '4.0'].map((version) => `${prefix}-${version}`);

/** Ids checked against the SPDX License List (spdx/license-list-XML); deprecated ids are kept because old records use them. */
const TABLE: Record<Category, readonly string[]> = {
  publicDomain: ['CC0-1.0', 'CC-PDDC', 'PDDL-1.0', 'Unlicense'],
  permissive: [
    '0BSD', 'AFL-3.0', 'Apache-1.1', 'Apache-2.0', 'Artistic-2.0', 'BlueOak-1.0.0', 'BSD-1-Clause', 'BSD-2-Clause',
    'BSD-3-Clause', 'BSD-3-Clause-Clear', 'BSL-1.0', 'CDLA-Permissive-1.0', 'CDLA-Permissive-2.0', 'ECL-2.0', 'ISC',
    'MIT', 'MIT-0', 'NCSA', 'O-UDA-1.0', 'ODC-By-1.0', 'OpenMDW-1.0', 'PostgreSQL', 'PSF-2.0', 'Python-2.0',
    'Unicode-DFS-2016', 'UPL-1.0', 'WTFPL', 'X11', 'Zlib', ...creativeCommons('CC-BY'),
  ],
  shareAlike: [
    'AGPL-3.0', 'AGPL-3.0-only', 'AGPL-3.0-or-later', 'CDDL-1.0', 'CDDL-1.1', 'CDLA-Sharing-1.0', 'EPL-1.0', 'EPL-2.0',
    'EUPL-1.1', 'EUPL-1.2', 'GFDL-1.3-only', 'GFDL-1.3-or-later', 'GPL-1.0-only', 'GPL-1.0-or-later', 'GPL-2.0',
    'GPL-2.0-only', 'GPL-2.0-or-later', 'GPL-3.0', 'GPL-3.0-only', 'GPL-3.0-or-later', 'LGPL-2.0', 'LGPL-2.0-only',
    'LGPL-2.0-or-later', 'LGPL-2.1', 'LGPL-2.1-only', 'LGPL-2.1-or-later', 'LGPL-3.0', 'LGPL-3.0-only',
    'LGPL-3.0-or-later', 'LGPLLR', 'MPL-1.1', 'MPL-2.0', 'ODbL-1.0', 'OFL-1.1', 'OSL-3.0', ...creativeCommons('CC-BY-SA'),
  ],
  nonCommercial: creativeCommons('CC-BY-NC'),
  nonCommercialShareAlike: creativeCommons('CC-BY-NC-SA'),
  noDerivatives: creativeCommons('CC-BY-ND'),
  nonCommercialNoDerivatives: creativeCommons('CC-BY-NC-ND'),
};

const RAIL_NOTE = 'use-based restrictions that must be passed on to every derivative (Responsible AI License)';
const LLAMA_NOTE = 'Meta community license: its use policy and license must be passed on to derivatives; very large services need a separate license';

/**
 * Model licenses that are not on the SPDX License List (the BigScience OpenRAIL-M request was not accepted:
 * spdx/license-list-XML#1622), so provledger defines them as LicenseRefs, which SPDX allows any document to
 * do (SPDX 2.3 §10.1). They are share-alike here because their terms travel with every derivative.
 */
const BUILT_IN_REFS: readonly (readonly [string, string])[] = [
  ['LicenseRef-OpenRAIL', RAIL_NOTE],
  ['LicenseRef-OpenRAIL-M', RAIL_NOTE],
  ['LicenseRef-CreativeML-OpenRAIL-M', RAIL_NOTE],
  ['LicenseRef-BigScience-OpenRAIL-M', RAIL_NOTE],
  ['LicenseRef-BigCode-OpenRAIL-M', RAIL_NOTE],
  ['LicenseRef-Llama-2', LLAMA_NOTE],
  ['LicenseRef-Llama-3', LLAMA_NOTE],
  ['LicenseRef-Llama-3.1', LLAMA_NOTE],
  ['LicenseRef-Llama-3.2', LLAMA_NOTE],
  ['LicenseRef-Llama-3.3', LLAMA_NOTE],
];

/** Names people copy from model hubs, which are not SPDX ids; used only to suggest the right spelling. */
const HUB_NAMES: Readonly<Record<string, string>> = {
  openrail: 'LicenseRef-OpenRAIL',
  'openrail-m': 'LicenseRef-OpenRAIL-M',
  'creativeml-openrail-m': 'LicenseRef-CreativeML-OpenRAIL-M',
  'bigscience-openrail-m': 'LicenseRef-BigScience-OpenRAIL-M',
  'bigcode-openrail-m': 'LicenseRef-BigCode-OpenRAIL-M',
  llama2: 'LicenseRef-Llama-2',
  llama3: 'LicenseRef-Llama-3',
  'llama3.1': 'LicenseRef-Llama-3.1',
  'llama3.2': 'LicenseRef-Llama-3.2',
  'llama3.3': 'LicenseRef-Llama-3.3',
};

/** Common exceptions (SPDX License List, exceptions). An exception adds permissions; it never removes a restriction here. */
const EXCEPTIONS: readonly string[] = [
  'Autoconf-exception-2.0', 'Autoconf-exception-3.0', 'Bison-exception-2.2', 'Classpath-exception-2.0', 'Font-exception-2.0',
  'GCC-exception-2.0', 'GCC-exception-3.1', 'Linux-syscall-note', 'LLVM-exception', 'Qt-LGPL-exception-1.1',
  'Universal-FOSS-exception-1.0',
];

const CATEGORY_FLAGS: Record<Category, Omit<LicenseInfo, 'id' | 'note'>> = {
  publicDomain: { nonCommercial: false, noDerivatives: false, shareAlike: false, permissive: true, publicDomain: true },
  permissive: { nonCommercial: false, noDerivatives: false, shareAlike: false, permissive: true, publicDomain: false },
  shareAlike: { nonCommercial: false, noDerivatives: false, shareAlike: true, permissive: false, publicDomain: false },
  nonCommercial: { nonCommercial: true, noDerivatives: false, shareAlike: false, permissive: false, publicDomain: false },
  nonCommercialShareAlike: { nonCommercial: true, noDerivatives: false, shareAlike: true, permissive: false, publicDomain: false },
  noDerivatives: { nonCommercial: false, noDerivatives: true, shareAlike: false, permissive: false, publicDomain: false },
  nonCommercialNoDerivatives: { nonCommercial: true, noDerivatives: true, shareAlike: false, permissive: false, publicDomain: false },
};

/** Keyed by lower case, because SPDX D.2 matches ids (and the variable part of a LicenseRef) case-insensitively. */
const LICENSES = new Map<string, LicenseInfo>();
for (const [category, ids] of Object.entries(TABLE) as [Category, readonly string[]][]) {
  for (const id of ids) LICENSES.set(id.toLowerCase(), { id, ...CATEGORY_FLAGS[category] });
}
for (const [id, note] of BUILT_IN_REFS) LICENSES.set(id.toLowerCase(), { id, ...CATEGORY_FLAGS.shareAlike, note });
const EXCEPTION_IDS = new Map(EXCEPTIONS.map((id) => [id.toLowerCase(), id]));

/**
 * What provledger knows about a license id or built-in LicenseRef, matched case-insensitively (SPDX D.2);
 * undefined when it is not in the table.
 * @example licenseInfo('cc-by-nc-4.0')?.nonCommercial // true
 */
export function licenseInfo(id: string): LicenseInfo | undefined {
  if (/^licenseref-/i.test(id) && !id.startsWith('LicenseRef-')) return undefined; // the prefix is case-sensitive
  return LICENSES.get(id.toLowerCase());
}

// ---- parsing -----------------------------------------------------------------------------------------

interface Token {
  readonly kind: 'open' | 'close' | 'word' | 'end';
  readonly text: string;
  /** 1-based, in UTF-16 code units of the input. */
  readonly column: number;
}

type Operator = 'and' | 'or' | 'with';

const SPECIAL_VALUES: Readonly<Record<string, LicenseValue>> = { NONE: { kind: 'none' }, NOASSERTION: { kind: 'noassertion' }, unknown: { kind: 'unknown' } };
const SPECIAL_BY_LOWER = new Map(Object.keys(SPECIAL_VALUES).map((word) => [word.toLowerCase(), word]));
/** SPDX 3.0 Annex D.2: operators are all upper or all lower case; `And` is neither and stays invalid. */
const OPERATORS: Readonly<Record<string, Operator>> = { AND: 'and', and: 'and', OR: 'or', or: 'or', WITH: 'with', with: 'with' };
/** Characters of idstring (SPDX D.1) plus `:` of DocumentRef and `+` of or-later; a word is a maximal run of them. */
const WORD_CHAR = /^[A-Za-z0-9.:+-]$/;
const IDSTRING = /^[A-Za-z0-9.-]+$/;
/** SPDX 3.0's grammar makes an idstring contain at least one letter or digit; `-` alone names nothing. */
const HAS_ALNUM = /[A-Za-z0-9]/;
const REF = /^(?:(DocumentRef-[A-Za-z0-9.-]+):)?(LicenseRef|AdditionRef)-([A-Za-z0-9.-]+)$/;
const PREFIXES = ['DocumentRef-', 'LicenseRef-', 'AdditionRef-'] as const;

/**
 * Parses an SPDX license expression (SPDX 2.3 Annex D) or one of the whole values NONE, NOASSERTION, unknown.
 *
 * Why it is strict where it is: operators are `AND`/`OR`/`WITH` or all lower case (SPDX 3.0 D.2), never mixed;
 * precedence is `+` > WITH > AND > OR (SPDX D.4.5) and AND/OR group to the left; a license id not in the table
 * is accepted, since the grammar only asks for an idstring, and classified later as unrecognised. Recognised
 * ids and exceptions are normalised to their canonical case, so equal licenses compare equal. Spaces and tabs
 * separate tokens; a line break is refused because an expression is one line (SPDX D.1).
 *
 * @throws LedgerError INVALID_ARGUMENT when the text is not a string, is longer than MAX_LICENSE_LENGTH, nests
 * parentheses deeper than MAX_LICENSE_NESTING, or is not a valid expression; the message names the column and
 * what was expected there, and `details.column` holds the 1-based column.
 * @example parseLicense('mit OR Apache-2.0') // { kind: 'expression', expression: { type: 'or', left: { type: 'license', id: 'MIT', orLater: false }, ... } }
 */
export function parseLicense(text: string): LicenseValue {
  if (typeof text !== 'string') {
    throw new LedgerError('INVALID_ARGUMENT', `license must be a string such as "MIT" or "NONE", not ${text === null ? 'null' : typeof text}`);
  }
  if (text.length > MAX_LICENSE_LENGTH) {
    throw new LedgerError('INVALID_ARGUMENT', `license is not valid: at column ${MAX_LICENSE_LENGTH + 1}, expected the end (at most ${MAX_LICENSE_LENGTH} characters), found ${text.length - MAX_LICENSE_LENGTH} more`, {
      details: { column: MAX_LICENSE_LENGTH + 1, length: text.length, limit: MAX_LICENSE_LENGTH },
    });
  }
  const tokens = tokenize(text);
  const only = tokens.length === 2 ? tokens[0]! : undefined;
  if (only?.kind === 'word' && Object.hasOwn(SPECIAL_VALUES, only.text)) return { ...SPECIAL_VALUES[only.text]! }; // a copy: callers may mutate it
  return { kind: 'expression', expression: new Parser(text, tokens).parseAll() };
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === ' ' || char === '\t') {
      index += 1;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: char === '(' ? 'open' : 'close', text: char, column: index + 1 });
      index += 1;
    } else if (WORD_CHAR.test(char)) {
      let end = index + 1;
      while (end < text.length && WORD_CHAR.test(text[end]!)) end += 1;
      tokens.push({ kind: 'word', text: text.slice(index, end), column: index + 1 });
      index = end;
    } else if (char === '\n' || char === '\r') {
      throw syntaxError(text, index + 1, 'expected the expression to continue on the same line (SPDX D.1), found a line break');
    } else {
      const shown = JSON.stringify(String.fromCodePoint(text.codePointAt(index)!));
      throw syntaxError(text, index + 1, `expected a license id, operator or parenthesis, found ${shown} (ids use only letters, digits, "." and "-")`);
    }
  }
  tokens.push({ kind: 'end', text: '', column: text.length + 1 });
  return tokens;
}

/** Recursive descent with one function per precedence level (SPDX D.4.5); AND and OR chains loop, so only parentheses recurse. */
class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseAll(): LicenseExpression {
    const expression = this.parseOr();
    const next = this.peek();
    if (next.kind === 'close') throw syntaxError(this.text, next.column, `expected ${this.continuation('the end')}, found ")" with no "(" to match`);
    if (next.kind !== 'end') throw this.unexpected(next, this.continuation('the end'));
    return expression;
  }

  private parseOr(): LicenseExpression {
    let left = this.parseAnd();
    while (this.operatorAt(this.peek()) === 'or') {
      this.index += 1;
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): LicenseExpression {
    let left = this.parseTerm();
    while (this.operatorAt(this.peek()) === 'and') {
      this.index += 1;
      left = { type: 'and', left, right: this.parseTerm() };
    }
    return left;
  }

  /** A parenthesised expression, or a simple expression with its optional WITH (which binds tightest, SPDX D.4.5). */
  private parseTerm(): LicenseExpression {
    const token = this.next();
    if (token.kind === 'open') {
      this.depth += 1;
      if (this.depth > MAX_LICENSE_NESTING) {
        throw syntaxError(this.text, token.column, `expected at most ${MAX_LICENSE_NESTING} nested parentheses, found more`);
      }
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== 'close') throw this.unexpected(close, this.continuation('")"'));
      this.index += 1;
      this.depth -= 1;
      const after = this.peek();
      if (this.operatorAt(after) === 'with') {
        throw syntaxError(this.text, after.column, 'expected AND, OR or ")" after a parenthesised expression, found WITH (an exception applies to one license, SPDX D.4.4)');
      }
      return inner;
    }
    if (token.kind !== 'word' || this.operatorAt(token) !== undefined) {
      throw this.unexpected(token, 'a license id, LicenseRef-… or "("');
    }
    const simple = this.simpleExpression(token);
    if (this.operatorAt(this.peek()) !== 'with') return simple;
    this.index += 1;
    return { ...simple, exception: this.exception(this.next()) };
  }

  /** `license-id`, `license-id+` or `license-ref` (SPDX D.3). */
  private simpleExpression(token: Token): Extract<LicenseExpression, { type: 'license' | 'ref' }> {
    const word = token.text;
    this.rejectSpecialValue(token);
    this.rejectMiscasedPrefix(token);
    if (word.includes(':') || PREFIXES.some((prefix) => word.startsWith(prefix))) {
      const match = REF.exec(word);
      if (match === null || !HAS_ALNUM.test(match[3]!) || (match[1] !== undefined && !HAS_ALNUM.test(match[1].slice('DocumentRef-'.length)))) {
        const problem = word.endsWith('+') ? ' ("+" may only follow a license id, SPDX D.3)' : '';
        throw syntaxError(this.text, token.column, `expected a license id, LicenseRef-<id> or DocumentRef-<id>:LicenseRef-<id>, found ${show(word)}${problem}`);
      }
      if (match[2] === 'AdditionRef') {
        throw syntaxError(this.text, token.column, `expected a license, found the addition ${show(word)} (an AdditionRef may only follow WITH, SPDX D.4.4)`);
      }
      const known = match[1] === undefined ? licenseInfo(word) : undefined;
      return { type: 'ref', ref: known?.id ?? word };
    }
    const plus = word.indexOf('+');
    const id = plus === -1 ? word : word.slice(0, plus);
    if ((plus !== -1 && plus !== word.length - 1) || !HAS_ALNUM.test(id)) {
      throw syntaxError(this.text, token.column, `expected a license id (letters, digits, "." and "-", optionally ending in "+"), found ${show(word)}`);
    }
    return { type: 'license', id: licenseInfo(id)?.id ?? id, orLater: plus !== -1 };
  }

  /** The right operand of WITH: a license-exception-id or an addition-ref (SPDX D.4.4). */
  private exception(token: Token): string {
    if (token.kind !== 'word' || this.operatorAt(token) !== undefined) throw this.unexpected(token, 'an exception id or AdditionRef-… after WITH');
    const word = token.text;
    this.rejectSpecialValue(token);
    this.rejectMiscasedPrefix(token);
    if (word.includes(':') || PREFIXES.some((prefix) => word.startsWith(prefix))) {
      const match = REF.exec(word);
      if (match?.[2] === 'AdditionRef' && HAS_ALNUM.test(match[3]!)) return word;
      throw syntaxError(this.text, token.column, `expected an exception id or AdditionRef-<id> after WITH, found ${show(word)}`);
    }
    if (!IDSTRING.test(word) || !HAS_ALNUM.test(word)) {
      throw syntaxError(this.text, token.column, `expected an exception id (letters, digits, "." and "-") after WITH, found ${show(word)}`);
    }
    return EXCEPTION_IDS.get(word.toLowerCase()) ?? word;
  }

  private rejectSpecialValue(token: Token): void {
    const special = SPECIAL_BY_LOWER.get(token.text.replace(/\+$/, '').toLowerCase());
    if (special === undefined) return;
    const problem = this.tokens.length === 2 ? `found ${show(token.text)}; write ${special} exactly` : `found ${special}, which must be the whole value, not part of an expression`;
    throw syntaxError(this.text, token.column, `expected a license id, ${problem}`);
  }

  /** SPDX 3.0 D.2: the `LicenseRef-`, `DocumentRef-` and `AdditionRef-` prefixes are case-sensitive. */
  private rejectMiscasedPrefix(token: Token): void {
    for (const part of token.text.split(':')) {
      const prefix = PREFIXES.find((candidate) => part.toLowerCase().startsWith(candidate.toLowerCase()));
      if (prefix !== undefined && !part.startsWith(prefix)) {
        throw syntaxError(this.text, token.column, `expected the case-sensitive prefix ${prefix}, found ${show(part.slice(0, prefix.length))}`);
      }
    }
  }

  /** The operator a token spells; mixed case (`And`) is refused here rather than read as a license id. */
  private operatorAt(token: Token): Operator | undefined {
    if (token.kind !== 'word') return undefined;
    const operator = OPERATORS[token.text];
    if (operator !== undefined) return operator;
    const lower = token.text.toLowerCase();
    if (Object.hasOwn(OPERATORS, lower)) {
      throw syntaxError(this.text, token.column, `expected ${lower.toUpperCase()} or ${lower} (operators are all upper or all lower case, SPDX D.2), found ${show(token.text)}`);
    }
    return undefined;
  }

  /** What may follow a complete term, for messages: WITH only after a single license without one. */
  private continuation(closer: string): string {
    const previous = this.tokens[this.index - 1];
    const before = this.tokens[this.index - 2];
    const withAllowed = previous?.kind === 'word' && (before === undefined || this.operatorAt(before) !== 'with');
    return withAllowed ? `AND, OR, WITH or ${closer}` : `AND, OR or ${closer}`;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private unexpected(token: Token, expected: string): LedgerError {
    return syntaxError(this.text, token.column, `expected ${expected}, found ${token.kind === 'end' ? 'the end' : show(token.text)}`);
  }
}

function show(word: string): string {
  return JSON.stringify(word.length > 40 ? `${word.slice(0, 39)}…` : word);
}

function syntaxError(text: string, column: number, problem: string): LedgerError {
  const shown = text.length > 60 ? `${JSON.stringify(`${text.slice(0, 59)}…`)}` : JSON.stringify(text);
  return new LedgerError('INVALID_ARGUMENT', `license ${shown} is not valid: at column ${column}, ${problem}`, { details: { column } });
}

// ---- printing ----------------------------------------------------------------------------------------

const PRECEDENCE = { or: 1, and: 2, license: 3, ref: 3 } as const;

/**
 * The canonical text of a value: upper-case operators, single spaces, and parentheses only where the default
 * precedence (SPDX D.4.5) and left-to-right grouping would read it differently, so `parseLicense` of the
 * result equals the value structurally and equal values always print alike.
 * @example formatLicense(parseLicense('(mit and (Apache-2.0))')) // 'MIT AND Apache-2.0'
 */
export function formatLicense(value: LicenseValue): string {
  switch (value.kind) {
    case 'expression':
      return formatExpression(value.expression);
    case 'none':
      return 'NONE';
    case 'noassertion':
      return 'NOASSERTION';
    case 'unknown':
      return 'unknown';
    default:
      return unreachable(value);
  }
}

function formatExpression(expression: LicenseExpression): string {
  switch (expression.type) {
    case 'license':
    case 'ref': {
      const name = expression.type === 'license' ? `${expression.id}${expression.orLater ? '+' : ''}` : expression.ref;
      return expression.exception === undefined ? name : `${name} WITH ${expression.exception}`;
    }
    case 'and':
    case 'or': {
      const own = PRECEDENCE[expression.type];
      const left = formatExpression(expression.left);
      const right = formatExpression(expression.right);
      // AND and OR group to the left when parsed, so a right operand of equal precedence needs parentheses.
      const leftText = PRECEDENCE[expression.left.type] < own ? `(${left})` : left;
      const rightText = PRECEDENCE[expression.right.type] <= own ? `(${right})` : right;
      return `${leftText} ${expression.type.toUpperCase()} ${rightText}`;
    }
    default:
      return unreachable(expression);
  }
}

/**
 * The licenses an expression names, sorted and unique: ids with their `+` (GPL-2.0 and GPL-2.0+ differ) and
 * refs as written, without exceptions. Empty for NONE, NOASSERTION and unknown, which name no license.
 * @example licenseIds(parseLicense('MIT OR (GPL-2.0+ WITH Classpath-exception-2.0) OR MIT')) // ['GPL-2.0+', 'MIT']
 */
export function licenseIds(value: LicenseValue): string[] {
  if (value.kind !== 'expression') return [];
  const ids = new Set<string>();
  const pending: LicenseExpression[] = [value.expression];
  for (let expression = pending.pop(); expression !== undefined; expression = pending.pop()) {
    if (expression.type === 'license') ids.add(`${expression.id}${expression.orLater ? '+' : ''}`);
    else if (expression.type === 'ref') ids.add(expression.ref);
    else pending.push(expression.right, expression.left);
  }
  return [...ids].sort();
}

// ---- classification ----------------------------------------------------------------------------------

export interface LicenseFlags {
  nonCommercial: boolean;
  noDerivatives: boolean;
  shareAlike: boolean;
  /** Every license and exception in the chosen option is in the table (NONE counts: its meaning is known). */
  recognised: boolean;
}

export interface LicenseClassification {
  flags: LicenseFlags;
  /** Not known well enough to judge: NOASSERTION, unknown, or an unrecognised part in the chosen option. Flagged, never a conflict. */
  unknown: boolean;
  /** One sentence per fact behind the flags, for people. */
  reasons: string[];
}

const NON_COMMERCIAL = 1;
const NO_DERIVATIVES = 2;
const SHARE_ALIKE = 4;
const UNRECOGNISED = 8;

/** One license (or ref) with its exception, as classified. */
interface Term {
  readonly text: string;
  readonly bits: number;
  readonly reasons: readonly string[];
}

/** One way to comply with an expression: a set of terms that all apply, with the union of their restrictions. */
interface Option {
  readonly bits: number;
  readonly terms: readonly Term[];
}

/**
 * Classifies a license value for ML use.
 *
 * Why these semantics: an expression is a set of options, one per way to comply. OR offers a choice (SPDX
 * D.4.2), so the options of both sides are kept and the user may take the most permissive one: a restriction
 * applies only if every branch has it. AND requires all parts at once (SPDX D.4.3), so each option combines
 * one option of each side and their restrictions accumulate. The reported flags are those of the most
 * permissive option, ranked by fewest conflicts (non-commercial, no-derivatives), then known before unknown,
 * then no share-alike; ties go to the option written first. So `MIT OR CC-BY-NC-4.0` is not non-commercial,
 * and `CC-BY-NC-4.0 OR CC-BY-ND-4.0`, where every choice conflicts, reports its first choice.
 * Unrecognised ids, LicenseRefs not built in, refs into other documents and unrecognised exceptions make an
 * option unknown, since their terms could say anything; so do NOASSERTION and `unknown`. NONE grants no
 * license at all (all rights reserved), so it is both non-commercial and no-derivatives, and recognised.
 * @example classifyLicense(parseLicense('MIT OR CC-BY-NC-4.0')).flags.nonCommercial // false
 */
export function classifyLicense(value: LicenseValue): LicenseClassification {
  switch (value.kind) {
    case 'none':
      return {
        flags: { nonCommercial: true, noDerivatives: true, shareAlike: false, recognised: true },
        unknown: false,
        reasons: ['NONE: no license is granted, so all rights are reserved (SPDX 2.3 §7.13)'],
      };
    case 'noassertion':
      return { flags: unknownFlags(), unknown: true, reasons: ['NOASSERTION: no one has asserted a license (SPDX 2.3 §7.13)'] };
    case 'unknown':
      return { flags: unknownFlags(), unknown: true, reasons: ['unknown: the license is recorded as not known'] };
    case 'expression': {
      const { options, best } = evaluate(value.expression);
      const reasons = options.length > 1 ? [`the most permissive choice of ${formatLicense(value)} is ${optionText(best)}`] : [];
      for (const term of best.terms) for (const reason of term.reasons) if (!reasons.includes(reason)) reasons.push(reason);
      return { flags: flagsOf(best.bits), unknown: (best.bits & UNRECOGNISED) !== 0, reasons };
    }
    default:
      return unreachable(value);
  }
}

function unknownFlags(): LicenseFlags {
  return { nonCommercial: false, noDerivatives: false, shareAlike: false, recognised: false };
}

function flagsOf(bits: number): LicenseFlags {
  return {
    nonCommercial: (bits & NON_COMMERCIAL) !== 0,
    noDerivatives: (bits & NO_DERIVATIVES) !== 0,
    shareAlike: (bits & SHARE_ALIKE) !== 0,
    recognised: (bits & UNRECOGNISED) === 0,
  };
}

/** Options are kept one per distinct set of restrictions (at most 16), so AND of many ORs cannot blow up. */
function evaluate(expression: LicenseExpression): { options: Option[]; best: Option } {
  const options = optionsOf(expression);
  let best = options[0]!;
  for (const option of options.slice(1)) if (compareOptions(option, best) < 0) best = option;
  return { options, best };
}

function optionsOf(expression: LicenseExpression): Option[] {
  switch (expression.type) {
    case 'license':
    case 'ref': {
      const term = classifyTerm(expression);
      return [{ bits: term.bits, terms: [term] }];
    }
    case 'or':
      return distinct([...optionsOf(expression.left), ...optionsOf(expression.right)]);
    case 'and': {
      const right = optionsOf(expression.right);
      const combined = new Map<number, Option>();
      for (const l of optionsOf(expression.left)) {
        for (const r of right) {
          const bits = l.bits | r.bits;
          if (!combined.has(bits)) combined.set(bits, { bits, terms: [...l.terms, ...r.terms] });
        }
      }
      return [...combined.values()];
    }
    default:
      return unreachable(expression);
  }
}

function distinct(options: readonly Option[]): Option[] {
  const byBits = new Map<number, Option>();
  for (const option of options) if (!byBits.has(option.bits)) byBits.set(option.bits, option);
  return [...byBits.values()];
}

function compareOptions(a: Option, b: Option): number {
  const rank = (bits: number) => [((bits & NON_COMMERCIAL) !== 0 ? 1 : 0) + ((bits & NO_DERIVATIVES) !== 0 ? 1 : 0), bits & UNRECOGNISED ? 1 : 0, bits & SHARE_ALIKE ? 1 : 0];
  const [x, y] = [rank(a.bits), rank(b.bits)];
  for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function optionText(option: Option): string {
  return [...new Set(option.terms.map((term) => term.text))].join(' AND ');
}

function classifyTerm(expression: Extract<LicenseExpression, { type: 'license' | 'ref' }>): Term {
  const text = formatExpression(expression);
  const name = expression.type === 'license' ? expression.id : expression.ref;
  const info = expression.type === 'license' || !expression.ref.startsWith('DocumentRef-') ? licenseInfo(name) : undefined;
  const reasons: string[] = [];
  let bits = 0;
  if (info === undefined) {
    bits |= UNRECOGNISED;
    if (expression.type === 'ref') {
      const where = expression.ref.startsWith('DocumentRef-') ? 'defined in another SPDX document' : 'a user-defined license';
      reasons.push(`${expression.ref} is ${where} whose terms provledger does not know`);
    } else {
      const hint = HUB_NAMES[name.toLowerCase()];
      reasons.push(`${name} is not in provledger's license table${hint === undefined ? '' : `; did you mean ${hint}?`}`);
    }
  } else {
    if (info.nonCommercial) bits |= NON_COMMERCIAL;
    if (info.noDerivatives) bits |= NO_DERIVATIVES;
    if (info.shareAlike) bits |= SHARE_ALIKE;
    reasons.push(`${info.id}${expression.type === 'license' && expression.orLater ? '+' : ''} is ${describe(info)}`);
  }
  if (expression.exception !== undefined && !EXCEPTION_IDS.has(expression.exception.toLowerCase())) {
    bits |= UNRECOGNISED;
    reasons.push(`the exception ${expression.exception} is not one provledger recognises, and an addition may change the terms (SPDX D.4.4)`);
  }
  return { text, bits, reasons };
}

function describe(info: LicenseInfo): string {
  const traits: string[] = [];
  if (info.publicDomain) traits.push('a public-domain dedication');
  else if (info.permissive) traits.push('permissive');
  if (info.nonCommercial) traits.push('non-commercial');
  if (info.noDerivatives) traits.push('no-derivatives');
  if (info.shareAlike) traits.push('share-alike');
  return info.note === undefined ? traits.join(', ') : `${traits.join(', ')}: ${info.note}`;
}

// ---- findings ----------------------------------------------------------------------------------------

/** One upstream record and its license. */
export interface UpstreamLicense {
  id: string;
  license: LicenseValue;
}

export type LicenseFindingCode = 'NON_COMMERCIAL_UPSTREAM' | 'NO_DERIVATIVES_UPSTREAM' | 'SHARE_ALIKE_UPSTREAM' | 'UNKNOWN_LICENSE' | 'NO_LICENSE';

export interface LicenseFinding {
  code: LicenseFindingCode;
  recordId: string;
  /** The upstream record's license, in canonical text. */
  license: string;
  message: string;
}

/** How much each finding matters, fixed per code so callers (and the CLI's exit code) need not parse messages. */
export const LICENSE_FINDING_SEVERITY = {
  NON_COMMERCIAL_UPSTREAM: 'conflict',
  NO_DERIVATIVES_UPSTREAM: 'conflict',
  NO_LICENSE: 'conflict',
  UNKNOWN_LICENSE: 'unknown',
  SHARE_ALIKE_UPSTREAM: 'notice',
} as const satisfies Record<LicenseFindingCode, 'conflict' | 'unknown' | 'notice'>;

/**
 * What the licenses upstream of an artifact mean for it, one finding per problem per record, in the order of
 * `upstream` and, within a record, NO_LICENSE, UNKNOWN_LICENSE, NON_COMMERCIAL_UPSTREAM,
 * NO_DERIVATIVES_UPSTREAM, SHARE_ALIKE_UPSTREAM. Permissive records produce nothing.
 *
 * Why: being downstream in the lineage means being made from those records, so the target is treated as a
 * derivative of each; `target.kind` only words the messages. A non-commercial or no-derivatives input, or one
 * with no license at all, is a conflict for what is made from it; share-alike is a notice (the result may have
 * to be shared alike, which is allowed but must be known); unknown licenses are flagged, never conflicts. Each
 * record is judged on its most permissive option (see classifyLicense), so `MIT OR CC-BY-NC-4.0` data is fine.
 * @example licenseFindings([{ id: 'faces', license: parseLicense('CC-BY-NC-4.0') }], { kind: 'model' })[0]?.code // 'NON_COMMERCIAL_UPSTREAM'
 */
export function licenseFindings(upstream: readonly UpstreamLicense[], target: { kind: string }): LicenseFinding[] {
  const findings: LicenseFinding[] = [];
  for (const { id: recordId, license: value } of upstream) {
    const license = formatLicense(value);
    const add = (code: LicenseFindingCode, message: string) => findings.push({ code, recordId, license, message });
    switch (value.kind) {
      case 'none':
        add('NO_LICENSE', `${recordId} is licensed NONE: no license is granted (all rights reserved), so the ${target.kind} made from it needs the owner's permission`);
        break;
      case 'noassertion':
        add('UNKNOWN_LICENSE', `${recordId} is licensed NOASSERTION: no one has said what its license is, so check it before relying on the ${target.kind}`);
        break;
      case 'unknown':
        add('UNKNOWN_LICENSE', `${recordId} has an unknown license, so check it before relying on the ${target.kind}`);
        break;
      case 'expression': {
        const { options, best } = evaluate(value.expression);
        /** "faces is licensed CC-BY-NC-4.0, which is" or "mix is licensed A OR B; its most permissive choice is A, in which A is". */
        const subject = (bit: number) => {
          const names = [...new Set(best.terms.filter((term) => (term.bits & bit) !== 0).map((term) => term.text))];
          if (options.length === 1 && names.length === 1 && names[0] === license) return `${recordId} is licensed ${license}, which is`;
          const choice = options.length > 1 ? `its most permissive choice is ${optionText(best)}, in which ` : '';
          return `${recordId} is licensed ${license}; ${choice}${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'}`;
        };
        const made = `the ${target.kind} made from it`;
        if (best.bits & UNRECOGNISED) add('UNKNOWN_LICENSE', `${subject(UNRECOGNISED)} not recognised, so check the terms before relying on the ${target.kind}`);
        if (best.bits & NON_COMMERCIAL) add('NON_COMMERCIAL_UPSTREAM', `${subject(NON_COMMERCIAL)} non-commercial, so ${made} must not be used commercially`);
        if (best.bits & NO_DERIVATIVES) add('NO_DERIVATIVES_UPSTREAM', `${subject(NO_DERIVATIVES)} no-derivatives, so ${made} may not be shared without permission`);
        if (best.bits & SHARE_ALIKE) add('SHARE_ALIKE_UPSTREAM', `${subject(SHARE_ALIKE)} share-alike, so ${made} may have to be shared under the same terms`);
        break;
      }
      default:
        unreachable(value);
    }
  }
  return findings;
}

function unreachable(value: never): never {
  throw new TypeError(`unexpected value ${JSON.stringify(value)}`);
}
