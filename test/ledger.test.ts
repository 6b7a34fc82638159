/** SPEC §6–§8 through the library: create, append, read, verify, and what is refused. */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Ledger, LedgerError, type AppendInput } from '../src/index.js';
import { LevelLogStore } from '../src/log/level-store.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { editStore, seqKey } from './helpers/raw-store.js';
import { encodeCanonical } from '../src/codec/canonical.js';
import { withTempDir } from './helpers/tmp.js';

const note = (n: number): AppendInput => ({ type: 'app.note', payload: { n } });

async function withLedger<T>(use: (ledger: Ledger, dir: string) => Promise<T>, options: Parameters<typeof Ledger.create>[1] = { key: ownerKey }): Promise<T> {
  return withTempDir(async (root) => {
    const dir = join(root, 'ledger');
    const ledger = await Ledger.create(dir, options);
    try {
      return await use(ledger, dir);
    } finally {
      await ledger.close();
    }
  });
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toSatisfy((error: unknown) => error instanceof LedgerError && error.code === code);
}

describe('SPEC §4.1: create writes a genesis naming the ledger and its owner', () => {
  it('starts at seq 0 with a genesis by the owner', async () => {
    await withLedger(async (ledger) => {
      const genesis = await ledger.get(0);
      expect(genesis.type).toBe('ledger.genesis');
      expect(genesis.prev).toBe('0'.repeat(64));
      expect(genesis.author).toBe(ownerKey.publicKeyHex);
      expect(genesis.payload).toEqual({ ledger: ledger.id, owner: ownerKey.publicKeyHex });
      expect(await ledger.head()).toMatchObject({ seq: 0, hash: genesis.hash });
    });
  });

  it('refuses to create over an existing ledger or a non-empty directory', async () => {
    await withLedger(async (ledger, dir) => {
      await ledger.close();
      await expectCode(Ledger.create(dir, { key: ownerKey }), 'LEDGER_EXISTS');
      await expectCode(Ledger.create(join(dir, '..'), { key: ownerKey }), 'INVALID_ARGUMENT');
    });
  });

  it('refuses to open a missing ledger', async () => {
    await withTempDir(async (root) => expectCode(Ledger.open(join(root, 'nothing')), 'LEDGER_NOT_FOUND'));
  });
});

describe('SPEC §6: append', () => {
  it('assigns consecutive seqs, links each event to the one before, and reads them back', async () => {
    await withLedger(async (ledger) => {
      const first = await ledger.append(note(1));
      const [second, third] = await ledger.appendMany([note(2), { type: 'metrics.logged', payload: { loss: 0.125, ok: true, tags: ['a'] } }]);
      expect([first.seq, second!.seq, third!.seq]).toEqual([1, 2, 3]);
      const events = [];
      for await (const event of ledger.events({ from: 1 })) events.push(event);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events[1]!.prev).toBe(first.hash);
      expect(events[2]!.payload).toEqual({ loss: 0.125, ok: true, tags: ['a'] });
      expect((await ledger.head())!.hash).toBe(third!.hash);
      expect((await ledger.verify()).ok).toBe(true);
    });
  });

  it('survives close and reopen with the same head', async () => {
    await withLedger(async (ledger, dir) => {
      const last = await ledger.append(note(1));
      await ledger.close();
      const reopened = await Ledger.open(dir, { key: ownerKey });
      try {
        expect((await reopened.head())!.hash).toBe(last.hash);
        expect((await reopened.append(note(2))).seq).toBe(2);
      } finally {
        await reopened.close();
      }
    });
  });

  it('group-commits concurrent appends: consecutive seqs, fewer batches than appends', async () => {
    await withLedger(async (ledger) => {
      const commit = vi.spyOn(LevelLogStore.prototype, 'commit');
      try {
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => ledger.append(note(i))));
        expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        expect(commit.mock.calls.length).toBeLessThan(10);
      } finally {
        commit.mockRestore();
      }
      expect((await ledger.verify()).ok).toBe(true);
    });
  });

  it('fails one bad request of a group alone', async () => {
    await withLedger(async (ledger) => {
      const big = { type: 'app.blob', payload: 'x'.repeat(2000) };
      const outcomes = await Promise.allSettled([ledger.append(note(1)), ledger.append(big), ledger.append(note(3))]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((await ledger.head())!.seq).toBe(2);
      expect((await ledger.verify()).ok).toBe(true);
    }, { key: ownerKey, maxEventBytes: 1024 });
  });

  it('clamps a clock that steps backwards to the previous time (SPEC §4.3)', async () => {
    const times = [5_000, 9_000, 7_000];
    await withLedger(async (ledger) => {
      await ledger.append(note(1));
      const back = await ledger.append(note(2));
      expect(back.timeMs).toBe(9_000);
    }, { key: ownerKey, clock: () => times.shift() ?? 0 });
  });
});

