/**
 * The JSONL export format (SPEC §25.1) as pure functions: formatting a header, one line per event and a
 * footer, and reading them back strictly. A line is valid only if it is exactly the line this module would
 * write for the event its `event` hex decodes to, so an edited convenience field, a reordered key, extra
 * spacing or a duplicate key can never import silently. No I/O: chunks in, events out, tested with arrays.
 * Chain rules (links, signatures, authority, records) are not judged here: import hands the events to verify.
 */
import { fromHex, toHex } from '../bytes.js';
import { LedgerError, isLedgerError } from '../errors.js';
import { openEvent, type SealedEvent } from '../event/event.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../event/format.js';

export const EXPORT_FORMAT = 'provledger-export@v1';

/**
 * The longest line a valid export holds: an event's hex (2 characters a byte) plus its payload as JSON (at most
 * 6 characters a byte, for `\u00XX` escapes) plus the fixed fields. Longer lines are refused before parsing.
 */
export const MAX_LINE_BYTES = 8 * DEFAULT_MAX_EVENT_BYTES + 4096;

/** What the first line says about the export. */
export interface ExportHeader {
  /** The ledger id of the genesis. */
  readonly ledger: string;
  /** The seq range the export covers (both inclusive). */
  readonly from: number;
  readonly to: number;
  /** Set when only the events about one record were exported (SPEC §25.2): such a file cannot be imported. */
  readonly record?: string;
}

/** One item read from an export: the header first, then each event in order. */
export type ExportItem = { readonly kind: 'header'; readonly header: ExportHeader } | { readonly kind: 'event'; readonly event: SealedEvent; readonly line: number };

export function formatHeader(header: ExportHeader): string {
  return JSON.stringify({ format: EXPORT_FORMAT, ledger: header.ledger, from: header.from, to: header.to, ...(header.record === undefined ? {} : { record: header.record }) });
}

/** The fields of an event line, in their order: everything but `event` is derived from the event's bytes. */
function eventLineFields(event: SealedEvent): Record<string, unknown> {
  const { body } = event;
  return { seq: body.seq, hash: toHex(event.hash), ts: body.ts, type: body.type, author: toHex(body.author), payload: body.payload, event: toHex(event.bytes) };
}

/**
 * The line of one event (no newline). Objects are written with their keys in the canonical order of SPEC §5.7
 * (shorter UTF-8 first, then bytewise), not in a JavaScript object's order, so the line is a function of the
 * event's value alone, however the object was built.
 */
export function formatEventLine(event: SealedEvent): string {
  return canonicalJson(eventLineFields(event), true);
}

/** JSON text of a value with object keys in §5.7 order; at the top of a line, keys stay in the line's own order. */
function canonicalJson(value: unknown, keepOrder = false): string {
  // Decoded events already hold their keys in §5.7 order (JavaScript keeps insertion order, integer-like keys
  // aside), and then JSON.stringify writes the same text several times faster.
  if (!keepOrder && inCanonicalOrder(value)) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  const keys = keepOrder ? Object.keys(record) : canonicalOrder(Object.keys(record));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

const ASCII = /^[\x00-\x7f]*$/;
const utf8 = new TextEncoder();

/** Whether every object inside `value` lists its keys in §5.7 order already (checked on ASCII keys only). */
function inCanonicalOrder(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(inCanonicalOrder);
  if (typeof value !== 'object' || value === null) return true;
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    const [a, b] = [keys[i - 1]!, keys[i]!];
    if (!ASCII.test(a) || !ASCII.test(b) || a.length > b.length || (a.length === b.length && a > b)) return false;
  }
  return keys.every((key) => inCanonicalOrder((value as Record<string, unknown>)[key]));
}

/**
 * Keys sorted as §5.7 sorts them: by UTF-8 length, then bytewise. For ASCII keys that is length, then code units,
 * compared directly; other keys are encoded once each.
 */
