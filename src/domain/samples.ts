/**
 * What a sample set is in the log (SPEC §21.5): the chunk events that carry its fingerprints, and the
 * `sample-set` record version they roll up to. Pure: building the events of a new version from a sample list
 * (decide), reading a chunk event strictly (hostile input: it never throws), and the licence summary the
 * record carries. The tree arithmetic is merkle/sample-tree.ts's.
 */
import { toHex } from '../bytes.js';
import type { JsonValue } from '../event/event.js';
import { SAMPLE_CHUNK_SIZE, chunkCount, sampleLeafHash, subtreeRoot } from '../merkle/sample-tree.js';
import { isJsonObject } from './json.js';
import { ID_PATTERN, MAX_VERSION } from './records.js';
import { MAX_SAMPLE_LICENSES, type SampleList } from './sample-file.js';
import { formatLicense, parseLicense, type LicenseExpression } from './spdx.js';

/** The event type of a chunk (reserved `record` namespace, SPEC §4.2). */
export const SAMPLE_CHUNK_TYPE = 'record.samples';

/** One chunk event's content, read strictly. */
export interface SampleChunk {
  readonly id: string;
  readonly version: number;
  /** This chunk's position, from 0, and how many chunks the version has. */
  readonly chunk: number;
  readonly chunks: number;
  readonly fingerprints: readonly string[];
  /** Each sample's canonical licence, parallel to `fingerprints`; null in a set without licences. */
  readonly licenses: readonly string[] | null;
}

/**
 * The payloads of the chunk events of version `version` of sample set `id`: chunk i holds samples
 * [i·8192, (i+1)·8192). A licensed chunk names its distinct licences once, sorted, in `licenseTable`, and each
 * sample's licence as an index into it, so 8192 samples with long licences still fit in one event.
 */
export function sampleChunkPayloads(id: string, version: number, list: SampleList, chunkRoots?: readonly Uint8Array[]): JsonValue[] {
  const chunks = chunkCount(list.fingerprints.length);
  const payloads: JsonValue[] = [];
  for (let chunk = 0; chunk < chunks; chunk++) {
    const from = chunk * SAMPLE_CHUNK_SIZE;
    const to = Math.min(from + SAMPLE_CHUNK_SIZE, list.fingerprints.length);
    const payload: { [key: string]: JsonValue } = { id, version, chunk, chunks, fingerprints: list.fingerprints.slice(from, to) };
    if (list.licenses !== null) {
      const own = list.licenses.slice(from, to);
      const table = [...new Set(own)].sort(compareText);
      const indexOf = new Map(table.map((license, i) => [license, i]));
      payload['licenseTable'] = table;
      payload['licenses'] = own.map((license) => indexOf.get(license)!);
    }
    const root = chunkRoots?.[chunk];
    if (root !== undefined) built.set(payload, { chunk: { id, version, chunk, chunks, fingerprints: list.fingerprints.slice(from, to), licenses: list.licenses?.slice(from, to) ?? null }, root });
    payloads.push(payload);
  }
  return payloads;
}

const FINGERPRINT = /^[0-9a-f]{64}$/;
const CHUNK_KEYS = ['id', 'version', 'chunk', 'chunks', 'fingerprints'];

/**
 * Reads a `record.samples` payload, or says in one sentence why it is not a valid chunk (SPEC §21.5): exactly its
 * fields; 1 to 8192 fingerprints in strictly increasing order; a full chunk unless it is the last; a licence
 * table of distinct canonical licences, sorted, each used. Never throws.
 */
export function parseSampleChunk(payload: JsonValue): SampleChunk | string {
  if (!isJsonObject(payload)) return 'a record.samples payload must be an object';
  const { id, version, chunk, chunks, fingerprints, licenseTable, licenses } = payload;
  const licensed = licenseTable !== undefined || licenses !== undefined;
  const keys = Object.keys(payload);
  const allowed = licensed ? [...CHUNK_KEYS, 'licenseTable', 'licenses'] : CHUNK_KEYS;
  if (keys.length !== allowed.length || !allowed.every((key) => Object.hasOwn(payload, key))) return `a record.samples payload has exactly the fields ${allowed.join(', ')}`;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return 'its id is not a record id';
  if (!isCount(version) || version < 1 || version > MAX_VERSION) return 'its version is not a record version';
  if (!isCount(chunks) || chunks < 1 || !isCount(chunk) || chunk >= chunks) return 'its chunk is not a position below its chunk count';
  if (!Array.isArray(fingerprints) || fingerprints.length === 0 || fingerprints.length > SAMPLE_CHUNK_SIZE) return `it must hold 1 to ${SAMPLE_CHUNK_SIZE} fingerprints`;
  if (chunk < chunks - 1 && fingerprints.length !== SAMPLE_CHUNK_SIZE) return `chunk ${chunk} of ${chunks} is not full (${fingerprints.length} of ${SAMPLE_CHUNK_SIZE} fingerprints)`;
  for (let i = 0; i < fingerprints.length; i++) {
    const fingerprint = fingerprints[i];
    if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) return `fingerprint ${i} is not 64 lower-case hex characters`;
    if (i > 0 && !(fingerprints[i - 1]! < fingerprint)) return `fingerprint ${i} is not above the one before it (a chunk is sorted, each sample once)`;
  }
  let perSample: string[] | null = null;
  if (licensed) {
    if (!Array.isArray(licenseTable) || licenseTable.length === 0 || licenseTable.length > MAX_SAMPLE_LICENSES) return `its licenseTable must hold 1 to ${MAX_SAMPLE_LICENSES} licences`;
    for (let i = 0; i < licenseTable.length; i++) {
      const license = licenseTable[i];
      if (typeof license !== 'string' || !isCanonicalLicense(license)) return `licenseTable[${i}] is not a licence in canonical form`;
      if (i > 0 && compareText(licenseTable[i - 1] as string, license) >= 0) return 'its licenseTable is not sorted, each licence once';
    }
    if (!Array.isArray(licenses) || licenses.length !== fingerprints.length) return 'its licenses must give one licence index per fingerprint';
    const used = new Set<number>();
    perSample = [];
    for (const index of licenses) {
      if (!isCount(index) || index >= licenseTable.length) return 'a licence index is not a position in its licenseTable';
      used.add(index);
      perSample.push(licenseTable[index] as string);
    }
    if (used.size !== licenseTable.length) return 'its licenseTable names a licence no sample has';
  }
  return { id, version, chunk, chunks, fingerprints: fingerprints as string[], licenses: perSample };
}

