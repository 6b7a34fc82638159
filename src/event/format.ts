/**
 * The constants of the v1 event format (SPEC §3–§5). Changing any value here changes the bytes of every
 * ledger, so each one is pinned by golden fixtures. Imports only bytes helpers.
 */
import { utf8 } from '../bytes.js';

/** Value of the body's `v` field. A reader refuses any other value. */
export const FORMAT_VERSION = 1;

/** Default and hard ceiling for the size of one stored event (SPEC §3.4). */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** The genesis event's `prev`: 32 zero bytes (SPEC §4.1). */
export const GENESIS_PREV: Uint8Array = new Uint8Array(32);

/**
 * Domain-separation prefixes (SPEC §3.2, §3.3): an ASCII label naming the purpose and the format version,
 * then one 0x00 byte. Signatures and hashes made for one purpose can never be replayed as another.
 */
export const SIGNATURE_DOMAIN: Uint8Array = utf8.encode('provledger/v1/event-signature\0');
export const HASH_DOMAIN: Uint8Array = utf8.encode('provledger/v1/event-hash\0');

/** Event types written by provledger itself. */
export const GENESIS_TYPE = 'ledger.genesis';

/**
 * Namespaces reserved for event types that provledger defines (SPEC §4.2). `append` refuses them so that a
 * user's event can never be mistaken for a key change or a record version added by a later release.
 */
export const RESERVED_NAMESPACES = ['ledger', 'key', 'record', 'link', 'checkpoint', 'provledger'] as const;

/** Event type grammar (SPEC §4.2): dot-separated lower-case segments, at most 128 characters. */
export const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*$/;
export const MAX_TYPE_LENGTH = 128;

/** Largest event time: the last instant a JavaScript Date can hold (ECMA-262 §21.4.1.1), 8.64e15 ms. */
export const MAX_TIME_MS = 8_640_000_000_000_000;

/** Hash and key sizes in bytes. */
export const HASH_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
