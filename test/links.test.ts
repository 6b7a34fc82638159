/**
 * SPEC §19 through the library: the rules a link change must follow (§19.2), each refusal with its exact code
 * and leaving the store byte for byte as it was; changes decided one after another within a commit group
 * (§6.3); lineage and link lists as of any point (§19.3); and the link indexes against an attacker with the
 * files (§19.4): tampered entries are PROJECTION_MISMATCH, forged but validly signed link events that break the
 * alternation are LINK_BREAK and get no index entry, malformed ones are BAD_LINK_EVENT.
 *
 * Each test builds its own small ledger with the library from src/ (or copies one built once per describe),
 * closes it, edits the store raw where it says so (test/helpers/raw-store.ts, forge.ts), and reopens it.
 * Codes are asserted, never messages; verify findings are compared as [seq, code] pairs in report order.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { encodeCanonical } from '../src/codec/canonical.js';
import type { JsonValue } from '../src/event/event.js';
import { Ledger, type Link, type LineageEdge } from '../src/index.js';
import { ownerKey } from './helpers/events.js';
import { appendForged } from './helpers/forge.js';
import { dumpLinkIndexes, editIndexes, seqKey, type RawIndexes } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';
import { createOptions, dumpStore, findings, outcomes, template, withOpen } from './helpers/ledgers.js';
import { codeOf } from './helpers/codes.js';

const text = new TextEncoder();
const DEPENDENT_IS_TO = new Set(['generated', 'memberOf']);

/**
 * A link index key written out from SPEC §19.4, independently of src: near ‖ 0 ‖ far ‖ 0 ‖ rel ‖ 0 ‖ role ‖ 0 ‖
 * split ‖ 0 ‖ seq (8 bytes), where lu is keyed from the dependent and ld from the dependency.
 */
function linkKey(index: 'lu' | 'ld', link: Link, seq: number): Uint8Array {
  const [dependent, dependency] = DEPENDENT_IS_TO.has(link.rel) ? [link.to, link.from] : [link.from, link.to];
  const [near, far] = index === 'lu' ? [dependent, dependency] : [dependency, dependent];
  const head = text.encode(`${near}\0${far}\0${link.rel}\0${link.role ?? ''}\0${link.split ?? ''}\0`);
  const key = new Uint8Array(head.length + 8);
  key.set(head);
  key.set(seqKey(seq), head.length);
  return key;
}

const edge = (link: Link, addedSeq: number): LineageEdge => ({ ...link, addedSeq });

// ---------------------------------------------------------------------------------------------------------
// The rules ledger: records of every kind the rules name, and links that make chains to close cycles with.
//
//   train (run) used mnist (role train) · train generated resnet · eval-1 evaluates resnet · resnet inContext exp
//   a dependsOn b · b derivedFrom c          (so resnet → train → mnist and a → b → c, "→" = depends on)
//   c dependsOn mnist, added then removed · gone (dataset) deleted
// Events: 1–10 create the records, 11 deletes gone, 12–18 add the links in the order of `L`, 19 removes L.removed.
// ---------------------------------------------------------------------------------------------------------
const L = {
  used: { from: 'train', to: 'mnist', rel: 'used', role: 'train' },
  generated: { from: 'train', to: 'resnet', rel: 'generated' },
  evaluates: { from: 'eval-1', to: 'resnet', rel: 'evaluates' },
  inContext: { from: 'resnet', to: 'exp', rel: 'inContext' },
  aOnB: { from: 'a', to: 'b', rel: 'dependsOn' },
  bFromC: { from: 'b', to: 'c', rel: 'derivedFrom' },
  removed: { from: 'c', to: 'mnist', rel: 'dependsOn' },
} as const satisfies Record<string, Link>;

async function buildRulesLedger(dir: string): Promise<void> {
  const ledger = await Ledger.create(dir, createOptions());
  try {
    const kinds: [string, string][] = [
      ['train', 'run'],
      ['mnist', 'dataset'],
      ['resnet', 'model'],
      ['eval-1', 'evaluation'],
      ['exp', 'context'],
      ['exp-2', 'context'],
      ['gone', 'dataset'],
      ['a', 'dataset'],
      ['b', 'dataset'],
      ['c', 'dataset'],
    ];
    for (const [id, kind] of kinds) await ledger.records.create(kind, { name: id }, { id });
    await ledger.records.delete('gone');
    for (const link of [L.used, L.generated, L.evaluates, L.inContext, L.aOnB, L.bFromC, L.removed]) await ledger.links.add(link);
    await ledger.links.remove(L.removed);
    expect((await ledger.verify()).failures).toEqual([]);
  } finally {
    await ledger.close();
  }
}

type Case = { name: string; op: 'add' | 'remove'; link: Record<string, unknown>; code: string };

