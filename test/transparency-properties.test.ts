/**
 * SPEC §17.4–§17.6 as properties: every proof the ledger hands out verifies offline with only the owner's key
 * and says what it proves; any single change to a proof makes it fail, with a verdict and never an exception;
 * consistency holds between every pair of checkpoints of one ledger and fails against a fork or the wrong way
 * round; and a proof costs O(log n) reads, never a scan.
 *
 * One ledger of LEDGER_SIZE events is built once, with a checkpoint signed after every append, so "a ledger
 * of size k" is the tree of its checkpoint at size k. A fork of it (a copy taken at FORK_AT events that then
 * appends other events) gives checkpoints of the same origin and sizes with other roots.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventHash } from '../src/event/event.js';
import { LevelLogStore } from '../src/log/level-store.js';
import { Ledger, verifyConsistency, verifyInclusion, type AppendInput, type LedgerEvent, type TrustedKey } from '../src/index.js';
import { ownerKey } from './helpers/events.js';
import { withTempDir } from './helpers/tmp.js';
import { createOptions } from './helpers/ledgers.js';

const LEDGER_SIZE = 80;
const FORK_AT = 20;
const trustedKeys: TrustedKey[] = [{ publicKey: ownerKey.publicKey }];
const note = (n: number): AppendInput => ({ type: 'app.note', payload: { n } });

let root: string;
let ledger: Ledger;
/** checkpoints[k] is the checkpoint of the ledger at size k (1..LEDGER_SIZE). */
const checkpoints: string[] = [];
/** forkCheckpoints[k] is the fork's checkpoint at size k (FORK_AT + 1..LEDGER_SIZE). */
const forkCheckpoints: string[] = [];
const events: LedgerEvent[] = [];

/** Appends one event at a time up to `size`, signing a checkpoint after each. */
async function growTo(target: Ledger, size: number, into: string[], payloadBase: number): Promise<void> {
  for (let current = (await target.head())!.seq + 1; current < size; current++) {
    await target.append(note(payloadBase + current));
    into[current + 1] = await target.checkpoint();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'provledger-test-'));
  const [dir, forkDir] = [join(root, 'ledger'), join(root, 'fork')];
  ledger = await Ledger.create(dir, createOptions());
  checkpoints[1] = await ledger.checkpoint();
  await growTo(ledger, FORK_AT, checkpoints, 0);
  await ledger.close();
  await cp(dir, forkDir, { recursive: true });
  const fork = await Ledger.open(forkDir, createOptions());
  try {
    await growTo(fork, LEDGER_SIZE, forkCheckpoints, 10_000);
  } finally {
    await fork.close();
  }
  ledger = await Ledger.open(dir, createOptions());
  await growTo(ledger, LEDGER_SIZE, checkpoints, 0);
  for await (const event of ledger.events()) events.push(event);
  expect(events).toHaveLength(LEDGER_SIZE);
});

afterAll(async () => {
  await ledger?.close();
  await rm(root, { recursive: true, force: true });
});

/** A size of the shared ledger and a seq below it. */
const sizeAndSeq = fc.integer({ min: 1, max: LEDGER_SIZE }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));

/** The verdict's code, or 'ok'; a verifier that throws fails the property. */
function inclusionCode(text: string, extra: Partial<Parameters<typeof verifyInclusion>[1]> = {}): string {
  const verdict = verifyInclusion(text, { trustedKeys, ...extra });
  return verdict.ok ? 'ok' : verdict.code;
}

function consistencyCode(text: string): string {
  const verdict = verifyConsistency(text, { trustedKeys });
  return verdict.ok ? 'ok' : verdict.code;
}

/** The proof text as lines, for edits by line: header, extra, index, hashes, '', checkpoint lines. */
function hashLineRange(lines: readonly string[]): { first: number; end: number } {
  const first = lines.findIndex((line) => line.startsWith('index ')) + 1;
  return { first, end: lines.indexOf('', first) };
}

