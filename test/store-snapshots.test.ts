/**
 * SPEC §8.5: no LevelDB write commits while a snapshot is alive. classic-level gives every iterator, getMany and
 * clear a snapshot, and its LevelDB (1.20) can then lose keys to point lookups (google/leveldb#320), which is
 * how a rebuild of 200,000 events once left indexes that `get` could not find. These tests watch every native
 * call the store makes while a ledger is rebuilt, verified, audited, iterated and appended to all at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Level } from 'level';
import { toHex } from '../src/bytes.js';
import { LevelLogStore } from '../src/log/level-store.js';
import { Ledger } from '../src/index.js';
import { createOptions, template, withOpen } from './helpers/ledgers.js';
import { withTempDir } from './helpers/tmp.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;
type Proto = Record<string, Method>;

/** Wraps classic-level's methods to count live snapshots and writes in flight, and notes every overlap. */
function watchStore() {
  const proto = Level.prototype as unknown as Proto;
  const names = ['_iterator', '_get', '_getMany', '_has', '_hasMany', '_clear', '_chainedBatch', '_batch', '_put', '_del'] as const;
  const saved = Object.fromEntries(names.map((name) => [name, proto[name]!])) as Record<(typeof names)[number], Method>;
  const seen = { snapshots: 0, writes: 0, iterators: 0, gets: 0, getMany: 0, commits: 0 };
  const overlaps: string[] = [];
  let live = 0;
  let writing = 0;
  const snapshotStarts = (what: string) => {
    if (writing > 0) overlaps.push(`${what} opened while ${writing} write(s) were in flight`);
    live++;
    seen.snapshots++;
  };
  const write = (what: string, run: () => Promise<unknown>) => {
    if (live > 0) overlaps.push(`${what} while ${live} snapshot(s) were alive`);
    writing++;
    seen.writes++;
    return run().finally(() => writing--);
  };

  proto._iterator = function (this: unknown, ...args: unknown[]) {
    snapshotStarts('an iterator');
    seen.iterators++;
    const iterator = saved._iterator.apply(this, args) as { _close: Method };
    const close = iterator._close;
    let open = true;
    iterator._close = async function (this: unknown, ...closeArgs: unknown[]) {
      try {
        return await close.apply(this, closeArgs);
      } finally {
        if (open) live--;
        open = false;
      }
    };
    return iterator;
  };
  // classic-level takes a snapshot for each of these when it is called and releases it once the read ran.
  for (const name of ['_get', '_getMany', '_has', '_hasMany'] as const) {
    proto[name] = async function (this: unknown, ...args: unknown[]) {
      snapshotStarts(`a ${name.slice(1)}`);
      if (name === '_getMany') seen.getMany++;
      else seen.gets++;
      try {
        return await saved[name].apply(this, args);
      } finally {
        live--;
      }
    };
  }
  proto._clear = function (this: unknown, ...args: unknown[]) {
    snapshotStarts('a clear');
    return write('a clear deleted', async () => saved._clear.apply(this, args)).finally(() => live--);
  };
  for (const name of ['_batch', '_put', '_del'] as const) {
    proto[name] = function (this: unknown, ...args: unknown[]) {
      return write(`a ${name.slice(1)} was written`, async () => saved[name].apply(this, args));
    };
  }
  proto._chainedBatch = function (this: unknown, ...args: unknown[]) {
    const batch = saved._chainedBatch.apply(this, args) as { _write: Method };
    const commit = batch._write;
    batch._write = function (this: unknown, ...writeArgs: unknown[]) {
      seen.commits++;
      return write('a batch was written', async () => commit.apply(this, writeArgs));
    };
    return batch;
  };
  return {
    seen,
    overlaps,
    restore: () => Object.assign(proto, saved),
  };
}

async function buildLedger(dir: string): Promise<void> {
  const ledger = await Ledger.create(dir, createOptions());
  try {
    await ledger.records.create('dataset', { name: 'ds' }, { id: 'ds' });
    await ledger.records.create('model', { name: 'm' }, { id: 'm' });
    await ledger.links.add({ from: 'm', to: 'ds', rel: 'derivedFrom' });
    for (let round = 0; round < 6; round++) {
      await ledger.appendMany(Array.from({ length: 500 }, (_, i) => ({ type: 'app.metrics', payload: { round, i, loss: i / 7 } })));
      await ledger.records.update('m', { name: 'm', round });
    }
  } finally {
    await ledger.close();
  }
}

