/**
 * SPEC §25.3: the PROV-JSON mapping as a pure function. One describe per rule; a shape check written from the
 * PROV-JSON submission (each relation's required fields, each naming an element of the right section) runs on
 * every document made here.
 */
import { describe, expect, it } from 'vitest';
import { toProvJson, type ProvDocument, type ProvInput, type ProvRecord } from './prov.js';

const LEDGER = '2b0c6c1e-7a51-4c3e-9d8a-0f5e4b7c9a11';
const OWNER = 'a'.repeat(64);
const ALICE = 'b'.repeat(64);

const record = (id: string, kind: string, data: ProvRecord['data'] = { name: id }, extra: Partial<ProvRecord> = {}): ProvRecord => ({
  id,
  kind,
  version: 1,
  deleted: false,
  data,
  seq: 1,
  hash: 'c'.repeat(64),
  author: OWNER,
  timeMs: 1_800_000_000_000,
  ...extra,
});

const input = (partial: Partial<ProvInput>): ProvInput => ({
  ledgerId: LEDGER,
  records: [],
  links: [],
  invalidations: [],
  keys: [{ key: OWNER, role: 'admin', name: 'owner', active: true }],
  ...partial,
});

/** PROV-JSON relations: the fields PROV-DM requires of each, and the section each must name an element of. */
const REQUIRED: Record<string, Record<string, readonly string[]>> = {
  used: { 'prov:activity': ['activity'], 'prov:entity': ['entity'] },
  wasGeneratedBy: { 'prov:entity': ['entity'], 'prov:activity': ['activity'] },
  wasDerivedFrom: { 'prov:generatedEntity': ['entity'], 'prov:usedEntity': ['entity'] },
  hadMember: { 'prov:collection': ['entity'], 'prov:entity': ['entity'] },
  wasInfluencedBy: { 'prov:influencee': ['entity', 'activity', 'agent'], 'prov:influencer': ['entity', 'activity', 'agent'] },
  wasAttributedTo: { 'prov:entity': ['entity'], 'prov:agent': ['agent'] },
  wasAssociatedWith: { 'prov:activity': ['activity'], 'prov:agent': ['agent'] },
  wasInvalidatedBy: { 'prov:entity': ['entity'] },
};

