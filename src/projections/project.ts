/**
 * The projection writer (SPEC §12.2): the index entries one event adds, as a pure function of the event and
 * the prior state of its record. Append and rebuild both use it, so a rebuilt projection is byte-identical to
 * one written live.
 */
import type { JsonValue } from '../event/event.js';
import { checkTransition, isRecordEventType, parseRecordEvent, type RecordEvent } from '../domain/records.js';
import { evolveAuthority, genesisAuthority, isKeyEventType, judgeAuthor, judgeKeyEvent, type Authority } from '../domain/keys.js';
import { GENESIS_TYPE } from '../event/format.js';
import { isLinkEventType, parseLinkEvent, type LinkEvent } from '../domain/links.js';
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

/** The link event an event carries, null for other events, or why it is not a valid link event. */
export function linkEventOf(event: Pick<ProjectedEvent, 'type' | 'payload'>): LinkEvent | null | string {
  return isLinkEventType(event.type) ? parseLinkEvent(event.type, event.payload) : null;
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

/**
 * The key-authority writes of one event (SPEC §14.4) and the authority after it. Only changes that the rules
 * accept are projected, by the same judgement verify applies, so `ka` always describes who could write.
 */
export function projectAuthority(
  event: { seq: number; type: string; payload: JsonValue; author: string; authoritySigned?: boolean },
  authority: Authority | null,
): { writes: IndexWrite[]; authority: Authority | null } {
  // A change to who may write takes effect only with a valid signature (SPEC §14.3); callers say whether it has one.
  if (event.authoritySigned === false) return { writes: [], authority };
  if (event.type === GENESIS_TYPE && event.seq === 0) {
    const owner = (event.payload as { owner?: unknown } | null)?.owner;
    if (typeof owner !== 'string') return { writes: [], authority };
    const next = genesisAuthority(owner);
    return { writes: [{ index: 'ka', key: keys.authority(owner, 0), value: values.standing(next.get(owner)!) }], authority: next };
  }
  if (authority === null || !isKeyEventType(event.type) || judgeAuthor(authority, event.author, event.type) !== null) return { writes: [], authority };
  const change = judgeKeyEvent(authority, event.type, event.payload);
  if (typeof change === 'string') return { writes: [], authority };
  const next = evolveAuthority(authority, change, event.seq, event.author);
  return { writes: [{ index: 'ka', key: keys.authority(change.key, event.seq), value: values.standing(next.get(change.key)!) }], authority: next };
}
