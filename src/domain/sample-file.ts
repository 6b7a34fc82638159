/**
 * The input of `sample-set add` (SPEC §21.5): a list of SHA-256 fingerprints, one per line, or JSON Lines with a
 * licence per sample, read line by line into a sorted, duplicate-free sample list. Pure: the caller feeds lines
 * (from a file, a stream, an array); every refusal is INVALID_ARGUMENT naming the line and what to do, before
 * anything touches a ledger.
 */
import { LedgerError } from '../errors.js';
import { formatLicense, MAX_LICENSE_LENGTH, parseLicense } from './spdx.js';

/** A sample set in the form it is recorded: fingerprints sorted by byte order, each once. */
export interface SampleList {
  /** 64 lower-case hex characters each, sorted (hex order is byte order), distinct. */
  readonly fingerprints: readonly string[];
  /** The canonical licence of each sample, parallel to `fingerprints`; null for a set without licences. */
  readonly licenses: readonly string[] | null;
}

/** At most this many distinct licences in one set, so a set's licence table fits in every chunk event. */
export const MAX_SAMPLE_LICENSES = 256;

const FINGERPRINT = /^[0-9a-fA-F]{64}$/;

/** Lists this module built and checked (frozen), so callers need not check them again; no one else can add to it. */
const checked = new WeakSet<SampleList>();

/** Whether `value` is a list `SampleListParser.finish` returned: sorted, distinct, canonical. */
export function isCheckedSampleList(value: unknown): value is SampleList {
  return typeof value === 'object' && value !== null && checked.has(value as SampleList);
}

interface Entry {
  readonly fingerprint: string;
  readonly license: string | null;
  /** Where it came from, for messages: "line 12" or "entry 3". */
  readonly where: string;
}

/**
 * Accumulates samples and checks each as it comes. Lines: `\n` ends a line, a trailing `\r` is dropped, blank
 * lines are skipped; the first non-blank line decides the format (`{` starts JSON Lines, anything else is one
 * fingerprint per line) and every later line must follow it.
 * @example const parser = new SampleListParser('samples.txt'); for (const line of lines) parser.addLine(line); const list = parser.finish();
 */
export class SampleListParser {
  readonly #source: string;
  readonly #entries: Entry[] = [];
  /** Licence text as written → canonical form: most files spell few licences few ways. Bounded, see below. */
  readonly #canonical = new Map<string, string>();
  /** The distinct canonical licences seen, at most MAX_SAMPLE_LICENSES + 1. */
  readonly #distinct = new Set<string>();
  #lineNumber = 0;
  #format: 'plain' | 'jsonl' | null = null;
  /** Whether the samples carry licences: all or none, fixed by the first sample. */
  #licensed: boolean | null = null;

  /** @param source - names the input in messages, e.g. the file path. */
  constructor(source = 'the input') {
    this.#source = source;
  }

  /**
   * One line of the file, without its `\n`.
   * @throws LedgerError INVALID_ARGUMENT naming the line.
   */
  addLine(raw: string): void {
    this.#lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const where = `line ${this.#lineNumber}`;
    this.#format ??= line.startsWith('{') ? 'jsonl' : 'plain';
    if (this.#format === 'plain') {
      if (line.startsWith('{')) throw this.#refuse(where, 'is JSON, but the first line is a plain fingerprint; use one format for the whole file');
      this.addSample(line, undefined, where);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw this.#refuse(where, 'is not valid JSON; each line must be {"fingerprint":"<64 hex>","license":"<SPDX>"}');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.#refuse(where, 'must be a JSON object {"fingerprint":"<64 hex>","license":"<SPDX>"}');
    const extra = Object.keys(value).find((key) => key !== 'fingerprint' && key !== 'license');
    if (extra !== undefined) throw this.#refuse(where, `has an unknown field ${JSON.stringify(extra.slice(0, 40))}; only "fingerprint" and "license" are allowed`);
    const { fingerprint, license } = value as { fingerprint?: unknown; license?: unknown };
    if (typeof fingerprint !== 'string') throw this.#refuse(where, 'has no "fingerprint" string');
    if (license !== undefined && typeof license !== 'string') throw this.#refuse(where, 'has a "license" that is not a string');
    this.addSample(fingerprint, license, where);
  }

  /**
   * One sample given directly (the library's entry point for arrays).
   * @throws LedgerError INVALID_ARGUMENT naming `where`.
   */
  addSample(fingerprint: string, license: string | undefined, where = `entry ${this.#entries.length + 1}`): void {
    if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) {
      throw this.#refuse(where, `${JSON.stringify(String(fingerprint).slice(0, 80))} is not a SHA-256 fingerprint: give 64 hex characters`);
    }
    const licensed = license !== undefined;
    this.#licensed ??= licensed;
    if (licensed !== this.#licensed) {
      throw this.#refuse(where, licensed ? 'has a licence, but the samples before it have none; give every sample a licence (NOASSERTION when not known) or none' : 'has no licence, but the samples before it have one; give every sample a licence (NOASSERTION when not known) or none');
    }
    this.#entries.push({ fingerprint: fingerprint.toLowerCase(), license: licensed ? this.#canonicalLicense(license, where) : null, where });
  }

