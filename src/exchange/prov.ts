/**
 * The lineage graph as a W3C PROV-JSON document (SPEC §25.3; W3C Member Submission SUBM-prov-json-20130424): a
 * pure function from records, links, keys and invalidations, as the ledger answers them at one point, to the
 * document. Records become entities (runs become activities), signing keys agents, links PROV relations. Keys
 * are sorted throughout, so the same ledger state gives the same bytes. No I/O and no clock.
 */
import type { JsonValue } from '../event/event.js';

/** A PROV-JSON attribute value: a literal, a typed literal (`{"$": "...", "type": "xsd:QName"}`), or several. */
export type ProvValue = string | number | boolean | { readonly $: string; readonly type: string } | readonly ProvValue[];
export type ProvAttributes = { readonly [name: string]: ProvValue };

/** The sections used here; every one but `prefix` is left out when empty. */
export interface ProvDocument {
  readonly prefix: { readonly [prefix: string]: string };
  readonly entity?: { readonly [id: string]: ProvAttributes };
  readonly activity?: { readonly [id: string]: ProvAttributes };
  readonly agent?: { readonly [id: string]: ProvAttributes };
  readonly used?: { readonly [id: string]: ProvAttributes };
  readonly wasGeneratedBy?: { readonly [id: string]: ProvAttributes };
  readonly wasDerivedFrom?: { readonly [id: string]: ProvAttributes };
  readonly hadMember?: { readonly [id: string]: ProvAttributes };
  readonly wasInfluencedBy?: { readonly [id: string]: ProvAttributes };
  readonly wasAttributedTo?: { readonly [id: string]: ProvAttributes };
  readonly wasAssociatedWith?: { readonly [id: string]: ProvAttributes };
  readonly wasInvalidatedBy?: { readonly [id: string]: ProvAttributes };
}

/** One record as of the point exported: the version current then (a tombstone has `data` null). */
export interface ProvRecord {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly data: { readonly [key: string]: JsonValue } | null;
  /** The event that wrote this version, and its signer (hex). */
  readonly seq: number;
  readonly hash: string;
  readonly author: string;
  readonly timeMs: number;
}

export interface ProvLink {
  readonly from: string;
  readonly to: string;
  readonly rel: string;
  readonly role?: string;
  readonly split?: string;
  readonly addedSeq: number;
}

export interface ProvInvalidation {
  readonly id: string;
  readonly seq: number;
  readonly timeMs: number;
  readonly reason: string;
  readonly version?: number;
}

export interface ProvKey {
  /** Public key, hex. */
  readonly key: string;
  readonly role: string;
  readonly name: string | null;
  readonly active: boolean;
}

export interface ProvInput {
  readonly ledgerId: string;
  readonly records: readonly ProvRecord[];
  /** Links in place at the point exported; a link whose ends are not both among `records` is left out. */
  readonly links: readonly ProvLink[];
  readonly invalidations: readonly ProvInvalidation[];
  /** The keys as of the point exported; only those that signed a record's current version become agents. */
  readonly keys: readonly ProvKey[];
}

/** The vocabulary of provledger's own types and attributes (SPEC §25.3). */
export const PROVLEDGER_NAMESPACE = 'urn:provledger:ns:';
const KEY_NAMESPACE = 'urn:provledger:key:';
const recordNamespace = (ledgerId: string) => `urn:provledger:ledger:${ledgerId}:record:`;

const qname = (name: string) => ({ $: name, type: 'xsd:QName' }) as const;
const recordRef = (id: string) => `record:${id}`;
const keyRef = (key: string) => `key:${key}`;
const isoTime = (timeMs: number) => new Date(timeMs).toISOString();

/** Attribute names set by the mapping itself; a body field of the same name is not copied over them. */
const RESERVED = new Set(['name', 'kind', 'version', 'deleted', 'seq', 'hash', 'invalidated', 'invalidatedVersions', 'digest', 'license', 'startedAt', 'endedAt']);
/** Body fields copied as attributes must make a plain QName local part. */
const COPYABLE_FIELD = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * The PROV-JSON document of a lineage graph.
 * @example const document = toProvJson({ ledgerId, records, links, invalidations, keys });
 */
