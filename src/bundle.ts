/**
 * Audit bundles (SPEC §17.7): one record's history, self-contained and checkable offline. A bundle holds a
 * signed checkpoint and, each with its inclusion proof, the genesis, every key change up to the checkpoint and
 * every event of the record; with lineage, also the histories of the records upstream and the links between them. `verifyBundle` is pure: it needs no ledger, trusts only the caller's keys, and
 * never throws for what it is given.
 */
import { toHex } from './bytes.js';
import { checkTransition, ID_PATTERN, isRecordEventType, parseRecordEvent } from './domain/records.js';
import { isDependency, linkIdentity, orient, type Link } from './domain/links.js';
import { linkEventOf } from './projections/project.js';
import { isInvalidateType, judgeInvalidation, parseInvalidation } from './domain/invalidation.js';
import { judgeLinkChange } from './projections/links.js';
import { describeKey, evolveAuthority, genesisAuthority, isKeyEventType, judgeAuthor, judgeKeyEvent, type Authority } from './domain/keys.js';
import { readGenesis } from './event/genesis.js';
import { fromBase64, MAX_PROOF_HASHES, toBase64 } from './merkle/proof-file.js';
import { leafHash, verifyInclusion } from './merkle/tree.js';
import { openProvedEvent, verifyCheckpoint, type ProofVerdictCode, type TrustedKey, type Verdict, type VerifiedCheckpoint } from './merkle/verify-proof.js';
import { checkpointOrigin } from './transparency.js';

export const BUNDLE_FORMAT = 'provledger-bundle@v1';
/** Bundles are read whole; beyond this a file is refused rather than read into memory. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** A real bundle has hundreds of bytes per JSON array or object; far more containers is an attack on the parser. */
const MAX_CONTAINERS_PER_BYTE = 1 / 32;

export interface BundleEntry {
  readonly seq: number;
  /** The event's stored bytes. */
  readonly event: Uint8Array;
  /** Its inclusion proof against the bundle's checkpoint. */
  readonly proof: readonly Uint8Array[];
}

export interface Bundle {
  readonly record: string;
  /** Records upstream of `record` whose histories the bundle also carries (`bundle --lineage`), else empty. */
  readonly upstream: readonly string[];
  readonly checkpoint: string;
  readonly entries: readonly BundleEntry[];
}

