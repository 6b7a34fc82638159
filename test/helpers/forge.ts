/**
 * Forging a ledger the way an attacker with the files (and some private keys) could: validly signed events
 * written straight into the `log` sublevel, re-chained so every hash fits, and the stored head moved to the
 * new last event. Nothing here judges who may write; that is what the tests check verify and audit for.
 * The caller rebuilds the projections (`ledger.rebuild()`) so that only the rule under test is broken.
 */
import { toHex } from '../../src/bytes.js';
import { decodeCanonical, encodeCanonical } from '../../src/codec/canonical.js';
import type { SigningKey } from '../../src/crypto/keys.js';
import { openEvent, sealEvent, type JsonValue, type SealedEvent } from '../../src/event/event.js';
import { FORMAT_VERSION } from '../../src/event/format.js';
import { editStore, seqKey, type RawSublevels } from './raw-store.js';

const HEAD_KEY = new TextEncoder().encode('head');
/** The signature's first byte in a stored envelope: map(2), "sig", bytes(64) come first (SPEC §3.6). */
const SIGNATURE_OFFSET = 7;

export interface ForgedEvent {
  readonly type: string;
  readonly payload: JsonValue;
  /** The key that signs it (and is named as its author). */
  readonly key: SigningKey;
}

interface RawHead {
  seq: number;
  hash: Uint8Array;
  ts: number;
}

async function readHead(meta: RawSublevels['meta']): Promise<RawHead> {
  return decodeCanonical((await meta.get(HEAD_KEY))!) as RawHead;
}

/**
 * Appends `events` after the stored head, each signed by its own key and linked to the one before, 1 s apart;
 * moves the stored head to the last. Returns the forged seqs. The ledger must be closed.
 */
export async function appendForged(dir: string, events: readonly ForgedEvent[]): Promise<number[]> {
  return editStore(dir, async ({ log, meta }) => {
    let head = await readHead(meta);
    const seqs: number[] = [];
    for (const { type, payload, key } of events) {
      const sealed = sealEvent({ v: FORMAT_VERSION, seq: head.seq + 1, prev: head.hash, ts: head.ts + 1000, type, author: key.publicKey, payload }, key);
      await log.put(seqKey(sealed.body.seq), sealed.bytes);
      head = { seq: sealed.body.seq, hash: sealed.hash, ts: sealed.body.ts };
      seqs.push(head.seq);
    }
    await meta.put(HEAD_KEY, encodeCanonical(head));
    return seqs;
  });
}

/**
 * Flips one bit of the signature of event `seq` (its body, and so its signed message, unchanged), then
 * re-chains every later event to the new hashes, re-signing each with its author's key from `signers`, and
 * moves the stored head. Only the signature of `seq` is left broken. The ledger must be closed.
 */
export async function breakSignature(dir: string, seq: number, signers: readonly SigningKey[]): Promise<void> {
  const byHex = new Map(signers.map((key) => [key.publicKeyHex, key]));
  await editStore(dir, async ({ log, meta }) => {
    const last = (await readHead(meta)).seq;
    const bytes = Uint8Array.from((await log.get(seqKey(seq)))!);
    bytes[SIGNATURE_OFFSET] = bytes[SIGNATURE_OFFSET]! ^ 0x01;
    await log.put(seqKey(seq), bytes);
    let previous: SealedEvent = openEvent(bytes);
    for (let next = seq + 1; next <= last; next++) {
      const { body } = openEvent((await log.get(seqKey(next)))!);
      const key = byHex.get(toHex(body.author));
      if (key === undefined) throw new Error(`breakSignature: no key given for the author of event ${next}`);
      previous = sealEvent({ ...body, prev: previous.hash }, key);
      await log.put(seqKey(next), previous.bytes);
    }
    await meta.put(HEAD_KEY, encodeCanonical({ seq: last, hash: previous.hash, ts: previous.body.ts }));
  });
}
