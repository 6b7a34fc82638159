/**
 * Who may write (SPEC §14): key events as zod schemas, the authority state they fold into, and the pure
 * rules that judge each event against the keys valid at its seq. Append (decide) and verify (check) share
 * these functions, so a ledger is judged by exactly the rules that wrote it. No I/O, no clock.
 */
import * as z from 'zod';
import { checkPublicKey } from '../crypto/ed25519.js';
import { LedgerError } from '../errors.js';
import type { JsonValue } from '../event/event.js';

export const KEY_EVENT_TYPES = { add: 'key.add', revoke: 'key.revoke' } as const;
export type KeyEventType = (typeof KEY_EVENT_TYPES)[keyof typeof KEY_EVENT_TYPES];
export const ROLES = ['admin', 'writer'] as const;
export type Role = (typeof ROLES)[number];

/** SPEC §14.1: names are short labels for people; keys are 64 lower-case hex characters. */
export const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,63}$/u;
const keyHex = z.string().regex(/^[0-9a-f]{64}$/);
const name = z.string().regex(NAME_PATTERN);
const reason = z.string().min(1).max(500);

export const KEY_PAYLOADS = {
  'key.add': z.strictObject({ key: keyHex, role: z.enum(ROLES), name: name.optional() }),
  'key.revoke': z.strictObject({ key: keyHex, reason: reason.optional() }),
} as const;

export type KeyEvent =
  | { readonly type: 'key.add'; readonly key: string; readonly role: Role; readonly name?: string }
  | { readonly type: 'key.revoke'; readonly key: string; readonly reason?: string };

export function isKeyEventType(type: string): type is KeyEventType {
  return Object.hasOwn(KEY_PAYLOADS, type);
}

/** Reads a key event's payload strictly, or explains why it is not one. Never throws. */
export function parseKeyEvent(type: KeyEventType, payload: JsonValue): KeyEvent | string {
  const result = KEY_PAYLOADS[type].safeParse(payload);
  if (!result.success) return `a ${type} payload ${z.prettifyError(result.error).replaceAll('\n', ' ')}`;
  return { type, ...result.data } as KeyEvent;
}

/** One key's standing: what `key list` shows and verify consults. */
export interface KeyStanding {
  readonly key: string;
  readonly role: Role;
  readonly name: string | null;
  /** False once revoked; revocation is final. */
  readonly active: boolean;
  readonly addedSeq: number;
  readonly addedBy: string;
  readonly revokedSeq: number | null;
  readonly revokedBy: string | null;
  readonly reason: string | null;
}

/** The keys known at a point, by hex. Small: it grows with keys, never with events. */
export type Authority = ReadonlyMap<string, KeyStanding>;

/** The authority right after the genesis: the owner is the only key, an admin (SPEC §14.2). */
export function genesisAuthority(owner: string): Authority {
  return new Map([[owner, { key: owner, role: 'admin', name: 'owner', active: true, addedSeq: 0, addedBy: owner, revokedSeq: null, revokedBy: null, reason: null }]]);
}

/** Why a problem with an event's author, as the failure codes of SPEC §7.2. */
export type AuthorProblem = 'UNAUTHORIZED' | 'KEY_REVOKED' | 'NOT_ADMIN';

/**
 * Whether `author` may sign an event of `type` given the authority just before it (SPEC §14.3): any active
 * key may write ordinary and record events; only an active admin may write key events.
 */
export function judgeAuthor(authority: Authority, author: string, type: string): AuthorProblem | null {
  const standing = authority.get(author);
  if (standing === undefined) return 'UNAUTHORIZED';
  if (!standing.active) return 'KEY_REVOKED';
  if (isKeyEventType(type) && standing.role !== 'admin') return 'NOT_ADMIN';
  return null;
}

/** Why a key event cannot follow `authority` (SPEC §14.3), or null. The author is judged separately. */
export function checkKeyTransition(authority: Authority, event: KeyEvent): string | null {
  const standing = authority.get(event.key);
  if (event.type === 'key.add') {
    if (standing !== undefined && !standing.active) return `key ${event.key} was revoked at seq ${standing.revokedSeq}; revocation is final`;
    if (standing !== undefined && standing.role === event.role && (event.name === undefined || event.name === standing.name)) return `key ${event.key} is already ${describe(standing)}`;
    if (standing !== undefined && standing.role === 'admin' && event.role !== 'admin' && activeAdmins(authority) === 1) return `key ${event.key} is the last admin and cannot become a ${event.role}`;
    return null;
  }
  if (standing === undefined) return `key ${event.key} was never added`;
  if (!standing.active) return `key ${event.key} is already revoked`;
  if (standing.role === 'admin' && activeAdmins(authority) === 1) return `key ${event.key} is the last admin; add another admin before revoking it`;
  return null;
}

