/**
 * Offline verification of checkpoints and proofs (SPEC §17.6): pure functions that need no ledger and no
 * storage, and treat every input as attacker-controlled. They never throw for what they are given; they
 * return a verdict whose code says what failed. Trust comes only from the caller's keys: a proof signed by
 * anyone else proves nothing, however well-formed.
 */
import { equalBytes, toHex } from '../bytes.js';
import { VerifyingKey } from '../crypto/ed25519.js';
import { isLedgerError } from '../errors.js';
import { openEvent, type EventBody } from '../event/event.js';
import { parseCheckpoint, parseSignedNote, verifiedBy, type Checkpoint } from './checkpoint.js';
import { parseConsistencyProof, parseInclusionProof } from './proof-file.js';
import { leafHash, verifyConsistency as verifyConsistencyPath, verifyInclusion as verifyInclusionPath } from './tree.js';

/** A key the verifier trusts to sign checkpoints. Without a name, the checkpoint's origin is its name (SPEC §17.3). */
export interface TrustedKey {
  readonly publicKey: Uint8Array;
  readonly name?: string;
}

export const PROOF_VERDICT_CODES = [
  'MALFORMED', //            not a checkpoint, proof or bundle at all
  'UNTRUSTED_CHECKPOINT', // no signature on the checkpoint by a trusted key
  'CHECKPOINT_MISMATCH', //  the proof is against another tree than the checkpoint given
  'INCLUSION_FAILED', //     the inclusion proof does not lead to the checkpoint's root
  'CONSISTENCY_FAILED', //   the newer checkpoint's tree does not extend the older one's
  'EVENT_INVALID', //        the event carried does not decode, sits at another seq, or is not validly signed
  'AUTHOR_UNAUTHORIZED', //  (bundles) an event's author was not allowed to write at its seq
  'HISTORY_INCOMPLETE', //   (bundles) the events do not form the record's history from version 1
] as const;
export type ProofVerdictCode = (typeof PROOF_VERDICT_CODES)[number];

export type Verdict<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly code: ProofVerdictCode; readonly message: string };

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** Hex public keys of the trusted keys whose signatures verified. */
  readonly signedBy: readonly string[];
}

/** A proved event: what the proof's extra data says, now known to be in the log at `seq`. */
export interface ProvedEvent {
  readonly seq: number;
  readonly hash: string;
  readonly type: string;
  readonly author: string;
  readonly timeMs: number;
}

export interface VerifiedInclusion extends VerifiedCheckpoint {
  readonly index: number;
  /** The event the proof carries; null when the caller supplied the event hash instead. */
  readonly event: ProvedEvent | null;
}

export interface VerifiedConsistency {
  readonly older: VerifiedCheckpoint;
  readonly newer: VerifiedCheckpoint;
}

const fail = <C extends ProofVerdictCode>(code: C, message: string) => ({ ok: false, code, message }) as const;

/**
 * Checks a signed checkpoint: its exact format, and at least one valid signature by a trusted key.
 * @example const v = verifyCheckpoint(text, [{ publicKey }]); if (v.ok) console.log(v.checkpoint.size);
 */
export function verifyCheckpoint(note: string, trusted: readonly TrustedKey[]): Verdict<VerifiedCheckpoint> {
  let checkpoint: Checkpoint;
  let signedBy: string[];
  try {
    const parsed = parseSignedNote(note);
    checkpoint = parseCheckpoint(parsed.text);
    const verifiers = trusted.map((key) => ({ name: key.name ?? checkpoint.origin, publicKey: key.publicKey }));
    signedBy = verifiedBy(parsed, verifiers).map((v) => toHex(v.publicKey));
  } catch (error) {
    return asVerdict(error);
  }
  if (signedBy.length === 0) {
    return fail('UNTRUSTED_CHECKPOINT', `the checkpoint of ${checkpoint.origin} at size ${checkpoint.size} carries no valid signature by a trusted key`);
  }
  return { ok: true, checkpoint, signedBy };
}

export interface InclusionOptions {
  readonly trustedKeys: readonly TrustedKey[];
  /** A checkpoint the caller holds; the proof's own must be of the same tree (origin, size and root). */
  readonly checkpoint?: string;
  /** The leaf's event hash, for a proof that carries no event. */
  readonly eventHash?: Uint8Array;
}

/**
 * Checks an inclusion proof file (a C2SP tlog-proof): the checkpoint is signed by a trusted key, the event it
 * carries decodes strictly, sits at the proof's index and is validly signed, and the audit path leads from
 * the event's leaf to the checkpoint's root (RFC 9162 §2.1.3.2).
 */
