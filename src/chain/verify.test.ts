/** SPEC §7: every verify step, one describe per rule, on in-memory chains. Tests assert codes, not messages. */
import { describe, expect, it } from 'vitest';
import { toHex, uint64be } from '../bytes.js';
import { encodeCanonical } from '../codec/canonical.js';
import { sealEvent } from '../event/event.js';
import { buildChain, LEDGER_ID, otherKey, ownerKey, T0, toEntries, verifyInThread, type ChainSpec } from '../../test/helpers/events.js';
import { verifyChain, type ChainVerifyOptions, type StoredEntry } from './verify.js';

const verify = (entries: Iterable<StoredEntry> | AsyncIterable<StoredEntry>, options: Partial<ChainVerifyOptions> = {}) =>
  verifyChain(entries, { verifySignatures: verifyInThread, ...options });
const codes = (report: { failures: readonly { code: string; seq: number | null }[] }) => report.failures.map((f) => `${f.code}@${f.seq}`);
const specs = (n: number): ChainSpec[] => Array.from({ length: n }, () => ({}));

describe('SPEC §7.1: a valid chain', () => {
  it('verifies with no failures and reports its head', async () => {
    const events = buildChain(specs(5));
    const report = await verify(toEntries(events));
    expect(report.ok).toBe(true);
    expect(report.checked).toBe(6);
    expect(report.head?.seq).toBe(5);
    expect(toHex(report.head!.hash)).toBe(toHex(events[5]!.hash));
    expect(report.ledgerId).toBe(LEDGER_ID);
  });

  it('verifies across chunk boundaries and reports progress', async () => {
    const seen: number[] = [];
    const report = await verify(toEntries(buildChain(specs(10))), { chunkSize: 3, onProgress: (n) => seen.push(n) });
    expect(report.ok).toBe(true);
    expect(seen).toEqual([3, 6, 9, 11]);
  });
});

describe('SPEC §7.1 step 1: storage keys are 8-byte seqs', () => {
  it('reports BAD_KEY_ENCODING for any other key', async () => {
    const entries = toEntries(buildChain(specs(2)));
    entries.push({ key: new Uint8Array([1, 2, 3]), value: new Uint8Array([0]) });
    expect(codes(await verify(entries))).toEqual(['BAD_KEY_ENCODING@null']);
  });
});

describe('SPEC §7.1: entries read in batches are checked exactly as entries read one by one', () => {
  async function* batchesOf(entries: readonly StoredEntry[], sizes: readonly number[]): AsyncIterable<readonly StoredEntry[]> {
    let at = 0;
    for (let i = 0; at < entries.length; i++) {
      const size = sizes[i % sizes.length]!;
      yield entries.slice(at, at + size);
      at += size;
    }
  }

  it('the same report for a damaged chain, whatever the batch sizes (empty batches included)', async () => {
    const entries = toEntries(buildChain(specs(12)));
    entries.splice(4, 1);
    entries[7] = { ...entries[7]!, value: entries[7]!.value.slice(0, -1) };
    const oneByOne = await verify(entries, { chunkSize: 3 });
    expect(codes(oneByOne).length).toBeGreaterThan(1);
    for (const sizes of [[1], [5], [2, 0, 7], [100]]) {
      const batched = await verifyChain({ batches: batchesOf(entries, sizes) }, { verifySignatures: verifyInThread, chunkSize: 3 });
      expect(codes(batched)).toEqual(codes(oneByOne));
      expect(batched.checked).toBe(oneByOne.checked);
      expect(toHex(batched.head!.hash)).toBe(toHex(oneByOne.head!.hash));
    }
  });

  it('a batch source that fails mid-way is a STORE_ERROR after what was read', async () => {
    const entries = toEntries(buildChain(specs(6)));
    async function* failing(): AsyncIterable<readonly StoredEntry[]> {
      yield entries.slice(0, 4);
      throw new Error('disk on fire');
    }
    const report = await verifyChain({ batches: failing() }, { verifySignatures: verifyInThread });
    expect(codes(report)).toEqual(['STORE_ERROR@3']);
    expect(report.checked).toBe(4);
  });
});

describe('SPEC §7.1 step 2: no seq is missing', () => {
  it('reports SEQ_GAP where events were removed, and the broken link after it', async () => {
    const entries = toEntries(buildChain(specs(4)));
    entries.splice(2, 1);
    expect(codes(await verify(entries))).toEqual(['SEQ_GAP@3', 'BAD_PREV@3']);
  });

  it('reports EMPTY for a log with no events', async () => {
    expect(codes(await verify([]))).toEqual(['EMPTY@null']);
  });

  it('reports a log that does not start at 0', async () => {
    const entries = toEntries(buildChain(specs(2))).slice(1);
    expect(codes(await verify(entries))).toContain('SEQ_GAP@1');
  });
});

