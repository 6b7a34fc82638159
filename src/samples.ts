/**
 * Sample sets (SPEC §21.5, §21.6): the per-sample fingerprints of what a run read, stored in signed chunk events
 * and rolled into a Merkle root and count on a `sample-set` record, so one record stands for millions of samples
 * and any one of them can be proved a member years later, offline. Adding writes the chunks and the record
 * version in one atomic request; proving reads one range of the `ss` index and one chunk event, and checks the
 * proof against the signed record before handing it out, so a damaged index never yields a proof.
 */
import { equalBytes, fromHex, toHex } from './bytes.js';
import { encodeCanonical } from './codec/canonical.js';
import { isJsonObject } from './domain/json.js';
import { assertMlBody } from './domain/ml.js';
import { assertRecordId, decideRecord, ID_PATTERN } from './domain/records.js';
import { isCheckedSampleList, toSampleList, type SampleList } from './domain/sample-file.js';
import { licenseSummary, parseSampleChunk, SAMPLE_CHUNK_TYPE, sampleChunkPayloads, sampleLeaves, sampleTree } from './domain/samples.js';
import { LedgerError } from './errors.js';
import { openEvent, openStoredEvent, type JsonValue } from './event/event.js';
import { VerifyingKey } from './crypto/ed25519.js';
import { formatSampleProof, type ProvedSample } from './merkle/sample-proof.js';
import { chunkCount, SAMPLE_CHUNK_SIZE, sampleLeafHash, samplePath, subtreeRoot } from './merkle/sample-tree.js';
import { verifyInclusion } from './merkle/tree.js';
import type { IndexReader } from './projections/indexes.js';
import { readChunks } from './projections/samples.js';
import type { AppendInput, AppendResult } from './ledger.js';
import type { DecideContext, RecordSnapshot, RecordVersion } from './records.js';

export interface SampleSetInput {
  readonly name: string;
  /** Record id (default: the name, which must then be a valid id). */
  readonly id?: string;
  /** A parsed file (`parseSampleText`, `readSampleFile`), or arrays checked here the same way. */
  readonly samples: SampleList | { readonly fingerprints: readonly string[]; readonly licenses?: readonly string[] };
}

export interface SampleSetResult {
  readonly id: string;
  readonly version: number;
  /** True when the current version already holds exactly these samples: nothing was written. */
  readonly unchanged: boolean;
  readonly count: number;
  readonly root: string;
  /** Chunk events written (0 when unchanged). */
  readonly chunks: number;
  /** The record event, when one was written. */
  readonly seq?: number;
  readonly hash?: string;
}

export interface SampleProof extends ProvedSample {
  /** The seq of the record event the proof carries. */
  readonly seq: number;
  /** The proof file (SPEC §21.6). */
  readonly text: string;
}

export interface SamplesHost {
  readonly store: IndexReader;
  submit(build: (context: DecideContext) => Promise<readonly AppendInput[]>): Promise<AppendResult[]>;
  assertReadable(): void;
  readVersion(id: string, version?: number): Promise<RecordVersion>;
  readEventBytes(seq: number): Promise<Uint8Array | undefined>;
  proveInclusion(seq: number, checkpoint?: string): Promise<string>;
}

export class Samples {
  readonly #host: SamplesHost;

  constructor(host: SamplesHost) {
    this.#host = host;
  }

