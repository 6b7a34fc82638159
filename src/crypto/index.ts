/**
 * `provledger/crypto`: the public face of the crypto kernel.
 *
 * Verification follows the "strict prime-order" rule (see ed25519.ts and fixtures/ed25519/README.md): reject
 * unless lengths are right (1), S < L (2), A and R are canonical (3, 4), A is not small order (5), and A and R
 * are torsion-free (6, 7), and then the equation holds. node:crypto and @noble/ed25519 agree under it on every
 * edge vector we know. Every export is documented at its declaration with `@throws` and an example.
 *
 * Must not: export internals (the noble instance, the worker pool, rule helpers) or anything holding a secret
 * other than SigningKey itself.
 */

/**
 * The whole rule for raw bytes; true only for a valid signature. Never throws on bytes.
 * @throws {TypeError} for a non-Uint8Array argument or unknown backend.
 * @example
 * verifySignature(signature, message, publicKey);
 * verifySignature(signature, message, publicKey, { backend: 'noble' });
 */
export { verifySignature } from './ed25519.js';

/**
 * Why verifySignature rejects (null = accepted), for audit tools.
 * @throws {TypeError} for a non-Uint8Array argument or unknown backend.
 * @example
 * explainSignature(signature, message, publicKey); // null
 * explainSignature(signature, otherMessage, publicKey); // 'EQUATION'
 */
export { explainSignature } from './ed25519.js';

/**
 * The key rules (1, 3, 5, 6): null when acceptable, else the first rule broken.
 * @throws {TypeError} for a non-Uint8Array argument.
 * @example
 * checkPublicKey(key.publicKey); // null
 * checkPublicKey(new Uint8Array(32)); // 'SMALL_ORDER'
 */
export { checkPublicKey } from './ed25519.js';

/**
 * A vetted public key (cached), with `verify(signature, message, backend?)` and `explain(...)`.
 * @throws {LedgerError} from `fromBytes`: `KEY_INVALID` (length) or `KEY_WEAK` (rules 3, 5, 6).
 * @example
 * const key = VerifyingKey.fromBytes(publicKey);
 * key.verify(signature, message);
 */
export { VerifyingKey } from './ed25519.js';

/**
 * An Ed25519 private key: generate, fromPem, toPem, sign. Its secret never appears in JSON, inspect or String().
 * @throws {LedgerError} from `fromPem`: `KEY_INVALID` for anything but a readable PKCS#8 Ed25519 key.
 * @example
 * const key = SigningKey.generate();
 * const signature = key.sign(message);
 */
export { SigningKey } from './keys.js';

/**
 * SHA-256 of the concatenated parts, as a plain 32-byte Uint8Array.
 * @throws {TypeError} for a non-Uint8Array part.
 * @example
 * const digest = sha256(tag, bytes);
 * digest.length === 32;
 */
export { sha256 } from './hash.js';

/** Rejection reasons and the backend selector (string-literal unions). */
export type { Backend, KeyRejection, SignatureRejection, VerifySignatureOptions } from './ed25519.js';
