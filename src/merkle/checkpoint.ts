/**
 * C2SP signed notes and transparency-log checkpoints, in the text format that existing tooling reads
 * (golang.org/x/mod/sumdb/note, transparency-dev/formats, witnesses), so a provledger checkpoint can be checked,
 * witnessed and cosigned by programs that have never heard of provledger.
 *
 * Owns: the byte rules of c2sp.org/signed-note (note text, signature lines, Ed25519 key ids, verifier key strings)
 * and of c2sp.org/tlog-checkpoint (origin, tree size, root hash, extension lines). Every input is parsed as if an
 * attacker wrote it: bounded (MAX_NOTE_BYTES, MAX_SIGNATURES, MAX_NAME_BYTES), canonical (one accepted spelling
 * per value, so formatting what was parsed gives back the same text), and failing only with a LedgerError
 * (a wrong argument *type* stays a TypeError: that is programmer misuse, STYLE habit 7).
 * Must not: compute Merkle roots (the caller brings the root), do I/O, or check an Ed25519 signature other than
 * through VerifyingKey, so notes obey the same strict prime-order rule as events (SPEC §2.3).
 */

import { concatBytes, equalBytes, toHex, utf8 } from '../bytes.js';
import { LedgerError } from '../errors.js';
import { sha256, SigningKey, VerifyingKey } from '../crypto/index.js';

/** A transparency-log checkpoint body (c2sp.org/tlog-checkpoint). */
export interface Checkpoint {
  /** Identifies the log; non-empty, one line. Interpreted by nobody: the spec forbids assuming it is a URL. */
  readonly origin: string;
  /** Leaves in the tree; a safe integer, since JavaScript numbers are exact only up to 2^53 − 1. */
  readonly size: number;
  /** The RFC 6962 Merkle tree head at `size`: exactly 32 bytes (SHA-256). */
  readonly rootHash: Uint8Array;
  /** Opaque, non-empty lines after the root hash; the spec discourages them because monitors cannot audit them. */
  readonly extensions: readonly string[];
}

/** One signature line of a note, verified or not. */
export interface NoteSignature {
  readonly name: string;
  /** 4 bytes; for Ed25519, noteKeyId(name, publicKey). */
  readonly keyId: Uint8Array;
  /** What follows the key id: 64 bytes for Ed25519, other lengths for signature types we do not verify. */
  readonly signature: Uint8Array;
}

