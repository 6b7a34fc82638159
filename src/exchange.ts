/**
 * Export and import (SPEC §25): the events as JSONL, the lineage graph as PROV-JSON, and a new ledger built from
 * a JSONL export. The formats are the pure modules of exchange/; this module reads the store and writes files.
 *
 * Import writes no projection of its own and judges no event itself: it stores the exported bytes as the log,
 * then runs the ledger's own `rebuild` (the projections and tree, byte for byte as appends write them) and its
 * own `verify` (every rule of SPEC §7), in a hidden sibling directory that is renamed into place only when all of
 * that passed. So no partial or unverified ledger ever appears at the target.
 */
import { lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { readUint64be, toHex } from './bytes.js';
import { LedgerError } from './errors.js';
import { openStoredEvent, type SealedEvent } from './event/event.js';
import { readGenesis } from './event/genesis.js';
import { formatFooter, formatHeader, formatEventLine, readExport, splitLines } from './exchange/jsonl.js';
import { toProvJson, type ProvDocument, type ProvInvalidation, type ProvLink, type ProvRecord } from './exchange/prov.js';
import { LevelLogStore } from './log/level-store.js';
import type { LogStore, StoredHead, StoredMeta } from './log/store.js';
import { linkKeys } from './projections/links.js';
import { readInvalidations } from './projections/invalidations.js';
import type { Keys } from './keys.js';
import type { LedgerPoint, VerifyReport } from './ledger.js';
import type { LineageEdge, Links } from './links.js';
import type { RecordVersion, Records } from './records.js';

export type { ProvDocument, ProvAttributes, ProvValue } from './exchange/prov.js';
export { EXPORT_FORMAT } from './exchange/jsonl.js';

export interface ExportJsonlOptions {
  /** First and last seq to export (default: the genesis and the head as the export starts). */
  readonly from?: number;
  readonly to?: number;
  /** Only the events about this record: its versions, the links that touch it, its invalidations (SPEC §25.2). */
  readonly record?: string;
}

export interface ExportProvOptions {
  /** Only this record's lineage, up and down (SPEC §19.3), instead of every record. */
  readonly record?: string;
  /** The graph as of this point (default: now). */
  readonly at?: LedgerPoint;
}

export interface ImportOptions {
  /** fsync the imported ledger (default true). */
  readonly sync?: boolean;
  /** A head the import must reproduce (as printed by `provledger head`); otherwise IMPORT_INVALID. */
  readonly expectHead?: { readonly seq: number; readonly hash: string };
  /** Signature-checking threads for the verification (default: one per core for large ledgers). */
  readonly threads?: number;
  /** Called as the import reads the file, rebuilds the projections and verifies, with the count so far and the total. */
  readonly onProgress?: (phase: ImportPhase, done: number, total: number) => void;
}

/** The three passes of an import, in order (SPEC §25.4). */
export type ImportPhase = 'read' | 'rebuild' | 'verify';

export interface ImportResult {
  readonly ledgerId: string;
  /** The owner key the genesis names, hex: with the head, what to compare against what you trust. */
  readonly owner: string;
  /** The head of the imported ledger: the last event's seq and hex hash, as in the source. */
  readonly seq: number;
  readonly hash: string;
  readonly events: number;
}

/** What export needs of an open ledger; passed in so the façade keeps its internals private. */
export interface ExchangeHost {
  readonly store: LogStore;
  readonly maxEventBytes: number;
  readonly records: Records;
  readonly links: Links;
  readonly keys: Keys;
  head(): StoredHead | null;
  meta(): StoredMeta | null;
  resolvePoint(point: LedgerPoint): Promise<number>;
  assertReadable(): void;
}

/** What import needs of the ledger class: opening the directory it built, to rebuild and verify it. */
export interface ImportHost {
  open(dir: string, options: { sync?: boolean }): Promise<{
    rebuild(options: { onProgress?: (done: number, total: number) => void }): Promise<unknown>;
    verify(options: { expectHead?: ImportOptions['expectHead']; threads?: number; onProgress?: (done: number, total: number) => void }): Promise<VerifyReport>;
    close(): Promise<void>;
  }>;
}

/** An export to import: the path of a file, or its bytes (or text) in chunks, such as a readable stream. */
export type ImportSource = string | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** Events per batch written while importing: bounded memory, and few fsyncs. */
const IMPORT_BATCH_EVENTS = 1000;
const IMPORT_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * The JSONL export (SPEC §25.1) as lines, each ending in `\n`: header, events in seq order, footer. Streams: memory
 * does not grow with the ledger. Each event is read as `log` reads it (decoded strictly, at its own seq).
 * @throws LedgerError INVALID_ARGUMENT, AT_OUT_OF_RANGE, RECORD_NOT_FOUND, STORE_CORRUPT.
 */
export async function* exportJsonl(host: ExchangeHost, options: ExportJsonlOptions = {}): AsyncGenerator<string> {
  host.assertReadable();
  const head = host.head();
  const meta = host.meta();
  if (head === null || meta === null) throw new LedgerError('STORE_CORRUPT', 'the ledger has no readable head or ledger facts; run `provledger verify`');
  const from = checkSeq(options.from, 'from') ?? 0;
  // The head as the export starts: appends made meanwhile are not part of it, so its footer stays true.
  const to = checkSeq(options.to, 'to') ?? head.seq;
  if (from > to) throw new LedgerError('INVALID_ARGUMENT', `from ${from} is after to ${to}; swap them`);
  if (to > head.seq) throw new LedgerError('AT_OUT_OF_RANGE', `seq ${to} is beyond the last event (${head.seq})`);
  const seqs = options.record === undefined ? undefined : await seqsAbout(host, options.record, from, to);
  yield `${formatHeader({ ledger: meta.ledgerId, from, to, ...(options.record === undefined ? {} : { record: options.record }) })}\n`;
  let count = 0;
  if (seqs !== undefined) {
    for (const seq of seqs) {
      yield `${formatEventLine(openStoredEvent(seq, await host.store.get(seq), host.maxEventBytes))}\n`;
      count++;
    }
  } else {
    for await (const entry of host.store.entries({ from, to })) {
      const seq = readUint64be(entry.key);
      // A hole in the log would make an export that import refuses: say so here, where it can be fixed.
      if (seq !== from + count) throw new LedgerError('STORE_CORRUPT', `event ${from + count} is missing from the log; run \`provledger verify\``);
      yield `${formatEventLine(openStoredEvent(seq, entry.value, host.maxEventBytes))}\n`;
      count++;
    }
    if (count !== to - from + 1) throw new LedgerError('STORE_CORRUPT', `events ${from + count}..${to} are missing from the log; run \`provledger verify\``);
  }
  yield `${formatFooter(count)}\n`;
}

/** The seqs of the events about one record, within from..to, in order (SPEC §25.2). */
async function seqsAbout(host: ExchangeHost, id: string, from: number, to: number): Promise<number[]> {
  const seqs = new Set<number>();
  for await (const version of host.records.history(id)) seqs.add(version.seq);
  // Every valid change of a link with the record at either end: `lu` is keyed by the dependent, `ld` by the dependency.
  for (const index of ['lu', 'ld'] as const) {
    for await (const entry of host.store.indexEntries(index, linkKeys.of(id))) {
      const seq = readUint64be(entry.key.subarray(entry.key.length - 8));
      if (seq === undefined) throw new LedgerError('STORE_CORRUPT', `the link index (${index}) of ${id} holds a malformed key; run \`provledger verify\``);
      seqs.add(seq);
    }
  }
  for (const invalidation of await readInvalidations(host.store, id)) seqs.add(invalidation.seq);
  return [...seqs].filter((seq) => seq >= from && seq <= to).sort((a, b) => a - b);
}


/**
 * The lineage graph as PROV-JSON (SPEC §25.3), as of now or a point: every record (or, with `record`, its lineage
 * up and down), the links in place between them, their invalidations, and the keys that signed their versions.
 * Memory grows with the graph exported, never with the log.
 * @throws LedgerError INVALID_RECORD_ID, RECORD_NOT_FOUND, AT_OUT_OF_RANGE, STORE_CORRUPT.
 */
export async function exportProvJson(host: ExchangeHost, options: ExportProvOptions = {}): Promise<ProvDocument> {
  host.assertReadable();
  const head = host.head();
  const meta = host.meta();
  if (head === null || meta === null) throw new LedgerError('STORE_CORRUPT', 'the ledger has no readable head or ledger facts; run `provledger verify`');
  const atSeq = options.at === undefined ? head.seq : await host.resolvePoint(options.at);
  const at = { seq: atSeq };
  const versions: RecordVersion[] = [];
  const edges = new Map<string, LineageEdge>();
  if (options.record !== undefined) {
    const [up, down] = [await host.links.lineage(options.record, { direction: 'up', at }), await host.links.lineage(options.record, { direction: 'down', at })];
    const ids = [...new Set([...up.nodes, ...down.nodes].map((node) => node.id))];
    for (const id of ids) versions.push((await host.records.versionAt(id, atSeq))!);
    for (const edge of [...up.edges, ...down.edges]) edges.set(`${edge.addedSeq}`, edge);
  } else {
    for await (const version of host.records.stateAt(atSeq)) {
      versions.push(version);
      // Each link has one dependent (for inContext, its `from`), so listing every record's upward links lists each once.
      for (const edge of await host.links.list(version.id, { direction: 'up', at })) edges.set(`${edge.addedSeq}`, edge);
    }
  }
  const invalidations: ProvInvalidation[] = [];
  for (const version of versions) {
    for (const invalidation of await readInvalidations(host.store, version.id, atSeq)) {
      invalidations.push({ ...invalidation, timeMs: openStoredEvent(invalidation.seq, await host.store.get(invalidation.seq), host.maxEventBytes).body.ts });
    }
  }
  const records: ProvRecord[] = versions.map(({ id, kind, version, deleted, data, seq, hash, author, timeMs }) => ({ id, kind, version, deleted, data, seq, hash, author, timeMs }));
  const links: ProvLink[] = [...edges.values()].map(({ from, to, rel, role, split, addedSeq }) => ({ from, to, rel, addedSeq, ...(role === undefined ? {} : { role }), ...(split === undefined ? {} : { split }) }));
  const keys = (await host.keys.list({ at })).map(({ key, role, name, active }) => ({ key, role, name, active }));
  return toProvJson({ ledgerId: meta.ledgerId, records, links, invalidations, keys });
}

/**
 * Builds a new ledger at `dir` from a JSONL export (SPEC §25.4), read from a path or from chunks: every line read
 * strictly, the events stored as the log, the projections and tree rebuilt, and the whole ledger verified, all in a
 * hidden sibling directory renamed to `dir` only when everything passed. `dir` must not exist, or be empty.
 * @throws LedgerError LEDGER_EXISTS, INVALID_ARGUMENT (a non-empty directory or a file at `dir`, an unwritable
 * parent), EXPORT_MALFORMED (not an export: exit 2), IMPORT_INVALID (its events were changed or fail verification:
 * exit 1), STORE_ERROR. Nothing appears at `dir` when it throws.
 */
export async function importLedger(dir: string, source: ImportSource, options: ImportOptions, host: ImportHost): Promise<ImportResult> {
  const target = resolve(dir);
  await assertFreeTarget(dir);
  const chunks = await exportSource(source);
  const parent = dirname(target);
  const temp = join(parent, `.${basename(target)}.import-${toHex(globalThis.crypto.getRandomValues(new Uint8Array(6)))}`);
  try {
    await mkdir(temp);
  } catch (error) {
    throw new LedgerError('INVALID_ARGUMENT', `cannot create a directory beside ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check that ${parent} exists and is writable`, { cause: error });
  }
  try {
    const progress = options.onProgress;
    const { head, events, ledgerId, owner } = await storeEvents(temp, chunks, options.sync, progress === undefined ? undefined : (done, total) => progress('read', done, total));
    const ledger = await host.open(temp, { sync: options.sync });
    let report: VerifyReport;
    try {
      await ledger.rebuild({ onProgress: progress === undefined ? undefined : (done, total) => progress('rebuild', done, total) });
      report = await ledger.verify({ expectHead: options.expectHead, threads: options.threads, onProgress: progress === undefined ? undefined : (done, total) => progress('verify', done, total) });
    } finally {
      await ledger.close();
    }
    // --expect-head names the head the import must end at, not only an event it must contain (SPEC §25.4):
    // events added after the head a user trusted are refused too.
    if (report.ok && options.expectHead !== undefined && head.seq !== options.expectHead.seq) {
      throw new LedgerError('IMPORT_INVALID', `the export ends at event ${head.seq}, not at the expected head ${options.expectHead.seq}; nothing was imported`, {
        details: { failure: 'EXPECTED_HEAD', seq: head.seq, failureCount: 1 },
      });
    }
    if (!report.ok) {
      const first = report.failures[0]!;
      const more = report.failureCount > 1 ? ` (and ${report.failureCount - 1} more problem(s))` : '';
      throw new LedgerError('IMPORT_INVALID', `the export fails verification: ${first.seq === null ? '' : `event ${first.seq}: `}${first.code}: ${first.message}${more}; nothing was imported`, {
        details: { failure: first.code, seq: first.seq, failureCount: report.failureCount },
      });
    }
    await moveIntoPlace(temp, target, dir, options.sync !== false);
    return { ledgerId, owner, seq: head.seq, hash: toHex(head.hash), events };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Reads the export into a new store at `temp`: the log, the head and the ledger facts from the genesis. */
async function storeEvents(
  temp: string,
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  sync: boolean | undefined,
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<{ head: StoredHead; events: number; ledgerId: string; owner: string }> {
  const store = await LevelLogStore.open(temp, { create: true, sync });
  try {
    let batch: SealedEvent[] = [];
    let batchBytes = 0;
    let meta: StoredMeta | undefined;
    let pendingMeta: StoredMeta | undefined;
    let ledgerId = '';
    let head: StoredHead | undefined;
    let events = 0;
    let total = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const last = batch[batch.length - 1]!;
      head = { seq: events - 1, hash: last.hash, ts: last.body.ts };
      // Stored by position in the file, not by the seq the event claims: verify then catches a line out of place
      // too (SEQ_MISMATCH), even if the reader's own check were ever skipped.
      const first = events - batch.length;
      await store.commit({ events: batch.map((e, i) => ({ seq: first + i, bytes: e.bytes })), head, ...(pendingMeta === undefined ? {} : { meta: pendingMeta }) });
      pendingMeta = undefined;
      batch = [];
      batchBytes = 0;
      onProgress?.(events, total);
    };
    for await (const item of readExport(splitLines(chunks))) {
      if (item.kind === 'header') {
        ledgerId = item.header.ledger;
        total = item.header.to + 1;
        continue;
      }
      const { event, line } = item;
      if (events === 0) {
        // The ledger facts come from the genesis, as at init; verify then checks the genesis in full (SPEC §4.1).
        const genesis = readGenesis(event.body);
        if (typeof genesis === 'string') throw new LedgerError('IMPORT_INVALID', `line ${line} of the export holds an invalid genesis (${genesis}); nothing was imported`, { details: { line, failure: 'BAD_GENESIS', seq: 0 } });
        if (genesis.ledgerId !== ledgerId) {
          throw new LedgerError('IMPORT_INVALID', `the export's header names ledger ${ledgerId}, but its genesis names ${genesis.ledgerId}: the header was edited; nothing was imported`, { details: { line, failure: 'META_MISMATCH', seq: 0 } });
        }
        meta = { ledgerId: genesis.ledgerId, owner: genesis.owner, formatVersion: event.body.v };
        pendingMeta = meta;
      }
      batch.push(event);
      batchBytes += event.bytes.length;
      events++;
      if (batch.length >= IMPORT_BATCH_EVENTS || batchBytes >= IMPORT_BATCH_BYTES) await flush();
    }
    await flush();
    // readExport ends only after a footer that matches a header from seq 0, so there was at least a genesis.
    if (head === undefined || meta === undefined) throw new LedgerError('EXPORT_MALFORMED', 'the export holds no events, not even a genesis');
    return { head, events, ledgerId, owner: toHex(meta.owner) };
  } finally {
    await store.close();
  }
}

/** `dir` must be free: absent, or an empty directory (as `init` accepts). */
async function assertFreeTarget(dir: string): Promise<void> {
  let entries: string[];
  try {
    // lstat: a symbolic link is refused here, not after the whole import when rename(2) would meet it.
    const info = await lstat(dir);
    if (info.isSymbolicLink()) throw new LedgerError('INVALID_ARGUMENT', `${dir} is a symbolic link; import into a real directory path (--ledger)`);
    if (!info.isDirectory()) throw new LedgerError('INVALID_ARGUMENT', `${dir} is a file, not a directory; choose another --ledger path to import into`);
    entries = await readdir(dir);
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LedgerError('INVALID_ARGUMENT', `cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}); choose another --ledger path`, { cause: error });
  }
  if (entries.includes('CURRENT')) throw new LedgerError('LEDGER_EXISTS', `a ledger already exists at ${dir}; import into a new --ledger directory`);
  if (entries.length > 0) throw new LedgerError('INVALID_ARGUMENT', `${dir} is not empty; import into a new or empty --ledger directory`);
}

/**
 * Renames the verified ledger to its place. rename(2) replaces only an empty directory, so a ledger (or anything
 * else) that appeared at the target meanwhile is never overwritten. Then the parent is synced so the name is durable.
 */
async function moveIntoPlace(temp: string, target: string, dir: string, sync: boolean): Promise<void> {
  try {
    await rename(temp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') throw new LedgerError('LEDGER_EXISTS', `something appeared at ${dir} while importing; nothing was imported`, { cause: error });
    throw new LedgerError('STORE_ERROR', `could not move the imported ledger into ${dir} (${code ?? 'error'}); nothing was imported`, { cause: error });
  }
  if (!sync) return;
  // The ledger is in place and verified; a platform that cannot fsync a directory only loses durability of the
  // name on a crash, which is no reason to report a failed import.
  try {
    const handle = await open(dirname(target), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    return;
  }
}

/**
 * The chunks of an export: a path is opened before anything else is done, so a missing file is reported as
 * one; read errors mid-way become one coded error too.
 * @throws LedgerError INVALID_ARGUMENT.
 */
async function exportSource(source: ImportSource): Promise<AsyncIterable<Uint8Array | string>> {
  if (typeof source !== 'string') return readingErrors(source, 'the export');
  try {
    const handle = await open(source, 'r');
    if (!(await handle.stat()).isFile() && !(await handle.stat()).isFIFO()) {
      await handle.close();
      throw new LedgerError('INVALID_ARGUMENT', `${source} is not a file; give the path of a JSONL export, or - for standard input`);
    }
    return readingErrors(handle.createReadStream(), source);
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError('INVALID_ARGUMENT', `cannot read ${source} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`, { cause: error });
  }
}

async function* readingErrors(chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, what: string): AsyncGenerator<Uint8Array | string> {
  try {
    for await (const chunk of chunks) yield chunk;
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError('INVALID_ARGUMENT', `could not read ${what} to its end (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was imported`, { cause: error });
  }
}

function checkSeq(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new LedgerError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${String(value)}`);
  return value;
}
