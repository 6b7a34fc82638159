/**
 * The genesis event (SPEC §4.1): seq 0, prev all zeros, type `ledger.genesis`, naming the ledger id and the
 * owner's public key. Builds its payload and reads it back strictly.
 */
import { fromHex, toHex } from '../bytes.js';
import type { EventBody, JsonValue } from './event.js';
import { GENESIS_TYPE } from './format.js';

export interface GenesisInfo {
  /** Random UUID (RFC 9562 v4, lower case) naming this ledger. */
  readonly ledgerId: string;
  /** The owner's Ed25519 public key. */
  readonly owner: Uint8Array;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function genesisPayload(info: GenesisInfo): JsonValue {
  return { ledger: info.ledgerId, owner: toHex(info.owner) };
}

/**
 * Reads the genesis facts from an event body, or explains in one sentence why it is not a valid genesis.
 * The owner must be the author: the ledger's first key vouches for itself.
 */
export function readGenesis(body: EventBody): GenesisInfo | string {
  if (body.type !== GENESIS_TYPE) return `event 0 must have type "${GENESIS_TYPE}", found "${body.type}"`;
  const payload = body.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'the genesis payload must be a map';
  const keys = Object.keys(payload).sort();
  if (keys.length !== 2 || keys[0] !== 'ledger' || keys[1] !== 'owner') return 'the genesis payload must have exactly the keys "ledger" and "owner"';
  const { ledger, owner } = payload;
  if (typeof ledger !== 'string' || !UUID_PATTERN.test(ledger)) return 'the genesis "ledger" must be a lower-case version 4 UUID';
  const ownerBytes = typeof owner === 'string' && owner === owner.toLowerCase() ? fromHex(owner, 32) : undefined;
  if (ownerBytes === undefined) return 'the genesis "owner" must be 64 lower-case hex characters';
  if (toHex(body.author) !== owner) return 'the genesis must be signed by the owner it names';
  return { ledgerId: ledger, owner: ownerBytes };
}
