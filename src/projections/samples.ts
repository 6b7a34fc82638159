/**
 * The sample-set projection (SPEC §21.5): `ss` holds, for every chunk of every sample-set version whose chunks
 * are complete and roll up to its record, `id ‖ 0x00 ‖ version (4 bytes) ‖ first fingerprint (32 bytes)` →
 * `{seq, root}`, so the chunk holding a fingerprint is one reverse seek and a version's chunk roots one scan.
 *
 * `SampleSetFold` is the one judge of the chunk rules, used by append, rebuild and verify alike: fed the events
 * in seq order, it reports the sets that close correctly (with their index entries) and, for verify, every
 * break of the rules. At most one set is open at a time, because a version's chunks are consecutive events.
 */
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from '../bytes.js';
import type { VerifyFailure } from '../chain/failures.js';
import type { DecodedEvent } from '../chain/verify.js';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.js';
import { isJsonObject } from '../domain/json.js';
import { builtChunk, parseSampleChunk, SAMPLE_CHUNK_TYPE, sampleLeaves } from '../domain/samples.js';
import { Frontier } from '../merkle/tree.js';
import { subtreeRoot } from '../merkle/sample-tree.js';
import { corrupt, keys as recordKeys, decodeVersion, readVersionSuffix, type IndexReader, type IndexWrite } from './indexes.js';
import { recordEventOf, type ProjectedEvent } from './project.js';

const ZERO = new Uint8Array([0]);

function uint32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export const sampleKeys = {
  chunk: (id: string, version: number, first: Uint8Array) => concatBytes(utf8.encode(id), ZERO, uint32be(version), first),
  ofVersion: (id: string, version: number) => ({ gte: concatBytes(utf8.encode(id), ZERO, uint32be(version)), lt: concatBytes(utf8.encode(id), ZERO, uint32be(version + 1)) }),
  ofRecord: (id: string) => ({ gte: concatBytes(utf8.encode(id), ZERO), lt: concatBytes(utf8.encode(id), new Uint8Array([1])) }),
};

export function sampleValue(seq: number, root: Uint8Array): Uint8Array {
  return encodeCanonical({ seq, root });
}

/** One indexed chunk: the event that holds it, its first fingerprint and its subtree root. */
export interface StoredChunk {
  readonly seq: number;
  readonly first: string;
  readonly root: Uint8Array;
}

/** A version whose chunks closed correctly on its record event. */
export interface ClosedSampleSet {
  readonly id: string;
  readonly version: number;
  /** The seq of the record event that closed it. */
  readonly recordSeq: number;
  /** For an update the kind is not in the event: the caller checks the record is a sample set. */
  readonly created: boolean;
  readonly writes: IndexWrite[];
}

interface OpenSet {
  readonly id: string;
  readonly version: number;
  readonly chunks: number;
  readonly licensed: boolean;
  readonly firstSeq: number;
  lastSeq: number;
  next: number;
  count: number;
  last: string;
  readonly tree: Frontier;
  readonly writes: IndexWrite[];
  readonly licenses: Map<string, number>;
}

export interface SampleStep {
  readonly failures: VerifyFailure[];
  readonly closed: ClosedSampleSet | null;
}

/**
 * The chunk rules (SPEC §21.5), in seq order: a version's chunks 0..K−1 are consecutive events, sorted across
 * chunks, all licensed or none, and the event right after the last is the record's create or update of that
 * version, whose `root`, `count`, `fingerprint` and `sampleLicenses` are what the chunks imply.
 */
export class SampleSetFold {
  #open: OpenSet | null = null;

  step(event: ProjectedEvent): SampleStep {
    const failures: VerifyFailure[] = [];
    const breakAt = (seq: number | null, message: string) => void failures.push({ seq, code: 'SAMPLE_SET_BREAK', message });
    const open = this.#open;
    if (open !== null && event.seq !== open.lastSeq + 1) {
      breakAt(open.lastSeq, `the chunks of sample set ${open.id}@${open.version} stop after chunk ${open.next - 1} of ${open.chunks}, without their record event`);
      this.#open = null;
    }
    if (event.type === SAMPLE_CHUNK_TYPE) {
      this.#chunk(event, failures, breakAt);
      return { failures, closed: null };
    }
    const current = this.#open;
    if (current === null) return { failures, closed: null };
    this.#open = null;
    if (current.next < current.chunks) {
      breakAt(event.seq, `event ${event.seq} interrupts the chunks of sample set ${current.id}@${current.version} after chunk ${current.next - 1} of ${current.chunks}`);
      return { failures, closed: null };
    }
    const problem = closingProblem(event, current);
    if (problem !== null) {
      breakAt(event.seq, `event ${event.seq} ${problem}`);
      return { failures, closed: null };
    }
    return { failures, closed: { id: current.id, version: current.version, recordSeq: event.seq, created: event.type === 'record.create', writes: current.writes } };
  }

