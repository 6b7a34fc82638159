/**
 * The public library API of provledger: explicit named exports only. Everything not exported here is
 * internal and may change without notice. See README.md for a tour and SPEC.md for the contract.
 */
export { Ledger } from './ledger.js';
export type {
  AppendInput,
  AppendResult,
  CreateOptions,
  FailureCode,
  Head,
  JsonValue,
  LedgerEvent,
  LedgerOptions,
  VerifyFailure,
  VerifyOptions,
  VerifyReport,
} from './ledger.js';
export { FAILURE_CODES } from './chain/failures.js';
export { LedgerError, isLedgerError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export { SigningKey } from './crypto/keys.js';
export { VerifyingKey, verifySignature } from './crypto/ed25519.js';
export { encodeCanonical, decodeCanonical } from './codec/canonical.js';
export { FORMAT_VERSION, DEFAULT_MAX_EVENT_BYTES } from './event/format.js';
export type { Records } from './records.js';
export type { Keys } from './keys.js';
export type { AuditReport, KeyAudit, RoleChange, RecordSignature, KeyStanding, Role, RecordVersion, RecordHistoryEntry } from './ledger.js';
// Transparency (SPEC §17): offline verification of checkpoints, proofs and bundles, needing no ledger.
export { verifyCheckpoint, verifyInclusionProof as verifyInclusion, verifyConsistencyProof as verifyConsistency, PROOF_VERDICT_CODES } from './merkle/verify-proof.js';
export type { TrustedKey, Verdict, ProofVerdictCode, VerifiedCheckpoint, VerifiedInclusion, VerifiedConsistency, ProvedEvent, InclusionOptions } from './merkle/verify-proof.js';
export { verifyBundle } from './bundle.js';
export type { VerifiedBundle, BundledVersion } from './bundle.js';
export { parseCheckpoint, parseSignedNote, parseVerifierKey, formatVerifierKey, noteKeyId } from './merkle/checkpoint.js';
export type { Checkpoint, SignedNote, NoteSignature, NoteVerifier } from './merkle/checkpoint.js';
// Links, lineage and ML records (SPEC §19, §21).
export type { Links, Link, Relation, UseRole, Lineage, LineageNode, LineageEdge, LineageOptions, Direction } from './links.js';
export type { Artifacts, Runs, ArtifactInput, ArtifactResult, ArtifactContent, ArtifactKind, RunStart, RunFinish } from './ml.js';
export { digestPaths, manifestDigest } from './artifacts/digest.js';
export type { ArtifactDigest, ManifestMember } from './artifacts/digest.js';
export type { Provenance, Impact, AffectedRecord, LicenseReport, LicensedRecord, DatasetDiff, MemberChange, StoredInvalidation, LicenseFinding } from './provenance.js';
// Sample sets (SPEC §21.5, §21.6): parse fingerprint files, and check sample proofs offline.
export type { Samples, SampleSetInput, SampleSetResult, SampleProof } from './samples.js';
export { parseSampleText, toSampleList, SampleListParser, MAX_SAMPLE_LICENSES } from './domain/sample-file.js';
export type { SampleList } from './domain/sample-file.js';
export { readSampleFile } from './artifacts/sample-file.js';
export { verifySampleProof, parseSampleProof, formatSampleProof } from './merkle/sample-proof.js';
export type { VerifiedSample, SampleProofFile } from './merkle/sample-proof.js';
export { SAMPLE_CHUNK_SIZE, sampleLeafHash } from './merkle/sample-tree.js';
// Export and import (SPEC §25).
export type { ExportJsonlOptions, ExportProvOptions, ImportOptions, ImportPhase, ImportResult, ImportSource, ProvDocument, ProvAttributes, ProvValue } from './exchange.js';
export { EXPORT_FORMAT } from './exchange.js';
