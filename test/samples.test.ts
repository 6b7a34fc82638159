/**
 * SPEC §21.5–§21.6 through the library: `ledger.samples.add` writes a set's chunks and its record in one atomic
 * run of events; `ledger.samples.prove` gives proofs that verify offline, for members only; verify checks the
 * chunk rules and the `ss` index, rebuild re-derives it byte for byte; a tampered index or chunk is reported by
 * verify and never yields a proof. Roots are recomputed here from the SPEC's text with node:crypto.
 *
 * The template ledger (seq: what):
 *   1–3 the three chunks of `big` (2·8192 + 100 samples)      4 record.create big (sample-set, version 1)
 *   5   the chunk of `lic` (60 samples, MIT and CC-BY-NC-4.0)  6 record.create lic
 *   7   artifact mnist (dataset)
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { decodeCanonical, encodeCanonical } from '../src/codec/canonical.js';
import { openEvent } from '../src/event/event.js';
import { Ledger, SAMPLE_CHUNK_SIZE, toSampleList, verifySampleProof, type SampleList } from '../src/index.js';
import { codeOf } from './helpers/codes.js';
import { ownerKey } from './helpers/events.js';
import { withTempDir } from './helpers/tmp.js';
import { appendForged } from './helpers/forge.js';
import { createOptions, dumpStore, findings, template, withOpen } from './helpers/ledgers.js';
import { editIndexes, editStore, seqKey } from './helpers/raw-store.js';

const fp = (n: number) => createHash('sha256').update(`sample ${n}`).digest('hex');
const BIG = 2 * SAMPLE_CHUNK_SIZE + 100;
const bigList = (): SampleList => toSampleList({ fingerprints: Array.from({ length: BIG }, (_, i) => fp(i)) });
const licList = (): SampleList => toSampleList({ fingerprints: Array.from({ length: 60 }, (_, i) => fp(100_000 + i)), licenses: Array.from({ length: 60 }, (_, i) => (i % 4 === 0 ? 'cc-by-nc-4.0' : 'MIT')) });
const trusted = [{ publicKey: ownerKey.publicKey }];

/** MTH over the sorted leaves, from SPEC §21.5 and RFC 9162 §2.1.1, independently of src. */
function rootOf(fingerprints: readonly string[], licenses?: readonly string[]): string {
  const sha = (...parts: (string | Uint8Array)[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
  const order = fingerprints.map((f, i) => [f, licenses?.[i]] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const leaves = order.map(([f, l]) => sha(Buffer.from([0]), 'provledger/v1/sample\0', Buffer.from(f, 'hex'), l ?? ''));
  const mth = (h: Buffer[]): Buffer => {
    if (h.length === 1) return h[0]!;
    let k = 1;
    while (k * 2 < h.length) k *= 2;
    return sha(Buffer.from([1]), mth(h.slice(0, k)), mth(h.slice(k)));
  };
  return mth(leaves).toString('hex');
}

const fresh = template(async (dir) => {
  const ledger = await Ledger.create(dir, createOptions());
  await ledger.samples.add({ name: 'big', samples: bigList() });
  await ledger.samples.add({ name: 'lic', samples: licList() });
  await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content: { sha256: fp(-1), size: 1 } });
  await ledger.close();
}, 'provledger-samples-');

describe('SPEC §21.5: add writes the chunks, then the record, as consecutive events of one request', () => {
  it('stores every fingerprint in order in record.samples events and rolls them into the root and count', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const events = [];
      for await (const event of ledger.events({ from: 1, to: 4 })) events.push(event);
      expect(events.map((e) => e.type)).toEqual(['record.samples', 'record.samples', 'record.samples', 'record.create']);
      const fingerprints = events.slice(0, 3).flatMap((e) => (e.payload as { fingerprints: string[] }).fingerprints);
      expect(fingerprints).toEqual([...Array.from({ length: BIG }, (_, i) => fp(i))].sort());
      expect(events.slice(0, 3).map((e) => { const { id, version, chunk, chunks } = e.payload as Record<string, unknown>; return [id, version, chunk, chunks]; })).toEqual([['big', 1, 0, 3], ['big', 1, 1, 3], ['big', 1, 2, 3]]);
      const big = await ledger.records.get('big');
      expect(big).toMatchObject({ kind: 'sample-set', version: 1, seq: 4, data: { name: 'big', root: rootOf(fingerprints), count: BIG, fingerprint: 'sha256' } });
    });
  });
  it('records each licence in the leaves, counts samples per licence and concludes their AND', async () => {
    const dir = await fresh();
    const lic = licList();
    const data = await withOpen(dir, async (ledger) => (await ledger.records.get('lic')).data);
    expect(data).toEqual({ name: 'lic', root: rootOf(lic.fingerprints, lic.licenses!), count: 60, fingerprint: 'sha256', sampleLicenses: { 'CC-BY-NC-4.0': 15, MIT: 45 }, license: { concluded: 'CC-BY-NC-4.0 AND MIT' } });
  });
});