  /**
   * Records a sample set: its chunks and the `sample-set` record (a new record, or the next version when the
   * samples changed) in one atomic request; the same samples again write nothing (SPEC §21.5).
   * @throws LedgerError INVALID_ARGUMENT (a bad sample), INVALID_RECORD_ID, INVALID_KIND, RECORD_DELETED,
   * INVALID_PAYLOAD, EVENT_TOO_LARGE (a ledger whose event limit is below a chunk).
   * @example await ledger.samples.add({ name: 'train-samples', samples: parseSampleText(text) });
   */
  async add(input: SampleSetInput): Promise<SampleSetResult> {
    this.#host.assertReadable();
    const id = input.id ?? input.name;
    if (input.id === undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
      throw new LedgerError('INVALID_RECORD_ID', `the name ${JSON.stringify(input.name)} is not a valid record id; give one with --id (1 to 128 characters from A-Z a-z 0-9 . _ : -)`);
    }
    assertRecordId(id);
    const list = isCheckedSampleList(input.samples) ? input.samples : toSampleList(input.samples as { fingerprints: readonly string[]; licenses?: readonly string[] });
    const tree = sampleTree(list);
    let outcome: SampleSetResult | undefined;
    const results = await this.#host.submit(async (context) => {
      const snapshot = await context.record(id);
      if (snapshot !== null && !snapshot.head.deleted && snapshot.head.kind !== 'sample-set') {
        throw new LedgerError('INVALID_KIND', `record ${id} is a ${snapshot.head.kind}, not a sample-set; choose another --id`);
      }
      const data = sampleSetData(input.name, list, tree, snapshot);
      assertMlBody('sample-set', data);
      const base = { id, count: tree.count, root: tree.root };
      if (snapshot !== null && !snapshot.head.deleted && equalBytes(encodeCanonical(snapshot.data), encodeCanonical(data)) && (await this.#hasSamples(id, snapshot.head.version))) {
        outcome = { ...base, version: snapshot.head.version, unchanged: true, chunks: 0 };
        return [];
      }
      const record = decideRecord(snapshot === null ? { op: 'create', id, kind: 'sample-set', data } : { op: 'update', id, data }, snapshot === null ? null : { id, kind: snapshot.head.kind, version: snapshot.head.version, deleted: snapshot.head.deleted, data: snapshot.data });
      const version = (record.payload as { version: number }).version;
      const chunks = sampleChunkPayloads(id, version, list, tree.chunkRoots).map((payload): AppendInput => ({ type: SAMPLE_CHUNK_TYPE, payload }));
      outcome = { ...base, version, unchanged: false, chunks: chunks.length };
      return [...chunks, record];
    });
    const last = results.at(-1);
    return last === undefined ? outcome! : { ...outcome!, seq: last.seq, hash: last.hash };
  }

  /**
   * A proof that the sample with `fingerprint` is in sample set `id` (the latest version that holds samples, or
   * `version`), as a self-contained file (SPEC §21.6). With `checkpoint`, the file also proves the record event is
   * in the ledger under that checkpoint. Cost: one scan of the version's chunk entries (one per 8192 samples),
   * one chunk event read, and hashing that chunk.
   * @throws LedgerError SAMPLE_NOT_FOUND (not a member), INVALID_ARGUMENT, RECORD_NOT_FOUND, VERSION_NOT_FOUND,
   * INVALID_KIND, STORE_CORRUPT (a damaged index or chunk: never a wrong proof), and the checkpoint errors of proveInclusion.
   * @example const { text } = await ledger.samples.prove('train-samples', fingerprint);
   */
  async prove(id: string, fingerprint: string, options: { version?: number; checkpoint?: string } = {}): Promise<SampleProof> {
    this.#host.assertReadable();
    assertRecordId(id);
    if (typeof fingerprint !== 'string' || fromHex(fingerprint, 32) === undefined) throw new LedgerError('INVALID_ARGUMENT', `the fingerprint ${JSON.stringify(String(fingerprint).slice(0, 80))} is not a SHA-256 fingerprint: give 64 hex characters`);
    const wanted = fingerprint.toLowerCase();
    const stored = await readChunks(this.#host.store, id, options.version);
    // The record is read first for its errors (RECORD_NOT_FOUND, VERSION_NOT_FOUND), then its samples are required.
    const record = await this.#host.readVersion(id, stored?.version ?? options.version);
    if (record.kind !== 'sample-set') throw new LedgerError('INVALID_KIND', `record ${id} is a ${record.kind}, not a sample-set`);
    if (stored === null) {
      throw new LedgerError('INVALID_ARGUMENT', `${id}${options.version === undefined ? '' : `@${options.version}`} holds no stored samples (a version written by \`record create\` or \`record update\`, not \`sample-set add\`)`, { details: { id } });
    }
    const { root, count } = setFields(record);
    const { chunks } = stored;
    const expectedChunks = chunkCount(count);
    if (chunks.length !== expectedChunks || chunks.some((chunk, i) => chunk.seq !== record.seq - expectedChunks + i)) {
      throw new LedgerError('STORE_CORRUPT', `the sample index of ${id}@${record.version} does not match its record; run \`provledger verify\`, then \`provledger rebuild\``);
    }
    const damaged = (why: string) => new LedgerError('STORE_CORRUPT', `the sample index of ${id}@${record.version} ${why}; run \`provledger verify\`, then \`provledger rebuild\``);
    if (!equalBytes(subtreeRoot(chunks.map((c) => c.root)), root)) throw damaged('does not roll up to the record\'s root');
    // The chunk that would hold the fingerprint: the last one starting at or below it.
    let position = -1;
    for (let low = 0, high = chunks.length - 1; low <= high; ) {
      const middle = (low + high) >> 1;
      if (chunks[middle]!.first <= wanted) {
        position = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    const notFound = () => new LedgerError('SAMPLE_NOT_FOUND', `${wanted} is not a sample of ${id}@${record.version} (${count} samples); no proof exists for a sample that is not in the set`, { details: { id, version: record.version } });
    // Each chunk the search leaned on is read and its first fingerprint compared with the index, so an edited
    // index never turns a member into a "not found" (nor a non-member into a proof: the root check below).
    const firstOf = async (at: number): Promise<string> => {
      const read = await this.#readChunk(chunks[at]!.seq, id, record.version, at, expectedChunks);
      if (read.fingerprints[0] !== chunks[at]!.first) throw damaged(`names ${chunks[at]!.first} as the first sample of chunk ${at}, which starts with ${read.fingerprints[0]}`);
      return read.fingerprints[0]!;
    };
    if (position < 0) {
      await firstOf(0);
      throw notFound();
    }
    const chunk = await this.#readChunk(chunks[position]!.seq, id, record.version, position, expectedChunks);
    if (chunk.fingerprints[0] !== chunks[position]!.first) throw damaged(`names ${chunks[position]!.first} as the first sample of chunk ${position}, which starts with ${chunk.fingerprints[0]}`);
    const offset = sortedIndexOf(chunk.fingerprints, wanted);
    if (offset < 0) {
      if (position + 1 < chunks.length) await firstOf(position + 1);
      throw notFound();
    }
    const leaves = sampleLeaves(chunk.fingerprints, chunk.licenses);
    const hashes = await samplePath(leaves, offset, chunks.map((c) => c.root), position);
    const index = position * SAMPLE_CHUNK_SIZE + offset;
    const license = chunk.licenses?.[offset] ?? null;
    // Checked against the signed root before it is handed out: a damaged index or chunk gives STORE_CORRUPT, never a proof that fails elsewhere.
    if (!equalBytes(subtreeRoot(leaves), chunks[position]!.root) || !verifyInclusion(sampleLeafHash(fromHex(wanted, 32)!, license ?? undefined), index, count, hashes, root)) {
      throw new LedgerError('STORE_CORRUPT', `the stored samples of ${id}@${record.version} do not roll up to its root; run \`provledger verify\``);
    }
    const recordBytes = await this.#host.readEventBytes(record.seq);
    const recordEvent = openStoredEvent(record.seq, recordBytes);
    // The proof carries the record event as signed; one whose signature fails would fail every verifier.
    let signed = false;
    try {
      signed = VerifyingKey.fromBytes(recordEvent.body.author).verify(recordEvent.signature, recordEvent.signedMessage);
    } catch {
      signed = false;
    }
    if (!signed) throw new LedgerError('STORE_CORRUPT', `the record event ${record.seq} of ${id}@${record.version} does not carry a valid signature; run \`provledger verify\``);
    const ledgerProof = options.checkpoint === undefined ? null : await this.#host.proveInclusion(record.seq, options.checkpoint);
    const text = formatSampleProof({ record: recordEvent.bytes, fingerprint: wanted, license, index, hashes, ledgerProof });
    return { id, version: record.version, fingerprint: wanted, license, index, count, root: toHex(root), seq: record.seq, text };
  }

  async #hasSamples(id: string, version: number): Promise<boolean> {
    return (await readChunks(this.#host.store, id, version)) !== null;
  }

  /** The chunk event at `seq`, which the index says is chunk `position` of `id@version`; anything else is a damaged store. */
  async #readChunk(seq: number, id: string, version: number, position: number, chunks: number) {
    const damaged = (why: string) => new LedgerError('STORE_CORRUPT', `event ${seq}, indexed as chunk ${position} of ${id}@${version}, ${why}; run \`provledger verify\``);
    const bytes = await this.#host.readEventBytes(seq);
    if (bytes === undefined) throw damaged('is missing');
    let payload: JsonValue;
    try {
      const event = openEvent(bytes);
      if (event.body.type !== SAMPLE_CHUNK_TYPE) throw damaged(`is a ${event.body.type} event`);
      payload = event.body.payload;
    } catch (error) {
      if (error instanceof LedgerError && error.code === 'STORE_CORRUPT') throw error;
      throw damaged('does not decode');
    }
    const chunk = parseSampleChunk(payload);
    if (typeof chunk === 'string') throw damaged(`is not a valid chunk (${chunk})`);
    if (chunk.id !== id || chunk.version !== version || chunk.chunk !== position || chunk.chunks !== chunks) throw damaged(`is chunk ${chunk.chunk} of ${chunk.id}@${chunk.version}`);
    return chunk;
  }
}

/** The record body: the new samples' root, count and licences, and the name; every other field of the current version is kept. */
function sampleSetData(name: string, list: SampleList, tree: { root: string; count: number }, previous: RecordSnapshot | null): { [key: string]: JsonValue } {
  const kept = previous !== null && !previous.head.deleted && previous.data !== null ? previous.data : {};
  const { root: _root, count: _count, fingerprint: _fingerprint, sampleLicenses: _licenses, license: previousLicense, ...rest } = kept;
  const license: { [key: string]: JsonValue } = {};
  if (isJsonObject(previousLicense) && typeof previousLicense['declared'] === 'string') license['declared'] = previousLicense['declared'];
  const summary = list.licenses === null ? null : licenseSummary(list.licenses);
  if (summary !== null) license['concluded'] = summary.concluded;
  return {
    ...rest,
    name,
    root: tree.root,
    count: tree.count,
    fingerprint: 'sha256',
    ...(summary === null ? {} : { sampleLicenses: summary.sampleLicenses }),
    ...(Object.keys(license).length === 0 ? {} : { license }),
  };
}

function setFields(record: RecordVersion): { root: Uint8Array; count: number } {
  const root = typeof record.data?.['root'] === 'string' ? fromHex(record.data['root'], 32) : undefined;
  const count = record.data?.['count'];
  if (root === undefined || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
    throw new LedgerError('STORE_CORRUPT', `${record.id}@${record.version} has stored samples but no root and count; run \`provledger verify\``);
  }
  return { root, count };
}

function sortedIndexOf(sorted: readonly string[], wanted: string): number {
  for (let low = 0, high = sorted.length - 1; low <= high; ) {
    const middle = (low + high) >> 1;
    const value = sorted[middle]!;
    if (value === wanted) return middle;
    if (value < wanted) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