export function verifyInclusionProof(text: string, options: InclusionOptions): Verdict<VerifiedInclusion> {
  let proof;
  try {
    proof = parseInclusionProof(text);
  } catch (error) {
    return asVerdict(error);
  }
  const signed = verifyCheckpoint(proof.checkpoint, options.trustedKeys);
  if (!signed.ok) return signed;
  const { checkpoint } = signed;
  if (options.checkpoint !== undefined) {
    const held = verifyCheckpoint(options.checkpoint, options.trustedKeys);
    if (!held.ok) return held;
    if (!sameTree(held.checkpoint, checkpoint)) return fail('CHECKPOINT_MISMATCH', `the proof is against ${describe(checkpoint)}, not the checkpoint given (${describe(held.checkpoint)})`);
  }
  let leafData: Uint8Array;
  let event: ProvedEvent | null = null;
  if (proof.extra !== null) {
    const opened = openProvedEvent(proof.extra, proof.index);
    if (!opened.ok) return opened;
    event = opened.event;
    leafData = opened.hash;
    if (options.eventHash !== undefined && !equalBytes(options.eventHash, leafData)) return fail('EVENT_INVALID', `the event in the proof has hash ${event.hash}, not the one given`);
  } else if (options.eventHash !== undefined) {
    leafData = options.eventHash;
  } else {
    return fail('MALFORMED', 'the proof carries no event (no "extra" line) and no event hash was given');
  }
  if (proof.index >= checkpoint.size) return fail('INCLUSION_FAILED', `index ${proof.index} is not below the checkpoint's size ${checkpoint.size}`);
  if (!verifyInclusionPath(leafHash(leafData), proof.index, checkpoint.size, proof.hashes, checkpoint.rootHash)) {
    return fail('INCLUSION_FAILED', `the audit path does not lead from event ${proof.index} to the root of ${describe(checkpoint)}`);
  }
  return { ok: true, checkpoint, signedBy: signed.signedBy, index: proof.index, event };
}

/**
 * Checks a consistency proof file: both checkpoints are signed by trusted keys, name the same origin, and the
 * proof shows the newer tree extends the older one (RFC 9162 §2.1.4.2).
 */
export function verifyConsistencyProof(text: string, options: { readonly trustedKeys: readonly TrustedKey[] }): Verdict<VerifiedConsistency> {
  let proof;
  try {
    proof = parseConsistencyProof(text);
  } catch (error) {
    return asVerdict(error);
  }
  const older = verifyCheckpoint(proof.older, options.trustedKeys);
  if (!older.ok) return older;
  const newer = verifyCheckpoint(proof.newer, options.trustedKeys);
  if (!newer.ok) return newer;
  const [m, n] = [older.checkpoint, newer.checkpoint];
  if (m.origin !== n.origin) return fail('CHECKPOINT_MISMATCH', `the checkpoints name different logs (${m.origin} and ${n.origin})`);
  if (m.size > n.size) return fail('CONSISTENCY_FAILED', `the older checkpoint (size ${m.size}) is larger than the newer one (size ${n.size})`);
  if (m.size === 0) return fail('CONSISTENCY_FAILED', 'the older checkpoint is of an empty tree, which every tree extends; nothing to prove');
  if (!verifyConsistencyPath(m.size, n.size, m.rootHash, n.rootHash, proof.hashes)) {
    return fail('CONSISTENCY_FAILED', `the proof does not show that ${describe(n)} extends ${describe(m)}: the log was rewritten or forked`);
  }
  return { ok: true, older, newer };
}

/** Decodes an event carried by a proof and checks it stands where the proof puts it, signed by its author. */
export function openProvedEvent(bytes: Uint8Array, seq: number): { ok: true; event: ProvedEvent; hash: Uint8Array; body: EventBody } | { ok: false; code: 'EVENT_INVALID'; message: string } {
  let sealed;
  try {
    sealed = openEvent(bytes);
  } catch (error) {
    return fail('EVENT_INVALID', `the event does not decode: ${(error as Error).message}`);
  }
  const { body } = sealed;
  if (body.seq !== seq) return fail('EVENT_INVALID', `the event says it is event ${body.seq}, not ${seq}`);
  let valid = false;
  try {
    valid = VerifyingKey.fromBytes(body.author).verify(sealed.signature, sealed.signedMessage);
  } catch {
    valid = false;
  }
  if (!valid) return fail('EVENT_INVALID', `the signature of event ${seq} does not verify under its author key ${toHex(body.author)}`);
  return {
    ok: true,
    hash: sealed.hash,
    body,
    event: { seq, hash: toHex(sealed.hash), type: body.type, author: toHex(body.author), timeMs: body.ts },
  };
}

export function sameTree(a: Checkpoint, b: Checkpoint): boolean {
  return a.origin === b.origin && a.size === b.size && equalBytes(a.rootHash, b.rootHash);
}

function describe(c: Checkpoint): string {
  return `${c.origin} at size ${c.size}`;
}

function asVerdict(error: unknown): { ok: false; code: ProofVerdictCode; message: string } {
  if (isLedgerError(error)) return fail(error.code === 'CHECKPOINT_UNTRUSTED' ? 'UNTRUSTED_CHECKPOINT' : 'MALFORMED', error.message);
  throw error;
}
