/**
 * What a record is and how it changes (SPEC §11): the record event payloads as zod schemas, and the pure
 * decide/evolve pair. `decideRecord(command, state)` turns a user's command into the one event to append, or
 * refuses it; `evolveRecord(state, event)` folds an event into the record's state. No I/O and no clock: the
 * caller supplies the current state and appends the event.
 */
import * as z from 'zod';
import { LedgerError } from '../errors.js';
import type { JsonValue } from '../event/event.js';
import { applyMergePatch, isJsonObject } from './json.js';

export const RECORD_EVENT_TYPES = { create: 'record.create', update: 'record.update', delete: 'record.delete' } as const;
export type RecordEventType = (typeof RECORD_EVENT_TYPES)[keyof typeof RECORD_EVENT_TYPES];

/** SPEC §11.1: kinds are short lower-case words; ids are 1–128 characters of a safe set. */
export const KIND_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Versions are positive and fit the 4-byte index keys of SPEC §12.1. */
export const MAX_VERSION = 0xffff_ffff;

const id = z.string().regex(ID_PATTERN);
const kind = z.string().regex(KIND_PATTERN);
const version = z.int().min(1).max(MAX_VERSION);
const body = z.custom<{ [key: string]: JsonValue }>((value) => isJsonObject(value));

export const RECORD_PAYLOADS = {
  'record.create': z.strictObject({ id, kind, version: z.literal(1), data: body }),
  'record.update': z.strictObject({ id, version: version.min(2), data: body }),
  'record.delete': z.strictObject({ id, version: version.min(2) }),
} as const;

export type RecordEvent =
  | { readonly type: 'record.create'; readonly id: string; readonly kind: string; readonly version: 1; readonly data: { [key: string]: JsonValue } }
  | { readonly type: 'record.update'; readonly id: string; readonly version: number; readonly data: { [key: string]: JsonValue } }
  | { readonly type: 'record.delete'; readonly id: string; readonly version: number };

export function isRecordEventType(type: string): type is RecordEventType {
  return Object.hasOwn(RECORD_PAYLOADS, type);
}

/**
 * Reads a record event's payload strictly, or explains in one sentence why it is not a valid record event.
 * Used on decoded (possibly hostile) events, so it never throws.
 */
export function parseRecordEvent(type: RecordEventType, payload: JsonValue): RecordEvent | string {
  const result = RECORD_PAYLOADS[type].safeParse(payload);
  if (!result.success) return `a ${type} payload ${z.prettifyError(result.error).replaceAll('\n', ' ')}`;
  return { type, ...result.data } as RecordEvent;
}

/** A record's state after some events: what the projections store and `show` returns. */
export interface RecordState {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly deleted: boolean;
  /** Null for a tombstone. */
  readonly data: { [key: string]: JsonValue } | null;
}

export type RecordCommand =
  | { readonly op: 'create'; readonly id: string; readonly kind: string; readonly data: unknown }
  | { readonly op: 'update'; readonly id: string; readonly data: unknown; readonly base?: number }
  | { readonly op: 'patch'; readonly id: string; readonly patch: unknown; readonly base?: number }
  | { readonly op: 'delete'; readonly id: string; readonly base?: number };

/**
 * Decides the event for `command` given the record's current state (null when no such record exists).
 * @throws LedgerError INVALID_RECORD_ID, INVALID_KIND, INVALID_PAYLOAD, RECORD_EXISTS, RECORD_NOT_FOUND,
 * RECORD_DELETED, CONFLICT.
 * @example decideRecord({ op: 'create', id: 'mnist', kind: 'dataset', data: { files: 4 } }, null)
 */
