/**
 * SPEC §19 as a property: for random sequences of record creates and deletes and link adds and removes, some
 * issued together in one commit group (§6.3), a reference kept in this file (the link changes the library
 * accepted, and a breadth-first walk over them) predicts exactly which operations are refused and with which
 * code (§19.2), and every lineage and link list, at every seq, for every record then, in both directions (§19.3).
 * The link indexes hold exactly the entries SPEC §19.4 lays out, a rebuild gives them back byte for byte, and
 * verify is clean.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { encodeCanonical } from '../src/codec/canonical.js';
import { Ledger, type AppendResult, type Direction, type Lineage, type LineageEdge, type Link, type Relation } from '../src/index.js';
import { ownerKey } from './helpers/events.js';
import { dumpLinkIndexes, seqKey } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';

const IDS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
const KINDS = ['run', 'run', 'dataset', 'dataset', 'dataset', 'model', 'evaluation', 'context'] as const;
// Weighted towards the relations any kinds may take, so that enough links are accepted to close cycles.
const RELATIONS = ['used', 'used', 'generated', 'derivedFrom', 'derivedFrom', 'derivedFrom', 'memberOf', 'memberOf', 'memberOf', 'evaluates', 'dependsOn', 'dependsOn', 'dependsOn', 'dependsOn', 'inContext'] as const satisfies readonly Relation[];

const idArb = fc.constantFrom(...IDS);
const linkArb: fc.Arbitrary<Link> = fc
  .record({
    from: fc.nat({ max: IDS.length - 1 }),
    // Mostly another record; now and then the same one (a self link, INVALID_LINK).
    offset: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 12, arbitrary: fc.integer({ min: 1, max: IDS.length - 1 }) }),
    rel: fc.constantFrom(...RELATIONS),
    role: fc.constantFrom(undefined, undefined, 'train' as const),
    split: fc.constantFrom(undefined, undefined, undefined, 'v1'),
  })
  .map(({ from, offset, rel, role, split }) => ({
    from: IDS[from]!,
    to: IDS[(from + offset) % IDS.length]!,
    rel,
    ...(rel === 'used' && role !== undefined ? { role } : {}),
    ...(rel === 'used' && split !== undefined ? { split } : {}),
  }));
const createArb = fc.record({ op: fc.constant('create' as const), id: idArb, kind: fc.constantFrom(...KINDS) });
/** `again` names a link of an earlier add command (the pick-th, modulo), so removes and repeated adds meet links that exist. */
const stepArb = fc.oneof(
  { weight: 2, arbitrary: createArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), id: idArb }) },
  { weight: 20, arbitrary: fc.record({ op: fc.constant('add' as const), link: linkArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), link: linkArb }) },
  { weight: 7, arbitrary: fc.record({ op: fc.constantFrom('add' as const, 'remove' as const, 'remove' as const), again: fc.nat() }) },
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;
type Command = Exclude<Step, { again: number }>;
/** Each inner array is issued in one tick (one commit group); groups one after another. */
const groupsArb = fc.array(fc.array(stepArb, { minLength: 1, maxLength: 4, size: 'max' }), { minLength: 8, maxLength: 16 });
const initialArb = fc.uniqueArray(createArb, { selector: (c) => c.id, minLength: 5, maxLength: 6 });

