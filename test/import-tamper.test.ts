/**
 * SPEC §25.4: an export that was damaged or edited is refused with the right code, and nothing appears at the
 * target: not the ledger, not a partial one, not the hidden directory it was built in. A target that is not free
 * is refused and left byte for byte as it was. Edits that keep every line consistent (events re-signed and
 * re-chained, as an attacker holding keys would) are caught by verify itself, with its failure code.
 *
 * The source ledger (seq: what): 0 genesis, 1 key.add other (writer), 2 record ds, 3 app.note (other),
 * 4 record ds v2, 5 record m, 6 link m derivedFrom ds, 7 invalidate ds v1, 8 app.note.
 */
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { SigningKey } from '../src/crypto/keys.js';
import { openEvent, sealEvent, type EventBody } from '../src/event/event.js';
import { formatEventLine } from '../src/exchange/jsonl.js';
import { Ledger } from '../src/index.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { createOptions, template, withOpen } from './helpers/ledgers.js';
import { filesOf, storeDigest } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';

const fresh = template(async (dir) => {
  const options = createOptions();
  const owner = await Ledger.create(dir, options);
  await owner.keys.add(otherKey.publicKeyHex, { role: 'writer', name: 'other' });
  await owner.records.create('dataset', { name: 'ds' }, { id: 'ds' });
  await owner.close();
  const other = await Ledger.open(dir, { ...options, key: otherKey });
  await other.append({ type: 'app.note', payload: { by: 'other' } });
  await other.close();
  const ledger = await Ledger.open(dir, options);
  await ledger.records.update('ds', { name: 'ds', rows: 2 });
  await ledger.records.create('model', { name: 'm' }, { id: 'm' });
  await ledger.links.add({ from: 'm', to: 'ds', rel: 'derivedFrom' });
  await ledger.provenance.invalidate('ds', { reason: 'swapped rows', version: 1 });
  await ledger.append({ type: 'app.note', payload: { n: 8 } });
  await ledger.close();
}, 'provledger-import-tamper-');

const SIGNERS = new Map([ownerKey, otherKey].map((key) => [key.publicKeyHex, key]));
let exportText = '';
let recordExport = '';

beforeAll(async () => {
  const dir = await fresh();
  [exportText, recordExport] = await withOpen(dir, async (ledger) => {
    const drain = async (lines: AsyncIterable<string>) => {
      let text = '';
      for await (const line of lines) text += line;
      return text;
    };
    return [await drain(ledger.exportJsonl()), await drain(ledger.exportJsonl({ record: 'ds' }))];
  });
});

const lines = () => exportText.slice(0, -1).split('\n');
const join_ = (all: readonly string[]) => all.map((line) => `${line}\n`).join('');

/**
 * The export with event `seq` replaced by `change(body)` signed by `key`, and every later event re-chained and
 * re-signed by its own author: every line consistent, every hash link intact.
 */
function forge(seq: number, change: (body: EventBody) => EventBody, key: SigningKey): string {
  const all = lines();
  let previous = sealEvent(change(openEvent(Buffer.from(JSON.parse(all[1 + seq]!).event as string, 'hex')).body), key);
  all[1 + seq] = formatEventLine(openEvent(previous.bytes));
  for (let next = seq + 1; 1 + next < all.length - 1; next++) {
    const { body } = openEvent(Buffer.from(JSON.parse(all[1 + next]!).event as string, 'hex'));
    previous = sealEvent({ ...body, prev: previous.hash }, SIGNERS.get(toHex(body.author))!);
    all[1 + next] = formatEventLine(openEvent(previous.bytes));
  }
  return join_(all);
}

/** Imports `text` into `tmp/target`; returns `code/failure` and fails unless `tmp` holds nothing new afterwards. */
async function refusal(text: string, options: Parameters<typeof Ledger.import>[2] = {}): Promise<string> {
  return withTempDir(async (tmp) => {
    const before = await readdir(tmp);
    const outcome = await Ledger.import(join(tmp, 'target'), [text], options).then(
      () => 'imported',
      (error: { code?: string; details?: { failure?: string } }) => [error.code, error.details?.failure].filter((x) => x !== undefined).join('/'),
    );
    expect(await readdir(tmp), 'something was left beside the target').toEqual(outcome === 'imported' ? [...before, 'target'] : before);
    return outcome;
  });
}

describe('SPEC §25.4: the untouched export imports', () => {
  it('as a baseline for every case below', async () => {
    expect(await refusal(exportText)).toBe('imported');
  });
});

