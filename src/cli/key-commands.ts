/**
 * The key and audit commands of SPEC §16: `key add|revoke|list` and `audit`. Each parses its flags, calls one
 * library function and prints the result.
 */
import type { Command } from 'commander';
import { LedgerError } from '../errors.js';
import type { AuditReport, KeyStanding, RecordSignature } from '../ledger.js';
import { flagsOf, print, withLedger, type Io } from './context.js';
import { EXIT } from './exit-codes.js';
import { parsePoint } from './input.js';
import { startProgress } from './progress.js';

function keyArgument(value: string): string {
  const key = value.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(key)) throw new LedgerError('INVALID_ARGUMENT', `PUBKEY must be 64 hex characters, as printed by \`provledger keygen\`, got ${JSON.stringify(value)}`);
  return key;
}

function standingLine(k: KeyStanding): string {
  const state = k.active ? k.role : `revoked ${k.role} (seq ${k.revokedSeq}${k.reason === null ? '' : `: ${k.reason}`})`;
  return `${k.key}\t${k.name ?? '-'}\t${state}\tadded at seq ${k.addedSeq} by ${k.addedBy.slice(0, 16)}`;
}

function auditText(report: AuditReport): string {
  const lines: string[] = [];
  for (const key of report.keys) {
    const signed = key.signed.count === 0 ? 'signed nothing' : `signed ${key.signed.count} event(s), seq ${key.signed.first!.seq} (${new Date(key.signed.first!.timeMs).toISOString()}) to ${key.signed.last!.seq} (${new Date(key.signed.last!.timeMs).toISOString()})`;
    lines.push(`${key.label}  ${key.key}`, `  ${signed}`);
    for (const change of key.roles) lines.push(`  seq ${change.seq}  ${new Date(change.timeMs).toISOString()}  ${change.role}  by ${change.byName}`);
  }
  lines.push(report.ok ? `ok: ${report.checked} events audited${report.reference ? ' (signatures also checked with @noble/ed25519)' : ''}; no problems` : `FAILED: ${report.problemCount} problem(s) in ${report.checked} events`);
  for (const p of report.problems) lines.push(`${p.seq === null ? 'ledger' : `seq ${p.seq}`}\t${p.code}\t${p.message}`);
  return lines.join('\n');
}

function recordAuditLine(v: RecordSignature): string {
  return `v${v.version}${v.deleted ? ' (deleted)' : ''}\tseq ${v.seq}\t${new Date(v.timeMs).toISOString()}\t${v.authorLabel}\tsignature ${v.signatureValid ? 'ok' : 'BAD'}\t${v.authorized ? 'authorised' : 'NOT AUTHORISED'}`;
}

export function registerKeyCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const key = program.command('key').description('who may write: add, revoke and list keys (admins only change keys)');

  key
    .command('add')
    .description('authorise a public key as admin or writer (or change an active key\'s role or name)')
    .argument('<pubkey>', 'the public key, 64 hex characters')
    .requiredOption('--role <role>', 'admin or writer')
    .option('--name <name>', 'a name for reports, e.g. alice')
    .action(async (pubkey: string, options: { role: string; name?: string }, command: Command) => {
      const global = flagsOf(command);
      const publicKey = keyArgument(pubkey);
      if (options.role !== 'admin' && options.role !== 'writer') throw new LedgerError('INVALID_ARGUMENT', `--role must be admin or writer, got ${JSON.stringify(options.role)}`);
      const role = options.role;
      const result = await withLedger(global, io, true, (ledger) => ledger.keys.add(publicKey, { role, name: options.name }));
      print(io, global.json === true ? JSON.stringify({ seq: result.seq, hash: result.hash }) : `added ${options.name ?? publicKey.slice(0, 16)} as ${role} (seq ${result.seq}, hash ${result.hash})`);
    });

  key
    .command('revoke')
    .description('revoke a key for good; what it signed before stays valid')
    .argument('<pubkey>', 'the public key, 64 hex characters')
    .option('--reason <text>', 'why, for the record')
    .action(async (pubkey: string, options: { reason?: string }, command: Command) => {
      const global = flagsOf(command);
      const publicKey = keyArgument(pubkey);
      const result = await withLedger(global, io, true, (ledger) => ledger.keys.revoke(publicKey, { reason: options.reason }));
      print(io, global.json === true ? JSON.stringify({ seq: result.seq, hash: result.hash }) : `revoked ${publicKey.slice(0, 16)} (seq ${result.seq}, hash ${result.hash})`);
    });

  key
    .command('list')
    .description('every key, its role, who added it and when; now or as of a seq or time (JSON Lines with --json)')
    .option('--at <seq|time>', 'as of this seq or ISO 8601 time')
    .action(async (options: { at?: string }, command: Command) => {
      const global = flagsOf(command);
      const at = options.at === undefined ? undefined : parsePoint(options.at, '--at');
      const keys = await withLedger(global, io, false, (ledger) => ledger.keys.list({ at }));
      for (const k of keys) print(io, global.json === true ? JSON.stringify(k) : standingLine(k));
    });

  program
    .command('audit')
    .description('who signed what and whether they were allowed to; exit 1 on any problem')
    .option('--record <id>', 'audit one record: who changed it, when, and whether each signature checks')
    .option('--reference', 'also check every signature with the @noble/ed25519 reference implementation')
    .action(async (options: { record?: string; reference?: boolean }, command: Command) => {
      const global = flagsOf(command);
      if (options.record !== undefined) {
        const id = options.record;
        const versions = await withLedger(global, io, false, (ledger) => ledger.auditRecord(id, { reference: options.reference }));
        for (const v of versions) print(io, global.json === true ? JSON.stringify(v) : recordAuditLine(v));
        if (versions.some((v) => !v.signatureValid || !v.authorized)) setExit(EXIT.VERIFY_FAILED);
        return;
      }
      const progress = startProgress('audit', io.stderr);
      const report = await withLedger(global, io, false, (ledger) => ledger.audit({ reference: options.reference, onProgress: (done, total) => progress.update(done, total) })).finally(() =>
        progress.stop(),
      );
      print(io, global.json === true ? JSON.stringify(report) : auditText(report));
      if (!report.ok) setExit(EXIT.VERIFY_FAILED);
    });
}