describe('no write commits while a LevelDB snapshot is alive (SPEC §8.5)', () => {
  const fresh = template(buildLedger, 'provledger-snapshots-');
  let watch: ReturnType<typeof watchStore>;
  beforeEach(() => {
    watch = watchStore();
  });
  afterEach(() => watch.restore());

  it('holds while a ledger is rebuilt, verified, audited, iterated and appended to at the same time', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const appends: Promise<unknown>[] = [];
      const append = (i: number) => appends.push(ledger.append({ type: 'app.note', payload: { i } }));
      let iterated = 0;
      const iterate = (async () => {
        for await (const event of ledger.events()) {
          // Writing between batches of a live iteration is allowed; it must not deadlock.
          if (event.seq % 250 === 0) append(event.seq);
          iterated++;
        }
      })();
      for (let i = 0; i < 20; i++) append(-i);
      // Point reads all along (each takes a snapshot in classic-level), beside group commits.
      const read = (async () => {
        for (let i = 0; i < 150; i++) {
          append(10_000 + i);
          // A record read during the rebuild is refused (STORE_CORRUPT), not answered from half-built indexes.
          const record = ledger.records.get('m').catch((error: { code?: string }) => {
            if (error.code !== 'STORE_CORRUPT') throw error;
          });
          await Promise.all([record, ledger.get(i), ledger.head()]);
        }
      })();
      const [rebuilt, verified, audited] = await Promise.all([ledger.rebuild(), ledger.verify(), ledger.audit(), iterate, read, ledger.records.update('ds', { name: 'ds', again: true })]);
      await Promise.all(appends);
      expect(rebuilt.events).toBeGreaterThan(3000);
      expect(verified.failures).toEqual([]);
      expect(audited.problems).toEqual([]);
      expect(iterated).toBeGreaterThan(3000);
      const final = await ledger.verify();
      expect(final.failures).toEqual([]);
      expect(final.checked).toBe(3000 + 3 + 6 + 1 + 1 + appends.length);
    });
    expect(watch.overlaps).toEqual([]);
    // The watch saw the store at work, so an empty list means something.
    expect(watch.seen.iterators).toBeGreaterThan(10);
    expect(watch.seen.getMany).toBeGreaterThan(5);
    expect(watch.seen.gets).toBeGreaterThan(5);
    expect(watch.seen.commits).toBeGreaterThan(10);
  }, 60_000);

  it('a rebuild deletes the old index entries without a snapshot-holding clear', async () => {
    const dir = await fresh();
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(watch.overlaps).toEqual([]);
    expect(watch.seen.writes).toBeGreaterThan(0);
    const after = await withOpen(dir, (ledger) => ledger.verify());
    expect(after.failures).toEqual([]);
  }, 60_000);
});

