/**
 * The invalidation projection (SPEC §23.1): `iv` holds `id ‖ 0x00 ‖ seq (8 bytes)` → `{reason, version}` for
 * every valid `record.invalidate`, so a record's invalidations as of any seq are one prefix scan.
 */
import { concatBytes, readUint64be, uint64be, utf8 } from '../bytes.js';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.js';
import type { Invalidation } from '../domain/invalidation.js';
import { corrupt, type IndexReader, type IndexWrite } from './indexes.js';

const ZERO = new Uint8Array([0]);

export const invalidationKeys = {
  one: (id: string, seq: number) => concatBytes(utf8.encode(id), ZERO, uint64be(seq)),
  of: (id: string) => ({ gte: concatBytes(utf8.encode(id), ZERO), lt: concatBytes(utf8.encode(id), new Uint8Array([1])) }),
};

export function invalidationValue(invalidation: Invalidation): Uint8Array {
  return encodeCanonical({ reason: invalidation.reason, version: invalidation.version ?? null });
}

export function projectInvalidation(invalidation: Invalidation, seq: number): IndexWrite[] {
  return [{ index: 'iv', key: invalidationKeys.one(invalidation.id, seq), value: invalidationValue(invalidation) }];
}

/** One invalidation in place, with the event that made it. */
export interface StoredInvalidation extends Invalidation {
  readonly seq: number;
}

/** The invalidations of `id` made at or before `atSeq` (default: all), in seq order. */
export async function readInvalidations(reader: IndexReader, id: string, atSeq = Number.MAX_SAFE_INTEGER): Promise<StoredInvalidation[]> {
  const out: StoredInvalidation[] = [];
  for await (const entry of reader.indexEntries('iv', invalidationKeys.of(id))) {
    const what = `invalidation (iv) of ${id}`;
    const seq = entry.key.length === utf8.encode(id).length + 9 ? readUint64be(entry.key.subarray(entry.key.length - 8)) : undefined;
    if (seq === undefined) throw corrupt(what);
    if (seq > atSeq) break;
    let value: unknown;
    try {
      value = decodeCanonical(entry.value);
    } catch (error) {
      throw corrupt(what, error);
    }
    const { reason, version } = (value ?? {}) as { reason?: unknown; version?: unknown };
    if (typeof value !== 'object' || value === null || Object.keys(value).length !== 2 || typeof reason !== 'string' || (version !== null && !(typeof version === 'number' && Number.isSafeInteger(version) && version >= 1))) {
      throw corrupt(what);
    }
    out.push({ id, seq, reason, ...(version === null ? {} : { version: version as number }) });
  }
  return out;
}
