/**
 * The links API of the façade (SPEC §19.2): add and remove links between records, list a record's links as of
 * any point, and walk lineage. Changes go through the ledger's group commit, decided by the pure rules of
 * domain/links against the records and links as of their place in the group; reads use the link projections.
 */
import { decideLink, isDependency, LINK_EVENT_TYPES, orient, parseLinkEvent, type Link, type LinkFacts } from './domain/links.js';
import { assertKind, assertRecordId } from './domain/records.js';
import { LedgerError } from './errors.js';
import type { JsonValue } from './event/event.js';
import { edgesOf, type Direction, type Edge } from './projections/links.js';
import type { IndexReader } from './projections/indexes.js';
import type { AppendInput, AppendResult, LedgerPoint } from './ledger.js';
import type { DecideContext, RecordVersion } from './records.js';

export type { Link, Relation, UseRole } from './domain/links.js';
export type { Direction, Edge } from './projections/links.js';

export interface LinksHost {
  readonly store: IndexReader;
  submit(build: (context: DecideContext) => Promise<readonly AppendInput[]>): Promise<AppendResult[]>;
  resolvePoint(point: LedgerPoint): Promise<number>;
  /** The seq of the last committed event. */
  headSeq(): number;
  /** The version of a record current at `seq`, tombstones included; null when it did not exist yet. */
  recordAt(id: string, seq: number | undefined): Promise<RecordVersion | null>;
  assertReadable(): void;
}

/** A record in a lineage walk, as it stood at the point asked for. */
export interface LineageNode {
  readonly id: string;
  readonly kind: string;
  /** The record's `name` field, when it has one. */
  readonly name: string | null;
  readonly version: number;
  readonly deleted: boolean;
  /** Links from the root to this record (0 for the root). */
  readonly depth: number;
  /** The ids from the root to this record along a shortest path, both ends included. */
  readonly path: readonly string[];
}

export interface LineageEdge extends Link {
  /** The event that put the link in place. */
  readonly addedSeq: number;
}

export interface Lineage {
  readonly root: string;
  readonly direction: Direction;
  /** The seq the walk saw the ledger at. */
  readonly atSeq: number;
  /** Every record reached, the root first, in walk order; with `kind`, only records of that kind (and the root). */
  readonly nodes: readonly LineageNode[];
  /** Every link walked. */
  readonly edges: readonly LineageEdge[];
}

export interface LineageOptions {
  /** `up` (default): what the record depends on (its inputs, and theirs); `down`: what depends on it. */
  readonly direction?: Direction;
  /** How many links away to walk (default: no limit). */
  readonly depth?: number;
  /** Report only records of this kind (the walk still passes through others). */
  readonly kind?: string;
  /** The ledger as of this point (default: now). */
  readonly at?: LedgerPoint;
}

export class Links {
  readonly #host: LinksHost;

  constructor(host: LinksHost) {
    this.#host = host;
  }

  /**
   * Puts a link in place. Both records must exist and not be deleted; the link must not be in place already
   * and must not close a cycle (SPEC §19.2).
   * @throws LedgerError INVALID_LINK, RECORD_NOT_FOUND, RECORD_DELETED, LINK_EXISTS, LINK_CYCLE.
   * @example await ledger.links.add({ from: 'train-7', to: 'mnist', rel: 'used', role: 'train' });
   */
  async add(link: Link): Promise<AppendResult> {
    return this.#change('add', link);
  }

  /**
   * Removes a link that is in place (a tombstone: lineage as of earlier points still shows it).
   * @throws LedgerError INVALID_LINK, LINK_NOT_FOUND.
   */
  async remove(link: Link): Promise<AppendResult> {
    return this.#change('remove', link);
  }