  /**
   * Sorts and checks the whole list.
   * @throws LedgerError INVALID_ARGUMENT for an empty list, a fingerprint given twice, or too many distinct licences.
   */
  finish(): SampleList {
    if (this.#entries.length === 0) throw new LedgerError('INVALID_ARGUMENT', `${this.#source} holds no fingerprints; give one SHA-256 fingerprint (64 hex characters) per line`);
    const entries = this.#entries.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.fingerprint === entries[i - 1]!.fingerprint) {
        // A set holds each sample once; a repeated fingerprint is usually a bug upstream, and with two licences it would be ambiguous.
        const [first, second] = [entries[i - 1]!, entries[i]!].sort((a, b) => order(a.where) - order(b.where));
        throw this.#refuse(second!.where, `repeats the fingerprint ${entries[i]!.fingerprint} of ${first!.where}; a sample set holds each sample once, so remove the duplicate`);
      }
    }
    const list: SampleList = Object.freeze({ fingerprints: Object.freeze(entries.map((e) => e.fingerprint)), licenses: this.#licensed === true ? Object.freeze(entries.map((e) => e.license!)) : null });
    checked.add(list);
    return list;
  }

  #canonicalLicense(text: string, where: string): string {
    let canonical = this.#canonical.get(text);
    if (canonical === undefined) {
      try {
        canonical = formatLicense(parseLicense(text));
      } catch (error) {
        throw this.#refuse(where, `has an invalid licence: ${(error as Error).message}`);
      }
      // The canonical form can be longer than what was typed (added parentheses): the record holds that form.
      if (canonical.length > MAX_LICENSE_LENGTH) throw this.#refuse(where, `has a licence of ${canonical.length} characters in canonical form, over the ${MAX_LICENSE_LENGTH} a licence may have`);
      // Many spellings of few licences must not grow the cache without bound.
      if (this.#canonical.size >= 4096) this.#canonical.clear();
      this.#canonical.set(text, canonical);
      this.#distinct.add(canonical);
      if (this.#distinct.size > MAX_SAMPLE_LICENSES) {
        throw this.#refuse(where, `brings the set to more than ${MAX_SAMPLE_LICENSES} distinct licences, the most one sample set may carry; split the set`);
      }
    }
    return canonical;
  }

  #refuse(where: string, message: string): LedgerError {
    return new LedgerError('INVALID_ARGUMENT', `${this.#source} ${where} ${message}`, { details: { where } });
  }
}

/** "line 12" → 12, for naming the earlier of two lines first. */
function order(where: string): number {
  return Number(where.slice(where.indexOf(' ') + 1));
}

/**
 * Parses a whole text (a file already in memory).
 * @throws LedgerError INVALID_ARGUMENT as SampleListParser.
 * @example parseSampleText('9f86…08\n' , 'samples.txt').fingerprints.length // 1
 */
export function parseSampleText(text: string, source?: string): SampleList {
  const parser = new SampleListParser(source);
  const lines = text.split('\n');
  // A final newline ends the last line; it does not start an empty one.
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) parser.addLine(line);
  return parser.finish();
}

/**
 * A sample list from arrays (the library's input): the same checks as a file.
 * @throws LedgerError INVALID_ARGUMENT naming the entry.
 */
export function toSampleList(input: { readonly fingerprints: readonly string[]; readonly licenses?: readonly string[] }): SampleList {
  if (!Array.isArray(input.fingerprints)) throw new LedgerError('INVALID_ARGUMENT', 'samples.fingerprints must be an array of SHA-256 hex strings');
  if (input.licenses !== undefined && (!Array.isArray(input.licenses) || input.licenses.length !== input.fingerprints.length)) {
    throw new LedgerError('INVALID_ARGUMENT', 'samples.licenses must be an array with one licence per fingerprint');
  }
  const parser = new SampleListParser('the samples');
  input.fingerprints.forEach((fingerprint, i) => parser.addSample(fingerprint, input.licenses?.[i], `entry ${i + 1}`));
  return parser.finish();
}