/** The leaf hashes of a chunk (or of any run of samples); fingerprints are lower-case hex, already checked. */
export function sampleLeaves(fingerprints: readonly string[], licenses: readonly string[] | null): Uint8Array[] {
  return fingerprints.map((fingerprint, i) => sampleLeafHash(Uint8Array.from(Buffer.from(fingerprint, 'hex')), licenses?.[i]));
}

/**
 * Chunks this module built in this process, with their roots: the commit group's projection of a chunk it was
 * just handed need not hash 8192 leaves a second time. Keyed by the payload object itself, which no one else
 * holds, so a decoded (possibly hostile) payload is never found here and is always parsed and hashed.
 */
const built = new WeakMap<object, { chunk: SampleChunk; root: Uint8Array }>();

/** A chunk payload `sampleChunkPayloads` built, with its root; undefined for any other value. */
export function builtChunk(payload: JsonValue): { chunk: SampleChunk; root: Uint8Array } | undefined {
  return typeof payload === 'object' && payload !== null ? built.get(payload) : undefined;
}

/** The root of every chunk of a sample list, and the set's root and count. */
export function sampleTree(list: SampleList): { root: string; count: number; chunkRoots: Uint8Array[] } {
  const chunkRoots: Uint8Array[] = [];
  for (let from = 0; from < list.fingerprints.length; from += SAMPLE_CHUNK_SIZE) {
    const to = Math.min(from + SAMPLE_CHUNK_SIZE, list.fingerprints.length);
    chunkRoots.push(subtreeRoot(sampleLeaves(list.fingerprints.slice(from, to), list.licenses?.slice(from, to) ?? null)));
  }
  return { root: toHex(subtreeRoot(chunkRoots)), count: list.fingerprints.length, chunkRoots };
}

/**
 * What a licensed set's record says about licences (SPEC §21.5): `sampleLicenses`, the number of samples under
 * each distinct licence (keys sorted), and `concluded`: that licence when there is one, the AND of all when each
 * is an SPDX expression and the result fits the 1,000-character limit, otherwise NOASSERTION (no single
 * expression states the set's terms; `sampleLicenses` does).
 */
export function licenseSummary(licenses: readonly string[]): { sampleLicenses: { [license: string]: number }; concluded: string } {
  const counts = new Map<string, number>();
  for (const license of licenses) counts.set(license, (counts.get(license) ?? 0) + 1);
  const distinct = [...counts.keys()].sort(compareText);
  const sampleLicenses: { [license: string]: number } = {};
  for (const license of distinct) sampleLicenses[license] = counts.get(license)!;
  return { sampleLicenses, concluded: concludedLicense(distinct) };
}

function concludedLicense(distinct: readonly string[]): string {
  if (distinct.length === 1) return distinct[0]!;
  const values = distinct.map(parseLicense);
  if (values.some((value) => value.kind !== 'expression')) return 'NOASSERTION';
  const expression = values
    .map((value) => (value as { expression: LicenseExpression }).expression)
    .reduce((left, right): LicenseExpression => ({ type: 'and', left, right }));
  const text = formatLicense({ kind: 'expression', expression });
  return text.length <= 1000 ? text : 'NOASSERTION';
}

/** Whether `text` is a licence exactly as `formatLicense` prints it. */
function isCanonicalLicense(text: string): boolean {
  try {
    return formatLicense(parseLicense(text)) === text;
  } catch {
    return false;
  }
}

/** Byte order of UTF-8 text (code-unit order differs above U+FFFF; licences are ASCII, but be exact). */
function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