describe('SPEC §7.1 step 3: strict decoding', () => {
  it('reports NON_CANONICAL for bytes that are not canonical CBOR, and follows the chain past them', async () => {
    const entries = toEntries(buildChain(specs(3)));
    entries[2] = { key: entries[2]!.key, value: new Uint8Array([0xa1, 0x61, 0x61, 0x18, 0x01]) }; // {"a": 1} with a non-shortest int
    expect(codes(await verify(entries))).toEqual(['NON_CANONICAL@2', 'BAD_PREV@3']);
  });

  it('reports MALFORMED_EVENT for canonical CBOR with an unknown field', async () => {
    const [genesis, first] = buildChain(specs(1));
    const bytes = encodeCanonical({ body: { ...first!.body, extra: 1 }, sig: first!.signature });
    expect(codes(await verify([...toEntries([genesis!]), { key: uint64be(1), value: bytes }]))).toEqual(['MALFORMED_EVENT@1']);
  });

  it('reports MALFORMED_EVENT for a missing field', async () => {
    const [genesis, first] = buildChain(specs(1));
    const { payload: _dropped, ...body } = first!.body;
    const bytes = encodeCanonical({ body, sig: first!.signature });
    expect(codes(await verify([...toEntries([genesis!]), { key: uint64be(1), value: bytes }]))).toEqual(['MALFORMED_EVENT@1']);
  });

  it('reports TOO_LARGE for events over the size limit', async () => {
    const entries = toEntries(buildChain([{ payload: { text: 'x'.repeat(600) } }]));
    expect(codes(await verify(entries, { maxEventBytes: 512 }))).toEqual(['TOO_LARGE@1']);
  });
});

describe('SPEC §7.1 step 4: an event is stored under its own seq', () => {
  it('reports SEQ_MISMATCH for a validly signed event stored under another seq', async () => {
    const events = buildChain([{}, { override: { seq: 7 } }]);
    expect(codes(await verify(toEntries(events).map((e, i) => ({ key: uint64be(i), value: e.value }))))).toEqual(['SEQ_MISMATCH@2']);
  });
});

describe('SPEC §7.1 step 5: prev is the hash of the event before', () => {
  it('reports BAD_PREV for a wrong link', async () => {
    const events = buildChain([{}, { override: { prev: new Uint8Array(32).fill(7) } }, {}]);
    expect(codes(await verify(toEntries(events)))).toEqual(['BAD_PREV@2']);
  });

  it('reports BAD_PREV for a genesis whose prev is not zero', async () => {
    const events = buildChain([]);
    const body = { ...events[0]!.body, prev: new Uint8Array(32).fill(1) };
    expect(codes(await verify(toEntries([sealEvent(body, ownerKey)])))).toEqual(['BAD_PREV@0']);
  });
});

describe('SPEC §4.3 / §7.1 step 6: time never goes backwards', () => {
  it('accepts equal times', async () => {
    expect((await verify(toEntries(buildChain([{ ts: T0 + 5 }, { ts: T0 + 5 }])))).ok).toBe(true);
  });

  it('reports TIME_REVERSED for an earlier time', async () => {
    expect(codes(await verify(toEntries(buildChain([{ ts: T0 + 5000 }, { ts: T0 + 4999 }]))))).toEqual(['TIME_REVERSED@2']);
  });
});

describe('SPEC §4.1 / §7.1 step 7: the genesis', () => {
  it('reports BAD_GENESIS when event 0 is not a genesis', async () => {
    const events = buildChain([]);
    const body = { ...events[0]!.body, type: 'app.start' };
    expect(codes(await verify(toEntries([sealEvent(body, ownerKey)])))).toEqual(['BAD_GENESIS@0']);
  });

  it('reports BAD_GENESIS when the genesis names an owner other than its author', async () => {
    const events = buildChain([]);
    const body = { ...events[0]!.body, payload: { ledger: LEDGER_ID, owner: otherKey.publicKeyHex } };
    expect(codes(await verify(toEntries([sealEvent(body, ownerKey)])))).toEqual(['BAD_GENESIS@0']);
  });

  it('reports BAD_GENESIS for a second genesis', async () => {
    const events = buildChain([{ type: 'ledger.genesis', payload: { ledger: LEDGER_ID, owner: ownerKey.publicKeyHex } }]);
    expect(codes(await verify(toEntries(events)))).toEqual(['BAD_GENESIS@1']);
  });
});

