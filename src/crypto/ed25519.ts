/**
 * Ed25519 signature verification under provledger's "strict prime-order" rule.
 *
 * Owns: the rule, in one place. Reject a signature unless
 *   (1) the signature is 64 bytes and the public key 32 bytes;
 *   (2) S = little-endian sig[32..64] < L (RFC 8032 §5.1.7 step 1; stops S+L malleation);
 *   (3) the public key A is a canonical point encoding (RFC 8032 §5.1.3);
 *   (4) R = sig[0..32] is a canonical point encoding;
 *   (5) A is not of small order;
 *   (6) A is torsion-free ([L]A = O);
 *   (7) R is torsion-free;
 * and then the signature equation holds. RFC 8032 leaves 3-7 and the choice between the cofactored and the
 * cofactorless equation open, so real libraries disagree on hundreds of edge vectors; once A and R are
 * canonical and of prime order the two equations are equivalent, and node:crypto and @noble/ed25519 agree on
 * every vector in fixtures/ed25519 (SPEC §2.3; fixtures/ed25519/README.md). SPEC §2.3 groups the same checks
 * as its rules 1-6: this header's 1-2 are its 1-2, 3 and 5-6 are §2.2's key rules, 4 and 7 its 4-5.
 *
 * The key rules (length, 3, 5, 6) run once, when bytes become a VerifyingKey, and the verdict is cached.
 * Backends: 'node' (OpenSSL through node:crypto, the fast path) and 'noble' (@noble/ed25519, the reference).
 * With A vetted, OpenSSL's own check implies 4 and 7: it rejects a non-canonical R by re-encoding it, and a
 * cofactorless accept forces R = [S]B - [k]A into the prime-order subgroup. So the node path is rules 1-2 plus
 * crypto.verify, while the noble path checks 4 and 7 explicitly.
 *
 * Must not: throw on any byte input (a wrong *type* is a TypeError), trust a key that has not been vetted, or
 * call noble without `{ zip215: false }`. Signing lives in keys.ts, batching across threads in pool.ts.
 */

import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { equalBytes, toHex } from '../bytes.js';
import { LedgerError } from '../errors.js';
import { assertBytes } from './guards.js';
import { ed } from './noble.js';

/** Why a public key fails the key rules: length (1), canonical encoding (3), small order (5), prime order (6). */
export type KeyRejection = 'BAD_LENGTH' | 'NOT_CANONICAL' | 'SMALL_ORDER' | 'NOT_PRIME_ORDER';

/**
 * Why a signature was rejected, in the order the checks run: lengths (1), S < L (2), the key rules (3, 5, 6,
 * as one `KEY_REJECTED`), R canonical (4), R torsion-free (7), then the equation itself.
 */
export type SignatureRejection =
  | 'BAD_LENGTH'
  | 'S_NOT_CANONICAL'
  | 'R_NOT_CANONICAL'
  | 'R_NOT_PRIME_ORDER'
  | 'EQUATION'
  | 'KEY_REJECTED';

/** Which implementation checks the equation: 'node' (node:crypto / OpenSSL, fast) or 'noble' (reference). */
export type Backend = 'node' | 'noble';

export interface VerifySignatureOptions {
  /** Defaults to 'node'. Both backends give identical answers under the rule. */
  backend?: Backend;
}

/** Bytes in an Ed25519 public key (RFC 8032 §5.1.5). */
export const PUBLIC_KEY_LENGTH = 32;
/** Bytes in an Ed25519 signature, R ‖ S (RFC 8032 §5.1.6). */
export const SIGNATURE_LENGTH = 64;

/** Prime order of the base point (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** L as 32 little-endian bytes, so rule 2 is a byte comparison rather than a bigint conversion. */
const L_LE: Uint8Array = (() => {
  const out = new Uint8Array(32);
  let rest = L;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
})();

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4); the raw 32-byte key follows. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Vetted keys (and the reasons for rejected ones) by hex; bounded so hostile input cannot grow it forever. */
const KEY_CACHE_LIMIT = 1024;

