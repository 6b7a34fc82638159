/**
 * The stored projections (SPEC §12.1): their names, key layouts and value records. Keys are built so that
 * LevelDB's byte order answers the questions asked of them (a record's versions in order, a kind's records,
 * events by time). Values are canonical CBOR maps, decoded strictly: a malformed value is STORE_CORRUPT,
 * never a guess.
 */
import { concatBytes, readUint64be, uint64be, utf8, writeUint64be } from '../bytes.js';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.js';
import { LedgerError } from '../errors.js';
import type { KeyStanding, Role } from '../domain/keys.js';

/**
 * rc: current state; rv: versions; rk: records by kind; ti: events by time; ka: key authority history;
 * mt: the Merkle tree's complete subtrees (SPEC §17); lu, ld: link changes by dependent and by dependency (§19.4);
 * iv: invalidations (§23.1); ss: sample-set chunks (§21.5).
 */
export const INDEX_NAMES = ['rc', 'rv', 'rk', 'ti', 'ka', 'mt', 'lu', 'ld', 'iv', 'ss'] as const;
export type IndexName = (typeof INDEX_NAMES)[number];

export interface IndexEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface IndexWrite extends IndexEntry {
  readonly index: IndexName;
}

export interface IndexRange {
  readonly gte?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly lte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** What projections need from storage; the LevelDB store implements it, tests use maps. */
export interface IndexReader {
  indexGet(index: IndexName, key: Uint8Array): Promise<Uint8Array | undefined>;
  indexGetMany(index: IndexName, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  indexEntries(index: IndexName, range?: IndexRange): AsyncIterable<IndexEntry>;
  indexCount(index: IndexName): Promise<number>;
}

/** rc value: where a record stands now. */
export interface RecordHead {
  readonly kind: string;
  readonly version: number;
  readonly seq: number;
  readonly deleted: boolean;
}

export type VersionOp = 'create' | 'update' | 'delete';

/** rv value: which event wrote a version. */
export interface VersionEntry {
  readonly seq: number;
  readonly op: VersionOp;
}

const SEPARATOR = new Uint8Array([0]);
const EMPTY = new Uint8Array(0);

function uint32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Ids and kinds never contain 0x00 (SPEC §11.1), so `text ‖ 0x00` is an unambiguous prefix. */
export const keys = {
  current: (id: string) => utf8.encode(id),
  version: (id: string, version: number) => concatBytes(utf8.encode(id), SEPARATOR, uint32be(version)),
  versionsOf: (id: string) => ({ gte: concatBytes(utf8.encode(id), SEPARATOR), lt: concatBytes(utf8.encode(id), new Uint8Array([1])) }),
  kind: (kind: string, id: string) => concatBytes(utf8.encode(kind), SEPARATOR, utf8.encode(id)),
  kindPrefix: (kind: string) => ({ gte: concatBytes(utf8.encode(kind), SEPARATOR), lt: concatBytes(utf8.encode(kind), new Uint8Array([1])) }),
  time: (ts: number, seq: number) => writeUint64be(writeUint64be(new Uint8Array(16), 0, ts), 8, seq),
  /** A key's standing from `seq` on: 32 key bytes ‖ seq, so a key's history is contiguous and in seq order. */
  authority: (keyHex: string, seq: number) => concatBytes(Buffer.from(keyHex, 'hex'), uint64be(seq)),
  /**
   * A complete subtree of the Merkle tree: the seq of its last leaf ‖ its level. Nodes sort in the order appends
   * complete them, so verify can compare them as it streams the log.
   */
  node: (level: number, index: number) => {
    const key = writeUint64be(new Uint8Array(9), 0, (index + 1) * 2 ** level - 1);
    key[8] = level;
    return key;
  },
} as const;

export const values = {
  head: (head: RecordHead) => encodeCanonical({ kind: head.kind, version: head.version, seq: head.seq, deleted: head.deleted }),
  version: (entry: VersionEntry) => encodeCanonical({ seq: entry.seq, op: entry.op }),
  kind: (createSeq: number) => encodeCanonical({ seq: createSeq }),
  time: () => EMPTY,
  standing: (s: KeyStanding) =>
    encodeCanonical({ role: s.role, name: s.name, active: s.active, addedSeq: s.addedSeq, addedBy: s.addedBy, revokedSeq: s.revokedSeq, revokedBy: s.revokedBy, reason: s.reason }),
};

/** An `mt` value is the raw 32-byte node hash. */
export function decodeNode(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length !== 32) throw corrupt(what);
  return bytes;
}

/** Reads a `ka` entry back into the standing it records. */
export function decodeStanding(key: Uint8Array, bytes: Uint8Array): { seq: number; standing: KeyStanding } {
  const what = 'key authority (ka)';
  if (key.length !== 40) throw corrupt(what);
  const seq = readUint64be(key.subarray(32));
  const v = decodeRecord(bytes, what);
  const nullableString = (x: unknown): x is string | null => x === null || typeof x === 'string';
  const nullableUint = (x: unknown): x is number | null => x === null || isUint(x);
  const { role, name, active, addedSeq, addedBy, revokedSeq, revokedBy, reason } = v;
  if (
    seq === undefined || Object.keys(v).length !== 8 || (role !== 'admin' && role !== 'writer') || !nullableString(name) || typeof active !== 'boolean' ||
    !isUint(addedSeq) || typeof addedBy !== 'string' || !nullableUint(revokedSeq) || !nullableString(revokedBy) || !nullableString(reason)
  ) {
    throw corrupt(what);
  }
  const keyHex = Buffer.from(key.subarray(0, 32)).toString('hex');
  return { seq, standing: { key: keyHex, role: role as Role, name, active, addedSeq, addedBy, revokedSeq, revokedBy, reason } };
}

export function decodeHead(bytes: Uint8Array, what: string): RecordHead {
  const value = decodeRecord(bytes, what);
  const { kind, version, seq, deleted } = value;
  if (Object.keys(value).length !== 4 || typeof kind !== 'string' || !isUint(version) || !isUint(seq) || typeof deleted !== 'boolean') throw corrupt(what);
  return { kind, version, seq, deleted };
}

export function decodeVersion(bytes: Uint8Array, what: string): VersionEntry {
  const value = decodeRecord(bytes, what);
  const { seq, op } = value;
  if (Object.keys(value).length !== 2 || !isUint(seq) || (op !== 'create' && op !== 'update' && op !== 'delete')) throw corrupt(what);
  return { seq, op };
}

export function decodeKind(bytes: Uint8Array, what: string): number {
  const value = decodeRecord(bytes, what);
  if (Object.keys(value).length !== 1 || !isUint(value['seq'])) throw corrupt(what);
  return value['seq'];
}

/**
 * Index keys hold UTF-8 text; decoding is strict and keeps a leading U+FEFF, so the text re-encodes to exactly
 * the stored bytes. A lenient decoder would strip a byte-order mark and let two different stored keys name the
 * same record (security review, SPEC §12.4).
 */
const strictText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a key segment, or undefined when it is not valid UTF-8. */
export function keyText(bytes: Uint8Array): string | undefined {
  try {
    return strictText.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Splits a `text ‖ 0x00 ‖ rest` key. */
export function splitKey(key: Uint8Array): [string, Uint8Array] | undefined {
  const at = key.indexOf(0);
  if (at <= 0) return undefined;
  const text = keyText(key.subarray(0, at));
  return text === undefined ? undefined : [text, key.subarray(at + 1)];
}

export function readTimeKey(key: Uint8Array): { ts: number; seq: number } | undefined {
  if (key.length !== 16) return undefined;
  const ts = readUint64be(key.subarray(0, 8));
  const seq = readUint64be(key.subarray(8, 16));
  return ts === undefined || seq === undefined ? undefined : { ts, seq };
}

export function readVersionSuffix(suffix: Uint8Array): number | undefined {
  return suffix.length === 4 ? new DataView(suffix.buffer, suffix.byteOffset, 4).getUint32(0) : undefined;
}

function decodeRecord(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (error) {
    throw corrupt(what, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(what);
  return value as Record<string, unknown>;
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function corrupt(what: string, cause?: unknown): LedgerError {
  return new LedgerError('STORE_CORRUPT', `the ${what} projection entry is malformed; run \`provledger verify\`, then \`provledger rebuild\``, { cause });
}
