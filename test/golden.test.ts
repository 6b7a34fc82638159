/**
 * Golden fixtures of format v1 (SPEC §3, §8) must stay readable forever and be reproduced byte for byte.
 * The last describe is an independent verifier written from SPEC.md alone: cborg and node:crypto, none of
 * our code, so a drift between the spec and the implementation shows up here.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode as cborgDecode, encode as cborgEncode, rfc8949EncodeOptions } from 'cborg';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, uint64be } from '../src/bytes.js';
import { verifyChain } from '../src/chain/verify.js';
import { openEvent, sealEvent } from '../src/event/event.js';
import { Ledger } from '../src/index.js';
import { otherKey, ownerKey, verifyInThread } from './helpers/events.js';
import { withTempDir } from './helpers/tmp.js';

interface GoldenEvent {
  seq: number;
  type: string;
  ts: number;
  hash: string;
  signedMessage: string;
  bytes: string;
}
const golden = JSON.parse(await readFile(new URL('../fixtures/golden/v1-events.json', import.meta.url), 'utf8')) as {
  publicKey: string;
  ledgerId: string;
  head: { seq: number; hash: string };
  events: GoldenEvent[];
};
const bytesOf = (event: GoldenEvent) => fromHex(event.bytes)!;

describe('SPEC §3: golden v1 events decode, hash and re-seal identically', () => {
  it.each(golden.events.map((e) => [e.seq, e]))('event %i', (_seq, event) => {
    const opened = openEvent(bytesOf(event));
    expect(opened.body.seq).toBe(event.seq);
    expect(opened.body.type).toBe(event.type);
    expect(opened.body.ts).toBe(event.ts);
    expect(toHex(opened.hash)).toBe(event.hash);
    expect(toHex(opened.signedMessage)).toBe(event.signedMessage);
    const signer = toHex(opened.body.author) === ownerKey.publicKeyHex ? ownerKey : otherKey;
    expect(toHex(sealEvent(opened.body, signer).bytes)).toBe(event.bytes);
  });

  it('form a chain that verifies to the recorded head', async () => {
    const report = await verifyChain(golden.events.map((e) => ({ key: uint64be(e.seq), value: bytesOf(e) })), { verifySignatures: verifyInThread });
    expect(report.failures).toEqual([]);
    expect(toHex(report.head!.hash)).toBe(golden.head.hash);
    expect(report.ledgerId).toBe(golden.ledgerId);
  });
});

describe('SPEC §8, §17.8: the golden v1 LevelDB store opens, verifies, and upgrades to the Merkle tree', () => {
  it('has the recorded head, events and ledger id', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'store');
      await cp(new URL('../fixtures/golden/v1-store', import.meta.url), dir, { recursive: true });
      const ledger = await Ledger.open(dir);
      try {
        expect(ledger.id).toBe(golden.ledgerId);
        expect(ledger.owner).toBe(golden.publicKey);
        expect(await ledger.head()).toMatchObject(golden.head);
        for (const event of golden.events) expect((await ledger.get(event.seq)).hash).toBe(event.hash);
        // SPEC §12: the stored projections answer record questions without replaying the log.
        expect((await ledger.records.get('mnist')).data).toMatchObject({ note: 'corrected card' });
        expect((await ledger.records.get('mnist', { version: 1 })).seq).toBe(6);
        expect((await ledger.records.get('run-1', { at: { seq: 8 } })).data).toMatchObject({ state: 'COMPLETED' });
        await expect(ledger.records.get('run-1')).rejects.toMatchObject({ code: 'RECORD_DELETED' });
        // SPEC §14.4: who could write, at any point.
        const alice = (keys: { name: string | null; active: boolean; role: string }[]) => keys.find((k) => k.name === 'alice');
        expect(alice(await ledger.keys.list({ at: { seq: 12 } }))).toMatchObject({ role: 'writer', active: true });
        expect(alice(await ledger.keys.list())).toMatchObject({ active: false, reason: 'left the team', revokedSeq: 13 });
        // SPEC §17.8: the store predates the Merkle tree. Verify says so once; appends wait for a rebuild.
        const before = await ledger.verify();
        expect(before.failures.map((f) => f.code)).toEqual(['TREE_MISMATCH']);
        expect(before.failures[0]!.message).toMatch(/rebuild/);
        await expect(ledger.checkpoint({ key: ownerKey })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        await ledger.rebuild();
        expect((await ledger.verify()).failures).toEqual([]);
        // Once upgraded, the store can be checkpointed by its owner and proved against.
        const checkpoint = await ledger.checkpoint({ key: ownerKey });
        expect((await ledger.verify({ checkpoint })).ok).toBe(true);
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('SPEC §3: an independent verifier (cborg + node:crypto) accepts the golden chain', () => {
  const SIG_DOMAIN = Buffer.from('provledger/v1/event-signature\0', 'utf8');
  const HASH_DOMAIN = Buffer.from('provledger/v1/event-hash\0', 'utf8');
  const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

  it('checks canonical form, field set, links, times and signatures as SPEC §3 and §7 describe', () => {
    let prev = Buffer.alloc(32);
    let lastTs = 0;
    let owner: Uint8Array | undefined;
    for (const event of golden.events) {
      const bytes = Buffer.from(event.bytes, 'hex');
      const envelope = cborgDecode(bytes) as { body: Record<string, unknown>; sig: Uint8Array };
      expect(Buffer.from(cborgEncode(envelope, { ...rfc8949EncodeOptions, float64: true })).equals(bytes)).toBe(true);
      expect(Object.keys(envelope).sort()).toEqual(['body', 'sig']);
      const body = envelope.body;
      expect(Object.keys(body).sort()).toEqual(['author', 'payload', 'prev', 'seq', 'ts', 'type', 'v']);
      expect(body['v']).toBe(1);
      expect(Number(body['seq'])).toBe(event.seq);
      expect(Buffer.from(body['prev'] as Uint8Array).equals(prev)).toBe(true);
      expect(Number(body['ts'])).toBeGreaterThanOrEqual(lastTs);
      const author = body['author'] as Uint8Array;
      if (event.seq === 0) owner = author;
      // SPEC §14.3: the owner, or a key the owner added (here alice, between her key.add and key.revoke).
      expect([Buffer.from(owner!).toString('hex'), event.type === 'app.note' && event.seq === 12 ? otherKey.publicKeyHex : '']).toContain(Buffer.from(author).toString('hex'));
      const message = Buffer.concat([SIG_DOMAIN, cborgEncode(body, { ...rfc8949EncodeOptions, float64: true })]);
      const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, author]), format: 'der', type: 'spki' });
      expect(nodeVerify(null, message, key, envelope.sig)).toBe(true);
      prev = createHash('sha256').update(HASH_DOMAIN).update(bytes).digest();
      expect(prev.toString('hex')).toBe(event.hash);
      lastTs = Number(body['ts']);
    }
  });
});
