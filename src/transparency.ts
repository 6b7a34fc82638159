/**
 * Checkpoints and proofs from a ledger's side (SPEC §17): signing a checkpoint of the ledger as it stands,
 * accepting a checkpoint someone hands back (is it of this ledger, signed by one of its keys), and producing
 * proofs from the stored tree. Every proof is checked with the offline verifier before it is returned, so a
 * damaged tree can never hand out a proof that fails elsewhere.
 */
import { toHex } from './bytes.js';
import type { SigningKey } from './crypto/keys.js';
import { LedgerError } from './errors.js';
import type { Authority } from './domain/keys.js';
import { eventHash } from './event/event.js';
import { formatCheckpoint, parseCheckpoint, parseSignedNote, parseSignedNoteBytes, signNote, verifiedBy, type Checkpoint } from './merkle/checkpoint.js';
import { formatConsistencyProof, formatInclusionProof } from './merkle/proof-file.js';
import { consistencyProof, foldPeaks, Frontier, inclusionProof, leafHash, peakPositions, rootAt, verifyConsistency, verifyInclusion, type NodeReader } from './merkle/tree.js';
import { equalBytes } from './bytes.js';
import type { TrustedKey } from './merkle/verify-proof.js';

/** The checkpoint origin of a ledger: unique per ledger, free of spaces and "+" (c2sp.org/tlog-checkpoint). */
export function checkpointOrigin(ledgerId: string): string {
  return `provledger/${ledgerId}`;
}

/** The extension line that binds the tree to the hash chain: the hash of the last event the checkpoint covers. */
export const HEAD_EXTENSION = 'provledger-chain-head';

export function headExtension(hash: Uint8Array): string {
  return `${HEAD_EXTENSION} ${toHex(hash)}`;
}

/** The chain head a checkpoint names, if it carries our extension line. */
export function checkpointHeadHash(checkpoint: Checkpoint): Uint8Array | undefined {
  for (const line of checkpoint.extensions) {
    const match = /^provledger-chain-head ([0-9a-f]{64})$/.exec(line);
    if (match !== null) return new Uint8Array(Buffer.from(match[1]!, 'hex'));
  }
  return undefined;
}

export function signCheckpoint(ledgerId: string, size: number, root: Uint8Array, headHash: Uint8Array, key: SigningKey): string {
  const origin = checkpointOrigin(ledgerId);
  return signNote(formatCheckpoint({ origin, size, rootHash: root, extensions: [headExtension(headHash)] }), origin, key);
}

/** Where a checkpoint's checks start: the state committed to by the signer's previous checkpoint. */
export interface CheckpointBase {
  readonly size: number;
  readonly peaks: readonly Uint8Array[];
  /** The hash of event size−1, from the previous checkpoint's chain-head line. */
  readonly headHash: Uint8Array;
}

/**
 * The signer's previous checkpoint of this ledger, when the store keeps one (meta `checkpoint`, SPEC §17.3), as a
 * starting point: null when there is none, or it is not this key's, or it does not parse. A checkpoint of this
 * key that the stored tree no longer folds to, or one larger than the ledger, means the ledger was rewritten or
 * rolled back since: refused (STORE_CORRUPT), never silently restarted from the genesis.
 */
export async function checkpointBase(options: { readonly size: number; readonly origin: string; readonly signer: SigningKey; readonly stored: Uint8Array | undefined; readonly nodes: NodeReader }): Promise<CheckpointBase | null> {
  if (options.stored === undefined) return null;
  let last: Checkpoint;
  try {
    const note = parseSignedNoteBytes(options.stored);
    last = parseCheckpoint(note.text);
    if (verifiedBy(note, [{ name: options.origin, publicKey: options.signer.publicKey }]).length === 0 || last.origin !== options.origin || last.size === 0) return null;
  } catch {
    return null;
  }
  const headHash = checkpointHeadHash(last);
  if (headHash === undefined) return null;
  const refuse = (why: string) => new LedgerError('STORE_CORRUPT', `refusing to sign a checkpoint: ${why}; run \`provledger verify --checkpoint\` with your published checkpoints`);
  if (last.size > options.size) throw refuse(`this key signed size ${last.size} before, and the ledger now holds ${options.size} events`);
  const peaks = await options.nodes(peakPositions(last.size));
  if (!equalBytes(foldPeaks(peaks), last.rootHash)) throw refuse(`the ledger no longer matches this key's previous checkpoint at size ${last.size}`);
  return { size: last.size, peaks, headHash };
}

/** The root of the first `size` events: the base's peaks extended with the hashes of the events after it. */
export async function rootFromLog(base: CheckpointBase | null, size: number, events: (from: number, to: number) => AsyncIterable<{ readonly value: Uint8Array }>): Promise<Uint8Array> {
  const frontier = base === null ? Frontier.empty() : Frontier.fromPeaks(base.size, base.peaks);
  if (frontier.size < size) for await (const entry of events(frontier.size, size - 1)) frontier.append(leafHash(eventHash(entry.value)));
  if (frontier.size !== size) throw new LedgerError('STORE_CORRUPT', `the log does not hold events 0..${size - 1} in order; run \`provledger verify\``);
  return frontier.root();
}