describe('SPEC §21.5: the same samples write nothing; other samples write the next version', () => {
  it('is unchanged, store byte for byte, for the same set given in another order', async () => {
    const dir = await fresh();
    const before = await dumpStore(dir);
    const result = await withOpen(dir, (ledger) => ledger.samples.add({ name: 'lic', samples: { fingerprints: [...licList().fingerprints].reverse(), licenses: [...licList().licenses!].reverse() } }));
    expect(result).toMatchObject({ unchanged: true, version: 1, count: 60, chunks: 0 });
    expect(await dumpStore(dir)).toEqual(before);
  });
  it('writes version 2 with its own chunks; prove defaults to it and still proves version 1 on request', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const result = await ledger.samples.add({ name: 'lic', samples: { fingerprints: [fp(7), fp(8)] } });
      expect(result).toMatchObject({ id: 'lic', version: 2, unchanged: false, count: 2, chunks: 1, seq: 9 });
      const current = await ledger.records.get('lic');
      expect(current.data).toEqual({ name: 'lic', root: rootOf([fp(7), fp(8)]), count: 2, fingerprint: 'sha256' });
      expect((await ledger.samples.prove('lic', fp(8))).version).toBe(2);
      expect(await codeOf(() => ledger.samples.prove('lic', fp(100_001)))).toBe('SAMPLE_NOT_FOUND');
      const old = await ledger.samples.prove('lic', fp(100_001), { version: 1 });
      expect(verifySampleProof(old.text, { trustedKeys: trusted })).toMatchObject({ ok: true, version: 1, license: 'MIT' });
    });
    expect((await findings(dir)).ok).toBe(true);
  });
});

describe('SPEC §21.6: prove gives a proof that verifies offline, for members only', () => {
  it('proves members in every chunk, with their index among the sorted samples', async () => {
    const dir = await fresh();
    const sorted = bigList().fingerprints;
    await withOpen(dir, async (ledger) => {
      for (const index of [0, 1, SAMPLE_CHUNK_SIZE - 1, SAMPLE_CHUNK_SIZE, 2 * SAMPLE_CHUNK_SIZE + 7, BIG - 1]) {
        const proof = await ledger.samples.prove('big', sorted[index]!.toUpperCase());
        expect(proof).toMatchObject({ id: 'big', version: 1, index, count: BIG, seq: 4 });
        expect(verifySampleProof(proof.text, { trustedKeys: trusted })).toMatchObject({ ok: true, index, count: BIG, fingerprint: sorted[index] });
      }
    });
  });
  it('refuses a fingerprint below, between and above the members with SAMPLE_NOT_FOUND', async () => {
    const dir = await fresh();
    const sorted = bigList().fingerprints;
    const between = (BigInt(`0x${sorted[SAMPLE_CHUNK_SIZE]}`) + 1n).toString(16).padStart(64, '0');
    await withOpen(dir, async (ledger) => {
      for (const wanted of ['0'.repeat(64), between, 'f'.repeat(64)]) expect(await codeOf(() => ledger.samples.prove('big', wanted))).toBe('SAMPLE_NOT_FOUND');
    });
  });
  it('names what is wrong with the question', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      expect(await codeOf(() => ledger.samples.prove('big', 'abc'))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(() => ledger.samples.prove('nope', fp(1)))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.samples.prove('mnist', fp(1)))).toBe('INVALID_KIND');
      expect(await codeOf(() => ledger.samples.prove('big', fp(1), { version: 2 }))).toBe('VERSION_NOT_FOUND');
      // A version written by record update has no chunks: there is nothing to prove against.
      await ledger.records.update('big', { data: { name: 'big', root: 'ab'.repeat(32), count: 1, fingerprint: 'sha256' } });
      expect(await codeOf(() => ledger.samples.prove('big', fp(1), { version: 2 }))).toBe('INVALID_ARGUMENT');
      expect((await ledger.samples.prove('big', fp(1))).version).toBe(1);
    });
  });
});

