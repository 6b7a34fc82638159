/**
 * ML provenance on records and links (SPEC §21): artifacts recorded by their content digest, and runs that
 * start with their inputs and finish with their outputs. Everything here is decided against the state as of its
 * place in the commit group and written as ordinary record and link events, several in one atomic request where
 * a command needs them (a run and its input links).
 */
import { decideLink, type Link, type UseRole } from './domain/links.js';
import { assertMlBody, RUN_KINDS, type MlKind } from './domain/ml.js';
import { assertRecordId, decideRecord, ID_PATTERN, type RecordState } from './domain/records.js';
import { parseLicense, formatLicense } from './domain/spdx.js';
import { diffJson, isJsonObject } from './domain/json.js';
import { isLedgerError, LedgerError } from './errors.js';
import { prepareEvent, PREV_UNKNOWN, type JsonValue } from './event/event.js';
import { DEFAULT_MAX_EVENT_BYTES, FORMAT_VERSION, MAX_TIME_MS } from './event/format.js';
import type { AppendInput, AppendResult } from './ledger.js';
import type { DecideContext, RecordSnapshot } from './records.js';

/** The content of an artifact as hashed (by `digestPaths`, or by the caller). */
export interface ArtifactContent {
  readonly sha256: string;
  readonly size: number;
  readonly members?: readonly { readonly path: string; readonly sha256: string; readonly size: number }[];
}

export const ARTIFACT_KINDS = ['dataset', 'model', 'software', 'config', 'evaluation'] as const satisfies readonly MlKind[];
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface ArtifactInput {
  readonly kind: ArtifactKind;
  readonly name: string;
  /** Record id (default: the name, which must then be a valid id). */
  readonly id?: string;
  /** SPDX expression, `NONE`, `NOASSERTION` or `unknown`; kept from the previous version when omitted. */
  readonly license?: string;
  readonly content: ArtifactContent;
}

export interface ArtifactResult {
  readonly id: string;
  readonly version: number;
  /** True when the content was already recorded: nothing was written. */
  readonly unchanged: boolean;
  /** The event written, when something was. */
  readonly seq?: number;
  readonly hash?: string;
}

export interface MlHost {
  submit(build: (context: DecideContext) => Promise<readonly AppendInput[]>): Promise<AppendResult[]>;
  assertReadable(): void;
  now(): number;
}

export class Artifacts {
  readonly #host: MlHost;

  constructor(host: MlHost) {
    this.#host = host;
  }

  /**
   * Records an artifact by its content: creates the record, or writes its next version when the content
   * changed; unchanged content writes nothing (SPEC §21.2).
   * @throws LedgerError INVALID_KIND, INVALID_RECORD_ID, INVALID_ARGUMENT (licence), INVALID_PAYLOAD, RECORD_DELETED.
   * @example await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', license: 'CC-BY-SA-3.0', content: await digestPaths(['data/']) });
   */
  async add(input: ArtifactInput): Promise<ArtifactResult> {
    this.#host.assertReadable();
    if (!(ARTIFACT_KINDS as readonly string[]).includes(input.kind)) {
      throw new LedgerError('INVALID_KIND', `an artifact is one of ${ARTIFACT_KINDS.join(', ')}, not ${JSON.stringify(input.kind)}`);
    }
    const id = input.id ?? input.name;
    if (input.id === undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
      throw new LedgerError('INVALID_RECORD_ID', `the name ${JSON.stringify(input.name)} is not a valid record id; give one with --id (1 to 128 characters from A-Z a-z 0-9 . _ : -)`);
    }
    assertRecordId(id);
    const license = input.license === undefined ? undefined : formatLicense(parseLicense(input.license));
    let outcome: ArtifactResult | undefined;
    const results = await this.#host.submit(async (context) => {
      const snapshot = await context.record(id);
      if (snapshot !== null && !snapshot.head.deleted && snapshot.head.kind !== input.kind) {
        throw new LedgerError('INVALID_KIND', `record ${id} is a ${snapshot.head.kind}, not a ${input.kind}; choose another --id`);
      }
      const data = artifactData(input, license, snapshot);
      assertMlBody(input.kind, data);
      if (snapshot !== null && !snapshot.head.deleted && sameContent(snapshot.data, data)) {
        outcome = { id, version: snapshot.head.version, unchanged: true };
        return [];
      }
      const event = decideRecord(snapshot === null ? { op: 'create', id, kind: input.kind, data } : { op: 'update', id, data }, stateOf(id, snapshot));
      outcome = { id, version: (event.payload as { version: number }).version, unchanged: false };
      return [event];
    });
    return results.length === 0 ? outcome! : { ...outcome!, seq: results[0]!.seq, hash: results[0]!.hash };
  }
}