/** Replaces byte `at` of the UTF-8 text by itself XOR `mask`, decoding leniently (a broken sequence becomes U+FFFD). */
function flipByte(text: string, at: number, mask: number): string {
  const bytes = Buffer.from(text, 'utf8');
  const index = at % bytes.length;
  bytes[index] = bytes[index]! ^ mask;
  return bytes.toString('utf8');
}

/** A base64 hash line with bit `bit` (0..255) of the hash flipped, still canonical base64. */
function flipHashBit(line: string, bit: number): string {
  const hash = Buffer.from(line, 'base64');
  expect(hash).toHaveLength(32);
  hash[bit >> 3] = hash[bit >> 3]! ^ (1 << (bit & 7));
  return hash.toString('base64');
}

/** The consistency proof with its two checkpoints replaced. */
function withCheckpoints(proof: string, older: string, newer: string, newOlder: string, newNewer: string): string {
  const tail = `${older}\n${newer}`;
  expect(proof.endsWith(tail)).toBe(true);
  return `${proof.slice(0, proof.length - tail.length)}${newOlder}\n${newNewer}`;
}

describe('SPEC §17.4: every inclusion proof the ledger hands out verifies offline', () => {
  it('with only the owner\'s key, naming the index and the event it proves', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndSeq, async ([size, seq]) => {
        const proof = await ledger.proveInclusion(seq, checkpoints[size]);
        const verdict = verifyInclusion(proof, { trustedKeys, checkpoint: checkpoints[size] });
        expect(verdict).toMatchObject({ ok: true, index: seq, signedBy: [ownerKey.publicKeyHex] });
        const event = events[seq]!;
        expect(verdict.ok && verdict.event).toEqual({ seq, hash: event.hash, type: event.type, author: event.author, timeMs: event.timeMs });
        expect(verdict.ok && verdict.checkpoint.size).toBe(size);
      }),
      { numRuns: 60 },
    );
  });

  it('for a ledger of exactly that size, against a checkpoint signed on the spot', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 24 }), fc.nat(), async (size, pick) => {
        await withTempDir(async (dir) => {
          const fresh = await Ledger.create(join(dir, 'ledger'), createOptions());
          try {
            await fresh.appendMany(Array.from({ length: size - 1 }, (_, i) => note(i)));
            const seq = pick % size;
            const verdict = verifyInclusion(await fresh.proveInclusion(seq), { trustedKeys });
            expect(verdict).toMatchObject({ ok: true, index: seq, event: { seq, hash: (await fresh.get(seq)).hash }, checkpoint: { size } });
          } finally {
            await fresh.close();
          }
        });
      }),
      { numRuns: 8 },
    );
  });

  it('against only the checkpoint it was made for (CHECKPOINT_MISMATCH for another one the caller holds)', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndSeq, fc.integer({ min: 1, max: LEDGER_SIZE }), async ([size, seq], otherSize) => {
        fc.pre(otherSize !== size);
        const proof = await ledger.proveInclusion(seq, checkpoints[size]);
        expect(inclusionCode(proof, { checkpoint: checkpoints[otherSize] })).toBe('CHECKPOINT_MISMATCH');
      }),
      { numRuns: 20 },
    );
  });
});