describe('whole-ledger passes see one state of the ledger', () => {
  const fresh = template(buildLedger, 'provledger-passes-');
  it('appends made during a rebuild wait for it, then commit, and the ledger verifies', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const before = (await ledger.head())!.seq;
      const rebuilding = ledger.rebuild();
      const appended = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.append({ type: 'app.note', payload: { i } })));
      const { events } = await rebuilding;
      // The rebuild saw the ledger as it was when it started: none of the appends made meanwhile.
      expect(events).toBe(before + 1);
      expect(appended.map((a) => a.seq)).toEqual(Array.from({ length: 10 }, (_, i) => before + 1 + i));
      const report = await ledger.verify();
      expect(report.failures).toEqual([]);
      expect(report.checked).toBe(before + 11);
    });
  }, 60_000);

  it('record reads while this process rebuilds are refused, not answered from half-built projections', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const during: Promise<unknown>[] = [];
      await ledger.rebuild({ onProgress: () => void during.push(ledger.records.get('m').then((answer) => answer, (error: unknown) => error)) });
      const outcomes = await Promise.all(during);
      expect(outcomes.length).toBeGreaterThan(0);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 'STORE_CORRUPT', message: expect.stringContaining('rebuild') });
      expect((await ledger.records.get('m')).version).toBe(7);
    });
  }, 60_000);

  it('appends requested before a pass, even in the same tick, commit first and are what it checks', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const head = (await ledger.head())!;
      const appending = Promise.all([ledger.append({ type: 'app.note', payload: { n: 1 } }), ledger.appendMany([{ type: 'app.note', payload: { n: 2 } }])]);
      const report = await ledger.verify();
      await appending;
      expect(report.failures).toEqual([]);
      expect(report.head?.seq).toBe(head.seq + 2);
    });
  }, 60_000);

  it('events() without `to` ends at the last event stored when it starts, however much the consumer appends', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const head = (await ledger.head())!;
      let read = 0;
      for await (const event of ledger.events()) {
        read++;
        if (event.seq % 100 === 0) await ledger.append({ type: 'app.note', payload: { after: event.seq } });
      }
      expect(read).toBe(head.seq + 1);
      expect((await ledger.head())!.seq).toBeGreaterThan(head.seq + 30);
    });
  }, 60_000);

  it('no pass starts once close has begun: it is refused as LEDGER_CLOSED, and the store is left whole', async () => {
    const dir = await fresh();
    const ledger = await Ledger.open(dir, { ...createOptions(), clock: () => Date.now() });
    const appended = ledger.append({ type: 'app.note', payload: {} });
    const closing = ledger.close();
    await expect(ledger.rebuild()).rejects.toMatchObject({ code: 'LEDGER_CLOSED' });
    await expect(ledger.verify()).rejects.toMatchObject({ code: 'LEDGER_CLOSED' });
    await closing;
    const { seq } = await appended;
    const report = await withOpen(dir, (l) => l.verify());
    expect(report.failures).toEqual([]);
    expect(report.checked).toBe(seq + 1);
  }, 60_000);

  it('a verify started before appends reports the head it started at, and close waits for it', async () => {
    const dir = await fresh();
    const ledger = await Ledger.open(dir, { ...createOptions(), clock: () => Date.now() });
    const head = (await ledger.head())!;
    const verifying = ledger.verify();
    const appending = ledger.append({ type: 'app.note', payload: {} });
    const closing = ledger.close();
    const report = await verifying;
    expect(report.ok).toBe(true);
    expect(report.head?.seq).toBe(head.seq);
    expect((await appending).seq).toBe(head.seq + 1);
    await closing;
    expect((await withOpen(dir, (l) => l.verify())).checked).toBe(head.seq + 2);
  }, 60_000);
});

describe('ranges read in batches, each from its own iterator, give exactly what one iterator would', () => {
  it('property: any bounds, direction and limit, across batch boundaries', async () => {
    await withTempDir(async (root) => {
      const store = await LevelLogStore.open(`${root}/store`, { create: true, sync: false });
      try {
        const keyOf = (i: number) => new Uint8Array([i >> 8, i & 255]);
        const all = Array.from({ length: 2600 }, (_, i) => i * 3);
        const entries = (keys: number[]) => keys.map((i) => ({ index: 'zz', key: keyOf(i), value: new Uint8Array([i & 7]) }));
        // Replaced over 6,000 older keys, so the deleting pass reads keys over more than one batch too.
        await store.replaceIndexes(['zz'], (put) => put(entries(Array.from({ length: 6000 }, (_, i) => i + 1000))));
        await store.replaceIndexes(['zz'], (put) => put(entries(all)));
        const bound = fc.option(fc.record({ at: fc.nat(7900), inclusive: fc.boolean() }), { nil: undefined });
        await fc.assert(
          fc.asyncProperty(bound, bound, fc.boolean(), fc.option(fc.nat(2700), { nil: undefined }), async (low, high, reverse, limit) => {
            const range = {
              ...(low === undefined ? {} : low.inclusive ? { gte: keyOf(low.at) } : { gt: keyOf(low.at) }),
              ...(high === undefined ? {} : high.inclusive ? { lte: keyOf(high.at) } : { lt: keyOf(high.at) }),
              ...(reverse ? { reverse } : {}),
              ...(limit === undefined ? {} : { limit }),
            };
            let expected = all.filter((i) => (low === undefined || (low.inclusive ? i >= low.at : i > low.at)) && (high === undefined || (high.inclusive ? i <= high.at : i < high.at)));
            if (reverse) expected = expected.reverse();
            if (limit !== undefined) expected = expected.slice(0, limit);
            const got: string[] = [];
            for await (const entry of store.indexEntries('zz', range)) got.push(toHex(entry.key));
            expect(got).toEqual(expected.map((i) => toHex(keyOf(i))));
          }),
          { numRuns: 60 },
        );
        expect(await store.indexCount('zz')).toBe(all.length);
      } finally {
        await store.close();
      }
    });
  }, 60_000);
});
