/**
 * Links between records (SPEC §19.2): the `link.add` and `link.remove` events as zod schemas, which way each
 * relation points for lineage, and the pure rules that decide a link change. No I/O: callers supply what the
 * ledger says about the two records and the link.
 */
import * as z from 'zod';
import { LedgerError } from '../errors.js';
import type { JsonValue } from '../event/event.js';
import { ID_PATTERN } from './records.js';

export const LINK_EVENT_TYPES = { add: 'link.add', remove: 'link.remove' } as const;
export type LinkEventType = (typeof LINK_EVENT_TYPES)[keyof typeof LINK_EVENT_TYPES];

export const RELATIONS = ['used', 'generated', 'derivedFrom', 'memberOf', 'evaluates', 'dependsOn', 'inContext'] as const;
export type Relation = (typeof RELATIONS)[number];
export const USE_ROLES = ['train', 'validation', 'test', 'eval', 'base-model', 'code', 'config', 'other'] as const;
export type UseRole = (typeof USE_ROLES)[number];

/** Split labels name a part of a dataset (train, test, 2026-11, …); they never contain 0x00, so keys stay unambiguous. */
export const SPLIT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

const id = z.string().regex(ID_PATTERN);
const linkShape = z
  .strictObject({ from: id, to: id, rel: z.enum(RELATIONS), role: z.enum(USE_ROLES).optional(), split: z.string().regex(SPLIT_PATTERN).optional() })
  .refine((link) => link.from !== link.to, 'a record cannot be linked to itself')
  .refine((link) => link.rel === 'used' || (link.role === undefined && link.split === undefined), 'role and split belong to "used" links only');

export const LINK_PAYLOADS = { 'link.add': linkShape, 'link.remove': linkShape } as const;

/** A link's identity: two links with the same fields are the same link, added and removed over time. */
export interface Link {
  readonly from: string;
  readonly to: string;
  readonly rel: Relation;
  readonly role?: UseRole;
  readonly split?: string;
}

export type LinkEvent = { readonly type: LinkEventType } & Link;

export function isLinkEventType(type: string): type is LinkEventType {
  return Object.hasOwn(LINK_PAYLOADS, type);
}

/** Reads a link event strictly, or says in one sentence why it is not one. Never throws. */
export function parseLinkEvent(type: LinkEventType, payload: JsonValue): LinkEvent | string {
  const result = LINK_PAYLOADS[type].safeParse(payload);
  if (!result.success) return `a ${type} payload ${z.prettifyError(result.error).replaceAll('\n', ' ')}`;
  return { type, ...result.data } as LinkEvent;
}

/**
 * Which end depends on which (SPEC §19.2): lineage walks from a dependent to what it depends on ("up") or back
 * ("down"), and impact follows it down. `used`, `derivedFrom`, `evaluates` and `dependsOn` point from the
 * dependent; `generated` (run → output) and `memberOf` (part → whole) from what the other end depends on.
 * `inContext` groups records and is no dependency: walks do not follow it.
 */
export function orient(link: Link): { readonly dependent: string; readonly dependency: string } {
  return link.rel === 'generated' || link.rel === 'memberOf' ? { dependent: link.to, dependency: link.from } : { dependent: link.from, dependency: link.to };
}

export function isDependency(rel: Relation): boolean {
  return rel !== 'inContext';
}

/** What the ledger says about a link's ends and the link itself, at the point it would be written. */
export interface LinkFacts {
  /** Kind of each end, or null when no such record exists now; `deleted` when its latest version is a tombstone. */
  readonly from: { readonly kind: string; readonly deleted: boolean } | null;
  readonly to: { readonly kind: string; readonly deleted: boolean } | null;
  /** Whether the link is in place now. */
  readonly active: boolean;
  /** For an add: whether the dependency already depends, directly or not, on the dependent (the link would close a cycle). */
  readonly closesCycle: boolean;
}

/** Kind rules: runs use and generate; evaluations evaluate; contexts group. Other relations take any kinds. */
const KIND_RULES: Partial<Record<Relation, { end: 'from' | 'to'; kind: string }>> = {
  used: { end: 'from', kind: 'run' },
  generated: { end: 'from', kind: 'run' },
  evaluates: { end: 'from', kind: 'evaluation' },
  inContext: { end: 'to', kind: 'context' },
};

/**
 * Decides the event for adding or removing `link` given the facts (SPEC §19.2).
 * @throws LedgerError INVALID_LINK, RECORD_NOT_FOUND, RECORD_DELETED, LINK_EXISTS, LINK_NOT_FOUND, LINK_CYCLE.
 */