/** Why a key may not be added (it fails the key rules of SPEC §2.2), or null. */
export function checkAddedKey(keyHex: string): string | null {
  const rejection = checkPublicKey(Uint8Array.from(Buffer.from(keyHex, 'hex')));
  return rejection === null ? null : `key ${keyHex} fails the key rules (${rejection}) and cannot be added`;
}

/**
 * The whole judgement of a key event (SPEC §14.3): the payload, the change, the added key. Returns the event
 * when valid, else why not. The author is judged separately (judgeAuthor).
 */
export function judgeKeyEvent(authority: Authority, type: KeyEventType, payload: JsonValue): KeyEvent | string {
  const event = parseKeyEvent(type, payload);
  if (typeof event === 'string') return event;
  return checkKeyTransition(authority, event) ?? (event.type === 'key.add' ? checkAddedKey(event.key) : null) ?? event;
}

/** Folds one valid key event (written at `seq` by `author`) into the authority. */
export function evolveAuthority(authority: Authority, event: KeyEvent, seq: number, author: string): Authority {
  const next = new Map(authority);
  const standing = authority.get(event.key);
  if (event.type === 'key.add') {
    next.set(event.key, {
      key: event.key,
      role: event.role,
      name: event.name ?? standing?.name ?? null,
      active: true,
      addedSeq: standing?.addedSeq ?? seq,
      addedBy: standing?.addedBy ?? author,
      revokedSeq: null,
      revokedBy: null,
      reason: null,
    });
  } else if (standing !== undefined) {
    next.set(event.key, { ...standing, active: false, revokedSeq: seq, revokedBy: author, reason: event.reason ?? null });
  }
  return next;
}

export type KeyCommand =
  | { readonly op: 'add'; readonly key: string; readonly role: Role; readonly name?: string }
  | { readonly op: 'revoke'; readonly key: string; readonly reason?: string };

/**
 * Decides the event for a key command by `author` (SPEC §14.3).
 * @throws LedgerError KEY_NOT_AUTHORIZED (author not an active admin), INVALID_ARGUMENT (bad name, reason or
 * role), KEY_REVOKED (re-adding a revoked key), LAST_ADMIN, KEY_UNCHANGED, KEY_NOT_FOUND.
 */
export function decideKey(command: KeyCommand, authority: Authority, author: string): { type: KeyEventType; payload: JsonValue } {
  const problem = judgeAuthor(authority, author, command.op === 'add' ? KEY_EVENT_TYPES.add : KEY_EVENT_TYPES.revoke);
  if (problem !== null) throw new LedgerError('KEY_NOT_AUTHORIZED', `only an active admin may change keys; ${describeKey(authority, author)} is not one`);
  if (!/^[0-9a-f]{64}$/.test(command.key)) throw new LedgerError('INVALID_ARGUMENT', `a public key is 64 lower-case hex characters, got ${JSON.stringify(command.key)}`);
  if (command.op === 'add') {
    const weak = checkAddedKey(command.key);
    if (weak !== null) throw new LedgerError('KEY_WEAK', weak);
    if (!(ROLES as readonly string[]).includes(command.role)) throw new LedgerError('INVALID_ARGUMENT', `--role must be admin or writer, got ${JSON.stringify(command.role)}`);
    if (command.name !== undefined && !NAME_PATTERN.test(command.name)) {
      throw new LedgerError('INVALID_ARGUMENT', `--name must be 1 to 64 letters, digits, spaces or . _ @ -, starting with a letter or digit, got ${JSON.stringify(command.name)}`);
    }
  } else if (command.reason !== undefined && (command.reason.length === 0 || command.reason.length > 500)) {
    throw new LedgerError('INVALID_ARGUMENT', '--reason must be 1 to 500 characters');
  }
  const event: KeyEvent = command.op === 'add'
    ? { type: 'key.add', key: command.key, role: command.role, ...(command.name === undefined ? {} : { name: command.name }) }
    : { type: 'key.revoke', key: command.key, ...(command.reason === undefined ? {} : { reason: command.reason }) };
  const broken = checkKeyTransition(authority, event);
  if (broken !== null) {
    const standing = authority.get(command.key);
    const code = standing === undefined ? 'KEY_NOT_FOUND' : !standing.active ? 'KEY_REVOKED' : broken.includes('last admin') ? 'LAST_ADMIN' : 'KEY_UNCHANGED';
    throw new LedgerError(code, `${broken}`, { details: { key: command.key } });
  }
  const { type, ...payload } = event;
  return { type, payload };
}

/** "alice (writer)", or the key's first 16 hex digits when it has no name. */
export function describeKey(authority: Authority, key: string): string {
  const standing = authority.get(key);
  return standing === undefined ? `unknown key ${key.slice(0, 16)}` : describe(standing);
}

function describe(standing: KeyStanding): string {
  return `${standing.name ?? standing.key.slice(0, 16)} (${standing.active ? standing.role : `revoked ${standing.role}`})`;
}

function activeAdmins(authority: Authority): number {
  let count = 0;
  for (const standing of authority.values()) if (standing.active && standing.role === 'admin') count++;
  return count;
}
