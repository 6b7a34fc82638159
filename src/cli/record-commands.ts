/**
 * The record commands of SPEC §13: `record create|update|delete|show|history|list`, `replay` and `rebuild`.
 * Each parses its flags, calls one library function and prints the result.
 */
import type { Command } from 'commander';
import { LedgerError } from '../errors.js';
import type { RecordHistoryEntry, RecordVersion } from '../ledger.js';
import { flagsOf, print, withLedger, type Io } from './context.js';
import { parsePoint, parseVersion, readJsonArgument } from './input.js';
import { startProgress } from './progress.js';

function describeWrite(verb: string, result: { id: string; version: number; seq: number; hash: string }): string {
  return `${verb} ${result.id} version ${result.version} (seq ${result.seq}, hash ${result.hash})`;
}

function writeJson(result: { id: string; version: number; seq: number; hash: string }): string {
  return JSON.stringify({ id: result.id, version: result.version, seq: result.seq, hash: result.hash });
}

function versionLine(record: RecordVersion): string {
  return `${record.kind}\t${record.id}\tv${record.version}\tseq ${record.seq}\t${new Date(record.timeMs).toISOString()}${record.deleted ? '\tdeleted' : `\t${JSON.stringify(record.data)}`}`;
}

function versionDetail(record: RecordVersion): string {
  return [
    `record   ${record.id} (${record.kind})`,
    `version  ${record.version}${record.deleted ? ' (deleted)' : ''}`,
    `written  seq ${record.seq}, ${new Date(record.timeMs).toISOString()}, by ${record.author}`,
    `event    ${record.hash}`,
    ...(record.deleted ? [] : [`data     ${JSON.stringify(record.data, null, 2).replaceAll('\n', '\n         ')}`]),
  ].join('\n');
}

function historyLine(entry: RecordHistoryEntry): string {
  const changes = entry.changes.map((c) => `${c.op === 'add' ? '+' : c.op === 'remove' ? '-' : '~'}${c.path || '/'}`).join(' ');
  return `v${entry.version}\tseq ${entry.seq}\t${new Date(entry.timeMs).toISOString()}\t${entry.author.slice(0, 16)}\t${entry.deleted ? 'deleted' : changes || '(no change)'}`;
}