function canonicalOrder(keys: string[]): string[] {
  if (keys.every((key) => ASCII.test(key))) return keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return keys
    .map((key) => ({ key, bytes: utf8.encode(key) }))
    .sort((a, b) => a.bytes.length - b.bytes.length || compareBytes(a.bytes, b.bytes))
    .map(({ key }) => key);
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

export function formatFooter(events: number): string {
  return JSON.stringify({ end: true, events });
}

/**
 * Splits chunks of bytes (or text) into lines, each strictly UTF-8, at most `maxLineBytes` long, and ended by
 * `\n`: a last line without one means the file was cut short. Memory: one line.
 * @throws LedgerError EXPORT_MALFORMED.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<{ text: string; number: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const encoder = new TextEncoder();
  // The start of a line that spans chunks, in one growable buffer: a line may arrive a byte at a time.
  let pending = new Uint8Array(0);
  let pendingBytes = 0;
  const keep = (bytes: Uint8Array): void => {
    if (pendingBytes + bytes.length > pending.length) {
      const grown = new Uint8Array(Math.max(pending.length * 2, pendingBytes + bytes.length, 4096));
      grown.set(pending.subarray(0, pendingBytes));
      pending = grown;
    }
    pending.set(bytes, pendingBytes);
    pendingBytes += bytes.length;
  };
  let number = 0;
  const finish = (bytes: Uint8Array): { text: string; number: number } => {
    number++;
    try {
      return { text: decoder.decode(bytes), number };
    } catch {
      throw malformed(number, 'is not UTF-8 text');
    }
  };
  for await (const chunk of chunks) {
    let bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    for (let newline = bytes.indexOf(0x0a); newline !== -1; newline = bytes.indexOf(0x0a)) {
      if (pendingBytes + newline > maxLineBytes) throw malformed(number + 1, `is longer than ${maxLineBytes} bytes, more than any event line can be`);
      if (pendingBytes === 0) yield finish(bytes.subarray(0, newline));
      else {
        keep(bytes.subarray(0, newline));
        // Decoded to a string at once, so `pending` may be written over afterwards.
        const line = finish(pending.subarray(0, pendingBytes));
        pendingBytes = 0;
        yield line;
      }
      bytes = bytes.subarray(newline + 1);
    }
    if (bytes.length > 0) {
      if (pendingBytes + bytes.length > maxLineBytes) throw malformed(number + 1, `is longer than ${maxLineBytes} bytes, more than any event line can be`);
      // Copied (into `pending`): a caller may reuse its chunk buffers.
      keep(bytes);
    }
  }
  if (pendingBytes > 0) throw malformed(number + 1, 'does not end with a newline: the file was cut short (truncated); export it again');
}

/**
 * Reads a complete export (SPEC §25.1) line by line: the header, then every event from seq 0 in order, then the
 * footer, and nothing after it. Each event line must be exactly the line its bytes give. A partial export (one
 * record, or not from seq 0) is refused at its header. The events are not verified here; the caller must.
 * @throws LedgerError EXPORT_MALFORMED (not an export of §25.1: exit 2) or IMPORT_INVALID (an export whose content
 * was changed: an event that does not decode, a line that does not match its event, a missing or extra event).
 * @example for await (const item of readExport(splitLines(chunks))) if (item.kind === 'event') store(item.event);
 */
export async function* readExport(lines: AsyncIterable<{ text: string; number: number }>, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): AsyncGenerator<ExportItem> {
  let header: ExportHeader | undefined;
  let expectedSeq = 0;
  let ended: number | undefined;
  for await (const { text, number } of lines) {
    if (ended !== undefined) throw malformed(number, `follows the footer (line ${ended}); something was appended to the export`);
    if (text.endsWith('\r')) throw malformed(number, 'ends with a carriage return; exports use \\n line ends only (was the file converted to CRLF?)');
    const value = parseJsonLine(text, number);
    if (header === undefined) {
      header = readHeader(value, text, number);
      yield { kind: 'header', header };
      continue;
    }
    if (Object.hasOwn(value, 'end')) {
      readFooter(value, text, number, expectedSeq, header);
      ended = number;
      continue;
    }
    const event = readEventLine(value, text, number, maxEventBytes);
    if (event.body.seq !== expectedSeq) {
      throw invalid(number, 'SEQ_MISMATCH', `holds event ${event.body.seq} where event ${expectedSeq} belongs: lines were removed, duplicated or reordered`, event.body.seq);
    }
    expectedSeq++;
    yield { kind: 'event', event, line: number };
  }
  if (header === undefined) throw new LedgerError('EXPORT_MALFORMED', 'the file is empty; it is not a provledger export');
  if (ended === undefined) throw new LedgerError('EXPORT_MALFORMED', `the export ends without its footer line: it was cut short after ${expectedSeq} event(s); export it again`, { details: { events: expectedSeq } });
}

function parseJsonLine(text: string, number: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(number, `is not JSON${number === 1 ? '; the file is not a provledger export' : ' (was the file cut short or edited?)'}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(number, 'is not a JSON object');
  return value as Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function readHeader(value: Record<string, unknown>, text: string, number: number): ExportHeader {
  const { format, ledger, from, to, record } = value;
  if (format !== EXPORT_FORMAT) throw malformed(number, `is not a provledger export header (it must start with {"format":"${EXPORT_FORMAT}"})`);
  if (typeof ledger !== 'string' || !UUID.test(ledger) || !isSeq(from) || !isSeq(to) || from > to || (record !== undefined && typeof record !== 'string')) {
    throw malformed(number, 'is a malformed export header (ledger, from and to)');
  }
  const header: ExportHeader = { ledger, from, to, ...(record === undefined ? {} : { record }) };
  if (formatHeader(header) !== text) throw malformed(number, 'is not an export header as provledger writes it (unknown fields, spacing or order)');
  if (header.record !== undefined) {
    throw malformed(number, `says this is a partial export of record ${header.record} (export --record), for reading only; import needs a whole ledger: run \`provledger export\` without --record`);
  }
  if (header.from !== 0) throw malformed(number, `says this export starts at event ${header.from}, not at the genesis; import needs a whole ledger: run \`provledger export\` without --from`);
  return header;
}

