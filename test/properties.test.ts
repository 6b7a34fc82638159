/**
 * Invariants of the ledger as fast-check properties (SPEC §7): honest histories always verify, and any
 * single flipped byte in any stored event is caught, at the seq of that event.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uint64be } from '../src/bytes.js';
import { verifyChain } from '../src/chain/verify.js';
import type { JsonValue } from '../src/event/event.js';
import { Ledger } from '../src/index.js';
import { buildChain, ownerKey, T0, toEntries, verifyInThread } from './helpers/events.js';
import { editStore } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';

/** JSON values the profile accepts: fast-check's jsonValue minus `__proto__` keys and whole numbers beyond 2^53-1. */
const payloadArb: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 3, noUnicodeString: false })
  .filter((value) => JSON.stringify(value) !== undefined && !JSON.stringify(value).includes('"__proto__"'))
  .map((value) => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? 1.5 : v))) as JsonValue);
const typeArb = fc.stringMatching(/^app\.[a-z][a-z0-9_-]{0,12}$/);
const specArb = fc.record({ type: typeArb, payload: payloadArb, dt: fc.nat({ max: 5000 }) });

function chainFrom(specs: readonly { type: string; payload: JsonValue; dt: number }[]) {
  let ts = T0;
  return buildChain(specs.map((s) => ({ type: s.type, payload: s.payload, ts: (ts += s.dt) })));
}

describe('SPEC §7: any honest history verifies', () => {
  it('in memory, for random types, payloads and times', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { maxLength: 12 }), async (specs) => {
        const report = await verifyChain(toEntries(chainFrom(specs)), { verifySignatures: verifyInThread, chunkSize: 4 });
        expect(report.failures).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('through the library, for random mixes of append and appendMany issued concurrently', async () => {
    await withTempDir(async (root) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(fc.record({ type: typeArb, payload: payloadArb }), { minLength: 1, maxLength: 4 }), { maxLength: 8 }), async (groups) => {
          const ledger = await Ledger.create(join(root, `l${run++}`), { key: ownerKey, sync: false });
          try {
            const results = await Promise.all(groups.map((group) => (group.length === 1 ? ledger.append(group[0]!).then((r) => [r]) : ledger.appendMany(group))));
            const total = groups.reduce((n, g) => n + g.length, 0);
            expect(results.flat().map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
            // Each request's events are consecutive: appendMany is atomic and in order.
            for (const r of results) expect(r.map((x) => x.seq - r[0]!.seq)).toEqual(r.map((_, i) => i));
            const report = await ledger.verify();
            expect(report.failures).toEqual([]);
            expect(report.checked).toBe(total + 1);
            let i = 0;
            for await (const event of ledger.events({ from: 1 })) expect(event.payload).toEqual(groups.flat()[results.flat().findIndex((r) => r.seq === event.seq)]!.payload), i++;
            expect(i).toBe(total);
          } finally {
            await ledger.close();
          }
        }),
        { numRuns: 15 },
      );
    });
  });
});

describe('SPEC §7: any flipped byte in any stored event is caught at that event', () => {
  it('in memory, for every position of random chains', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (specs, pickEvent, pickByte, mask) => {
        const entries = toEntries(chainFrom(specs));
        const target = pickEvent % entries.length;
        const value = new Uint8Array(entries[target]!.value);
        value[pickByte % value.length]! ^= mask;
        entries[target] = { key: uint64be(target), value };
        const report = await verifyChain(entries, { verifySignatures: verifyInThread });
        expect(report.ok).toBe(false);
        expect(report.failures[0]!.seq).toBe(target);
      }),
      { numRuns: 300 },
    );
  });

  it('in LevelDB, through Ledger.verify (with the stored head in play)', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey, sync: false });
      await ledger.appendMany(Array.from({ length: 6 }, (_, n) => ({ type: 'app.note', payload: { n, text: 'provenance' } })));
      await ledger.close();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 6 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (seq, pickByte, mask) => {
          const original = new Uint8Array((await editStore(dir, ({ log }) => log.get(uint64be(seq))))!);
          const value = new Uint8Array(original);
          value[pickByte % value.length]! ^= mask;
          await editStore(dir, ({ log }) => log.put(uint64be(seq), value));
          try {
            const reopened = await Ledger.open(dir);
            const report = await reopened.verify();
            await reopened.close();
            expect(report.ok).toBe(false);
            expect(report.failures[0]!.seq).toBe(seq);
          } finally {
            await editStore(dir, ({ log }) => log.put(uint64be(seq), original));
          }
        }),
        { numRuns: 40 },
      );
      const restored = await Ledger.open(dir);
      expect((await restored.verify()).ok).toBe(true);
      await restored.close();
    });
  });
});
