/**
 * Builders of in-memory chains for pure tests: sealed events with a fixed key and clock, as the
 * `StoredEntry` values that chain/verify consumes. No disk, no randomness unless asked.
 */
import { readFileSync } from 'node:fs';
import { uint64be } from '../../src/bytes.js';
import type { StoredEntry } from '../../src/chain/verify.js';
import { VerifyingKey } from '../../src/crypto/ed25519.js';
import { SigningKey } from '../../src/crypto/keys.js';
import { sealEvent, type EventBody, type JsonValue, type SealedEvent } from '../../src/event/event.js';
import { FORMAT_VERSION, GENESIS_PREV, GENESIS_TYPE } from '../../src/event/format.js';
import { genesisPayload } from '../../src/event/genesis.js';

export const ownerKey = SigningKey.fromPem(readFileSync(new URL('../../fixtures/keys/owner.pem', import.meta.url), 'utf8'));
export const otherKey = SigningKey.fromPem(readFileSync(new URL('../../fixtures/keys/other.pem', import.meta.url), 'utf8'));
export const LEDGER_ID = '2b0c6c1e-7a51-4c3e-9d8a-0f5e4b7c9a11';
export const T0 = 1_795_000_000_000;

export interface ChainSpec {
  type?: string;
  payload?: JsonValue;
  key?: SigningKey;
  ts?: number;
  /** Override body fields after linking (to build broken chains that are still validly signed). */
  override?: Partial<EventBody>;
}

/** A valid genesis followed by one event per spec, each linked to the one before. */
export function buildChain(specs: readonly ChainSpec[], owner: SigningKey = ownerKey): SealedEvent[] {
  const genesis = sealEvent(
    { v: FORMAT_VERSION, seq: 0, prev: GENESIS_PREV, ts: T0, type: GENESIS_TYPE, author: owner.publicKey, payload: genesisPayload({ ledgerId: LEDGER_ID, owner: owner.publicKey }) },
    owner,
  );
  const events = [genesis];
  specs.forEach((spec, i) => {
    const before = events[events.length - 1]!;
    const key = spec.key ?? owner;
    const body: EventBody = {
      v: FORMAT_VERSION,
      seq: i + 1,
      prev: before.hash,
      ts: spec.ts ?? T0 + (i + 1) * 1000,
      type: spec.type ?? 'app.note',
      author: key.publicKey,
      payload: spec.payload ?? { n: i + 1 },
      ...spec.override,
    };
    events.push(sealEvent(body, key));
  });
  return events;
}

export function toEntries(events: readonly SealedEvent[]): StoredEntry[] {
  return events.map((event) => ({ key: uint64be(event.body.seq), value: event.bytes }));
}

/** The in-thread signature verifier: the strict rule on the fast backend. */
export const verifyInThread = async (jobs: readonly { signature: Uint8Array; message: Uint8Array; key: VerifyingKey }[]) =>
  jobs.map((job) => job.key.verify(job.signature, job.message));