describe('SPEC §6 / §7.1 step 7: only active keys write', () => {
  it('reports UNAUTHORIZED for a validly signed event by another key', async () => {
    const events = buildChain([{}, { key: otherKey }, {}]);
    expect(codes(await verify(toEntries(events)))).toEqual(['UNAUTHORIZED@2']);
  });

  it('reports WEAK_KEY for an author key that fails the key rules', async () => {
    const [genesis, first] = buildChain(specs(1));
    const identity = new Uint8Array(32);
    identity[0] = 1; // the neutral point: small order
    const bytes = encodeCanonical({ body: { ...first!.body, author: identity }, sig: first!.signature });
    expect(codes(await verify([...toEntries([genesis!]), { key: uint64be(1), value: bytes }]))).toEqual(['UNAUTHORIZED@1', 'WEAK_KEY@1']);
  });
});

describe('SPEC §7.1 step 8: signatures', () => {
  it('reports BAD_SIGNATURE for a flipped signature bit, and the broken link after it', async () => {
    const events = buildChain(specs(3));
    const [, first] = events;
    const signature = new Uint8Array(first!.signature);
    signature[5]! ^= 0x01;
    const entries = toEntries(events);
    entries[1] = { key: uint64be(1), value: encodeCanonical({ body: first!.body, sig: signature }) };
    expect(codes(await verify(entries))).toEqual(['BAD_SIGNATURE@1', 'BAD_PREV@2']);
  });

  it('reports BAD_SIGNATURE for a changed payload re-linked by an attacker without the key', async () => {
    const events = buildChain(specs(1));
    const forged = encodeCanonical({ body: { ...events[1]!.body, payload: { n: 999 } }, sig: events[1]!.signature });
    expect(codes(await verify([...toEntries(events.slice(0, 1)), { key: uint64be(1), value: forged }]))).toEqual(['BAD_SIGNATURE@1']);
  });

  it('keeps failures in seq order when signatures finish after later chunks are decoded', async () => {
    const events = buildChain([...specs(4), { ts: 1 }]);
    const entries = toEntries(events);
    const tampered = encodeCanonical({ body: { ...events[1]!.body, payload: { n: -1 } }, sig: events[1]!.signature });
    entries[1] = { key: uint64be(1), value: tampered };
    const slow = async (jobs: Parameters<typeof verifyInThread>[0]) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return verifyInThread(jobs);
    };
    const report = await verify(entries, { chunkSize: 2, verifySignatures: slow });
    expect(codes(report)).toEqual(['BAD_SIGNATURE@1', 'BAD_PREV@2', 'TIME_REVERSED@5']);
  });
});

describe('SPEC §7.1 step 9: stored facts agree with the log', () => {
  const events = buildChain(specs(2));
  const head = { seq: 2, hash: events[2]!.hash, ts: events[2]!.body.ts };
  const stored = { head, ledgerId: LEDGER_ID, owner: ownerKey.publicKey, formatVersion: 1, rebuilding: false };

  it('accepts matching facts', async () => {
    expect((await verify(toEntries(events), { stored })).ok).toBe(true);
  });

  it('reports HEAD_MISMATCH for a stored head that is behind, ahead, has another time, or is missing', async () => {
    const ts = events[2]!.body.ts;
    for (const wrong of [{ seq: 1, hash: events[1]!.hash, ts }, { seq: 3, hash: events[2]!.hash, ts }, { ...head, ts: ts + 1 }, null]) {
      expect(codes(await verify(toEntries(events), { stored: { ...stored, head: wrong } }))).toEqual(['HEAD_MISMATCH@2']);
    }
  });

  it('reports META_MISMATCH for a different ledger id, owner or format version', async () => {
    expect(codes(await verify(toEntries(events), { stored: { ...stored, ledgerId: 'x' } }))).toEqual(['META_MISMATCH@null']);
    expect(codes(await verify(toEntries(events), { stored: { ...stored, owner: otherKey.publicKey } }))).toEqual(['META_MISMATCH@null']);
    expect(codes(await verify(toEntries(events), { stored: { ...stored, formatVersion: 0 } }))).toEqual(['META_MISMATCH@null']);
  });

  it('reports PROJECTION_MISMATCH while a rebuild is marked as interrupted (SPEC §12.5)', async () => {
    expect(codes(await verify(toEntries(events), { stored: { ...stored, rebuilding: true } }))).toEqual(['PROJECTION_MISMATCH@null']);
  });
});

