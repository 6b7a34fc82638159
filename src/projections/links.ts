/**
 * The link projections (SPEC §19.4): every add and remove of a link, indexed from both ends, so that the links
 * of a record as of any seq are one prefix scan, and lineage at a past point costs the part of the graph it
 * walks, never the length of the log.
 *
 *   lu: dependent ‖ 0 ‖ dependency ‖ 0 ‖ rel ‖ 0 ‖ role ‖ 0 ‖ split ‖ 0 ‖ seq (8 bytes)  →  {op}
 *   ld: dependency ‖ 0 ‖ dependent ‖ 0 ‖ rel ‖ 0 ‖ role ‖ 0 ‖ split ‖ 0 ‖ seq (8 bytes)  →  {op}
 *
 * Text fields never contain 0x00 (ids, relations, roles and splits are restricted), and the seq is the last 8
 * bytes, so keys split unambiguously; within one link its changes sort by seq.
 */
import { concatBytes, readUint64be, uint64be, utf8 } from '../bytes.js';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.js';
import { describeLink, isDependency, orient, RELATIONS, USE_ROLES, SPLIT_PATTERN, type Link, type LinkEvent, type Relation, type UseRole } from '../domain/links.js';
import { ID_PATTERN } from '../domain/records.js';
import { corrupt, keyText, type IndexReader, type IndexWrite } from './indexes.js';

export type LinkOp = 'add' | 'remove';
export type Direction = 'up' | 'down';

const ZERO = new Uint8Array([0]);
const ONE = new Uint8Array([1]);

function tail(link: Link): Uint8Array {
  return concatBytes(utf8.encode(link.rel), ZERO, utf8.encode(link.role ?? ''), ZERO, utf8.encode(link.split ?? ''), ZERO);
}

/** The key prefix of one link's changes in the index of `direction`. */
function linkPrefix(link: Link, direction: Direction): Uint8Array {
  const { dependent, dependency } = orient(link);
  const [near, far] = direction === 'up' ? [dependent, dependency] : [dependency, dependent];
  return concatBytes(utf8.encode(near), ZERO, utf8.encode(far), ZERO, tail(link));
}

export const linkKeys = {
  change: (link: Link, direction: Direction, seq: number) => concatBytes(linkPrefix(link, direction), uint64be(seq)),
  /** Every change of one link, in seq order. */
  changes: (link: Link, direction: Direction) => {
    const prefix = linkPrefix(link, direction);
    return { gte: prefix, lt: concatBytes(prefix, new Uint8Array(8).fill(0xff), ONE) };
  },
  /** Every change of every link at one end of `id`. */
  of: (id: string) => ({ gte: concatBytes(utf8.encode(id), ZERO), lt: concatBytes(utf8.encode(id), ONE) }),
};

const INDEX: Record<Direction, 'lu' | 'ld'> = { up: 'lu', down: 'ld' };

export function linkValue(op: LinkOp): Uint8Array {
  return encodeCanonical({ op });
}

/** The writes of a link change that follows the rules (add when absent, remove when present). */
export function projectLink(event: LinkEvent, seq: number): IndexWrite[] {
  const op: LinkOp = event.type === 'link.add' ? 'add' : 'remove';
  return (['up', 'down'] as const).map((direction) => ({ index: INDEX[direction], key: linkKeys.change(event, direction, seq), value: linkValue(op) }));
}

/**
 * Whether a link change is valid, for the projections, verify, rebuild and bundles alike (SPEC §19.4): adds and
 * removes of one link alternate starting with an add, and an add's ends were both created before it. Each caller
 * finds `active` and the end not yet created (`missingEnd`, null when both were; only adds are asked) its own
 * way: the index, a rebuild's pending state, a bundle's events. The rule is here, once.
 */
export function judgeLinkChange(event: LinkEvent, active: boolean, missingEnd: string | null): string | null {
  const broken = checkLinkTransition(active, event);
  if (broken !== null || event.type === 'link.remove') return broken;
  return missingEnd === null ? null : `the link ${describeLink(event)} names ${missingEnd}, which had not been created`;
}

/** Why a link change cannot follow the link's state, or null when it can: adds and removes alternate, starting with an add. */
export function checkLinkTransition(active: boolean, event: LinkEvent): string | null {
  if (event.type === 'link.add' && active) return `the link ${describeLink(event)} is added again while in place`;
  if (event.type === 'link.remove' && !active) return `the link ${describeLink(event)} is removed while not in place`;
  return null;
}