/** Messages cite the key rules as SPEC §2.2 numbers them (the header's 1-7 are the signature rule's). */
const KEY_REJECTION_MESSAGES: Record<KeyRejection, string> = {
  BAD_LENGTH: `an Ed25519 public key is ${PUBLIC_KEY_LENGTH} bytes (SPEC §2.2 rule 1)`,
  NOT_CANONICAL:
    'the public key is not the canonical encoding of a curve point (SPEC §2.2 rule 2, RFC 8032 §5.1.3); refusing it keeps one key from having several byte forms',
  SMALL_ORDER:
    'the public key is a point of small order (SPEC §2.2 rule 3); with such a key one signature can verify for many messages',
  NOT_PRIME_ORDER:
    'the public key has a small-order component, so it is not in the prime-order subgroup (SPEC §2.2 rule 4); verifiers would disagree on its signatures',
};

/** Rule 2: is the 32-byte little-endian scalar strictly below L? Public data, so early exit is fine. */
function isScalarBelowL(scalar: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = scalar[i]!;
    const b = L_LE[i]!;
    if (a !== b) return a < b;
  }
  return false; // equal to L
}

/**
 * Rules 3 and 4: strict RFC 8032 §5.1.3 decoding (y < p, and no "x = 0 with the sign bit set"), confirmed by
 * re-encoding, so each point has exactly one accepted byte form. Off-curve bytes also give null.
 */
function decodeCanonicalPoint(encoding: Uint8Array): ed.Point | null {
  let point: ed.Point;
  try {
    point = ed.Point.fromBytes(encoding, false);
  } catch {
    return null;
  }
  return equalBytes(point.toBytes(), encoding) ? point : null;
}

/**
 * Rules 1 and 2 for the signature alone: what pool.ts checks in the calling thread before sending work to a
 * worker. Internal to src/crypto (not exported from index.ts).
 */
export function checkSignatureEncoding(signature: Uint8Array): 'BAD_LENGTH' | 'S_NOT_CANONICAL' | null {
  if (signature.length !== SIGNATURE_LENGTH) return 'BAD_LENGTH';
  if (!isScalarBelowL(signature.subarray(32, 64))) return 'S_NOT_CANONICAL';
  return null;
}

/** Rules 4 and 7: R must be canonical and of prime order. Costs ~0.9 ms (a scalar multiplication). */
function checkR(signature: Uint8Array): 'R_NOT_CANONICAL' | 'R_NOT_PRIME_ORDER' | null {
  const R = decodeCanonicalPoint(signature.subarray(0, 32));
  if (R === null) return 'R_NOT_CANONICAL';
  if (!R.isTorsionFree()) return 'R_NOT_PRIME_ORDER';
  return null;
}

function assertBackend(backend: unknown): asserts backend is Backend {
  if (backend !== 'node' && backend !== 'noble') {
    throw new TypeError(`backend must be 'node' or 'noble', got ${String(backend)}`);
  }
}

/** Rules 3, 5, 6 on a 32-byte key; null when the key passes. */
function vetKeyRules(publicKey: Uint8Array): KeyRejection | null {
  const A = decodeCanonicalPoint(publicKey);
  if (A === null) return 'NOT_CANONICAL';
  if (A.isSmallOrder()) return 'SMALL_ORDER';
  if (!A.isTorsionFree()) return 'NOT_PRIME_ORDER';
  return null;
}

let constructVerifyingKey: (publicKey: Uint8Array, hex: string) => VerifyingKey;

/** Vetted keys, or the reason a key was refused, by hex; least recently used first. */
const keyCache = new Map<string, VerifyingKey | KeyRejection>();

/**
 * The cached verdict for a key: a VerifyingKey, or the first key rule it breaks. checkPublicKey,
 * VerifyingKey.fromBytes, verifySignature and explainSignature all go through here, so a key is vetted once.
 */
function vetPublicKey(publicKey: Uint8Array): VerifyingKey | KeyRejection {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) return 'BAD_LENGTH';
  const hex = toHex(publicKey);
  const cached = keyCache.get(hex);
  if (cached !== undefined) {
    keyCache.delete(hex); // re-insert: Map order doubles as recency order
    keyCache.set(hex, cached);
    return cached;
  }
  const verdict = vetKeyRules(publicKey) ?? constructVerifyingKey(publicKey, hex);
  if (keyCache.size >= KEY_CACHE_LIMIT) {
    const oldest = keyCache.keys().next().value;
    if (oldest !== undefined) keyCache.delete(oldest);
  }
  keyCache.set(hex, verdict);
  return verdict;
}