/** Fails unless `document` has the PROV-JSON shape: known sections, prefixes declared, relations complete. */
function expectProvShape(document: ProvDocument): void {
  const sections = document as unknown as Record<string, Record<string, Record<string, unknown>>>;
  expect(Object.keys(sections).every((name) => ['prefix', 'entity', 'activity', 'agent', ...Object.keys(REQUIRED)].includes(name))).toBe(true);
  const prefixes = new Set([...Object.keys(document.prefix), 'prov', 'xsd']);
  const checkName = (name: string) => expect(name.startsWith('_:') || prefixes.has(name.split(':')[0]!), `undeclared prefix in ${name}`).toBe(true);
  for (const [section, elements] of Object.entries(sections)) {
    if (section === 'prefix') continue;
    for (const [id, attributes] of Object.entries(elements)) {
      checkName(id);
      for (const [name, value] of Object.entries(attributes)) {
        checkName(name);
        const values = Array.isArray(value) ? value : [value];
        for (const v of values) expect(['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && v !== null && Object.keys(v).sort().join() === '$,type'), `${id} ${name}`).toBe(true);
      }
      for (const [field, allowed] of Object.entries(REQUIRED[section] ?? {})) {
        const target = attributes[field];
        expect(typeof target, `${section} ${id} lacks ${field}`).toBe('string');
        expect(allowed.some((s) => sections[s]?.[target as string] !== undefined), `${section} ${id}: ${field} names ${String(target)}, which is no ${allowed.join(' or ')}`).toBe(true);
      }
    }
  }
}

const prov = (partial: Partial<ProvInput>) => {
  const document = toProvJson(input(partial));
  expectProvShape(document);
  return document;
};

describe('SPEC §25.3: records are entities, runs activities, signing keys agents', () => {
  it('types each record by its kind, with its version, event and body fields as attributes', () => {
    const doc = prov({
      records: [
        record('mnist', 'dataset', { name: 'mnist', digest: { sha256: 'd'.repeat(64) }, size: 10, license: { declared: 'MIT', concluded: 'Apache-2.0' }, release: '2026-11', members: [], 'bad key': 1 }),
        record('train', 'run', { name: 'train', runKind: 'train', state: 'COMPLETED', startedAt: 0, endedAt: 1000, metrics: { loss: 1 } }, { author: ALICE }),
      ],
    });
    expect(doc.entity!['record:mnist']).toStrictEqual({
      'prov:label': 'mnist',
      'prov:type': { $: 'provledger:dataset', type: 'xsd:QName' },
      'provledger:deleted': false,
      'provledger:hash': 'c'.repeat(64),
      'provledger:invalidated': false,
      'provledger:licenseConcluded': 'Apache-2.0',
      'provledger:licenseDeclared': 'MIT',
      'provledger:release': '2026-11',
      'provledger:seq': 1,
      'provledger:sha256': 'd'.repeat(64),
      'provledger:size': 10,
      'provledger:version': 1,
    });
    expect(doc.activity!['record:train']).toMatchObject({ 'prov:startTime': '1970-01-01T00:00:00.000Z', 'prov:endTime': '1970-01-01T00:00:01.000Z', 'provledger:runKind': 'train', 'provledger:state': 'COMPLETED' });
    expect(doc.prefix).toStrictEqual({ key: 'urn:provledger:key:', provledger: 'urn:provledger:ns:', record: `urn:provledger:ledger:${LEDGER}:record:` });
  });

  it('makes an agent of each key that signed a current version, with its standing, and only those', () => {
    const doc = prov({
      records: [record('a', 'dataset'), record('r', 'run', null, { author: ALICE, deleted: true })],
      keys: [
        { key: OWNER, role: 'admin', name: 'owner', active: true },
        { key: ALICE, role: 'writer', name: null, active: false },
        { key: 'e'.repeat(64), role: 'writer', name: 'idle', active: true },
      ],
    });
    expect(Object.keys(doc.agent!)).toEqual([`key:${OWNER}`, `key:${ALICE}`]);
    expect(doc.agent![`key:${ALICE}`]).toStrictEqual({ 'prov:type': { $: 'provledger:key', type: 'xsd:QName' }, 'provledger:active': false, 'provledger:role': 'writer' });
    expect(doc.wasAttributedTo).toStrictEqual({ '_:attribution-a': { 'prov:agent': `key:${OWNER}`, 'prov:entity': 'record:a' } });
    expect(doc.wasAssociatedWith).toStrictEqual({ '_:association-r': { 'prov:activity': 'record:r', 'prov:agent': `key:${ALICE}` } });
    expect(doc.activity!['record:r']).toMatchObject({ 'provledger:deleted': true });
  });
});

describe('SPEC §25.3: each link becomes the PROV relation of its meaning', () => {
  const records = [record('run', 'run'), record('data', 'dataset'), record('model', 'model'), record('part', 'dataset'), record('eval', 'evaluation'), record('ctx', 'context')];
  const doc = prov({
    records,
    links: [
      { from: 'run', to: 'data', rel: 'used', role: 'train', split: 'train', addedSeq: 10 },
      { from: 'run', to: 'model', rel: 'generated', addedSeq: 11 },
      { from: 'model', to: 'data', rel: 'derivedFrom', addedSeq: 12 },
      { from: 'part', to: 'data', rel: 'memberOf', addedSeq: 13 },
      { from: 'eval', to: 'model', rel: 'evaluates', addedSeq: 14 },
      { from: 'model', to: 'part', rel: 'dependsOn', addedSeq: 15 },
      { from: 'run', to: 'ctx', rel: 'inContext', addedSeq: 16 },
    ],
  });

  it('used (role as prov:role), wasGeneratedBy, wasDerivedFrom (derived first), hadMember (the whole first)', () => {
    expect(doc.used).toStrictEqual({ '_:link-10': { 'prov:activity': 'record:run', 'prov:entity': 'record:data', 'prov:role': 'train', 'provledger:seq': 10, 'provledger:split': 'train' } });
    expect(doc.wasGeneratedBy).toStrictEqual({ '_:link-11': { 'prov:activity': 'record:run', 'prov:entity': 'record:model', 'provledger:seq': 11 } });
    expect(doc.wasDerivedFrom).toStrictEqual({ '_:link-12': { 'prov:generatedEntity': 'record:model', 'prov:usedEntity': 'record:data', 'provledger:seq': 12 } });
    expect(doc.hadMember).toStrictEqual({ '_:link-13': { 'prov:collection': 'record:data', 'prov:entity': 'record:part', 'provledger:seq': 13 } });
    expect(doc.entity!['record:data']!['prov:type']).toStrictEqual([
      { $: 'provledger:dataset', type: 'xsd:QName' },
      { $: 'prov:Collection', type: 'xsd:QName' },
    ]);
  });

  it('evaluates, dependsOn and inContext: wasInfluencedBy, the dependent influenced, with provledger:rel', () => {
    expect(doc.wasInfluencedBy).toStrictEqual({
      '_:link-14': { 'prov:influencee': 'record:eval', 'prov:influencer': 'record:model', 'provledger:rel': 'evaluates', 'provledger:seq': 14 },
      '_:link-15': { 'prov:influencee': 'record:model', 'prov:influencer': 'record:part', 'provledger:rel': 'dependsOn', 'provledger:seq': 15 },
      '_:link-16': { 'prov:influencee': 'record:run', 'prov:influencer': 'record:ctx', 'provledger:rel': 'inContext', 'provledger:seq': 16 },
    });
  });

  it('a link whose ends are not what its relation needs falls back to wasInfluencedBy; one to a record not exported is left out', () => {
    const odd = prov({
      records: [record('a', 'dataset'), record('b', 'dataset'), record('r', 'run')],
      links: [
        { from: 'a', to: 'b', rel: 'used', addedSeq: 5 },
        { from: 'r', to: 'r2', rel: 'generated', addedSeq: 6 },
        { from: 'a', to: 'r', rel: 'memberOf', addedSeq: 7 },
      ],
    });
    expect(Object.keys(odd.wasInfluencedBy!)).toEqual(['_:link-5', '_:link-7']);
    expect(odd.used).toBeUndefined();
    expect(odd.wasGeneratedBy).toBeUndefined();
  });
});

describe('SPEC §25.3: invalidation', () => {
  it('of the whole record, or of its current version: wasInvalidatedBy and invalidated true', () => {
    const doc = prov({
      records: [record('a', 'dataset', { name: 'a' }, { version: 2 }), record('b', 'dataset')],
      invalidations: [
        { id: 'a', seq: 7, timeMs: 0, reason: 'leaked', version: 2 },
        { id: 'b', seq: 8, timeMs: 1000, reason: 'wrong' },
      ],
    });
    expect(doc.wasInvalidatedBy).toStrictEqual({
      '_:invalidation-7': { 'prov:entity': 'record:a', 'prov:time': '1970-01-01T00:00:00.000Z', 'provledger:reason': 'leaked', 'provledger:seq': 7, 'provledger:version': 2 },
      '_:invalidation-8': { 'prov:entity': 'record:b', 'prov:time': '1970-01-01T00:00:01.000Z', 'provledger:reason': 'wrong', 'provledger:seq': 8 },
    });
    expect(doc.entity!['record:a']).toMatchObject({ 'provledger:invalidated': true, 'provledger:invalidatedVersions': [2] });
    expect(doc.entity!['record:b']!['provledger:invalidatedVersions']).toBeUndefined();
  });

  it('of an earlier version only: listed, but the current state is not invalidated', () => {
    const doc = prov({ records: [record('a', 'dataset', { name: 'a' }, { version: 3 })], invalidations: [{ id: 'a', seq: 7, timeMs: 0, reason: 'r', version: 1 }] });
    expect(doc.wasInvalidatedBy).toBeUndefined();
    expect(doc.entity!['record:a']).toMatchObject({ 'provledger:invalidated': false, 'provledger:invalidatedVersions': [1] });
  });

  it('of a run: an attribute only (PROV invalidates entities)', () => {
    const doc = prov({ records: [record('r', 'run')], invalidations: [{ id: 'r', seq: 7, timeMs: 0, reason: 'r' }] });
    expect(doc.wasInvalidatedBy).toBeUndefined();
    expect(doc.activity!['record:r']).toMatchObject({ 'provledger:invalidated': true });
  });
});

describe('SPEC §25.3: the document is deterministic', () => {
  it('sorts keys everywhere, whatever the order of its input', () => {
    const records = [record('b', 'dataset', { name: 'b', z: 1, a: 2 }), record('a', 'model')];
    const links = [{ from: 'a', to: 'b', rel: 'derivedFrom', addedSeq: 3 }];
    const one = JSON.stringify(prov({ records, links }));
    const two = JSON.stringify(prov({ records: [...records].reverse(), links }));
    expect(two).toBe(one);
    const sorted = (value: unknown): boolean =>
      typeof value !== 'object' || value === null || Array.isArray(value) || (Object.keys(value).join() === Object.keys(value).sort().join() && Object.values(value).every(sorted));
    expect(sorted(JSON.parse(one))).toBe(true);
  });
});
