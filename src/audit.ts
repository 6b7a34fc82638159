/**
 * The signature audit (SPEC §15): who signed what, whether each key was allowed to at that seq, and every
 * problem verify finds. It is the verify pass with an observer that tallies each key; memory grows with the
 * number of keys, never with the log.
 */
import { verifyChain, type DecodedEvent, type EntrySource, type ExtraChecks, type SignatureVerifier, type StoredLeaf } from './chain/verify.js';
import type { VerifyFailure } from './chain/failures.js';
import { VerifyingKey } from './crypto/ed25519.js';
import { describeKey, isKeyEventType, type Authority, type Role } from './domain/keys.js';
import { projectAuthority } from './projections/project.js';

export interface RoleChange {
  readonly seq: number;
  readonly timeMs: number;
  /** The role from this seq on, or 'revoked'. */
  readonly role: Role | 'revoked';
  /** Who made the change (hex); the genesis makes the owner an admin by itself. */
  readonly by: string;
  readonly byName: string;
}

export interface KeyAudit {
  readonly key: string;
  readonly name: string | null;
  /** "alice (writer)" as of the end of the ledger. */
  readonly label: string;
  readonly roles: readonly RoleChange[];
  readonly signed: { readonly count: number; readonly first: { seq: number; timeMs: number } | null; readonly last: { seq: number; timeMs: number } | null };
}

export interface AuditReport {
  readonly ok: boolean;
  readonly checked: number;
  readonly keys: readonly KeyAudit[];
  /** Every verify finding (SPEC §7.2), in seq order; those about signing are the audit's focus. */
  readonly problems: readonly VerifyFailure[];
  readonly problemCount: number;
  readonly reference: boolean;
}

interface Tally {
  name: string | null;
  roles: RoleChange[];
  count: number;
  first: { seq: number; timeMs: number } | null;
  last: { seq: number; timeMs: number } | null;
}

/** An observer of the verify pass that records each key's role history and signing activity. */
function keyObserver(inner: ExtraChecks | undefined) {
  const tallies = new Map<string, Tally>();
  let authority: Authority = new Map();
  const tally = (key: string): Tally => {
    let found = tallies.get(key);
    if (found === undefined) tallies.set(key, (found = { name: null, roles: [], count: 0, first: null, last: null }));
    return found;
  };
  const checks: ExtraChecks = {
    async checkChunk(events: readonly DecodedEvent[], leaves: readonly StoredLeaf[]) {
      for (const event of events) {
        const signer = tally(event.author);
        const at = { seq: event.seq, timeMs: event.ts };
        signer.count++;
        signer.first ??= at;
        signer.last = at;
        // SPEC §15.1: every key named in a key event is listed, even when the change was refused.
        const named = isKeyEventType(event.type) ? (event.payload as { key?: unknown } | null)?.key : undefined;
        if (typeof named === 'string' && /^[0-9a-f]{64}$/.test(named)) tally(named);
        if (event.seq === 0 || isKeyEventType(event.type)) {
          const before = event.authority;
          const after = projectAuthority(event, event.seq === 0 ? null : before).authority;
          if (after !== null && after !== before) {
            for (const [key, standing] of after) {
              const previous = before.get(key);
              if (previous === standing) continue;
              const entry = tally(key);
              entry.name = standing.name;
              entry.roles.push({ ...at, role: standing.active ? standing.role : 'revoked', by: event.author, byName: describeKey(before.size === 0 ? after : before, event.author) });
            }
            authority = after;
          }
        }
      }
      return inner === undefined ? [] : inner.checkChunk(events, leaves);
    },
    async finish() {
      return inner === undefined ? [] : inner.finish();
    },
  };
  const keys = (): KeyAudit[] =>
    [...tallies.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, t]) => ({ key, name: t.name, label: describeKey(authority, key), roles: t.roles, signed: { count: t.count, first: t.first, last: t.last } }));
  return { checks, keys };
}

export interface AuditInput {
  readonly entries: EntrySource;
  readonly verifySignatures: SignatureVerifier;
  readonly extraChecks?: ExtraChecks;
  readonly stored?: Parameters<typeof verifyChain>[1]['stored'];
  readonly maxEventBytes?: number;
  readonly reference?: boolean;
  readonly maxFailures?: number;
  readonly onProgress?: (checked: number) => void;
}

/** Runs the audit pass over stored entries. */
export async function auditEntries(input: AuditInput): Promise<AuditReport> {
  const observer = keyObserver(input.extraChecks);
  const report = await verifyChain(input.entries, {
    verifySignatures: input.verifySignatures,
    extraChecks: observer.checks,
    stored: input.stored,
    maxEventBytes: input.maxEventBytes,
    maxFailures: input.maxFailures,
    reference: input.reference,
    onProgress: input.onProgress,
  });
  return { ok: report.ok, checked: report.checked, keys: observer.keys(), problems: report.failures, problemCount: report.failureCount, reference: input.reference === true };
}

export interface RecordSignature {
  readonly version: number;
  readonly deleted: boolean;
  readonly seq: number;
  readonly timeMs: number;
  readonly author: string;
  /** "alice (writer)" as of the event's seq. */
  readonly authorLabel: string;
  /** The signature passes the strict rule (SPEC §2.3) on the fast backend (and the reference one if asked). */
  readonly signatureValid: boolean;
  /** The author was allowed to write at that seq (SPEC §14.3). */
  readonly authorized: boolean;
}

/** Checks one signature on the fast backend, and on the reference one too when asked. */
export function checkSignature(author: string, signature: Uint8Array, message: Uint8Array, reference: boolean): boolean {
  let key: VerifyingKey;
  try {
    key = VerifyingKey.fromBytes(Uint8Array.from(Buffer.from(author, 'hex')));
  } catch {
    return false;
  }
  const fast = key.verify(signature, message);
  return reference ? fast && key.verify(signature, message, 'noble') : fast;
}
