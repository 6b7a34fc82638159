/**
 * The façade: opens storage and orchestrates append, read and verify (SPEC §6–§8). It owns the in-memory
 * head while the ledger is open (the store's lock guarantees no other writer), the group-commit queue, and
 * the rule of who may write. It parses nothing from users and prints nothing: that is the CLI's job.
 */
import { availableParallelism } from 'node:os';
import { equalBytes, fromHex, readUint64be, toHex } from './bytes.js';
import { combineChecks, verifyChain, type ExtraChecks, type HeadRef, type ResumePoint, type StoredFacts } from './chain/verify.js';
import type { VerifyFailure } from './chain/failures.js';
import { encodeJsonValue } from './codec/canonical.js';
import { checkPublicKey } from './crypto/ed25519.js';
import type { SigningKey } from './crypto/keys.js';
import { VerifyPool } from './crypto/pool.js';
import { LedgerError } from './errors.js';
import { eventHash, isValidType, lazyPayloadBody, openEvent, openStoredEvent, prepareEvent, sealEvent, sealPrepared, EVENT_CHAIN_LAYOUT, PREV_UNKNOWN, type JsonValue, type SealedEvent, type UnsignedEvent } from './event/event.js';
import { CHAIN_CHUNK, ChainSigner, type ChainItem, type ChainStream } from './crypto/chain-signer.js';
import { DEFAULT_MAX_EVENT_BYTES, FORMAT_VERSION, GENESIS_PREV, GENESIS_TYPE, MAX_TIME_MS, MAX_TYPE_LENGTH, RESERVED_NAMESPACES } from './event/format.js';
import { genesisPayload } from './event/genesis.js';
import { LevelLogStore } from './log/level-store.js';
import type { LogStore, StoredHead, StoredMeta } from './log/store.js';
import { createProjectionChecker } from './projections/check.js';
import { createTreeChecker, loadFrontier, projectTree, type CheckpointClaim } from './projections/tree.js';
import { Frontier } from './merkle/tree.js';
import type { TrustedKey } from './merkle/verify-proof.js';
import { acceptCheckpoint, assertMatches, checkpointBase, checkpointOrigin, proveConsistency, proveInclusion, rootFromLog, signCheckpoint, type AcceptedCheckpoint, type CheckpointBase } from './transparency.js';
import { storedNodes } from './projections/tree.js';
import { formatBundle, type BundleEntry } from './bundle.js';
import { inclusionProof, leafHash, verifyInclusion } from './merkle/tree.js';
import { INDEX_NAMES, type IndexWrite, type RecordHead } from './projections/indexes.js';
import { linkEventOf, projectAuthority, projectEvent, recordEventOf } from './projections/project.js';
import { edgesOf, judgeLinkChange, linkActive, projectLink } from './projections/links.js';
import { linkIdentity, orient, type Link } from './domain/links.js';
import { Links } from './links.js';
import { Artifacts, Runs } from './ml.js';
import { isInvalidateType, judgeInvalidation, parseInvalidation, type Invalidation } from './domain/invalidation.js';
import { projectInvalidation, readInvalidations } from './projections/invalidations.js';
import { Provenance } from './provenance.js';
import { Samples } from './samples.js';
import { createSampleChecker, SampleSetFold } from './projections/samples.js';
import { readAuthority, readRecordHead, seqAtTime } from './projections/queries.js';
import { describeKey, genesisAuthority, isKeyEventType, judgeAuthor, type Authority, type KeyStanding } from './domain/keys.js';
import { Records, type DecideContext, type RecordSnapshot, type RecordVersion } from './records.js';
import { auditEntries, checkSignature, type AuditReport, type RecordSignature } from './audit.js';
import { Keys } from './keys.js';
import { exportJsonl, exportProvJson, importLedger, type ExchangeHost, type ExportJsonlOptions, type ExportProvOptions, type ImportOptions, type ImportResult, type ImportSource, type ProvDocument } from './exchange.js';

export type { JsonValue } from './event/event.js';
export type { RecordVersion, RecordHistoryEntry, RecordCommandOptions, ReadRecordOptions } from './records.js';
export type { KeyStanding, Role } from './domain/keys.js';
export type { AuditReport, KeyAudit, RoleChange, RecordSignature } from './audit.js';
export type { VerifyFailure, FailureCode } from './chain/failures.js';

export interface LedgerOptions {
  /** The key that signs appends. Reading and verifying need none. */
  readonly key?: SigningKey;
  /** fsync every commit (default true). Turning it off trades durability on power loss for speed. */
  readonly sync?: boolean;
  /** How long to wait for another process holding the ledger, in ms (default 30 000). */
  readonly waitMs?: number;
  /** Largest event accepted, in bytes (default and maximum 1 MiB). */
  readonly maxEventBytes?: number;
  /** Source of event times in ms since the Unix epoch (default Date.now); injectable for tests. */
  readonly clock?: () => number;
  /**
   * Once a commit group has this many events, they are signed on a worker thread while this thread decides and
   * encodes the rest of the group and builds its Merkle tree (default 256; Infinity never; SPEC §6.3). The bytes
   * are the same either way.
   */
  readonly workerSigningFrom?: number;
}

export interface CreateOptions extends LedgerOptions {
  readonly key: SigningKey;
}

export interface AppendInput {
  readonly type: string;
  readonly payload: unknown;
}

export interface AppendResult {
  readonly seq: number;
  /** Hex SHA-256 event hash (SPEC §3.3). */
  readonly hash: string;
  readonly timeMs: number;
}

/** One event as users see it: bytes fields in lower-case hex. */
export interface LedgerEvent {
  readonly seq: number;
  readonly hash: string;
  readonly prev: string;
  readonly timeMs: number;
  readonly type: string;
  readonly author: string;
  readonly payload: JsonValue;
  readonly signature: string;
  readonly formatVersion: number;
}

export interface Head {
  readonly seq: number;
  readonly hash: string;
  readonly timeMs: number;
}

export interface VerifyOptions {
  /** A head recorded earlier (`seq` and hex `hash`); verify fails if the ledger no longer contains it. */
  readonly expectHead?: { readonly seq: number; readonly hash: string };
  /** Called as events are checked, with the count so far and the total. */
  readonly onProgress?: (checked: number, total: number) => void;
  /** Signature-checking threads (default: one per core for large ledgers). */
  readonly threads?: number;
  /** Failures kept in the report (default 1000); all are counted in failureCount. */
  readonly maxFailures?: number;
  /**
   * A signed checkpoint (SPEC §17.3) the ledger must still contain: a truncated, forked or rewritten ledger
   * fails with CHECKPOINT_TRUNCATED or CHECKPOINT_MISMATCH.
   */
  readonly checkpoint?: string;
  /** Keys trusted to sign checkpoints besides the ledger's own. */
  readonly trustedKeys?: readonly TrustedKey[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly checked: number;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly failures: readonly VerifyFailure[];
  readonly failureCount: number;
  /** With `checkpoint`: what was checked against (SPEC §17.5); matched unless a CHECKPOINT_* failure says otherwise. */
  readonly checkpoint?: { readonly size: number; readonly root: string; readonly signedBy: readonly string[] };
}

interface PendingAppend {
  /** Produces the events to append, deciding against the state as of this point in the group. */
  readonly build: (context: DecideContext) => Promise<readonly (AppendInput | EncodedInput)[]>;
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

/** A point in the ledger: a seq, or a time (resolved to the last event at or before it). */
export type LedgerPoint = { readonly seq: number } | { readonly timeMs: number };

export interface RebuildOptions {
  readonly onProgress?: (done: number, total: number) => void;
}

/** Why a store that opened is not fit to append to; `projections` when its indexes cannot be trusted either. */
interface Damage {
  readonly reason: string;
  readonly projections: boolean;
}

/** Below this many events, worker start-up costs more than it saves. */
const PARALLEL_VERIFY_THRESHOLD = 2048;
/** Events per message to the signing worker while a group is being decided: the signer's own chunk. */
const STREAM_CHUNK = CHAIN_CHUNK;
/** Below this many events a group is signed in this thread: a worker round trip costs about as much as 5–10 signatures. */
const WORKER_SIGNING_FROM = 256;

export class Ledger {
  readonly #store: LogStore;
  readonly #key: SigningKey | undefined;
  readonly #clock: () => number;
  readonly #maxEventBytes: number;
  readonly #meta: StoredMeta | null;
  #head: StoredHead | null;
  /** Why appends are refused, when the store does not look like an intact ledger on open. */
  #damage: Damage | null;
  #queue: PendingAppend[] = [];
  #flushing = false;
  /** Set while a rebuild, verify or audit runs: commits wait meanwhile, so each sees one state of the ledger. */
  #exclusiveDone: Promise<void> | null = null;
  /** Set when close() begins: no whole-ledger pass may start after it. */
  #closing = false;
  /** True while this process rebuilds the projections: record reads are refused meanwhile (#assertReadable). */
  #rebuilding = false;
  /** Whole-ledger passes requested and not yet finished (running or waiting their turn). */
  #passes = 0;
  #closed = false;
  readonly #workerSealThreshold: number;
  #signer: ChainSigner | undefined;
  /** Updatable records: create, update, delete, read any version (SPEC §11). */
  readonly records: Records;
  /** Who may write: add, revoke and list keys (SPEC §14). */
  readonly keys: Keys;
  /** Links between records and lineage, as of any point (SPEC §19). */
  readonly links: Links;
  /** Datasets, models, software, configs and evaluations recorded by their content (SPEC §21). */
  readonly artifacts: Artifacts;
  /** Runs: started with their inputs, finished with their outputs (SPEC §21). */
  readonly runs: Runs;
  /** Invalidation, impact, licences and dataset diffs (SPEC §23). */
  readonly provenance: Provenance;
  /** Sample sets: fingerprints rolled into a Merkle root, and proofs of membership (SPEC §21.5). */
  readonly samples: Samples;
  /** The keys valid now, kept in step with every commit (loaded from the `ka` projection on open). */
  #authority: Authority;
  /** The Merkle tree's peaks after the head, kept in step with every commit (SPEC §17.2). */
  #frontier: Frontier;

