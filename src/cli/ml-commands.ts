/**
 * The ML provenance commands of SPEC §22: `artifact add`, `run start`, `run finish`. Each parses its flags,
 * calls one library function and prints the result.
 */
import type { Command } from 'commander';
import { digestPaths } from '../artifacts/digest.js';
import { USE_ROLES, type UseRole } from '../domain/links.js';
import { RUN_KINDS } from '../domain/ml.js';
import { assertRecordId, ID_PATTERN } from '../domain/records.js';
import { parseLicense } from '../domain/spdx.js';
import { LedgerError } from '../errors.js';
import type { JsonValue } from '../event/event.js';
import { ARTIFACT_KINDS, assertManifestFits, type ArtifactKind } from '../ml.js';
import { flagsOf, ledgerOptions, print, withLedger, withLedgerOptions, type Io } from './context.js';
import { startProgress } from './progress.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `key=value`: the value is JSON when it parses as JSON (3e-4, true, [1,2]), text otherwise (adam). */
export function parseParam(text: string, flag: string): [string, JsonValue] {
  const at = text.indexOf('=');
  const key = at < 0 ? '' : text.slice(0, at);
  if (at <= 0 || key.length > 256) throw new LedgerError('INVALID_ARGUMENT', `${flag} must be KEY=VALUE (e.g. lr=3e-4), got ${JSON.stringify(text.slice(0, 80))}`);
  const raw = text.slice(at + 1);
  try {
    return [key, JSON.parse(raw) as JsonValue];
  } catch {
    return [key, raw];
  }
}

function parseMetric(text: string): [string, number] {
  const [key, value] = parseParam(text, '--metric');
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new LedgerError('INVALID_ARGUMENT', `--metric ${key} must be a finite number (e.g. top1=0.94), got ${JSON.stringify(value)}`);
  return [key, value];
}

/**
 * `ID[:ROLE[:SPLIT]]`. Ids may contain `:` themselves, so the role is found from the right: the last part when it
 * is a role, or the one before the last (the last being the split); everything before it is the id.
 */
export function parseInput(text: string): { id: string; role?: UseRole; split?: string } {
  const parts = text.split(':');
  const isRole = (part: string | undefined) => part !== undefined && (USE_ROLES as readonly string[]).includes(part);
  let id = text;
  let role: string | undefined;
  let split: string | undefined;
  if (parts.length >= 3 && isRole(parts[parts.length - 2])) {
    [role, split] = parts.slice(-2);
    id = parts.slice(0, -2).join(':');
  } else if (parts.length >= 2 && isRole(parts[parts.length - 1])) {
    role = parts[parts.length - 1];
    id = parts.slice(0, -1).join(':');
  }
  if (id === '') throw new LedgerError('INVALID_ARGUMENT', `--input must be ID[:ROLE[:SPLIT]] with ROLE one of ${USE_ROLES.join(', ')}, got ${JSON.stringify(text.slice(0, 80))}`);
  return { id, ...(role === undefined ? {} : { role: role as UseRole }), ...(split === undefined ? {} : { split }) };
}

