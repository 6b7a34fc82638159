/**
 * Verification of the stored projections against the log (SPEC §12.4), in the same streaming pass as the
 * chain checks and in constant memory. Every index entry that an event implies is looked up and compared;
 * each index is then counted, so an entry the log does not imply is caught too. Version rules (consecutive,
 * created once, nothing after a tombstone) are checked through the version index, which is itself checked
 * against the log event by event, so no per-record state is held in memory.
 */
import type { VerifyFailure } from '../chain/failures.js';
import { equalBytes } from '../bytes.js';
import { checkTransition, ID_PATTERN, type RecordEvent } from '../domain/records.js';
import { decodeHead, decodeKind, decodeVersion, keyText, keys, readTimeKey, type IndexReader } from './indexes.js';
import { linkEventOf, projectAuthority, recordEventOf, type ProjectedEvent } from './project.js';
import { decodeLinkValue, judgeLinkChange, linkKeys } from './links.js';
import { isInvalidateType, judgeInvalidation, parseInvalidation } from '../domain/invalidation.js';
import { invalidationKeys, invalidationValue } from './invalidations.js';
import type { DecodedEvent } from '../chain/verify.js';

export interface ProjectionChecker {
  checkChunk(events: readonly DecodedEvent[]): Promise<VerifyFailure[]>;
  finish(): Promise<VerifyFailure[]>;
}

const MAX_NAMED_STRAYS = 100;

export interface CheckerOptions {
  /** The time of the stored event at `seq`, or undefined; used only to name stray time-index entries. */
  readonly eventTime?: (seq: number) => Promise<number | undefined>;
}

