/**
 * The link and lineage commands of SPEC §20: `link add|remove|list` and `lineage`. Each parses its flags, calls
 * one library function and prints the result.
 */
import type { Command } from 'commander';
import { LedgerError } from '../errors.js';
import type { Link, LineageEdge } from '../links.js';
import { flagsOf, print, withLedger, type Io } from './context.js';
import { parsePoint, parseSeq } from './input.js';
import { lineageDot, lineageJson, lineageMermaid, lineageText } from './lineage-format.js';

interface LinkFlags {
  rel: string;
  role?: string;
  split?: string;
}

function linkOf(from: string, to: string, options: LinkFlags): Link {
  return { from, to, rel: options.rel as Link['rel'], ...(options.role === undefined ? {} : { role: options.role as Link['role'] }), ...(options.split === undefined ? {} : { split: options.split }) };
}

function edgeLine(edge: LineageEdge): string {
  const extra = [edge.role, edge.split].filter((x) => x !== undefined).join(', ');
  return `${edge.from}\t${edge.rel}${extra === '' ? '' : ` (${extra})`}\t${edge.to}\tseq ${edge.addedSeq}`;
}

function direction(options: { up?: boolean; down?: boolean }, fallback: 'up' | 'down' | 'both'): 'up' | 'down' | 'both' {
  if (options.up === true && options.down === true) throw new LedgerError('USAGE', 'give --up or --down, not both');
  return options.up === true ? 'up' : options.down === true ? 'down' : fallback;
}

export function registerLinkCommands(program: Command, io: Io): void {
  const link = program.command('link').description('links between records: used, generated, derivedFrom, memberOf, evaluates, dependsOn, inContext');
  const addLinkFlags = (command: Command) =>
    command
      .argument('<from>', 'the first record (a run for used/generated, an evaluation for evaluates)')
      .argument('<to>', 'the second record (a context for inContext)')
      .requiredOption('--rel <relation>', 'used | generated | derivedFrom | memberOf | evaluates | dependsOn | inContext')
      .option('--role <role>', 'for used: train | validation | test | eval | base-model | code | config | other')
      .option('--split <label>', 'for used: the part of the input read, e.g. train or 2026-11');

  addLinkFlags(link.command('add').description('put a link in place (refused if it would close a cycle)')).action(async (from: string, to: string, options: LinkFlags, command: Command) => {
    const global = flagsOf(command);
    const result = await withLedger(global, io, true, (ledger) => ledger.links.add(linkOf(from, to, options)));
    print(io, global.json === true ? JSON.stringify({ seq: result.seq, hash: result.hash }) : `linked (seq ${result.seq}, hash ${result.hash})`);
  });

  addLinkFlags(link.command('remove').description('remove a link (earlier points in time still show it)')).action(async (from: string, to: string, options: LinkFlags, command: Command) => {
    const global = flagsOf(command);
    const result = await withLedger(global, io, true, (ledger) => ledger.links.remove(linkOf(from, to, options)));
    print(io, global.json === true ? JSON.stringify({ seq: result.seq, hash: result.hash }) : `removed (seq ${result.seq}, hash ${result.hash})`);
  });

  link
    .command('list')
    .description("a record's links as of now or a past point")
    .argument('<id>', 'record id')
    .option('--up', 'only what it depends on')
    .option('--down', 'only what depends on it')
    .option('--at <point>', 'as of a seq or an ISO 8601 time')
    .action(async (id: string, options: { up?: boolean; down?: boolean; at?: string }, command: Command) => {
      const global = flagsOf(command);
      const at = options.at === undefined ? undefined : parsePoint(options.at, '--at');
      const which = direction(options, 'both');
      const edges = await withLedger(global, io, false, (ledger) => ledger.links.list(id, { direction: which, at }));
      for (const edge of edges) print(io, global.json === true ? JSON.stringify(edge) : edgeLine(edge));
    });

  program
    .command('lineage')
    .description('walk the lineage of a record: --up for what it came from (default), --down for what came from it')
    .argument('<id>', 'record id')
    .option('--up', 'what the record depends on: its inputs, and theirs (default)')
    .option('--down', 'what depends on the record')
    .option('--depth <n>', 'how many links away to walk (default: all)')
    .option('--kind <kind>', 'list only records of this kind, e.g. dataset (the walk still passes through others)')
    .option('--at <point>', 'as of a seq or an ISO 8601 time')
    .option('--dot', 'print a Graphviz DOT graph')
    .option('--mermaid', 'print a Mermaid flowchart')
    .action(async (id: string, options: { up?: boolean; down?: boolean; depth?: string; kind?: string; at?: string; dot?: boolean; mermaid?: boolean }, command: Command) => {
      const global = flagsOf(command);
      const formats = [global.json === true, options.dot === true, options.mermaid === true].filter(Boolean).length;
      if (formats > 1) throw new LedgerError('USAGE', 'choose one of --json, --dot and --mermaid');
      const walk = direction(options, 'up') as 'up' | 'down';
      const depth = options.depth === undefined ? undefined : parseSeq(options.depth, '--depth');
      const at = options.at === undefined ? undefined : parsePoint(options.at, '--at');
      const lineage = await withLedger(global, io, false, (ledger) => ledger.links.lineage(id, { direction: walk, depth, kind: options.kind, at }));
      print(io, global.json === true ? lineageJson(lineage) : options.dot === true ? lineageDot(lineage) : options.mermaid === true ? lineageMermaid(lineage) : lineageText(lineage));
    });
}