/** Names the link of each `again` step from the add commands before it (never from what the library answered). */
function resolveSteps(groups: readonly (readonly Step[])[]): Command[][] {
  const added: Link[] = [];
  return groups.map((group) =>
    group.map((step): Command => {
      if (!('again' in step)) {
        if (step.op === 'add') added.push(step.link);
        return step;
      }
      if (added.length === 0) {
        const link: Link = { from: IDS[step.again % IDS.length]!, to: IDS[(step.again + 1) % IDS.length]!, rel: 'dependsOn' };
        added.push(link);
        return { op: 'add', link };
      }
      return { op: step.op, link: added[step.again % added.length]! };
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// The reference: records as lists of versions, links as the list of accepted changes. No indexes.
// ---------------------------------------------------------------------------------------------------------
const identity = (link: Link) => JSON.stringify([link.from, link.to, link.rel, link.role ?? '', link.split ?? '']);
/** SPEC §19.2: generated and memberOf make `to` depend on `from`; the others `from` depend on `to`. */
const orientOf = (link: Link) => (link.rel === 'generated' || link.rel === 'memberOf' ? { dependent: link.to, dependency: link.from } : { dependent: link.from, dependency: link.to });
const KIND_RULES: Partial<Record<Relation, { end: 'from' | 'to'; kind: string }>> = {
  used: { end: 'from', kind: 'run' },
  generated: { end: 'from', kind: 'run' },
  evaluates: { end: 'from', kind: 'evaluation' },
  inContext: { end: 'to', kind: 'context' },
};

class Reference {
  seq = 0;
  readonly records = new Map<string, { kind: string; versions: { seq: number; deleted: boolean }[] }>();
  readonly changes: { link: Link; op: 'add' | 'remove'; seq: number }[] = [];

  /** The code the library must refuse `command` with, or null when it must write it. */
  judge(command: Command): string | null {
    switch (command.op) {
      case 'create':
        return this.records.has(command.id) ? 'RECORD_EXISTS' : null;
      case 'delete': {
        const record = this.records.get(command.id);
        return record === undefined ? 'RECORD_NOT_FOUND' : record.versions.at(-1)!.deleted ? 'RECORD_DELETED' : null;
      }
      case 'remove':
        if (command.link.from === command.link.to) return 'INVALID_LINK';
        return this.isActive(command.link, this.seq) ? null : 'LINK_NOT_FOUND';
      case 'add': {
        const { link } = command;
        if (link.from === link.to) return 'INVALID_LINK';
        for (const end of [link.from, link.to]) {
          const record = this.records.get(end);
          if (record === undefined) return 'RECORD_NOT_FOUND';
          if (record.versions.at(-1)!.deleted) return 'RECORD_DELETED';
        }
        const rule = KIND_RULES[link.rel];
        if (rule !== undefined && this.records.get(link[rule.end])!.kind !== rule.kind) return 'INVALID_LINK';
        if (this.isActive(link, this.seq)) return 'LINK_EXISTS';
        const { dependent, dependency } = orientOf(link);
        if (link.rel !== 'inContext' && this.walk(dependency, 'up', this.seq).nodes.some((node) => node.id === dependent)) return 'LINK_CYCLE';
        return null;
      }
    }
  }

  /** Applies an accepted command as the event at the next seq. */
  apply(command: Command): number {
    const seq = ++this.seq;
    if (command.op === 'create') this.records.set(command.id, { kind: command.kind, versions: [{ seq, deleted: false }] });
    else if (command.op === 'delete') this.records.get(command.id)!.versions.push({ seq, deleted: true });
    else this.changes.push({ link: command.link, op: command.op, seq });
    return seq;
  }

  isActive(link: Link, atSeq: number): boolean {
    return this.changes.filter((c) => c.seq <= atSeq && identity(c.link) === identity(link)).at(-1)?.op === 'add';
  }

  /** The links in place at `atSeq`, each with the seq of the add that put it there. */
  inPlace(atSeq: number): LineageEdge[] {
    const last = new Map<string, { link: Link; op: string; seq: number }>();
    for (const change of this.changes) if (change.seq <= atSeq) last.set(identity(change.link), change);
    return [...last.values()].filter((c) => c.op === 'add').map((c) => ({ ...c.link, addedSeq: c.seq }));
  }

  /** The version of `id` current at `atSeq`, or null when it did not exist yet. */
  versionAt(id: string, atSeq: number): { version: number; deleted: boolean } | null {
    const versions = this.records.get(id)?.versions.filter((v) => v.seq <= atSeq) ?? [];
    return versions.length === 0 ? null : { version: versions.length, deleted: versions.at(-1)!.deleted };
  }

  /** Breadth first from `root` over the dependency links in place at `atSeq`: each record once, at its least depth. */
  walk(root: string, direction: Direction, atSeq: number): { nodes: { id: string; depth: number }[]; edges: LineageEdge[] } {
    const links = this.inPlace(atSeq).filter((l) => l.rel !== 'inContext');
    const near = (l: Link) => (direction === 'up' ? orientOf(l).dependent : orientOf(l).dependency);
    const far = (l: Link) => (direction === 'up' ? orientOf(l).dependency : orientOf(l).dependent);
    const nodes = [{ id: root, depth: 0 }];
    const edges: LineageEdge[] = [];
    const seen = new Set([root]);
    for (let frontier = [root], depth = 1; frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const link of links.filter((l) => near(l) === id)) {
          edges.push(link);
          if (seen.has(far(link))) continue;
          seen.add(far(link));
          next.push(far(link));
          nodes.push({ id: far(link), depth });
        }
      }
      frontier = next;
    }
    return { nodes, edges };
  }

  /** The links at one end of `id` at `atSeq`, inContext included: what `links.list` answers. */
  listOf(id: string, atSeq: number): LineageEdge[] {
    return this.inPlace(atSeq).filter((l) => orientOf(l).dependent === id || orientOf(l).dependency === id);
  }
}

// ---------------------------------------------------------------------------------------------------------

async function run(ledger: Ledger, command: Command): Promise<AppendResult> {
  switch (command.op) {
    case 'create':
      return ledger.records.create(command.kind, {}, { id: command.id });
    case 'delete':
      return ledger.records.delete(command.id);
    case 'add':
      return ledger.links.add(command.link);
    case 'remove':
      return ledger.links.remove(command.link);
  }
}

/** Issues one group in one tick; each outcome is the seq written or the code refused with. */
async function runGroup(ledger: Ledger, group: readonly Command[]): Promise<(number | string)[]> {
  const settled = await Promise.allSettled(group.map((command) => run(ledger, command)));
  return settled.map((s) => (s.status === 'fulfilled' ? s.value.seq : ((s.reason as { code?: string }).code ?? String(s.reason))));
}

const byJson = <T>(items: readonly T[]) => items.map((item) => JSON.stringify(item, Object.keys(item as object).sort())).sort();

/** A lineage as the reference states it: nodes as id, depth, version and deletion; edges as a set. */
function summarise(lineage: Lineage) {
  return {
    nodes: byJson(lineage.nodes.map((n) => ({ id: n.id, depth: n.depth, version: n.version, deleted: n.deleted }))),
    edges: byJson(lineage.edges),
  };
}

const text = new TextEncoder();
/** SPEC §19.4, written out: near ‖ 0 ‖ far ‖ 0 ‖ rel ‖ 0 ‖ role ‖ 0 ‖ split ‖ 0 ‖ seq (8 bytes) → {op}. */
function expectedLinkEntries(reference: Reference): string[] {
  const lines: string[] = [];
  for (const { link, op, seq } of reference.changes) {
    const { dependent, dependency } = orientOf(link);
    for (const [index, near, far] of [
      ['ld', dependency, dependent],
      ['lu', dependent, dependency],
    ] as const) {
      lines.push(`${index} ${toHex(text.encode(`${near}\0${far}\0${link.rel}\0${link.role ?? ''}\0${link.split ?? ''}\0`))}${toHex(seqKey(seq))} ${toHex(encodeCanonical({ op }))}`);
    }
  }
  return lines.sort();
}

describe('SPEC §19: links and lineage equal a reference walk over the accepted link changes', () => {
  it('for random creates, deletes, adds and removes (some in one commit group): every refusal, every seq, both directions, the indexes, rebuild and verify', async () => {
    await withTempDir(async (root) => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(initialArb, groupsArb, async (initial, groups) => {
          const dir = join(root, `l${runs++}`);
          const reference = new Reference();
          const ledger = await Ledger.create(dir, { key: ownerKey, sync: false });
          try {
            for (const group of [initial, ...resolveSteps(groups)]) {
              // The reference decides the group's commands in order, each after the ones before (SPEC §6.3).
              const expected = group.map((command) => reference.judge(command) ?? reference.apply(command));
              expect(await runGroup(ledger, group)).toEqual(expected);
            }
            expect((await ledger.head())!.seq).toBe(reference.seq);

            for (let seq = 0; seq <= reference.seq; seq++) {
              const at = { seq };
              for (const id of IDS) {
                if (reference.versionAt(id, seq) === null) {
                  await expect(ledger.links.lineage(id, { at })).rejects.toMatchObject({ code: 'RECORD_NOT_FOUND' });
                  continue;
                }
                expect(byJson(await ledger.links.list(id, { at }))).toEqual(byJson(reference.listOf(id, seq)));
                for (const direction of ['up', 'down'] as const) {
                  const lineage = await ledger.links.lineage(id, { at, direction });
                  const walked = reference.walk(id, direction, seq);
                  const nodes = walked.nodes.map((n) => ({ ...n, ...reference.versionAt(n.id, seq)! }));
                  expect(summarise(lineage)).toEqual({ nodes: byJson(nodes), edges: byJson(walked.edges) });
                  // Each path is a shortest one: it starts at the root, ends at the record, and follows links walked.
                  const walkedPairs = new Set(walked.edges.map((e) => (direction === 'up' ? [orientOf(e).dependent, orientOf(e).dependency] : [orientOf(e).dependency, orientOf(e).dependent]).join(' ')));
                  for (const node of lineage.nodes) {
                    expect(node.path).toHaveLength(node.depth + 1);
                    expect([node.path[0], node.path.at(-1)]).toEqual([id, node.id]);
                    for (let i = 1; i < node.path.length; i++) expect(walkedPairs).toContain(`${node.path[i - 1]} ${node.path[i]}`);
                  }
                }
              }
            }
            await ledger.close();

            // The indexes hold exactly the entries of the accepted changes; a rebuild gives them back byte for byte.
            const before = await dumpLinkIndexes(dir);
            expect([...before].sort()).toEqual(expectedLinkEntries(reference));
            const reopened = await Ledger.open(dir, { sync: false });
            try {
              await reopened.rebuild();
              expect((await reopened.verify()).failures).toEqual([]);
            } finally {
              await reopened.close();
            }
            expect(await dumpLinkIndexes(dir)).toEqual(before);
          } finally {
            await ledger.close();
          }
        }),
        { numRuns: 40 },
      );
    });
  });
});
