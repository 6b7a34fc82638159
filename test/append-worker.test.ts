/**
 * SPEC §6.3: large commit groups are signed on a worker thread. The bytes must be exactly those of signing in
 * the calling thread, and every rule of a group (one bad request fails alone, order, results) must hold the same.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger, type AppendResult } from '../src/index.js';
import { ownerKey } from './helpers/events.js';
import { createOptions, T } from './helpers/ledgers.js';
import { storeDigest } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';

/** The same writes, on a ledger that signs every group on the worker or none. */
async function write(dir: string, workerSigningFrom: number): Promise<(AppendResult | string)[]> {
  let tick = 0;
  const ledger = await Ledger.open(dir, { key: ownerKey, sync: false, clock: () => T + 10_000 + tick++, workerSigningFrom });
  try {
    const out: (AppendResult | string)[] = [];
    out.push(...(await ledger.appendMany(Array.from({ length: 300 }, (_, i) => ({ type: 'run.metrics', payload: { step: i, loss: 1 / (i + 1), tag: 'é'.repeat(i % 5) } })))));
    // One group of concurrent requests, one of them too large: it fails alone, the rest commit in order.
    const concurrent = await Promise.allSettled([
      ...Array.from({ length: 40 }, (_, i) => ledger.append({ type: 'app.note', payload: { i } })),
      ledger.append({ type: 'app.note', payload: { big: 'x'.repeat(1_100_000) } }),
      // A request that fails after 150 of its events were prepared (and, on the worker, already sent to it).
      ledger.appendMany([...Array.from({ length: 150 }, (_, i) => ({ type: 'app.bulk', payload: { i } })), { type: 'app.bulk', payload: { big: 'y'.repeat(1_100_000) } }]).then(() => 'unexpected'),
      ...Array.from({ length: 10 }, (_, i) => ledger.append({ type: 'app.after', payload: { i } })),
      ledger.records.create('dataset', { name: 'mnist' }, { id: 'mnist' }),
      ledger.records.update('mnist', { name: 'mnist', rows: 70_000 }).catch((error: Error) => error.message),
    ]);
    for (const outcome of concurrent) out.push(outcome.status === 'fulfilled' ? (outcome.value as AppendResult) : (outcome.reason as Error).message);
    // A group whose only failure is refused before any of its events was prepared: the run on the worker goes on.
    const second = await Promise.allSettled([
      ledger.appendMany(Array.from({ length: 100 }, (_, i) => ({ type: 'app.first', payload: { i } }))),
      ledger.append({ type: 'app.note', payload: { big: 'z'.repeat(1_100_000) } }),
      ledger.appendMany(Array.from({ length: 100 }, (_, i) => ({ type: 'app.second', payload: { i, s: 'é' } }))),
    ]);
    for (const outcome of second) out.push(outcome.status === 'fulfilled' ? JSON.stringify(outcome.value) : (outcome.reason as Error).message);
    return out;
  } finally {
    await ledger.close();
  }
}

describe('SPEC §6.3 groups signed on the worker are byte-identical to groups signed in this thread', () => {
  it('the same writes give the same store, byte for byte, the same results, and both verify', async () => {
    await withTempDir(async (root) => {
      const base = join(root, 'base');
      await (await Ledger.create(base, createOptions())).close();
      await cp(base, join(root, 'worker'), { recursive: true });
      await cp(base, join(root, 'inline'), { recursive: true });
      await cp(base, join(root, 'midway'), { recursive: true });
      const onWorker = await write(join(root, 'worker'), 1);
      const inline = await write(join(root, 'inline'), Number.POSITIVE_INFINITY);
      expect(onWorker).toEqual(inline);
      // A threshold met by a request announcing its size (300 events) or by the group part-way through it.
      expect(await write(join(root, 'midway'), 200)).toEqual(inline);
      expect(await storeDigest(join(root, 'midway'))).toBe(await storeDigest(join(root, 'inline')));
      expect(onWorker.filter((r) => typeof r === 'string' && r.includes('over the limit'))).toHaveLength(3);
      expect(await storeDigest(join(root, 'worker'))).toBe(await storeDigest(join(root, 'inline')));
      const ledger = await Ledger.open(join(root, 'worker'));
      try {
        const report = await ledger.verify();
        expect(report.failures).toEqual([]);
        expect(report.checked).toBe(1 + 300 + 40 + 10 + 2 + 200);
      } finally {
        await ledger.close();
      }
    });
  });

  it('workerSigningFrom must be a positive integer or Infinity', async () => {
    await withTempDir(async (root) => {
      for (const bad of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) {
        await expect(Ledger.create(join(root, `l${String(bad)}`), { ...createOptions(), workerSigningFrom: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
    });
  });

  it('a ledger closed right after a large append leaves no worker holding the process (close terminates it)', async () => {
    await withTempDir(async (root) => {
      const ledger = await Ledger.create(join(root, 'l'), { ...createOptions(), workerSigningFrom: 1 });
      await ledger.appendMany([{ type: 'app.a', payload: 1 }, { type: 'app.b', payload: 2 }]);
      await ledger.close();
      const again = await Ledger.open(join(root, 'l'));
      try {
        expect((await again.verify()).ok).toBe(true);
        expect((await again.head())?.seq).toBe(2);
      } finally {
        await again.close();
      }
    });
  });
});

describe('SPEC §5.9 / §6.3 what appendMany signs is what it checked, whatever the payload does when read again', () => {
  it('a getter that turns into a byte string after the first read: what is stored is JSON and verifies', async () => {
    await withTempDir(async (root) => {
      const ledger = await Ledger.create(join(root, 'l'), createOptions());
      try {
        let reads = 0;
        // The non-ASCII key sends the payload down the reference path, which reads it after the fast path gave up.
        const payload = {
          é: 1,
          get a(): unknown {
            reads++;
            return reads < 2 ? 'x' : new Uint8Array([1]);
          },
        };
        const [written] = await ledger.appendMany([{ type: 'app.note', payload }]);
        expect((await ledger.get(written!.seq)).payload).toEqual({ a: 'x', é: 1 });
        const proxied = new Proxy({ b: 'y' } as Record<string, unknown>, { get: (target, key) => (reads++ < 3 ? target[key as string] : Number.NaN) });
        const [second] = await ledger.appendMany([{ type: 'app.note', payload: proxied }]);
        expect((await ledger.get(second!.seq)).payload).toEqual({ b: 'y' });
        expect((await ledger.verify()).failures).toEqual([]);
      } finally {
        await ledger.close();
      }
    });
  });
});
