/**
 * SPEC §11–§12 as properties: for random sequences of record commands, the projections agree with a plain
 * fold over the log (test/helpers/model.ts) now, at every version, at every seq and time, after replay to any
 * point, and after a rebuild, which must also be byte-identical.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { Ledger, type LedgerEvent } from '../src/index.js';
import { INDEX_NAMES } from '../src/projections/indexes.js';
import { LevelLogStore } from '../src/log/level-store.js';
import { ownerKey } from './helpers/events.js';
import { foldRecords, liveRecords } from './helpers/model.js';
import { withTempDir } from './helpers/tmp.js';

const ids = ['a', 'b', 'c', 'd'] as const;
const kinds = ['dataset', 'model'] as const;
const bodyArb = fc.record({ n: fc.integer({ min: 0, max: 9 }), tag: fc.constantFrom('x', 'y', 'z'), score: fc.constantFrom(0.5, 0.25, null) }, { requiredKeys: ['n'] });
const commandArb = fc.oneof(
  fc.record({ op: fc.constant('create' as const), id: fc.constantFrom(...ids), kind: fc.constantFrom(...kinds), data: bodyArb }),
  fc.record({ op: fc.constant('update' as const), id: fc.constantFrom(...ids), data: bodyArb }),
  fc.record({ op: fc.constant('patch' as const), id: fc.constantFrom(...ids), patch: fc.record({ tag: fc.constantFrom('p', null), extra: fc.constantFrom(1, 2) }) }),
  fc.record({ op: fc.constant('delete' as const), id: fc.constantFrom(...ids) }),
  fc.record({ op: fc.constant('note' as const) }),
);
type Command = typeof commandArb extends fc.Arbitrary<infer T> ? T : never;

async function apply(ledger: Ledger, command: Command): Promise<void> {
  try {
    switch (command.op) {
      case 'create':
        await ledger.records.create(command.kind, command.data, { id: command.id });
        break;
      case 'update':
        await ledger.records.update(command.id, command.data);
        break;
      case 'patch':
        await ledger.records.patch(command.id, command.patch);
        break;
      case 'delete':
        await ledger.records.delete(command.id);
        break;
      case 'note':
        await ledger.append({ type: 'app.note', payload: {} });
        break;
    }
  } catch (error) {
    // Refusals are part of the property: they must be the documented ones and must write nothing.
    expect(['RECORD_EXISTS', 'RECORD_NOT_FOUND', 'RECORD_DELETED']).toContain((error as { code?: string }).code);
  }
}

async function dumpIndexes(dir: string): Promise<string[]> {
  const store = await LevelLogStore.open(dir, { create: false });
  const lines: string[] = [];
  try {
    for (const name of INDEX_NAMES) for await (const entry of store.indexEntries(name)) lines.push(`${name} ${toHex(entry.key)} ${toHex(entry.value)}`);
  } finally {
    await store.close();
  }
  return lines;
}

describe('SPEC §12: projections equal the fold of the log', () => {
  it('for random command sequences: now, every version by number, seq and time, list, replay, and rebuild', async () => {
    await withTempDir(async (root) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 25 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }), async (commands, steps) => {
          const dir = join(root, `l${run++}`);
          let now = 1_800_000_000_000;
          let tick = 0;
          const ledger = await Ledger.create(dir, { key: ownerKey, sync: false, clock: () => (now += steps[tick++ % steps.length]!) });
          try {
            // Concurrent commands exercise decisions within one group commit; sequential ones across groups.
            const half = Math.floor(commands.length / 2);
            await Promise.all(commands.slice(0, half).map((c) => apply(ledger, c)));
            for (const command of commands.slice(half)) await apply(ledger, command);

            const events: LedgerEvent[] = [];
            for await (const event of ledger.events()) events.push(event);
            const model = foldRecords(events);

            // Now: list equals the live records of the fold, per kind too.
            const listed = [];
            for await (const r of ledger.records.list()) listed.push({ id: r.id, version: r.version, data: r.data });
            expect(listed).toEqual(liveRecords(model));
            for (const kind of kinds) {
              const ofKind = [];
              for await (const r of ledger.records.list({ kind })) ofKind.push(r.id);
              expect(ofKind).toEqual(liveRecords(model, kind).map((r) => r.id));
            }

            for (const [id, versions] of model) {
              // Versions are consecutive from 1, and the history lists exactly them.
              expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
              const history = [];
              for await (const h of ledger.records.history(id)) history.push({ version: h.version, seq: h.seq, data: h.data });
              expect(history).toEqual(versions.map((v) => ({ version: v.version, seq: v.seq, data: v.data })));
              for (const v of versions) {
                // Every version is readable by number and by the seq that wrote it.
                expect(await ledger.records.get(id, { version: v.version })).toMatchObject({ version: v.version, seq: v.seq, deleted: v.deleted, data: v.data });
                if (!v.deleted) {
                  expect(await ledger.records.get(id, { at: { seq: v.seq } })).toMatchObject({ version: v.version, data: v.data });
                  // By time: the state after the last event at or before this event's time.
                  const lastAtTime = events.filter((e) => e.timeMs <= v.timeMs).at(-1)!.seq;
                  const expected = versions.filter((w) => w.seq <= lastAtTime).at(-1)!;
                  if (!expected.deleted) expect((await ledger.records.get(id, { at: { timeMs: v.timeMs } })).version).toBe(expected.version);
                }
              }
            }

            // Replay to any k equals the fold of the first k events.
            for (let k = 0; k < events.length; k += Math.max(1, Math.floor(events.length / 6))) {
              const { seq, records } = await ledger.replay({ to: { seq: k } });
              expect(seq).toBe(k);
              const state = [];
              for await (const r of records) state.push({ id: r.id, version: r.version, deleted: r.deleted, data: r.data });
              const folded = foldRecords(events, k);
              const expected = [...folded.entries()]
                .map(([id, vs]) => ({ id, kind: vs.at(-1)!.kind, last: vs.at(-1)! }))
                .sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : 1) : a.kind < b.kind ? -1 : 1))
                .map(({ id, last }) => ({ id, version: last.version, deleted: last.deleted, data: last.data }));
              expect(state).toEqual(expected);
            }

            expect((await ledger.verify()).failures).toEqual([]);
            await ledger.close();

            // Rebuild gives byte-identical projections.
            const before = await dumpIndexes(dir);
            const reopened = await Ledger.open(dir);
            await reopened.rebuild();
            await reopened.close();
            expect(await dumpIndexes(dir)).toEqual(before);
          } finally {
            await ledger.close();
          }
        }),
        { numRuns: 25 },
      );
    });
  });
});
