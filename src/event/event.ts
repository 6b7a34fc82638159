/**
 * One signed event: build its body, seal it (sign + envelope + hash), and open stored bytes strictly
 * (SPEC §3). Opening checks the bytes are one canonical, well-shaped v1 event; it does not judge the
 * signature or the chain, which need context (the key, the previous event) that `chain/` owns.
 */
import { concatBytes, equalBytes } from '../bytes.js';
import { decodeCanonical, encodeCanonical } from '../codec/canonical.js';
import { sha256 } from '../crypto/hash.js';
import type { SigningKey } from '../crypto/keys.js';
import { LedgerError } from '../errors.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  FORMAT_VERSION,
  HASH_BYTES,
  HASH_DOMAIN,
  MAX_TIME_MS,
  MAX_TYPE_LENGTH,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  SIGNATURE_DOMAIN,
  TYPE_PATTERN,
} from './format.js';

/** A JSON-compatible value: what payloads may hold (SPEC §3.5). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The signed part of an event (SPEC §3.1). */
export interface EventBody {
  readonly v: number;
  readonly seq: number;
  readonly prev: Uint8Array;
  readonly ts: number;
  readonly type: string;
  readonly author: Uint8Array;
  readonly payload: JsonValue;
}

/** An event together with the exact bytes that represent it. */
export interface SealedEvent {
  readonly body: EventBody;
  readonly signature: Uint8Array;
  /** The canonical envelope bytes, exactly as stored. */
  readonly bytes: Uint8Array;
  /** SHA-256 over HASH_DOMAIN ‖ bytes (SPEC §3.3). */
  readonly hash: Uint8Array;
  /** SIGNATURE_DOMAIN ‖ canonical(body): what the signature covers (SPEC §3.2). */
  readonly signedMessage: Uint8Array;
}

const BODY_KEYS = ['author', 'payload', 'prev', 'seq', 'ts', 'type', 'v'] as const;
const ENVELOPE_KEYS = ['body', 'sig'] as const;

/**
 * The fixed bytes around the signature in every canonical envelope (SPEC §3.6): map(2), "sig", bytes(64),
 * then after the signature "body". Keys sort shorter-first, so "sig" always precedes "body", and the body's
 * canonical bytes are exactly the envelope's tail from BODY_OFFSET.
 */
const ENVELOPE_HEAD = Uint8Array.of(0xa2, 0x63, 0x73, 0x69, 0x67, 0x58, 0x40);
const BODY_KEY = Uint8Array.of(0x64, 0x62, 0x6f, 0x64, 0x79);
const BODY_OFFSET = ENVELOPE_HEAD.length + SIGNATURE_BYTES + BODY_KEY.length;

/** The hash of stored event bytes (SPEC §3.3). Defined over raw bytes so a broken event still has one. */
export function eventHash(bytes: Uint8Array): Uint8Array {
  return sha256(HASH_DOMAIN, bytes);
}

/** The bytes a signature covers: SIGNATURE_DOMAIN ‖ canonical CBOR of the body (SPEC §3.2). */
export function signingMessage(bodyBytes: Uint8Array): Uint8Array {
  return concatBytes(SIGNATURE_DOMAIN, bodyBytes);
}

/** True when `type` follows the grammar of SPEC §4.2. */
export function isValidType(type: string): boolean {
  return type.length <= MAX_TYPE_LENGTH && TYPE_PATTERN.test(type);
}

/** An event encoded and size-checked but not yet signed: its `prev` is written in at `prevOffset` when known. */
export interface UnsignedEvent {
  /** The body, whose `prev` is a placeholder until the event is sealed. */
  readonly body: EventBody;
  /** Canonical body bytes with the placeholder `prev`; owned by the sealer, which writes the real one in. */
  readonly bodyBytes: Uint8Array;
  /** Where the 32 bytes of `prev` sit in `bodyBytes`. */
  readonly prevOffset: number;
}

/** The `prev` of an event prepared before its predecessor was signed: a placeholder, never stored. */
export const PREV_UNKNOWN: Uint8Array = new Uint8Array(HASH_BYTES);