export function formatBundle(bundle: Bundle): string {
  const json = {
    format: BUNDLE_FORMAT,
    record: bundle.record,
    upstream: bundle.upstream,
    checkpoint: bundle.checkpoint,
    events: bundle.entries.map((e) => ({ seq: e.seq, event: toBase64(e.event), proof: e.proof.map(toBase64) })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** One version of the record, as proved by the bundle. */
export interface BundledVersion {
  readonly version: number;
  readonly op: 'create' | 'update' | 'delete';
  readonly seq: number;
  readonly timeMs: number;
  readonly author: string;
  /** The author's name as the bundle's key changes give it, or its hex. */
  readonly authorLabel: string;
  readonly data: unknown;
}

export interface BundledRecord {
  readonly id: string;
  readonly kind: string;
  readonly versions: readonly BundledVersion[];
  /** Invalidations the bundle carries (SPEC §23.1): the record, or one version of it, must not be used. */
  readonly invalidations: readonly { readonly seq: number; readonly version?: number; readonly reason: string }[];
}

export interface VerifiedBundle extends VerifiedCheckpoint {
  readonly ledgerId: string;
  readonly record: BundledRecord;
  /** With lineage: each upstream record's history, and the links in place at the checkpoint that connect them. */
  readonly upstream: readonly BundledRecord[];
  readonly links: readonly Link[];
  /** How many key changes the bundle carries (beyond the genesis). */
  readonly keyChanges: number;
}

const fail = <C extends ProofVerdictCode>(code: C, message: string) => ({ ok: false, code, message }) as const;

/**
 * Checks a bundle offline: the checkpoint is signed by a trusted key and names the bundle's ledger; every
 * event decodes strictly, is validly signed, and is in the checkpoint's tree at its seq; every author was
 * allowed to write at its seq by the key changes the bundle carries; and the record's events form its history
 * from version 1 by the version rules.
 * @example const v = verifyBundle(text, { trustedKeys: [{ publicKey }] }); if (!v.ok) console.error(v.code);
 */
export function verifyBundle(text: string, options: { readonly trustedKeys: readonly TrustedKey[] }): Verdict<VerifiedBundle> {
  const parsed = parseBundle(text);
  if (typeof parsed === 'string') return fail('MALFORMED', `not a valid bundle: ${parsed}`);
  const signed = verifyCheckpoint(parsed.checkpoint, options.trustedKeys);
  if (!signed.ok) return signed;
  const { checkpoint } = signed;

  let authority: Authority = new Map();
  let ledgerId: string | null = null;
  let keyChanges = 0;
  const covered = [parsed.record, ...parsed.upstream];
  const records = new Map<string, { kind: string; state: { version: number; deleted: boolean } | null; versions: BundledVersion[]; invalidations: BundledRecord['invalidations'][number][] }>(
    covered.map((id) => [id, { kind: '', state: null, versions: [], invalidations: [] }]),
  );
  const links = new Map<string, { link: Link; active: boolean }>();
  let previousSeq = -1;
  for (const entry of parsed.entries) {
    const { seq } = entry;
    if (seq <= previousSeq) return fail('MALFORMED', `not a valid bundle: event ${seq} is out of order or repeated`);
    previousSeq = seq;
    const opened = openProvedEvent(entry.event, seq);
    if (!opened.ok) return opened;
    if (seq >= checkpoint.size || !verifyInclusion(leafHash(opened.hash), seq, checkpoint.size, entry.proof, checkpoint.rootHash)) {
      return fail('INCLUSION_FAILED', `event ${seq} is not in the tree of the checkpoint (size ${checkpoint.size}): its proof does not lead to the root`);
    }
    const { body } = opened;
    const author = toHex(body.author);
    if (seq === 0) {
      const genesis = readGenesis(body);
      if (typeof genesis === 'string') return fail('EVENT_INVALID', `event 0 is not a valid genesis: ${genesis}`);
      ledgerId = genesis.ledgerId;
      if (checkpointOrigin(ledgerId) !== checkpoint.origin) {
        return fail('CHECKPOINT_MISMATCH', `the checkpoint is of ${checkpoint.origin}, but the bundle's genesis names ledger ${ledgerId}`);
      }
      authority = genesisAuthority(author);
      continue;
    }
    if (ledgerId === null) return fail('HISTORY_INCOMPLETE', 'the bundle does not start with the genesis (event 0), which names the ledger and its owner');
    const problem = judgeAuthor(authority, author, body.type);
    if (problem !== null) return fail('AUTHOR_UNAUTHORIZED', `event ${seq} is signed by ${describeKey(authority, author)}, which ${problem === 'KEY_REVOKED' ? 'had been revoked' : problem === 'NOT_ADMIN' ? 'was not an admin' : 'was not authorised'} at that point`);
    if (isKeyEventType(body.type)) {
      const change = judgeKeyEvent(authority, body.type, body.payload);
      if (typeof change === 'string') return fail('EVENT_INVALID', `event ${seq} is not a valid key change: ${change}`);
      authority = evolveAuthority(authority, change, seq, author);
      keyChanges++;
      continue;
    }
    if (isInvalidateType(body.type)) {
      const invalidation = parseInvalidation(body.payload);
      if (typeof invalidation === 'string') return fail('EVENT_INVALID', `event ${seq} is not a valid invalidation: ${invalidation}`);
      const target = records.get(invalidation.id);
      if (target === undefined) return fail('MALFORMED', `not a valid bundle: event ${seq} invalidates ${invalidation.id}, which the bundle does not cover`);
      const broken = judgeInvalidation(invalidation, target.state?.version ?? null);
      if (broken !== null) return fail('HISTORY_INCOMPLETE', `event ${seq}: ${broken} (in the bundle)`);
      target.invalidations.push({ seq, reason: invalidation.reason, ...(invalidation.version === undefined ? {} : { version: invalidation.version }) });
      continue;
    }
    const link = parsed.upstream.length > 0 ? linkEventOf(body) : null;
    if (typeof link === 'string') return fail('EVENT_INVALID', `event ${seq} is not a valid link event: ${link}`);
    if (link !== null) {
      const identity = linkIdentity(link);
      const missing = [link.from, link.to].find((end) => records.get(end)?.state == null) ?? null;
      const broken = judgeLinkChange(link, links.get(identity)?.active ?? false, missing);
      if (broken !== null) return fail('HISTORY_INCOMPLETE', `event ${seq}: ${broken}${missing === null ? '' : ' (in the bundle)'}`);
      const { type: _type, ...fields } = link;
      links.set(identity, { link: fields, active: link.type === 'link.add' });
      continue;
    }
    const record = isRecordEventType(body.type) ? parseRecordEvent(body.type, body.payload) : null;
    const bundled = record === null || typeof record === 'string' ? undefined : records.get(record.id);
    if (record === null || typeof record === 'string' || bundled === undefined) {
      return fail('MALFORMED', `not a valid bundle: event ${seq} (${body.type}) is neither the genesis, a key change${parsed.upstream.length > 0 ? ', a link' : ''} nor an event of ${covered.length === 1 ? `record ${parsed.record}` : 'a record the bundle covers'}`);
    }
    const broken = checkTransition(bundled.state, record);
    if (broken !== null) return fail('HISTORY_INCOMPLETE', `event ${seq}: ${broken}; the bundle must carry every version from 1`);
    if (record.type === 'record.create') bundled.kind = record.kind;
    bundled.state = { version: record.version, deleted: record.type === 'record.delete' };
    bundled.versions.push({
      version: record.version,
      op: record.type === 'record.create' ? 'create' : record.type === 'record.update' ? 'update' : 'delete',
      seq,
      timeMs: body.ts,
      author,
      authorLabel: describeKey(authority, author),
      data: record.type === 'record.delete' ? null : record.data,
    });
  }
  if (ledgerId === null) return fail('HISTORY_INCOMPLETE', 'the bundle does not carry the genesis (event 0)');
  for (const [id, entry] of records) if (entry.versions.length === 0) return fail('HISTORY_INCOMPLETE', `the bundle carries no event of record ${id}`);
  const inPlace = [...links.values()].filter((l) => l.active).map((l) => l.link);
  // Every upstream record must be reached from the root through the carried links, or it is not lineage.
  const upward = new Map<string, string[]>();
  for (const link of inPlace) {
    if (!isDependency(link.rel)) continue;
    const { dependent, dependency } = orient(link);
    upward.set(dependent, [...(upward.get(dependent) ?? []), dependency]);
  }
  const reached = new Set([parsed.record]);
  const queue = [parsed.record];
  while (queue.length > 0) {
    for (const next of upward.get(queue.shift()!) ?? []) {
      if (!reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  const stray = parsed.upstream.find((id) => !reached.has(id));
  if (stray !== undefined) return fail('HISTORY_INCOMPLETE', `record ${stray} is listed upstream, but no link the bundle carries leads from ${parsed.record} to it`);
  const summary = (id: string): BundledRecord => ({ id, kind: records.get(id)!.kind, versions: records.get(id)!.versions, invalidations: records.get(id)!.invalidations });
  return { ok: true, checkpoint, signedBy: signed.signedBy, ledgerId, record: summary(parsed.record), upstream: parsed.upstream.map(summary), links: inPlace, keyChanges };
}

/** The bundle's JSON, read strictly: exactly the documented fields, canonical base64. A string says what is wrong. */
export function parseBundle(text: string): Bundle | string {
  if (typeof text !== 'string') return 'a bundle is JSON text';
  if (text.length > MAX_BUNDLE_BYTES) return `the file is larger than ${MAX_BUNDLE_BYTES} bytes`;
  let containers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) containers++;
  }
  if (containers > 16 + text.length * MAX_CONTAINERS_PER_BYTE) return 'the file holds far more JSON arrays and objects than a bundle can';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'the file is not JSON';
  }
  if (!isObject(json) || !hasExactly(json, ['format', 'record', 'upstream', 'checkpoint', 'events'])) return 'the top level must be an object with exactly "format", "record", "upstream", "checkpoint" and "events"';
  if (json['format'] !== BUNDLE_FORMAT) return `"format" must be "${BUNDLE_FORMAT}"`;
  const { record, upstream, checkpoint, events } = json;
  if (typeof record !== 'string' || !ID_PATTERN.test(record)) return '"record" must be a record id';
  if (!Array.isArray(upstream) || upstream.length > 100_000 || !upstream.every((id) => typeof id === 'string' && ID_PATTERN.test(id)) || new Set([record, ...upstream]).size !== upstream.length + 1) {
    return '"upstream" must be an array of distinct record ids, without the root record';
  }
  if (typeof checkpoint !== 'string') return '"checkpoint" must be the text of a signed checkpoint';
  if (!Array.isArray(events) || events.length === 0) return '"events" must be a non-empty array';
  const entries: BundleEntry[] = [];
  for (const [i, item] of events.entries()) {
    if (!isObject(item) || !hasExactly(item, ['seq', 'event', 'proof'])) return `events[${i}] must have exactly "seq", "event" and "proof"`;
    const { seq, event, proof } = item;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return `events[${i}].seq must be a non-negative integer`;
    if (typeof event !== 'string' || !Array.isArray(proof) || proof.length > MAX_PROOF_HASHES || !proof.every((h) => typeof h === 'string')) return `events[${i}] must hold base64 "event" bytes and a "proof" array of base64 hashes`;
    try {
      const hashes = proof.map((h: string, k) => fromBase64(h, `events[${i}].proof[${k}]`));
      if (hashes.some((h) => h.length !== 32)) return `events[${i}].proof holds a hash that is not 32 bytes`;
      entries.push({ seq, event: fromBase64(event, `events[${i}].event`), proof: hashes });
    } catch (error) {
      return (error as Error).message.replace(/^not a valid proof: /, '');
    }
  }
  return { record, upstream: upstream as string[], checkpoint, entries };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasExactly(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(value, k));
}

