/**
 * The questions provenance is for (SPEC §23): what is invalid and what it affects downstream, the licences of
 * everything upstream, and what changed between two versions of a dataset. Every answer is as of now or any
 * past point, and costs the part of the graph walked (lineage, §19.3), never the length of the log.
 */
import { decideInvalidation } from './domain/invalidation.js';
import { isJsonObject } from './domain/json.js';
import { assertRecordId } from './domain/records.js';
import { classifyLicense, formatLicense, licenseFindings, parseLicense, type LicenseFinding, type LicenseValue } from './domain/spdx.js';
import { LedgerError } from './errors.js';
import type { JsonValue } from './event/event.js';
import type { AppendInput, AppendResult, LedgerPoint } from './ledger.js';
import type { LineageEdge, Links, LineageNode } from './links.js';
import { orient } from './domain/links.js';
import type { IndexReader } from './projections/indexes.js';
import { readInvalidations, type StoredInvalidation } from './projections/invalidations.js';
import type { DecideContext, RecordVersion } from './records.js';

export type { StoredInvalidation } from './projections/invalidations.js';
export type { LicenseFinding } from './domain/spdx.js';

export interface ProvenanceHost {
  readonly store: IndexReader;
  submit(build: (context: DecideContext) => Promise<readonly AppendInput[]>): Promise<AppendResult[]>;
  resolvePoint(point: LedgerPoint): Promise<number>;
  recordAt(id: string, seq: number | undefined): Promise<RecordVersion | null>;
  readVersion(id: string, version: number): Promise<RecordVersion>;
  readonly links: Links;
  assertReadable(): void;
}

export interface AffectedRecord extends LineageNode {
  /** The record's own invalidations at that point. */
  readonly invalidations: readonly StoredInvalidation[];
}

export interface Impact {
  readonly root: string;
  readonly atSeq: number;
  /** Why the root is invalid (empty when it is not: the impact is then what would be affected). */
  readonly invalidations: readonly StoredInvalidation[];
  /** Everything downstream of the root, with the path that makes it affected. */
  readonly affected: readonly AffectedRecord[];
}

export interface LicensedRecord {
  readonly id: string;
  readonly kind: string;
  readonly depth: number;
  readonly path: readonly string[];
  /** The licence that applies: `concluded` when given, else `declared`, else `unknown`; canonical SPDX text. */
  readonly license: string;
  readonly declared: string | null;
  readonly concluded: string | null;
  readonly nonCommercial: boolean;
  readonly noDerivatives: boolean;
  readonly shareAlike: boolean;
  readonly unknown: boolean;
}

export interface LicenseReport {
  readonly root: string;
  readonly atSeq: number;
  /** The root first, then everything upstream of it. */
  readonly records: readonly LicensedRecord[];
  /** Conflicts and notices for the root, from everything upstream (non-commercial, no-derivatives, share-alike, unknown, none). */
  readonly findings: readonly LicenseFinding[];
}

export interface MemberChange {
  readonly path: string;
  readonly from: { readonly sha256: string; readonly size: number };
  readonly to: { readonly sha256: string; readonly size: number };
}

export interface DatasetDiff {
  readonly from: { readonly id: string; readonly version: number; readonly sha256: string | null };
  readonly to: { readonly id: string; readonly version: number; readonly sha256: string | null };
  /** Same content digest. */
  readonly identical: boolean;
  /** Whether both versions list their members; without, only `identical` can be told. */
  readonly compared: boolean;
  readonly added: readonly Member[];
  readonly removed: readonly Member[];
  readonly changed: readonly MemberChange[];
  readonly unchanged: number;
}

interface Member {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export class Provenance {
  readonly #host: ProvenanceHost;

  constructor(host: ProvenanceHost) {
    this.#host = host;
  }

