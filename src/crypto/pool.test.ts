/**
 * VerifyPool must answer exactly like VerifyingKey.verify, in input order, with and without worker threads.
 */

import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../bytes.js';
import { isLedgerError } from '../errors.js';
import { SigningKey } from './keys.js';
import { VerifyPool, type VerifyItem } from './pool.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const signers = Array.from({ length: 3 }, () => SigningKey.generate());

function addL(signature: Uint8Array): Uint8Array {
  const s = BigInt(`0x${Buffer.from(signature.slice(32)).reverse().toString('hex')}`) + L;
  return concatBytes(signature.subarray(0, 32), Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse());
}

/** A deterministic mix of valid and invalid items; kind = index mod 9. */
function mixedItems(count: number): VerifyItem[] {
  const items: VerifyItem[] = [];
  for (let i = 0; i < count; i++) {
    const signer = signers[i % signers.length]!;
    const message = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : 20 + (i % 300)));
    const signature = signer.sign(message);
    const key = signer.verifyingKey;
    switch (i % 9) {
      case 0:
      case 1:
        items.push({ signature, message, key });
        break;
      case 2: {
        const flipped = signature.slice();
        flipped[i % 64]! ^= 0x10;
        items.push({ signature: flipped, message, key });
        break;
      }
      case 3:
        items.push({ signature, message: concatBytes(message, new Uint8Array([1])), key });
        break;
      case 4:
        items.push({ signature: addL(signature), message, key });
        break;
      case 5:
        items.push({ signature: signature.subarray(0, 63), message, key });
        break;
      case 6:
        items.push({ signature, message, key: signers[(i + 1) % signers.length]!.verifyingKey });
        break;
      case 7: {
        // Buffers that are views at an offset into a bigger allocation, as LevelDB hands them out.
        const backing = Buffer.alloc(message.length + signature.length + 16);
        backing.set(signature, 5);
        backing.set(message, 5 + 64 + 3);
        items.push({
          signature: backing.subarray(5, 5 + 64),
          message: backing.subarray(5 + 64 + 3, 5 + 64 + 3 + message.length),
          key,
        });
        break;
      }
      default:
        items.push({ signature: new Uint8Array(64), message, key });
    }
  }
  return items;
}

function expected(items: readonly VerifyItem[]): boolean[] {
  return items.map((item) => item.key.verify(item.signature, item.message));
}

const pools: VerifyPool[] = [];
function makePool(threads: number): VerifyPool {
  const pool = VerifyPool.create({ threads });
  pools.push(pool);
  return pool;
}
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe.each([1, 2])('VerifyPool with threads = %i', (threads) => {
  const pool = makePool(threads);

  it('uses workers only when threads > 1', () => {
    expect(pool.threads).toBe(threads <= 1 ? 0 : threads);
  });

  it('matches VerifyingKey.verify on a mixed batch of 1,000, in input order', async () => {
    const items = mixedItems(1000);
    const want = expected(items);
    expect(want.filter(Boolean).length).toBeGreaterThan(200);
    expect(want.filter((ok) => !ok).length).toBeGreaterThan(200);
    expect(await pool.verify(items)).toEqual(want);
  });

  it('matches on small batches (0, 1 and 7 items) and when nothing passes rules 1-2', async () => {
    for (const items of [[], mixedItems(1), mixedItems(7)]) expect(await pool.verify(items)).toEqual(expected(items));
    const garbage = mixedItems(20).map((item) => ({ ...item, signature: new Uint8Array(10) }));
    expect(await pool.verify(garbage)).toEqual(new Array(20).fill(false));
  });

  it('keeps concurrent calls apart', async () => {
    const batches = [mixedItems(300), mixedItems(50), mixedItems(1200)];
    const results = await Promise.all(batches.map((items) => pool.verify(items)));
    expect(results).toEqual(batches.map(expected));
  });

  it('rejects a malformed item with TypeError', async () => {
    const [item] = mixedItems(1);
    await expect(pool.verify([{ ...item!, key: item!.key.bytes as never }])).rejects.toThrow(TypeError);
    await expect(pool.verify([{ ...item!, message: 'text' as never }])).rejects.toThrow(TypeError);
  });
});

describe('VerifyPool.create and close', () => {
  it('defaults to os.availableParallelism() threads', async () => {
    const pool = VerifyPool.create();
    expect(pool.threads).toBe(availableParallelism() <= 1 ? 0 : availableParallelism());
    await pool.close();
  });

  it.each([-1, 1.5, Number.NaN, '2'])('refuses threads = %j with INVALID_ARGUMENT', (threads) => {
    let thrown: unknown;
    try {
      VerifyPool.create({ threads: threads as number });
    } catch (error) {
      thrown = error;
    }
    expect(isLedgerError(thrown, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('rejects verify after close, and close is idempotent', async () => {
    const pool = VerifyPool.create({ threads: 2 });
    const items = mixedItems(10);
    expect(await pool.verify(items)).toEqual(expected(items));
    await pool.close();
    await pool.close();
    await expect(pool.verify(items)).rejects.toThrow('closed');
  });

  it('rejects pending verifications when closed mid-flight', async () => {
    const pool = VerifyPool.create({ threads: 2 });
    const pending = pool.verify(mixedItems(2000));
    const settled = pending.then(
      () => 'resolved',
      () => 'rejected',
    );
    await pool.close();
    expect(await settled).toBe('rejected');
  });
});