describe('SPEC §21.5: refusals write nothing', () => {
  it.each([
    ['a duplicate sample', { name: 'x', samples: { fingerprints: [fp(1), fp(1)] } }, {}, 'INVALID_ARGUMENT'],
    ['an id of another kind', { name: 'mnist', samples: { fingerprints: [fp(1)] } }, {}, 'INVALID_KIND'],
    ['a name that is not an id, without --id', { name: 'a b', samples: { fingerprints: [fp(1)] } }, {}, 'INVALID_RECORD_ID'],
    ['a chunk above a lower event limit', { name: 'x', samples: { fingerprints: Array.from({ length: 100 }, (_, i) => fp(i)) } }, { maxEventBytes: 4096 }, 'EVENT_TOO_LARGE'],
  ] as const)('%s', async (_name, input, options, code) => {
    const dir = await fresh();
    const before = await dumpStore(dir);
    const ledger = await Ledger.open(dir, { key: ownerKey, sync: false, ...options });
    try {
      expect(await codeOf(() => ledger.samples.add(input))).toBe(code);
    } finally {
      await ledger.close();
    }
    expect(await dumpStore(dir)).toEqual(before);
  });
});

describe('SPEC §21.5, §12.5: verify passes, and rebuild re-derives the ss index byte for byte', () => {
  it('rebuilds an identical store', async () => {
    const dir = await fresh();
    const before = await dumpStore(dir);
    expect(before.some((line) => line.startsWith(toHex(new TextEncoder().encode('!i-ss!'))))).toBe(true);
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await dumpStore(dir)).toEqual(before);
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
  });
});

/** The `ss` key of chunk `chunk` of big@1. */
async function bigChunkKey(dir: string, chunk: number): Promise<Uint8Array> {
  return editIndexes(dir, async (ix) => {
    const keys: Uint8Array[] = [];
    for await (const key of ix.ss.keys()) if (new TextDecoder().decode(key).startsWith('big\0')) keys.push(key);
    return keys[chunk]!;
  });
}

describe('SPEC §21.5: a tampered ss index is reported by verify and never yields a proof', () => {
  it('a changed chunk root: PROJECTION_MISMATCH, and prove is STORE_CORRUPT', async () => {
    const dir = await fresh();
    const key = await bigChunkKey(dir, 1);
    await editIndexes(dir, async (ix) => {
      const value = decodeCanonical((await ix.ss.get(key))!) as { seq: number; root: Uint8Array };
      await ix.ss.put(key, encodeCanonical({ seq: value.seq, root: new Uint8Array(32).fill(7) }));
    });
    expect(await findings(dir)).toEqual({ ok: false, failures: [[4, 'PROJECTION_MISMATCH']] });
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.samples.prove('big', bigList().fingerprints[5]!)))).toBe('STORE_CORRUPT');
  });
  it('a removed chunk entry: PROJECTION_MISMATCH, and prove is STORE_CORRUPT', async () => {
    const dir = await fresh();
    const key = await bigChunkKey(dir, 2);
    await editIndexes(dir, (ix) => ix.ss.del(key));
    expect(await findings(dir)).toEqual({ ok: false, failures: [[4, 'PROJECTION_MISMATCH']] });
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.samples.prove('big', bigList().fingerprints[5]!)))).toBe('STORE_CORRUPT');
  });
  it('an entry pointing at another chunk event: prove is STORE_CORRUPT', async () => {
    const dir = await fresh();
    const [zero, one] = [await bigChunkKey(dir, 0), await bigChunkKey(dir, 1)];
    await editIndexes(dir, async (ix) => {
      const [a, b] = [await ix.ss.get(zero), await ix.ss.get(one)];
      await ix.ss.put(zero, b!);
      await ix.ss.put(one, a!);
    });
    expect((await findings(dir)).failures).toContainEqual([4, 'PROJECTION_MISMATCH']);
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.samples.prove('big', bigList().fingerprints[5]!)))).toBe('STORE_CORRUPT');
  });
  it('a chunk key naming another first sample: prove of a member of that chunk is STORE_CORRUPT, never SAMPLE_NOT_FOUND', async () => {
    const dir = await fresh();
    const key = await bigChunkKey(dir, 2);
    await editIndexes(dir, async (ix) => {
      const value = (await ix.ss.get(key))!;
      await ix.ss.del(key);
      const edited = new Uint8Array(key);
      edited.fill(0xff, edited.length - 32);
      await ix.ss.put(edited, value);
    });
    expect((await findings(dir)).ok).toBe(false);
    const member = bigList().fingerprints[2 * SAMPLE_CHUNK_SIZE + 7]!;
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.samples.prove('big', member)))).toBe('STORE_CORRUPT');
  });

  it('a stray entry: PROJECTION_MISMATCH with no seq', async () => {
    const dir = await fresh();
    await editIndexes(dir, (ix) => ix.ss.put(new TextEncoder().encode('ghost\0\0\0\0\x01'), encodeCanonical({ seq: 1, root: new Uint8Array(32) })));
    expect(await findings(dir)).toEqual({ ok: false, failures: [[null, 'PROJECTION_MISMATCH']] });
  });
});