export function registerRecordCommands(program: Command, io: Io): void {
  const record = program.command('record').description('updatable records whose every version stays readable');

  record
    .command('create')
    .description('create a record at version 1 (prints its id)')
    .argument('<kind>', 'record kind, e.g. dataset, model, run')
    .option('--id <id>', 'record id (generated when omitted)')
    .requiredOption('--data <json>', 'body: a JSON object inline, @file.json, or - for stdin')
    .action(async (kind: string, options: { id?: string; data: string }, command: Command) => {
      const global = flagsOf(command);
      const data = await readJsonArgument(options.data, '--data', io.stdin);
      const result = await withLedger(global, io, true, (ledger) => ledger.records.create(kind, data, { id: options.id }));
      print(io, global.json === true ? writeJson(result) : describeWrite('created', result));
    });

  record
    .command('update')
    .description('write the next version: the full new body (--data) or an RFC 7396 merge patch (--patch)')
    .argument('<id>', 'record id')
    .option('--data <json>', 'the full new body')
    .option('--patch <json>', 'a merge patch applied to the current body')
    .option('--base <version>', 'refuse (exit 4) unless the record is at this version')
    .action(async (id: string, options: { data?: string; patch?: string; base?: string }, command: Command) => {
      const global = flagsOf(command);
      if ((options.data === undefined) === (options.patch === undefined)) throw new LedgerError('USAGE', 'record update needs exactly one of --data or --patch');
      const base = options.base === undefined ? undefined : parseVersion(options.base, '--base');
      const body = await readJsonArgument((options.data ?? options.patch)!, options.data === undefined ? '--patch' : '--data', io.stdin);
      const result = await withLedger(global, io, true, (ledger) =>
        options.data === undefined ? ledger.records.patch(id, body, { base }) : ledger.records.update(id, body, { base }),
      );
      print(io, global.json === true ? writeJson(result) : describeWrite('updated', result));
    });

  record
    .command('delete')
    .description('write a tombstone version; every earlier version stays readable')
    .argument('<id>', 'record id')
    .option('--base <version>', 'refuse (exit 4) unless the record is at this version')
    .action(async (id: string, options: { base?: string }, command: Command) => {
      const global = flagsOf(command);
      const base = options.base === undefined ? undefined : parseVersion(options.base, '--base');
      const result = await withLedger(global, io, true, (ledger) => ledger.records.delete(id, { base }));
      print(io, global.json === true ? writeJson(result) : describeWrite('deleted', result));
    });

  record
    .command('show')
    .description('a record now, at a version, or as of a seq or time')
    .argument('<id>', 'record id')
    .option('--version <n>', 'this version (tombstones included)')
    .option('--at <seq|time>', 'the version current at this seq or ISO 8601 time')
    .action(async (id: string, options: { version?: string; at?: string }, command: Command) => {
      const global = flagsOf(command);
      if (options.version !== undefined && options.at !== undefined) throw new LedgerError('USAGE', 'give --version or --at, not both');
      const read = {
        version: options.version === undefined ? undefined : parseVersion(options.version, '--version'),
        at: options.at === undefined ? undefined : parsePoint(options.at, '--at'),
      };
      const found = await withLedger(global, io, false, (ledger) => ledger.records.get(id, read));
      print(io, global.json === true ? JSON.stringify(found) : versionDetail(found));
    });

  record
    .command('history')
    .description('every version with its seq, time, author and what changed (JSON Lines with --json)')
    .argument('<id>', 'record id')
    .action(async (id: string, _options: unknown, command: Command) => {
      const global = flagsOf(command);
      await withLedger(global, io, false, async (ledger) => {
        for await (const entry of ledger.records.history(id)) print(io, global.json === true ? JSON.stringify(entry) : historyLine(entry));
      });
    });

  record
    .command('list')
    .description('the live records now or as of a seq or time (JSON Lines with --json)')
    .option('--kind <kind>', 'only records of this kind')
    .option('--at <seq|time>', 'as of this seq or ISO 8601 time')
    .action(async (options: { kind?: string; at?: string }, command: Command) => {
      const global = flagsOf(command);
      const at = options.at === undefined ? undefined : parsePoint(options.at, '--at');
      await withLedger(global, io, false, async (ledger) => {
        for await (const found of ledger.records.list({ kind: options.kind, at })) print(io, global.json === true ? JSON.stringify(found) : versionLine(found));
      });
    });

  program
    .command('replay')
    .description('the complete state of all records as of a seq or time, tombstones included')
    .requiredOption('--to <seq|time>', 'the point to replay to')
    .action(async (options: { to: string }, command: Command) => {
      const global = flagsOf(command);
      const to = parsePoint(options.to, '--to');
      await withLedger(global, io, false, async (ledger) => {
        const { seq, records } = await ledger.replay({ to });
        const event = await ledger.get(seq);
        if (global.json === true) {
          // Streamed as one JSON document, so memory does not grow with the number of records.
          io.stdout.write(`{"seq":${seq},"hash":"${event.hash}","timeMs":${event.timeMs},"records":[`);
          let first = true;
          for await (const found of records) {
            io.stdout.write(`${first ? '' : ','}\n${JSON.stringify(found)}`);
            first = false;
          }
          io.stdout.write('\n]}\n');
        } else {
          print(io, `state at seq ${seq} (${new Date(event.timeMs).toISOString()}, event ${event.hash})`);
          for await (const found of records) print(io, versionLine(found));
        }
      });
    });

  program
    .command('rebuild')
    .description('drop every projection and rebuild it from the log')
    .action(async (_options: unknown, command: Command) => {
      const global = flagsOf(command);
      const progress = startProgress('rebuild', io.stderr);
      const result = await withLedger(global, io, false, (ledger) => ledger.rebuild({ onProgress: (done, total) => progress.update(done, total) })).finally(() =>
        progress.stop(),
      );
      print(io, global.json === true ? JSON.stringify({ rebuilt: true, events: result.events }) : `rebuilt the projections from ${result.events} events`);
    });
}
