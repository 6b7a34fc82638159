/**
 * The provenance questions of SPEC §24: `record invalidate`, `impact`, `licenses`, `dataset diff`. Each parses
 * its flags, calls one library function and prints the result.
 */
import type { Command } from 'commander';
import { LedgerError } from '../errors.js';
import type { DatasetDiff, Impact, LicenseReport } from '../provenance.js';
import { flagsOf, print, withLedger, type Io } from './context.js';
import { LICENSE_FINDING_SEVERITY } from '../domain/spdx.js';
import { EXIT } from './exit-codes.js';
import { parsePoint, parseVersion } from './input.js';

/** `ID@VERSION`. */
function parseVersionRef(text: string, what: string): { id: string; version: number } {
  const at = text.lastIndexOf('@');
  if (at <= 0) throw new LedgerError('INVALID_ARGUMENT', `${what} must be ID@VERSION (e.g. mnist@2), got ${JSON.stringify(text.slice(0, 80))}`);
  return { id: text.slice(0, at), version: parseVersion(text.slice(at + 1), what) };
}

function impactText(impact: Impact): string {
  const lines = [
    impact.invalidations.length === 0
      ? `${impact.root} is not invalid as of seq ${impact.atSeq}; what would be affected downstream:`
      : `${impact.root} is invalid (${impact.invalidations.map((i) => `${i.version === undefined ? 'every version' : `version ${i.version}`}: ${JSON.stringify(i.reason)}, seq ${i.seq}`).join('; ')})`,
  ];
  for (const node of impact.affected) {
    const own = node.invalidations.length === 0 ? '' : '  [itself invalid]';
    lines.push(`${'  '.repeat(node.depth)}${node.id}  (${node.kind} v${node.version})  via ${node.path.join(' ← ')}${own}`);
  }
  lines.push(`${impact.affected.length} record(s) affected`);
  return lines.join('\n');
}

function licensesText(report: LicenseReport): string {
  const lines = report.records.map((r) => {
    const flags = [r.nonCommercial && 'non-commercial', r.noDerivatives && 'no-derivatives', r.shareAlike && 'share-alike', r.unknown && 'UNKNOWN'].filter(Boolean).join(', ');
    return `${r.id}  (${r.kind})  ${r.license}${flags === '' ? '' : `  [${flags}]`}${r.depth === 0 ? '' : `  via ${r.path.join(' → ')}`}`;
  });
  if (report.findings.length === 0) lines.push('no licence conflicts upstream');
  const order = { conflict: 0, unknown: 1, notice: 2 } as const;
  const findings = [...report.findings].sort((a, b) => order[LICENSE_FINDING_SEVERITY[a.code]] - order[LICENSE_FINDING_SEVERITY[b.code]]);
  for (const f of findings) lines.push(`${f.code}\t${f.recordId}\t${f.license}\t${f.message}`);
  return lines.join('\n');
}

function diffText(diff: DatasetDiff): string {
  const head = `${diff.from.id}@${diff.from.version} → ${diff.to.id}@${diff.to.version}: ${diff.identical ? 'identical content' : 'content differs'}`;
  if (!diff.compared) return `${head} (no member lists to compare)`;
  return [
    head,
    ...diff.added.map((m) => `+ ${m.path}\t${m.sha256}\t${m.size}`),
    ...diff.removed.map((m) => `- ${m.path}\t${m.sha256}\t${m.size}`),
    ...diff.changed.map((c) => `~ ${c.path}\t${c.from.sha256} → ${c.to.sha256}\t${c.from.size} → ${c.to.size}`),
    `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged`,
  ].join('\n');
}

export function registerProvenanceCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const record = program.commands.find((c) => c.name() === 'record')!;
  record
    .command('invalidate')
    .description('mark a record, or one version of it, invalid (a signed event; nothing is deleted)')
    .argument('<id>', 'record id')
    .requiredOption('--reason <text>', 'why, for whoever reads the impact later')
    .option('--version <n>', 'only this version (default: every version)')
    .action(async (id: string, options: { reason: string; version?: string }, command: Command) => {
      const global = flagsOf(command);
      const version = options.version === undefined ? undefined : parseVersion(options.version, '--version');
      const result = await withLedger(global, io, true, (ledger) => ledger.provenance.invalidate(id, { version, reason: options.reason }));
      print(io, global.json === true ? JSON.stringify({ seq: result.seq, hash: result.hash }) : `invalidated ${id}${version === undefined ? '' : `@${version}`} (seq ${result.seq})`);
    });

  const pointOf = (at: string | undefined) => (at === undefined ? undefined : parsePoint(at, '--at'));

  program
    .command('impact')
    .description('everything downstream of a record, with the path that makes it affected')
    .argument('<id>', 'record id (typically an invalidated one)')
    .option('--at <point>', 'as of a seq or an ISO 8601 time')
    .action(async (id: string, options: { at?: string }, command: Command) => {
      const global = flagsOf(command);
      const at = pointOf(options.at);
      const impact = await withLedger(global, io, false, (ledger) => ledger.provenance.impact(id, { at }));
      print(io, global.json === true ? JSON.stringify(impact) : impactText(impact));
    });

  program
    .command('licenses')
    .description('the licences of a record and everything upstream of it, with conflicts and unknown licences flagged')
    .argument('<id>', 'record id')
    .option('--at <point>', 'as of a seq or an ISO 8601 time')
    .action(async (id: string, options: { at?: string }, command: Command) => {
      const global = flagsOf(command);
      const at = pointOf(options.at);
      const report = await withLedger(global, io, false, (ledger) => ledger.provenance.licenses(id, { at }));
      const findings = report.findings.map((f) => ({ code: f.code, severity: LICENSE_FINDING_SEVERITY[f.code], recordId: f.recordId, license: f.license, message: f.message }));
      print(io, global.json === true ? JSON.stringify({ ...report, findings }) : licensesText(report));
      // A conflict upstream fails the command, so a pipeline can stop on it (SPEC §24).
      if (findings.some((f) => f.severity === 'conflict')) setExit(EXIT.VERIFY_FAILED);
    });

  const dataset = program.command('dataset').description('dataset versions');
  dataset
    .command('diff')
    .description('members added, removed and changed between two versions (ID@V1 ID@V2)')
    .argument('<from>', 'ID@VERSION')
    .argument('<to>', 'ID@VERSION')
    .action(async (fromText: string, toText: string, _options: unknown, command: Command) => {
      const global = flagsOf(command);
      const [from, to] = [parseVersionRef(fromText, 'FROM'), parseVersionRef(toText, 'TO')];
      const diff = await withLedger(global, io, false, (ledger) => ledger.provenance.diff(from, to));
      print(io, global.json === true ? JSON.stringify(diff) : diffText(diff));
    });
}
