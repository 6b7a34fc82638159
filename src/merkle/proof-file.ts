/**
 * The text formats of proofs (SPEC §17.4). Inclusion proofs are C2SP tlog-proof@v1 files
 * (c2sp.org/tlog-proof), so transparency-log tooling reads them; consistency proofs have no C2SP format and use
 * ours, built the same way. Parsing is strict and bounded: every input is attacker-controlled, and anything
 * that is not exactly a proof is PROOF_MALFORMED with one sentence saying what is wrong.
 */
import { LedgerError } from '../errors.js';

export const INCLUSION_HEADER = 'c2sp.org/tlog-proof@v1';
export const CONSISTENCY_HEADER = 'provledger/tlog-consistency@v1';
/** No proof for a tree under 2^53 leaves has more than 54 hashes; the verifiers (merkle/tree.ts) refuse longer ones. */
export const MAX_PROOF_HASHES = 64;
/** Proof files carry one event (≤ 1 MiB, base64) and one or two checkpoints. */
export const MAX_PROOF_BYTES = 2 * 1024 * 1024;

export interface InclusionProofFile {
  /** Opaque extra data; provledger puts the event's stored bytes here (SPEC §17.4). */
  readonly extra: Uint8Array | null;
  readonly index: number;
  readonly hashes: readonly Uint8Array[];
  /** The signed checkpoint, verbatim. */
  readonly checkpoint: string;
}

export interface ConsistencyProofFile {
  readonly hashes: readonly Uint8Array[];
  /** The older and newer signed checkpoints, verbatim. */
  readonly older: string;
  readonly newer: string;
}

export function formatInclusionProof(proof: InclusionProofFile): string {
  const lines = [INCLUSION_HEADER];
  if (proof.extra !== null) lines.push(`extra ${toBase64(proof.extra)}`);
  lines.push(`index ${proof.index}`, ...proof.hashes.map(toBase64), '');
  return `${lines.join('\n')}\n${proof.checkpoint}`;
}

export function parseInclusionProof(text: string): InclusionProofFile {
  const lines = proofLines(text, INCLUSION_HEADER);
  let at = 1;
  let extra: Uint8Array | null = null;
  if (lines[at]?.startsWith('extra ') === true) {
    extra = fromBase64(lines[at]!.slice('extra '.length), `line ${at + 1} (extra data)`);
    if (extra.length === 0) throw malformed(`line ${at + 1}: the extra data is empty; omit the line instead`);
    at++;
  }
  const indexLine = lines[at];
  if (indexLine === undefined || !indexLine.startsWith('index ')) throw malformed(`line ${at + 1} must be "index N"`);
  const index = parseDecimal(indexLine.slice('index '.length), `line ${at + 1} (index)`);
  at++;
  const { hashes, next } = hashLines(lines, at);
  return { extra, index, hashes, checkpoint: lines.slice(next).join('\n') };
}

export function formatConsistencyProof(proof: ConsistencyProofFile): string {
  return `${[CONSISTENCY_HEADER, ...proof.hashes.map(toBase64), ''].join('\n')}\n${proof.older}\n${proof.newer}`;
}

export function parseConsistencyProof(text: string): ConsistencyProofFile {
  const lines = proofLines(text, CONSISTENCY_HEADER);
  const { hashes, next } = hashLines(lines, 1);
  // The older note: its text up to the blank line, then its signature lines up to the next blank line.
  const bodyEnd = lines.indexOf('', next);
  if (bodyEnd < 0) throw malformed('the older checkpoint has no signature block');
  const sigEnd = lines.indexOf('', bodyEnd + 1);
  if (sigEnd < 0) throw malformed('the newer checkpoint is missing: the older one must be followed by a blank line and the newer one');
  return { hashes, older: `${lines.slice(next, sigEnd).join('\n')}\n`, newer: lines.slice(sigEnd + 1).join('\n') };
}

/** Splits a proof file into lines after checking its size, its header and that it is plain text. */
function proofLines(text: string, header: string): string[] {
  if (typeof text !== 'string') throw malformed('a proof must be text');
  if (text.length > MAX_PROOF_BYTES) throw malformed(`the file is larger than ${MAX_PROOF_BYTES} bytes, the most a proof can be`);
  if (text.includes('\r')) throw malformed('the file holds a carriage return; proofs use "\\n" line ends only');
  const lines = text.split('\n');
  if (lines[0] !== header) throw malformed(`the first line must be "${header}"`);
  return lines;
}

/** Base64 hash lines from `from` up to the blank line that ends them. */
function hashLines(lines: readonly string[], from: number): { hashes: Uint8Array[]; next: number } {
  const hashes: Uint8Array[] = [];
  let at = from;
  for (; at < lines.length && lines[at] !== ''; at++) {
    if (hashes.length === MAX_PROOF_HASHES) throw malformed(`more than ${MAX_PROOF_HASHES} proof hashes`);
    const hash = fromBase64(lines[at]!, `line ${at + 1} (proof hash)`);
    if (hash.length !== 32) throw malformed(`line ${at + 1}: a proof hash is 32 bytes, not ${hash.length}`);
    hashes.push(hash);
  }
  if (at >= lines.length) throw malformed('the proof hashes must be followed by a blank line and the checkpoint');
  return { hashes, next: at + 1 };
}

function parseDecimal(text: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) throw malformed(`${what}: "${text.slice(0, 20)}" is not a decimal number without leading zeros`);
  return Number(text);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard, padded base64 (RFC 4648 §4), canonical: the only encoding of its bytes. */
export function fromBase64(text: string, what: string): Uint8Array {
  const bytes = BASE64.test(text) ? new Uint8Array(Buffer.from(text, 'base64')) : undefined;
  if (bytes === undefined || toBase64(bytes) !== text) throw malformed(`${what} is not canonical base64`);
  return bytes;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function malformed(message: string): LedgerError {
  return new LedgerError('PROOF_MALFORMED', `not a valid proof: ${message}`);
}