export function toProvJson(input: ProvInput): ProvDocument {
  const kindOf = new Map(input.records.map((r) => [r.id, r.kind]));
  const isActivity = (id: string) => kindOf.get(id) === 'run';
  const isEntity = (id: string) => kindOf.has(id) && !isActivity(id);
  const links = input.links.filter((l) => kindOf.has(l.from) && kindOf.has(l.to));
  const collections = new Set(links.filter((l) => l.rel === 'memberOf' && isEntity(l.from) && isEntity(l.to)).map((l) => l.to));
  const invalidationsOf = groupBy(input.invalidations, (i) => i.id);

  const sections: Record<string, Record<string, ProvAttributes>> = {};
  const put = (section: string, id: string, attributes: ProvAttributes) => ((sections[section] ??= {})[id] = attributes);

  for (const record of input.records) {
    const invalidations = invalidationsOf.get(record.id) ?? [];
    // Only an invalidation of the whole record, or of the version current here, makes this state invalid.
    const current = invalidations.filter((i) => i.version === undefined || i.version === record.version);
    const attributes: Record<string, ProvValue> = {
      'prov:type': collections.has(record.id) ? [qname(`provledger:${record.kind}`), qname('prov:Collection')] : qname(`provledger:${record.kind}`),
      'provledger:version': record.version,
      'provledger:seq': record.seq,
      'provledger:hash': record.hash,
      'provledger:deleted': record.deleted,
      'provledger:invalidated': current.length > 0,
      ...bodyAttributes(record.data),
    };
    const versions = [...new Set(invalidations.flatMap((i) => (i.version === undefined ? [] : [i.version])))].sort((a, b) => a - b);
    if (versions.length > 0) attributes['provledger:invalidatedVersions'] = versions;
    if (isActivity(record.id)) {
      const { startedAt, endedAt } = record.data ?? {};
      if (isTime(startedAt)) attributes['prov:startTime'] = isoTime(startedAt);
      if (isTime(endedAt)) attributes['prov:endTime'] = isoTime(endedAt);
      put('activity', recordRef(record.id), attributes);
      put('wasAssociatedWith', `_:association-${record.id}`, { 'prov:activity': recordRef(record.id), 'prov:agent': keyRef(record.author) });
    } else {
      put('entity', recordRef(record.id), attributes);
      put('wasAttributedTo', `_:attribution-${record.id}`, { 'prov:entity': recordRef(record.id), 'prov:agent': keyRef(record.author) });
      for (const invalidation of current) {
        put('wasInvalidatedBy', `_:invalidation-${invalidation.seq}`, {
          'prov:entity': recordRef(record.id),
          'prov:time': isoTime(invalidation.timeMs),
          'provledger:reason': invalidation.reason,
          'provledger:seq': invalidation.seq,
          ...(invalidation.version === undefined ? {} : { 'provledger:version': invalidation.version }),
        });
      }
    }
  }

  for (const link of links) {
    const [section, attributes] = linkRelation(link, isActivity, isEntity);
    put(section, `_:link-${link.addedSeq}`, { ...attributes, 'provledger:seq': link.addedSeq });
  }

  const authors = new Set(input.records.map((r) => r.author));
  const standing = new Map(input.keys.map((k) => [k.key, k]));
  for (const author of authors) {
    const key = standing.get(author);
    put('agent', keyRef(author), {
      'prov:type': qname('provledger:key'),
      ...(key === undefined ? {} : { 'provledger:role': key.role, 'provledger:active': key.active, ...(key.name === null ? {} : { 'prov:label': key.name }) }),
    });
  }

  const prefix = { provledger: PROVLEDGER_NAMESPACE, record: recordNamespace(input.ledgerId), key: KEY_NAMESPACE };
  return sortKeys({ prefix, ...sections }) as ProvDocument;
}

/**
 * The PROV relation of one link (SPEC §25.3). A link whose ends are not of the PROV types the relation needs
 * (a forged or custom ledger) becomes the most general relation, `wasInfluencedBy`, so the document stays valid.
 */
function linkRelation(link: ProvLink, isActivity: (id: string) => boolean, isEntity: (id: string) => boolean): [string, ProvAttributes] {
  const split: ProvAttributes = link.split === undefined ? {} : { 'provledger:split': link.split };
  const role: ProvAttributes = link.role === undefined ? {} : { 'prov:role': link.role };
  switch (link.rel) {
    case 'used':
      if (isActivity(link.from) && isEntity(link.to)) return ['used', { 'prov:activity': recordRef(link.from), 'prov:entity': recordRef(link.to), ...role, ...split }];
      break;
    case 'generated':
      if (isActivity(link.from) && isEntity(link.to)) return ['wasGeneratedBy', { 'prov:entity': recordRef(link.to), 'prov:activity': recordRef(link.from) }];
      break;
    case 'derivedFrom':
      if (isEntity(link.from) && isEntity(link.to)) return ['wasDerivedFrom', { 'prov:generatedEntity': recordRef(link.from), 'prov:usedEntity': recordRef(link.to) }];
      break;
    case 'memberOf':
      // Part → whole in provledger; PROV names the whole first.
      if (isEntity(link.from) && isEntity(link.to)) return ['hadMember', { 'prov:collection': recordRef(link.to), 'prov:entity': recordRef(link.from) }];
      break;
  }
  // evaluates, dependsOn and inContext have no PROV relation of their own: the dependent (or the record in a
  // context) is influenced by the other end, and `provledger:rel` says how.
  return [
    'wasInfluencedBy',
    { 'prov:influencee': recordRef(link.from), 'prov:influencer': recordRef(link.to), 'provledger:rel': link.rel, ...role, ...split },
  ];
}

/** The scalar fields of a record's body, its name as `prov:label`, its digests and its licence. */
function bodyAttributes(data: { readonly [key: string]: JsonValue } | null): Record<string, ProvValue> {
  if (data === null) return {};
  const out: Record<string, ProvValue> = {};
  for (const [field, value] of Object.entries(data)) {
    if (RESERVED.has(field) || !COPYABLE_FIELD.test(field)) continue;
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[`provledger:${field}`] = value;
  }
  if (typeof data['name'] === 'string') out['prov:label'] = data['name'];
  const digest = data['digest'];
  if (isObject(digest)) for (const algorithm of ['sha256', 'sha384', 'sha512']) if (typeof digest[algorithm] === 'string') out[`provledger:${algorithm}`] = digest[algorithm];
  const license = data['license'];
  if (typeof license === 'string') out['provledger:license'] = license;
  if (isObject(license)) {
    if (typeof license['declared'] === 'string') out['provledger:licenseDeclared'] = license['declared'];
    if (typeof license['concluded'] === 'string') out['provledger:licenseConcluded'] = license['concluded'];
  }
  return out;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 8.64e15;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group === undefined) groups.set(key(item), [item]);
    else group.push(item);
  }
  return groups;
}

/** A copy with every object's keys in code-unit order; arrays keep their order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