describe('SPEC §7.4: --expect-head', () => {
  const events = buildChain(specs(3));

  it('accepts a head that is still in the ledger', async () => {
    expect((await verify(toEntries(events), { expectHead: { seq: 1, hash: events[1]!.hash } })).ok).toBe(true);
  });

  it('reports EXPECTED_HEAD for a rewritten event', async () => {
    expect(codes(await verify(toEntries(events), { expectHead: { seq: 1, hash: events[2]!.hash } }))).toEqual(['EXPECTED_HEAD@1']);
  });

  it('reports EXPECTED_HEAD for a truncated ledger', async () => {
    expect(codes(await verify(toEntries(events.slice(0, 2)), { expectHead: { seq: 3, hash: events[3]!.hash } }))).toEqual(['EXPECTED_HEAD@3']);
  });
});

describe('SPEC §7.3: the report', () => {
  it('counts every failure but keeps at most maxFailures', async () => {
    const events = buildChain(specs(6).map(() => ({ key: otherKey })));
    const report = await verify(toEntries(events), { maxFailures: 2 });
    expect(report.failureCount).toBe(6);
    expect(codes(report)).toEqual(['UNAUTHORIZED@1', 'UNAUTHORIZED@2']);
  });

  it('reports STORE_ERROR when the store fails mid-way, after what it could read', async () => {
    const events = buildChain(specs(2));
    async function* failing() {
      yield toEntries(events)[0]!;
      throw new Error('disk gone');
    }
    const report = await verify(failing());
    expect(codes(report)).toEqual(['STORE_ERROR@0']);
    expect(report.checked).toBe(1);
  });
});

describe('SPEC §14.3: events are judged by the keys valid just before them', () => {
  const add = (key: { publicKeyHex: string }, role: string, name?: string): ChainSpec => ({ type: 'key.add', payload: { key: key.publicKeyHex, role, ...(name === undefined ? {} : { name }) } });
  const revoke = (key: { publicKeyHex: string }): ChainSpec => ({ type: 'key.revoke', payload: { key: key.publicKeyHex } });

  it('accepts a writer the owner added, and a hand-over: new admin added, old one revoked', async () => {
    const events = buildChain([add(otherKey, 'writer', 'alice'), { key: otherKey }, add(otherKey, 'admin'), { ...revoke(ownerKey), key: otherKey }, { key: otherKey }]);
    expect(codes(await verify(toEntries(events)))).toEqual([]);
  });

  it('keeps what a key signed before its revocation valid, and reports KEY_REVOKED after it', async () => {
    const events = buildChain([add(otherKey, 'writer'), { key: otherKey }, revoke(otherKey), { key: otherKey }]);
    expect(codes(await verify(toEntries(events)))).toEqual(['KEY_REVOKED@4']);
  });

  it('reports NOT_ADMIN for a key change by a writer, and the change has no effect', async () => {
    const third = otherKey; // a writer trying to promote itself
    const events = buildChain([add(third, 'writer'), { ...add(third, 'admin'), key: third }, { ...revoke(ownerKey), key: third }]);
    // Event 3 is also a forbidden change in itself: the owner is the last admin.
    expect(codes(await verify(toEntries(events)))).toEqual(['NOT_ADMIN@2', 'NOT_ADMIN@3', 'BAD_KEY_EVENT@3']);
  });

  it('reports BAD_KEY_EVENT for revoking the last admin, re-adding a revoked key, and a malformed payload', async () => {
    expect(codes(await verify(toEntries(buildChain([revoke(ownerKey)]))))).toEqual(['BAD_KEY_EVENT@1']);
    expect(codes(await verify(toEntries(buildChain([add(otherKey, 'writer'), revoke(otherKey), add(otherKey, 'writer')]))))).toEqual(['BAD_KEY_EVENT@3']);
    expect(codes(await verify(toEntries(buildChain([{ type: 'key.add', payload: { key: 'nope', role: 'writer' } }]))))).toEqual(['BAD_KEY_EVENT@1']);
  });

  it('reports BAD_KEY_EVENT for adding a key that fails the key rules', async () => {
    const identity = `01${'00'.repeat(31)}`;
    expect(codes(await verify(toEntries(buildChain([{ type: 'key.add', payload: { key: identity, role: 'writer' } }]))))).toEqual(['BAD_KEY_EVENT@1']);
  });
});