/**
 * The event chain as ChainSigner sees it (SPEC §3.2, §3.3): each body is signed under SIGNATURE_DOMAIN, and the
 * hash of its envelope, SHA-256(HASH_DOMAIN ‖ ENVELOPE_HEAD ‖ signature ‖ BODY_KEY ‖ body), is the next prev.
 */
export const EVENT_CHAIN_LAYOUT = { signaturePrefix: SIGNATURE_DOMAIN, hashPrefix: concatBytes(HASH_DOMAIN, ENVELOPE_HEAD), hashMiddle: BODY_KEY } as const;

/** The canonical bytes just before `prev`'s value: text "prev", then a 32-byte byte string head. */
const PREV_MARKER = Uint8Array.of(0x64, 0x70, 0x72, 0x65, 0x76, 0x58, 0x20);
/** What the envelope adds to the body: its fixed head, the signature and the "body" key (SPEC §3.6). */
export const ENVELOPE_OVERHEAD = BODY_OFFSET;

/**
 * Encodes `body` and checks its size, leaving `prev` to be filled in when the previous event's hash is known.
 * This is what lets a group of events be encoded before any of them is signed (SPEC §6.3).
 * @throws LedgerError INVALID_PAYLOAD when the payload is not JSON-compatible; EVENT_TOO_LARGE over `maxBytes`.
 */
export function prepareEvent(body: EventBody, maxBytes = DEFAULT_MAX_EVENT_BYTES, payloadBytes?: Uint8Array): UnsignedEvent {
  const bodyBytes = payloadBytes === undefined ? encodeCanonical({ ...body, prev: PREV_UNKNOWN }) : withPayload(body, payloadBytes);
  // Keys sort v, ts, seq, prev, …: the first marker is the key's own, since v, ts and seq are integers below
  // 2^53 whose encodings cannot hold it (SPEC §3.6). The check keeps a layout change from signing wrong bytes.
  const prevOffset = indexOf(bodyBytes, PREV_MARKER) + PREV_MARKER.length;
  if (prevOffset < PREV_MARKER.length || prevOffset > 64) throw new TypeError('internal: the body does not have the layout of SPEC §3.6');
  const size = ENVELOPE_OVERHEAD + bodyBytes.length;
  if (size > maxBytes) {
    throw new LedgerError('EVENT_TOO_LARGE', `the event is ${size} bytes, over the limit of ${maxBytes}; store large content elsewhere and record its digest`, {
      details: { bytes: size, limit: maxBytes },
    });
  }
  return { body, bodyBytes, prevOffset };
}

/**
 * Seals a prepared event once its `prev` is known: writes `prev` in, signs, wraps and hashes.
 * `signature`, when given, is one already made over the same bytes (by the sealing worker); else `key` signs.
 */
export function sealPrepared(event: UnsignedEvent, prev: Uint8Array, key: SigningKey, made?: { signature: Uint8Array; hash: Uint8Array }): SealedEvent {
  const bodyBytes = event.bodyBytes;
  bodyBytes.set(prev, event.prevOffset);
  const body = withPrev(event.body, new Uint8Array(prev));
  if (made !== undefined) {
    // Signed elsewhere: the message is only built if someone asks for it (appends never do). The hash is
    // recomputed from these bytes, so a worker that signed anything else can never put it into the chain.
    const bytes = concatBytes(ENVELOPE_HEAD, made.signature, BODY_KEY, bodyBytes);
    if (!equalBytes(eventHash(bytes), made.hash)) throw new TypeError(`internal: the signing worker's event ${event.body.seq} differs from the one prepared`);
    let message: Uint8Array | undefined;
    return {
      body,
      signature: made.signature,
      bytes,
      hash: made.hash,
      get signedMessage() {
        return (message ??= signingMessage(bytes.subarray(BODY_OFFSET)));
      },
    };
  }
  const signedMessage = signingMessage(bodyBytes);
  const signature = key.sign(signedMessage);
  // Equal to encodeCanonical({ body, sig }) (the golden tests hold us to it) without encoding the body twice.
  const bytes = concatBytes(ENVELOPE_HEAD, signature, BODY_KEY, bodyBytes);
  return { body, signature, bytes, hash: eventHash(bytes), signedMessage };
}

