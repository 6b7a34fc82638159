/**
 * Verification of a sequence of stored events, as a pipeline of named steps (SPEC §7.1). Pure apart from
 * the signature verifier it is given: it takes an async iterable of stored entries, so it is tested with
 * arrays and never touches the disk. Memory stays constant: entries are processed in fixed-size chunks,
 * and at most two chunks of signatures are in flight while the next chunk is decoded.
 */
import { equalBytes, readUint64be, toHex } from '../bytes.js';
import { VerifyingKey } from '../crypto/ed25519.js';
import { isLedgerError } from '../errors.js';
import { eventHash as hashOf, openEvent, type JsonValue, type SealedEvent } from '../event/event.js';
import { DEFAULT_MAX_EVENT_BYTES, FORMAT_VERSION, GENESIS_PREV, GENESIS_TYPE } from '../event/format.js';
import { readGenesis } from '../event/genesis.js';
import { evolveAuthority, genesisAuthority, isKeyEventType, judgeAuthor, judgeKeyEvent, type Authority } from '../domain/keys.js';
import type { FailureCode, VerifyFailure } from './failures.js';

const MAX_CHUNKS_IN_FLIGHT = 2;
/** A chunk also ends at this many stored bytes, so 1 MiB events do not hold gigabytes in flight. */
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const MAX_MESSAGE = 300;

/** What later checks (projections, audit) see of each event that decoded. */
export interface DecodedEvent {
  readonly seq: number;
  readonly ts: number;
  readonly type: string;
  readonly payload: JsonValue;
  /** Author public key, lower-case hex. */
  readonly author: string;
  /** The authority just before this event, by which it was judged (SPEC §14.3). */
  readonly authority: Authority;
  /** For events that change the authority (genesis, key events): whether the signature is valid. */
  readonly authoritySigned?: boolean;
}

/** The hash of one stored entry under a seq key, whether or not it decodes: the leaves of the Merkle tree. */
export interface StoredLeaf {
  readonly seq: number;
  readonly hash: Uint8Array;
}

/** One stored entry: the raw storage key and the raw stored value. */
export interface StoredEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface SignatureJob {
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly key: VerifyingKey;
}

/** Checks signatures under the strict rule; results in input order. */
export type SignatureVerifier = (jobs: readonly SignatureJob[]) => Promise<boolean[]>;

export interface HeadRef {
  readonly seq: number;
  readonly hash: Uint8Array;
}

/**
 * Further checks over the decoded events, run in the same pass (the projections use it, SPEC §12.4).
 * Chunks arrive in seq order and one at a time; `finish` runs after the last chunk.
 */
export interface ExtraChecks {
  /** `leaves` holds every entry of the chunk stored under a seq key, in store order, decodable or not. */
  checkChunk(events: readonly DecodedEvent[], leaves: readonly StoredLeaf[]): Promise<VerifyFailure[]>;
  finish(): Promise<VerifyFailure[]>;
}

/** Runs several extra checks in the same pass, each over every chunk in order. */
export function combineChecks(checks: readonly ExtraChecks[]): ExtraChecks {
  return {
    async checkChunk(events, leaves) {
      return (await Promise.all(checks.map((check) => check.checkChunk(events, leaves)))).flat();
    },
    async finish() {
      return (await Promise.all(checks.map((check) => check.finish()))).flat();
    },
  };
}

/** What the store keeps beside the log (SPEC §8.1), each checked against it in step 9. */
export interface StoredFacts {
  readonly head: (HeadRef & { readonly ts: number }) | null;
  readonly ledgerId: string | null;
  readonly owner: Uint8Array | null;
  /** The stored format version; must be FORMAT_VERSION. */
  readonly formatVersion: number | null;
  /** A rebuild started and did not finish: the projections are incomplete (SPEC §12.5). */
  readonly rebuilding: boolean;
}