describe('SPEC §6.2: what append refuses, leaving the ledger unchanged', () => {
  const cases: [string, AppendInput, string][] = [
    ['an invalid type', { type: 'Not Valid', payload: 1 }, 'INVALID_TYPE'],
    ['a reserved namespace', { type: 'ledger.genesis', payload: 1 }, 'INVALID_TYPE'],
    ['an unsafe integer', { type: 'app.x', payload: { n: 2 ** 53 } }, 'INVALID_PAYLOAD'],
    ['NaN', { type: 'app.x', payload: { n: Number.NaN } }, 'INVALID_PAYLOAD'],
    ['undefined', { type: 'app.x', payload: { n: undefined } }, 'INVALID_PAYLOAD'],
    ['bytes in a payload', { type: 'app.x', payload: { b: new Uint8Array(2) } }, 'INVALID_PAYLOAD'],
    ['a Date', { type: 'app.x', payload: new Date(0) }, 'INVALID_PAYLOAD'],
    ['a "__proto__" key', { type: 'app.x', payload: JSON.parse('{"a":1,"__proto__":{"b":2}}') as unknown }, 'INVALID_PAYLOAD'],
  ];
  it.each(cases)('refuses %s', async (_name, input, code) => {
    await withLedger(async (ledger) => {
      const before = await ledger.head();
      await expectCode(ledger.append(input), code);
      await expectCode(ledger.appendMany([note(1), input]), code);
      expect(await ledger.head()).toEqual(before);
      expect((await ledger.verify()).checked).toBe(1);
    });
  });

  it('refuses a key that is not the owner (KEY_NOT_AUTHORIZED) and a missing key (USAGE)', async () => {
    await withLedger(async (ledger, dir) => {
      await ledger.close();
      const intruder = await Ledger.open(dir, { key: otherKey });
      await expectCode(intruder.append(note(1)), 'KEY_NOT_AUTHORIZED');
      await intruder.close();
      const reader = await Ledger.open(dir);
      await expectCode(reader.append(note(1)), 'USAGE');
      expect((await reader.verify()).checked).toBe(1);
      await reader.close();
    });
  });

  it('refuses reads outside the log', async () => {
    await withLedger(async (ledger) => {
      await expectCode(ledger.get(5), 'EVENT_NOT_FOUND');
      await expectCode(ledger.get(-1), 'INVALID_ARGUMENT');
    });
  });

  it('refuses use after close', async () => {
    await withLedger(async (ledger) => {
      await ledger.close();
      await expectCode(ledger.append(note(1)), 'LEDGER_CLOSED');
      await expectCode(ledger.head(), 'LEDGER_CLOSED');
    });
  });
});

describe('SPEC §8.3: a second opener waits, then fails with LEDGER_LOCKED', () => {
  it('fails after the wait while the first holds the ledger, and succeeds once it closes', async () => {
    await withLedger(async (ledger, dir) => {
      await expectCode(Ledger.open(dir, { waitMs: 100 }), 'LEDGER_LOCKED');
      const waiting = Ledger.open(dir, { waitMs: 5_000 });
      setTimeout(() => void ledger.close(), 100);
      const second = await waiting;
      expect((await second.head())!.seq).toBe(0);
      await second.close();
    });
  });
});

describe('SPEC §7: tampering with stored bytes is detected', () => {
  it('reports a rewritten head and refuses to append onto it', async () => {
    await withLedger(async (ledger, dir) => {
      await ledger.appendMany([note(1), note(2)]);
      await ledger.close();
      await editStore(dir, ({ log }) => log.del(seqKey(2))); // truncate the log by one, leave the head alone
      const damaged = await Ledger.open(dir, { key: ownerKey });
      try {
        await expectCode(damaged.append(note(3)), 'STORE_CORRUPT');
        const report = await damaged.verify();
        // The projections still index the removed event, so they disagree with the log too. (Its leaf is not
        // stored, and it completed no stored tree node: SPEC §17.2.)
        expect(report.failures.map((f) => `${f.code}@${f.seq}`)).toEqual(['HEAD_MISMATCH@1', 'PROJECTION_MISMATCH@2']);
      } finally {
        await damaged.close();
      }
    });
  });

  it('reports a changed stored format version (META_MISMATCH) and refuses to append', async () => {
    await withLedger(async (ledger, dir) => {
      const id = ledger.id!;
      await ledger.close();
      await editStore(dir, ({ meta }) => meta.put(new TextEncoder().encode('ledger'), encodeCanonical({ id, owner: ownerKey.publicKey, version: 2 })));
      const reopened = await Ledger.open(dir, { key: ownerKey });
      try {
        await expectCode(reopened.append(note(1)), 'STORE_CORRUPT');
        expect((await reopened.verify()).failures.map((f) => `${f.code}@${f.seq}`)).toEqual(['META_MISMATCH@null']);
      } finally {
        await reopened.close();
      }
    });
  });

  it('reports a deleted middle event as SEQ_GAP and BAD_PREV', async () => {
    await withLedger(async (ledger, dir) => {
      await ledger.appendMany([note(1), note(2), note(3)]);
      await ledger.close();
      await editStore(dir, ({ log }) => log.del(seqKey(2)));
      const reopened = await Ledger.open(dir);
      const report = await reopened.verify();
      await reopened.close();
      // Tree leaves are positional, so the tree cannot be checked past the gap.
      expect(report.failures.map((f) => `${f.code}@${f.seq}`)).toEqual(['PROJECTION_MISMATCH@2', 'SEQ_GAP@3', 'BAD_PREV@3', 'TREE_MISMATCH@3']);
    });
  });
});