const refusals: Case[] = [
  // A malformed link (SPEC §19.1).
  { name: 'an unknown relation', op: 'add', link: { from: 'a', to: 'c', rel: 'causes' }, code: 'INVALID_LINK' },
  { name: 'a role on a dependsOn link', op: 'add', link: { from: 'a', to: 'c', rel: 'dependsOn', role: 'train' }, code: 'INVALID_LINK' },
  { name: 'a split on a derivedFrom link', op: 'add', link: { from: 'a', to: 'c', rel: 'derivedFrom', split: 'v1' }, code: 'INVALID_LINK' },
  { name: 'a role on a generated link', op: 'add', link: { from: 'train', to: 'a', rel: 'generated', role: 'train' }, code: 'INVALID_LINK' },
  { name: 'a self link', op: 'add', link: { from: 'a', to: 'a', rel: 'dependsOn' }, code: 'INVALID_LINK' },
  { name: 'an extra field', op: 'add', link: { from: 'a', to: 'c', rel: 'dependsOn', note: 'x' }, code: 'INVALID_LINK' },
  { name: 'a role outside the list', op: 'add', link: { from: 'train', to: 'a', rel: 'used', role: 'teacher' }, code: 'INVALID_LINK' },
  { name: 'a split with a space', op: 'add', link: { from: 'train', to: 'a', rel: 'used', split: 'v 1' }, code: 'INVALID_LINK' },
  { name: 'a malformed id', op: 'add', link: { from: '-a', to: 'c', rel: 'dependsOn' }, code: 'INVALID_LINK' },
  { name: 'a missing end', op: 'add', link: { from: 'a', rel: 'dependsOn' }, code: 'INVALID_LINK' },
  { name: 'a malformed link between unknown records (form is judged first)', op: 'add', link: { from: 'ghost', to: 'ghost-2', rel: 'nope' }, code: 'INVALID_LINK' },
  { name: 'a malformed remove', op: 'remove', link: { from: 'a', to: 'b', rel: 'dependsOn', role: 'train' }, code: 'INVALID_LINK' },
  // Kinds (SPEC §19.2).
  { name: 'used from a dataset, not a run', op: 'add', link: { from: 'mnist', to: 'a', rel: 'used' }, code: 'INVALID_LINK' },
  { name: 'generated from a model, not a run', op: 'add', link: { from: 'resnet', to: 'a', rel: 'generated' }, code: 'INVALID_LINK' },
  { name: 'evaluates from a run, not an evaluation', op: 'add', link: { from: 'train', to: 'resnet', rel: 'evaluates' }, code: 'INVALID_LINK' },
  { name: 'inContext to a dataset, not a context', op: 'add', link: { from: 'a', to: 'mnist', rel: 'inContext' }, code: 'INVALID_LINK' },
  // Existence.
  { name: 'an unknown first end', op: 'add', link: { from: 'ghost', to: 'a', rel: 'dependsOn' }, code: 'RECORD_NOT_FOUND' },
  { name: 'an unknown second end', op: 'add', link: { from: 'a', to: 'ghost', rel: 'dependsOn' }, code: 'RECORD_NOT_FOUND' },
  { name: 'a deleted first end', op: 'add', link: { from: 'gone', to: 'a', rel: 'dependsOn' }, code: 'RECORD_DELETED' },
  { name: 'a deleted second end', op: 'add', link: { from: 'a', to: 'gone', rel: 'dependsOn' }, code: 'RECORD_DELETED' },
  // In place or not.
  { name: 'an add of a used link in place (same role)', op: 'add', link: L.used, code: 'LINK_EXISTS' },
  { name: 'an add of a dependsOn link in place', op: 'add', link: L.aOnB, code: 'LINK_EXISTS' },
  { name: 'an add of an inContext link in place', op: 'add', link: L.inContext, code: 'LINK_EXISTS' },
  { name: 'a remove of a link never added', op: 'remove', link: { from: 'a', to: 'c', rel: 'dependsOn' }, code: 'LINK_NOT_FOUND' },
  { name: 'a remove of a link already removed', op: 'remove', link: L.removed, code: 'LINK_NOT_FOUND' },
  { name: 'a remove naming another role than the one in place', op: 'remove', link: { ...L.used, role: 'test' }, code: 'LINK_NOT_FOUND' },
  { name: 'a remove naming a split the link in place has not', op: 'remove', link: { ...L.used, split: 'v1' }, code: 'LINK_NOT_FOUND' },
  { name: 'a remove of a link between unknown records', op: 'remove', link: { from: 'ghost', to: 'a', rel: 'dependsOn' }, code: 'LINK_NOT_FOUND' },
  // Cycles: "→" is "depends on".
  { name: 'a direct cycle: b dependsOn a while a → b', op: 'add', link: { from: 'b', to: 'a', rel: 'dependsOn' }, code: 'LINK_CYCLE' },
  { name: 'a direct cycle through another relation: b derivedFrom a', op: 'add', link: { from: 'b', to: 'a', rel: 'derivedFrom' }, code: 'LINK_CYCLE' },
  { name: 'an indirect cycle through three records: c dependsOn a while a → b → c', op: 'add', link: { from: 'c', to: 'a', rel: 'dependsOn' }, code: 'LINK_CYCLE' },
  { name: 'memberOf points from the whole: a memberOf c makes c → a', op: 'add', link: { from: 'a', to: 'c', rel: 'memberOf' }, code: 'LINK_CYCLE' },
  { name: 'generated points from the output: train generated mnist makes mnist → train → mnist', op: 'add', link: { from: 'train', to: 'mnist', rel: 'generated' }, code: 'LINK_CYCLE' },
  { name: 'through generated: resnet memberOf mnist makes mnist → resnet → train → mnist', op: 'add', link: { from: 'resnet', to: 'mnist', rel: 'memberOf' }, code: 'LINK_CYCLE' },
  { name: 'through evaluates and generated: mnist derivedFrom eval-1', op: 'add', link: { from: 'mnist', to: 'eval-1', rel: 'derivedFrom' }, code: 'LINK_CYCLE' },
];