export interface ChainVerifyOptions {
  readonly verifySignatures: SignatureVerifier;
  readonly extraChecks?: ExtraChecks;
  /** Facts the store keeps beside the log; each must agree with the log (SPEC §7.1 step 9). */
  readonly stored?: StoredFacts;
  /** An earlier head, kept elsewhere: the event at its seq must still have its hash. */
  readonly expectHead?: HeadRef;
  readonly maxEventBytes?: number;
  /** Cap on the failures kept in the report (all are counted). */
  readonly maxFailures?: number;
  readonly chunkSize?: number;
  readonly onProgress?: (checked: number) => void;
  /**
   * Also check every signature with the reference backend (@noble/ed25519) in this thread and report any
   * disagreement with the fast one (SPEC §15.3). Slow: about 1.5 ms per event.
   */
  readonly reference?: boolean;
  /**
   * Check only the entries from `seq` on, continuing a chain already trusted up to `seq − 1` (its hash and time,
   * the keys valid then, and the genesis facts): the incremental check before a checkpoint (SPEC §17.3).
   */
  readonly resume?: ResumePoint;
}

export interface ResumePoint {
  readonly seq: number;
  readonly prevHash: Uint8Array;
  readonly prevTs: number;
  readonly authority: Authority;
  readonly ledgerId: string;
  readonly owner: Uint8Array;
}

export interface ChainReport {
  readonly ok: boolean;
  /** Number of stored entries examined. */
  readonly checked: number;
  /** The last event in the log, if any. */
  readonly head: HeadRef | null;
  readonly ledgerId: string | null;
  readonly failures: VerifyFailure[];
  /** All failures found, including any beyond maxFailures. */
  readonly failureCount: number;
}

interface ChainState {
  expectedSeq: number;
  prevHash: Uint8Array | null;
  prevTs: number;
  owner: Uint8Array | null;
  ledgerId: string | null;
  last: HeadRef | null;
  /** The keys allowed to write, folded from key events; null until a valid genesis is seen. */
  authority: Authority | null;
  /** The time of the last event read, for the stored head's check. */
  lastTs: number | null;
}

interface PendingSignature extends SignatureJob {
  readonly seq: number;
}

interface ChunkResult {
  readonly failures: VerifyFailure[];
  readonly jobs: PendingSignature[];
}

/** Entries one by one, or in batches (`{ batches }`, as the store's `entryBatches` gives them). */
export type EntrySource = AsyncIterable<StoredEntry> | Iterable<StoredEntry> | { readonly batches: AsyncIterable<readonly StoredEntry[]> };

function isBatched(source: EntrySource): source is { readonly batches: AsyncIterable<readonly StoredEntry[]> } {
  return typeof source === 'object' && source !== null && 'batches' in source;
}

/**
 * Verifies every stored entry and the stored facts beside them.
 * @example const report = await verifyChain({ batches: store.entryBatches() }, { verifySignatures: (jobs) => pool.verify(jobs) });
 */
