/**
 * The records API of the façade (SPEC §11): create, update, patch and delete records, and read any version
 * as of any point. Writes go through the ledger's group commit, deciding against current state with the pure
 * rules of domain/records; reads use the projections and then check the event they point to, so a tampered
 * index is reported (STORE_CORRUPT), never served.
 */
import { diffJson, type Change } from './domain/json.js';
import { assertKind, assertRecordId, decideRecord, recordEventOfVersion, type RecordCommand, type RecordState } from './domain/records.js';
import type { Authority } from './domain/keys.js';
import type { Link } from './domain/links.js';
import type { Invalidation } from './domain/invalidation.js';
import { LedgerError } from './errors.js';
import type { JsonValue } from './event/event.js';
import { decodeVersion, keys, readVersionSuffix, splitKey, type IndexReader, type RecordHead } from './projections/indexes.js';
import { recordEventOf } from './projections/project.js';
import { readRecordHead, readVersionEntry, recordsByKind, versionAtSeq } from './projections/queries.js';
import type { AppendInput, AppendResult, LedgerEvent, LedgerPoint } from './ledger.js';

/** One version of a record, with the event that wrote it, so every answer can be checked against the log. */
export interface RecordVersion {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly deleted: boolean;
  /** The full body at this version; null for a tombstone. */
  readonly data: { [key: string]: JsonValue } | null;
  readonly seq: number;
  readonly hash: string;
  readonly author: string;
  readonly timeMs: number;
}

export interface RecordHistoryEntry extends RecordVersion {
  /** What differs from the previous version (JSON Pointer paths); for version 1, the whole body is added. */
  readonly changes: readonly Change[];
}

export interface RecordCommandOptions {
  /** Refuse with CONFLICT unless the record is at this version (optimistic concurrency). */
  readonly base?: number;
}

export interface ReadRecordOptions {
  /** Read this version (tombstones included). */
  readonly version?: number;
  /** Read the version current at this point. */
  readonly at?: LedgerPoint;
}

/** A record's state while a group is being decided: head plus body. */
export interface RecordSnapshot {
  readonly head: RecordHead;
  readonly data: { [key: string]: JsonValue } | null;
}

export interface DecideContext {
  record(id: string): Promise<RecordSnapshot | null>;
  /** Whether a link is in place at this point of the group. */
  linkActive(link: Link): Promise<boolean>;
  /** Whether `id` depends, directly or through other records, on `on`, at this point of the group (SPEC §19.2). */
  dependsOn(id: string, on: string): Promise<boolean>;
  /** The invalidations of `id` at this point of the group: committed ones and earlier ones in the group (SPEC §23.1). */
  invalidations(id: string): Promise<readonly Invalidation[]>;
  /** The keys valid at this point of the group. */
  authority(): Authority;
  /** The signing key's public key, hex. */
  readonly author: string;
}

/** What Records needs from the ledger; passed in so the façade keeps its internals private. */
export interface RecordsHost {
  readonly store: IndexReader;
  submit(build: (context: DecideContext) => Promise<readonly AppendInput[]>): Promise<AppendResult[]>;
  resolvePoint(point: LedgerPoint): Promise<number>;
  readEvent(seq: number): Promise<LedgerEvent>;
  assertReadable(): void;
}

export interface WriteResult extends AppendResult {
  readonly id: string;
  readonly version: number;
}

export class Records {
  readonly #host: RecordsHost;

  constructor(host: RecordsHost) {
    this.#host = host;
  }

  /**
   * Creates a record at version 1. The id is generated (`KIND-` and 16 hex digits) when omitted.
   * @throws LedgerError INVALID_KIND, INVALID_RECORD_ID, INVALID_PAYLOAD, RECORD_EXISTS, and as `append`.
   * @example const { id } = await ledger.records.create('dataset', { name: 'mnist' });
   */
  async create(kind: string, data: unknown, options: { id?: string } = {}): Promise<WriteResult> {
    // The kind first: a generated id is made from it, and a bad kind must be reported as one.
    assertKind(kind);
    const id = options.id ?? `${kind}-${randomHex(8)}`;
    return this.#write({ op: 'create', id, kind, data });
  }