export interface AcceptedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly headHash: Uint8Array | undefined;
  /** Hex keys whose signatures verified. */
  readonly signedBy: readonly string[];
}

/**
 * Reads a checkpoint handed to this ledger (SPEC §17.5): it must be well formed, name this ledger, cover at
 * least the genesis, and carry a valid signature by a key this ledger has ever authorised (checkpoints are not
 * dated, so a key's later revocation cannot be placed against them) or by one of `trusted`.
 * @throws LedgerError CHECKPOINT_MALFORMED, CHECKPOINT_FOREIGN, CHECKPOINT_UNTRUSTED.
 */
export function acceptCheckpoint(text: string, ledgerId: string, everAuthorised: Authority, trusted: readonly TrustedKey[] = []): AcceptedCheckpoint {
  const note = parseSignedNote(text);
  const checkpoint = parseCheckpoint(note.text);
  const origin = checkpointOrigin(ledgerId);
  if (checkpoint.origin !== origin) {
    throw new LedgerError('CHECKPOINT_FOREIGN', `the checkpoint is of ${checkpoint.origin}, not of this ledger (${origin}); use a checkpoint made from this ledger`);
  }
  if (checkpoint.size === 0) throw new LedgerError('CHECKPOINT_MALFORMED', 'the checkpoint is of an empty tree; a provledger checkpoint covers at least the genesis');
  const verifiers = [
    ...[...everAuthorised.keys()].map((hex) => ({ name: origin, publicKey: new Uint8Array(Buffer.from(hex, 'hex')) })),
    ...trusted.map((key) => ({ name: key.name ?? origin, publicKey: key.publicKey })),
  ];
  const signedBy = verifiedBy(note, verifiers).map((v) => toHex(v.publicKey));
  if (signedBy.length === 0) {
    throw new LedgerError('CHECKPOINT_UNTRUSTED', `the checkpoint carries no valid signature by a key of this ledger; make checkpoints with \`provledger checkpoint\`, or pass --trusted-key`);
  }
  return { checkpoint, headHash: checkpointHeadHash(checkpoint), signedBy: [...new Set(signedBy)] };
}

/** The ledger's tree at `size` must have the checkpoint's root, or the ledger no longer holds what it committed to. */
export async function assertMatches(accepted: AcceptedCheckpoint, ledgerSize: number, nodes: NodeReader, eventHashAt: (seq: number) => Promise<Uint8Array>): Promise<void> {
  const { checkpoint } = accepted;
  if (checkpoint.size > ledgerSize) {
    throw new LedgerError('CHECKPOINT_MISMATCH', `the checkpoint commits to ${checkpoint.size} events, but this ledger holds ${ledgerSize}: it was truncated; run \`provledger verify --checkpoint FILE\``);
  }
  const root = await rootAt(checkpoint.size, nodes);
  const headOk = accepted.headHash === undefined || equalBytes(await eventHashAt(checkpoint.size - 1), accepted.headHash);
  if (!equalBytes(root, checkpoint.rootHash) || !headOk) {
    throw new LedgerError('CHECKPOINT_MISMATCH', `this ledger's first ${checkpoint.size} events do not match the checkpoint: it was rewritten or forked since, or its tree is damaged; run \`provledger verify --checkpoint FILE\``);
  }
}

/** An inclusion proof file for the event stored as `bytes` at `seq`, checked before it is returned. */
export async function proveInclusion(seq: number, bytes: Uint8Array, accepted: AcceptedCheckpoint, checkpointText: string, nodes: NodeReader): Promise<string> {
  const { checkpoint } = accepted;
  if (seq >= checkpoint.size) {
    throw new LedgerError('INVALID_ARGUMENT', `event ${seq} is not covered by the checkpoint, which ends at event ${checkpoint.size - 1}; make a newer checkpoint`);
  }
  const hashes = await inclusionProof(seq, checkpoint.size, nodes);
  if (!verifyInclusion(leafHash(eventHash(bytes)), seq, checkpoint.size, hashes, checkpoint.rootHash)) {
    throw new LedgerError('STORE_CORRUPT', `the stored Merkle tree gives a proof for event ${seq} that does not verify; run \`provledger verify\``);
  }
  return formatInclusionProof({ extra: bytes, index: seq, hashes, checkpoint: checkpointText });
}

/** A consistency proof file between two accepted checkpoints, checked before it is returned. */
export async function proveConsistency(older: AcceptedCheckpoint, olderText: string, newer: AcceptedCheckpoint, newerText: string, nodes: NodeReader): Promise<string> {
  const [m, n] = [older.checkpoint, newer.checkpoint];
  if (m.size > n.size) throw new LedgerError('INVALID_ARGUMENT', `the --from checkpoint (size ${m.size}) is newer than the --to checkpoint (size ${n.size}); swap them`);
  const hashes = await consistencyProof(m.size, n.size, nodes);
  if (!verifyConsistency(m.size, n.size, m.rootHash, n.rootHash, hashes)) {
    throw new LedgerError('STORE_CORRUPT', 'the stored Merkle tree gives a consistency proof that does not verify; run `provledger verify`');
  }
  return formatConsistencyProof({ hashes, older: olderText, newer: newerText });
}