/**
 * Refuses, before anything is hashed, a manifest too large to fit in one event (SPEC §21.2): the record it would
 * make is encoded with placeholder digests, which have the real digests' length, at the largest seq and time.
 * Fields kept from an earlier version are not counted, so a record that passes here can still be refused by the
 * append itself (EVENT_TOO_LARGE) after hashing.
 * @throws LedgerError EVENT_TOO_LARGE naming the file count, with what to do instead.
 * @example await digestPaths(paths, { onPlan: (files) => assertManifestFits({ kind: 'dataset', name: 'mnist' }, files) });
 */
export function assertManifestFits(input: Omit<ArtifactInput, 'content'>, files: readonly { readonly path: string; readonly size: number }[], maxEventBytes = DEFAULT_MAX_EVENT_BYTES): void {
  if (files.length === 1 && files[0]!.path === '') return;
  const placeholder = '0'.repeat(64);
  const size = files.reduce((sum, file) => sum + file.size, 0);
  const content: ArtifactContent = { sha256: placeholder, size, members: files.map((file) => ({ path: file.path, sha256: placeholder, size: file.size })) };
  const license = input.license === undefined ? undefined : formatLicense(parseLicense(input.license));
  const event = decideRecord({ op: 'create', id: input.id ?? input.name, kind: input.kind, data: artifactData({ ...input, content }, license, null) }, null);
  try {
    prepareEvent({ v: FORMAT_VERSION, seq: Number.MAX_SAFE_INTEGER, prev: PREV_UNKNOWN, ts: MAX_TIME_MS, type: event.type, author: PREV_UNKNOWN, payload: event.payload }, maxEventBytes);
  } catch (error) {
    if (!isLedgerError(error, 'EVENT_TOO_LARGE')) throw error;
    const bytes = (error.details as { bytes?: number } | undefined)?.bytes;
    throw new LedgerError(
      'EVENT_TOO_LARGE',
      `a manifest of ${files.length} files makes a record of ${bytes ?? 'over'} bytes, over the event limit of ${maxEventBytes}; nothing was hashed. Record the directory as one archive file (e.g. a tar), or as several artifacts (one per subdirectory)`,
      { details: { files: files.length, ...(bytes === undefined ? {} : { bytes }), limit: maxEventBytes } },
    );
  }
}

export interface RunStart {
  readonly kind: (typeof RUN_KINDS)[number];
  readonly name: string;
  readonly id?: string;
  /** Inputs the run reads, each linked `used` with its role (default `other`) and optional split. */
  readonly inputs?: readonly { readonly id: string; readonly role?: UseRole; readonly split?: string }[];
  readonly parameters?: { readonly [key: string]: JsonValue };
}

export interface RunFinish {
  readonly status: 'completed' | 'failed';
  /** Outputs the run produced, each linked `generated`. */
  readonly outputs?: readonly string[];
  readonly metrics?: { readonly [key: string]: number };
}

export class Runs {
  readonly #host: MlHost;

  constructor(host: MlHost) {
    this.#host = host;
  }