export async function verifyChain(entries: EntrySource, options: ChainVerifyOptions): Promise<ChainReport> {
  const maxFailures = options.maxFailures ?? 1000;
  const chunkSize = options.chunkSize ?? 1024;
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const resume = options.resume;
  const state: ChainState =
    resume === undefined
      ? { expectedSeq: 0, prevHash: null, prevTs: 0, owner: null, ledgerId: null, last: null, authority: null, lastTs: null }
      : { expectedSeq: resume.seq, prevHash: resume.prevHash, prevTs: resume.prevTs, owner: resume.owner, ledgerId: resume.ledgerId, last: { seq: resume.seq - 1, hash: resume.prevHash }, authority: resume.authority, lastTs: resume.prevTs };
  const failures: VerifyFailure[] = [];
  let failureCount = 0;
  let checked = 0;
  let expectHeadSeen = false;
  const report = (failure: VerifyFailure): void => {
    failureCount++;
    // Messages quote attacker-controlled bytes (keys, payload paths): keep the report bounded (security review).
    const message = failure.message.length > MAX_MESSAGE ? `${failure.message.slice(0, MAX_MESSAGE)}…` : failure.message;
    if (failures.length < maxFailures) failures.push({ ...failure, message });
  };

  // Signatures of chunk k are checked while later chunks are decoded; each chunk's failures are merged only
  // after its predecessor's, so the report is ordered by seq.
  let inFlight: Promise<void> = Promise.resolve();
  const unfinished: Promise<void>[] = [];
  let chunk: StoredEntry[] = [];
  let chunkBytes = 0;
  const flush = async (): Promise<void> => {
    const result = checkChunk(state, chunk, maxEventBytes, options.expectHead);
    if (result.expectHeadSeen) expectHeadSeen = true;
    checked += chunk.length;
    chunk = [];
    chunkBytes = 0;
    const signatures = result.jobs.length > 0 ? options.verifySignatures(result.jobs) : Promise.resolve([]);
    const previous = inFlight;
    // Extra checks read the stores sequentially, so chunk k's run only after chunk k-1's have finished.
    const extra = previous.then(() => options.extraChecks?.checkChunk(result.decoded, result.leaves) ?? []);
    inFlight = (async () => {
      const [valid, extraFailures] = await Promise.all([signatures, extra]);
      await previous;
      const merged = [...result.failures, ...extraFailures];
      result.jobs.forEach((job, i) => {
        if (valid[i] !== true) merged.push({ seq: job.seq, code: 'BAD_SIGNATURE', message: `the signature of event ${job.seq} does not verify under key ${job.key.hex}` });
        if (options.reference === true && job.key.verify(job.signature, job.message, 'noble') !== (valid[i] === true)) {
          merged.push({ seq: job.seq, code: 'BACKEND_DISAGREEMENT', message: `node:crypto ${valid[i] === true ? 'accepts' : 'rejects'} the signature of event ${job.seq} but @noble/ed25519 does not` });
        }
      });
      merged.sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
      merged.forEach(report);
    })();
    // Up to MAX_CHUNKS_IN_FLIGHT chunks of signatures are outstanding while the next is read: workers never
    // wait for the reader, and memory stays bounded by a few chunks.
    unfinished.push(inFlight);
    while (unfinished.length > MAX_CHUNKS_IN_FLIGHT) await unfinished.shift();
    options.onProgress?.(checked);
  };

  // A batched source (the store's whole-log reader) costs one await per batch instead of one per entry.
  const iterator = isBatched(entries) ? toAsyncIterator(entries.batches) : toAsyncIterator(entries);
  let storeError: unknown;
  for (;;) {
    let next: IteratorResult<StoredEntry | readonly StoredEntry[]>;
    try {
      next = await iterator.next();
    } catch (error) {
      // A store that fails mid-way (corrupt block, I/O error) is a finding, not a crash: report what was read.
      storeError = error ?? new Error('unknown store error');
      break;
    }
    if (next.done === true) break;
    for (const entry of isBatched(entries) ? (next.value as readonly StoredEntry[]) : [next.value as StoredEntry]) {
      chunk.push(entry);
      chunkBytes += entry.value.length;
      if (chunk.length >= chunkSize || chunkBytes >= MAX_CHUNK_BYTES) await flush();
    }
  }
  if (chunk.length > 0) await flush();
  await inFlight;
  if (options.extraChecks !== undefined && storeError === undefined) for (const failure of await options.extraChecks.finish()) report(failure);
  if (storeError !== undefined) {
    report({ seq: state.last?.seq ?? null, code: 'STORE_ERROR', message: `the store could not be read past this point: ${errorMessage(storeError)}` });
  }

  for (const failure of finalChecks(state, options, expectHeadSeen)) report(failure);
  // Findings of the final pass (stored facts, stray index entries) may name earlier seqs: keep seq order.
  failures.sort((a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER));
  return { ok: failureCount === 0, checked, head: state.last, ledgerId: state.ledgerId, failures, failureCount };
}

interface Author {
  readonly bytes: Uint8Array;
  readonly hex: string;
  readonly key: VerifyingKey | null;
  readonly weakKey: unknown;
}

/** The author of an event, its hex and its vetted key (or why it has none), from the cache when it is the last one seen. */
function authorOf(cache: { last: Author | null }, bytes: Uint8Array): Author {
  const last = cache.last;
  if (last !== null && equalBytes(last.bytes, bytes)) return last;
  let key: VerifyingKey | null = null;
  let weakKey: unknown;
  try {
    key = VerifyingKey.fromBytes(bytes);
  } catch (error) {
    weakKey = error;
  }
  return (cache.last = { bytes: new Uint8Array(bytes), hex: toHex(bytes), key, weakKey });
}