describe('SPEC §19.2: a link change the rules refuse fails with its code and leaves the store byte for byte unchanged', () => {
  const fresh = template(buildRulesLedger);

  it('the store dump sees every sublevel, links included (so an unchanged dump means nothing was written)', async () => {
    const dir = await fresh();
    const before = await dumpStore(dir);
    const prefixes = new Set(before.map((line) => Buffer.from(line.split(' ')[0]!, 'hex').toString('latin1').match(/^!([^!]+)!/)?.[1]));
    for (const sublevel of ['log', 'meta', 'i-rc', 'i-rv', 'i-rk', 'i-ti', 'i-mt', 'i-lu', 'i-ld']) expect(prefixes).toContain(sublevel);
    await withOpen(dir, (ledger) => ledger.links.add({ from: 'a', to: 'c', rel: 'dependsOn' }));
    expect(await dumpStore(dir)).not.toEqual(before);
  });

  it.each(refusals)('$code: $name ($op)', async ({ op, link, code }) => {
    const dir = await fresh();
    const before = await dumpStore(dir);
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.links[op](link as unknown as Link)))).toBe(code);
    expect(await dumpStore(dir)).toEqual(before);
  });
});

describe('SPEC §19.2: what the rules allow is written, one event per change', () => {
  const fresh = template(buildRulesLedger);

  it.each<{ name: string; link: Link; before?: Link[]; reverseToo?: boolean }>([
    { name: 'used from a run, with a role and a split', link: { from: 'train', to: 'a', rel: 'used', role: 'train', split: 'part-1' } },
    { name: 'a second used link between the same ends with another role (another link)', link: { ...L.used, role: 'test' } },
    { name: 'a used link between the same ends without a role (another link)', link: { from: 'train', to: 'mnist', rel: 'used' } },
    { name: 'generated from a run', link: { from: 'train', to: 'a', rel: 'generated' } },
    { name: 'evaluates from an evaluation', link: { from: 'eval-1', to: 'mnist', rel: 'evaluates' } },
    { name: 'derivedFrom and dependsOn between any kinds', link: { from: 'resnet', to: 'c', rel: 'derivedFrom' } },
    { name: 'memberOf the way that closes no cycle: c memberOf a makes a → c, as a → b → c already', link: { from: 'c', to: 'a', rel: 'memberOf' } },
    { name: 'a shortcut along an existing path: a dependsOn c', link: { from: 'a', to: 'c', rel: 'dependsOn' } },
    { name: 'a link removed earlier is added again', link: L.removed },
    { name: 'a removed link no longer closes a cycle: mnist dependsOn c', link: { from: 'mnist', to: 'c', rel: 'dependsOn' } },
    { name: 'inContext never closes a cycle: exp dependsOn resnet while resnet inContext exp', link: { from: 'exp', to: 'resnet', rel: 'dependsOn' } },
    { name: 'inContext never closes a cycle: a inContext exp while exp dependsOn a', before: [{ from: 'exp', to: 'a', rel: 'dependsOn' }], link: { from: 'a', to: 'exp', rel: 'inContext' } },
    { name: 'inContext between two contexts, both ways: exp inContext exp-2', link: { from: 'exp', to: 'exp-2', rel: 'inContext' }, reverseToo: true },
  ])('$name', async ({ link, before = [], reverseToo = false }) => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      for (const earlier of before) await ledger.links.add(earlier);
      const head = (await ledger.head())!.seq;
      expect((await ledger.links.add(link)).seq).toBe(head + 1);
      expect(await ledger.links.list(link.from, { direction: 'both' })).toContainEqual(edge(link, head + 1));
      if (reverseToo) expect(await ledger.links.add({ ...link, from: link.to, to: link.from })).toMatchObject({ seq: head + 2 });
      expect((await ledger.verify()).failures).toEqual([]);
    });
  });

  it('a remove of a link whose end was deleted since is allowed; the link stays in place until then', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      await ledger.records.delete('c');
      expect(await ledger.links.list('b', { direction: 'up' })).toEqual([edge(L.bFromC, 17)]);
      const removed = await ledger.links.remove(L.bFromC);
      expect(await ledger.links.list('b', { direction: 'up' })).toEqual([]);
      expect(await ledger.links.list('b', { direction: 'up', at: { seq: removed.seq - 1 } })).toEqual([edge(L.bFromC, 17)]);
    });
  });

  it('each change writes exactly its lu and ld entries, laid out as SPEC §19.4 says', async () => {
    const dir = await fresh();
    const before = await dumpLinkIndexes(dir);
    const link: Link = { from: 'train', to: 'a', rel: 'used', role: 'eval', split: 'v2' };
    const { seq } = await withOpen(dir, (ledger) => ledger.links.add(link));
    const added = (await dumpLinkIndexes(dir)).filter((line) => !before.includes(line));
    const value = toHex(encodeCanonical({ op: 'add' }));
    expect(added.sort()).toEqual([`ld ${toHex(linkKey('ld', link, seq))} ${value}`, `lu ${toHex(linkKey('lu', link, seq))} ${value}`].sort());
    // generated is keyed from its `to` in lu (the output depends on the run).
    const generated: Link = { from: 'train', to: 'exp-2', rel: 'generated' };
    const second = await withOpen(dir, (ledger) => ledger.links.add(generated));
    const lines = await dumpLinkIndexes(dir);
    expect(lines).toContain(`lu ${toHex(text.encode('exp-2\0train\0generated\0\0\0'))}${toHex(seqKey(second.seq))} ${value}`);
    expect(lines).toContain(`ld ${toHex(text.encode('train\0exp-2\0generated\0\0\0'))}${toHex(seqKey(second.seq))} ${value}`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Group commit: requests issued in one tick are decided in order, each against the state after the ones before.
// ---------------------------------------------------------------------------------------------------------
async function withGroupLedger(use: (ledger: Ledger, head: number) => Promise<void>): Promise<void> {
  await withTempDir(async (root) => {
    const ledger = await Ledger.create(join(root, 'ledger'), createOptions());
    try {
      for (const id of ['a', 'b', 'c']) await ledger.records.create('dataset', {}, { id });
      await use(ledger, (await ledger.head())!.seq);
      expect((await ledger.verify()).failures).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
}

describe('SPEC §19.2, §6.3: within one commit group each change is decided after the ones before it', () => {
  it('two adds that together close a cycle: the earlier commits, the later is LINK_CYCLE', async () => {
    await withGroupLedger(async (ledger, head) => {
      const results = await outcomes([
        ledger.links.add({ from: 'a', to: 'b', rel: 'dependsOn' }),
        ledger.links.add({ from: 'b', to: 'a', rel: 'derivedFrom' }),
        ledger.append({ type: 'app.note', payload: {} }),
      ]);
      // The note shows all three were one group: it takes the seq right after the one committed link.
      expect(results).toEqual([head + 1, 'LINK_CYCLE', head + 2]);
      expect(await ledger.links.list('b', { direction: 'both' })).toEqual([edge({ from: 'a', to: 'b', rel: 'dependsOn' }, head + 1)]);
    });
  });

  it('three adds that close a cycle through three records, one oriented by memberOf: the last is LINK_CYCLE', async () => {
    await withGroupLedger(async (ledger, head) => {
      // a → b, b → c, then a memberOf c would make c → a.
      const results = await outcomes([
        ledger.links.add({ from: 'a', to: 'b', rel: 'dependsOn' }),
        ledger.links.add({ from: 'b', to: 'c', rel: 'dependsOn' }),
        ledger.links.add({ from: 'a', to: 'c', rel: 'memberOf' }),
      ]);
      expect(results).toEqual([head + 1, head + 2, 'LINK_CYCLE']);
    });
  });

  it('a remove earlier in the group clears the way for an add that would otherwise close a cycle', async () => {
    await withGroupLedger(async (ledger, head) => {
      await ledger.links.add({ from: 'a', to: 'b', rel: 'dependsOn' });
      const results = await outcomes([ledger.links.remove({ from: 'a', to: 'b', rel: 'dependsOn' }), ledger.links.add({ from: 'b', to: 'a', rel: 'dependsOn' })]);
      expect(results).toEqual([head + 2, head + 3]);
    });
  });

  it('an add and a remove of the same link in one group both commit; the link was in place in between', async () => {
    await withGroupLedger(async (ledger, head) => {
      const link: Link = { from: 'a', to: 'b', rel: 'dependsOn' };
      expect(await outcomes([ledger.links.add(link), ledger.links.remove(link)])).toEqual([head + 1, head + 2]);
      expect(await ledger.links.list('a', { at: { seq: head + 1 } })).toEqual([edge(link, head + 1)]);
      expect(await ledger.links.list('a')).toEqual([]);
    });
  });

  it('the same add twice in one group: the second is LINK_EXISTS; a remove twice: the second is LINK_NOT_FOUND', async () => {
    await withGroupLedger(async (ledger, head) => {
      const link: Link = { from: 'a', to: 'b', rel: 'dependsOn' };
      expect(await outcomes([ledger.links.add(link), ledger.links.add(link)])).toEqual([head + 1, 'LINK_EXISTS']);
      expect(await outcomes([ledger.links.remove(link), ledger.links.remove(link)])).toEqual([head + 2, 'LINK_NOT_FOUND']);
    });
  });

  it('a record created earlier in the group can be linked; one deleted earlier in the group cannot', async () => {
    await withGroupLedger(async (ledger, head) => {
      const results = await outcomes([
        ledger.records.create('dataset', {}, { id: 'd' }),
        ledger.links.add({ from: 'd', to: 'a', rel: 'dependsOn' }),
        ledger.records.delete('b'),
        ledger.links.add({ from: 'c', to: 'b', rel: 'dependsOn' }),
      ]);
      expect(results).toEqual([head + 1, head + 2, head + 3, 'RECORD_DELETED']);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Points in time. The history ledger, event by event:
//   1 raw (dataset) · 2 clean (dataset) · 3 prep (run) · 4 m (model)
//   5 prep used raw (train) · 6 prep generated clean · 7 m derivedFrom clean · 8 clean updated to v2
//   9 m derivedFrom clean removed · 10 added again · 11 clean deleted (v3) · 12 note
// So at 8: m → clean → prep → raw ("→" = depends on); at 9 m stands alone; now the chain is back, clean deleted.
// ---------------------------------------------------------------------------------------------------------
const H = {
  used: { from: 'prep', to: 'raw', rel: 'used', role: 'train' },
  generated: { from: 'prep', to: 'clean', rel: 'generated' },
  derived: { from: 'm', to: 'clean', rel: 'derivedFrom' },
} as const satisfies Record<string, Link>;

async function buildHistoryLedger(dir: string): Promise<void> {
  const ledger = await Ledger.create(dir, createOptions());
  try {
    await ledger.records.create('dataset', { name: 'raw' }, { id: 'raw' });
    await ledger.records.create('dataset', { name: 'clean' }, { id: 'clean' });
    await ledger.records.create('run', {}, { id: 'prep' });
    await ledger.records.create('model', { name: 'm' }, { id: 'm' });
    await ledger.links.add(H.used);
    await ledger.links.add(H.generated);
    await ledger.links.add(H.derived);
    await ledger.records.update('clean', { name: 'clean-2' });
    await ledger.links.remove(H.derived);
    await ledger.links.add(H.derived);
    await ledger.records.delete('clean');
    expect((await ledger.append({ type: 'app.note', payload: {} })).seq).toBe(12);
  } finally {
    await ledger.close();
  }
}

/** Nodes as [id, depth, version, deleted], in walk order. */
const nodesOf = (lineage: { nodes: readonly { id: string; depth: number; version: number; deleted: boolean }[] }) => lineage.nodes.map((n) => [n.id, n.depth, n.version, n.deleted]);

describe('SPEC §19.3: lineage and link lists as of a point', () => {
  const fresh = template(buildHistoryLedger);
  let dir = '';
  beforeAll(async () => {
    dir = await fresh();
  });

  it('list at a seq before a remove still shows the link; at the remove it is gone; after a re-add it shows the new add', async () => {
    await withOpen(dir, async (ledger) => {
      expect(await ledger.links.list('m', { direction: 'up', at: { seq: 6 } })).toEqual([]);
      expect(await ledger.links.list('m', { direction: 'up', at: { seq: 7 } })).toEqual([edge(H.derived, 7)]);
      expect(await ledger.links.list('m', { direction: 'up', at: { seq: 8 } })).toEqual([edge(H.derived, 7)]);
      expect(await ledger.links.list('m', { direction: 'up', at: { seq: 9 } })).toEqual([]);
      expect(await ledger.links.list('m', { direction: 'up', at: { seq: 10 } })).toEqual([edge(H.derived, 10)]);
      expect(await ledger.links.list('m', { direction: 'up' })).toEqual([edge(H.derived, 10)]);
      expect(await ledger.links.list('m', { direction: 'down' })).toEqual([]);
    });
  });

  it('list both ways gives what a record depends on and what depends on it, inContext included', async () => {
    await withOpen(dir, async (ledger) => {
      expect(await ledger.links.list('clean', { at: { seq: 8 } })).toEqual([edge(H.generated, 6), edge(H.derived, 7)]);
      expect(await ledger.links.list('clean', { direction: 'up', at: { seq: 8 } })).toEqual([edge(H.generated, 6)]);
      expect(await ledger.links.list('clean', { direction: 'down', at: { seq: 8 } })).toEqual([edge(H.derived, 7)]);
    });
  });

  it('lineage up at a seq: each record once, at its depth, with its version then, a shortest path, and every link walked', async () => {
    await withOpen(dir, async (ledger) => {
      const lineage = await ledger.links.lineage('m', { at: { seq: 8 } });
      expect(lineage).toMatchObject({ root: 'm', direction: 'up', atSeq: 8 });
      expect(nodesOf(lineage)).toEqual([
        ['m', 0, 1, false],
        ['clean', 1, 2, false],
        ['prep', 2, 1, false],
        ['raw', 3, 1, false],
      ]);
      expect(lineage.nodes.map((n) => n.path)).toEqual([['m'], ['m', 'clean'], ['m', 'clean', 'prep'], ['m', 'clean', 'prep', 'raw']]);
      expect(lineage.nodes.map((n) => n.name)).toEqual(['m', 'clean-2', null, 'raw']);
      expect(lineage.edges).toEqual([edge(H.derived, 7), edge(H.generated, 6), edge(H.used, 5)]);
    });
  });

  it('lineage at the seq of a remove stops at the root; at an earlier seq, a record shows its version then', async () => {
    await withOpen(dir, async (ledger) => {
      const removed = await ledger.links.lineage('m', { at: { seq: 9 } });
      expect(nodesOf(removed)).toEqual([['m', 0, 1, false]]);
      expect(removed.edges).toEqual([]);
      expect(nodesOf(await ledger.links.lineage('m', { at: { seq: 7 } }))[1]).toEqual(['clean', 1, 1, false]);
    });
  });

  it('a record deleted since shows as its version at the point asked for; now, as its tombstone with the links still in place', async () => {
    await withOpen(dir, async (ledger) => {
      expect(nodesOf(await ledger.links.lineage('m', { at: { seq: 10 } }))[1]).toEqual(['clean', 1, 2, false]);
      const now = await ledger.links.lineage('m');
      expect(now.atSeq).toBe(12);
      expect(nodesOf(now)).toEqual([
        ['m', 0, 1, false],
        ['clean', 1, 3, true],
        ['prep', 2, 1, false],
        ['raw', 3, 1, false],
      ]);
      expect(now.edges).toEqual([edge(H.derived, 10), edge(H.generated, 6), edge(H.used, 5)]);
    });
  });

  it('at a time: the state just after the last event at or before it', async () => {
    await withOpen(dir, async (ledger) => {
      const timeOf = async (seq: number) => (await ledger.get(seq)).timeMs;
      // Just before the remove's time, the link is in place; at it, gone.
      const beforeRemove = await ledger.links.lineage('m', { at: { timeMs: (await timeOf(9)) - 1 } });
      expect(beforeRemove.atSeq).toBe(8);
      expect(nodesOf(beforeRemove).map((n) => n[0])).toEqual(['m', 'clean', 'prep', 'raw']);
      expect(nodesOf(await ledger.links.lineage('m', { at: { timeMs: await timeOf(9) } }))).toEqual([['m', 0, 1, false]]);
      expect(await ledger.links.list('m', { at: { timeMs: await timeOf(10) } })).toEqual([edge(H.derived, 10)]);
      expect(await ledger.links.list('m', { at: { timeMs: (await timeOf(10)) - 1 } })).toEqual([]);
    });
  });

  it('kind lists only records of that kind and the root; the walk still passes through the others', async () => {
    await withOpen(dir, async (ledger) => {
      const lineage = await ledger.links.lineage('m', { kind: 'dataset', at: { seq: 8 } });
      expect(nodesOf(lineage)).toEqual([
        ['m', 0, 1, false],
        ['clean', 1, 2, false],
        ['raw', 3, 1, false],
      ]);
      expect(lineage.edges).toHaveLength(3);
      expect(nodesOf(await ledger.links.lineage('m', { kind: 'run', at: { seq: 8 } }))).toEqual([
        ['m', 0, 1, false],
        ['prep', 2, 1, false],
      ]);
    });
  });

  it('depth limits how many links away the walk goes, and which links it walks', async () => {
    await withOpen(dir, async (ledger) => {
      const at = { seq: 8 };
      const zero = await ledger.links.lineage('m', { depth: 0, at });
      expect([nodesOf(zero), zero.edges]).toEqual([[['m', 0, 1, false]], []]);
      const one = await ledger.links.lineage('m', { depth: 1, at });
      expect([nodesOf(one).map((n) => n[0]), one.edges]).toEqual([['m', 'clean'], [edge(H.derived, 7)]]);
      const two = await ledger.links.lineage('m', { depth: 2, at });
      expect([nodesOf(two).map((n) => n[0]), two.edges]).toEqual([['m', 'clean', 'prep'], [edge(H.derived, 7), edge(H.generated, 6)]]);
      expect(await codeOf(() => ledger.links.lineage('m', { depth: -1 }))).toBe('INVALID_ARGUMENT');
    });
  });

  it('down walks from a record to what depends on it', async () => {
    await withOpen(dir, async (ledger) => {
      const lineage = await ledger.links.lineage('raw', { direction: 'down', at: { seq: 8 } });
      expect(nodesOf(lineage)).toEqual([
        ['raw', 0, 1, false],
        ['prep', 1, 1, false],
        ['clean', 2, 2, false],
        ['m', 3, 1, false],
      ]);
      expect(lineage.edges).toEqual([edge(H.used, 5), edge(H.generated, 6), edge(H.derived, 7)]);
      expect(nodesOf(await ledger.links.lineage('raw', { direction: 'down', at: { seq: 9 } })).map((n) => n[0])).toEqual(['raw', 'prep', 'clean']);
    });
  });

  it('the root must exist at that point (RECORD_NOT_FOUND); points beyond the ledger are AT_OUT_OF_RANGE', async () => {
    await withOpen(dir, async (ledger) => {
      expect(await codeOf(() => ledger.links.lineage('m', { at: { seq: 3 } }))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.links.lineage('m', { at: { seq: 4 } }))).toBe('no error');
      expect(await codeOf(() => ledger.links.lineage('ghost'))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.links.lineage('m', { at: { seq: 13 } }))).toBe('AT_OUT_OF_RANGE');
      expect(await codeOf(() => ledger.links.list('m', { at: { seq: 13 } }))).toBe('AT_OUT_OF_RANGE');
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Verification. The tamper ledger, event by event:
//   1 train (run) · 2 mnist (dataset) · 3 resnet (model)
//   4 train used mnist (train, v1) · 5 train generated resnet · 6 removed · 7 added again · 8 note
// ---------------------------------------------------------------------------------------------------------
const V = {
  used: { from: 'train', to: 'mnist', rel: 'used', role: 'train', split: 'v1' },
  generated: { from: 'train', to: 'resnet', rel: 'generated' },
  never: { from: 'mnist', to: 'resnet', rel: 'dependsOn' },
} as const satisfies Record<string, Link>;
const V_HEAD = 8;

async function buildTamperLedger(dir: string): Promise<void> {
  const ledger = await Ledger.create(dir, createOptions());
  try {
    await ledger.records.create('run', {}, { id: 'train' });
    await ledger.records.create('dataset', {}, { id: 'mnist' });
    await ledger.records.create('model', {}, { id: 'resnet' });
    await ledger.links.add(V.used);
    await ledger.links.add(V.generated);
    await ledger.links.remove(V.generated);
    await ledger.links.add(V.generated);
    expect((await ledger.append({ type: 'app.note', payload: {} })).seq).toBe(V_HEAD);
    expect((await ledger.verify()).failures).toEqual([]);
  } finally {
    await ledger.close();
  }
}

const ADD = encodeCanonical({ op: 'add' });
const REMOVE = encodeCanonical({ op: 'remove' });

describe('SPEC §19.4: a tampered link index entry is PROJECTION_MISMATCH', () => {
  const fresh = template(buildTamperLedger);

  it.each<{ name: string; edit: (ix: RawIndexes) => Promise<void>; expected: [number | null, string][] }>([
    { name: 'lu: the add of event 4 says remove', edit: (ix) => ix.lu.put(linkKey('lu', V.used, 4), REMOVE), expected: [[4, 'PROJECTION_MISMATCH']] },
    { name: 'ld: the add of event 4 is not CBOR', edit: (ix) => ix.ld.put(linkKey('ld', V.used, 4), new Uint8Array([0xff])), expected: [[4, 'PROJECTION_MISMATCH']] },
    { name: 'ld: the add of event 4 has an extra field', edit: (ix) => ix.ld.put(linkKey('ld', V.used, 4), encodeCanonical({ op: 'add', by: 'x' })), expected: [[4, 'PROJECTION_MISMATCH']] },
    { name: 'lu: the entry of event 4 is deleted', edit: (ix) => ix.lu.del(linkKey('lu', V.used, 4)), expected: [[4, 'PROJECTION_MISMATCH']] },
    { name: 'ld: the entry of event 7 is deleted', edit: (ix) => ix.ld.del(linkKey('ld', V.generated, 7)), expected: [[7, 'PROJECTION_MISMATCH']] },
    { name: 'lu: a stray add of a link never changed', edit: (ix) => ix.lu.put(linkKey('lu', V.never, V_HEAD), ADD), expected: [[null, 'PROJECTION_MISMATCH']] },
    { name: 'ld: a stray add of a link never changed', edit: (ix) => ix.ld.put(linkKey('ld', V.never, 3), ADD), expected: [[null, 'PROJECTION_MISMATCH']] },
    { name: 'lu: a stray entry whose key is not a link key', edit: (ix) => ix.lu.put(text.encode('train\0junk'), ADD), expected: [[null, 'PROJECTION_MISMATCH']] },
    {
      name: 'lu and ld: the add of event 4 moved to seq 8 (a note)',
      edit: async (ix) => {
        for (const index of ['lu', 'ld'] as const) {
          await ix[index].del(linkKey(index, V.used, 4));
          await ix[index].put(linkKey(index, V.used, V_HEAD), ADD);
        }
      },
      expected: [
        [4, 'PROJECTION_MISMATCH'],
        [null, 'PROJECTION_MISMATCH'],
        [null, 'PROJECTION_MISMATCH'],
      ],
    },
  ])('$name', async ({ edit, expected }) => {
    const dir = await fresh();
    await editIndexes(dir, edit);
    expect(await findings(dir)).toEqual({ ok: false, failures: expected });
    // A rebuild re-derives them, and verify is clean again.
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
  });

  it('a deleted remove entry is a mismatch at its seq, and the valid re-add after it is blamed on the index, never as LINK_BREAK', async () => {
    const dir = await fresh();
    await editIndexes(dir, (ix) => ix.lu.del(linkKey('lu', V.generated, 6)));
    // Event 7 re-adds the link; with event 6's entry gone it looks like an add while in place, but it is indexed,
    // so the index lacks what allowed it: the log is fine (SPEC §19.4).
    expect(await findings(dir)).toEqual({ ok: false, failures: [[6, 'PROJECTION_MISMATCH'], [7, 'PROJECTION_MISMATCH']] });
  });

  it('reads refuse a malformed entry with STORE_CORRUPT rather than serve it', async () => {
    const dir = await fresh();
    await editIndexes(dir, (ix) => ix.lu.put(linkKey('lu', V.used, 4), new Uint8Array([0xff])));
    await withOpen(dir, async (ledger) => {
      expect(await codeOf(() => ledger.links.list('train', { direction: 'up' }))).toBe('STORE_CORRUPT');
      expect(await codeOf(() => ledger.links.lineage('train'))).toBe('STORE_CORRUPT');
    });
  });
});

describe('SPEC §19.2, §19.4: forged, validly signed link events', () => {
  const fresh = template(buildTamperLedger);

  /** Appends the forged events signed by the owner, rebuilds the projections to fit them, and returns their seqs. */
  async function forge(dir: string, events: readonly { type: string; payload: JsonValue }[]): Promise<number[]> {
    const seqs = await appendForged(
      dir,
      events.map((e) => ({ ...e, key: ownerKey })),
    );
    await withOpen(dir, (ledger) => ledger.rebuild());
    return seqs;
  }

  /** The seqs of every lu and ld key, read from their last 8 bytes. */
  async function indexedSeqs(dir: string): Promise<number[]> {
    return editIndexes(dir, async (ix) => {
      const seqs: number[] = [];
      for (const name of ['lu', 'ld'] as const) for await (const key of ix[name].keys()) seqs.push(Number(new DataView(key.buffer, key.byteOffset + key.length - 8).getBigUint64(0)));
      return seqs;
    });
  }

  it('an add of a link already in place is LINK_BREAK at its seq, and a rebuild writes no index entry for it', async () => {
    const dir = await fresh();
    const [seq] = await forge(dir, [{ type: 'link.add', payload: V.used }]);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'LINK_BREAK']] });
    expect(await indexedSeqs(dir)).not.toContain(seq);
    // Reads keep the valid history: the link was added by event 4.
    expect(await withOpen(dir, (ledger) => ledger.links.list('train', { direction: 'up' }))).toContainEqual(edge(V.used, 4));
  });

  it.each([
    { name: 'a record never created', payload: { from: 'mnist', to: 'ghost', rel: 'dependsOn' } },
    { name: 'a record created only later', payload: { from: 'later', to: 'mnist', rel: 'dependsOn' } },
  ])('an add that names $name is LINK_BREAK and gets no index entry, so lineage never meets it', async ({ payload }) => {
    const dir = await fresh();
    const [seq] = await forge(dir, [
      { type: 'link.add', payload },
      { type: 'record.create', payload: { id: 'later', kind: 'dataset', version: 1, data: {} } },
    ]);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'LINK_BREAK']] });
    expect(await indexedSeqs(dir)).not.toContain(seq);
    await withOpen(dir, async (ledger) => expect((await ledger.links.lineage('mnist', { direction: 'down' })).nodes.map((n) => n.id)).not.toContain('later'));
  });

  it('a remove of a link never added is LINK_BREAK, and gets no index entry', async () => {
    const dir = await fresh();
    const [seq] = await forge(dir, [{ type: 'link.remove', payload: V.never }]);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'LINK_BREAK']] });
    expect(await indexedSeqs(dir)).not.toContain(seq);
  });

  it('a remove that follows the rules is indexed; the same remove again is LINK_BREAK', async () => {
    const dir = await fresh();
    const [first, second] = await forge(dir, [
      { type: 'link.remove', payload: V.generated },
      { type: 'link.remove', payload: V.generated },
    ]);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[second, 'LINK_BREAK']] });
    const seqs = await indexedSeqs(dir);
    expect(seqs.filter((s) => s === first)).toHaveLength(2);
    expect(seqs).not.toContain(second);
    expect(await withOpen(dir, (ledger) => ledger.links.list('resnet', { direction: 'up' }))).toEqual([]);
  });

  it.each<{ name: string; type: string; payload: JsonValue }>([
    { name: 'a self link', type: 'link.add', payload: { from: 'mnist', to: 'mnist', rel: 'dependsOn' } },
    { name: 'an unknown relation', type: 'link.add', payload: { from: 'mnist', to: 'resnet', rel: 'causes' } },
    { name: 'a role on a derivedFrom link', type: 'link.add', payload: { from: 'mnist', to: 'resnet', rel: 'derivedFrom', role: 'train' } },
    { name: 'an extra field', type: 'link.add', payload: { ...V.never, note: 1 } },
    { name: 'a missing end', type: 'link.add', payload: { from: 'mnist', rel: 'dependsOn' } },
    { name: 'a payload that is not a map', type: 'link.add', payload: 'mnist dependsOn resnet' },
    { name: 'a split with a NUL byte', type: 'link.add', payload: { from: 'train', to: 'mnist', rel: 'used', split: 'a\u0000b' } },
    { name: 'a remove with a role outside the list', type: 'link.remove', payload: { ...V.used, role: 'teacher' } },
  ])('a malformed link event is BAD_LINK_EVENT and indexed nowhere: $name ($type)', async ({ type, payload }) => {
    const dir = await fresh();
    const before = await dumpLinkIndexes(dir);
    const [seq] = await forge(dir, [{ type, payload }]);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'BAD_LINK_EVENT']] });
    expect(await dumpLinkIndexes(dir)).toEqual(before);
  });

  it('verify does not re-check acyclicity: a forged add that closes a cycle passes, and walks still visit each record once', async () => {
    const dir = await fresh();
    // mnist derivedFrom resnet: mnist → resnet → train → mnist.
    const [seq] = await forge(dir, [{ type: 'link.add', payload: { from: 'mnist', to: 'resnet', rel: 'derivedFrom' } }]);
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    await withOpen(dir, async (ledger) => {
      const up = await ledger.links.lineage('resnet');
      expect(up.nodes.map((n) => [n.id, n.depth])).toEqual([
        ['resnet', 0],
        ['train', 1],
        ['mnist', 2],
      ]);
      // Every link walked once, the one back to the root included.
      expect(up.edges).toEqual([edge(V.generated, 7), edge(V.used, 4), edge({ from: 'mnist', to: 'resnet', rel: 'derivedFrom' }, seq!)]);
      const down = await ledger.links.lineage('resnet', { direction: 'down' });
      expect(down.nodes.map((n) => [n.id, n.depth])).toEqual([
        ['resnet', 0],
        ['mnist', 1],
        ['train', 2],
      ]);
    });
  });
});
