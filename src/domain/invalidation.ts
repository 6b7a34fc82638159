/**
 * Invalidation (SPEC §23.1): a signed statement that a record, or one version of it, must no longer be used (a
 * mislabelled dataset release, a leaked test set). The `record.invalidate` event as a zod schema and the pure
 * rule that decides one. Nothing is deleted: the record and its versions stay readable, and impact analysis
 * follows the lineage down from it.
 */
import * as z from 'zod';
import { LedgerError } from '../errors.js';
import type { JsonValue } from '../event/event.js';
import { ID_PATTERN, MAX_VERSION } from './records.js';

export const INVALIDATE_TYPE = 'record.invalidate';

export const INVALIDATE_PAYLOAD = z.strictObject({
  id: z.string().regex(ID_PATTERN),
  version: z.int().min(1).max(MAX_VERSION).optional(),
  reason: z.string().min(1).max(500),
});

export interface Invalidation {
  readonly id: string;
  /** The one version found invalid; absent when the whole record (every version) is. */
  readonly version?: number;
  readonly reason: string;
}

export function isInvalidateType(type: string): boolean {
  return type === INVALIDATE_TYPE;
}

/** Reads an invalidation strictly, or says why it is not one. Never throws. */
export function parseInvalidation(payload: JsonValue): Invalidation | string {
  const result = INVALIDATE_PAYLOAD.safeParse(payload);
  if (!result.success) return `a ${INVALIDATE_TYPE} payload ${z.prettifyError(result.error).replaceAll('\n', ' ')}`;
  return result.data;
}

/**
 * Decides an invalidation given the record's latest version (null when it does not exist) and the invalidations
 * already in place for it.
 * @throws LedgerError INVALID_RECORD_ID, INVALID_ARGUMENT (reason), RECORD_NOT_FOUND, VERSION_NOT_FOUND, ALREADY_INVALID.
 */
export function decideInvalidation(input: { id: string; version?: number; reason: string }, latest: number | null, existing: readonly Invalidation[]): { type: string; payload: JsonValue } {
  if (typeof input.id !== 'string' || !ID_PATTERN.test(input.id)) throw new LedgerError('INVALID_RECORD_ID', `record id ${JSON.stringify(input.id)} is not valid`);
  if (typeof input.reason !== 'string' || input.reason.trim().length === 0 || input.reason.length > 500) {
    throw new LedgerError('INVALID_ARGUMENT', '--reason must say why, in 1 to 500 characters');
  }
  if (latest === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${input.id} to invalidate`, { details: { id: input.id } });
  if (input.version !== undefined && (!Number.isSafeInteger(input.version) || input.version < 1 || input.version > latest)) {
    throw new LedgerError('VERSION_NOT_FOUND', `record ${input.id} has versions 1..${latest}, not ${String(input.version)}`, { details: { id: input.id } });
  }
  const covered = existing.find((e) => e.version === undefined || e.version === input.version);
  if (covered !== undefined) {
    throw new LedgerError('ALREADY_INVALID', `${input.version === undefined ? `record ${input.id}` : `version ${input.version} of ${input.id}`} is already invalid (${JSON.stringify(covered.reason)})`, { details: { id: input.id } });
  }
  const payload: { [key: string]: JsonValue } = { id: input.id, reason: input.reason, ...(input.version === undefined ? {} : { version: input.version }) };
  return { type: INVALIDATE_TYPE, payload };
}

/**
 * Whether an invalidation is valid, for the projection, verify, rebuild and bundles alike (SPEC §23.1): its record
 * existed before it, at least at the version it names. `latest` is the record's latest version then, or null.
 */
export function judgeInvalidation(invalidation: Invalidation, latest: number | null): string | null {
  if (latest === null) return `it invalidates ${invalidation.id}, which did not exist before it`;
  if ((invalidation.version ?? 1) > latest) return `it invalidates ${invalidation.id}@${invalidation.version}, which had not been written before it`;
  return null;
}
