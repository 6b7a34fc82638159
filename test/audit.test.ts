/**
 * SPEC §15 through the built `provledger audit` command: the per-key report (labels, role histories with who
 * made each change, what each key signed), its --json shape, exit 0 when clean and 1 with every problem
 * listed, `audit --record ID` (every version with its author, signature and authorisation), and `--reference`
 * (same verdicts, reported as checked twice).
 *
 * Each test writes its own small ledger with the library from src/ (fixed keys and clock), may forge events into
 * it (test/helpers/forge.ts, projections rebuilt so only the rule under test is broken), and audits it with
 * the CLI.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SigningKey } from '../src/crypto/keys.js';
import { Ledger } from '../src/ledger.js';
import { assertBuilt, runCli, type RunResult } from './helpers/cli.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { appendForged, breakSignature } from './helpers/forge.js';
import { withTempDir } from './helpers/tmp.js';

const T = 1_800_000_000_000;
const timeOf = (seq: number) => T + seq * 1000;
const iso = (seq: number) => new Date(timeOf(seq)).toISOString();
const KEYS = { owner: ownerKey, alice: otherKey, bob: SigningKey.generate(), carol: SigningKey.generate(), dave: SigningKey.generate(), mallory: SigningKey.generate() } as const;
type Actor = keyof typeof KEYS;
const hexOf = (actor: Actor) => KEYS[actor].publicKeyHex;

/**
 * The audited ledger (seq: who does what); event `seq` has time T + seq s.
 *   0 genesis (owner) · 1 owner adds alice (writer) · 2 owner adds bob (admin) · 3 alice creates mnist
 *   4 alice appends a note · 5 bob updates mnist → v2 · 6 bob revokes alice · 7 bob adds carol (writer)
 *   8 carol deletes mnist → v3 · 9 owner appends a note · 10 owner adds dave (writer), who signs nothing
 */
const HEAD_SEQ = 10;

async function buildLedger(dir: string): Promise<void> {
  let tick = 0;
  const clock = () => T + 1000 * tick++;
  const as = async (actor: Actor, use: (ledger: Ledger) => Promise<unknown>) => {
    const ledger = actor === 'owner' && tick === 0 ? await Ledger.create(dir, { key: ownerKey, sync: false, clock }) : await Ledger.open(dir, { key: KEYS[actor], sync: false, clock });
    try {
      await use(ledger);
    } finally {
      await ledger.close();
    }
  };
  await as('owner', async (ledger) => {
    await ledger.keys.add(hexOf('alice'), { role: 'writer', name: 'alice' });
    await ledger.keys.add(hexOf('bob'), { role: 'admin', name: 'bob' });
  });
  await as('alice', async (ledger) => {
    await ledger.records.create('dataset', { files: 4 }, { id: 'mnist' });
    await ledger.append({ type: 'app.note', payload: { by: 'alice' } });
  });
  await as('bob', async (ledger) => {
    await ledger.records.update('mnist', { files: 5 });
    await ledger.keys.revoke(hexOf('alice'), { reason: 'left' });
    await ledger.keys.add(hexOf('carol'), { role: 'writer', name: 'carol' });
  });
  await as('carol', (ledger) => ledger.records.delete('mnist'));
  await as('owner', async (ledger) => {
    await ledger.append({ type: 'app.note', payload: { by: 'owner' } });
    await ledger.keys.add(hexOf('dave'), { role: 'writer', name: 'dave' });
  });
}

function withAuditedLedger(use: (dir: string) => Promise<void>): Promise<void> {
  return withTempDir(async (root) => {
    const dir = join(root, 'ledger');
    await buildLedger(dir);
    await use(dir);
  });
}

async function rebuild(dir: string): Promise<void> {
  const ledger = await Ledger.open(dir, { sync: false });
  try {
    await ledger.rebuild();
  } finally {
    await ledger.close();
  }
}

const audit = (dir: string, ...args: string[]) => runCli(['--ledger', dir, ...args, 'audit']);
const auditWith = (dir: string, global: string[], ...args: string[]) => runCli(['--ledger', dir, ...global, 'audit', ...args]);

interface RoleChange {
  seq: number;
  timeMs: number;
  role: string;
  by: string;
  byName: string;
}
interface KeyAudit {
  key: string;
  name: string | null;
  label: string;
  roles: RoleChange[];
  signed: { count: number; first: { seq: number; timeMs: number } | null; last: { seq: number; timeMs: number } | null };
}
interface AuditJson {
  ok: boolean;
  checked: number;
  keys: KeyAudit[];
  problems: { seq: number | null; code: string; message: string }[];
  problemCount: number;
  reference: boolean;
}

