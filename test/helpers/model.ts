/**
 * The reference model of records (SPEC §11): a plain fold over the events of a ledger, with no indexes.
 * Property tests compare every answer of the projections with this fold.
 */
import type { LedgerEvent } from '../../src/index.js';

export interface ModelVersion {
  version: number;
  deleted: boolean;
  data: Record<string, unknown> | null;
  seq: number;
  timeMs: number;
  kind: string;
}

export type Model = Map<string, ModelVersion[]>;

/** Folds events (in seq order) into every version of every record; `to` stops the fold early. */
export function foldRecords(events: readonly LedgerEvent[], to = Number.POSITIVE_INFINITY): Model {
  const model: Model = new Map();
  for (const event of events) {
    if (event.seq > to) break;
    const payload = event.payload as { id: string; kind?: string; version: number; data?: Record<string, unknown> };
    if (event.type === 'record.create') model.set(payload.id, []);
    if (!event.type.startsWith('record.')) continue;
    const versions = model.get(payload.id)!;
    const kind = payload.kind ?? versions[0]!.kind;
    versions.push({ version: payload.version, deleted: event.type === 'record.delete', data: payload.data ?? null, seq: event.seq, timeMs: event.timeMs, kind });
  }
  return model;
}

/** The live records of a model, sorted by kind then id, as `list` orders them. */
export function liveRecords(model: Model, kind?: string): { id: string; version: number; data: unknown }[] {
  return [...model.entries()]
    .map(([id, versions]) => ({ id, last: versions[versions.length - 1]! }))
    .filter(({ last }) => !last.deleted && (kind === undefined || last.kind === kind))
    .sort((a, b) => (a.last.kind === b.last.kind ? (a.id < b.id ? -1 : 1) : a.last.kind < b.last.kind ? -1 : 1))
    .map(({ id, last }) => ({ id, version: last.version, data: last.data }));
}
