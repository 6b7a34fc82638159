/**
 * SPEC §25.1: the JSONL export format, written and read back on in-memory chains. One describe per rule; tests
 * assert codes (and the detail that names the failed check), not messages.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { openEvent, sealEvent } from '../event/event.js';
import { buildChain, LEDGER_ID, otherKey } from '../../test/helpers/events.js';
import { EXPORT_FORMAT, formatEventLine, formatFooter, formatHeader, MAX_LINE_BYTES, readExport, splitLines, type ExportItem } from './jsonl.js';

const chain = buildChain([{ payload: { text: 'é "q" \u0001', n: 0.5 } }, { type: 'app.other', payload: [1, { b: null, a: true }] }, {}]);
/** The lines of a complete export of `chain`, without newlines. */
const exportLines = (): string[] => [formatHeader({ ledger: LEDGER_ID, from: 0, to: chain.length - 1 }), ...chain.map(formatEventLine), formatFooter(chain.length)];
const text = (lines: readonly string[]) => lines.map((line) => `${line}\n`).join('');

async function read(input: string | readonly (string | Uint8Array)[]): Promise<ExportItem[]> {
  const items: ExportItem[] = [];
  for await (const item of readExport(splitLines(typeof input === 'string' ? [input] : input))) items.push(item);
  return items;
}

/** The code and the failed check of reading `input`, or 'ok'. */
async function refusal(input: string): Promise<string> {
  try {
    await read(input);
    return 'ok';
  } catch (error) {
    const { code, details } = error as { code: string; details: { failure?: string } };
    return details.failure === undefined ? code : `${code}/${details.failure}`;
  }
}

/** The export with line `index` (0 = header) replaced by `edit(line)`. */
const editLine = (index: number, edit: (line: string) => string) => text(exportLines().map((line, i) => (i === index ? edit(line) : line)));
const editField = (index: number, field: string, value: unknown) => editLine(index, (line) => JSON.stringify({ ...(JSON.parse(line) as object), [field]: value }));

describe('SPEC §25.1: an export is read back to exactly the events written', () => {
  it('yields the header, then every event with its bytes, its hash and its line number', async () => {
    const items = await read(text(exportLines()));
    expect(items[0]).toEqual({ kind: 'header', header: { ledger: LEDGER_ID, from: 0, to: 3 } });
    const events = items.slice(1).map((item) => (item.kind === 'event' ? [item.line, toHex(item.event.bytes), toHex(item.event.hash)] : null));
    expect(events).toEqual(chain.map((e, i) => [i + 2, toHex(e.bytes), toHex(e.hash)]));
  });

  it('writes the fields derived from the bytes in a fixed order, the bytes last', () => {
    const line = JSON.parse(formatEventLine(chain[1]!)) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['seq', 'hash', 'ts', 'type', 'author', 'payload', 'event']);
    expect(line).toMatchObject({ seq: 1, hash: toHex(chain[1]!.hash), ts: chain[1]!.body.ts, type: 'app.note', author: toHex(chain[1]!.body.author), payload: { text: 'é "q" \u0001', n: 0.5 } });
    expect(JSON.parse(formatHeader({ ledger: LEDGER_ID, from: 0, to: 3, record: 'x' }))).toEqual({ format: EXPORT_FORMAT, ledger: LEDGER_ID, from: 0, to: 3, record: 'x' });
  });
});

describe('SPEC §25.1: payload keys are written in the order of §5.7, whatever the JavaScript object order', () => {
  it('integer-like and non-ASCII keys too: shorter UTF-8 first, then bytewise', () => {
    const [, event] = buildChain([{ payload: { 'é': 1, b: { z: 0, '2': [{ y: 1, x: 2 }] }, '10': 3, a: 4 } }]);
    const decoded = openEvent(event!.bytes);
    // JavaScript lists integer-like keys first, so the decoded object is not in §5.7 order.
    expect(Object.keys(decoded.body.payload as object)).toEqual(['10', 'a', 'b', 'é']);
    const line = formatEventLine(decoded);
    expect(line).toContain('"payload":{"a":4,"b":{"2":[{"x":2,"y":1}],"z":0},"10":3,"é":1}');
    expect(formatEventLine(event!)).toBe(line);
  });
});

describe('SPEC §25.1: lines are split on \\n only, strictly UTF-8, bounded, and the last one ends in \\n', () => {
  it('joins chunks cut anywhere, even inside a character', async () => {
    const bytes = new TextEncoder().encode(text(exportLines()));
    const at = bytes.indexOf(0xc3) + 1; // inside "é"
    expect(await read([bytes.subarray(0, 3), bytes.subarray(3, at), bytes.subarray(at)])).toEqual(await read(text(exportLines())));
  });

  it('refuses a line cut short (no final newline), bytes that are not UTF-8, and an overlong line', async () => {
    const whole = text(exportLines());
    expect(await refusal(whole.slice(0, -1))).toBe('EXPORT_MALFORMED');
    expect(await refusal(whole.slice(0, whole.length - 40))).toBe('EXPORT_MALFORMED');
    const lines: { text: string }[] = [];
    await expect(
      (async () => {
        for await (const line of splitLines([new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])])) lines.push(line);
      })(),
    ).rejects.toMatchObject({ code: 'EXPORT_MALFORMED' });
    await expect(
      (async () => {
        for await (const line of splitLines(['x'.repeat(100), 'y'.repeat(100), '\n'], 150)) lines.push(line);
      })(),
    ).rejects.toMatchObject({ code: 'EXPORT_MALFORMED', details: { line: 1 } });
    expect(MAX_LINE_BYTES).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('refuses CRLF line ends', async () => {
    expect(await refusal(exportLines().map((line) => `${line}\r\n`).join(''))).toBe('EXPORT_MALFORMED');
  });
});