const change = (seq: number, role: string, by: Actor, byName: string): RoleChange => ({ seq, timeMs: timeOf(seq), role, by: hexOf(by), byName });
const signed = (count: number, first: number, last: number) => ({ count, first: { seq: first, timeMs: timeOf(first) }, last: { seq: last, timeMs: timeOf(last) } });

/** The report of SPEC §15.1 for the ledger above, keys in key order. */
const EXPECTED_KEYS: KeyAudit[] = [
  { key: hexOf('owner'), name: 'owner', label: 'owner (admin)', roles: [change(0, 'admin', 'owner', 'owner (admin)')], signed: signed(5, 0, 10) },
  {
    key: hexOf('alice'),
    name: 'alice',
    label: 'alice (revoked writer)',
    roles: [change(1, 'writer', 'owner', 'owner (admin)'), change(6, 'revoked', 'bob', 'bob (admin)')],
    signed: signed(2, 3, 4),
  },
  { key: hexOf('bob'), name: 'bob', label: 'bob (admin)', roles: [change(2, 'admin', 'owner', 'owner (admin)')], signed: signed(3, 5, 7) },
  { key: hexOf('carol'), name: 'carol', label: 'carol (writer)', roles: [change(7, 'writer', 'bob', 'bob (admin)')], signed: signed(1, 8, 8) },
  { key: hexOf('dave'), name: 'dave', label: 'dave (writer)', roles: [change(10, 'writer', 'owner', 'owner (admin)')], signed: { count: 0, first: null, last: null } },
].sort((a, b) => (a.key < b.key ? -1 : 1));

/** The text report, as `audit` prints it for these keys. */
function expectedText(keys: readonly KeyAudit[], verdict: string, problems: readonly string[] = []): string {
  const lines: string[] = [];
  for (const k of keys) {
    lines.push(`${k.label}  ${k.key}`);
    lines.push(k.signed.count === 0 ? '  signed nothing' : `  signed ${k.signed.count} event(s), seq ${k.signed.first!.seq} (${iso(k.signed.first!.seq)}) to ${k.signed.last!.seq} (${iso(k.signed.last!.seq)})`);
    for (const r of k.roles) lines.push(`  seq ${r.seq}  ${iso(r.seq)}  ${r.role}  by ${r.byName}`);
  }
  return `${[...lines, verdict, ...problems].join('\n')}\n`;
}

const findings = (report: AuditJson) => report.problems.map((p) => [p.seq, p.code]);
const outcome = (result: RunResult) => ({ code: result.code, stderr: result.stderr });

beforeAll(() => assertBuilt());