function readFooter(value: Record<string, unknown>, text: string, number: number, events: number, header: ExportHeader): void {
  if (!isSeq(value['events']) || formatFooter(value['events']) !== text) throw malformed(number, 'is a malformed footer (it must be exactly {"end":true,"events":N})');
  const count = value['events'];
  if (count !== events) throw invalid(number, 'SEQ_GAP', `(the footer) says the export holds ${count} event(s), but ${events} precede it: lines were removed or added`);
  if (events !== header.to - header.from + 1) {
    throw invalid(number, 'SEQ_GAP', `(the footer) ends the export after event ${events - 1}, but its header says it runs to event ${header.to}: lines were removed`);
  }
}

const FIELD_ORDER = ['seq', 'hash', 'ts', 'type', 'author', 'payload', 'event'] as const;

function readEventLine(value: Record<string, unknown>, text: string, number: number, maxEventBytes: number): SealedEvent {
  const hex = value['event'];
  if (typeof hex !== 'string') throw malformed(number, 'has no "event" field with the event\'s bytes in hex');
  const bytes = /^(?:[0-9a-f]{2})+$/.test(hex) ? fromHex(hex) : undefined;
  if (bytes === undefined) throw malformed(number, 'has an "event" field that is not lower-case hex of whole bytes');
  let event: SealedEvent;
  try {
    event = openEvent(bytes, maxEventBytes);
  } catch (error) {
    if (!isLedgerError(error)) throw error;
    const code = error.code === 'EVENT_TOO_LARGE' ? 'TOO_LARGE' : error.code === 'NON_CANONICAL' ? 'NON_CANONICAL' : 'MALFORMED_EVENT';
    throw invalid(number, code, `holds an event that cannot be decoded (${error.message}); the export was damaged or edited`);
  }
  if (formatEventLine(event) === text) return event;
  // Say which field disagrees with the bytes, when one does; otherwise the line's form was changed.
  const expected = eventLineFields(event);
  const field = FIELD_ORDER.find((name) => canonicalJson(value[name]) !== canonicalJson(expected[name]));
  const extra = Object.keys(value).find((name) => !(FIELD_ORDER as readonly string[]).includes(name));
  const why =
    field !== undefined
      ? `says ${field} ${value[field] === undefined ? 'is missing' : truncate(canonicalJson(value[field]))}, but its event's bytes say ${truncate(canonicalJson(expected[field]))}`
      : extra !== undefined
        ? `has a field "${truncate(extra)}" that no export line has`
        : 'is not written as provledger writes it (spacing, key order, escapes or a duplicate key)';
  throw invalid(number, 'EDITED', `${why}: the export was edited`, event.body.seq);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function malformed(line: number, what: string): LedgerError {
  return new LedgerError('EXPORT_MALFORMED', `line ${line} of the export ${what}`, { details: { line } });
}

/** An export whose content was changed; `failure` names the check, as verify's failure codes do where one fits. */
function invalid(line: number, failure: string, what: string, seq?: number): LedgerError {
  return new LedgerError('IMPORT_INVALID', `line ${line} of the export ${what}; nothing was imported`, { details: { line, failure, ...(seq === undefined ? {} : { seq }) } });
}