/**
 * A public key that has passed the key rules (1, 3, 5, 6), ready to verify signatures cheaply.
 *
 * Made only by `VerifyingKey.fromBytes`, which caches vetted keys (1,024 most recently used) so that repeated
 * calls with the same author key cost a map lookup. The node:crypto KeyObject is built once per key.
 *
 * @example
 * const key = VerifyingKey.fromBytes(authorPublicKey);
 * if (!key.verify(signature, message)) report('bad signature');
 */
export class VerifyingKey {
  static {
    // Lets vetPublicKey (above, module-private) construct keys while the constructor stays private.
    constructVerifyingKey = (publicKey, hex) => new VerifyingKey(publicKey, hex);
  }

  /** Lower-case hex of the 32 key bytes. */
  readonly hex: string;
  /** The vetted bytes, private so that no caller can change the key after vetting. */
  readonly #bytes: Uint8Array;
  readonly #keyObject: KeyObject;

  private constructor(publicKey: Uint8Array, hex: string) {
    this.#bytes = new Uint8Array(publicKey);
    this.hex = hex;
    this.#keyObject = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, this.#bytes]),
      format: 'der',
      type: 'spki',
    });
  }

  /** A fresh copy of the 32 public key bytes (a copy, so mutating it cannot alter the vetted key). */
  get bytes(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }

  /**
   * Vets `publicKey` against the key rules and returns a (cached) VerifyingKey.
   *
   * @throws {LedgerError} `KEY_INVALID` when the key is not 32 bytes; `KEY_WEAK` when it breaks rule 3, 5 or 6
   *   (`details.reason` is the KeyRejection, `details.publicKeyHex` the key).
   * @throws {TypeError} when `publicKey` is not a Uint8Array.
   * @example
   * const key = VerifyingKey.fromBytes(fromHex(authorHex, 32)!);
   * key.hex === authorHex.toLowerCase();
   */
  static fromBytes(publicKey: Uint8Array): VerifyingKey {
    assertBytes(publicKey, 'publicKey');
    if (publicKey.length !== PUBLIC_KEY_LENGTH) {
      throw new LedgerError('KEY_INVALID', `publicKey must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`, {
        details: { length: publicKey.length, reason: 'BAD_LENGTH' },
      });
    }
    const vetted = vetPublicKey(publicKey);
    if (typeof vetted === 'string') {
      const publicKeyHex = toHex(publicKey);
      throw new LedgerError('KEY_WEAK', `publicKey ${publicKeyHex} is refused: ${KEY_REJECTION_MESSAGES[vetted]}`, {
        details: { publicKeyHex, reason: vetted },
      });
    }
    return vetted;
  }

  /**
   * True when `signature` is a valid signature of `message` by this key under the whole rule.
   * Never throws on any bytes; a wrong length or a malleated S is simply false.
   *
   * @throws {TypeError} when an argument is not a Uint8Array or `backend` is unknown.
   * @example
   * key.verify(signature, message);          // node:crypto
   * key.verify(signature, message, 'noble'); // same answer, reference backend
   */
  verify(signature: Uint8Array, message: Uint8Array, backend: Backend = 'node'): boolean {
    assertBytes(signature, 'signature');
    assertBytes(message, 'message');
    assertBackend(backend);
    if (checkSignatureEncoding(signature) !== null) return false; // rules 1, 2
    if (backend === 'node') return this.#nodeEquation(signature, message); // implies 4 and 7, see the header
    return checkR(signature) === null && this.#nobleEquation(signature, message); // 4, 7 explicitly
  }

  /**
   * Why this key rejects `signature` on `message` (null = accepted). Checks rules 4 and 7 explicitly on both
   * backends so the reason is precise; the accept/reject answer always equals `verify`.
   *
   * @throws {TypeError} when an argument is not a Uint8Array or `backend` is unknown.
   * @example
   * key.explain(signature, message); // 'EQUATION' for a signature of another message
   */
  explain(signature: Uint8Array, message: Uint8Array, backend: Backend = 'node'): SignatureRejection | null {
    assertBytes(signature, 'signature');
    assertBytes(message, 'message');
    assertBackend(backend);
    const encoding = checkSignatureEncoding(signature);
    if (encoding !== null) return encoding;
    const r = checkR(signature);
    if (r !== null) return r;
    const holds = backend === 'node' ? this.#nodeEquation(signature, message) : this.#nobleEquation(signature, message);
    return holds ? null : 'EQUATION';
  }

  /** OpenSSL's cofactorless check; it also rejects S >= L and non-canonical R by itself. */
  #nodeEquation(signature: Uint8Array, message: Uint8Array): boolean {
    try {
      return nodeVerify(null, message, this.#keyObject, signature);
    } catch {
      return false;
    }
  }

  /** noble's strict branch (cofactored equation); it throws on some malformed input, so catch. */
  #nobleEquation(signature: Uint8Array, message: Uint8Array): boolean {
    try {
      return ed.verify(signature, message, this.#bytes, { zip215: false });
    } catch {
      return false;
    }
  }
}