describe('SPEC §15.1: the audit of a clean ledger with several keys', () => {
  it('text: every key with its label, what it signed and its role history; `ok` and exit 0', async () => {
    await withAuditedLedger(async (dir) => {
      const result = await audit(dir);
      expect(outcome(result)).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toBe(expectedText(EXPECTED_KEYS, `ok: ${HEAD_SEQ + 1} events audited; no problems`));
    });
  });

  it('--json: {ok, checked, keys[{key, name, label, roles, signed}], problems, problemCount, reference}', async () => {
    await withAuditedLedger(async (dir) => {
      const result = await audit(dir, '--json');
      expect(outcome(result)).toEqual({ code: 0, stderr: '' });
      expect(result.stdout.endsWith('\n') && !result.stdout.slice(0, -1).includes('\n')).toBe(true);
      expect(JSON.parse(result.stdout)).toEqual({ ok: true, checked: HEAD_SEQ + 1, keys: EXPECTED_KEYS, problems: [], problemCount: 0, reference: false });
    });
  });

  it('the library gives the same report', async () => {
    await withAuditedLedger(async (dir) => {
      const ledger = await Ledger.open(dir);
      try {
        expect(await ledger.audit()).toEqual({ ok: true, checked: HEAD_SEQ + 1, keys: EXPECTED_KEYS, problems: [], problemCount: 0, reference: false });
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('SPEC §15.1: problems make the audit fail with exit 1, each listed with its seq and code', () => {
  it('an event forged by a key never authorised: FAILED, the UNAUTHORIZED line, and the key shown with what it signed', async () => {
    await withAuditedLedger(async (dir) => {
      const [seq] = await appendForged(dir, [{ type: 'app.note', payload: { by: 'mallory' }, key: KEYS.mallory }]);
      await rebuild(dir);
      const text = await audit(dir);
      expect(outcome(text)).toEqual({ code: 1, stderr: '' });
      const lines = text.stdout.trimEnd().split('\n');
      expect(lines.at(-2)).toBe(`FAILED: 1 problem(s) in ${HEAD_SEQ + 2} events`);
      expect(lines.at(-1)).toMatch(new RegExp(`^seq ${seq}\\tUNAUTHORIZED\\t`));
      expect(text.stdout).toContain(`unknown key ${hexOf('mallory').slice(0, 16)}  ${hexOf('mallory')}\n  signed 1 event(s), seq ${seq} (`);

      const json = await audit(dir, '--json');
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as AuditJson;
      expect({ ok: report.ok, checked: report.checked, problems: findings(report), problemCount: report.problemCount }).toEqual({
        ok: false,
        checked: HEAD_SEQ + 2,
        problems: [[seq, 'UNAUTHORIZED']],
        problemCount: 1,
      });
      const mallory = report.keys.find((k) => k.key === hexOf('mallory'));
      expect(mallory).toEqual({ key: hexOf('mallory'), name: null, label: `unknown key ${hexOf('mallory').slice(0, 16)}`, roles: [], signed: signed(1, seq!, seq!) });
      // The other keys are reported as before.
      expect(report.keys.filter((k) => k.key !== hexOf('mallory'))).toEqual(EXPECTED_KEYS);
    });
  });

  it('an event by a revoked key and a key change by a writer: every problem, in seq order', async () => {
    await withAuditedLedger(async (dir) => {
      const seqs = await appendForged(dir, [
        { type: 'app.note', payload: {}, key: KEYS.alice },
        { type: 'key.add', payload: { key: hexOf('mallory'), role: 'admin', name: 'mallory' }, key: KEYS.carol },
        { type: 'app.note', payload: {}, key: KEYS.mallory },
      ]);
      await rebuild(dir);
      const result = await audit(dir, '--json');
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as AuditJson;
      expect(findings(report)).toEqual([
        [seqs[0], 'KEY_REVOKED'],
        [seqs[1], 'NOT_ADMIN'],
        [seqs[2], 'UNAUTHORIZED'],
      ]);
      // The change carol was not allowed to make appears in no role history: mallory never held a role.
      expect(report.keys.find((k) => k.key === hexOf('mallory'))).toMatchObject({ roles: [], signed: { count: 1 } });
      expect(report.keys.find((k) => k.key === hexOf('alice'))).toMatchObject({ label: 'alice (revoked writer)', signed: signed(3, 3, seqs[0]!) });
    });
  });
});

describe('SPEC §15.2: audit --record lists every version with its author, signature and authorisation', () => {
  it('text: one line per version, the author labelled as of that seq; exit 0', async () => {
    await withAuditedLedger(async (dir) => {
      const result = await auditWith(dir, [], '--record', 'mnist');
      expect(outcome(result)).toEqual({ code: 0, stderr: '' });
      expect(result.stdout).toBe(
        [
          `v1\tseq 3\t${iso(3)}\talice (writer)\tsignature ok\tauthorised`,
          `v2\tseq 5\t${iso(5)}\tbob (admin)\tsignature ok\tauthorised`,
          `v3 (deleted)\tseq 8\t${iso(8)}\tcarol (writer)\tsignature ok\tauthorised`,
          '',
        ].join('\n'),
      );
    });
  });

  it('--json: JSON Lines of {version, deleted, seq, timeMs, author, authorLabel, signatureValid, authorized}', async () => {
    await withAuditedLedger(async (dir) => {
      const result = await auditWith(dir, ['--json'], '--record', 'mnist');
      expect(outcome(result)).toEqual({ code: 0, stderr: '' });
      const version = (n: number, seq: number, author: Actor, authorLabel: string) => ({ version: n, deleted: n === 3, seq, timeMs: timeOf(seq), author: hexOf(author), authorLabel, signatureValid: true, authorized: true });
      expect(result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
        version(1, 3, 'alice', 'alice (writer)'),
        version(2, 5, 'bob', 'bob (admin)'),
        version(3, 8, 'carol', 'carol (writer)'),
      ]);
    });
  });

  it('a record created by a forged event of a key never authorised: NOT AUTHORISED, exit 1', async () => {
    await withAuditedLedger(async (dir) => {
      const [seq] = await appendForged(dir, [{ type: 'record.create', payload: { id: 'ghost', kind: 'model', version: 1, data: { layers: 1 } }, key: KEYS.mallory }]);
      await rebuild(dir);
      const result = await auditWith(dir, [], '--record', 'ghost');
      expect(outcome(result)).toEqual({ code: 1, stderr: '' });
      expect(result.stdout).toBe(`v1\tseq ${seq}\t${iso(seq!)}\tunknown key ${hexOf('mallory').slice(0, 16)}\tsignature ok\tNOT AUTHORISED\n`);
      // The untouched record still passes.
      expect((await auditWith(dir, [], '--record', 'mnist')).code).toBe(0);
    });
  });

  it('a record version written by a revoked key: NOT AUTHORISED, labelled as revoked, exit 1', async () => {
    await withAuditedLedger(async (dir) => {
      const [seq] = await appendForged(dir, [{ type: 'record.create', payload: { id: 'late', kind: 'model', version: 1, data: {} }, key: KEYS.alice }]);
      await rebuild(dir);
      const result = await auditWith(dir, [], '--record', 'late');
      expect(outcome(result)).toEqual({ code: 1, stderr: '' });
      expect(result.stdout).toBe(`v1\tseq ${seq}\t${iso(seq!)}\talice (revoked writer)\tsignature ok\tNOT AUTHORISED\n`);
    });
  });

  it('an unknown record: exit 2 RECORD_NOT_FOUND', async () => {
    await withAuditedLedger(async (dir) => {
      const result = await auditWith(dir, [], '--record', 'nope');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^provledger: [^\n]+ \[RECORD_NOT_FOUND\]\n$/);
    });
  });
});

describe('SPEC §15.3: audit --reference checks every signature twice and gives the same verdicts', () => {
  it('on a clean ledger: the same report with reference: true, and the text says so', async () => {
    await withAuditedLedger(async (dir) => {
      const [plain, reference, text] = await Promise.all([audit(dir, '--json'), auditWith(dir, ['--json'], '--reference'), auditWith(dir, [], '--reference')]);
      expect([plain.code, reference.code, text.code]).toEqual([0, 0, 0]);
      expect(JSON.parse(reference.stdout)).toEqual({ ...(JSON.parse(plain.stdout) as AuditJson), reference: true });
      expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(`ok: ${HEAD_SEQ + 1} events audited (signatures also checked with @noble/ed25519); no problems`);
    });
  });

  it('with one flipped signature bit (re-chained, rebuilt): BAD_SIGNATURE at that seq only, with and without --reference; no disagreement', async () => {
    await withAuditedLedger(async (dir) => {
      await breakSignature(dir, 3, Object.values(KEYS));
      await rebuild(dir);
      const [plain, reference] = await Promise.all([audit(dir, '--json'), auditWith(dir, ['--json'], '--reference')]);
      expect([plain.code, reference.code]).toEqual([1, 1]);
      const [p, r] = [JSON.parse(plain.stdout) as AuditJson, JSON.parse(reference.stdout) as AuditJson];
      expect(findings(p)).toEqual([[3, 'BAD_SIGNATURE']]);
      expect(findings(r)).toEqual([[3, 'BAD_SIGNATURE']]);
      expect({ ...r, reference: false }).toEqual(p);
      // Verify agrees.
      const verify = await runCli(['--ledger', dir, '--json', 'verify']);
      expect(verify.code).toBe(1);
      expect((JSON.parse(verify.stdout) as { failures: { seq: number; code: string }[] }).failures.map((f) => [f.seq, f.code])).toEqual([[3, 'BAD_SIGNATURE']]);
      // The record audit shows the bad version, with and without --reference.
      for (const extra of [[], ['--reference']]) {
        const record = await auditWith(dir, [], '--record', 'mnist', ...extra);
        expect(outcome(record)).toEqual({ code: 1, stderr: '' });
        expect(record.stdout.split('\n')[0]).toBe(`v1\tseq 3\t${iso(3)}\talice (writer)\tsignature BAD\tauthorised`);
        expect(record.stdout.split('\n')[1]).toContain('signature ok\tauthorised');
      }
    });
  });
});