describe('SPEC §25.4: a damaged or malformed file is refused (EXPORT_MALFORMED, exit 2) and nothing appears', () => {
  it.each([
    ['truncated mid-line', () => exportText.slice(0, exportText.length - 30)],
    ['truncated at a line end (no footer)', () => join_(lines().slice(0, -1))],
    ['cut after the header', () => join_(lines().slice(0, 1))],
    ['garbage appended', () => `${exportText}garbage\n`],
    ['a partial export of one record', () => recordExport],
    ['CRLF line ends', () => exportText.replaceAll('\n', '\r\n')],
    ['not an export at all', () => '{"seq":0}\n'],
  ])('%s', async (_name, make) => {
    expect(await refusal(make())).toBe('EXPORT_MALFORMED');
  });
});

describe('SPEC §25.4: an edited export is refused (IMPORT_INVALID, exit 1), naming the check, and nothing appears', () => {
  const all = () => lines();
  it.each([
    ['two lines swapped', 'SEQ_MISMATCH', () => join_([...all().slice(0, 3), all()[4]!, all()[3]!, ...all().slice(5)])],
    ['a line dropped', 'SEQ_MISMATCH', () => join_([...all().slice(0, 4), ...all().slice(5)])],
    ['a line duplicated', 'SEQ_MISMATCH', () => join_([...all().slice(0, 5), all()[4]!, ...all().slice(5)])],
    ['the last event dropped, the footer kept', 'SEQ_GAP', () => join_([...all().slice(0, -2), all().at(-1)!])],
    ['a derived field changed (type)', 'EDITED', () => exportText.replace('"type":"app.note"', '"type":"app.edited"')],
    ['the header names another ledger', 'META_MISMATCH', () => exportText.replace(/"ledger":"[0-9a-f-]+"/, '"ledger":"00000000-0000-4000-8000-000000000000"')],
  ])('%s: %s', async (_name, failure, make) => {
    expect(await refusal(make())).toBe(`IMPORT_INVALID/${failure}`);
  });

  it('any hex digit of any event changed: never imported', async () => {
    const events = lines().slice(1, -1);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: events.length - 1 }), fc.nat(), fc.nat({ max: 14 }), async (index, position, digit) => {
        const all = lines();
        const line = all[1 + index]!;
        const start = line.indexOf('"event":"') + 9;
        const at = start + (position % (line.length - 2 - start));
        const replacement = '0123456789abcdef'.replace(line[at]!, '')[digit]!;
        all[1 + index] = `${line.slice(0, at)}${replacement}${line.slice(at + 1)}`;
        expect(await refusal(join_(all))).toMatch(/^IMPORT_INVALID\/(NON_CANONICAL|MALFORMED_EVENT|EDITED)$/);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('SPEC §25.4: consistent lines, re-signed and re-chained, are refused by verify (IMPORT_INVALID with its code)', () => {
  const stranger = SigningKey.generate();

  it.each([
    ['an event re-signed by a key never authorised', 'UNAUTHORIZED', () => forge(8, (body) => ({ ...body, author: stranger.publicKey }), stranger)],
    ['a key change forged by a writer', 'NOT_ADMIN', () => forge(3, (body) => ({ ...body, type: 'key.add', payload: { key: stranger.publicKeyHex, role: 'admin' } }), otherKey)],
    ['a record version skipped, signed by the owner', 'VERSION_BREAK', () => forge(4, (body) => ({ ...body, payload: { ...(body.payload as object), version: 5 } }), ownerKey)],
    ['a link to a record not yet created', 'LINK_BREAK', () => forge(6, (body) => ({ ...body, payload: { from: 'm', to: 'later', rel: 'derivedFrom' } }), ownerKey)],
    ['time going backwards', 'TIME_REVERSED', () => forge(8, (body) => ({ ...body, ts: 0 }), ownerKey)],
  ])('%s: %s', async (_name, failure, make) => {
    expect(await refusal(make())).toBe(`IMPORT_INVALID/${failure}`);
  });

  it('a broken signature (every line consistent with it): BAD_SIGNATURE', async () => {
    const all = lines();
    const bytes = Buffer.from(JSON.parse(all[3]!).event as string, 'hex');
    bytes[7] = bytes[7]! ^ 1; // the signature's first byte (SPEC §3.6)
    all[3] = formatEventLine(openEvent(bytes));
    // Re-chain the rest with their real keys, as forge does.
    let previous = openEvent(bytes);
    for (let i = 4; i < all.length - 1; i++) {
      const { body } = openEvent(Buffer.from(JSON.parse(all[i]!).event as string, 'hex'));
      previous = sealEvent({ ...body, prev: previous.hash }, SIGNERS.get(toHex(body.author))!);
      all[i] = formatEventLine(openEvent(previous.bytes));
    }
    expect(await refusal(join_(all))).toBe('IMPORT_INVALID/BAD_SIGNATURE');
  });

  it('an expected head the export does not reach, or reaches with another hash: EXPECTED_HEAD', async () => {
    const last = JSON.parse(lines().at(-2)!) as { seq: number; hash: string };
    expect(await refusal(exportText, { expectHead: { seq: last.seq, hash: last.hash } })).toBe('imported');
    expect(await refusal(exportText, { expectHead: { seq: last.seq + 1, hash: last.hash } })).toBe('IMPORT_INVALID/EXPECTED_HEAD');
    expect(await refusal(exportText, { expectHead: { seq: 2, hash: last.hash } })).toBe('IMPORT_INVALID/EXPECTED_HEAD');
  });

  it('an expected head that is an earlier event with its right hash: the export goes on past it, EXPECTED_HEAD', async () => {
    const third = JSON.parse(lines()[3]!) as { seq: number; hash: string };
    expect(third.seq).toBe(2);
    expect(await refusal(exportText, { expectHead: { seq: third.seq, hash: third.hash } })).toBe('IMPORT_INVALID/EXPECTED_HEAD');
  });
});

describe('SPEC §25.1: a line may arrive in any pieces', () => {
  it('the export fed one byte at a time imports (no deep argument lists, one buffer per line)', async () => {
    const bytes = new TextEncoder().encode(exportText);
    function* oneByteAtATime(): Iterable<Uint8Array> {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    await withTempDir(async (tmp) => {
      const result = await Ledger.import(join(tmp, 'target'), oneByteAtATime());
      expect(result.seq).toBe((JSON.parse(lines().at(-2)!) as { seq: number }).seq);
    });
  });
});

describe('SPEC §25.4: a target that is not free is refused and left as it was', () => {
  it('a ledger: LEDGER_EXISTS, its store byte for byte unchanged', async () => {
    const dir = await fresh();
    const digest = await storeDigest(dir);
    expect(await Ledger.import(dir, [exportText]).catch((e: { code: string }) => e.code)).toBe('LEDGER_EXISTS');
    expect(await storeDigest(dir)).toBe(digest);
  });

  it('a directory with a file, or a file: INVALID_ARGUMENT, untouched', async () => {
    await withTempDir(async (tmp) => {
      await mkdir(join(tmp, 'busy'));
      await writeFile(join(tmp, 'busy', 'notes.txt'), 'mine');
      await writeFile(join(tmp, 'file'), 'mine too');
      const before = { listing: await readdir(tmp), busy: await filesOf(join(tmp, 'busy')) };
      expect(await Ledger.import(join(tmp, 'busy'), [exportText]).catch((e: { code: string }) => e.code)).toBe('INVALID_ARGUMENT');
      expect(await Ledger.import(join(tmp, 'file'), [exportText]).catch((e: { code: string }) => e.code)).toBe('INVALID_ARGUMENT');
      expect({ listing: await readdir(tmp), busy: await filesOf(join(tmp, 'busy')) }).toEqual(before);
    });
  });

  it('a symbolic link, to an empty directory or dangling: INVALID_ARGUMENT before anything is read, untouched', async () => {
    await withTempDir(async (tmp) => {
      await mkdir(join(tmp, 'empty'));
      await symlink(join(tmp, 'empty'), join(tmp, 'to-empty'));
      await symlink(join(tmp, 'nowhere'), join(tmp, 'dangling'));
      const before = await readdir(tmp);
      for (const link of ['to-empty', 'dangling']) {
        const error = (await Ledger.import(join(tmp, link), [exportText]).catch((e: unknown) => e)) as { code: string; message: string };
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.message).toMatch(/is a symbolic link/);
      }
      expect(await readdir(tmp)).toEqual(before);
      expect(await readdir(join(tmp, 'empty'))).toEqual([]);
    });
  });

  it('a source file that cannot be read: INVALID_ARGUMENT, nothing created', async () => {
    await withTempDir(async (tmp) => {
      expect(await Ledger.import(join(tmp, 'target'), join(tmp, 'missing.jsonl')).catch((e: { code: string }) => e.code)).toBe('INVALID_ARGUMENT');
      expect(await readdir(tmp)).toEqual([]);
    });
  });
});