  /**
   * Writes the next version with the full new body.
   * @throws LedgerError RECORD_NOT_FOUND, RECORD_DELETED, CONFLICT (stale base), INVALID_PAYLOAD.
   */
  async update(id: string, data: unknown, options: RecordCommandOptions = {}): Promise<WriteResult> {
    return this.#write({ op: 'update', id, data, base: options.base });
  }

  /** Writes the next version: the current body with an RFC 7396 merge patch applied. Throws as `update`. */
  async patch(id: string, patch: unknown, options: RecordCommandOptions = {}): Promise<WriteResult> {
    return this.#write({ op: 'patch', id, patch, base: options.base });
  }

  /** Writes a tombstone version; all earlier versions stay readable. Throws as `update`. */
  async delete(id: string, options: RecordCommandOptions = {}): Promise<WriteResult> {
    return this.#write({ op: 'delete', id, base: options.base });
  }

  /**
   * A record as it is now, at a version, or as of a point (seq or time).
   * @throws LedgerError RECORD_NOT_FOUND (unknown, or not yet created at that point), RECORD_DELETED (deleted
   * as of that point; ask for a --version), VERSION_NOT_FOUND, AT_OUT_OF_RANGE, STORE_CORRUPT.
   */
  async get(id: string, options: ReadRecordOptions = {}): Promise<RecordVersion> {
    this.#host.assertReadable();
    if (options.version !== undefined && options.at !== undefined) throw new LedgerError('USAGE', 'give either a version or a point in time, not both');
    const head = await this.#requireHead(id);
    let version = head.version;
    if (options.version !== undefined) {
      const wanted = options.version;
      if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > head.version) {
        throw new LedgerError('VERSION_NOT_FOUND', `record ${id} has versions 1..${head.version}, not ${String(wanted)}`, { details: { id, version: wanted } });
      }
      version = wanted;
    } else if (options.at !== undefined) {
      const seq = await this.#host.resolvePoint(options.at);
      const found = await this.#versionAtSeq(id, head, seq);
      if (found === null) throw new LedgerError('RECORD_NOT_FOUND', `record ${id} did not exist yet at seq ${seq}`, { details: { id, seq } });
      version = found;
    }
    const result = await this.#readVersion(id, head.kind, version);
    if (result.deleted && options.version === undefined) {
      throw new LedgerError('RECORD_DELETED', `record ${id} was deleted at version ${version} (seq ${result.seq}); read an earlier one with --version ${version - 1}`, {
        details: { id, version },
      });
    }
    return result;
  }

  /**
   * Every version of a record in order, with what changed. Streams.
   * @throws LedgerError RECORD_NOT_FOUND, STORE_CORRUPT.
   */
  async *history(id: string): AsyncIterable<RecordHistoryEntry> {
    this.#host.assertReadable();
    const head = await this.#requireHead(id);
    let previous: JsonValue | undefined;
    let expected = 1;
    for await (const entry of this.#host.store.indexEntries('rv', keys.versionsOf(id))) {
      const version = readVersionSuffix(splitKey(entry.key)?.[1] ?? new Uint8Array());
      if (version !== expected) throw corruptIndex(`the version index of ${id} skips from ${expected - 1} to ${String(version)}`);
      const current = await this.#readVersion(id, head.kind, version, decodeVersion(entry.value, `version (rv) ${id}@${version}`).seq);
      const data = current.data ?? undefined;
      yield { ...current, changes: diffJson(previous, data) };
      previous = data;
      expected++;
    }
  }

  /**
   * The live (not deleted) records now or as of a point, of one kind or all, ordered by kind then id. Streams;
   * costs are per record, not per event.
   * @throws LedgerError INVALID_KIND, AT_OUT_OF_RANGE, STORE_CORRUPT.
   */
  async *list(options: { kind?: string; at?: LedgerPoint } = {}): AsyncIterable<RecordVersion> {
    this.#host.assertReadable();
    if (options.kind !== undefined) assertKind(options.kind);
    const seq = options.at === undefined ? undefined : await this.#host.resolvePoint(options.at);
    for await (const record of this.#versionsAt(seq, options.kind)) if (!record.deleted) yield record;
  }

  /** The complete state as of `seq`: every record that existed then, tombstones included (SPEC §11.6). */
  async *stateAt(seq: number): AsyncIterable<RecordVersion> {
    this.#host.assertReadable();
    yield* this.#versionsAt(seq, undefined);
  }

  /** The version of `id` current just after event `seq` (or now), tombstones included; null when it did not exist then. */
  async versionAt(id: string, seq: number | undefined): Promise<RecordVersion | null> {
    const head = await readRecordHead(this.#host.store, id);
    if (head === null) return null;
    const version = seq === undefined ? head.version : await this.#versionAtSeq(id, head, seq);
    return version === null ? null : this.#readVersion(id, head.kind, version);
  }

  /** Head and body of a record for deciding a command; null when it does not exist. */
  async snapshot(id: string): Promise<RecordSnapshot | null> {
    const head = await readRecordHead(this.#host.store, id);
    if (head === null) {
      // No current state: before deciding "new record", make sure the version index agrees, so a damaged index
      // can never lead an honest writer to create an id twice (security review).
      if ((await readVersionEntry(this.#host.store, id, 1)) !== null) throw corruptIndex(`record ${id} has versions but no current state`);
      return null;
    }
    if (head.deleted) return { head, data: null };
    return { head, data: (await this.#readVersion(id, head.kind, head.version, head.seq)).data };
  }

  async *#versionsAt(seq: number | undefined, kind: string | undefined): AsyncIterable<RecordVersion> {
    const store = this.#host.store;
    for await (const entry of recordsByKind(store, kind)) {
      if (seq !== undefined && entry.createSeq > seq) continue;
      const head = await readRecordHead(store, entry.id);
      if (head === null) throw corruptIndex(`the kind index lists ${entry.id}, which has no current state`);
      const version = seq === undefined ? head.version : await this.#versionAtSeq(entry.id, head, seq);
      if (version === null) throw corruptIndex(`the kind index says ${entry.id} was created by event ${entry.createSeq}, but it has no version then`);
      yield await this.#readVersion(entry.id, head.kind, version);
    }
  }

  /**
   * The version current at `seq` by the version index, with the boundary checked against the log: the binary
   * search trusts `rv`, so a tampered entry could otherwise yield a wrong version or "not created yet" (SPEC §12.3).
   */
  async #versionAtSeq(id: string, head: RecordHead, seq: number): Promise<number | null> {
    const found = await versionAtSeq(this.#host.store, id, head, seq);
    const next = (found ?? 0) + 1;
    if ((found !== null && (await this.#readVersion(id, head.kind, found)).seq > seq) || (next <= head.version && (await this.#readVersion(id, head.kind, next)).seq <= seq)) {
      throw corruptIndex(`the version index gives ${id} the wrong version at seq ${seq}`);
    }
    return found;
  }

  async #write(command: RecordCommand): Promise<WriteResult> {
    this.#host.assertReadable();
    let decided: { id: string; version: number } | undefined;
    const [result] = await this.#host.submit(async (context) => {
      const snapshot = await context.record(command.id);
      const state: RecordState | null = snapshot === null ? null : { id: command.id, kind: snapshot.head.kind, version: snapshot.head.version, deleted: snapshot.head.deleted, data: snapshot.data };
      const event = decideRecord(command, state);
      decided = { id: command.id, version: (event.payload as { version: number }).version };
      return [event];
    });
    return { ...result!, ...decided! };
  }

  async #requireHead(id: string): Promise<RecordHead> {
    assertRecordId(id);
    const head = await readRecordHead(this.#host.store, id);
    if (head === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${id}; list records with \`provledger record list\``, { details: { id } });
    return head;
  }

  /** Reads one version through the index and checks the event really is that version of that record. */
  async #readVersion(id: string, kind: string, version: number, knownSeq?: number): Promise<RecordVersion> {
    const seq = knownSeq ?? (await readVersionEntry(this.#host.store, id, version))?.seq;
    if (seq === undefined) throw corruptIndex(`the version index lacks ${id}@${version}`);
    const event = await this.#host.readEvent(seq);
    const record = recordEventOf(event);
    if (record === null || typeof record === 'string' || record.id !== id || record.version !== version) {
      throw corruptIndex(`the index points ${id}@${version} at event ${seq}, which is not that version`);
    }
    const found = recordEventOfVersion(record);
    return { id, kind, version, deleted: found.deleted, data: found.data, seq, hash: event.hash, author: event.author, timeMs: event.timeMs };
  }
}

function corruptIndex(message: string): LedgerError {
  return new LedgerError('STORE_CORRUPT', `${message}; run \`provledger verify\`, then \`provledger rebuild\``);
}

function randomHex(bytes: number): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