describe('SPEC §21.5: a changed chunk event is caught at its seq and never proved from', () => {
  it('a fingerprint edited in the stored bytes: verify fails at that event, prove is STORE_CORRUPT', async () => {
    const dir = await fresh();
    const sorted = bigList().fingerprints;
    await editStore(dir, async ({ log }) => {
      const bytes = Buffer.from((await log.get(seqKey(2)))!);
      const at = bytes.indexOf(Buffer.from(sorted[SAMPLE_CHUNK_SIZE + 3]!));
      bytes[at] = bytes[at] === 0x30 ? 0x31 : 0x30;
      await log.put(seqKey(2), bytes);
    });
    const { ok, failures } = await findings(dir);
    expect(ok).toBe(false);
    // The signature no longer covers the bytes; the chunk may also read as malformed (its order broke).
    expect(failures).toContainEqual([2, 'BAD_SIGNATURE']);
    // Caught first at the edited event (the chain and tree checks then report the broken link after it).
    expect(failures[0]![0]).toBe(2);
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.samples.prove('big', sorted[SAMPLE_CHUNK_SIZE]!)))).toBe('STORE_CORRUPT');
  });
});

describe('SPEC §21.6: a record event whose signature was damaged on disk is never put in a proof', () => {
  it('one byte of the signature flipped: prove is STORE_CORRUPT (verify reports BAD_SIGNATURE)', async () => {
    const dir = await fresh();
    const recordSeq = 4;
    await editStore(dir, async ({ log }) => {
      const bytes = Buffer.from((await log.get(seqKey(recordSeq)))!);
      bytes[10] = bytes[10]! ^ 1; // inside the 64-byte signature, which starts at byte 7 (SPEC §3.6)
      await log.put(seqKey(recordSeq), bytes);
    });
    expect((await findings(dir)).failures).toContainEqual([recordSeq, 'BAD_SIGNATURE']);
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.samples.prove('big', bigList().fingerprints[5]!)))).toBe('STORE_CORRUPT');
  });
});