  /**
   * Marks a record, or one version of it, invalid, with a reason: a signed event; nothing is deleted (SPEC §23.1).
   * @throws LedgerError INVALID_RECORD_ID, INVALID_ARGUMENT, RECORD_NOT_FOUND, VERSION_NOT_FOUND, ALREADY_INVALID.
   * @example await ledger.provenance.invalidate('mnist-2026-10', { reason: 'labels 4 and 9 swapped' });
   */
  async invalidate(id: string, options: { version?: number; reason: string }): Promise<AppendResult> {
    this.#host.assertReadable();
    const [result] = await this.#host.submit(async (context) => {
      const snapshot = await context.record(id);
      // Committed invalidations and earlier ones in the same commit group (SPEC §6.3).
      const existing = snapshot === null ? [] : await context.invalidations(id);
      return [decideInvalidation({ id, version: options.version, reason: options.reason }, snapshot?.head.version ?? null, existing)];
    });
    return result!;
  }

  /** A record's invalidations as of a point, oldest first. */
  async invalidations(id: string, options: { at?: LedgerPoint } = {}): Promise<StoredInvalidation[]> {
    this.#host.assertReadable();
    assertRecordId(id);
    const atSeq = await this.#seqOf(options.at);
    if ((await this.#host.recordAt(id, options.at === undefined ? undefined : atSeq)) === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${id}`, { details: { id } });
    return readInvalidations(this.#host.store, id, atSeq);
  }

  /**
   * Everything downstream of a record, each with the path that makes it affected, as of a point (SPEC §23.2).
   * @throws LedgerError RECORD_NOT_FOUND (the root did not exist then), AT_OUT_OF_RANGE.
   * @example const { affected } = await ledger.provenance.impact('mnist-2026-10');
   */
  async impact(id: string, options: { at?: LedgerPoint } = {}): Promise<Impact> {
    this.#host.assertReadable();
    const atSeq = await this.#seqOf(options.at);
    const lineage = await this.#host.links.lineage(id, { direction: 'down', ...(options.at === undefined ? {} : { at: { seq: atSeq } }) });
    const invalidations = await readInvalidations(this.#host.store, id, atSeq);
    // Only some versions invalid: a link from the root counts only when it was made while an invalid version was
    // the current one (the version that was used). Beyond the first step, everything downstream counts.
    const versions = invalidations.length === 0 || invalidations.some((i) => i.version === undefined) ? null : new Set(invalidations.map((i) => i.version!));
    const firstSteps: LineageEdge[] = [];
    for (const edge of lineage.edges) {
      if (orient(edge).dependency !== id) continue;
      if (versions === null || versions.has((await this.#host.recordAt(id, edge.addedSeq))?.version ?? 0)) firstSteps.push(edge);
    }
    const affected: AffectedRecord[] = [];
    const byId = new Map(lineage.nodes.map((node) => [node.id, node]));
    const seen = new Map<string, readonly string[]>([[id, [id]]]);
    let frontier = [id];
    for (let depth = 1; frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const from of frontier) {
        const steps = from === id ? firstSteps : lineage.edges.filter((edge) => orient(edge).dependency === from);
        for (const edge of steps) {
          const to = orient(edge).dependent;
          if (seen.has(to) || !byId.has(to)) continue;
          const path = [...seen.get(from)!, to];
          seen.set(to, path);
          next.push(to);
          affected.push({ ...byId.get(to)!, depth, path, invalidations: await readInvalidations(this.#host.store, to, atSeq) });
        }
      }
      frontier = next;
    }
    return { root: id, atSeq: lineage.atSeq, invalidations, affected };
  }

  /**
   * The licences of a record and of everything upstream of it, with conflicts flagged: a non-commercial or
   * no-derivatives licence upstream, share-alike as a notice, unknown licences (SPEC §23.3).
   * @throws LedgerError RECORD_NOT_FOUND, AT_OUT_OF_RANGE.
   */
  async licenses(id: string, options: { at?: LedgerPoint } = {}): Promise<LicenseReport> {
    this.#host.assertReadable();
    const atSeq = await this.#seqOf(options.at);
    const lineage = await this.#host.links.lineage(id, { direction: 'up', ...(options.at === undefined ? {} : { at: { seq: atSeq } }) });
    const records: LicensedRecord[] = [];
    const values: { id: string; license: LicenseValue }[] = [];
    for (const node of lineage.nodes) {
      // Runs and contexts are activities and groupings: no licence applies to them (SPEC §23.3).
      if (node.depth > 0 && UNLICENSED_KINDS.has(node.kind)) continue;
      const version = await this.#host.recordAt(node.id, options.at === undefined ? undefined : atSeq);
      const { value, declared, concluded } = licenseOf(version?.data ?? null);
      const { flags, unknown } = classifyLicense(value);
      records.push({ id: node.id, kind: node.kind, depth: node.depth, path: node.path, license: formatLicense(value), declared, concluded, nonCommercial: flags.nonCommercial, noDerivatives: flags.noDerivatives, shareAlike: flags.shareAlike, unknown });
      // A sample set's samples may carry many licences; each one binds what is made from the set (SPEC §21.5).
      // Only a sample-set's own non-empty summary stands in for its licence; any other record's licence always counts.
      const samples = node.kind === 'sample-set' ? sampleLicensesOf(version?.data ?? null) : [];
      if (node.depth > 0) values.push(...samples.map((license) => ({ id: node.id, license })), ...(samples.length > 0 ? [] : [{ id: node.id, license: value }]));
    }
    return { root: id, atSeq: lineage.atSeq, records, findings: licenseFindings(values, { kind: lineage.nodes[0]!.kind }) };
  }

  /**
   * What changed between two versions of a dataset (or any two records with manifests): members added, removed
   * and changed, by path (SPEC §23.4).
   * @throws LedgerError RECORD_NOT_FOUND, VERSION_NOT_FOUND, INVALID_ARGUMENT (a deleted version).
   * @example const diff = await ledger.provenance.diff({ id: 'mnist', version: 1 }, { id: 'mnist', version: 2 });
   */
  async diff(from: { id: string; version: number }, to: { id: string; version: number }): Promise<DatasetDiff> {
    this.#host.assertReadable();
    const [a, b] = [await this.#host.readVersion(from.id, from.version), await this.#host.readVersion(to.id, to.version)];
    for (const v of [a, b]) if (v.deleted) throw new LedgerError('INVALID_ARGUMENT', `${v.id}@${v.version} is a tombstone; compare versions that have content`);
    const [digestA, digestB] = [digestOf(a.data), digestOf(b.data)];
    const [membersA, membersB] = [membersOf(a), membersOf(b)];
    const base = { from: { id: a.id, version: a.version, sha256: digestA }, to: { id: b.id, version: b.version, sha256: digestB }, identical: digestA !== null && digestA === digestB };
    if (membersA === null || membersB === null) return { ...base, compared: false, added: [], removed: [], changed: [], unchanged: 0 };
    const before = new Map(membersA.map((m) => [m.path, m]));
    const after = new Map(membersB.map((m) => [m.path, m]));
    const added = membersB.filter((m) => !before.has(m.path));
    const removed = membersA.filter((m) => !after.has(m.path));
    const changed: MemberChange[] = [];
    let unchanged = 0;
    for (const m of membersB) {
      const old = before.get(m.path);
      if (old === undefined) continue;
      if (old.sha256 === m.sha256 && old.size === m.size) unchanged++;
      else changed.push({ path: m.path, from: { sha256: old.sha256, size: old.size }, to: { sha256: m.sha256, size: m.size } });
    }
    return { ...base, compared: true, added, removed, changed, unchanged };
  }

  async #seqOf(at: LedgerPoint | undefined): Promise<number> {
    return at === undefined ? Number.MAX_SAFE_INTEGER : this.#host.resolvePoint(at);
  }
}

const UNLICENSED_KINDS = new Set(['run', 'context']);

/**
 * A record's licence: `license.concluded`, else `license.declared` (SPEC §21.1), else a free-form string
 * `license` (records written before the ML kinds), else `unknown`. Text that is not SPDX counts as unknown.
 */
function licenseOf(data: { [key: string]: JsonValue } | null): { value: LicenseValue; declared: string | null; concluded: string | null } {
  const field = data?.['license'];
  const read = (text: unknown): LicenseValue | null => {
    if (typeof text !== 'string') return null;
    try {
      return parseLicense(text);
    } catch {
      return null;
    }
  };
  if (isJsonObject(field)) {
    const declared = typeof field['declared'] === 'string' ? field['declared'] : null;
    const concluded = typeof field['concluded'] === 'string' ? field['concluded'] : null;
    return { value: read(concluded) ?? read(declared) ?? { kind: 'unknown' }, declared, concluded };
  }
  return { value: read(field) ?? { kind: 'unknown' }, declared: typeof field === 'string' ? field : null, concluded: null };
}

/** The distinct licences of a sample set's samples (`sampleLicenses`, SPEC §21.5); text that is not SPDX counts as unknown. */
function sampleLicensesOf(data: { [key: string]: JsonValue } | null): LicenseValue[] {
  const field = data?.['sampleLicenses'];
  if (!isJsonObject(field)) return [];
  return Object.keys(field).map((text): LicenseValue => {
    try {
      return parseLicense(text);
    } catch {
      return { kind: 'unknown' };
    }
  });
}

function digestOf(data: { [key: string]: JsonValue } | null): string | null {
  const digest = data?.['digest'];
  return isJsonObject(digest) && typeof digest['sha256'] === 'string' ? digest['sha256'] : null;
}

/** The manifest of a version, when it has a well-formed one; null otherwise. */
function membersOf(version: RecordVersion): Member[] | null {
  const members = version.data?.['members'];
  if (!Array.isArray(members)) return null;
  const out: Member[] = [];
  for (const m of members) {
    if (!isJsonObject(m) || typeof m['path'] !== 'string' || typeof m['sha256'] !== 'string' || typeof m['size'] !== 'number') return null;
    out.push({ path: m['path'], sha256: m['sha256'], size: m['size'] });
  }
  return out;
}