/**
 * Signs `body` with `key` and returns the sealed event.
 * @throws LedgerError INVALID_PAYLOAD when the payload is not JSON-compatible; EVENT_TOO_LARGE over `maxBytes`.
 * @example const sealed = sealEvent({ v: 1, seq: 1, prev, ts: Date.now(), type: 'note', author: key.publicKey, payload: {} }, key);
 */
export function sealEvent(body: EventBody, key: SigningKey, maxBytes = DEFAULT_MAX_EVENT_BYTES): SealedEvent {
  if (!equalBytes(body.author, key.publicKey)) throw new TypeError('sealEvent: body.author must be the public key of the signing key');
  return sealPrepared(prepareEvent(body, maxBytes), body.prev, key);
}

/**
 * A body whose payload is decoded from its canonical bytes only when first read. appendMany's events are in
 * namespaces the ledger never interprets, so their payloads are encoded (and frozen) once and usually never
 * decoded again: a decode per event was ~5% of an append (BENCHMARKS.md, "append").
 */
export function lazyPayloadBody(fields: Omit<EventBody, 'payload'>, payloadBytes: Uint8Array): EventBody {
  let decoded: { value: JsonValue } | undefined;
  return Object.defineProperty({ ...fields }, 'payload', { enumerable: true, get: () => (decoded ??= { value: decodeCanonical(payloadBytes) as JsonValue }).value }) as EventBody;
}

/** `body` with `prev` set, keeping a lazy payload lazy (a spread would decode it). */
function withPrev(body: EventBody, prev: Uint8Array): EventBody {
  const lazy = Object.getOwnPropertyDescriptor(body, 'payload')?.get;
  if (lazy === undefined) return { ...body, prev };
  const { v, seq, ts, type, author } = body;
  return Object.defineProperty({ v, seq, prev, ts, type, author }, 'payload', { enumerable: true, get: lazy }) as EventBody;
}

/** The text key "payload", the longest of the body's keys and so the last in canonical order (SPEC §3.6). */
const PAYLOAD_KEY = Uint8Array.of(0x67, 0x70, 0x61, 0x79, 0x6c, 0x6f, 0x61, 0x64);

/**
 * The body's canonical bytes from a payload already encoded (by `encodeJsonValue`): the other six fields as a
 * map, its head raised from 6 to 7 entries, then "payload" and its bytes. Equal to encoding the whole body.
 */
function withPayload(body: EventBody, payloadBytes: Uint8Array): Uint8Array {
  // The six fields by name: reading `payload` would decode a lazy one (lazyPayloadBody).
  const { v, seq, ts, type, author } = body;
  const head = encodeCanonical({ v, seq, ts, type, author, prev: PREV_UNKNOWN });
  if (head[0] !== 0xa6) throw new TypeError('internal: the body does not have the layout of SPEC §3.6');
  const out = concatBytes(head, PAYLOAD_KEY, payloadBytes);
  out[0] = 0xa7;
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);
}

/**
 * Opens stored bytes as one event: size limit, canonical CBOR, exact field set and field types.
 * The signature is not checked here (see chain/).
 * @throws LedgerError EVENT_TOO_LARGE, NON_CANONICAL or MALFORMED_EVENT.
 */