describe('SPEC §17.6: any change to an inclusion proof makes it fail, with a verdict', () => {
  it('one byte of the proof text changed, anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndSeq, fc.nat(), fc.integer({ min: 1, max: 255 }), async ([size, seq], at, mask) => {
        const proof = await ledger.proveInclusion(seq, checkpoints[size]);
        const changed = flipByte(proof, at, mask);
        expect(changed).not.toBe(proof);
        expect(inclusionCode(changed)).not.toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('one bit of one proof hash changed, canonically re-encoded (INCLUSION_FAILED)', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndSeq.filter(([size]) => size > 1), fc.nat(), fc.integer({ min: 0, max: 255 }), async ([size, seq], pick, bit) => {
        const lines = (await ledger.proveInclusion(seq, checkpoints[size])).split('\n');
        const { first, end } = hashLineRange(lines);
        const at = first + (pick % (end - first));
        lines[at] = flipHashBit(lines[at]!, bit);
        expect(inclusionCode(lines.join('\n'))).toBe('INCLUSION_FAILED');
      }),
      { numRuns: 100 },
    );
  });

  it('a hash line dropped, or one added anywhere among them', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndSeq, fc.nat(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), async ([size, seq], pick, bytes, duplicate) => {
        const lines = (await ledger.proveInclusion(seq, checkpoints[size])).split('\n');
        const { first, end } = hashLineRange(lines);
        const count = end - first;
        if (count > 0) {
          const dropped = lines.toSpliced(first + (pick % count), 1);
          expect(inclusionCode(dropped.join('\n'))).toBe('INCLUSION_FAILED');
        }
        const extra = duplicate && count > 0 ? lines[first + (pick % count)]! : Buffer.from(bytes).toString('base64');
        const added = lines.toSpliced(first + (pick % (count + 1)), 0, extra);
        expect(inclusionCode(added.join('\n'))).toBe('INCLUSION_FAILED');
      }),
      { numRuns: 100 },
    );
  });

  it('the index line changed: the event says it is elsewhere (EVENT_INVALID), and without it the path fails (INCLUSION_FAILED)', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndSeq, fc.integer({ min: 0, max: LEDGER_SIZE + 4 }), async ([size, seq], index) => {
        fc.pre(index !== seq);
        const proof = await ledger.proveInclusion(seq, checkpoints[size]);
        const moved = proof.replace(/^index \d+$/m, `index ${index}`);
        expect(inclusionCode(moved)).toBe('EVENT_INVALID');
        // The same proof carrying no event, with the event's hash given instead: only the audit path can tell.
        const bare = moved.replace(/^extra .*\n/m, '');
        expect(inclusionCode(bare, { eventHash: eventHash(Buffer.from(proof.match(/^extra (.*)$/m)![1]!, 'base64')) })).toBe('INCLUSION_FAILED');
        expect(inclusionCode(proof.replace(/^extra .*\n/m, ''), { eventHash: Buffer.from(events[seq]!.hash, 'hex') })).toBe('ok');
      }),
      { numRuns: 100 },
    );
  });
});

