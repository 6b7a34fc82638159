/**
 * Sample proofs (SPEC §21.6): a text file showing that one sample (a fingerprint, and its licence in a licensed
 * set) is in a sample set, checked offline against nothing but the caller's trusted keys. The file carries the
 * sample set's record event as stored, so the root, count and author come from signed bytes, never from the
 * file's own claims; optionally it carries a C2SP inclusion proof of that event against a checkpoint, so the
 * record is also shown to be in the ledger. Parsing is strict and bounded; the verifier never throws.
 */
import { equalBytes, fromHex, toHex } from '../bytes.js';
import { VerifyingKey } from '../crypto/ed25519.js';
import { isLedgerError, LedgerError } from '../errors.js';
import { openEvent, type JsonValue } from '../event/event.js';
import { fromBase64, INCLUSION_HEADER, MAX_PROOF_BYTES, MAX_PROOF_HASHES, toBase64 } from './proof-file.js';
import { sampleLeafHash } from './sample-tree.js';
import { verifyInclusion } from './tree.js';
import { verifyInclusionProof, type ProvedEvent, type TrustedKey, type Verdict } from './verify-proof.js';

export const SAMPLE_PROOF_HEADER = 'provledger/sample-proof@v1';
/** A record event (≤ 1 MiB, in base64) and an inclusion proof that carries it again, with its checkpoint. */
export const MAX_SAMPLE_PROOF_BYTES = 2 * MAX_PROOF_BYTES;

export interface SampleProofFile {
  /** The stored bytes of the sample-set record event (its create or update). */
  readonly record: Uint8Array;
  /** 64 lower-case hex characters. */
  readonly fingerprint: string;
  /** The sample's canonical licence, in a licensed set; null otherwise. */
  readonly license: string | null;
  /** The sample's position among the set's sorted leaves. */
  readonly index: number;
  readonly hashes: readonly Uint8Array[];
  /** A C2SP tlog-proof (SPEC §17.4) of the record event, or null. */
  readonly ledgerProof: string | null;
}

/**
 * The text of a sample proof:
 * header, `record <base64>`, `fingerprint <hex>`, `license <text>` (licensed sets only), `index <n>`, one base64
 * hash per line (leaf side first), a blank line, then the ledger inclusion proof verbatim or nothing.
 */
export function formatSampleProof(proof: SampleProofFile): string {
  const lines = [SAMPLE_PROOF_HEADER, `record ${toBase64(proof.record)}`, `fingerprint ${proof.fingerprint}`];
  if (proof.license !== null) lines.push(`license ${proof.license}`);
  lines.push(`index ${proof.index}`, ...proof.hashes.map(toBase64), '');
  return `${lines.join('\n')}\n${proof.ledgerProof ?? ''}`;
}

/**
 * @throws LedgerError PROOF_MALFORMED with one sentence saying what is wrong.
 */
export function parseSampleProof(text: string): SampleProofFile {
  if (typeof text !== 'string') throw malformed('a proof must be text');
  if (text.length > MAX_SAMPLE_PROOF_BYTES) throw malformed(`the file is larger than ${MAX_SAMPLE_PROOF_BYTES} bytes, the most a sample proof can be`);
  if (text.includes('\r')) throw malformed('the file holds a carriage return; proofs use "\\n" line ends only');
  const lines = text.split('\n');
  if (lines[0] !== SAMPLE_PROOF_HEADER) throw malformed(`the first line must be "${SAMPLE_PROOF_HEADER}"`);
  const field = (at: number, name: string): string => {
    const line = lines[at];
    if (line === undefined || !line.startsWith(`${name} `)) throw malformed(`line ${at + 1} must be "${name} …"`);
    return line.slice(name.length + 1);
  };
  const record = fromBase64(field(1, 'record'), 'line 2 (record)');
  if (record.length === 0) throw malformed('line 2: the record event is empty');
  const fingerprint = field(2, 'fingerprint');
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw malformed('line 3: the fingerprint must be 64 lower-case hex characters');
  let at = 3;
  let license: string | null = null;
  if (lines[at]?.startsWith('license ') === true) {
    license = field(at, 'license');
    if (license === '' || license.length > 1000 || /[\u0000-\u001f\u007f]/.test(license)) throw malformed(`line ${at + 1}: the licence must be 1 to 1000 printable characters`);
    at++;
  }
  const indexText = field(at, 'index');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(indexText) || !Number.isSafeInteger(Number(indexText))) throw malformed(`line ${at + 1}: the index must be a decimal number without leading zeros`);
  at++;
  const hashes: Uint8Array[] = [];
  for (; at < lines.length && lines[at] !== ''; at++) {
    if (hashes.length === MAX_PROOF_HASHES) throw malformed(`more than ${MAX_PROOF_HASHES} proof hashes`);
    const hash = fromBase64(lines[at]!, `line ${at + 1} (proof hash)`);
    if (hash.length !== 32) throw malformed(`line ${at + 1}: a proof hash is 32 bytes, not ${hash.length}`);
    hashes.push(hash);
  }
  if (at >= lines.length) throw malformed('the proof hashes must be followed by a blank line');
  const rest = lines.slice(at + 1).join('\n');
  if (rest !== '' && !rest.startsWith(`${INCLUSION_HEADER}\n`)) throw malformed(`after the blank line comes nothing, or a ledger inclusion proof starting "${INCLUSION_HEADER}"`);
  return { record, fingerprint, license, index: Number(indexText), hashes, ledgerProof: rest === '' ? null : rest };
}

/** What a sample proof says: which sample, where in which set. Shared by the prover's result and the verdict. */
export interface ProvedSample {
  readonly id: string;
  readonly version: number;
  readonly fingerprint: string;
  readonly license: string | null;
  readonly index: number;
  readonly count: number;
  /** The sample set's root, hex. */
  readonly root: string;
}

