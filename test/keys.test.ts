/**
 * SPEC §14 through the library: who may write, judged at every seq. First the rules as tables (given some
 * keys, when an actor does something, then it succeeds or is refused with exactly this code and the head does
 * not move), then rotation, then group commits, then forged logs: events written straight into LevelDB,
 * validly signed and re-chained, with the projections rebuilt to fit, so only the rule under test is broken
 * and verify must name it at its seq.
 *
 * Actors: `owner` (the genesis admin), `alice`, `bob`, `carol` (added by the cases) and `mallory` (never added).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SigningKey } from '../src/crypto/keys.js';
import { Ledger, type KeyStanding } from '../src/ledger.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { appendForged } from './helpers/forge.js';
import { withTempDir } from './helpers/tmp.js';

const T = 1_800_000_000_000;
const KEYS = { owner: ownerKey, alice: otherKey, bob: SigningKey.generate(), carol: SigningKey.generate(), mallory: SigningKey.generate() } as const;
type Actor = keyof typeof KEYS;
const hexOf = (actor: Actor) => KEYS[actor].publicKeyHex;

type Action =
  | { readonly op: 'append' }
  | { readonly op: 'create'; readonly id: string }
  | { readonly op: 'update'; readonly id: string }
  | { readonly op: 'add'; readonly key: Actor | string; readonly role: string; readonly name?: string }
  | { readonly op: 'revoke'; readonly key: Actor | string; readonly reason?: string };
type Step = readonly [Actor, Action];

const append = (): Action => ({ op: 'append' });
const create = (id: string): Action => ({ op: 'create', id });
const update = (id: string): Action => ({ op: 'update', id });
/** Adds a key (an actor, named after it unless `name` says otherwise, or raw hex) with a role. */
const add = (key: Actor | string, role: string, name?: string | null): Action => ({ op: 'add', key, role, ...(name === null ? {} : { name: name ?? key }) });
const revoke = (key: Actor | string, reason?: string): Action => ({ op: 'revoke', key, ...(reason === undefined ? {} : { reason }) });

const keyOf = (key: Actor | string) => (Object.hasOwn(KEYS, key) ? hexOf(key as Actor) : key);

async function perform(ledger: Ledger, action: Action): Promise<unknown> {
  switch (action.op) {
    case 'append':
      return ledger.append({ type: 'app.note', payload: { n: 1 } });
    case 'create':
      return ledger.records.create('dataset', { files: 1 }, { id: action.id });
    case 'update':
      return ledger.records.update(action.id, { files: 2 });
    case 'add':
      return ledger.keys.add(keyOf(action.key), { role: action.role as 'admin', ...(action.name === undefined ? {} : { name: action.name }) });
    case 'revoke':
      return ledger.keys.revoke(keyOf(action.key), action.reason === undefined ? {} : { reason: action.reason });
    default: {
      const never: never = action;
      throw new TypeError(`unknown action ${JSON.stringify(never)}`);
    }
  }
}

/** A ledger in a temp dir, owned by `owner`, opened as any actor; event times are T, T+1 s, T+2 s… */
class Fixture {
  #now = T - 1000;
  constructor(readonly dir: string) {}