describe('SPEC §17.4: consistency between checkpoints of one ledger', () => {
  it('holds for every pair of sizes m ≤ n, from the ledger and offline', async () => {
    for (let n = 1; n <= LEDGER_SIZE; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = await ledger.proveConsistency(checkpoints[m]!, checkpoints[n]!);
        const verdict = verifyConsistency(proof, { trustedKeys });
        if (!verdict.ok) expect.fail(`${m} → ${n}: ${verdict.code} ${verdict.message}`);
        expect([verdict.older.checkpoint.size, verdict.newer.checkpoint.size]).toEqual([m, n]);
      }
    }
  });

  it('fails the wrong way round: offline CONSISTENCY_FAILED, and the ledger refuses to make it (INVALID_ARGUMENT)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: LEDGER_SIZE - 1 }), fc.nat(), async (m, pick) => {
        const n = m + 1 + (pick % (LEDGER_SIZE - m));
        const [older, newer] = [checkpoints[m]!, checkpoints[n]!];
        const proof = await ledger.proveConsistency(older, newer);
        expect(consistencyCode(withCheckpoints(proof, older, newer, newer, older))).toBe('CONSISTENCY_FAILED');
        await expect(ledger.proveConsistency(newer, older)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }),
      { numRuns: 40 },
    );
  });

  it('fails against a fork: its checkpoint of the same size in place of either (CONSISTENCY_FAILED; the ledger says CHECKPOINT_MISMATCH)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: FORK_AT + 1, max: LEDGER_SIZE }), fc.nat(), async (m, pick) => {
        const n = m + (pick % (LEDGER_SIZE - m + 1));
        const [older, newer] = [checkpoints[m]!, checkpoints[n]!];
        const proof = await ledger.proveConsistency(older, newer);
        expect(consistencyCode(withCheckpoints(proof, older, newer, forkCheckpoints[m]!, newer))).toBe('CONSISTENCY_FAILED');
        expect(consistencyCode(withCheckpoints(proof, older, newer, older, forkCheckpoints[n]!))).toBe('CONSISTENCY_FAILED');
        await expect(ledger.proveConsistency(forkCheckpoints[m]!, newer)).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
      }),
      { numRuns: 40 },
    );
  });

  it('fails with one bit of one proof hash changed (CONSISTENCY_FAILED)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: LEDGER_SIZE - 1 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), async (m, pickN, pickHash, bit) => {
        const n = m + 1 + (pickN % (LEDGER_SIZE - m));
        const lines = (await ledger.proveConsistency(checkpoints[m]!, checkpoints[n]!)).split('\n');
        const count = lines.indexOf('') - 1;
        expect(count).toBeGreaterThan(0);
        lines[1 + (pickHash % count)] = flipHashBit(lines[1 + (pickHash % count)]!, bit);
        expect(consistencyCode(lines.join('\n'))).toBe('CONSISTENCY_FAILED');
      }),
      { numRuns: 100 },
    );
  });

  it('fails with any one byte of the proof changed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: LEDGER_SIZE }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (m, pick, at, mask) => {
        const n = m + (pick % (LEDGER_SIZE - m + 1));
        const proof = await ledger.proveConsistency(checkpoints[m]!, checkpoints[n]!);
        expect(consistencyCode(flipByte(proof, at, mask))).not.toBe('ok');
      }),
      { numRuns: 200 },
    );
  });
});

describe('SPEC §17.4: a proof costs O(log n) reads, never a scan', () => {
  it('reads a few nodes per level of the tree, in one or two batches', async () => {
    const spies = {
      indexGetMany: vi.spyOn(LevelLogStore.prototype, 'indexGetMany'),
      indexGet: vi.spyOn(LevelLogStore.prototype, 'indexGet'),
      get: vi.spyOn(LevelLogStore.prototype, 'get'),
      entries: vi.spyOn(LevelLogStore.prototype, 'entries'),
      indexEntries: vi.spyOn(LevelLogStore.prototype, 'indexEntries'),
      indexCount: vi.spyOn(LevelLogStore.prototype, 'indexCount'),
    };
    try {
      for (const [size, seq] of [[LEDGER_SIZE, 0], [LEDGER_SIZE, LEDGER_SIZE - 1], [LEDGER_SIZE, 37], [64, 63], [33, 32], [7, 3]] as const) {
        for (const spy of Object.values(spies)) spy.mockClear();
        await ledger.proveInclusion(seq, checkpoints[size]);
        const levels = Math.ceil(Math.log2(size)) + 1;
        const nodes = spies.indexGetMany.mock.calls.reduce((sum, [, keys]) => sum + keys.length, 0);
        expect(nodes, `size ${size}, seq ${seq}`).toBeLessThanOrEqual(2 * levels);
        expect(spies.indexGetMany.mock.calls.length).toBeLessThanOrEqual(2);
        // Log reads: the event, the checkpoint's last event, and leaves (not stored, SPEC §17.2): at most two on the
        // audit path (the sibling, a single-leaf right edge) and a single-leaf peak when the root is checked.
        expect(spies.get.mock.calls.length).toBeLessThanOrEqual(5);
        expect([spies.entries, spies.indexEntries, spies.indexCount, spies.indexGet].map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0, 0]);
      }
    } finally {
      for (const spy of Object.values(spies)) spy.mockRestore();
    }
  });
});
