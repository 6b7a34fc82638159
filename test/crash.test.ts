/**
 * SPEC §8 (durability): an append that has resolved survives a crash. A child process appends in a loop
 * (single appends and appendMany, three writers at once, so group commits happen) and acknowledges each
 * resolved append on stdout; we SIGKILL it at a random moment, reopen the ledger with the built library and
 * check that it verifies, that every acknowledged event is there with exactly the acknowledged hash, and that
 * the ledger still accepts appends.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey } from '../dist/index.js';
import { assertBuilt, killAfterAcks, makeLedger } from './helpers/cli.js';

/** Kill moments spread over 50–600 ms after the child is ready, each jittered so runs differ. */
const KILL_DELAYS_MS = [50, 150, 275, 400, 525, 600].map((base) => Math.max(50, Math.min(600, base + Math.round((Math.random() - 0.5) * 50))));
const MIN_ACKS = 3;

interface Ack {
  readonly seq: number;
  readonly hash: string;
}

/** Runs append-loop.mjs on `dir` and kills it with SIGKILL `delayMs` after it is ready (and has acked MIN_ACKS). */
async function appendUntilKilled(dir: string, keyPath: string, delayMs: number): Promise<Ack[]> {
  const acks = await killAfterAcks('append-loop.mjs', [dir, keyPath], { delayMs, minAcks: MIN_ACKS }, expect);
  return acks.map((ack) => {
    const match = /^(0|[1-9][0-9]*) ([0-9a-f]{64})$/.exec(ack);
    if (match === null) throw new Error(`unexpected ack from the child: ${JSON.stringify(ack)}`);
    return { seq: Number(match[1]), hash: match[2]! };
  });
}

beforeAll(() => {
  assertBuilt();
});

describe('an acknowledged append survives SIGKILL of the writer (SPEC §8)', () => {
  it.each(KILL_DELAYS_MS)('killed %i ms after it is ready: the ledger verifies, holds every acked event, and accepts appends', async (delayMs) => {
    const ledger = await makeLedger();
    try {
      const acks = await appendUntilKilled(ledger.dir, ledger.keyPath, delayMs);
      expect(acks.length).toBeGreaterThanOrEqual(MIN_ACKS);
      // Every acknowledged seq was acknowledged once, and the writer never reused a seq.
      expect(new Set(acks.map((a) => a.seq)).size).toBe(acks.length);

      const key = SigningKey.fromPem(await readFile(ledger.keyPath, 'utf8'));
      const reopened = await Ledger.open(ledger.dir, { key, waitMs: 5_000 });
      try {
        const report = await reopened.verify();
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);

        const stored = new Map<number, string>();
        for await (const event of reopened.events()) stored.set(event.seq, event.hash);
        const head = (await reopened.head())!;
        expect(report.checked).toBe(head.seq + 1);
        expect(stored.size).toBe(head.seq + 1);
        expect(head.seq).toBeGreaterThanOrEqual(Math.max(...acks.map((a) => a.seq)));
        const lost = acks.filter((a) => stored.get(a.seq) !== a.hash);
        expect(lost, `acknowledged events missing or different after the crash (${acks.length} acked, head ${head.seq})`).toEqual([]);

        const next = await reopened.append({ type: 'crash.recovered', payload: { delayMs } });
        expect(next.seq).toBe(head.seq + 1);
        expect((await reopened.get(next.seq)).prev).toBe(head.hash);
        expect((await reopened.verify()).ok).toBe(true);
      } finally {
        await reopened.close();
      }
    } finally {
      await ledger.cleanup();
    }
  });
});
