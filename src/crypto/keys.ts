/**
 * Ed25519 signing keys: generate, load from and save to PKCS#8 PEM, sign.
 *
 * Owns: the 32-byte secret seed (RFC 8032 §5.1.5) and the node:crypto KeyObject built from it. Signing is
 * deterministic (RFC 8032 §5.1.6), so both backends produce byte-identical signatures; tests hold them to it.
 * Must not: let the seed leave the object other than through `toPem()` (no getter, no enumerable field, nothing
 * in JSON, util.inspect or String()), accept a key type other than Ed25519, or verify anything (ed25519.ts does).
 * The one exception is `keyObjectOf`, which hands the KeyObject to the signing worker thread of this process
 * (chain-signer.ts); it is not exported from the package.
 */

import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { toHex } from '../bytes.js';
import { LedgerError } from '../errors.js';
import { checkPublicKey, VerifyingKey, type Backend } from './ed25519.js';
import { assertBytes } from './guards.js';
import { ed } from './noble.js';

const SEED_LENGTH = 32;
/** Each key's KeyObject, for `keyObjectOf`; a WeakMap so nothing on the instance exposes it. */
const KEY_OBJECTS = new WeakMap<SigningKey, KeyObject>();

/**
 * The node:crypto KeyObject behind `key`, for the signing worker (chain-signer.ts) only: a KeyObject passes to
 * a worker thread natively, without its secret being exported. Internal; never log or serialise it.
 */