  /** The links at one end of a record as of a point: `up` what it depends on, `down` what depends on it, `both`. */
  async list(id: string, options: { direction?: Direction | 'both'; at?: LedgerPoint } = {}): Promise<LineageEdge[]> {
    this.#host.assertReadable();
    assertRecordId(id);
    const atSeq = options.at === undefined ? undefined : await this.#host.resolvePoint(options.at);
    if ((await this.#host.recordAt(id, atSeq)) === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${id}${atSeq === undefined ? '' : ` as of seq ${atSeq}`}`, { details: { id } });
    const directions: Direction[] = options.direction === undefined || options.direction === 'both' ? ['up', 'down'] : [options.direction];
    const edges: LineageEdge[] = [];
    for (const direction of directions) for (const edge of await edgesOf(this.#host.store, id, direction, atSeq, { includeContext: true })) edges.push(toLineageEdge(edge));
    return edges;
  }

  /**
   * Walks the lineage graph from `id` (SPEC §19.3), breadth first, as of now or a past point: the cost is the
   * part of the graph walked, never the length of the log.
   * @throws LedgerError INVALID_RECORD_ID, RECORD_NOT_FOUND (the root did not exist at that point), AT_OUT_OF_RANGE.
   * @example const { nodes } = await ledger.links.lineage('resnet-7', { direction: 'up', kind: 'dataset' });
   */
  async lineage(id: string, options: LineageOptions = {}): Promise<Lineage> {
    this.#host.assertReadable();
    assertRecordId(id);
    if (options.kind !== undefined) assertKind(options.kind);
    const direction = options.direction ?? 'up';
    const maxDepth = options.depth ?? Number.POSITIVE_INFINITY;
    if (!(maxDepth >= 0) || (Number.isFinite(maxDepth) && !Number.isSafeInteger(maxDepth))) throw new LedgerError('INVALID_ARGUMENT', `depth must be a whole number from 0, got ${String(options.depth)}`);
    const atSeq = options.at === undefined ? undefined : await this.#host.resolvePoint(options.at);
    const root = await this.#host.recordAt(id, atSeq);
    if (root === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${id}${atSeq === undefined ? '' : ` as of seq ${atSeq}`}`, { details: { id } });
    const nodes: LineageNode[] = [];
    const edges: LineageEdge[] = [];
    const seen = new Map<string, readonly string[]>([[id, [id]]]);
    let frontier: { id: string; version: RecordVersion }[] = [{ id, version: root }];
    for (let depth = 0; frontier.length > 0; depth++) {
      const next: { id: string; version: RecordVersion }[] = [];
      for (const node of frontier) {
        const path = seen.get(node.id)!;
        if (depth === 0 || options.kind === undefined || node.version.kind === options.kind) nodes.push(toNode(node.version, depth, path));
        if (depth >= maxDepth) continue;
        for (const edge of await edgesOf(this.#host.store, node.id, direction, atSeq)) {
          edges.push(toLineageEdge(edge));
          if (seen.has(edge.other)) continue;
          const version = await this.#host.recordAt(edge.other, atSeq);
          if (version === null) throw new LedgerError('STORE_CORRUPT', `a link reaches ${edge.other}, which has no version at that point; run \`provledger verify\``);
          seen.set(edge.other, [...path, edge.other]);
          next.push({ id: edge.other, version });
        }
      }
      frontier = next;
    }
    return { root: id, direction, atSeq: atSeq ?? this.#host.headSeq(), nodes, edges };
  }

  async #change(op: 'add' | 'remove', link: Link): Promise<AppendResult> {
    this.#host.assertReadable();
    const [result] = await this.#host.submit(async (context) => {
      const type = op === 'add' ? LINK_EVENT_TYPES.add : LINK_EVENT_TYPES.remove;
      const parsed = parseLinkEvent(type, copyLink(link));
      // A malformed link is refused by decideLink itself, before any facts are read.
      if (typeof parsed === 'string') return [decideLink(op, copyLink(link), () => NO_FACTS)];
      const { type: _type, ...fields } = parsed;
      const [from, to, active] = await Promise.all([context.record(fields.from), context.record(fields.to), context.linkActive(fields)]);
      const { dependent, dependency } = orient(fields);
      const closesCycle = op === 'add' && !active && isDependency(fields.rel) ? await context.dependsOn(dependency, dependent) : false;
      const facts: LinkFacts = {
        from: from === null ? null : { kind: from.head.kind, deleted: from.head.deleted },
        to: to === null ? null : { kind: to.head.kind, deleted: to.head.deleted },
        active,
        closesCycle,
      };
      return [decideLink(op, fields, () => facts)];
    });
    return result!;
  }
}

const NO_FACTS: LinkFacts = { from: null, to: null, active: false, closesCycle: false };

/** A plain copy read once, unknown fields kept, so the strict schema sees (and refuses) exactly what was given. */
function copyLink(link: Link): JsonValue {
  if (typeof link !== 'object' || link === null || Array.isArray(link)) return null;
  return Object.fromEntries(Object.entries(link).filter(([, value]) => value !== undefined)) as JsonValue;
}

function toLineageEdge(edge: Edge): LineageEdge {
  return { ...edge.link, addedSeq: edge.addedSeq };
}

function toNode(version: RecordVersion, depth: number, path: readonly string[]): LineageNode {
  const name = version.data?.['name'];
  return { id: version.id, kind: version.kind, name: typeof name === 'string' ? name : null, version: version.version, deleted: version.deleted, depth, path };
}