  private constructor(store: LogStore, meta: StoredMeta | null, head: StoredHead | null, damage: Damage | null, authority: Authority, frontier: Frontier, options: LedgerOptions) {
    this.#store = store;
    this.#frontier = frontier;
    this.#authority = authority;
    this.#meta = meta;
    this.#head = head;
    this.#damage = damage;
    this.#key = options.key;
    this.#workerSealThreshold = options.workerSigningFrom ?? (availableParallelism() > 1 ? WORKER_SIGNING_FROM : Infinity);
    this.#clock = options.clock ?? Date.now;
    this.#maxEventBytes = checkMaxEventBytes(options.maxEventBytes);
    this.records = new Records({
      store,
      submit: (build) => this.#submit(build),
      resolvePoint: (point) => this.#resolvePoint(point),
      readEvent: (seq) => this.get(seq),
      assertReadable: () => this.#assertReadable(),
    });
    this.links = new Links({
      store,
      submit: (build) => this.#submit(build),
      resolvePoint: (point) => this.#resolvePoint(point),
      recordAt: (id, seq) => this.records.versionAt(id, seq),
      headSeq: () => this.#head?.seq ?? 0,
      assertReadable: () => this.#assertReadable(),
    });
    const ml = { submit: (build: PendingAppend['build']) => this.#submit(build), assertReadable: () => this.#assertReadable(), now: () => readClock(this.#clock, 0) };
    this.artifacts = new Artifacts(ml);
    this.runs = new Runs(ml);
    this.provenance = new Provenance({
      store,
      submit: (build) => this.#submit(build),
      resolvePoint: (point) => this.#resolvePoint(point),
      recordAt: (id, seq) => this.records.versionAt(id, seq),
      readVersion: (id, version) => this.records.get(id, { version }),
      links: this.links,
      assertReadable: () => this.#assertReadable(),
    });
    this.samples = new Samples({
      store,
      submit: (build) => this.#submit(build),
      assertReadable: () => this.#assertReadable(),
      readVersion: (id, version) => this.records.get(id, version === undefined ? {} : { version }),
      readEventBytes: (seq) => store.get(seq),
      proveInclusion: (seq, checkpoint) => this.proveInclusion(seq, checkpoint),
    });
    this.keys = new Keys({
      submit: (build) => this.#submit(build),
      authority: () => this.#authority,
      readAuthority: async (point) => (point === undefined ? this.#authority : readAuthority(this.#store, await this.#resolvePoint(point))),
      assertReadable: () => this.#assertReadable(),
    });
  }

  /** Projections may be read unless a rebuild was interrupted (SPEC §12.5). */
  #assertReadable(): void {
    this.#assertOpen();
    if (this.#damage?.projections === true) throw new LedgerError('STORE_CORRUPT', `refusing to read records: ${this.#damage.reason}`);
    // Half-built projections would answer wrongly (a record "not found"): refused, as on open after an interrupted rebuild.
    if (this.#rebuilding) throw new LedgerError('STORE_CORRUPT', 'refusing to read records: a rebuild of the projections is running in this process; read after it finishes');
  }

  /**
   * Creates a ledger at `dir` whose genesis names a new ledger id and `options.key` as owner.
   * @throws LedgerError LEDGER_EXISTS, INVALID_ARGUMENT (non-empty directory), KEY_WEAK, STORE_ERROR.
   * @example const ledger = await Ledger.create('./.provledger', { key: SigningKey.generate() });
   */
  static async create(dir: string, options: CreateOptions): Promise<Ledger> {
    const rejection = checkPublicKey(options.key.publicKey);
    if (rejection !== null) throw new LedgerError('KEY_WEAK', `the owner key fails the key rules (${rejection}); generate a new key with \`provledger keygen\``);
    const maxEventBytes = checkMaxEventBytes(options.maxEventBytes);
    checkWorkerSigningFrom(options.workerSigningFrom);
    const clock = options.clock ?? Date.now;
    const store = await LevelLogStore.open(dir, { create: true, waitMs: options.waitMs, sync: options.sync });
    try {
      const meta: StoredMeta = { ledgerId: globalThis.crypto.randomUUID(), owner: options.key.publicKey, formatVersion: FORMAT_VERSION };
      const genesis = sealEvent(
        { v: FORMAT_VERSION, seq: 0, prev: GENESIS_PREV, ts: readClock(clock, 0), type: GENESIS_TYPE, author: options.key.publicKey, payload: genesisPayload(meta) },
        options.key,
        maxEventBytes,
      );
      const head: StoredHead = { seq: 0, hash: genesis.hash, ts: genesis.body.ts };
      const { writes } = projectEvent({ seq: 0, ts: genesis.body.ts, type: genesis.body.type, payload: genesis.body.payload }, null, null);
      const authority = projectAuthority({ seq: 0, type: genesis.body.type, payload: genesis.body.payload, author: options.key.publicKeyHex }, null);
      const frontier = Frontier.empty();
      const tree = projectTree(frontier, genesis.hash);
      await store.commit({ events: [{ seq: 0, bytes: genesis.bytes }], head, meta, indexes: [...writes, ...authority.writes, ...tree] });
      return new Ledger(store, meta, head, null, authority.authority ?? genesisAuthority(options.key.publicKeyHex), frontier, options);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /**
   * Opens an existing ledger. A store whose head or ledger facts do not match its log still opens, so it can
   * be read and verified, but refuses appends.
   * @throws LedgerError LEDGER_NOT_FOUND, LEDGER_LOCKED (after waiting), STORE_CORRUPT.
   * @example const ledger = await Ledger.open('./.provledger'); console.log(await ledger.head());
   */
  static async open(dir: string, options: LedgerOptions = {}): Promise<Ledger> {
    checkMaxEventBytes(options.maxEventBytes);
    checkWorkerSigningFrom(options.workerSigningFrom);
    const store = await LevelLogStore.open(dir, { create: false, waitMs: options.waitMs, sync: options.sync });
    try {
      const [meta, head, damage] = await inspectStore(store);
      let authority: Authority = new Map<string, KeyStanding>();
      let authorityDamage: Damage | null = null;
      try {
        authority = await readAuthority(store);
      } catch {
        authorityDamage = { reason: 'the key-authority index is unreadable; run `provledger rebuild`', projections: true };
      }
      let frontier = Frontier.empty();
      let treeDamage: Damage | null = null;
      try {
        if (head !== null) frontier = await loadFrontier(store, head.seq + 1);
      } catch {
        treeDamage = { reason: 'the Merkle tree index is incomplete or unreadable; run `provledger rebuild`', projections: false };
      }
      return new Ledger(store, meta, head, damage ?? authorityDamage ?? treeDamage, authority, frontier, options);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** The ledger id from the genesis, or null when the store holds no readable ledger facts. */
  get id(): string | null {
    return this.#meta?.ledgerId ?? null;
  }

  /** The owner's public key in hex, or null when unknown. */
  get owner(): string | null {
    return this.#meta === null ? null : toHex(this.#meta.owner);
  }

  get dir(): string {
    return this.#store.dir;
  }

  /**
   * Appends one signed event. Concurrent calls are group-committed: many events, one atomic batch, one fsync.
   * @throws LedgerError INVALID_TYPE, INVALID_PAYLOAD, EVENT_TOO_LARGE, KEY_NOT_AUTHORIZED, USAGE (no key),
   * STORE_CORRUPT (damaged ledger), STORE_ERROR. Nothing is written when it throws.
   * @example const { seq, hash } = await ledger.append({ type: 'dataset.ingested', payload: { rows: 120 } });
   */
  async append(input: AppendInput): Promise<AppendResult> {
    const [result] = await this.appendMany([input]);
    return result!;
  }

  /**
   * Appends several events atomically: all are written, in order and consecutively, or none.
   * @throws as `append`.
   */
  async appendMany(inputs: readonly AppendInput[]): Promise<AppendResult[]> {
    this.#assertWritable();
    if (!Array.isArray(inputs)) throw new TypeError('appendMany: inputs must be an array');
    // Validated copies: a caller who changes an input (or a getter that answers differently) after this point
    // cannot change what is signed (security review).
    const frozen = inputs.map((input, index): EncodedInput => {
      if (typeof input !== 'object' || input === null) throw new LedgerError('INVALID_ARGUMENT', `inputs[${index}] must be an object with "type" and "payload"`);
      const { type, payload } = input;
      assertAppendType(type, inputs.length > 1 ? `inputs[${index}]` : 'input');
      // Encoded once, here: the bytes are what is signed, so nothing the caller does later can change it, and
      // the event body is assembled around them without walking the payload again (SPEC §6.3).
      const payloadBytes = encodeJsonValue(payload, '$');
      return { type, payloadBytes };
    });
    if (frozen.length === 0) return [];
    return this.#submit(async () => frozen);
  }

  /**
   * The event at `seq`, strictly decoded.
   * @throws LedgerError INVALID_ARGUMENT, EVENT_NOT_FOUND, STORE_CORRUPT (bytes that do not decode).
   */
  async get(seq: number): Promise<LedgerEvent> {
    this.#assertOpen();
    assertSeq(seq, 'seq');
    const bytes = await this.#store.get(seq);
    if (bytes === undefined) {
      const last = this.#head?.seq;
      throw new LedgerError('EVENT_NOT_FOUND', `there is no event ${seq}; the ledger holds events 0..${last ?? '(none)'}`, { details: { seq } });
    }
    return toLedgerEvent(seq, bytes, this.#maxEventBytes);
  }

  /**
   * The events from `from` to `to` (inclusive), in order, strictly decoded. Streams: memory does not grow with the range.
   * @throws LedgerError INVALID_ARGUMENT, STORE_CORRUPT.
   */
  async *events(range: { from?: number; to?: number } = {}): AsyncIterable<LedgerEvent> {
    this.#assertOpen();
    if (range.from !== undefined) assertSeq(range.from, 'from');
    if (range.to !== undefined) assertSeq(range.to, 'to');
    // Without `to`, the log as it ends now: the log is read in pages (SPEC §8.5), and a consumer that appends
    // as it reads must not chase its own events for ever.
    const last = range.to === undefined ? await this.#store.lastSeq() : undefined;
    const to = range.to ?? (last !== undefined && last >= 0 ? last : undefined);
    for await (const entry of this.#store.entries({ ...range, ...(to === undefined ? {} : { to }) })) {
      const seq = readUint64be(entry.key);
      if (seq === undefined) throw new LedgerError('STORE_CORRUPT', 'the log holds a key that is not a sequence number; run `provledger verify`');
      yield toLedgerEvent(seq, entry.value, this.#maxEventBytes);
    }
  }

  /** The last event's seq, hash and time, or null for a store with no events. */
  async head(): Promise<Head | null> {
    this.#assertOpen();
    const head = this.#head;
    return head === null ? null : { seq: head.seq, hash: toHex(head.hash), timeMs: head.ts };
  }

  /**
   * Checks the whole ledger (SPEC §7): every event's bytes, links, times, author and signature, and that the
   * stored head and ledger facts agree with the log. Never throws for what it finds: it reports.
   * Appends this process requests while it runs wait and commit after it (SPEC §8.4).
   * @throws LedgerError INVALID_ARGUMENT for a malformed expectHead.
   * @example const report = await ledger.verify(); if (!report.ok) console.error(report.failures);
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    this.#assertOpen();
    const expectHead = options.expectHead === undefined ? undefined : toHeadRef(options.expectHead);
    const accepted = options.checkpoint === undefined ? undefined : this.#acceptCheckpoint(options.checkpoint, options.trustedKeys);
    return this.#exclusive(() => this.#verify(options, expectHead, accepted));
  }

  async #verify(options: VerifyOptions, expectHead: HeadRef | undefined, accepted: AcceptedCheckpoint | undefined): Promise<VerifyReport> {
    const checkpoint = accepted === undefined ? undefined : { size: accepted.checkpoint.size, rootHash: accepted.checkpoint.rootHash, headHash: accepted.headHash };
    const stored = await this.#storedFacts();
    const total = stored.head === null ? 0 : stored.head.seq + 1;
    const threads = options.threads ?? (total >= PARALLEL_VERIFY_THRESHOLD ? availableParallelism() : 1);
    const pool = VerifyPool.create({ threads });
    try {
      const report = await verifyChain({ batches: this.#store.entryBatches() }, {
        verifySignatures: (jobs) => pool.verify(jobs),
        extraChecks: this.#checks(checkpoint),
        stored,
        expectHead,
        maxEventBytes: this.#maxEventBytes,
        maxFailures: options.maxFailures,
        onProgress: options.onProgress === undefined ? undefined : (checked) => options.onProgress!(checked, Math.max(total, checked)),
      });
      return {
        ok: report.ok,
        checked: report.checked,
        head: report.head === null ? null : { seq: report.head.seq, hash: toHex(report.head.hash) },
        failures: report.failures,
        failureCount: report.failureCount,
        ...(accepted === undefined ? {} : { checkpoint: { size: accepted.checkpoint.size, root: toHex(accepted.checkpoint.rootHash), signedBy: accepted.signedBy } }),
      };
    } finally {
      await pool.close();
    }
  }

  /**
   * The signature audit (SPEC §15): for every key its role history and what it signed, and every problem verify
   * finds. With `reference`, every signature is also checked with @noble/ed25519 and disagreements reported.
   * Streams; memory grows with the number of keys, not events. Appends requested meanwhile wait (SPEC §8.4).
   * @example const report = await ledger.audit(); for (const k of report.keys) console.log(k.label, k.signed.count);
   */
  async audit(options: { reference?: boolean; onProgress?: (checked: number, total: number) => void; maxFailures?: number; threads?: number } = {}): Promise<AuditReport> {
    this.#assertOpen();
    return this.#exclusive(() => this.#audit(options));
  }

  async #audit(options: { reference?: boolean; onProgress?: (checked: number, total: number) => void; maxFailures?: number; threads?: number }): Promise<AuditReport> {
    const stored = await this.#storedFacts();
    const total = stored.head === null ? 0 : stored.head.seq + 1;
    const pool = VerifyPool.create({ threads: options.threads ?? (total >= PARALLEL_VERIFY_THRESHOLD ? availableParallelism() : 1) });
    try {
      return await auditEntries({
        entries: { batches: this.#store.entryBatches() },
        verifySignatures: (jobs) => pool.verify(jobs),
        extraChecks: this.#checks(),
        stored,
        maxEventBytes: this.#maxEventBytes,
        maxFailures: options.maxFailures,
        reference: options.reference,
        onProgress: options.onProgress === undefined ? undefined : (checked) => options.onProgress!(checked, Math.max(total, checked)),
      });
    } finally {
      await pool.close();
    }
  }

  /**
   * Who changed one record, when, and whether each signature checks and each author was allowed to write then.
   * @throws LedgerError RECORD_NOT_FOUND, STORE_CORRUPT.
   */
  async auditRecord(id: string, options: { reference?: boolean } = {}): Promise<RecordSignature[]> {
    const result: RecordSignature[] = [];
    for await (const version of this.records.history(id)) {
      const bytes = await this.#store.get(version.seq);
      const event = openEvent(bytes!, this.#maxEventBytes);
      const authority = await readAuthority(this.#store, version.seq - 1);
      result.push({
        version: version.version,
        deleted: version.deleted,
        seq: version.seq,
        timeMs: version.timeMs,
        author: version.author,
        authorLabel: describeKey(authority, version.author),
        signatureValid: checkSignature(version.author, event.signature, event.signedMessage, options.reference === true),
        authorized: judgeAuthor(authority, version.author, event.body.type) === null,
      });
    }
    return result;
  }

  /**
   * A signed checkpoint of the ledger as it stands (SPEC §17.3): a C2SP signed note naming the ledger, its size,
   * its Merkle root and its chain head. The root is recomputed from the events since the key's previous
   * checkpoint and must equal the maintained tree's, so a tampered tree index is refused, never signed.
   * @throws LedgerError USAGE (no key), KEY_NOT_AUTHORIZED, STORE_CORRUPT (damaged ledger).
   * @example const checkpoint = await ledger.checkpoint(); await writeFile('ledger.checkpoint', checkpoint);
   */
  async checkpoint(options: { key?: SigningKey } = {}): Promise<string> {
    this.#assertOpen();
    const key = options.key ?? this.#key;
    if (key === undefined) throw new LedgerError('USAGE', 'signing a checkpoint needs a key; pass --key FILE or set PROVLEDGER_KEY');
    if (this.#damage !== null || this.#head === null || this.#meta === null) {
      throw new LedgerError('STORE_CORRUPT', `refusing to sign a checkpoint: ${this.#damage?.reason ?? 'the ledger has no readable head'}; run \`provledger verify\``);
    }
    const problem = judgeAuthor(this.#authority, key.publicKeyHex, 'app.any');
    if (problem !== null) {
      throw new LedgerError('KEY_NOT_AUTHORIZED', `key ${describeKey(this.#authority, key.publicKeyHex)} is not an active key of this ledger, so it may not vouch for it; sign with a key listed by \`provledger key list\``);
    }
    // The state signed is the one committed when the call began; appends may go on meanwhile.
    const head = this.#head;
    const frontier = this.#frontier;
    const meta = this.#meta;
    const size = head.seq + 1;
    const base = await checkpointBase({ size, origin: checkpointOrigin(meta.ledgerId), signer: key, stored: await this.#store.readLastCheckpoint(), nodes: storedNodes(this.#store) });
    await this.#assertChainSince(base, size);
    const root = await rootFromLog(base, size, (from, to) => this.#store.entries({ from, to }));
    if (!equalBytes(root, frontier.root())) {
      throw new LedgerError('STORE_CORRUPT', 'refusing to sign a checkpoint: the stored Merkle tree does not match the log; run `provledger verify`, then `provledger rebuild`');
    }
    const note = signCheckpoint(meta.ledgerId, size, root, head.hash, key);
    await this.#store.saveLastCheckpoint(new TextEncoder().encode(note));
    return note;
  }

  /**
   * The chain checks of verify (SPEC §7.1: decoding, seqs, links, times, authors, signatures) over the events a
   * checkpoint is about to vouch for that no earlier checkpoint of the same key covered, so a key never signs
   * bytes an attacker changed on disk (SPEC §17.3). Without a base, the whole log.
   */
  async #assertChainSince(base: CheckpointBase | null, size: number): Promise<void> {
    let resume: ResumePoint | undefined;
    if (base !== null && base.size < size) {
      const previous = await this.#store.get(base.size - 1);
      if (previous === undefined || !equalBytes(eventHash(previous), base.headHash)) {
        throw new LedgerError('STORE_CORRUPT', `refusing to sign a checkpoint: event ${base.size - 1} no longer has the hash this key's previous checkpoint named; run \`provledger verify\``);
      }
      resume = { seq: base.size, prevHash: base.headHash, prevTs: openEvent(previous).body.ts, authority: await readAuthority(this.#store, base.size - 1), ledgerId: this.#meta!.ledgerId, owner: this.#meta!.owner };
    } else if (base !== null) {
      return;
    }
    const count = size - (resume?.seq ?? 0);
    const pool = VerifyPool.create({ threads: count >= PARALLEL_VERIFY_THRESHOLD ? availableParallelism() : 1 });
    try {
      const report = await verifyChain({ batches: this.#store.entryBatches({ from: resume?.seq ?? 0, to: size - 1 }) }, { verifySignatures: (jobs) => pool.verify(jobs), resume, maxEventBytes: this.#maxEventBytes, maxFailures: 1 });
      if (!report.ok) {
        const first = report.failures[0]!;
        throw new LedgerError('STORE_CORRUPT', `refusing to sign a checkpoint: ${first.seq === null ? '' : `event ${first.seq}: `}${first.code} (${first.message}); run \`provledger verify\``);
      }
    } finally {
      await pool.close();
    }
  }

  /**
   * An inclusion proof (a C2SP tlog-proof file) that event `seq` is in the tree of `checkpoint`, carrying the
   * event itself. Without a checkpoint, one is signed now with the ledger's key. O(log n) reads.
   * @throws LedgerError CHECKPOINT_MALFORMED, CHECKPOINT_FOREIGN, CHECKPOINT_UNTRUSTED, CHECKPOINT_MISMATCH,
   * EVENT_NOT_FOUND, INVALID_ARGUMENT, STORE_CORRUPT.
   * @example const proof = await ledger.proveInclusion(7, checkpoint);
   */
  async proveInclusion(seq: number, checkpoint?: string, options: { trustedKeys?: readonly TrustedKey[] } = {}): Promise<string> {
    this.#assertOpen();
    assertSeq(seq, 'seq');
    const text = checkpoint ?? (await this.checkpoint());
    const accepted = await this.#matchingCheckpoint(text, options.trustedKeys);
    const bytes = await this.#store.get(seq);
    if (bytes === undefined) throw new LedgerError('EVENT_NOT_FOUND', `there is no event ${seq}; the ledger holds events 0..${this.#head?.seq ?? '(none)'}`, { details: { seq } });
    return proveInclusion(seq, bytes, accepted, text, storedNodes(this.#store));
  }

  /**
   * A consistency proof that the tree of `newer` extends the tree of `older` (RFC 9162 §2.1.4), both
   * checkpoints of this ledger. O(log n) reads.
   * @throws as proveInclusion.
   */
  async proveConsistency(older: string, newer: string, options: { trustedKeys?: readonly TrustedKey[] } = {}): Promise<string> {
    this.#assertOpen();
    const [from, to] = [await this.#matchingCheckpoint(older, options.trustedKeys), await this.#matchingCheckpoint(newer, options.trustedKeys)];
    return proveConsistency(from, older, to, newer, storedNodes(this.#store));
  }

  /**
   * An audit bundle of one record (SPEC §17.7): the checkpoint, and with their inclusion proofs the genesis,
   * every key change the checkpoint covers and every event of the record; with `lineage`, also every event of the
   * records upstream of it as of the checkpoint and the link events that connect them. Checked offline by
   * `verifyBundle`.
   * @throws as proveInclusion, and RECORD_NOT_FOUND.
   * @example await writeFile('model.bundle.json', await ledger.bundle('resnet-50'));
   */
  async bundle(id: string, options: { checkpoint?: string; trustedKeys?: readonly TrustedKey[]; lineage?: boolean } = {}): Promise<string> {
    this.#assertReadable();
    const text = options.checkpoint ?? (await this.checkpoint());
    const accepted = await this.#matchingCheckpoint(text, options.trustedKeys);
    const size = accepted.checkpoint.size;
    const history: number[] = [];
    for await (const version of this.records.history(id)) if (version.seq < size) history.push(version.seq);
    if (history.length === 0) {
      throw new LedgerError('RECORD_NOT_FOUND', `record ${id} has no event in the first ${size} events the checkpoint covers; make a newer checkpoint`, { details: { id } });
    }
    // With lineage: every record upstream of it as of the checkpoint, their whole histories, and the links walked.
    const upstream: string[] = [];
    if (options.lineage === true) {
      const lineage = await this.links.lineage(id, { direction: 'up', at: { seq: size - 1 } });
      for (const node of lineage.nodes.slice(1)) {
        upstream.push(node.id);
        for await (const version of this.records.history(node.id)) if (version.seq < size) history.push(version.seq);
      }
      for (const edge of lineage.edges) history.push(edge.addedSeq);
    }
    // Invalidations are part of a record's story: a withdrawn dataset must not look clean in its bundle (SPEC §17.7).
    for (const recordId of [id, ...upstream]) for (const invalidation of await readInvalidations(this.#store, recordId, size - 1)) history.push(invalidation.seq);
    // Key changes that took effect are exactly the `ka` entries; the genesis is the first of them.
    const keyChanges: number[] = [];
    for await (const entry of this.#store.indexEntries('ka')) {
      const seq = readUint64be(entry.key.subarray(32));
      if (entry.key.length !== 40 || seq === undefined) throw new LedgerError('STORE_CORRUPT', 'the key-authority index holds a malformed key; run `provledger rebuild`');
      if (seq < size) keyChanges.push(seq);
    }
    const nodes = storedNodes(this.#store);
    const entries: BundleEntry[] = [];
    for (const seq of [...new Set([0, ...keyChanges, ...history])].sort((a, b) => a - b)) {
      const bytes = await this.#store.get(seq);
      if (bytes === undefined) throw new LedgerError('STORE_CORRUPT', `event ${seq} is missing from the log; run \`provledger verify\``);
      const proof = await inclusionProof(seq, size, nodes);
      if (!verifyInclusion(leafHash(eventHash(bytes)), seq, size, proof, accepted.checkpoint.rootHash)) {
        throw new LedgerError('STORE_CORRUPT', `the stored Merkle tree gives a proof for event ${seq} that does not verify; run \`provledger verify\``);
      }
      entries.push({ seq, event: bytes, proof });
    }
    return formatBundle({ record: id, upstream, checkpoint: text, entries });
  }

  #acceptCheckpoint(text: string, trustedKeys?: readonly TrustedKey[]): AcceptedCheckpoint {
    if (typeof text !== 'string') throw new LedgerError('INVALID_ARGUMENT', 'a checkpoint must be the text of a signed note');
    if (this.#meta === null) throw new LedgerError('STORE_CORRUPT', 'the store holds no readable ledger facts; run `provledger verify`');
    if (this.#authority.size === 0 && (trustedKeys ?? []).length === 0) {
      throw new LedgerError('STORE_CORRUPT', 'the key-authority index is unreadable, so the ledger cannot tell its own keys; pass --trusted-key, or run `provledger rebuild`');
    }
    return acceptCheckpoint(text, this.#meta.ledgerId, this.#authority, trustedKeys);
  }

  /** A checkpoint of this ledger that its stored tree still matches. */
  async #matchingCheckpoint(text: string, trustedKeys?: readonly TrustedKey[]): Promise<AcceptedCheckpoint> {
    const accepted = this.#acceptCheckpoint(text, trustedKeys);
    const size = this.#head === null ? 0 : this.#head.seq + 1;
    await assertMatches(accepted, size, storedNodes(this.#store), async (seq) => eventHash((await this.#store.get(seq)) ?? new Uint8Array()));
    return accepted;
  }

  /**
   * The events as JSONL (SPEC §25.1): a header line, one line per event with its bytes in hex, a footer; each line
   * ends in `\n`. Streams. With `record`, only the events about one record, for reading (import refuses it).
   * @throws LedgerError INVALID_ARGUMENT, AT_OUT_OF_RANGE, RECORD_NOT_FOUND, STORE_CORRUPT (while iterating).
   * @example for await (const line of ledger.exportJsonl()) out.write(line);
   */
  exportJsonl(options: ExportJsonlOptions = {}): AsyncIterable<string> {
    this.#assertOpen();
    return exportJsonl(this.#exchangeHost(), options);
  }

  /**
   * The lineage graph as a W3C PROV-JSON document (SPEC §25.3), of every record or of one record's lineage, now
   * or as of a point.
   * @throws LedgerError INVALID_RECORD_ID, RECORD_NOT_FOUND, AT_OUT_OF_RANGE, STORE_CORRUPT.
   * @example const prov = await ledger.exportProvJson({ record: 'cnn' });
   */
  async exportProvJson(options: ExportProvOptions = {}): Promise<ProvDocument> {
    return exportProvJson(this.#exchangeHost(), options);
  }

  /**
   * Builds a new ledger at `dir` from a JSONL export (a path, or chunks such as a stream), verifying every event
   * as `verify` does; `dir` appears only once all of it passed (SPEC §25.4). Needs no key: the events are signed.
   * @throws LedgerError LEDGER_EXISTS, INVALID_ARGUMENT, EXPORT_MALFORMED, IMPORT_INVALID, STORE_ERROR.
   * @example const { seq, hash } = await Ledger.import('./copy', 'ledger.jsonl');
   */
  static async import(dir: string, source: ImportSource, options: ImportOptions = {}): Promise<ImportResult> {
    return importLedger(dir, source, options, { open: (at, openOptions) => Ledger.open(at, openOptions) });
  }

  #exchangeHost(): ExchangeHost {
    return {
      store: this.#store,
      maxEventBytes: this.#maxEventBytes,
      records: this.records,
      links: this.links,
      keys: this.keys,
      head: () => this.#head,
      meta: () => this.#meta,
      resolvePoint: (point) => this.#resolvePoint(point),
      assertReadable: () => this.#assertReadable(),
    };
  }

  /** Waits for queued appends, then releases the store and its lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // No pass may start once closing began; one running finishes, and queued appends commit.
    this.#closing = true;
    while (this.#passes > 0 || this.#flushing || this.#queue.length > 0) {
      if (this.#exclusiveDone !== null) await this.#exclusiveDone;
      else await new Promise((resolve) => setImmediate(resolve));
    }
    this.#closed = true;
    try {
      await this.#signer?.close();
    } finally {
      await this.#store.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The state of every record as of now, including what is already in the ledger's current group. Readers
   * between groups see only committed state.
   */
  async replay(options: { to: LedgerPoint }): Promise<{ seq: number; records: AsyncIterable<RecordVersion> }> {
    this.#assertOpen();
    const seq = await this.#resolvePoint(options.to);
    return { seq, records: this.records.stateAt(seq) };
  }

  /**
   * Drops every projection and rebuilds it from the log (SPEC §12.5). Deterministic: the result is
   * byte-identical to the projections written by appends. An interrupted rebuild is detected on open.
   * @throws LedgerError STORE_ERROR, STORE_CORRUPT (a log event that does not decode).
   */
  async rebuild(options: RebuildOptions = {}): Promise<{ events: number }> {
    this.#assertOpen();
    return this.#exclusive(() => this.#rebuild(options));
  }

  async #rebuild(options: RebuildOptions): Promise<{ events: number }> {
    this.#rebuilding = true;
    try {
      return await this.#rebuildProjections(options);
    } finally {
      this.#rebuilding = false;
    }
  }

  async #rebuildProjections(options: RebuildOptions): Promise<{ events: number }> {
    const total = this.#head === null ? 0 : this.#head.seq + 1;
    let done = 0;
    await this.#store.replaceIndexes(INDEX_NAMES, async (put) => {
      let batch: IndexWrite[] = [];
      let authority: Authority | null = null;
      const frontier = Frontier.empty();
      const pending = new Map<string, RecordHead>();
      const priorOf = async (id: string) => pending.get(id) ?? (await readRecordHead(this.#store, id));
      const pendingLinks = new Map<string, boolean>();
      const activeOf = async (link: Link) => pendingLinks.get(linkIdentity(link)) ?? (await linkActive(this.#store, link));
      const samples = new SampleSetFold();
      for await (const entry of this.#store.entries()) {
        done++;
        // An event that does not decode is skipped: it has no projection, and verify reports it (SPEC §12.5).
        const seq = readUint64be(entry.key);
        if (seq === undefined) continue;
        // The tree covers every stored event, decodable or not: it commits to the bytes (SPEC §17.2).
        batch.push(...projectTree(frontier, eventHash(entry.value)));
        let sealed: SealedEvent;
        try {
          sealed = openEvent(entry.value, this.#maxEventBytes);
        } catch {
          continue;
        }
        const body = sealed.body;
        const event = { seq, ts: body.ts, type: body.type, payload: body.payload, author: toHex(body.author) };
        const record = recordEventOf(event);
        const valid = typeof record === 'string' ? null : record;
        const { writes, head } = projectEvent(event, valid, valid === null ? null : await priorOf(valid.id));
        batch.push(...writes);
        if (valid !== null && head !== null) pending.set(valid.id, head);
        // A sample set's chunks are indexed when they close on a valid version of a sample-set record (SPEC §21.5).
        const sampled = samples.step(event);
        if (sampled.closed !== null && head !== null && head.seq === seq && head.kind === 'sample-set') batch.push(...sampled.closed.writes);
        // An invalidation of a record (or version) that existed before it is projected, as verify judges it (SPEC §23.1).
        if (isInvalidateType(event.type)) {
          const invalidation = parseInvalidation(event.payload);
          if (typeof invalidation !== 'string' && judgeInvalidation(invalidation, (await priorOf(invalidation.id))?.version ?? null) === null) batch.push(...projectInvalidation(invalidation, seq));
        }
        // Only link changes that follow the rules are projected, exactly as verify judges them (SPEC §19.4).
        const link = linkEventOf(event);
        const missingEnd = async (l: Link) => ((await priorOf(l.from)) === null ? l.from : (await priorOf(l.to)) === null ? l.to : null);
        if (link !== null && typeof link !== 'string' && judgeLinkChange(link, await activeOf(link), link.type === 'link.add' ? await missingEnd(link) : null) === null) {
          batch.push(...projectLink(link, seq));
          pendingLinks.set(linkIdentity(link), link.type === 'link.add');
        }
        // Changes to who may write count only with a valid signature, exactly as verify judges them (SPEC §14.3).
        const authoritySigned = seq === 0 || isKeyEventType(body.type) ? checkSignature(event.author, sealed.signature, sealed.signedMessage, false) : undefined;
        const keyed = projectAuthority({ ...event, authoritySigned }, authority);
        batch.push(...keyed.writes);
        authority = keyed.authority;
        if (batch.length >= 4000) {
          await put(batch);
          batch = [];
          pending.clear();
          pendingLinks.clear();
          options.onProgress?.(done, total);
        }
      }
      await put(batch);
      options.onProgress?.(done, total);
    });
    // A rebuild repairs only the projections; whatever else looked wrong on open still stands.
    this.#damage = (await inspectStore(this.#store))[2];
    this.#authority = await readAuthority(this.#store);
    if (this.#head !== null) this.#frontier = await loadFrontier(this.#store, this.#head.seq + 1);
    return { events: done };
  }

  /** The one way into the commit queue, so every write obeys the same rules: an intact store and the owner's key (SPEC §6). */
  #submit(build: PendingAppend['build']): Promise<AppendResult[]> {
    this.#assertWritable();
    return new Promise((resolve, reject) => {
      this.#queue.push({ build, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // Let every append issued in this tick join the first group.
        queueMicrotask(() => void this.#flush());
      }
    });
  }

  /**
   * Runs a whole-ledger pass (rebuild, verify, audit) against one state of the ledger (SPEC §8.4): appends
   * requested before it commit first, appends requested meanwhile wait and commit after. Passes run one at a
   * time; none starts once close() has begun.
   */
  async #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing) throw new LedgerError('LEDGER_CLOSED', 'the ledger is closing; open it again');
    // Counted from the call, so close() waits for a pass requested before it, even one still waiting its turn.
    this.#passes++;
    let release: (() => void) | undefined;
    try {
      // Appends requested before the pass commit first; then no other pass may have taken the slot meanwhile.
      for (;;) {
        while (this.#exclusiveDone !== null) await this.#exclusiveDone;
        await this.#drain();
        if (this.#exclusiveDone === null) break;
      }
      this.#exclusiveDone = new Promise<void>((resolve) => (release = resolve));
      // A flush that began between the drain and here finishes its group; the rest of the queue waits.
      while (this.#flushing) await new Promise((resolve) => setImmediate(resolve));
      return await operation();
    } finally {
      this.#passes--;
      if (release !== undefined) {
        this.#exclusiveDone = null;
        release();
      }
      if (this.#queue.length > 0 && !this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => void this.#flush());
      }
    }
  }

  /** Waits until every queued append has committed (or failed). */
  async #drain(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  async #flush(): Promise<void> {
    try {
      // A whole-ledger pass that started holds the rest of the queue until it ends (#exclusive).
      while (this.#queue.length > 0 && this.#exclusiveDone === null) {
        const group = this.#queue.splice(0);
        await this.#commitGroup(group);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Builds and seals every request of the group against a tentative head and record state, and commits the
   * sealed events with their projection entries in one batch (SPEC §6.3, §12.2).
   */
  async #commitGroup(group: readonly PendingAppend[]): Promise<void> {
    const key = this.#key!;
    let head = this.#head!;
    let authority = this.#authority;
    const groupRecords = new Map<string, RecordSnapshot>();
    // Link changes decided earlier in the group, by link identity: later requests see them (SPEC §19.2).
    const groupLinks = new Map<string, { link: Link; active: boolean }>();
    const groupInvalidations: Invalidation[] = [];
    const storeSnapshots = new Map<string, Promise<RecordSnapshot | null>>();
    const accepted: { request: PendingAppend; events: UnsignedEvent[]; writes: IndexWrite[] }[] = [];
    // Sealing (SPEC §6.3). A large group starts being signed on the worker while later events are still being
    // decided: `prepared` holds every event prepared so far in chain order, the accepted ones and those of the
    // request being decided. A request that fails after some of its events were sent cancels that run, and the
    // group is then signed afresh once decided.
    const sealed: SealedEvent[] = [];
    let frontier = this.#frontier.clone();
    // Each sealed event goes into the store's batch at once, with its tree nodes: the batch is built while the
    // signer works, and only the write is left when the last signature comes in (SPEC §6.3).
    const staged = this.#store.stage();
    const onSealed = (event: SealedEvent): void => {
      sealed.push(event);
      staged.events([{ seq: event.body.seq, bytes: event.bytes }]);
      staged.indexes(projectTree(frontier, event.hash));
    };
    const prepared: UnsignedEvent[] = [];
    let stream: ChainStream | null = null;
    let sent = 0;
    let speculationFailed = false;
    // `expected`: how many events the group will have at least, when a request says so up front (appendMany).
    let expected = 0;
    const speculate = (event: UnsignedEvent): void => {
      if (speculationFailed) return;
      prepared.push(event);
      if (stream === null) {
        // A request that brings the group to the threshold starts the worker at its first event, not at the
        // threshold's: the worker then signs while the whole request is being encoded.
        if (Math.max(prepared.length, expected) < this.#workerSealThreshold) return;
        this.#signer ??= new ChainSigner(key, EVENT_CHAIN_LAYOUT);
        stream = this.#signer.stream(this.#head!.hash, (from, links) => {
          links.forEach((link, i) => onSealed(sealPrepared(prepared[from + i]!, link.link, key, { signature: link.signature, hash: link.digest })));
        });
      }
      if (prepared.length - sent >= STREAM_CHUNK) {
        stream.push(prepared.slice(sent).map(chainItem));
        sent = prepared.length;
      }
    };
    for (const request of group) {
      const requestStart = prepared.length;
      const localRecords = new Map<string, RecordSnapshot>();
      const localLinks = new Map<string, { link: Link; active: boolean }>();
      const localInvalidations: Invalidation[] = [];
      const invalidationsOf = async (id: string): Promise<Invalidation[]> => [
        ...(await readInvalidations(this.#store, id)),
        ...[...groupInvalidations, ...localInvalidations].filter((i) => i.id === id),
      ];
      const activeOf = async (link: Link): Promise<boolean> => (localLinks.get(linkIdentity(link)) ?? groupLinks.get(linkIdentity(link)))?.active ?? linkActive(this.#store, link);
      const dependsOn = async (id: string, on: string): Promise<boolean> => {
        // Upward walk over the committed links, adjusted by the group's tentative changes; cost: the part walked.
        const tentative = [...groupLinks.values(), ...localLinks.values()];
        const seen = new Set([id]);
        const queue = [id];
        while (queue.length > 0) {
          const node = queue.shift()!;
          const up = new Map<string, string>();
          for (const edge of await edgesOf(this.#store, node, 'up')) up.set(linkIdentity(edge.link), edge.other);
          for (const change of tentative) {
            if (orient(change.link).dependent !== node || change.link.rel === 'inContext') continue;
            if (change.active) up.set(linkIdentity(change.link), orient(change.link).dependency);
            else up.delete(linkIdentity(change.link));
          }
          for (const other of up.values()) {
            if (other === on) return true;
            if (!seen.has(other)) {
              seen.add(other);
              queue.push(other);
            }
          }
        }
        return false;
      };
      const snapshotOf = async (id: string): Promise<RecordSnapshot | null> => {
        const known = localRecords.get(id) ?? groupRecords.get(id);
        if (known !== undefined) return known;
        // Committed state cannot change while the group is built, so each id is read from the store once.
        let stored = storeSnapshots.get(id);
        if (stored === undefined) storeSnapshots.set(id, (stored = this.records.snapshot(id)));
        return stored;
      };
      try {
        const samples = new SampleSetFold();
        let tentativeAuthority = authority;
        const inputs = await request.build({ record: snapshotOf, linkActive: activeOf, dependsOn, invalidations: invalidationsOf, authority: () => tentativeAuthority, author: key.publicKeyHex });
        expected = prepared.length + inputs.length;
        const events: UnsignedEvent[] = [];
        const writes: IndexWrite[] = [];
        let tentative = head;
        for (const input of inputs) {
          // Judged against the keys as of this point in the group: a revoke earlier in the group binds later requests.
          const problem = judgeAuthor(tentativeAuthority, key.publicKeyHex, input.type);
          if (problem !== null) {
            throw new LedgerError('KEY_NOT_AUTHORIZED', `${describeKey(tentativeAuthority, key.publicKeyHex)} may not write ${input.type === 'key.add' || input.type === 'key.revoke' ? 'key changes' : 'to this ledger'}; use an authorised key`, {
              details: { publicKey: key.publicKeyHex, problem },
            });
          }
          const ts = readClock(this.#clock, tentative.ts);
          // Encoded and size-checked now; signed with the whole group below, once each prev is known.
          const fields = { v: FORMAT_VERSION, seq: tentative.seq + 1, prev: PREV_UNKNOWN, ts, type: input.type, author: key.publicKey };
          const sealed =
            'payloadBytes' in input
              ? prepareEvent(lazyPayloadBody(fields, input.payloadBytes), this.#maxEventBytes, input.payloadBytes)
              : prepareEvent({ ...fields, payload: input.payload as JsonValue }, this.#maxEventBytes);
          const record = recordEventOf(sealed.body);
          if (typeof record === 'string') throw new TypeError(`internal: decided an invalid record event: ${record}`);
          const prior = record === null ? null : ((await snapshotOf(record.id))?.head ?? null);
          const projected = projectEvent(sealed.body, record, prior);
          const sampled = samples.step(sealed.body);
          if (sampled.failures.length > 0) throw new TypeError(`internal: decided invalid sample chunks: ${sampled.failures[0]!.message}`);
          if (sampled.closed !== null && projected.head?.seq === sealed.body.seq && projected.head.kind === 'sample-set') writes.push(...sampled.closed.writes);
          if (record !== null && projected.head !== null) {
            localRecords.set(record.id, { head: projected.head, data: record.type === 'record.delete' ? null : record.data });
          }
          if (isInvalidateType(sealed.body.type)) {
            const invalidation = parseInvalidation(sealed.body.payload);
            if (typeof invalidation === 'string') throw new TypeError(`internal: decided an invalid invalidation: ${invalidation}`);
            writes.push(...projectInvalidation(invalidation, sealed.body.seq));
            localInvalidations.push(invalidation);
          }
          const link = linkEventOf(sealed.body);
          if (typeof link === 'string') throw new TypeError(`internal: decided an invalid link event: ${link}`);
          // Decided above against the same state, so both ends exist; the judge is the projections' one (SPEC §19.4).
          if (link !== null && judgeLinkChange(link, await activeOf(link), null) === null) {
            writes.push(...projectLink(link, sealed.body.seq));
            localLinks.set(linkIdentity(link), { link, active: link.type === 'link.add' });
          }
          const body = sealed.body;
          // A getter, so an unread lazy payload stays undecoded (lazyPayloadBody).
          const keyed = projectAuthority({ seq: body.seq, type: body.type, get payload() { return body.payload; }, author: key.publicKeyHex }, tentativeAuthority);
          tentativeAuthority = keyed.authority ?? tentativeAuthority;
          writes.push(...projected.writes, ...keyed.writes);
          events.push(sealed);
          speculate(sealed);
          tentative = { seq: sealed.body.seq, hash: PREV_UNKNOWN, ts: sealed.body.ts };
        }
        const unclosed = samples.finish();
        if (unclosed.length > 0) throw new TypeError(`internal: decided sample chunks without their record: ${unclosed[0]!.message}`);
        head = tentative;
        authority = tentativeAuthority;
        for (const [id, snapshot] of localRecords) groupRecords.set(id, snapshot);
        for (const [identity, change] of localLinks) groupLinks.set(identity, change);
        groupInvalidations.push(...localInvalidations);
        accepted.push({ request, events, writes });
      } catch (error) {
        // One bad request (too large, a stale base, bad clock) fails alone; the rest of the group still commits.
        request.reject(error);
        if (sent > requestStart) {
          // Some of its events are being signed: that run is void, and the group is signed once decided.
          (stream as ChainStream | null)?.cancel();
          speculationFailed = true;
        }
        prepared.length = Math.min(prepared.length, requestStart);
      }
    }
    const unsigned = accepted.flatMap((a) => a.events);
    const running = stream as ChainStream | null;
    if (accepted.length === 0 || unsigned.length === 0) {
      running?.cancel();
      await staged.discard();
      // Requests that decided to write nothing (unchanged content): nothing to sign or store.
      for (const { request } of accepted) request.resolve([]);
      return;
    }
    try {
      // Nothing above depends on an event's hash; the tree and the chain are what need them (SPEC §6.3, §17.2).
      if (running !== null && !speculationFailed && prepared.length === unsigned.length) {
        running.push(prepared.slice(sent).map(chainItem));
        await running.end();
      } else {
        running?.cancel();
        sealed.length = 0;
        staged.clear();
        frontier = this.#frontier.clone();
        await this.#sealChain(unsigned, onSealed);
      }
      const last = sealed[sealed.length - 1]!;
      head = { seq: last.body.seq, hash: last.hash, ts: last.body.ts };
      for (const { writes } of accepted) staged.indexes(writes);
      await staged.write(head);
    } catch (error) {
      await staged.discard();
      for (const { request } of accepted) request.reject(error);
      return;
    }
    this.#head = head;
    this.#authority = authority;
    this.#frontier = frontier;
    let next = 0;
    for (const { request, events } of accepted) {
      request.resolve(sealed.slice(next, (next += events.length)).map((e) => ({ seq: e.body.seq, hash: toHex(e.hash), timeMs: e.body.ts })));
    }
  }

  /**
   * Signs a group's events in order, each linked to the one before it, handing each to `onSealed` as soon as it
   * is sealed. Large groups are signed on a worker thread while this thread builds the tree from the events
   * already signed (BENCHMARKS.md, "append"); small ones here, where a message round trip would cost more.
   */
  async #sealChain(events: readonly UnsignedEvent[], onSealed: (event: SealedEvent) => void): Promise<void> {
    const key = this.#key!;
    let prev = this.#head!.hash;
    if (events.length < this.#workerSealThreshold) {
      for (const event of events) {
        const sealed = sealPrepared(event, prev, key);
        onSealed(sealed);
        prev = sealed.hash;
      }
      return;
    }
    this.#signer ??= new ChainSigner(key, EVENT_CHAIN_LAYOUT);
    await this.#signer.sign(
      prev,
      events.map((event) => ({ bytes: event.bodyBytes, linkOffset: event.prevOffset })),
      (from, links) => {
        for (let i = 0; i < links.length; i++) {
          const link = links[i]!;
          onSealed(sealPrepared(events[from + i]!, link.link, key, { signature: link.signature, hash: link.digest }));
        }
      },
    );
  }

  /** What verify and audit check beside the chain: every projection and the Merkle tree (SPEC §12.4, §17.2). */
  #checks(checkpoint?: CheckpointClaim): ExtraChecks {
    return combineChecks([createProjectionChecker(this.#store, { eventTime: (seq) => this.#storedEventTime(seq) }), createTreeChecker(this.#store, { checkpoint }), createSampleChecker(this.#store)]);
  }

  /** The facts stored beside the log, as read now, for verify and audit to check (SPEC §7.1 step 9). */
  async #storedFacts(): Promise<StoredFacts> {
    const [meta, head, rebuilding] = await Promise.all([
      readOrNull(() => this.#store.readMeta()),
      readOrNull(() => this.#store.readHead()),
      this.#store.isRebuilding().catch(() => false),
    ]);
    return { head, ledgerId: meta?.ledgerId ?? null, owner: meta?.owner ?? null, formatVersion: meta?.formatVersion ?? null, rebuilding };
  }

  /** The time of the stored event at `seq`, if it decodes; for naming stray time-index entries. */
  async #storedEventTime(seq: number): Promise<number | undefined> {
    const bytes = await this.#store.get(seq);
    if (bytes === undefined) return undefined;
    try {
      return openEvent(bytes, this.#maxEventBytes).body.ts;
    } catch {
      return undefined;
    }
  }

  /** Resolves a seq or a time to the seq of the state it names (SPEC §11.5). */
  async #resolvePoint(point: LedgerPoint): Promise<number> {
    this.#assertOpen();
    const head = this.#head;
    if (head === null) throw new LedgerError('STORE_CORRUPT', 'the ledger has no readable head; run `provledger verify`');
    if ('seq' in point) {
      assertSeq(point.seq, 'at');
      if (point.seq > head.seq) throw new LedgerError('AT_OUT_OF_RANGE', `seq ${point.seq} is beyond the last event (${head.seq})`);
      return point.seq;
    }
    const timeMs = point.timeMs;
    if (!Number.isSafeInteger(timeMs)) throw new LedgerError('INVALID_ARGUMENT', `the time ${String(timeMs)} is not a whole number of milliseconds`);
    if (timeMs > this.#clock()) throw new LedgerError('AT_OUT_OF_RANGE', `${new Date(timeMs).toISOString()} is in the future; the ledger cannot say what will be`);
    const seq = await seqAtTime(this.#store, timeMs);
    if (seq === null) throw new LedgerError('AT_OUT_OF_RANGE', `${new Date(timeMs).toISOString()} is before the ledger's genesis`);
    return seq;
  }

  #assertOpen(): void {
    if (this.#closed) throw new LedgerError('LEDGER_CLOSED', 'the ledger is closed; open it again');
  }

  #assertWritable(): void {
    this.#assertOpen();
    if (this.#damage !== null) throw new LedgerError('STORE_CORRUPT', `refusing to append: ${this.#damage.reason}; run \`provledger verify\` for details`);
    if (this.#key === undefined) throw new LedgerError('USAGE', 'appending needs a signing key; pass --key FILE or set PROVLEDGER_KEY');
    const problem = judgeAuthor(this.#authority, this.#key.publicKeyHex, 'app.any');
    if (problem !== null) {
      const why = problem === 'KEY_REVOKED' ? 'was revoked' : 'is not an authorised key of this ledger';
      throw new LedgerError('KEY_NOT_AUTHORIZED', `key ${describeKey(this.#authority, this.#key.publicKeyHex)} ${why}; sign with a key listed by \`provledger key list\``, {
        details: { publicKey: this.#key.publicKeyHex },
      });
    }
  }

}

/** Reads meta and head and checks they fit the log's tail; returns why not, instead of throwing. */
async function inspectStore(store: LogStore): Promise<[StoredMeta | null, StoredHead | null, Damage | null]> {
  const meta = await readOrNull(() => store.readMeta());
  const head = await readOrNull(() => store.readHead());
  const damaged = (reason: string, projections = false): Damage => ({ reason, projections });
  if (meta === null) return [null, head, damaged('the store holds no readable ledger facts (was `init` interrupted?)')];
  if (meta.formatVersion !== FORMAT_VERSION) return [meta, head, damaged(`the store says format version ${meta.formatVersion}, and this provledger writes version ${FORMAT_VERSION}`)];
  if (head === null) return [meta, null, damaged('the store holds no readable head')];
  const tail = await store.get(head.seq);
  if (tail === undefined || !equalBytes(eventHash(tail), head.hash) || storedTime(tail) !== head.ts) return [meta, head, damaged(`the stored head does not match event ${head.seq}`)];
  if ((await store.lastSeq()) !== head.seq) return [meta, head, damaged(`the log holds entries after the stored head ${head.seq}`)];
  if (await store.isRebuilding()) return [meta, head, damaged('a rebuild of the projections was interrupted; run `provledger rebuild`', true)];
  return [meta, head, null];
}

function chainItem(event: UnsignedEvent): ChainItem {
  return { bytes: event.bodyBytes, linkOffset: event.prevOffset };
}

function storedTime(bytes: Uint8Array): number | undefined {
  try {
    return openEvent(bytes).body.ts;
  } catch {
    return undefined;
  }
}

async function readOrNull<T>(read: () => Promise<T | null>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof LedgerError && error.code === 'STORE_CORRUPT') return null;
    throw error;
  }
}

function toLedgerEvent(seq: number, bytes: Uint8Array, maxEventBytes: number): LedgerEvent {
  const event = openStoredEvent(seq, bytes, maxEventBytes);
  const { body } = event;
  return {
    seq,
    hash: toHex(event.hash),
    prev: toHex(body.prev),
    timeMs: body.ts,
    type: body.type,
    author: toHex(body.author),
    payload: body.payload,
    signature: toHex(event.signature),
    formatVersion: body.v,
  };
}

/** An append input as `appendMany` froze it: the payload encoded once, and decoded back as the event's own copy. */
/** An appendMany input, its payload already encoded (and so frozen); decoded only if read (lazyPayloadBody). */
interface EncodedInput {
  readonly type: string;
  readonly payloadBytes: Uint8Array;
}

function assertAppendType(type: unknown, name: string): asserts type is string {
  if (typeof type !== 'string' || !isValidType(type)) {
    throw new LedgerError('INVALID_TYPE', `${name}.type ${JSON.stringify(type)} is not a valid event type: use dot-separated lower-case words such as "dataset.ingested" (a-z, 0-9, "_" and "-", at most ${MAX_TYPE_LENGTH} characters)`);
  }
  const namespace = type.split('.')[0]!;
  if ((RESERVED_NAMESPACES as readonly string[]).includes(namespace)) {
    throw new LedgerError('INVALID_TYPE', `event types in the "${namespace}." namespace are reserved for provledger; choose another name such as "app.${type}"`);
  }
}

function assertSeq(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new LedgerError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${String(value)}`);
}

function toHeadRef(head: { seq: number; hash: string }): HeadRef {
  assertSeq(head.seq, 'expectHead.seq');
  const hash = typeof head.hash === 'string' ? fromHex(head.hash, 32) : undefined;
  if (hash === undefined) throw new LedgerError('INVALID_ARGUMENT', 'expectHead.hash must be 64 hex characters');
  return { seq: head.seq, hash };
}

function readClock(clock: () => number, notBefore: number): number {
  const now = clock();
  if (!Number.isSafeInteger(now) || now < 0 || now > MAX_TIME_MS) throw new LedgerError('CLOCK_INVALID', `the clock returned ${String(now)}, not a time in whole milliseconds up to ${MAX_TIME_MS}`);
  // SPEC §4.3: times never go backwards; a clock that steps back is clamped to the previous event's time.
  return Math.max(now, notBefore);
}

function checkWorkerSigningFrom(value: number | undefined): void {
  if (value !== undefined && value !== Number.POSITIVE_INFINITY && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new LedgerError('INVALID_ARGUMENT', `workerSigningFrom must be a positive integer or Infinity, got ${String(value)}`);
  }
}

function checkMaxEventBytes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_EVENT_BYTES;
  if (!Number.isSafeInteger(value) || value < 256 || value > DEFAULT_MAX_EVENT_BYTES) {
    throw new LedgerError('INVALID_ARGUMENT', `maxEventBytes must be an integer from 256 to ${DEFAULT_MAX_EVENT_BYTES}, got ${String(value)}`);
  }
  return value;
}