export function decodeLinkValue(bytes: Uint8Array, what: string): LinkOp {
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (error) {
    throw corrupt(what, error);
  }
  const op = (value as { op?: unknown } | null)?.op;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length !== 1 || (op !== 'add' && op !== 'remove')) throw corrupt(what);
  return op;
}

/** One change read back from `lu` or `ld`: the link, its change and the seq of the event that made it. */
export interface LinkChange {
  readonly link: Link;
  readonly op: LinkOp;
  readonly seq: number;
}

/** Splits a link key strictly; undefined when it is not one a writer could have produced. */
export function readLinkKey(key: Uint8Array, direction: Direction): { link: Link; seq: number } | undefined {
  if (key.length < 9 + 5 || key[key.length - 9] !== 0) return undefined;
  const seq = readUint64be(key.subarray(key.length - 8));
  const fields: string[] = [];
  let start = 0;
  const body = key.subarray(0, key.length - 8);
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== 0) continue;
    const text = keyText(body.subarray(start, i));
    if (text === undefined) return undefined;
    fields.push(text);
    start = i + 1;
  }
  if (seq === undefined || fields.length !== 5 || start !== body.length) return undefined;
  const [near, far, rel, role, split] = fields as [string, string, string, string, string];
  if (!ID_PATTERN.test(near) || !ID_PATTERN.test(far) || !(RELATIONS as readonly string[]).includes(rel)) return undefined;
  if ((role !== '' && !(USE_ROLES as readonly string[]).includes(role)) || (split !== '' && !SPLIT_PATTERN.test(split))) return undefined;
  if (rel !== 'used' && (role !== '' || split !== '')) return undefined;
  const [dependent, dependency] = direction === 'up' ? [near, far] : [far, near];
  const flipped = rel === 'generated' || rel === 'memberOf';
  const link: Link = {
    from: flipped ? dependency : dependent,
    to: flipped ? dependent : dependency,
    rel: rel as Relation,
    ...(role === '' ? {} : { role: role as UseRole }),
    ...(split === '' ? {} : { split }),
  };
  return { link, seq };
}

/** Whether `link` is in place after event `atSeq` (or now): its last change at or before that seq is an add. */
export async function linkActive(reader: IndexReader, link: Link, atSeq = Number.MAX_SAFE_INTEGER): Promise<boolean> {
  const range = linkKeys.changes(link, 'up');
  for await (const entry of reader.indexEntries('lu', { gte: range.gte, lte: linkKeys.change(link, 'up', atSeq), reverse: true, limit: 1 })) {
    return decodeLinkValue(entry.value, `link (lu) ${link.from} ${link.rel} ${link.to}`) === 'add';
  }
  return false;
}

/** An edge of the lineage graph: a link in place at the point asked for, with the seq that added it. */
export interface Edge {
  readonly link: Link;
  /** The record at the far end of the walk's direction. */
  readonly other: string;
  readonly addedSeq: number;
}

/**
 * The links in place at `atSeq` at one end of `id`: `up` gives what `id` depends on, `down` what depends on it.
 * One prefix scan over the changes of the record's links in that direction.
 */
export async function edgesOf(reader: IndexReader, id: string, direction: Direction, atSeq = Number.MAX_SAFE_INTEGER, options: { includeContext?: boolean } = {}): Promise<Edge[]> {
  const edges: Edge[] = [];
  let current: { prefix: string; link: Link; op: LinkOp; seq: number } | null = null;
  const flush = () => {
    if (current !== null && current.op === 'add' && (options.includeContext === true || isDependency(current.link.rel))) {
      const { dependent, dependency } = orient(current.link);
      edges.push({ link: current.link, other: direction === 'up' ? dependency : dependent, addedSeq: current.seq });
    }
  };
  for await (const entry of reader.indexEntries(INDEX[direction], linkKeys.of(id))) {
    const parsed = readLinkKey(entry.key, direction);
    if (parsed === undefined) throw corrupt(`link (${INDEX[direction]}) of ${id}`);
    if (parsed.seq > atSeq) continue;
    const prefix = Buffer.from(entry.key.subarray(0, entry.key.length - 8)).toString('hex');
    if (current !== null && current.prefix !== prefix) flush();
    current = { prefix, link: parsed.link, op: decodeLinkValue(entry.value, `link (${INDEX[direction]}) of ${id}`), seq: parsed.seq };
  }
  flush();
  return edges;
}