export function createProjectionChecker(reader: IndexReader, options: CheckerOptions = {}): ProjectionChecker {
  // Implied entries found in each index (key present). Missing ones are reported one by one; an index that
  // holds more keys than were found holds entries no event implies.
  const present: Record<'rv' | 'rk' | 'ti' | 'ka' | 'lu' | 'ld' | 'iv', number> = { rv: 0, rk: 0, ti: 0, ka: 0, lu: 0, ld: 0, iv: 0 };
  let creates = 0;
  const failures: VerifyFailure[] = [];
  const mismatch = (seq: number | null, message: string): void => void failures.push({ seq, code: 'PROJECTION_MISMATCH', message });

  /** Every event has its time-index entry; the count at the end rules out entries no event implies. */
  async function checkTime(events: readonly DecodedEvent[]): Promise<void> {
    const found = await reader.indexGetMany('ti', events.map((event) => keys.time(event.ts, event.seq)));
    events.forEach((event, i) => {
      if (found[i] !== undefined) present.ti++;
      if (found[i] === undefined) mismatch(event.seq, `the time index lacks event ${event.seq}`);
      else if (found[i]!.length !== 0) mismatch(event.seq, `the time index entry of event ${event.seq} is not empty`);
    });
  }

  async function checkRecords(events: readonly ProjectedEvent[]): Promise<void> {
    const records: { event: ProjectedEvent; record: RecordEvent }[] = [];
    for (const event of events) {
      const record = recordEventOf(event);
      if (typeof record === 'string') failures.push({ seq: event.seq, code: 'BAD_RECORD_EVENT', message: `event ${event.seq} is not a valid record event: ${record}` });
      else if (record !== null) records.push({ event, record });
    }
    if (records.length === 0) return;
    const own = await reader.indexGetMany('rv', records.map(({ record }) => keys.version(record.id, record.version)));
    const before = await reader.indexGetMany('rv', records.map(({ record }) => keys.version(record.id, Math.max(record.version - 1, 1))));
    const kinds = await reader.indexGetMany('rk', records.map(({ record }) => (record.type === 'record.create' ? keys.kind(record.kind, record.id) : keys.kind('-', '-'))));
    records.forEach(({ event, record }, i) => {
      const what = `${record.id}@${record.version}`;
      const versionBreak = (message: string): void => void failures.push({ seq: event.seq, code: 'VERSION_BREAK', message: `event ${event.seq}: ${message}` });
      const ownEntry = own[i] === undefined ? null : safely(() => decodeVersion(own[i]!, `version (rv) ${what}`));
      if (typeof ownEntry === 'string') return mismatch(event.seq, ownEntry);
      const indexed = ownEntry !== null && ownEntry.seq === event.seq;
      // 1. A version already written by an earlier event: the log repeats it (the writer keeps the first).
      if (ownEntry !== null && ownEntry.seq < event.seq) return versionBreak(`${what} was already written by event ${ownEntry.seq}`);
      // 2. The previous version, through rv, which this same pass checks against the log event by event.
      let prior: { version: number; deleted: boolean } | null = null;
      if (record.version > 1) {
        const entry = before[i] === undefined ? null : safely(() => decodeVersion(before[i]!, `version (rv) ${record.id}@${record.version - 1}`));
        if (entry === null || typeof entry === 'string' || entry.seq >= event.seq) {
          // Only valid transitions are indexed (SPEC §12.2): an indexed event without an indexed predecessor
          // means a damaged index; an unindexed one means the log skips or invents a version.
          if (indexed) {
            present.rv++;
            return mismatch(event.seq, `the version index lacks ${record.id}@${record.version - 1}, which ${what} follows`);
          }
          return versionBreak(`${record.id} gets version ${record.version} without a version ${record.version - 1} before it`);
        }
        prior = { version: record.version - 1, deleted: entry.op === 'delete' };
      }
      // 3. The transition is allowed (SPEC §11.3); an event that breaks the rules must not be indexed.
      const broken = checkTransition(prior, record);
      if (broken !== null) {
        versionBreak(broken);
        if (indexed) {
          present.rv++;
          mismatch(event.seq, `the version index holds ${what}, which breaks the version rules`);
        }
        return;
      }
      // 4. A valid event is indexed with its seq and operation, and a create is in the kind index.
      if (!indexed) mismatch(event.seq, `the version index ${ownEntry === null ? 'lacks' : 'names another event for'} ${what}, written by event ${event.seq}`);
      else if (ownEntry.op !== record.type.slice('record.'.length)) mismatch(event.seq, `the version index records ${what} as a ${ownEntry.op}, not a ${record.type}`);
      if (indexed) present.rv++;
      if (record.type === 'record.create') {
        creates++;
        if (kinds[i] !== undefined) present.rk++;
        const createSeq = kinds[i] === undefined ? null : safely(() => decodeKind(kinds[i]!, `kind (rk) of ${record.id}`));
        if (createSeq !== event.seq) mismatch(event.seq, `the kind index does not list ${record.id} as a ${record.kind} created by event ${event.seq}`);
      }
    });
  }

  /**
   * Every link change that follows the rules has its `lu` and `ld` entries (SPEC §19.4). The link's state
   * before it is read from `lu`, which this same pass checks event by event, so no link state is held in memory.
   */
  async function checkLinks(events: readonly ProjectedEvent[]): Promise<void> {
    for (const event of events) {
      const link = linkEventOf(event);
      if (link === null) continue;
      if (typeof link === 'string') {
        failures.push({ seq: event.seq, code: 'BAD_LINK_EVENT', message: `event ${event.seq} is not a valid link event: ${link}` });
        continue;
      }
      const what = `${link.from} ${link.rel} ${link.to}`;
      let active = false;
      const range = linkKeys.changes(link, 'up');
      for await (const entry of reader.indexEntries('lu', { gte: range.gte, lt: linkKeys.change(link, 'up', event.seq), reverse: true, limit: 1 })) {
        const op = safely(() => decodeLinkValue(entry.value, `link (lu) ${what}`));
        if (typeof op !== 'string' || (op !== 'add' && op !== 'remove')) mismatch(event.seq, `the link index holds a malformed change of ${what}`);
        else active = op === 'add';
      }
      const [[up], [down]] = await Promise.all([reader.indexGetMany('lu', [linkKeys.change(link, 'up', event.seq)]), reader.indexGetMany('ld', [linkKeys.change(link, 'down', event.seq)])]);
      if (up !== undefined) present.lu++;
      if (down !== undefined) present.ld++;
      // An add's ends created before it: through rv, which this same pass checks event by event.
      let missingEnd: string | null = null;
      if (link.type === 'link.add') {
        const created = await reader.indexGetMany('rv', [keys.version(link.from, 1), keys.version(link.to, 1)]);
        missingEnd =
          [link.from, link.to].find((id, i) => {
            const entry = created[i] === undefined ? null : safely(() => decodeVersion(created[i]!, `version (rv) ${id}@1`));
            return entry === null || typeof entry === 'string' || entry.seq >= event.seq;
          }) ?? null;
      }
      const broken = judgeLinkChange(link, active, missingEnd);
      if (broken !== null) {
        // As for records (above): only valid changes are indexed, so an indexed change that looks invalid means the
        // index lacks what came before it; an unindexed one means the log breaks the rules.
        if (up !== undefined || down !== undefined) mismatch(event.seq, `the link index holds the change of event ${event.seq}, but not what would allow it`);
        else failures.push({ seq: event.seq, code: 'LINK_BREAK', message: `event ${event.seq}: ${broken}` });
        continue;
      }
      const op = link.type === 'link.add' ? 'add' : 'remove';
      const reads = [up, down].map((bytes) => (bytes === undefined ? null : safely(() => decodeLinkValue(bytes, `link ${what}`))));
      if (reads.some((read) => read !== op)) mismatch(event.seq, `the link indexes (lu, ld) ${reads.includes(null) ? 'lack' : 'differ on'} the ${op} of ${what} by event ${event.seq}`);
    }
  }

  /**
   * Every valid invalidation has its `iv` entry, byte for byte (SPEC §23.1): valid when its record (and the
   * version it names) existed before it, which `rv`, checked in this same pass, says.
   */
  async function checkInvalidations(events: readonly ProjectedEvent[]): Promise<void> {
    for (const event of events) {
      if (!isInvalidateType(event.type)) continue;
      const invalidation = parseInvalidation(event.payload);
      if (typeof invalidation === 'string') {
        failures.push({ seq: event.seq, code: 'BAD_RECORD_EVENT', message: `event ${event.seq} is not a valid invalidation: ${invalidation}` });
        continue;
      }
      const version = invalidation.version ?? 1;
      const [[written], [stored]] = await Promise.all([reader.indexGetMany('rv', [keys.version(invalidation.id, version)]), reader.indexGetMany('iv', [invalidationKeys.one(invalidation.id, event.seq)])]);
      if (stored !== undefined) present.iv++;
      // The version it names (or version 1) written before it, through rv: then the record reached at least that version.
      const entry = written === undefined ? null : safely(() => decodeVersion(written, `version (rv) ${invalidation.id}@${version}`));
      const broken = judgeInvalidation(invalidation, entry !== null && typeof entry !== 'string' && entry.seq < event.seq ? version : null);
      if (broken !== null) {
        if (stored !== undefined) mismatch(event.seq, `the invalidation index holds event ${event.seq}, whose record version did not exist before it`);
        else failures.push({ seq: event.seq, code: 'BAD_RECORD_EVENT', message: `event ${event.seq}: ${broken}` });
        continue;
      }
      if (stored === undefined || !equalBytes(stored, invalidationValue(invalidation))) mismatch(event.seq, `the invalidation index ${stored === undefined ? 'lacks' : 'differs on'} event ${event.seq}`);
    }
  }

  /** Every key change the rules accept has its `ka` entry, byte for byte (SPEC §14.4). */
  async function checkAuthority(events: readonly DecodedEvent[]): Promise<void> {
    const wanted = events.flatMap((event) => projectAuthority(event, event.authority).writes.map((write) => ({ seq: event.seq, write })));
    if (wanted.length === 0) return;
    const found = await reader.indexGetMany('ka', wanted.map(({ write }) => write.key));
    wanted.forEach(({ seq, write }, i) => {
      const stored = found[i];
      if (stored !== undefined) present.ka++;
      if (stored === undefined || !equalBytes(stored, write.value)) mismatch(seq, `the key-authority index ${stored === undefined ? 'lacks' : 'differs on'} the key change of event ${seq}`);
    });
  }

  async function checkCurrent(): Promise<void> {
    let count = 0;
    for await (const entry of reader.indexEntries('rc')) {
      count++;
      const id = keyText(entry.key);
      if (id === undefined || !ID_PATTERN.test(id) || !equalBytes(keys.current(id), entry.key)) {
        mismatch(null, 'the current-state index holds a key that is not a record id');
        continue;
      }
      const head = safely(() => decodeHead(entry.value, `current-state (rc) of ${id}`));
      if (typeof head === 'string') {
        mismatch(null, head);
        continue;
      }
      const [latest, next, kind] = await Promise.all([
        reader.indexGet('rv', keys.version(id, head.version)),
        reader.indexGet('rv', keys.version(id, head.version + 1)),
        reader.indexGet('rk', keys.kind(head.kind, id)),
      ]);
      const latestEntry = latest === undefined ? null : safely(() => decodeVersion(latest, `version (rv) ${id}@${head.version}`));
      const consistent =
        latestEntry !== null && typeof latestEntry !== 'string' && latestEntry.seq === head.seq && (latestEntry.op === 'delete') === head.deleted && next === undefined && kind !== undefined;
      if (!consistent) mismatch(head.seq, `the current state of ${id} (version ${head.version}, event ${head.seq}) is not its latest version in the log`);
    }
    if (count !== creates) mismatch(null, `the current-state index holds ${count} records, but the log creates ${creates}`);
  }

  async function checkCounts(): Promise<void> {
    // Every implied entry was found above, and keys are unique, so equal counts mean no stray entries.
    for (const index of ['ti', 'rv', 'rk', 'ka', 'lu', 'ld', 'iv'] as const) {
      const count = await reader.indexCount(index);
      if (count <= present[index]) continue;
      if (index === 'ti' && options.eventTime !== undefined && (await nameStrayTimeEntries(options.eventTime))) continue;
      mismatch(null, `the ${index} index holds ${count - present[index]} entries that no event implies`);
    }
  }

  /** The slow path, only after a count mismatch: name each time entry that no stored event matches. */
  async function nameStrayTimeEntries(eventTime: (seq: number) => Promise<number | undefined>): Promise<boolean> {
    let named = 0;
    for await (const entry of reader.indexEntries('ti')) {
      const parsed = readTimeKey(entry.key);
      if (parsed !== undefined && (await eventTime(parsed.seq)) === parsed.ts) continue;
      // Bounded: a stuffed index must not make the report (or the time to build it) grow without limit.
      if (++named > MAX_NAMED_STRAYS) return false;
      mismatch(parsed?.seq ?? null, `the time index holds an entry (${parsed === undefined ? 'malformed' : `time ${parsed.ts}, seq ${parsed.seq}`}) that no event implies`);
    }
    return named > 0;
  }

  return {
    async checkChunk(events) {
      await Promise.all([checkTime(events), checkRecords(events), checkAuthority(events), checkLinks(events), checkInvalidations(events)]);
      return failures.splice(0);
    },
    async finish() {
      await checkCurrent();
      await checkCounts();
      return failures.splice(0);
    },
  };
}

function safely<T>(read: () => T): T | string {
  try {
    return read();
  } catch (error) {
    return (error as Error).message;
  }
}