function toObject(entries: [string, JsonValue][], flag: string): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of entries) {
    if (Object.hasOwn(out, key)) throw new LedgerError('INVALID_ARGUMENT', `${flag} ${key} is given twice`);
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function registerMlCommands(program: Command, io: Io): void {
  const artifact = program.command('artifact').description('datasets, models, software, configs and evaluations, recorded by their content');
  artifact
    .command('add')
    .description('hash files or directories and record them: a new record, a new version when the content changed, or nothing when it did not')
    .argument('<paths...>', 'files or directories (a directory is hashed as a sorted manifest of its files)')
    .requiredOption('--kind <kind>', ARTIFACT_KINDS.join(' | '))
    .requiredOption('--name <name>', 'a name for people; also the record id unless --id is given')
    .option('--id <id>', 'record id (default: the name)')
    .option('--license <spdx>', 'SPDX licence expression (e.g. "CC-BY-4.0", "MIT OR Apache-2.0"), NONE, NOASSERTION or unknown')
    .action(async (paths: string[], options: { kind: string; name: string; id?: string; license?: string }, command: Command) => {
      const global = flagsOf(command);
      if (!(ARTIFACT_KINDS as readonly string[]).includes(options.kind)) throw new LedgerError('INVALID_KIND', `--kind must be one of ${ARTIFACT_KINDS.join(', ')}, got ${JSON.stringify(options.kind)}`);
      // Everything that can be judged from the flags is, before a long hash and before the ledger is opened.
      if (options.license !== undefined) parseLicense(options.license);
      if (options.id === undefined && !ID_PATTERN.test(options.name)) {
        throw new LedgerError('INVALID_RECORD_ID', `the name ${JSON.stringify(options.name)} is not a valid record id; give one with --id (1 to 128 characters from A-Z a-z 0-9 . _ : -)`);
      }
      if (options.id !== undefined) assertRecordId(options.id);
      // The key (and its passphrase) first, then the hashing, which may take minutes; then the ledger.
      const ready = await ledgerOptions(global, io, true);
      const progress = startProgress('hash', io.stderr, 'bytes');
      const content = await digestPaths(paths, {
        // A manifest that could never fit in one event is refused after the walk, before any byte is hashed.
        onPlan: (files) => assertManifestFits({ kind: options.kind as ArtifactKind, name: options.name, id: options.id, license: options.license }, files),
        onProgress: (done: number, total: number) => progress.update(done, total),
      }).finally(() => progress.stop());
      const result = await withLedgerOptions(global, io, ready, (ledger) => ledger.artifacts.add({ kind: options.kind as ArtifactKind, name: options.name, id: options.id, license: options.license, content }));
      if (global.json === true) print(io, JSON.stringify({ ...result, sha256: content.sha256, size: content.size, files: content.files }));
      else if (result.unchanged) print(io, `unchanged: ${result.id} version ${result.version} already has this content (sha256 ${content.sha256}); nothing written`);
      else print(io, `${result.version === 1 ? 'created' : 'new version of'} ${result.id}: version ${result.version}, sha256 ${content.sha256}, ${content.files} file(s), ${content.size} bytes (seq ${result.seq})`);
    });

  const run = program.command('run').description('runs: train, evaluate, preprocess, ingest');
  run
    .command('start')
    .description('record a run as RUNNING, with a `used` link to each input, in one atomic write')
    .requiredOption('--kind <kind>', RUN_KINDS.join(' | '))
    .requiredOption('--name <name>', 'a name for people')
    .option('--id <id>', 'run id (generated when omitted)')
    .option('--input <id[:role[:split]]>', `an input the run reads; role: ${USE_ROLES.join(', ')} (repeatable)`, collect)
    .option('--param <key=value>', 'a parameter; JSON values (3e-4, true) stay typed (repeatable)', collect)
    .action(async (options: { kind: string; name: string; id?: string; input?: string[]; param?: string[] }, command: Command) => {
      const global = flagsOf(command);
      if (!(RUN_KINDS as readonly string[]).includes(options.kind)) throw new LedgerError('INVALID_ARGUMENT', `--kind must be one of ${RUN_KINDS.join(', ')}, got ${JSON.stringify(options.kind)}`);
      const inputs = (options.input ?? []).map(parseInput);
      const parameters = options.param === undefined ? undefined : toObject(options.param.map((p) => parseParam(p, '--param')), '--param');
      const result = await withLedger(global, io, true, (ledger) => ledger.runs.start({ kind: options.kind as (typeof RUN_KINDS)[number], name: options.name, id: options.id, inputs, parameters }));
      print(io, global.json === true ? JSON.stringify(result) : `started ${result.id} (seq ${result.seq})`);
    });

  run
    .command('finish')
    .description('record a run as COMPLETED or FAILED, with its metrics and a `generated` link to each output; a run finishes once')
    .argument('<run>', 'run id')
    .requiredOption('--status <status>', 'completed | failed')
    .option('--output <id>', 'a record the run produced (repeatable)', collect)
    .option('--metric <key=number>', 'a metric, e.g. top1=0.94 (repeatable)', collect)
    .action(async (id: string, options: { status: string; output?: string[]; metric?: string[] }, command: Command) => {
      const global = flagsOf(command);
      if (options.status !== 'completed' && options.status !== 'failed') throw new LedgerError('INVALID_ARGUMENT', `--status must be completed or failed, got ${JSON.stringify(options.status)}`);
      const metrics = options.metric === undefined ? undefined : (toObject(options.metric.map(parseMetric), '--metric') as { [key: string]: number });
      const result = await withLedger(global, io, true, (ledger) => ledger.runs.finish(id, { status: options.status as 'completed' | 'failed', outputs: options.output, metrics }));
      print(io, global.json === true ? JSON.stringify(result) : `finished ${result.id}: version ${result.version} (seq ${result.seq})`);
    });
}