/** A parsed signed note. `text` is untrusted until verifiedBy names a verifier you trust (c2sp.org/signed-note). */
export interface SignedNote {
  /** The signed text: ends in a newline, excludes the blank separator line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A key whose signatures on notes we can check. Ed25519 (signature type 0x01) only. */
export interface NoteVerifier {
  readonly name: string;
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** Largest note or note text accepted, in UTF-8 bytes: far above any real checkpoint, small enough to parse at once. */
export const MAX_NOTE_BYTES = 1 << 20;
/** Most signature lines in one note: Go's sumdb/note limit; c2sp.org/signed-note requires accepting at least 16. */
export const MAX_SIGNATURES = 100;
/** Longest key name, in UTF-8 bytes. Names are meant to be short schema-less URLs; this only stops abuse. */
export const MAX_NAME_BYTES = 1024;

/** c2sp.org/signed-note "Signature types": 0x01 is Ed25519. */
const SIGNATURE_TYPE_ED25519 = 0x01;
const KEY_ID_LENGTH = 4;
const PUBLIC_KEY_LENGTH = 32;
const ROOT_HASH_LENGTH = 32;
/** Em dash (U+2014) then space: how every signature line starts. */
const SIGNATURE_PREFIX = '\u2014 ';
/** The separator between name and key in the key-id hash (newline), then the Ed25519 type byte. */
const KEY_ID_INFIX = new Uint8Array([0x0a, SIGNATURE_TYPE_ED25519]);
/** ASCII control characters other than newline, which c2sp.org/signed-note forbids anywhere in a note. */
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
/** Unicode White_Space (what Go's unicode.IsSpace tests), plus, and (our addition) any control character. */
const FORBIDDEN_IN_NAME = /[\p{White_Space}+\u0000-\u001f]/u;
/** RFC 4648 §4 alphabet with mandatory padding; canonical trailing bits are checked by re-encoding. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const KEY_ID_HEX = /^[0-9a-f]{8}$/;
/** `<name>+<8 hex>+<base64 of 33 bytes>`: the name, two pluses, 8 hex digits and 44 base64 characters. */
const MAX_VERIFIER_KEY_LENGTH = MAX_NAME_BYTES + 2 + 8 + 44;

const NOTE_SPEC = 'c2sp.org/signed-note';
const CHECKPOINT_SPEC = 'c2sp.org/tlog-checkpoint';

function malformed(message: string, details: Record<string, unknown> = {}, cause?: unknown): LedgerError {
  return new LedgerError('CHECKPOINT_MALFORMED', house(message), cause === undefined ? { details } : { details, cause });
}

function keyInvalid(message: string, details: Record<string, unknown> = {}): LedgerError {
  return new LedgerError('KEY_INVALID', house(message), { details });
}

/** Error messages follow the CLI's line format (SPEC §10.2): lower-case start, no final full stop. */
function house(message: string): string {
  const trimmed = message.endsWith('.') ? message.slice(0, -1) : message;
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed[0]!.toLowerCase() + trimmed.slice(1) : trimmed;
}

/** A bounded, escaped rendering of hostile text for messages, so an error never carries a megabyte or a newline. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${value === null ? 'null' : typeof value}`);
}

function assertUint8Array(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array, got ${value === null ? 'null' : typeof value}`);
}

function assertSigningKey(value: unknown): asserts value is SigningKey {
  if (!(value instanceof SigningKey)) throw new TypeError('key must be a SigningKey');
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Standard padded base64 with one spelling per byte string: Go's decoder (and Buffer's) accept non-zero trailing
 * bits, so "AB==" and "AA==" would both mean 0x00 and one signature line could be written several ways.
 */
function fromCanonicalBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : undefined;
}

/**
 * Why `name` cannot be a key name, or null. c2sp.org/signed-note: non-empty, no Unicode spaces, no plus (which
 * separates the fields of a verifier key). We also refuse control characters, which a note cannot carry anyway.
 */
function keyNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (!name.isWellFormed()) return 'contains an unpaired UTF-16 surrogate, so it has no UTF-8 form';
  const bad = FORBIDDEN_IN_NAME.exec(name);
  if (bad !== null) return `contains ${codePoint(bad[0])}; names may not contain spaces, "+" or control characters`;
  if (utf8.encode(name).length > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} UTF-8 bytes`;
  return null;
}

function assertKeyName(name: unknown, argument: string): asserts name is string {
  assertString(name, argument);
  const problem = keyNameProblem(name);
  if (problem !== null) throw keyInvalid(`${argument} ${quote(name)} ${problem} (${NOTE_SPEC}).`, { name: quote(name) });
}

function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The checks every note and note text shares (c2sp.org/signed-note "Format"): a size we are willing to read, valid
 * UTF-8 (a JavaScript string has an exact UTF-8 form only without unpaired surrogates), and no control character
 * but newline. Returns the UTF-8 bytes, which is what signatures cover.
 */
function noteBytes(text: string, what: string): Uint8Array {
  // UTF-8 never takes fewer bytes than UTF-16 code units, so this bounds the work before encoding.
  if (text.length > MAX_NOTE_BYTES) throw malformed(`The ${what} is larger than ${MAX_NOTE_BYTES} bytes.`, { limit: MAX_NOTE_BYTES });
  if (!text.isWellFormed()) throw malformed(`The ${what} contains an unpaired UTF-16 surrogate, so it is not valid UTF-8 (${NOTE_SPEC}).`);
  const control = FORBIDDEN_CONTROL.exec(text);
  if (control !== null) {
    throw malformed(
      `The ${what} contains the control character ${codePoint(control[0])} at offset ${control.index}; only newline is allowed (${NOTE_SPEC}).`,
      { offset: control.index },
    );
  }
  const bytes = utf8.encode(text);
  if (bytes.length > MAX_NOTE_BYTES) throw malformed(`The ${what} is larger than ${MAX_NOTE_BYTES} bytes.`, { limit: MAX_NOTE_BYTES });
  return bytes;
}

/** A note text as signers need it: the shared checks, and the final newline that makes it a sequence of lines. */
function noteTextBytes(text: string): Uint8Array {
  const bytes = noteBytes(text, 'note text');
  if (!text.endsWith('\n')) throw malformed(`The note text does not end with a newline (${NOTE_SPEC}).`);
  return bytes;
}

function signatureLine(name: string, keyId: Uint8Array, signature: Uint8Array): string {
  return `${SIGNATURE_PREFIX}${name} ${toBase64(concatBytes(keyId, signature))}\n`;
}

function parseSignatureLine(line: string, number: number): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw malformed(`Signature line ${number} does not start with an em dash (U+2014) and a space (${NOTE_SPEC}).`, { line: number });
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw malformed(`Signature line ${number} has no space between the key name and the signature (${NOTE_SPEC}).`, { line: number });
  const name = rest.slice(0, space);
  const problem = keyNameProblem(name);
  if (problem !== null) throw malformed(`The key name on signature line ${number} ${problem} (${NOTE_SPEC}).`, { line: number });
  const bytes = fromCanonicalBase64(rest.slice(space + 1));
  if (bytes === undefined) {
    throw malformed(`Signature line ${number} does not end in canonical padded standard base64 (RFC 4648 §4).`, { line: number });
  }
  if (bytes.length <= KEY_ID_LENGTH) {
    throw malformed(`Signature line ${number} holds ${bytes.length} bytes; it needs a 4-byte key id and a signature (${NOTE_SPEC}).`, {
      line: number,
    });
  }
  return { name, keyId: bytes.slice(0, KEY_ID_LENGTH), signature: bytes.slice(KEY_ID_LENGTH) };
}

/**
 * The 4-byte key id of an Ed25519 note key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (c2sp.org/signed-note
 * "Ed25519 signatures"). It only routes a signature to a candidate key; it is no fingerprint (an attacker can
 * collide it at will, and gains nothing: the signature still has to verify).
 *
 * @throws {LedgerError} `KEY_INVALID` when `name` is not a valid key name or `publicKey` is not 32 bytes.
 * @throws {TypeError} when `name` is not a string or `publicKey` not a Uint8Array.
 * @example
 * toHex(noteKeyId('PeterNeumann', peterPublicKey)); // 'c74f20a3'
 */
export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  assertKeyName(name, 'name');
  assertUint8Array(publicKey, 'publicKey');
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw keyInvalid(`publicKey must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}.`, { length: publicKey.length });
  }
  return sha256(utf8.encode(name), KEY_ID_INFIX, publicKey).slice(0, KEY_ID_LENGTH);
}

/**
 * The checkpoint body (the note text to sign), in the only spelling parseCheckpoint accepts: origin, decimal size
 * without leading zeros, padded base64 root hash, then the extension lines, each ending in a newline
 * (c2sp.org/tlog-checkpoint "Note text").
 *
 * @throws {LedgerError} `CHECKPOINT_MALFORMED` naming the field when the origin is empty or not one line of
 *   note-safe text, the size not a non-negative safe integer, the root not 32 bytes, an extension line empty or
 *   not note-safe, or the whole text over MAX_NOTE_BYTES.
 * @throws {TypeError} when `checkpoint` is not an object.
 * @example
 * formatCheckpoint({ origin: 'example.com/log', size: 5, rootHash, extensions: [] });
 * // 'example.com/log\n5\n<44 base64 characters>\n'
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (typeof checkpoint !== 'object' || checkpoint === null) throw new TypeError('checkpoint must be an object');
  const { origin, size, rootHash, extensions } = checkpoint;
  if (typeof origin !== 'string' || origin.length === 0) throw malformed(`The checkpoint origin must be a non-empty string (${CHECKPOINT_SPEC}).`);
  assertLineText(origin, 'The checkpoint origin');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw malformed(`The checkpoint size must be a non-negative safe integer, got ${String(size)}.`);
  }
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== ROOT_HASH_LENGTH) {
    throw malformed(`The checkpoint root hash must be a ${ROOT_HASH_LENGTH}-byte Uint8Array.`);
  }
  if (!Array.isArray(extensions)) throw malformed('The checkpoint extensions must be an array of strings.');
  extensions.forEach((line: unknown, index) => {
    if (typeof line !== 'string' || line.length === 0) {
      throw malformed(`Checkpoint extension ${index} must be a non-empty string (${CHECKPOINT_SPEC}).`, { extension: index });
    }
    assertLineText(line, `Checkpoint extension ${index}`);
  });
  const text = `${[origin, String(size), toBase64(rootHash), ...extensions].join('\n')}\n`;
  noteBytes(text, 'checkpoint text');
  return text;
}

/** One line of note text: valid UTF-8, no newline and no other control character. */
function assertLineText(line: string, what: string): void {
  if (!line.isWellFormed()) throw malformed(`${what} contains an unpaired UTF-16 surrogate, so it is not valid UTF-8.`);
  const bad = /[\u0000-\u001f]/.exec(line);
  if (bad !== null) throw malformed(`${what} contains the control character ${codePoint(bad[0])}; it must be one line of text.`);
}

/**
 * Reads a checkpoint body strictly: exactly the spelling formatCheckpoint writes, so a checkpoint has one text
 * and one signature covers one meaning (c2sp.org/tlog-checkpoint). Reading it says nothing about who vouches
 * for it: parse the signed note and call verifiedBy first.
 *
 * @throws {LedgerError} `CHECKPOINT_MALFORMED` with one sentence naming the line at fault: fewer than three
 *   lines, no final newline, a control character (CR included), an empty origin, a size with leading zeros or
 *   beyond 2^53 − 1, a root hash that is not canonical base64 of 32 bytes, or an empty extension line.
 * @throws {TypeError} when `text` is not a string.
 * @example
 * const { text } = parseSignedNote(note);
 * const { origin, size, rootHash } = parseCheckpoint(text);
 */
export function parseCheckpoint(text: string): Checkpoint {
  assertString(text, 'text');
  noteBytes(text, 'checkpoint text');
  if (!text.endsWith('\n')) throw malformed(`The checkpoint text does not end with a newline (${CHECKPOINT_SPEC}).`);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) {
    throw malformed(`The checkpoint has ${lines.length} line${lines.length === 1 ? '' : 's'}; it needs an origin, a tree size and a root hash (${CHECKPOINT_SPEC}).`, {
      lines: lines.length,
    });
  }
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw malformed(`The checkpoint origin (line 1) is empty (${CHECKPOINT_SPEC}).`, { line: 1 });
  const size = parseSize(sizeText);
  const rootHash = fromCanonicalBase64(rootText);
  if (rootHash === undefined) {
    throw malformed(`The checkpoint root hash (line 3) ${quote(rootText)} is not canonical padded standard base64 (RFC 4648 §4).`, { line: 3 });
  }
  if (rootHash.length !== ROOT_HASH_LENGTH) {
    throw malformed(`The checkpoint root hash (line 3) is ${rootHash.length} bytes; a SHA-256 Merkle tree head is ${ROOT_HASH_LENGTH}.`, {
      line: 3,
      length: rootHash.length,
    });
  }
  const empty = extensions.indexOf('');
  if (empty >= 0) {
    throw malformed(`Line ${empty + 4} of the checkpoint is empty; extension lines must be non-empty (${CHECKPOINT_SPEC}).`, { line: empty + 4 });
  }
  return { origin, size, rootHash, extensions };
}

function parseSize(text: string): number {
  if (!DECIMAL.test(text)) {
    const why = /^0[0-9]+$/.test(text) ? 'has leading zeros' : 'is not a decimal number';
    throw malformed(`The checkpoint tree size (line 2) ${quote(text)} ${why} (${CHECKPOINT_SPEC}).`, { line: 2 });
  }
  const size = text.length <= 16 ? Number(text) : Number.POSITIVE_INFINITY;
  if (!Number.isSafeInteger(size)) {
    throw malformed(`The checkpoint tree size (line 2) ${quote(text)} is above 2^53 − 1, the largest size provledger reads exactly.`, { line: 2 });
  }
  return size;
}

/**
 * Signs `text` as a note: the text, one blank line, and the line `— <name> base64(keyId ‖ Ed25519(text))`
 * (c2sp.org/signed-note). For a checkpoint the log's key name should be its origin (c2sp.org/tlog-checkpoint).
 *
 * @throws {LedgerError} `CHECKPOINT_MALFORMED` when `text` is not note text (no final newline, a control
 *   character, an unpaired surrogate) or the note would exceed MAX_NOTE_BYTES; `KEY_INVALID` for a bad name.
 * @throws {TypeError} when `text` or `name` is not a string or `key` not a SigningKey.
 * @example
 * const note = signNote(formatCheckpoint(checkpoint), checkpoint.origin, logKey);
 */
export function signNote(text: string, name: string, key: SigningKey): string {
  assertString(text, 'text');
  assertKeyName(name, 'name');
  assertSigningKey(key);
  const message = noteTextBytes(text);
  const line = signatureLine(name, noteKeyId(name, key.publicKey), key.sign(message));
  return boundedNote(`${text}\n${line}`);
}

/**
 * Cosigns a signed note (a witness's job): its signature line goes last, after the existing ones, and replaces an
 * earlier line by the same name and key id, as Go's note.Sign does. It does not check the signatures already
 * there: a witness calls verifiedBy first and signs only what it checked.
 *
 * @throws {LedgerError} `CHECKPOINT_MALFORMED` when `note` does not parse or would exceed MAX_SIGNATURES lines
 *   or MAX_NOTE_BYTES; `KEY_INVALID` for a bad name.
 * @throws {TypeError} when `note` or `name` is not a string or `key` not a SigningKey.
 * @example
 * const witnessed = addSignature(note, 'witness.example/w1', witnessKey);
 */
export function addSignature(note: string, name: string, key: SigningKey): string {
  const { text, signatures } = parseSignedNote(note);
  assertKeyName(name, 'name');
  assertSigningKey(key);
  const keyId = noteKeyId(name, key.publicKey);
  const kept = signatures.filter((s) => !(s.name === name && equalBytes(s.keyId, keyId)));
  if (kept.length + 1 > MAX_SIGNATURES) {
    throw malformed(`The note already has ${kept.length} other signatures; a note may carry at most ${MAX_SIGNATURES}.`, { limit: MAX_SIGNATURES });
  }
  const lines = kept.map((s) => signatureLine(s.name, s.keyId, s.signature)).join('');
  const line = signatureLine(name, keyId, key.sign(utf8.encode(text)));
  return boundedNote(`${text}\n${lines}${line}`);
}

/** Never hand out a note that parseSignedNote (ours or another bounded reader's) would refuse for its size. */
function boundedNote(note: string): string {
  noteBytes(note, 'signed note');
  return note;
}

/**
 * Splits a signed note into its text and signature lines without trusting any of it (c2sp.org/signed-note
 * "Format"): the text runs up to the last blank line and keeps its final newline; every line after it is a
 * signature line. Unknown signature types are kept (callers ignore them), so a cosigned note stays readable.
 *
 * @throws {LedgerError} `CHECKPOINT_MALFORMED` naming the fault: over MAX_NOTE_BYTES, an unpaired surrogate, a
 *   control character other than newline (CR included), no blank line, no final newline, no signature line,
 *   more than MAX_SIGNATURES lines, or a signature line that is not `— <name> <canonical base64 of ≥ 5 bytes>`.
 * @throws {TypeError} when `note` is not a string.
 * @example
 * const { text, signatures } = parseSignedNote(note);
 * verifiedBy({ text, signatures }, [logVerifier]).length > 0;
 */
export function parseSignedNote(note: string): SignedNote {
  assertString(note, 'note');
  noteBytes(note, 'signed note');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed(`The note has no blank line between its text and its signatures (${NOTE_SPEC}).`);
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) throw malformed(`The note has no signature lines after its blank line (${NOTE_SPEC}).`);
  if (!block.endsWith('\n')) throw malformed(`The note does not end with a newline after its last signature line (${NOTE_SPEC}).`);
  const signatures: NoteSignature[] = [];
  for (let start = 0; start < block.length; ) {
    const end = block.indexOf('\n', start);
    if (signatures.length === MAX_SIGNATURES) {
      throw malformed(`The note has more than ${MAX_SIGNATURES} signature lines.`, { limit: MAX_SIGNATURES });
    }
    signatures.push(parseSignatureLine(block.slice(start, end), signatures.length + 1));
    start = end + 1;
  }
  return { text, signatures };
}

/**
 * parseSignedNote for bytes off the wire: decodes UTF-8 fatally (no replacement characters, and a leading BOM is
 * kept as text rather than silently dropped), so the text is exactly the bytes that were signed.
 *
 * @throws {LedgerError} `CHECKPOINT_MALFORMED` for invalid UTF-8 or over MAX_NOTE_BYTES, and as parseSignedNote.
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @example
 * const note = parseSignedNoteBytes(new Uint8Array(await response.arrayBuffer()));
 */
export function parseSignedNoteBytes(bytes: Uint8Array): SignedNote {
  assertUint8Array(bytes, 'bytes');
  if (bytes.length > MAX_NOTE_BYTES) throw malformed(`The signed note is larger than ${MAX_NOTE_BYTES} bytes.`, { limit: MAX_NOTE_BYTES });
  let note: string;
  try {
    note = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw malformed(`The signed note is not valid UTF-8 (${NOTE_SPEC}).`, {}, error);
  }
  return parseSignedNote(note);
}

interface KnownKey {
  readonly verifier: NoteVerifier;
  readonly key: VerifyingKey;
}

/** Signatures are routed by (name, key id), as c2sp.org/signed-note identifies keys; hex has no space, names neither. */
function slotOf(name: string, keyId: Uint8Array): string {
  return `${toHex(keyId)} ${name}`;
}

function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, KnownKey> {
  if (!Array.isArray(verifiers)) throw new TypeError('verifiers must be an array of NoteVerifier');
  const known = new Map<string, KnownKey>();
  verifiers.forEach((verifier: unknown, index) => {
    if (typeof verifier !== 'object' || verifier === null) throw new TypeError(`verifiers[${index}] must be a NoteVerifier`);
    const { name, publicKey } = verifier as NoteVerifier;
    assertKeyName(name, `verifiers[${index}].name`);
    const key = VerifyingKey.fromBytes(publicKey); // KEY_INVALID, KEY_WEAK: trust only keys that pass SPEC §2.2
    const slot = slotOf(name, noteKeyId(name, publicKey));
    const existing = known.get(slot);
    if (existing === undefined) {
      known.set(slot, { verifier: verifier as NoteVerifier, key });
    } else if (existing.key.hex !== key.hex) {
      // Go's VerifierList calls this "ambiguous key": a signature could not say which of the two it claims.
      throw keyInvalid(`verifiers[${index}] shares the name ${quote(name)} and key id with another verifier but has a different key.`, {
        index,
      });
    }
  });
  return known;
}

/**
 * The verifiers whose signature on the note is valid: the signature line names the verifier's name and key id
 * AND the signature passes the strict Ed25519 rule (SPEC §2.3) over the UTF-8 text. Returns the caller's own
 * verifier objects, each once, in the order their signatures appear; an empty array means no known key signed,
 * and c2sp.org/signed-note says the note MUST then be rejected.
 *
 * Signatures by unknown keys, including ones that share only the name or only the key id with a known key, are
 * ignored, as the spec requires (that is how key rotation and witness cosigning stay compatible). A signature
 * that claims a known key but does not verify makes the whole note untrusted, as in Go's note.Open; unlike Go,
 * which checks only a key's first line, every line claiming a known key is checked (the spec says MUST verify).
 *
 * @throws {LedgerError} `CHECKPOINT_UNTRUSTED` (details: name, keyId hex, line = which signature line, from 1) when a line claiming a known key does
 *   not verify; `KEY_INVALID` for a verifier with a bad name or key length, or two verifiers with the same name
 *   and key id but different keys; `KEY_WEAK` for a verifier key refused by SPEC §2.2; `CHECKPOINT_MALFORMED`
 *   for a hand-built note whose text is not note text or that has more than MAX_SIGNATURES signatures.
 * @throws {TypeError} when `note` or `verifiers` has the wrong shape.
 * @example
 * const note = parseSignedNote(received);
 * if (!verifiedBy(note, [logVerifier]).includes(logVerifier)) throw new Error('not signed by the log');
 * const checkpoint = parseCheckpoint(note.text);
 */
export function verifiedBy(note: SignedNote, verifiers: readonly NoteVerifier[]): NoteVerifier[] {
  if (typeof note !== 'object' || note === null || !Array.isArray(note.signatures)) {
    throw new TypeError('note must be a SignedNote { text, signatures }');
  }
  assertString(note.text, 'note.text');
  const message = noteTextBytes(note.text);
  if (note.signatures.length > MAX_SIGNATURES) {
    throw malformed(`The note has ${note.signatures.length} signatures; at most ${MAX_SIGNATURES} are accepted.`, { limit: MAX_SIGNATURES });
  }
  const known = indexVerifiers(verifiers);
  const verified: NoteVerifier[] = [];
  note.signatures.forEach((signature, index) => {
    assertString(signature.name, `note.signatures[${index}].name`);
    assertUint8Array(signature.keyId, `note.signatures[${index}].keyId`);
    assertUint8Array(signature.signature, `note.signatures[${index}].signature`);
    const entry = known.get(slotOf(signature.name, signature.keyId));
    if (entry === undefined) return; // an unknown key: c2sp.org/signed-note says ignore it
    if (!entry.key.verify(signature.signature, message)) {
      const keyId = toHex(signature.keyId);
      throw new LedgerError(
        'CHECKPOINT_UNTRUSTED',
        house(`Signature line ${index + 1} claims the known key ${signature.name}+${keyId} but does not verify, so the note was altered or forged.`),
        { details: { name: signature.name, keyId, line: index + 1 } },
      );
    }
    if (!verified.includes(entry.verifier)) verified.push(entry.verifier);
  });
  return verified;
}

/**
 * The verifier key string that Go's note.NewVerifier and other C2SP tools read: `<name>+<key id, 8 lower-case
 * hex>+<base64(0x01 ‖ 32-byte public key)>`.
 *
 * @throws {LedgerError} `KEY_INVALID` for a bad name or a key that is not 32 bytes; `KEY_WEAK` for a key refused
 *   by SPEC §2.2 (so we never publish a key that parseVerifierKey would refuse).
 * @throws {TypeError} when `verifier` has the wrong shape.
 * @example
 * formatVerifierKey({ name: 'example.com/log', publicKey: logKey.publicKey }); // 'example.com/log+1a2b3c4d+AT…'
 */
export function formatVerifierKey(verifier: NoteVerifier): string {
  if (typeof verifier !== 'object' || verifier === null) throw new TypeError('verifier must be a NoteVerifier');
  const { name, publicKey } = verifier;
  const keyId = noteKeyId(name, publicKey);
  VerifyingKey.fromBytes(publicKey);
  return `${name}+${toHex(keyId)}+${toBase64(concatBytes(new Uint8Array([SIGNATURE_TYPE_ED25519]), publicKey))}`;
}

/**
 * Reads a verifier key string strictly: the canonical form formatVerifierKey writes (lower-case hex, canonical
 * base64), an Ed25519 key (type 0x01) that passes SPEC §2.2, and a key id that matches the name and key, so a
 * typo cannot silently point at another key.
 *
 * @throws {LedgerError} `KEY_INVALID` naming the fault (missing field, bad name, non-lower-case or short hex,
 *   non-canonical base64, a signature type other than Ed25519, a key that is not 32 bytes, a key id that does
 *   not match); `KEY_WEAK` for a key refused by SPEC §2.2.
 * @throws {TypeError} when `text` is not a string.
 * @example
 * const peter = parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
 */
export function parseVerifierKey(text: string): NoteVerifier {
  assertString(text, 'text');
  if (text.length > MAX_VERIFIER_KEY_LENGTH) throw keyInvalid(`The verifier key is longer than ${MAX_VERIFIER_KEY_LENGTH} characters.`);
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw keyInvalid('A verifier key is <name>+<key id>+<key>; this one has fewer than three fields.');
  const name = text.slice(0, first);
  const idText = text.slice(first + 1, second);
  const keyText = text.slice(second + 1);
  assertKeyName(name, 'The verifier key name');
  if (!KEY_ID_HEX.test(idText)) throw keyInvalid(`The verifier key id ${quote(idText)} is not 8 lower-case hex digits.`);
  const typed = fromCanonicalBase64(keyText);
  if (typed === undefined || typed.length === 0) throw keyInvalid('The verifier key data is not canonical padded standard base64 (RFC 4648 §4).');
  if (typed[0] !== SIGNATURE_TYPE_ED25519) {
    throw keyInvalid(`The verifier key has signature type 0x${typed[0]!.toString(16).padStart(2, '0')}; provledger verifies Ed25519 (0x01) only.`);
  }
  const publicKey = typed.slice(1);
  if (publicKey.length !== PUBLIC_KEY_LENGTH) throw keyInvalid(`The verifier key holds ${publicKey.length} key bytes; Ed25519 needs ${PUBLIC_KEY_LENGTH}.`);
  const expected = toHex(noteKeyId(name, publicKey));
  if (expected !== idText) throw keyInvalid(`The verifier key id ${idText} does not match its name and key (which give ${expected}).`);
  VerifyingKey.fromBytes(publicKey);
  return { name, publicKey };
}
