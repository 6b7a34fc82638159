/**
 * The projection writer (SPEC §12.2): the index entries one event adds, as a pure function of the event and
 * the prior state of its record. Append and rebuild both use it, so a rebuilt projection is byte-identical to
 * one written live.
 */
import type { JsonValue } from '../event/event.js';
import { checkTransition, isRecordEventType, parseRecordEvent, type RecordEvent } from '../domain/records.js';
import { keys, values, type IndexWrite, type RecordHead, type VersionOp } from './indexes.js';

export interface ProjectedEvent {
  readonly seq: number;
  readonly ts: number;
  readonly type: string;
  readonly payload: JsonValue;
}

/** The record event an event carries, null for other events, or why it is not a valid record event. */
export function recordEventOf(event: Pick<ProjectedEvent, 'type' | 'payload'>): RecordEvent | null | string {
  return isRecordEventType(event.type) ? parseRecordEvent(event.type, event.payload) : null;
}

const OP_OF: Record<RecordEvent['type'], VersionOp> = { 'record.create': 'create', 'record.update': 'update', 'record.delete': 'delete' };

/**
 * Index writes for one event. `prior` is the record's head before the event (null when the id is new).
 * Returns the record's new head for record events, so the caller can chain events within a batch.
 *
 * Only events that follow the version rules (SPEC §11.3) are projected into rc/rv/rk: a forged duplicate
 * create or a skipped version never overwrites a valid version. Appends never produce such events; a rebuild
 * of a forged log meets them, and verify then reports the VERSION_BREAK against projections of the valid
 * history (SPEC §12.2).
 */
export function projectEvent(event: ProjectedEvent, record: RecordEvent | null, prior: RecordHead | null): { writes: IndexWrite[]; head: RecordHead | null } {
  const writes: IndexWrite[] = [{ index: 'ti', key: keys.time(event.ts, event.seq), value: values.time() }];
  if (record === null) return { writes, head: null };
  if (checkTransition(prior, record) !== null) return { writes, head: prior };
  const kind = record.type === 'record.create' ? record.kind : prior?.kind ?? '';
  const head: RecordHead = { kind, version: record.version, seq: event.seq, deleted: record.type === 'record.delete' };
  writes.push(
    { index: 'rv', key: keys.version(record.id, record.version), value: values.version({ seq: event.seq, op: OP_OF[record.type] }) },
    { index: 'rc', key: keys.current(record.id), value: values.head(head) },
  );
  if (record.type === 'record.create') writes.push({ index: 'rk', key: keys.kind(record.kind, record.id), value: values.kind(event.seq) });
  return { writes, head };
}