describe('SPEC §21.5: forged chunk runs break the rules, and rebuild indexes nothing for them', () => {
  const chunk = (id: string, version: number, index: number, chunks: number, fingerprints: string[]) => ({ type: 'record.samples', payload: { id, version, chunk: index, chunks, fingerprints }, key: ownerKey });
  const create = (id: string, data: Record<string, unknown>) => ({ type: 'record.create', payload: { id, kind: 'sample-set', version: 1, data: { name: id, fingerprint: 'sha256', ...data } }, key: ownerKey });
  const cases: [string, () => Parameters<typeof appendForged>[1], [number | null, string][]][] = [
    ['chunks without their record', () => [chunk('f', 1, 0, 1, [fp(1)])], [[8, 'SAMPLE_SET_BREAK']]],
    ['a record whose root is not its chunks\'', () => [chunk('f', 1, 0, 1, [fp(1)]), create('f', { root: 'ab'.repeat(32), count: 1 })], [[9, 'SAMPLE_SET_BREAK']]],
    ['a count that is not its chunks\'', () => [chunk('f', 1, 0, 1, [fp(1)]), create('f', { root: rootOf([fp(1)]), count: 2 })], [[9, 'SAMPLE_SET_BREAK']]],
    ['a chunk out of order', () => [chunk('f', 1, 1, 2, [fp(1)])], [[8, 'SAMPLE_SET_BREAK']]],
    ['an event between the chunks and the record', () => [chunk('f', 1, 0, 1, [fp(1)]), { type: 'app.note', payload: null, key: ownerKey }, create('f', { root: rootOf([fp(1)]), count: 1 })], [[9, 'SAMPLE_SET_BREAK']]],
    ['a malformed chunk', () => [chunk('f', 1, 0, 1, [fp(2), fp(1)].sort().reverse())], [[8, 'BAD_RECORD_EVENT']]],
  ];
  it.each(cases)('%s', async (_name, events, expected) => {
    const dir = await fresh();
    await appendForged(dir, events());
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await findings(dir)).toEqual({ ok: false, failures: expected });
  });
  it('a correct forged set verifies and is indexed by rebuild, so the rule above is what failed', async () => {
    const dir = await fresh();
    await appendForged(dir, [chunk('f', 1, 0, 1, [fp(1)]), create('f', { root: rootOf([fp(1)]), count: 1 })]);
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    expect(await withOpen(dir, async (ledger) => verifySampleProof((await ledger.samples.prove('f', fp(1))).text, { trustedKeys: trusted }).ok)).toBe(true);
  });
});

describe('SPEC §23.3: a model trained from a sample set sees its samples\' licences', () => {
  it('flags the non-commercial samples upstream, and a run takes the set as an input', async () => {
    const dir = await fresh();
    const report = await withOpen(dir, async (ledger) => {
      await ledger.runs.start({ kind: 'train', name: 'train', id: 'run-1', inputs: [{ id: 'lic', role: 'train' }] });
      await ledger.artifacts.add({ kind: 'model', name: 'model', content: { sha256: fp(-2), size: 2 } });
      await ledger.runs.finish('run-1', { status: 'completed', outputs: ['model'] });
      return ledger.provenance.licenses('model');
    });
    expect(report.records.map((r) => [r.id, r.license])).toEqual([['model', 'unknown'], ['lic', 'CC-BY-NC-4.0 AND MIT']]);
    expect(report.findings.map((f) => [f.code, f.recordId, f.license])).toEqual([['NON_COMMERCIAL_UPSTREAM', 'lic', 'CC-BY-NC-4.0']]);
  });
});

describe('SPEC §23.3: a summary of sample licences stands in only for a sample-set\'s own licence', () => {
  it('a dataset with a sampleLicenses field still counts its own non-commercial licence', async () => {
    await withTempDir(async (root) => {
      const ledger = await Ledger.create(join(root, 'l'), createOptions());
      try {
        await ledger.records.create('dataset', { name: 'nc', license: { concluded: 'CC-BY-NC-4.0' }, sampleLicenses: {} }, { id: 'nc' });
        await ledger.records.create('model', { name: 'm' }, { id: 'm' });
        await ledger.links.add({ from: 'm', to: 'nc', rel: 'derivedFrom' });
        const report = await ledger.provenance.licenses('m');
        expect(report.findings.map((f) => f.code)).toContain('NON_COMMERCIAL_UPSTREAM');
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('SPEC §21.6: a proof can carry the record event\'s inclusion in the ledger', () => {
  it('verifies against the checkpoint it carries, naming the checkpoint and the record event', async () => {
    const dir = await fresh();
    const text = await withOpen(dir, async (ledger) => (await ledger.samples.prove('lic', licList().fingerprints[0]!, { checkpoint: await ledger.checkpoint() })).text);
    expect(verifySampleProof(text, { trustedKeys: trusted })).toMatchObject({ ok: true, checkpoint: { size: 8 } });
    const { body } = openEvent(Buffer.from(text.split('\n')[1]!.slice('record '.length), 'base64'));
    expect(body.seq).toBe(6);
  });
});