export function keyObjectOf(key: SigningKey): KeyObject {
  const keyObject = KEY_OBJECTS.get(key);
  if (keyObject === undefined) throw new TypeError('keyObjectOf: not a SigningKey');
  return keyObject;
}
/** DER prefix of an Ed25519 PKCS#8 PrivateKeyInfo (RFC 8410 §7); the raw 32-byte seed follows. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** RFC 7468 §10 and §11: the two PKCS#8 labels. Anything else (RSA/EC/OpenSSH formats, public keys) is refused. */
const PEM_BLOCK = /-----BEGIN ((?:ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/g;

const HOW_TO_MAKE_ONE = 'create one with `openssl genpkey -algorithm ed25519 -out key.pem`';

function keyInvalid(message: string, cause?: unknown): LedgerError {
  return new LedgerError('KEY_INVALID', message, cause === undefined ? {} : { cause });
}

/**
 * An Ed25519 private key. The secret stays inside: JSON, util.inspect and String() show only the public key.
 *
 * @example
 * const key = SigningKey.generate();
 * const signature = key.sign(message); // 64 bytes, verifiable with verifySignature(signature, message, key.publicKey)
 */
export class SigningKey {
  /** The 32-byte public key A (RFC 8032 §5.1.5). A copy: changing it does not change what `sign` uses. */
  readonly publicKey: Uint8Array;
  /** Lower-case hex of `publicKey`. */
  readonly publicKeyHex: string;
  readonly #seed: Uint8Array;
  readonly #privateKey: KeyObject;

  private constructor(seed: Uint8Array) {
    this.#seed = new Uint8Array(seed);
    this.#privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, this.#seed]),
      format: 'der',
      type: 'pkcs8',
    });
    KEY_OBJECTS.set(this, this.#privateKey);
    // Derive A from the seed ourselves; never trust a public key stored beside a secret (PKCS#8 v2, JWK "x").
    const spki = createPublicKey(this.#privateKey).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32));
    this.publicKeyHex = toHex(this.publicKey);
  }

  /**
   * A new key from 32 bytes of the operating system's CSPRNG.
   *
   * @throws {Error} only if the generated public key fails checkPublicKey (practically impossible; a guard).
   * @example
   * const key = SigningKey.generate();
   * key.publicKeyHex.length === 64;
   */
  static generate(): SigningKey {
    const key = new SigningKey(randomBytes(SEED_LENGTH));
    // A = [a]B with B of prime order L, so A is canonical and torsion-free; it is small order (the identity) only
    // if L divides the clamped scalar a (odds ~2^-250). Assert anyway: a key we hand out must pass every verifier.
    const rejection = checkPublicKey(key.publicKey);
    if (rejection !== null) throw new Error(`SigningKey.generate produced a public key that fails ${rejection}`);
    return key;
  }

  /**
   * Reads an Ed25519 private key from PKCS#8 PEM (`BEGIN PRIVATE KEY`, or `BEGIN ENCRYPTED PRIVATE KEY` with
   * `passphrase`), as written by `toPem()` or `openssl genpkey -algorithm ed25519`.
   *
   * @throws {LedgerError} `KEY_INVALID` when the text is not exactly one PKCS#8 PEM block, the key is not
   *   Ed25519, it is encrypted and no passphrase was given, or the passphrase is wrong.
   * @throws {TypeError} when `pem` is not a string.
   * @example
   * const key = SigningKey.fromPem(await readFile('author.pem', 'utf8'));
   * const same = SigningKey.fromPem(key.toPem()); // same.publicKeyHex === key.publicKeyHex
   */
  static fromPem(pem: string, passphrase?: string): SigningKey {
    if (typeof pem !== 'string') throw new TypeError(`pem must be a string, got ${typeof pem}`);
    if (passphrase !== undefined && typeof passphrase !== 'string') {
      throw new TypeError(`passphrase must be a string, got ${typeof passphrase}`);
    }
    const blocks = [...pem.matchAll(PEM_BLOCK)];
    if (blocks.length !== 1) {
      throw keyInvalid(
        blocks.length === 0
          ? `The key file is not a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"); ${HOW_TO_MAKE_ONE}.`
          : `The key file holds ${blocks.length} PEM private keys; keep exactly one Ed25519 key per file.`,
      );
    }
    const [block, label] = blocks[0]!;
    const encrypted = label === 'ENCRYPTED PRIVATE KEY';
    if (encrypted && passphrase === undefined) {
      throw keyInvalid('The private key PEM is encrypted; supply its passphrase.');
    }
    let keyObject: KeyObject;
    try {
      keyObject = createPrivateKey(
        encrypted ? { key: block, format: 'pem', passphrase: passphrase ?? '' } : { key: block, format: 'pem' },
      );
    } catch (error) {
      throw keyInvalid(
        encrypted
          ? 'Could not decrypt the private key PEM: the passphrase is wrong or the file is damaged.'
          : `Could not read the private key PEM: its contents are damaged or not a private key; ${HOW_TO_MAKE_ONE}.`,
        error,
      );
    }
    if (keyObject.asymmetricKeyType !== 'ed25519') {
      throw keyInvalid(
        `The private key is ${keyObject.asymmetricKeyType ?? 'of an unknown type'}, but provledger signs with Ed25519 only; ${HOW_TO_MAKE_ONE}.`,
      );
    }
    const { d } = keyObject.export({ format: 'jwk' });
    const seed = d === undefined ? undefined : Buffer.from(d, 'base64url');
    if (seed === undefined || seed.length !== SEED_LENGTH) {
      throw keyInvalid(`Could not extract the Ed25519 seed from the private key PEM; ${HOW_TO_MAKE_ONE}.`);
    }
    const key = new SigningKey(seed);
    seed.fill(0);
    return key;
  }

  /**
   * The key as PKCS#8 PEM (RFC 8410 §7, RFC 7468 §10), readable by `openssl pkey` and by fromPem: unencrypted,
   * or encrypted under `passphrase`. This is the secret: write it with mode 0600 and never log it.
   *
   * @example
   * await writeFile('author.pem', key.toPem(), { mode: 0o600, flag: 'wx' });
   * SigningKey.fromPem(key.toPem()).publicKeyHex === key.publicKeyHex;
   */
  toPem(passphrase?: string): string {
    if (passphrase === undefined) return this.#privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    if (typeof passphrase !== 'string' || passphrase.length === 0) throw new TypeError('passphrase must be a non-empty string');
    // Encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo, PBES2 with AES-256-CBC), readable by `openssl pkey`.
    return this.#privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }).toString();
  }

  /** True when `pem` holds an encrypted PKCS#8 block, so a caller knows to ask for a passphrase first. */
  static isEncryptedPem(pem: string): boolean {
    return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  }

  /** The public half, vetted, for verifying this key's signatures. */
  get verifyingKey(): VerifyingKey {
    return VerifyingKey.fromBytes(this.publicKey);
  }

  /**
   * The RFC 8032 §5.1.6 signature of `message`: 64 bytes R ‖ S, deterministic, identical on both backends.
   *
   * @throws {TypeError} when `message` is not a Uint8Array or `backend` is unknown.
   * @example
   * const signature = key.sign(message);
   * verifySignature(signature, message, key.publicKey) === true;
   */
  sign(message: Uint8Array, backend: Backend = 'node'): Uint8Array {
    assertBytes(message, 'message');
    if (backend === 'node') return new Uint8Array(nodeSign(null, message, this.#privateKey));
    if (backend === 'noble') return ed.sign(message, this.#seed);
    throw new TypeError(`backend must be 'node' or 'noble', got ${String(backend)}`);
  }

  /** JSON shows the public key only. */
  toJSON(): { type: 'ed25519'; publicKeyHex: string } {
    return { type: 'ed25519', publicKeyHex: this.publicKeyHex };
  }

  toString(): string {
    return `SigningKey(ed25519:${this.publicKeyHex})`;
  }

  /** util.inspect / console.log show the public key only. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