  /** After the last event: a set still open never got its record. */
  finish(): VerifyFailure[] {
    const open = this.#open;
    this.#open = null;
    return open === null ? [] : [{ seq: open.lastSeq, code: 'SAMPLE_SET_BREAK', message: `the log ends inside the chunks of sample set ${open.id}@${open.version}` }];
  }

  #chunk(event: ProjectedEvent, failures: VerifyFailure[], breakAt: (seq: number | null, message: string) => void): void {
    const known = builtChunk(event.payload);
    const chunk = known?.chunk ?? parseSampleChunk(event.payload);
    if (typeof chunk === 'string') {
      failures.push({ seq: event.seq, code: 'BAD_RECORD_EVENT', message: `event ${event.seq} is not a valid sample chunk: ${chunk}` });
      if (this.#open !== null) breakAt(event.seq, `the chunks of sample set ${this.#open.id}@${this.#open.version} are interrupted by a malformed chunk`);
      this.#open = null;
      return;
    }
    let open = this.#open;
    if (chunk.chunk === 0) {
      if (open !== null) breakAt(event.seq, `event ${event.seq} starts sample set ${chunk.id}@${chunk.version} before ${open.id}@${open.version} got its record event`);
      open = this.#open = {
        id: chunk.id,
        version: chunk.version,
        chunks: chunk.chunks,
        licensed: chunk.licenses !== null,
        firstSeq: event.seq,
        lastSeq: event.seq - 1,
        next: 0,
        count: 0,
        last: '',
        tree: Frontier.empty(),
        writes: [],
        licenses: new Map(),
      };
    } else if (open === null || open.id !== chunk.id || open.version !== chunk.version || open.chunks !== chunk.chunks || open.next !== chunk.chunk) {
      breakAt(event.seq, `chunk ${chunk.chunk} of sample set ${chunk.id}@${chunk.version} does not follow chunk ${chunk.chunk - 1} of the same set`);
      this.#open = null;
      return;
    }
    if ((chunk.licenses !== null) !== open.licensed) {
      breakAt(event.seq, `chunk ${chunk.chunk} of sample set ${chunk.id}@${chunk.version} ${open.licensed ? 'lacks' : 'has'} licences, unlike the chunks before it`);
      this.#open = null;
      return;
    }
    if (open.next > 0 && !(open.last < chunk.fingerprints[0]!)) {
      breakAt(event.seq, `chunk ${chunk.chunk} of sample set ${chunk.id}@${chunk.version} does not start above the last fingerprint of the chunk before it`);
      this.#open = null;
      return;
    }
    const root = known?.root ?? subtreeRoot(sampleLeaves(chunk.fingerprints, chunk.licenses));
    open.tree.append(root);
    open.writes.push({ index: 'ss', key: sampleKeys.chunk(chunk.id, chunk.version, fromHex(chunk.fingerprints[0]!, 32)!), value: sampleValue(event.seq, root) });
    for (const license of chunk.licenses ?? []) open.licenses.set(license, (open.licenses.get(license) ?? 0) + 1);
    open.next++;
    open.count += chunk.fingerprints.length;
    open.last = chunk.fingerprints.at(-1)!;
    open.lastSeq = event.seq;
  }
}

/** Why the event after a version's last chunk does not close it, or null. */
function closingProblem(event: ProjectedEvent, open: OpenSet): string | null {
  const what = `sample set ${open.id}@${open.version}`;
  const record = recordEventOf(event);
  if (record === null || typeof record === 'string' || record.type === 'record.delete' || record.id !== open.id || record.version !== open.version) {
    return `follows the last chunk of ${what} but is not its record's version ${open.version}`;
  }
  if (record.type === 'record.create' && record.kind !== 'sample-set') return `closes the chunks of ${what} with a ${record.kind} record, not a sample-set`;
  const { root, count, fingerprint, sampleLicenses } = record.data;
  if (root !== toHex(open.tree.root()) || count !== open.count || fingerprint !== 'sha256') {
    return `says ${what} has root ${String(root)} and count ${String(count)}, but its chunks have root ${toHex(open.tree.root())} and ${open.count} samples`;
  }
  if (open.licensed !== (sampleLicenses !== undefined) || (sampleLicenses !== undefined && !sameCounts(sampleLicenses, open.licenses))) {
    return `gives sampleLicenses for ${what} that differ from its chunks' licences`;
  }
  return null;
}