function checkChunk(state: ChainState, entries: readonly StoredEntry[], maxEventBytes: number, expectHead: HeadRef | undefined) {
  const failures: VerifyFailure[] = [];
  const authors = { last: null as Author | null };
  const jobs: PendingSignature[] = [];
  const decoded: DecodedEvent[] = [];
  const leaves: StoredLeaf[] = [];
  let expectHeadSeen = false;
  const fail = (seq: number | null, code: FailureCode, message: string) => failures.push({ seq, code, message });

  for (const entry of entries) {
    // Step 1: the storage key names a seq.
    const seq = readUint64be(entry.key);
    if (seq === undefined) {
      fail(null, 'BAD_KEY_ENCODING', `a log key (${toHex(entry.key).slice(0, 40)}) is not an 8-byte sequence number`);
      continue;
    }
    // Step 2: no seq is missing.
    if (seq !== state.expectedSeq) {
      if (seq > state.expectedSeq) fail(seq, 'SEQ_GAP', `events ${state.expectedSeq}..${seq - 1} are missing before event ${seq}`);
      else fail(seq, 'SEQ_GAP', `event ${seq} is stored out of order`);
    }
    state.expectedSeq = seq + 1;

    // Step 3: strict decoding. The hash is over the raw bytes, so the chain can still be followed past a bad event.
    const hash = hashOf(entry.value);
    leaves.push({ seq, hash });
    const expectedPrev = seq === 0 ? GENESIS_PREV : state.prevHash;
    state.prevHash = hash;
    state.last = { seq, hash };
    if (expectHead !== undefined && seq === expectHead.seq) {
      expectHeadSeen = true;
      if (!equalBytes(hash, expectHead.hash)) {
        fail(seq, 'EXPECTED_HEAD', `event ${seq} has hash ${toHex(hash)}, not the expected ${toHex(expectHead.hash)}: the ledger was rewritten`);
      }
    }
    let event: SealedEvent;
    try {
      event = openEvent(entry.value, maxEventBytes, hash);
    } catch (error) {
      const code = isLedgerError(error, 'EVENT_TOO_LARGE') ? 'TOO_LARGE' : isLedgerError(error, 'NON_CANONICAL') ? 'NON_CANONICAL' : 'MALFORMED_EVENT';
      fail(seq, code, `event ${seq} cannot be decoded: ${errorMessage(error)}`);
      continue;
    }
    const body = event.body;
    // Most ledgers have a handful of authors writing runs of events: the last author's hex and vetted key are
    // reused rather than made again for every event.
    const author = authorOf(authors, body.author);
    const authorHex = author.hex;
    const key: VerifyingKey | null = author.key;
    const weakKey: unknown = author.weakKey; // reported in step 8, its place in the pipeline
    // Events that change who may write (the genesis, key events) take effect only with a valid signature, so
    // they are checked here, in order, rather than in the parallel batch (SPEC §14.3). They are rare.
    const changesAuthority = seq === 0 || isKeyEventType(body.type);
    const authoritySigned = changesAuthority ? key !== null && key.verify(event.signature, event.signedMessage) : undefined;
    decoded.push({ seq, ts: body.ts, type: body.type, payload: body.payload, author: authorHex, authority: state.authority ?? new Map(), authoritySigned });

    // Step 4: the event's own seq matches where it is stored.
    if (body.seq !== seq) fail(seq, 'SEQ_MISMATCH', `the event stored at ${seq} says it is event ${body.seq}`);
    // Step 5: the chain link.
    if (expectedPrev !== null && !equalBytes(body.prev, expectedPrev)) {
      fail(seq, 'BAD_PREV', `event ${seq} links to ${toHex(body.prev)}, but the event before it hashes to ${toHex(expectedPrev)}`);
    }
    // Step 6: time never goes backwards.
    if (body.ts < state.prevTs) fail(seq, 'TIME_REVERSED', `event ${seq} has time ${body.ts}, before the previous event's ${state.prevTs}`);
    state.prevTs = Math.max(state.prevTs, body.ts);
    state.lastTs = body.ts;

    // Step 7: genesis rules and who may write, judged by the keys valid just before this event (SPEC §4.1, §14.3).
    if (seq === 0) {
      const genesis = readGenesis(body);
      if (typeof genesis === 'string') fail(0, 'BAD_GENESIS', genesis);
      else {
        state.owner = genesis.owner;
        state.ledgerId = genesis.ledgerId;
        if (authoritySigned === true) state.authority = genesisAuthority(toHex(genesis.owner));
      }
    } else if (body.type === GENESIS_TYPE) {
      fail(seq, 'BAD_GENESIS', `event ${seq} is a second genesis`);
    } else if (state.authority !== null) {
      judgeAuthority(state, seq, authorHex, body.type, body.payload, authoritySigned !== false, fail);
    }

    // Step 8: the signature, checked in parallel later (or already, for the events above).
    if (key === null) {
      fail(seq, 'WEAK_KEY', `event ${seq} is signed by a key that fails the key rules: ${errorMessage(weakKey)}`);
      continue;
    }
    if (authoritySigned !== undefined) {
      if (!authoritySigned) fail(seq, 'BAD_SIGNATURE', `the signature of event ${seq} does not verify under key ${key.hex}`);
      continue;
    }
    jobs.push({ seq, signature: event.signature, message: event.signedMessage, key });
  }
  return { failures, jobs, decoded, leaves, expectHeadSeen };
}