  readonly clock = () => (this.#now += 1000);

  static async create(root: string): Promise<Fixture> {
    const fixture = new Fixture(join(root, 'ledger'));
    await (await Ledger.create(fixture.dir, { key: ownerKey, sync: false, clock: fixture.clock })).close();
    return fixture;
  }

  /** Opens the ledger signing as `actor` (or with no key) and runs `use`; always closes. */
  async as<R>(actor: Actor | null, use: (ledger: Ledger) => Promise<R>): Promise<R> {
    const ledger = await Ledger.open(this.dir, { ...(actor === null ? {} : { key: KEYS[actor] }), sync: false, clock: this.clock });
    try {
      return await use(ledger);
    } finally {
      await ledger.close();
    }
  }

  async given(steps: readonly Step[]): Promise<void> {
    for (const [actor, action] of steps) await this.as(actor, (ledger) => perform(ledger, action));
  }

  /** What verify finds, as [seq, code] pairs in report order. */
  async findings(): Promise<{ ok: boolean; failures: [number | null, string][] }> {
    return this.as(null, async (ledger) => {
      const report = await ledger.verify();
      return { ok: report.ok, failures: report.failures.map((f) => [f.seq, f.code]) };
    });
  }

  async head(): Promise<number> {
    return this.as(null, async (ledger) => (await ledger.head())!.seq);
  }

  async list(at?: number): Promise<KeyStanding[]> {
    return this.as(null, (ledger) => ledger.keys.list(at === undefined ? {} : { at: { seq: at } }));
  }
}

function withFixture(use: (fixture: Fixture) => Promise<void>): Promise<void> {
  return withTempDir(async (root) => use(await Fixture.create(root)));
}

/** The LedgerError code `promise` rejects with, or 'ok'. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? `not a LedgerError: ${String(error)}`;
  }
}

/** A standing as `key list` reports it, by actor. */
const standing = (actor: Actor, role: 'admin' | 'writer', addedSeq: number, addedBy: Actor, revoked?: { seq: number; by: Actor; reason?: string }): KeyStanding => ({
  key: hexOf(actor),
  role,
  name: actor,
  active: revoked === undefined,
  addedSeq,
  addedBy: hexOf(addedBy),
  revokedSeq: revoked?.seq ?? null,
  revokedBy: revoked === undefined ? null : hexOf(revoked.by),
  reason: revoked?.reason ?? null,
});
const byKey = (a: KeyStanding, b: KeyStanding) => (a.key < b.key ? -1 : 1);

interface RuleCase {
  readonly name: string;
  readonly given: readonly Step[];
  readonly by: Actor;
  readonly when: Action;
  /** 'ok', or the code of the refusal. */
  readonly then: string;
}

/**
 * Runs one case: the given steps must all succeed; then the action either succeeds (and the head moves by
 * one) or is refused with exactly `then` (and the head stays). Verify is ok either way.
 */
async function runCase({ given, by, when, then }: RuleCase): Promise<void> {
  await withFixture(async (fixture) => {
    await fixture.given(given);
    const before = await fixture.head();
    expect(before).toBe(given.length);
    const listBefore = await fixture.list();
    expect(await fixture.as(by, (ledger) => outcome(perform(ledger, when)))).toBe(then);
    expect(await fixture.head()).toBe(then === 'ok' ? before + 1 : before);
    if (then !== 'ok') expect(await fixture.list()).toEqual(listBefore);
    expect(await fixture.findings()).toEqual({ ok: true, failures: [] });
  });
}

const ALICE_WRITER: Step = ['owner', add('alice', 'writer')];
const BOB_ADMIN: Step = ['owner', add('bob', 'admin')];

describe('SPEC §14.3: any active key may write events and records', () => {
  it.each<RuleCase>([
    { name: 'the owner (genesis admin) appends', given: [], by: 'owner', when: append(), then: 'ok' },
    { name: 'the owner adds a writer', given: [], by: 'owner', when: add('alice', 'writer'), then: 'ok' },
    { name: 'a writer appends', given: [ALICE_WRITER], by: 'alice', when: append(), then: 'ok' },
    { name: 'a writer creates a record', given: [ALICE_WRITER], by: 'alice', when: create('mnist'), then: 'ok' },
    { name: 'a writer updates a record the owner created', given: [ALICE_WRITER, ['owner', create('mnist')]], by: 'alice', when: update('mnist'), then: 'ok' },
    { name: 'a second admin appends', given: [BOB_ADMIN], by: 'bob', when: append(), then: 'ok' },
    { name: 'a key never added cannot append', given: [ALICE_WRITER], by: 'mallory', when: append(), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a key never added cannot create a record', given: [], by: 'mallory', when: create('mnist'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a revoked writer cannot append', given: [ALICE_WRITER, ['owner', revoke('alice')]], by: 'alice', when: append(), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a revoked writer cannot create a record', given: [ALICE_WRITER, ['owner', revoke('alice')]], by: 'alice', when: create('mnist'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a revoked owner cannot append', given: [BOB_ADMIN, ['bob', revoke('owner')]], by: 'owner', when: append(), then: 'KEY_NOT_AUTHORIZED' },
  ])('$name → $then', runCase);
});

describe('SPEC §14.3: only an active admin changes keys', () => {
  it.each<RuleCase>([
    { name: 'a second admin adds a writer', given: [BOB_ADMIN], by: 'bob', when: add('carol', 'writer'), then: 'ok' },
    { name: 'a second admin revokes a writer', given: [BOB_ADMIN, ALICE_WRITER], by: 'bob', when: revoke('alice', 'left the team'), then: 'ok' },
    { name: 'an admin promotes a writer to admin', given: [ALICE_WRITER], by: 'owner', when: add('alice', 'admin'), then: 'ok' },
    { name: 'an admin renames a key (same role, new name)', given: [ALICE_WRITER], by: 'owner', when: add('alice', 'writer', 'Alice Liddell'), then: 'ok' },
    { name: 'a writer cannot add a key', given: [ALICE_WRITER], by: 'alice', when: add('carol', 'writer'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a writer cannot promote itself', given: [ALICE_WRITER], by: 'alice', when: add('alice', 'admin'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a writer cannot revoke a key', given: [ALICE_WRITER, ['owner', add('carol', 'writer')]], by: 'alice', when: revoke('carol'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a writer cannot revoke the owner', given: [ALICE_WRITER, BOB_ADMIN], by: 'alice', when: revoke('owner'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a demoted admin cannot add a key', given: [BOB_ADMIN, ['owner', add('bob', 'writer')]], by: 'bob', when: add('carol', 'writer'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a revoked admin cannot add a key', given: [BOB_ADMIN, ['owner', revoke('bob')]], by: 'bob', when: add('carol', 'writer'), then: 'KEY_NOT_AUTHORIZED' },
    { name: 'a key never added cannot add itself', given: [], by: 'mallory', when: add('mallory', 'admin'), then: 'KEY_NOT_AUTHORIZED' },
  ])('$name → $then', runCase);
});

describe('SPEC §14.3: revocation is final', () => {
  it.each<RuleCase>([
    { name: 'a revoked key cannot be re-added with its role', given: [ALICE_WRITER, ['owner', revoke('alice')]], by: 'owner', when: add('alice', 'writer'), then: 'KEY_REVOKED' },
    { name: 'a revoked key cannot be re-added as admin', given: [ALICE_WRITER, ['owner', revoke('alice')]], by: 'owner', when: add('alice', 'admin', 'alice2'), then: 'KEY_REVOKED' },
    { name: 'a revoked key cannot be revoked again', given: [ALICE_WRITER, ['owner', revoke('alice')]], by: 'owner', when: revoke('alice'), then: 'KEY_REVOKED' },
  ])('$name → $then', runCase);
});

describe('SPEC §14.3: the last active admin can be neither revoked nor demoted', () => {
  it.each<RuleCase>([
    { name: 'the owner, sole admin, revokes itself', given: [], by: 'owner', when: revoke('owner'), then: 'LAST_ADMIN' },
    { name: 'the owner, sole admin with writers, revokes itself', given: [ALICE_WRITER], by: 'owner', when: revoke('owner'), then: 'LAST_ADMIN' },
    { name: 'the owner, sole admin, demotes itself to writer', given: [], by: 'owner', when: add('owner', 'writer'), then: 'LAST_ADMIN' },
    { name: 'the last admin left after the owner was revoked revokes itself', given: [BOB_ADMIN, ['bob', revoke('owner')]], by: 'bob', when: revoke('bob'), then: 'LAST_ADMIN' },
    { name: 'with a second admin, the owner revokes itself', given: [BOB_ADMIN], by: 'owner', when: revoke('owner'), then: 'ok' },
    { name: 'with a second admin, the owner demotes itself', given: [BOB_ADMIN], by: 'owner', when: add('owner', 'writer'), then: 'ok' },
    { name: 'with a second admin, that admin revokes the owner', given: [BOB_ADMIN], by: 'bob', when: revoke('owner'), then: 'ok' },
  ])('$name → $then', runCase);
});

describe('SPEC §14.3: a key change must change something, and name a known key', () => {
  it.each<RuleCase>([
    { name: 'adding a key with its current role and name', given: [ALICE_WRITER], by: 'owner', when: add('alice', 'writer'), then: 'KEY_UNCHANGED' },
    { name: 'adding a key with its current role and no name', given: [ALICE_WRITER], by: 'owner', when: add('alice', 'writer', null), then: 'KEY_UNCHANGED' },
    { name: 'adding the owner as admin again', given: [], by: 'owner', when: add('owner', 'admin', null), then: 'KEY_UNCHANGED' },
    { name: 'revoking a key never added', given: [], by: 'owner', when: revoke('mallory'), then: 'KEY_NOT_FOUND' },
  ])('$name → $then', runCase);
});

describe('SPEC §2.2: a key that fails the key rules cannot be added', () => {
  it.each<RuleCase>([
    { name: '32 zero bytes (a small-order point)', given: [], by: 'owner', when: add('00'.repeat(32), 'writer', 'zero'), then: 'KEY_WEAK' },
    { name: 'the identity point 01 00…00', given: [], by: 'owner', when: add(`01${'00'.repeat(31)}`, 'writer', 'identity'), then: 'KEY_WEAK' },
    { name: 'the identity point as admin', given: [], by: 'owner', when: add(`01${'00'.repeat(31)}`, 'admin', null), then: 'KEY_WEAK' },
  ])('$name → $then', runCase);
});

describe('SPEC §14.1: keys, roles, names and reasons are validated before anything is written', () => {
  it.each<RuleCase>([
    { name: 'an empty name', given: [], by: 'owner', when: add('alice', 'writer', ''), then: 'INVALID_ARGUMENT' },
    { name: 'a name starting with a space', given: [], by: 'owner', when: add('alice', 'writer', ' alice'), then: 'INVALID_ARGUMENT' },
    { name: 'a name with a slash', given: [], by: 'owner', when: add('alice', 'writer', 'a/b'), then: 'INVALID_ARGUMENT' },
    { name: 'a 65-character name', given: [], by: 'owner', when: add('alice', 'writer', 'a'.repeat(65)), then: 'INVALID_ARGUMENT' },
    { name: 'a 64-character name is fine', given: [], by: 'owner', when: add('alice', 'writer', 'a'.repeat(64)), then: 'ok' },
    { name: 'a Unicode name is fine', given: [], by: 'owner', when: add('alice', 'writer', 'Zoë Ñ. o@x'), then: 'ok' },
    { name: 'an empty reason', given: [ALICE_WRITER], by: 'owner', when: revoke('alice', ''), then: 'INVALID_ARGUMENT' },
    { name: 'a 501-character reason', given: [ALICE_WRITER], by: 'owner', when: revoke('alice', 'r'.repeat(501)), then: 'INVALID_ARGUMENT' },
    { name: 'a 500-character reason is fine', given: [ALICE_WRITER], by: 'owner', when: revoke('alice', 'r'.repeat(500)), then: 'ok' },
    { name: 'role "root"', given: [], by: 'owner', when: add('alice', 'root'), then: 'INVALID_ARGUMENT' },
    { name: 'a key in upper-case hex', given: [], by: 'owner', when: add(hexOf('alice').toUpperCase(), 'writer', 'A'), then: 'INVALID_ARGUMENT' },
    { name: 'a 63-character key', given: [], by: 'owner', when: add(hexOf('alice').slice(1), 'writer', 'A'), then: 'INVALID_ARGUMENT' },
    { name: 'revoking a non-hex key', given: [], by: 'owner', when: revoke('z'.repeat(64)), then: 'INVALID_ARGUMENT' },
  ])('$name → $then', runCase);
});

describe('SPEC §14.2, §15.1: a role change by an admin is visible in key list and in the audit', () => {
  it('writer → admin: list shows the new role with the original addedSeq; audit shows both changes', async () => {
    await withFixture(async (fixture) => {
      await fixture.given([ALICE_WRITER, ['alice', append()], ['owner', add('alice', 'admin')], ['alice', add('carol', 'writer')]]);
      expect(await fixture.list()).toEqual([standing('owner', 'admin', 0, 'owner'), standing('alice', 'admin', 1, 'owner'), standing('carol', 'writer', 4, 'alice')].sort(byKey));
      expect((await fixture.list(2)).find((k) => k.key === hexOf('alice'))).toEqual(standing('alice', 'writer', 1, 'owner'));
      const report = await fixture.as(null, (ledger) => ledger.audit());
      expect(report.ok).toBe(true);
      const alice = report.keys.find((k) => k.key === hexOf('alice'))!;
      expect(alice.label).toBe('alice (admin)');
      expect(alice.roles.map(({ seq, role, by, byName }) => ({ seq, role, by, byName }))).toEqual([
        { seq: 1, role: 'writer', by: hexOf('owner'), byName: 'owner (admin)' },
        { seq: 3, role: 'admin', by: hexOf('owner'), byName: 'owner (admin)' },
      ]);
      expect(alice.signed).toEqual({ count: 2, first: { seq: 2, timeMs: T + 2000 }, last: { seq: 4, timeMs: T + 4000 } });
    });
  });
});

describe('SPEC §14.3: rotation — the owner hands the ledger to a new admin and is revoked', () => {
  it('old signatures still verify, the old key is refused afterwards, and key list --at shows both sides', async () => {
    await withFixture(async (fixture) => {
      // 1 owner adds bob (admin) · 2 owner appends · 3 owner creates mnist · 4 bob revokes the owner · 5 bob appends
      await fixture.given([BOB_ADMIN, ['owner', append()], ['owner', create('mnist')], ['bob', revoke('owner', 'rotated')], ['bob', append()]]);
      expect(await fixture.findings()).toEqual({ ok: true, failures: [] });
      const authors = await fixture.as(null, async (ledger) => {
        const out: string[] = [];
        for await (const event of ledger.events()) out.push(event.author === hexOf('owner') ? 'owner' : event.author === hexOf('bob') ? 'bob' : 'other');
        return out;
      });
      expect(authors).toEqual(['owner', 'owner', 'owner', 'owner', 'bob', 'bob']);

      expect(await fixture.as('owner', (ledger) => outcome(ledger.append({ type: 'app.note', payload: {} })))).toBe('KEY_NOT_AUTHORIZED');
      expect(await fixture.as('owner', (ledger) => outcome(ledger.records.update('mnist', { files: 9 })))).toBe('KEY_NOT_AUTHORIZED');
      expect(await fixture.as('owner', (ledger) => outcome(ledger.keys.add(hexOf('carol'), { role: 'admin' })))).toBe('KEY_NOT_AUTHORIZED');
      expect(await fixture.head()).toBe(5);

      const owner = (at: number) => fixture.list(at).then((list) => list.find((k) => k.key === hexOf('owner')));
      expect(await owner(3)).toEqual(standing('owner', 'admin', 0, 'owner'));
      expect(await owner(4)).toEqual(standing('owner', 'admin', 0, 'owner', { seq: 4, by: 'bob', reason: 'rotated' }));
      expect(await fixture.list(0)).toEqual([standing('owner', 'admin', 0, 'owner')]);
      // A time names the last event at or before it: T + 3.5 s is just before the revoke at T + 4 s.
      const atTime = await fixture.as(null, (ledger) => ledger.keys.list({ at: { timeMs: T + 3500 } }));
      expect(atTime.find((k) => k.key === hexOf('owner'))!.active).toBe(true);
      // The new admin writes on.
      expect(await fixture.as('bob', (ledger) => outcome(ledger.keys.add(hexOf('carol'), { role: 'writer', name: 'carol' })))).toBe('ok');
      expect(await fixture.findings()).toEqual({ ok: true, failures: [] });
    });
  });
});

describe('SPEC §14.3, §6.3: within one group commit each request is judged where it stands in the group', () => {
  it('an admin that revokes itself: its appends queued before the revoke commit, those after it are refused, and nothing else changes', async () => {
    await withFixture(async (fixture) => {
      await fixture.given([BOB_ADMIN]);
      const settled = await fixture.as('bob', async (ledger) => {
        const calls = [
          ledger.append({ type: 'app.before', payload: {} }),
          ledger.keys.revoke(hexOf('bob'), { reason: 'leaving' }),
          ledger.append({ type: 'app.after', payload: {} }),
          ledger.records.create('dataset', {}, { id: 'late' }),
          ledger.keys.add(hexOf('carol'), { role: 'writer' }),
        ];
        return Promise.all(calls.map(outcome));
      });
      expect(settled).toEqual(['ok', 'ok', 'KEY_NOT_AUTHORIZED', 'KEY_NOT_AUTHORIZED', 'KEY_NOT_AUTHORIZED']);
      const types = await fixture.as(null, async (ledger) => {
        const out: string[] = [];
        for await (const event of ledger.events({ from: 2 })) out.push(event.type);
        return out;
      });
      expect(types).toEqual(['app.before', 'key.revoke']);
      expect(await fixture.list()).toEqual([standing('owner', 'admin', 0, 'owner'), standing('bob', 'admin', 1, 'owner', { seq: 3, by: 'bob', reason: 'leaving' })].sort(byKey));
      expect(await fixture.findings()).toEqual({ ok: true, failures: [] });
    });
  });

  it('two revokes in one group: the second would remove the last admin and is refused with LAST_ADMIN', async () => {
    await withFixture(async (fixture) => {
      await fixture.given([BOB_ADMIN]);
      const settled = await fixture.as('bob', (ledger) => Promise.all([ledger.keys.revoke(hexOf('owner')), ledger.keys.revoke(hexOf('bob'))].map(outcome)));
      expect(settled).toEqual(['ok', 'LAST_ADMIN']);
      expect(await fixture.head()).toBe(2);
      expect(await fixture.findings()).toEqual({ ok: true, failures: [] });
    });
  });

  it('the same add twice in one group: the second is KEY_UNCHANGED', async () => {
    await withFixture(async (fixture) => {
      const settled = await fixture.as('owner', (ledger) => Promise.all([0, 1].map(() => outcome(ledger.keys.add(hexOf('alice'), { role: 'writer', name: 'alice' })))));
      expect(settled).toEqual(['ok', 'KEY_UNCHANGED']);
      expect(await fixture.head()).toBe(1);
    });
  });
});

/**
 * The base for forged logs (seq: what):
 *   1 owner adds alice (writer) · 2 owner adds carol (writer) · 3 alice creates mnist · 4 owner revokes carol
 * The owner is the only admin. Forged events follow from seq 5, one second apart.
 */
const FORGE_HEAD = 4;
const FORGE_BASE: readonly Step[] = [ALICE_WRITER, ['owner', add('carol', 'writer')], ['alice', create('mnist')], ['owner', revoke('carol', 'left')]];

async function forgeAndRebuild(fixture: Fixture, events: readonly { by: Actor; type: string; payload: Record<string, unknown> }[]): Promise<number[]> {
  const seqs = await appendForged(fixture.dir, events.map(({ by, type, payload }) => ({ type, payload: payload as never, key: KEYS[by] })));
  await fixture.as(null, (ledger) => ledger.rebuild());
  return seqs;
}

describe('SPEC §14.3, §7.2: a forged event that breaks a rule of who may write fails verify at its seq', () => {
  interface ForgeCase {
    readonly name: string;
    readonly events: readonly { by: Actor; type: string; payload: Record<string, unknown> }[];
    readonly expected: readonly [number, string][];
  }
  const S = FORGE_HEAD + 1;
  it.each<ForgeCase>([
    { name: 'an app event by a key never authorised', events: [{ by: 'mallory', type: 'app.note', payload: {} }], expected: [[S, 'UNAUTHORIZED']] },
    { name: 'a record update by a key never authorised', events: [{ by: 'mallory', type: 'record.update', payload: { id: 'mnist', version: 2, data: {} } }], expected: [[S, 'UNAUTHORIZED']] },
    { name: 'an app event by a key after its revocation', events: [{ by: 'carol', type: 'app.note', payload: {} }], expected: [[S, 'KEY_REVOKED']] },
    {
      name: 'a key.add by a writer (NOT_ADMIN), and the key it added stays unauthorised',
      events: [
        { by: 'alice', type: 'key.add', payload: { key: hexOf('mallory'), role: 'admin', name: 'mallory' } },
        { by: 'mallory', type: 'app.note', payload: {} },
      ],
      expected: [[S, 'NOT_ADMIN'], [S + 1, 'UNAUTHORIZED']],
    },
    { name: 'a key.revoke by a writer (of itself, a change that would otherwise be valid)', events: [{ by: 'alice', type: 'key.revoke', payload: { key: hexOf('alice') } }], expected: [[S, 'NOT_ADMIN']] },
    // Both rules are broken, and both are reported at the same seq.
    { name: 'a key.revoke of the last admin by a writer', events: [{ by: 'alice', type: 'key.revoke', payload: { key: hexOf('owner') } }], expected: [[S, 'NOT_ADMIN'], [S, 'BAD_KEY_EVENT']] },
    { name: 'a key.revoke by a revoked key', events: [{ by: 'carol', type: 'key.revoke', payload: { key: hexOf('alice') } }], expected: [[S, 'KEY_REVOKED']] },
    { name: 'a key.add by a key never authorised', events: [{ by: 'mallory', type: 'key.add', payload: { key: hexOf('mallory'), role: 'admin' } }], expected: [[S, 'UNAUTHORIZED']] },
    {
      name: 'the last admin revoking itself (BAD_KEY_EVENT), which changes nothing: it still writes',
      events: [
        { by: 'owner', type: 'key.revoke', payload: { key: hexOf('owner') } },
        { by: 'owner', type: 'app.note', payload: {} },
      ],
      expected: [[S, 'BAD_KEY_EVENT']],
    },
    { name: 'the last admin demoting itself', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('owner'), role: 'writer' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    {
      name: 're-adding a revoked key, which stays revoked',
      events: [
        { by: 'owner', type: 'key.add', payload: { key: hexOf('carol'), role: 'writer' } },
        { by: 'carol', type: 'app.note', payload: {} },
      ],
      expected: [[S, 'BAD_KEY_EVENT'], [S + 1, 'KEY_REVOKED']],
    },
    { name: 'revoking a key never added', events: [{ by: 'owner', type: 'key.revoke', payload: { key: hexOf('mallory') } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'repeating a key\'s role and name', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('alice'), role: 'writer', name: 'alice' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'adding a weak key (32 zero bytes)', events: [{ by: 'owner', type: 'key.add', payload: { key: '00'.repeat(32), role: 'writer' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'a key.add with role "root"', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('bob'), role: 'root' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'a key.add with an upper-case key', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('bob').toUpperCase(), role: 'writer' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'a key.add with no role', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('bob') } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'a key.add with an extra field', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('bob'), role: 'writer', admin: true } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'a key.add with an invalid name', events: [{ by: 'owner', type: 'key.add', payload: { key: hexOf('bob'), role: 'writer', name: '' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    { name: 'a key.revoke with no key', events: [{ by: 'owner', type: 'key.revoke', payload: { reason: 'x' } }], expected: [[S, 'BAD_KEY_EVENT']] },
    {
      name: 'a malformed key.add of bob, after which bob is still unknown',
      events: [
        { by: 'owner', type: 'key.add', payload: { key: hexOf('bob'), role: ['admin'] } },
        { by: 'bob', type: 'app.note', payload: {} },
      ],
      expected: [[S, 'BAD_KEY_EVENT'], [S + 1, 'UNAUTHORIZED']],
    },
  ])('$name → $expected', async ({ events, expected }) => {
    await withFixture(async (fixture) => {
      await fixture.given(FORGE_BASE);
      const listBefore = await fixture.list();
      expect(await forgeAndRebuild(fixture, events)).toEqual(events.map((_, i) => S + i));
      expect(await fixture.findings()).toEqual({ ok: false, failures: expected });
      // The authority projection applies the same judgement: a change that verify rejects changed nothing.
      expect(await fixture.list()).toEqual(listBefore);
    });
  });

  it('a valid forged change by the admin is not a finding: verify judges rules, not how bytes arrived (SPEC §15.4)', async () => {
    await withFixture(async (fixture) => {
      await fixture.given(FORGE_BASE);
      await forgeAndRebuild(fixture, [
        { by: 'owner', type: 'key.add', payload: { key: hexOf('bob'), role: 'writer', name: 'bob' } },
        { by: 'bob', type: 'app.note', payload: {} },
      ]);
      expect(await fixture.findings()).toEqual({ ok: true, failures: [] });
      expect((await fixture.list()).find((k) => k.key === hexOf('bob'))).toEqual(standing('bob', 'writer', FORGE_HEAD + 1, 'owner'));
    });
  });

  it('the audit lists a key named only in a refused key change (SPEC §15.1), with no roles and nothing signed', async () => {
    await withFixture(async (fixture) => {
      await fixture.given(FORGE_BASE);
      await forgeAndRebuild(fixture, [{ by: 'alice', type: 'key.add', payload: { key: hexOf('mallory'), role: 'admin', name: 'mallory' } }]);
      const report = await fixture.as(null, (ledger) => ledger.audit());
      expect(report.problems.map((p) => p.code)).toEqual(['NOT_ADMIN']);
      expect(report.keys.find((k) => k.key === hexOf('mallory'))).toMatchObject({ roles: [], signed: { count: 0, first: null, last: null } });
    });
  });

  it('the audit of a forged event by a key never authorised lists the problem and the key with what it signed', async () => {
    await withFixture(async (fixture) => {
      await fixture.given(FORGE_BASE);
      const [seq] = await forgeAndRebuild(fixture, [{ by: 'mallory', type: 'app.note', payload: {} }]);
      const report = await fixture.as(null, (ledger) => ledger.audit());
      expect({ ok: report.ok, problems: report.problems.map((p) => [p.seq, p.code]), problemCount: report.problemCount }).toEqual({ ok: false, problems: [[seq, 'UNAUTHORIZED']], problemCount: 1 });
      const mallory = report.keys.find((k) => k.key === hexOf('mallory'));
      expect(mallory).toEqual({
        key: hexOf('mallory'),
        name: null,
        label: `unknown key ${hexOf('mallory').slice(0, 16)}`,
        roles: [],
        signed: { count: 1, first: { seq, timeMs: T + FORGE_HEAD * 1000 + 1000 }, last: { seq, timeMs: T + FORGE_HEAD * 1000 + 1000 } },
      });
    });
  });
});
