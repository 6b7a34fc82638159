/**
 * Reading the projections (SPEC §12.3): a record's head, a version's event, the version current at a seq, the
 * seq current at a time, and the records of a kind. Every answer costs a bounded number of index reads: none
 * depends on the length of the log.
 */
import { LedgerError } from '../errors.js';
import type { Authority, KeyStanding } from '../domain/keys.js';
import { equalBytes } from '../bytes.js';
import { decodeHead, decodeKind, decodeStanding, decodeVersion, keyText, keys, readTimeKey, splitKey, type IndexReader, type RecordHead, type VersionEntry } from './indexes.js';

export async function readRecordHead(reader: IndexReader, id: string): Promise<RecordHead | null> {
  const bytes = await reader.indexGet('rc', keys.current(id));
  return bytes === undefined ? null : decodeHead(bytes, `current-state (rc) of ${id}`);
}

export async function readVersionEntry(reader: IndexReader, id: string, version: number): Promise<VersionEntry | null> {
  const bytes = await reader.indexGet('rv', keys.version(id, version));
  return bytes === undefined ? null : decodeVersion(bytes, `version (rv) ${id}@${version}`);
}

/**
 * The version of a record that was current just after event `seq`, or null if the record did not exist yet.
 * Versions are written in seq order, so a binary search over 1..head.version finds it in O(log versions) reads.
 */
export async function versionAtSeq(reader: IndexReader, id: string, head: RecordHead, seq: number): Promise<number | null> {
  if (head.seq <= seq) return head.version;
  let low = 1;
  let high = head.version - 1;
  let found: number | null = null;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const entry = await readVersionEntry(reader, id, middle);
    if (entry === null) throw new LedgerError('STORE_CORRUPT', `version ${middle} of ${id} is missing from the version index; run \`provledger verify\`, then \`provledger rebuild\``);
    if (entry.seq <= seq) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** The last event with time <= `timeMs`, by the time index; null when every event is later. */
export async function seqAtTime(reader: IndexReader, timeMs: number): Promise<number | null> {
  for await (const entry of reader.indexEntries('ti', { lt: keys.time(timeMs + 1, 0), reverse: true, limit: 1 })) {
    const parsed = readTimeKey(entry.key);
    if (parsed === undefined) throw new LedgerError('STORE_CORRUPT', 'the time index holds a malformed key; run `provledger rebuild`');
    return parsed.seq;
  }
  return null;
}

export interface KindEntry {
  readonly kind: string;
  readonly id: string;
  readonly createSeq: number;
}

/** Every record ever created, of one kind or of all kinds, ordered by kind then id. Streams. */
export async function* recordsByKind(reader: IndexReader, kind?: string): AsyncIterable<KindEntry> {
  for await (const entry of reader.indexEntries('rk', kind === undefined ? {} : keys.kindPrefix(kind))) {
    const parts = splitKey(entry.key);
    if (parts === undefined) throw new LedgerError('STORE_CORRUPT', 'the kind index holds a malformed key; run `provledger rebuild`');
    const [entryKind, idBytes] = parts;
    const id = keyText(idBytes);
    if (id === undefined || !equalBytes(keys.kind(entryKind, id), entry.key)) throw new LedgerError('STORE_CORRUPT', 'the kind index holds a malformed key; run `provledger rebuild`');
    yield { kind: entryKind, id, createSeq: decodeKind(entry.value, `kind (rk) of ${entryKind}`) };
  }
}

/**
 * The keys and their standing just after event `atSeq` (or now), from the key-authority index. Reads every
 * key change once: it grows with the number of key changes, never with the log.
 */
export async function readAuthority(reader: IndexReader, atSeq?: number): Promise<Authority> {
  const authority = new Map<string, KeyStanding>();
  for await (const entry of reader.indexEntries('ka')) {
    const { seq, standing } = decodeStanding(entry.key, entry.value);
    if (atSeq === undefined || seq <= atSeq) authority.set(standing.key, standing);
  }
  return authority;
}