  /**
   * Starts a run: a `run` record in state RUNNING and a `used` link to each input, in one atomic request.
   * @throws LedgerError INVALID_ARGUMENT, INVALID_RECORD_ID, RECORD_EXISTS, RECORD_NOT_FOUND, RECORD_DELETED, INVALID_PAYLOAD.
   * @example const { id } = await ledger.runs.start({ kind: 'train', name: 'train resnet', inputs: [{ id: 'mnist', role: 'train' }] });
   */
  async start(input: RunStart): Promise<{ id: string; seq: number; hash: string }> {
    this.#host.assertReadable();
    const id = input.id ?? `run-${randomHex(8)}`;
    assertRecordId(id);
    if (!(RUN_KINDS as readonly string[]).includes(input.kind)) throw new LedgerError('INVALID_ARGUMENT', `a run's kind is one of ${RUN_KINDS.join(', ')}, not ${JSON.stringify(input.kind)}`);
    const data: { [key: string]: JsonValue } = {
      name: input.name,
      runKind: input.kind,
      state: 'RUNNING',
      startedAt: this.#host.now(),
      ...(input.parameters === undefined ? {} : { parameters: input.parameters as JsonValue }),
    };
    assertMlBody('run', data);
    const results = await this.#host.submit(async (context) => {
      const events: AppendInput[] = [decideRecord({ op: 'create', id, kind: 'run', data }, stateOf(id, await context.record(id)))];
      const seen = new Set<string>();
      for (const used of input.inputs ?? []) {
        const link: Link = { from: id, to: used.id, rel: 'used', role: used.role ?? 'other', ...(used.split === undefined ? {} : { split: used.split }) };
        const key = JSON.stringify([link.to, link.role, link.split ?? '']);
        if (seen.has(key)) throw new LedgerError('INVALID_ARGUMENT', `input ${used.id} is given twice with the same role`);
        seen.add(key);
        const target = await context.record(used.id);
        // The run is new in this request: nothing depends on it yet, so no link from it can close a cycle.
        events.push(decideLink('add', link, () => ({ from: { kind: 'run', deleted: false }, to: target === null ? null : { kind: target.head.kind, deleted: target.head.deleted }, active: false, closesCycle: false })));
      }
      return events;
    });
    // The last event written: as of its seq, the run has all its links (`--at` it shows them).
    return { id, seq: results.at(-1)!.seq, hash: results.at(-1)!.hash };
  }

  /**
   * Finishes a running run: its state, end time and metrics in the next version, and a `generated` link to each
   * output, in one atomic request. A run finishes once.
   * @throws LedgerError RECORD_NOT_FOUND, INVALID_KIND (not a run), RUN_FINISHED, INVALID_ARGUMENT, LINK_CYCLE.
   */
  async finish(id: string, input: RunFinish): Promise<{ id: string; version: number; seq: number; hash: string }> {
    this.#host.assertReadable();
    assertRecordId(id);
    if (input.status !== 'completed' && input.status !== 'failed') throw new LedgerError('INVALID_ARGUMENT', `--status is completed or failed, not ${JSON.stringify(input.status)}`);
    let version = 0;
    const results = await this.#host.submit(async (context) => {
      const snapshot = await context.record(id);
      if (snapshot === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no run ${id}; start one with \`provledger run start\``, { details: { id } });
      if (snapshot.head.kind !== 'run') throw new LedgerError('INVALID_KIND', `record ${id} is a ${snapshot.head.kind}, not a run`);
      const state = snapshot.data?.['state'];
      if (snapshot.head.deleted) throw new LedgerError('RECORD_DELETED', `run ${id} was deleted; a deleted run cannot finish`, { details: { id } });
      if (state !== 'RUNNING') {
        const why = state === 'COMPLETED' || state === 'FAILED' ? `already ${state}; a run finishes once` : 'not a run started with `provledger run start` (it has no RUNNING state)';
        throw new LedgerError('RUN_FINISHED', `run ${id} is ${why}`, { details: { id, state: state ?? null } });
      }
      const startedAt = typeof snapshot.data?.['startedAt'] === 'number' ? snapshot.data['startedAt'] : 0;
      const data: { [key: string]: JsonValue } = {
        ...snapshot.data!,
        state: input.status === 'completed' ? 'COMPLETED' : 'FAILED',
        // A clock that stepped back never makes a run end before it started.
        endedAt: Math.max(this.#host.now(), startedAt),
        ...(input.metrics === undefined ? {} : { metrics: { ...(isJsonObject(snapshot.data!['metrics']) ? snapshot.data!['metrics'] : {}), ...input.metrics } }),
      };
      assertMlBody('run', data);
      const update = decideRecord({ op: 'update', id, data }, stateOf(id, snapshot));
      version = (update.payload as { version: number }).version;
      const events: AppendInput[] = [update];
      const outputs = input.outputs ?? [];
      const twice = outputs.find((output, i) => outputs.indexOf(output) !== i);
      if (twice !== undefined) throw new LedgerError('INVALID_ARGUMENT', `output ${twice} is given twice`);
      for (const output of outputs) {
        const link: Link = { from: id, to: output, rel: 'generated' };
        const [target, active] = await Promise.all([context.record(output), context.linkActive(link)]);
        // The output will depend on the run: refused if the run already depends on the output.
        const closesCycle = !active && (await context.dependsOn(id, output));
        events.push(decideLink('add', link, () => ({ from: { kind: 'run', deleted: false }, to: target === null ? null : { kind: target.head.kind, deleted: target.head.deleted }, active, closesCycle })));
      }
      return events;
    });
    return { id, version, seq: results.at(-1)!.seq, hash: results.at(-1)!.hash };
  }
}

function artifactData(input: ArtifactInput, license: string | undefined, previous: RecordSnapshot | null): { [key: string]: JsonValue } {
  const kept = previous !== null && !previous.head.deleted && previous.data !== null ? previous.data : {};
  const { digest: _digest, size: _size, members: _members, ...rest } = kept;
  const previousLicense = isJsonObject(rest['license']) ? rest['license'] : undefined;
  return {
    ...rest,
    name: input.name,
    digest: { sha256: input.content.sha256 },
    size: input.content.size,
    ...(input.content.members === undefined ? {} : { members: input.content.members.map((m) => ({ path: m.path, sha256: m.sha256, size: m.size })) }),
    ...(license !== undefined ? { license: { ...(previousLicense ?? {}), declared: license } } : previousLicense === undefined ? {} : { license: previousLicense }),
  };
}

/** Unchanged means the same record body: same content, name, licence and everything kept from before. */
function sameContent(before: { [key: string]: JsonValue } | null, after: { [key: string]: JsonValue }): boolean {
  return before !== null && diffJson(before, after).length === 0;
}

function stateOf(id: string, snapshot: RecordSnapshot | null): RecordState | null {
  return snapshot === null ? null : { id, kind: snapshot.head.kind, version: snapshot.head.version, deleted: snapshot.head.deleted, data: snapshot.data };
}

function randomHex(bytes: number): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