export function decideLink(op: 'add' | 'remove', link: unknown, facts: (link: Link) => LinkFacts): { type: LinkEventType; payload: JsonValue } {
  const type = op === 'add' ? LINK_EVENT_TYPES.add : LINK_EVENT_TYPES.remove;
  const parsed = parseLinkEvent(type, link as JsonValue);
  if (typeof parsed === 'string') throw new LedgerError('INVALID_LINK', `not a valid link: ${explainLink(link) ?? parsed.replace(/^a link\.\w+ payload /, '')}`);
  const { type: _type, ...fields } = parsed;
  const known = facts(fields);
  const describe = describeLink(fields);
  if (op === 'remove') {
    if (!known.active) throw new LedgerError('LINK_NOT_FOUND', `there is no link ${describe} in place to remove; see the record's links with \`provledger link list ${fields.from}\``, { details: { ...fields } });
    return { type, payload: linkPayload(fields) };
  }
  for (const end of ['from', 'to'] as const) {
    const record = known[end];
    if (record === null) throw new LedgerError('RECORD_NOT_FOUND', `there is no record ${fields[end]} to link; create it first`, { details: { id: fields[end] } });
    if (record.deleted) throw new LedgerError('RECORD_DELETED', `record ${fields[end]} was deleted; a deleted record cannot be linked`, { details: { id: fields[end] } });
  }
  const rule = KIND_RULES[fields.rel];
  if (rule !== undefined && known[rule.end]!.kind !== rule.kind) {
    throw new LedgerError('INVALID_LINK', `${article(fields.rel)} ${fields.rel} link needs ${article(rule.kind)} ${rule.kind} record as its ${rule.end === 'from' ? 'first' : 'second'} end, and ${fields[rule.end]} is ${article(known[rule.end]!.kind)} ${known[rule.end]!.kind}`);
  }
  if (known.active) throw new LedgerError('LINK_EXISTS', `the link ${describe} is already in place`, { details: { ...fields } });
  if (known.closesCycle) {
    throw new LedgerError('LINK_CYCLE', `the link ${describe} would close a cycle: ${orient(fields).dependency} already depends on ${orient(fields).dependent}`, { details: { ...fields } });
  }
  return { type, payload: linkPayload(fields) };
}

/** The canonical payload of a link: only the fields it has. */
export function linkPayload(link: Link): { [key: string]: JsonValue } {
  return {
    from: link.from,
    to: link.to,
    rel: link.rel,
    ...(link.role === undefined ? {} : { role: link.role }),
    ...(link.split === undefined ? {} : { split: link.split }),
  };
}

/** A link's identity as a map key: the same fields name the same link (SPEC §19.1). */
export function linkIdentity(link: Link): string {
  return JSON.stringify([link.from, link.to, link.rel, link.role ?? '', link.split ?? '']);
}

/** How messages name a link: `from rel to`, with its role and split when it has them. */
export function describeLink(link: Link): string {
  const extra = [link.role, link.split].filter((x) => x !== undefined);
  return `${link.from} ${link.rel} ${link.to}${extra.length === 0 ? '' : ` (${extra.join(', ')})`}`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** One plain sentence for the usual mistakes, field by field, instead of the schema library's report. */
function explainLink(link: unknown): string | null {
  if (typeof link !== 'object' || link === null || Array.isArray(link)) return 'a link is an object with from, to and rel';
  const l = link as Record<string, unknown>;
  const extra = Object.keys(l).filter((key) => !['from', 'to', 'rel', 'role', 'split'].includes(key));
  if (extra.length > 0) return `unknown field ${JSON.stringify(extra[0])}; a link has from, to, rel, role and split`;
  for (const end of ['from', 'to'] as const) {
    if (typeof l[end] !== 'string' || !ID_PATTERN.test(l[end])) return `${end} ${JSON.stringify(l[end])} is not a record id (1 to 128 characters from A-Z a-z 0-9 . _ : -, starting with a letter or digit)`;
  }
  if (!(RELATIONS as readonly unknown[]).includes(l['rel'])) return `the relation ${JSON.stringify(l['rel'])} is not one of ${RELATIONS.join(', ')}`;
  if (l['from'] === l['to']) return 'a record cannot be linked to itself';
  if ((l['role'] !== undefined || l['split'] !== undefined) && l['rel'] !== 'used') return 'role and split belong to "used" links only';
  if (l['role'] !== undefined && !(USE_ROLES as readonly unknown[]).includes(l['role'])) return `the role ${JSON.stringify(l['role'])} is not one of ${USE_ROLES.join(', ')}`;
  if (l['split'] !== undefined && (typeof l['split'] !== 'string' || !SPLIT_PATTERN.test(l['split']))) {
    return `the split ${JSON.stringify(l['split'])} is not a label (1 to 64 characters from A-Z a-z 0-9 . _ : -, starting with a letter or digit)`;
  }
  return null;
}