export function decideRecord(command: RecordCommand, state: RecordState | null): { type: RecordEventType; payload: JsonValue } {
  assertRecordId(command.id);
  if (command.op === 'create') {
    assertKind(command.kind);
    const data = assertBody(command.data, 'data');
    if (state !== null) {
      throw new LedgerError('RECORD_EXISTS', `record ${command.id} already exists (version ${state.version}${state.deleted ? ', deleted' : ''}); choose another --id or update it`, {
        details: { id: command.id },
      });
    }
    return { type: RECORD_EVENT_TYPES.create, payload: { id: command.id, kind: command.kind, version: 1, data } };
  }
  if (state === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${command.id}; list records with \`provledger record list\``, { details: { id: command.id } });
  if (state.deleted) {
    throw new LedgerError('RECORD_DELETED', `record ${command.id} was deleted at version ${state.version}; its earlier versions stay readable with --version`, {
      details: { id: command.id, version: state.version },
    });
  }
  if (command.base !== undefined && command.base !== state.version) {
    throw new LedgerError('CONFLICT', `record ${command.id} is at version ${state.version}, not the base ${command.base} you gave; re-read it and retry`, {
      details: { id: command.id, base: command.base, version: state.version },
    });
  }
  const next = state.version + 1;
  if (next > MAX_VERSION) throw new LedgerError('INVALID_ARGUMENT', `record ${command.id} has reached the last version number`);
  switch (command.op) {
    case 'update':
      return { type: RECORD_EVENT_TYPES.update, payload: { id: command.id, version: next, data: assertBody(command.data, 'data') } };
    case 'patch': {
      const patched = applyMergePatch(state.data ?? {}, command.patch as JsonValue);
      return { type: RECORD_EVENT_TYPES.update, payload: { id: command.id, version: next, data: assertBody(patched, 'the patched body') } };
    }
    case 'delete':
      return { type: RECORD_EVENT_TYPES.delete, payload: { id: command.id, version: next } };
    default:
      return assertNever(command);
  }
}

/** Folds one record event into the record's state (SPEC §11.3). The event is assumed valid for the state. */
export function evolveRecord(state: RecordState | null, event: RecordEvent): RecordState {
  switch (event.type) {
    case 'record.create':
      return { id: event.id, kind: event.kind, version: 1, deleted: false, data: event.data };
    case 'record.update':
      return { id: event.id, kind: state?.kind ?? '', version: event.version, deleted: false, data: event.data };
    case 'record.delete':
      return { id: event.id, kind: state?.kind ?? '', version: event.version, deleted: true, data: null };
    default:
      return assertNever(event);
  }
}

/**
 * Why `event` cannot follow `state` (SPEC §11.3), or null when it can: versions are consecutive, a record is
 * created once, and nothing follows a tombstone.
 */
export function checkTransition(state: { version: number; deleted: boolean } | null, event: RecordEvent): string | null {
  if (event.type === 'record.create') return state === null ? null : `record ${event.id} is created again (it already has version ${state.version})`;
  if (state === null) return `record ${event.id} gets version ${event.version} but was never created`;
  if (state.deleted) return `record ${event.id} gets version ${event.version} after its tombstone at version ${state.version}`;
  if (event.version !== state.version + 1) return `record ${event.id} jumps from version ${state.version} to ${event.version}`;
  return null;
}

export function assertRecordId(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new LedgerError('INVALID_RECORD_ID', `record id ${JSON.stringify(value)} is not valid: use 1 to 128 characters from A-Z a-z 0-9 . _ : -, starting with a letter or digit`);
  }
}

export function assertKind(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !KIND_PATTERN.test(value)) {
    throw new LedgerError('INVALID_KIND', `record kind ${JSON.stringify(value)} is not valid: use 1 to 32 characters from a-z 0-9 -, starting with a letter (e.g. dataset, model, dataset-version)`);
  }
}

function assertBody(value: unknown, name: string): { [key: string]: JsonValue } {
  if (!isJsonObject(value)) throw new LedgerError('INVALID_PAYLOAD', `${name} of a record must be a JSON object, e.g. {"name":"mnist"}`);
  return value;
}

function assertNever(value: never): never {
  throw new TypeError(`unhandled case ${JSON.stringify(value)}`);
}

/** The body a record event leaves the record with. */
export function recordEventOfVersion(event: RecordEvent): { deleted: boolean; data: { [key: string]: JsonValue } | null } {
  return event.type === 'record.delete' ? { deleted: true, data: null } : { deleted: false, data: event.data };
}