describe('SPEC §25.1: the header comes first and names a whole ledger from the genesis', () => {
  it.each([
    ['an empty file', ''],
    ['no header (an event line first)', text(exportLines().slice(1))],
    ['another format', editField(0, 'format', 'provledger-export@v2')],
    ['an unknown header field', editField(0, 'note', 'hi')],
    ['spacing changed', editLine(0, (line) => line.replace(',', ', '))],
    ['a ledger id that is not a UUID', editField(0, 'ledger', 'x')],
    ['to before from', editField(0, 'to', -1)],
    ['a partial export of one record', editField(0, 'record', 'ds')],
    ['an export that starts after the genesis', text([formatHeader({ ledger: LEDGER_ID, from: 1, to: 3 }), ...exportLines().slice(2, -1), formatFooter(3)])],
    ['not JSON', 'hello\n'],
  ])('%s: EXPORT_MALFORMED', async (_name, input) => {
    expect(await refusal(input)).toBe('EXPORT_MALFORMED');
  });
});

describe('SPEC §25.1: each event line is exactly the line its bytes give', () => {
  it.each([
    ['seq', 7],
    ['hash', '00'.repeat(32)],
    ['ts', 1],
    ['type', 'app.forged'],
    ['author', toHex(otherKey.publicKey)],
    ['payload', { n: 2 }],
  ])('a changed %s is IMPORT_INVALID (EDITED)', async (field, value) => {
    expect(await refusal(editField(2, field, value))).toBe('IMPORT_INVALID/EDITED');
  });

  it.each([
    ['a missing field', editLine(2, (line) => JSON.stringify({ ...(JSON.parse(line) as object), ts: undefined }))],
    ['an extra field', editField(2, 'note', 1)],
    ['keys reordered', editLine(2, (line) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(line) as object).reverse())))],
    ['a duplicate key (JSON.parse keeps the last)', editLine(2, (line) => line.replace('{"seq":1,', '{"seq":1,"type":"app.decoy",'))],
    ['an escape rewritten', editLine(2, (line) => line.replace('é', '\\u00e9'))],
  ])('%s is IMPORT_INVALID (EDITED)', async (_name, input) => {
    expect(await refusal(input)).toBe('IMPORT_INVALID/EDITED');
  });

  it('event bytes that do not decode are IMPORT_INVALID with the verify code', async () => {
    const flipped = (hex: string) => `${hex.slice(0, 10)}${hex[10] === '0' ? '1' : '0'}${hex.slice(11)}`;
    expect(await refusal(editLine(2, (line) => line.replace(/"event":"([0-9a-f]+)"/, (_m, hex: string) => `"event":"${flipped(hex)}"`)))).toMatch(/^IMPORT_INVALID\/(NON_CANONICAL|MALFORMED_EVENT)$/);
    // Bytes that still decode, with every derived field rewritten to agree: a field is the same, the hash is not.
    const forged = sealEvent({ ...chain[1]!.body, author: otherKey.publicKey, payload: { n: 3 } }, otherKey);
    expect(await refusal(editLine(2, (line) => line.replace(/"event":"[0-9a-f]+"/, `"event":"${toHex(forged.bytes)}"`)))).toBe('IMPORT_INVALID/EDITED');
  });

  it('an event field that is not hex of whole bytes is EXPORT_MALFORMED', async () => {
    expect(await refusal(editField(2, 'event', 'ABCD'))).toBe('EXPORT_MALFORMED');
    expect(await refusal(editField(2, 'event', 'abc'))).toBe('EXPORT_MALFORMED');
    expect(await refusal(editField(2, 'event', 12))).toBe('EXPORT_MALFORMED');
  });
});

describe('SPEC §25.1: events are consecutive from 0, and the footer counts them', () => {
  const lines = exportLines();
  it.each([
    ['two lines swapped', text([lines[0]!, lines[1]!, lines[3]!, lines[2]!, ...lines.slice(4)]), 'IMPORT_INVALID/SEQ_MISMATCH'],
    ['a line dropped', text([...lines.slice(0, 2), ...lines.slice(3)]), 'IMPORT_INVALID/SEQ_MISMATCH'],
    ['a line duplicated', text([...lines.slice(0, 3), lines[2]!, ...lines.slice(3)]), 'IMPORT_INVALID/SEQ_MISMATCH'],
    ['the last event dropped, the footer kept', text([...lines.slice(0, -2), lines.at(-1)!]), 'IMPORT_INVALID/SEQ_GAP'],
    ['the last event and the footer rewritten', text([...lines.slice(0, -2), formatFooter(3)]), 'IMPORT_INVALID/SEQ_GAP'],
    ['no footer (cut at a line end)', text(lines.slice(0, -1)), 'EXPORT_MALFORMED'],
    ['a malformed footer', text([...lines.slice(0, -1), '{"end":true,"events":"4"}']), 'EXPORT_MALFORMED'],
    ['a line after the footer', text([...lines, '{}']), 'EXPORT_MALFORMED'],
    ['an export appended to itself', text([...lines, ...lines]), 'EXPORT_MALFORMED'],
  ])('%s: %s', async (_name, input, expected) => {
    expect(await refusal(input)).toBe(expected);
  });

  it('a complete export reads with no refusal', async () => {
    expect(await refusal(text(lines))).toBe('ok');
  });
});