const AUTHOR_MESSAGES = {
  UNAUTHORIZED: 'which was never authorised to write to this ledger',
  KEY_REVOKED: 'which had been revoked before it',
  NOT_ADMIN: 'which was not an admin, and only admins change keys',
} as const;

/** Step 7 for an event after the genesis: its author, and for a key event the change it makes. */
function judgeAuthority(state: ChainState, seq: number, author: string, type: string, payload: JsonValue, signed: boolean, fail: (seq: number, code: FailureCode, message: string) => void): void {
  const authority = state.authority!;
  const problem = judgeAuthor(authority, author, type);
  if (problem !== null) fail(seq, problem, `event ${seq} is signed by ${author}, ${AUTHOR_MESSAGES[problem]}`);
  if (!isKeyEventType(type)) return;
  const event = judgeKeyEvent(authority, type, payload);
  if (typeof event === 'string') return fail(seq, 'BAD_KEY_EVENT', `event ${seq} is not a valid key change: ${event}`);
  // A change by a key that may not make it, or without a valid signature, has no effect on who may write.
  if (problem === null && signed) state.authority = evolveAuthority(authority, event, seq, author);
}

function finalChecks(state: ChainState, options: ChainVerifyOptions, expectHeadSeen: boolean): VerifyFailure[] {
  const failures: VerifyFailure[] = [];
  if (state.last === null) failures.push({ seq: null, code: 'EMPTY', message: 'the log holds no events, not even a genesis' });
  if (options.expectHead !== undefined && !expectHeadSeen) {
    failures.push({
      seq: options.expectHead.seq,
      code: 'EXPECTED_HEAD',
      message: `event ${options.expectHead.seq} is missing: the ledger ends at ${state.last?.seq ?? 'nothing'}, so it was truncated`,
    });
  }
  const stored = options.stored;
  if (stored !== undefined) {
    const last = state.last;
    const head = stored.head;
    if ((head === null) !== (last === null) || (head !== null && last !== null && (head.seq !== last.seq || !equalBytes(head.hash, last.hash) || head.ts !== state.lastTs))) {
      failures.push({
        seq: last?.seq ?? null,
        code: 'HEAD_MISMATCH',
        message: `the stored head (${describeHead(head)}) does not name the last event in the log (${describeHead(last)})`,
      });
    }
    if (stored.ledgerId !== state.ledgerId) {
      failures.push({ seq: null, code: 'META_MISMATCH', message: `the stored ledger id ${stored.ledgerId ?? 'none'} differs from the genesis (${state.ledgerId ?? 'none'})` });
    }
    if ((stored.owner === null) !== (state.owner === null) || (stored.owner !== null && state.owner !== null && !equalBytes(stored.owner, state.owner))) {
      failures.push({ seq: null, code: 'META_MISMATCH', message: 'the stored owner key differs from the one the genesis names' });
    }
    if (stored.formatVersion !== FORMAT_VERSION) {
      failures.push({ seq: null, code: 'META_MISMATCH', message: `the stored format version is ${stored.formatVersion ?? 'missing'}, not ${FORMAT_VERSION}` });
    }
    if (stored.rebuilding) {
      failures.push({ seq: null, code: 'PROJECTION_MISMATCH', message: 'a rebuild was interrupted, so the projections are incomplete; run `provledger rebuild`' });
    }
  }
  return failures;
}

function describeHead(head: HeadRef | null): string {
  return head === null ? 'none' : `${head.seq}:${toHex(head.hash)}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toAsyncIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}