/**
 * Checks a public key against the key rules: 32 bytes (1), canonical encoding (3), not small order (5),
 * prime order (6). Results are cached per key.
 *
 * @returns null when the key is acceptable, else the first rule it breaks.
 * @throws {TypeError} when `publicKey` is not a Uint8Array.
 * @example
 * checkPublicKey(signingKey.publicKey); // null
 * checkPublicKey(new Uint8Array(32));   // 'SMALL_ORDER' (y = 0 is a point of order 4)
 */
export function checkPublicKey(publicKey: Uint8Array): KeyRejection | null {
  assertBytes(publicKey, 'publicKey');
  const verdict = vetPublicKey(publicKey);
  return typeof verdict === 'string' ? verdict : null;
}

function resolveBackend(options: VerifySignatureOptions | undefined): Backend {
  const backend = options?.backend ?? 'node';
  assertBackend(backend);
  return backend;
}

/**
 * The whole rule for callers holding raw bytes: true only when the key and signature pass rules 1-7 and the
 * equation holds. Never throws on any byte input.
 *
 * @throws {TypeError} when an argument is not a Uint8Array or `options.backend` is unknown.
 * @example
 * verifySignature(signature, message, publicKey);                       // node:crypto
 * verifySignature(signature, message, publicKey, { backend: 'noble' }); // reference, same answer
 */
export function verifySignature(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  options?: VerifySignatureOptions,
): boolean {
  assertBytes(signature, 'signature');
  assertBytes(message, 'message');
  assertBytes(publicKey, 'publicKey');
  const backend = resolveBackend(options);
  // Cheap rules first (1, 2) so garbage never costs a key vetting.
  if (publicKey.length !== PUBLIC_KEY_LENGTH || checkSignatureEncoding(signature) !== null) return false;
  const key = vetPublicKey(publicKey);
  if (typeof key === 'string') return false;
  return key.verify(signature, message, backend);
}

/**
 * Why `verifySignature` would reject (null = it accepts), for audit tools. Checks run in rule order:
 * lengths (1), S (2), the key rules (3, 5, 6 as `KEY_REJECTED`; call checkPublicKey for which), R canonical
 * (4), R torsion-free (7), the equation. Slower than verifySignature (~1 ms: it checks R explicitly).
 *
 * @throws {TypeError} when an argument is not a Uint8Array or `options.backend` is unknown.
 * @example
 * explainSignature(signature, message, publicKey); // null: accepted
 * explainSignature(malleated, message, publicKey); // 'S_NOT_CANONICAL'
 */
export function explainSignature(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  options?: VerifySignatureOptions,
): SignatureRejection | null {
  assertBytes(signature, 'signature');
  assertBytes(message, 'message');
  assertBytes(publicKey, 'publicKey');
  const backend = resolveBackend(options);
  if (publicKey.length !== PUBLIC_KEY_LENGTH) return 'BAD_LENGTH';
  const encoding = checkSignatureEncoding(signature);
  if (encoding !== null) return encoding;
  const key = vetPublicKey(publicKey);
  if (typeof key === 'string') return 'KEY_REJECTED';
  return key.explain(signature, message, backend);
}