export function openEvent(bytes: Uint8Array, maxBytes = DEFAULT_MAX_EVENT_BYTES, knownHash?: Uint8Array): SealedEvent {
  if (bytes.length > maxBytes) {
    throw new LedgerError('EVENT_TOO_LARGE', `stored event is ${bytes.length} bytes, over the limit of ${maxBytes}`, {
      details: { bytes: bytes.length, limit: maxBytes },
    });
  }
  const envelope = decodeCanonical(bytes);
  if (!isPlainRecord(envelope) || !hasExactKeys(envelope, ENVELOPE_KEYS)) {
    throw malformed('the envelope must be a map with exactly the keys "body" and "sig"');
  }
  const sig = envelope['sig'];
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) throw malformed(`"sig" must be a ${SIGNATURE_BYTES}-byte byte string`);
  const body = toEventBody(envelope['body']);
  // The bytes were just checked to be the canonical encoding of {sig, body}, so the body's canonical bytes
  // are the tail after the fixed head (SPEC §3.2, §3.6); slicing saves re-encoding it on every verify.
  if (!equalBytes(bytes.subarray(0, ENVELOPE_HEAD.length), ENVELOPE_HEAD) || !equalBytes(bytes.subarray(ENVELOPE_HEAD.length + SIGNATURE_BYTES, BODY_OFFSET), BODY_KEY)) {
    throw malformed('the envelope does not have the layout of SPEC §3.6');
  }
  const signedMessage = signingMessage(bytes.subarray(BODY_OFFSET));
  return { body, signature: sig, bytes, hash: knownHash ?? eventHash(bytes), signedMessage };
}

/**
 * Opens the event stored at `seq` for a reader of the log (`get`, `log`, `export`): a missing, undecodable or
 * misplaced event means the store is damaged.
 * @throws LedgerError STORE_CORRUPT naming the seq and pointing to `provledger verify`.
 */
export function openStoredEvent(seq: number, bytes: Uint8Array | undefined, maxBytes = DEFAULT_MAX_EVENT_BYTES): SealedEvent {
  if (bytes === undefined) throw new LedgerError('STORE_CORRUPT', `event ${seq} is missing from the log; run \`provledger verify\``, { details: { seq } });
  let event: SealedEvent;
  try {
    event = openEvent(bytes, maxBytes);
  } catch (error) {
    throw new LedgerError('STORE_CORRUPT', `event ${seq} in the store cannot be decoded (${(error as Error).message}); run \`provledger verify\``, { cause: error, details: { seq } });
  }
  if (event.body.seq !== seq) throw new LedgerError('STORE_CORRUPT', `the event stored at ${seq} says it is event ${event.body.seq}; run \`provledger verify\``, { details: { seq } });
  return event;
}

function toEventBody(value: unknown): EventBody {
  if (!isPlainRecord(value) || !hasExactKeys(value, BODY_KEYS)) {
    throw malformed(`the body must be a map with exactly the keys ${BODY_KEYS.map((k) => `"${k}"`).join(', ')}`);
  }
  const { v, seq, prev, ts, type, author, payload } = value;
  if (v !== FORMAT_VERSION) throw malformed(`unsupported format version ${String(v)}; this reader understands version ${FORMAT_VERSION}`);
  if (!isUint(seq)) throw malformed('"seq" must be a non-negative integer');
  if (!isUint(ts) || ts > MAX_TIME_MS) throw malformed(`"ts" must be an integer from 0 to ${MAX_TIME_MS} (milliseconds since the Unix epoch)`);
  if (!(prev instanceof Uint8Array) || prev.length !== HASH_BYTES) throw malformed(`"prev" must be a ${HASH_BYTES}-byte byte string`);
  if (!(author instanceof Uint8Array) || author.length !== PUBLIC_KEY_BYTES) throw malformed(`"author" must be a ${PUBLIC_KEY_BYTES}-byte byte string`);
  if (typeof type !== 'string' || !isValidType(type)) throw malformed('"type" does not follow the event type grammar');
  if (containsBytes(payload)) throw malformed('"payload" must be JSON-compatible (no byte strings)');
  return { v, seq, prev, ts, type, author, payload: payload as JsonValue };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function hasExactKeys(record: Record<string, unknown>, keys: readonly string[]): boolean {
  const actual = Object.keys(record);
  return actual.length === keys.length && keys.every((k) => Object.hasOwn(record, k));
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function containsBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(containsBytes);
  if (isPlainRecord(value)) return Object.values(value).some(containsBytes);
  return false;
}

function malformed(message: string): LedgerError {
  return new LedgerError('MALFORMED_EVENT', message);
}