function sameCounts(value: unknown, counts: ReadonlyMap<string, number>): boolean {
  if (!isJsonObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === counts.size && keys.every((key) => counts.get(key) === value[key]);
}

/**
 * Verify's check of the sample sets (SPEC §21.5, §12.4): the chunk rules through `SampleSetFold`, and every
 * entry a correctly closed version implies stored in `ss` byte for byte; then the index is counted. A version
 * counts as closed only when its record event is a valid version (indexed in `rv`, checked in the same pass)
 * of a sample-set record (`rk`).
 */
export function createSampleChecker(reader: IndexReader): { checkChunk(events: readonly DecodedEvent[]): Promise<VerifyFailure[]>; finish(): Promise<VerifyFailure[]> } {
  const fold = new SampleSetFold();
  let present = 0;
  const mismatch = (seq: number | null, message: string): VerifyFailure => ({ seq, code: 'PROJECTION_MISMATCH', message });
  return {
    async checkChunk(events) {
      const failures: VerifyFailure[] = [];
      for (const event of events) {
        const step = fold.step(event);
        failures.push(...step.failures);
        if (step.closed === null) continue;
        const { id, version, recordSeq, created, writes } = step.closed;
        const [[written], [kind]] = await Promise.all([reader.indexGetMany('rv', [recordKeys.version(id, version)]), reader.indexGetMany('rk', [recordKeys.kind('sample-set', id)])]);
        let valid = false;
        try {
          valid = written !== undefined && decodeVersion(written, `version (rv) ${id}@${version}`).seq === recordSeq && (created || kind !== undefined);
        } catch {
          valid = false;
        }
        if (!valid) {
          // Not a version of a sample set (VERSION_BREAK or the kind check reports why): nothing may be indexed for it.
          if (!created && written !== undefined && kind === undefined) failures.push({ seq: recordSeq, code: 'SAMPLE_SET_BREAK', message: `event ${recordSeq} closes sample chunks with a version of ${id}, which is not a sample-set record` });
          continue;
        }
        const stored = await reader.indexGetMany('ss', writes.map((write) => write.key));
        stored.forEach((bytes, i) => {
          if (bytes !== undefined) present++;
          if (bytes === undefined || !equalBytes(bytes, writes[i]!.value)) failures.push(mismatch(recordSeq, `the sample index ${bytes === undefined ? 'lacks' : 'differs on'} chunk ${i} of ${id}@${version}`));
        });
      }
      return failures;
    },
    async finish() {
      const failures = fold.finish();
      const count = await reader.indexCount('ss');
      if (count > present) failures.push(mismatch(null, `the ss index holds ${count - present} entries that no sample set implies`));
      return failures;
    },
  };
}

/** The indexed chunks of one version, in order, or of the latest version that has any. */
export async function readChunks(reader: IndexReader, id: string, version?: number): Promise<{ version: number; chunks: StoredChunk[] } | null> {
  const idBytes = utf8.encode(id).length;
  const versionOf = (key: Uint8Array) => (key.length === idBytes + 37 ? readVersionSuffix(key.subarray(idBytes + 1, idBytes + 5)) : undefined);
  let wanted = version;
  if (wanted === undefined) {
    for await (const entry of reader.indexEntries('ss', { ...sampleKeys.ofRecord(id), reverse: true, limit: 1 })) wanted = versionOf(entry.key) ?? -1;
    if (wanted === undefined) return null;
    if (wanted < 0) throw corrupt(`sample (ss) of ${id}`);
  }
  const chunks: StoredChunk[] = [];
  for await (const entry of reader.indexEntries('ss', sampleKeys.ofVersion(id, wanted))) {
    const what = `sample (ss) of ${id}@${wanted}`;
    if (versionOf(entry.key) !== wanted) throw corrupt(what);
    let value: unknown;
    try {
      value = decodeCanonical(entry.value);
    } catch (error) {
      throw corrupt(what, error);
    }
    const { seq, root } = (value ?? {}) as { seq?: unknown; root?: unknown };
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) throw corrupt(what);
    if (Object.keys(value).length !== 2 || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || !(root instanceof Uint8Array) || root.length !== 32) throw corrupt(what);
    chunks.push({ seq, first: toHex(entry.key.subarray(idBytes + 5)), root });
  }
  return chunks.length === 0 ? null : { version: wanted, chunks };
}