export interface VerifiedSample extends ProvedSample {
  /** The record event, as signed. */
  readonly record: ProvedEvent;
  /** With a ledger proof: the checkpoint the record event is proved against. */
  readonly checkpoint: { readonly origin: string; readonly size: number; readonly signedBy: readonly string[] } | null;
}

const fail = (code: 'MALFORMED' | 'EVENT_INVALID' | 'INCLUSION_FAILED' | 'AUTHOR_UNAUTHORIZED', message: string) => ({ ok: false, code, message }) as const;

/**
 * Checks a sample proof (SPEC §21.6), in named steps: the file's form; the record event decodes strictly, is
 * validly signed and is a sample-set version (`root`, `count`, `fingerprint: "sha256"`); the sample's leaf
 * (with its licence exactly when the record lists `sampleLicenses`) leads along the audit path to the record's
 * root (RFC 9162 §2.1.3.2); and trust: with a ledger proof, that proof verifies against a checkpoint signed by
 * a trusted key and carries this very event; without one, the record's author is a trusted key.
 * @example const v = verifySampleProof(text, { trustedKeys: [{ publicKey }] }); if (v.ok) console.log(v.id, v.index);
 */
export function verifySampleProof(text: string, options: { readonly trustedKeys: readonly TrustedKey[] }): Verdict<VerifiedSample> {
  let proof: SampleProofFile;
  try {
    proof = parseSampleProof(text);
  } catch (error) {
    if (isLedgerError(error)) return fail('MALFORMED', error.message);
    throw error;
  }
  // 1. The record event, as signed.
  let sealed;
  try {
    sealed = openEvent(proof.record);
  } catch (error) {
    return fail('EVENT_INVALID', `the record event does not decode: ${(error as Error).message}`);
  }
  const { body } = sealed;
  let signed = false;
  try {
    signed = VerifyingKey.fromBytes(body.author).verify(sealed.signature, sealed.signedMessage);
  } catch {
    signed = false;
  }
  if (!signed) return fail('EVENT_INVALID', `the signature of the record event (seq ${body.seq}) does not verify under its author key ${toHex(body.author)}`);
  const set = sampleSetOf(body.type, body.payload);
  if (typeof set === 'string') return fail('EVENT_INVALID', `the event carried (seq ${body.seq}) is not a sample-set version: ${set}`);
  const event: ProvedEvent = { seq: body.seq, hash: toHex(sealed.hash), type: body.type, author: toHex(body.author), timeMs: body.ts };
  // 2. The sample's leaf, along the path, to the signed root.
  if (set.licensed !== (proof.license !== null)) {
    return fail('INCLUSION_FAILED', set.licensed ? `sample set ${set.id}@${set.version} carries licences, and the proof gives none for the sample` : `sample set ${set.id}@${set.version} carries no licences, and the proof gives one`);
  }
  if (proof.index >= set.count) return fail('INCLUSION_FAILED', `index ${proof.index} is not below the set's count ${set.count}`);
  const leaf = sampleLeafHash(fromHex(proof.fingerprint, 32)!, proof.license ?? undefined);
  if (!verifyInclusion(leaf, proof.index, set.count, proof.hashes, set.root)) {
    return fail('INCLUSION_FAILED', `the audit path does not lead from sample ${proof.fingerprint} at index ${proof.index} to the root of ${set.id}@${set.version}`);
  }
  // 3. Trust: the ledger's checkpoint vouches for the event, or the caller trusts its author.
  let checkpoint: VerifiedSample['checkpoint'] = null;
  if (proof.ledgerProof !== null) {
    const inLedger = verifyInclusionProof(proof.ledgerProof, { trustedKeys: options.trustedKeys, eventHash: sealed.hash });
    if (!inLedger.ok) return inLedger;
    checkpoint = { origin: inLedger.checkpoint.origin, size: inLedger.checkpoint.size, signedBy: inLedger.signedBy };
  } else if (!options.trustedKeys.some((key) => equalBytes(key.publicKey, body.author))) {
    return fail('AUTHOR_UNAUTHORIZED', `the record event is signed by ${toHex(body.author)}, which is not a trusted key; trust that key, or use a proof made with --checkpoint`);
  }
  return { ok: true, id: set.id, version: set.version, fingerprint: proof.fingerprint, license: proof.license, index: proof.index, count: set.count, root: toHex(set.root), record: event, checkpoint };
}

/** The fields of a sample-set version a proof relies on, read strictly from a decoded record event. */
function sampleSetOf(type: string, payload: JsonValue): { id: string; version: number; root: Uint8Array; count: number; licensed: boolean } | string {
  if (type !== 'record.create' && type !== 'record.update') return `its type is ${type}, not record.create or record.update`;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'its payload is not an object';
  const { id, version, kind, data } = payload;
  if (type === 'record.create' && kind !== 'sample-set') return `it creates a ${String(kind)}, not a sample-set`;
  if (typeof id !== 'string' || typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return 'it names no record id and version';
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'it has no record body';
  const root = typeof data['root'] === 'string' && /^[0-9a-f]{64}$/.test(data['root']) ? fromHex(data['root'], 32) : undefined;
  const count = data['count'];
  if (root === undefined || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || data['fingerprint'] !== 'sha256') return 'its body has no root, count and fingerprint "sha256"';
  return { id, version, root, count, licensed: data['sampleLicenses'] !== undefined };
}

function malformed(message: string): LedgerError {
  return new LedgerError('PROOF_MALFORMED', `not a valid sample proof: ${message}`);
}
