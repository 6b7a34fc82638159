/**
 * `export` and `import` (SPEC §25.5): each parses its flags before any ledger is opened, calls one library
 * function and writes the result. Files named by --out appear whole or not at all, and never replace a file.
 */
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { assertRecordId } from '../domain/records.js';
import { LedgerError } from '../errors.js';
import { Ledger } from '../ledger.js';
import { flagsOf, ledgerDir, print, withLedger, type Io } from './context.js';
import { parseHeadRef, parsePoint, parseSeq } from './input.js';
import { assertFreeOut } from './proof-commands.js';
import { startProgress } from './progress.js';

const FORMATS = ['jsonl', 'prov-json'] as const;

interface ExportFlags {
  format?: string;
  record?: string;
  from?: string;
  to?: string;
  at?: string;
  out?: string;
}

export function registerExchangeCommands(program: Command, io: Io): void {
  program
    .command('export')
    .description('write the events as JSONL (one signed event a line, bytes in hex; `import` rebuilds the ledger from it) or the lineage graph as W3C PROV-JSON')
    .option('--format <format>', 'jsonl (default) or prov-json')
    .option('--record <id>', 'only this record: its events (jsonl, for reading; cannot be imported) or its lineage up and down (prov-json)')
    .option('--from <seq>', 'jsonl: first seq to export (a file not from 0 cannot be imported)')
    .option('--to <seq>', 'jsonl: last seq to export (default: the head)')
    .option('--at <seq|time>', 'prov-json: the graph as of this seq or ISO 8601 time')
    .option('--out <file>', 'write here (whole or not at all, never over an existing file) instead of stdout')
    .action(async (options: ExportFlags, command: Command) => {
      const global = flagsOf(command);
      const format = options.format ?? 'jsonl';
      if (!(FORMATS as readonly string[]).includes(format)) throw new LedgerError('INVALID_ARGUMENT', `--format must be jsonl or prov-json, got ${JSON.stringify(format)}`);
      if (format === 'jsonl' && options.at !== undefined) throw new LedgerError('USAGE', '--at applies to --format prov-json; a JSONL export takes --from and --to');
      if (format === 'prov-json' && (options.from !== undefined || options.to !== undefined)) throw new LedgerError('USAGE', '--from and --to apply to --format jsonl; a PROV-JSON export takes --at');
      if (options.record !== undefined) assertRecordId(options.record);
      const from = options.from === undefined ? undefined : parseSeq(options.from, '--from');
      const to = options.to === undefined ? undefined : parseSeq(options.to, '--to');
      if (from !== undefined && to !== undefined && from > to) throw new LedgerError('INVALID_ARGUMENT', `--from ${from} is after --to ${to}; swap them`);
      const at = options.at === undefined ? undefined : parsePoint(options.at, '--at');
      await assertFreeOut(options.out);
      const output = options.out === undefined ? stdoutSink(io) : await fileSink(options.out, global.sync);
      try {
        await withLedger(global, io, false, async (ledger) => {
          if (format === 'prov-json') return output.write(`${JSON.stringify(await ledger.exportProvJson({ record: options.record, at }), null, 2)}\n`);
          for await (const line of ledger.exportJsonl({ from, to, record: options.record })) await output.write(line);
        });
        await output.commit();
      } finally {
        await output.abandon();
      }
    });

  program
    .command('import')
    .description('build a new ledger (--ledger, which must not exist or be empty) from a JSONL export, verifying every event; nothing appears unless all of it verifies')
    .argument('<file>', 'a JSONL export written by `provledger export`, or - for standard input')
    .option('--expect-head <seq:hash>', 'fail unless the import ends at this head (from `provledger head` on the source)')
    .action(async (file: string, options: { expectHead?: string }, command: Command) => {
      const global = flagsOf(command);
      const expectHead = options.expectHead === undefined ? undefined : parseHeadRef(options.expectHead, '--expect-head');
      const dir = ledgerDir(global, io);
      // One bar over the three passes (read, rebuild, verify), on stderr and only on a terminal.
      const progress = startProgress('import', io.stderr);
      const pass = { read: 0, rebuild: 1, verify: 2 } as const;
      const result = await Ledger.import(dir, file === '-' ? io.stdin : file, {
        sync: global.sync,
        expectHead,
        onProgress: (phase, done, total) => progress.update(pass[phase] * total + done, 3 * total),
      }).finally(() => progress.stop());
      if (global.json === true) print(io, JSON.stringify({ seq: result.seq, hash: result.hash, events: result.events }));
      else {
        print(io, `imported ${result.events} events into ${dir}, every one verified\nledger  ${result.ledgerId}\nowner   ${result.owner}\nhead    ${result.seq}:${result.hash}`);
        // The file vouches for itself: anyone can sign a genesis naming any ledger id (SPEC §25.4).
        if (expectHead === undefined) print(io, 'compare the owner and head with ones you trust, or import with --expect-head SEQ:HASH');
      }
    });
}

/** Where an export goes: `write` waits when the reader is slower, so memory stays bounded. */
interface Sink {
  write(text: string): Promise<void>;
  /** Makes the output final (for a file: moves it to its name). */
  commit(): Promise<void>;
  /** Removes what was written unless committed; safe to call after commit. */
  abandon(): Promise<void>;
}

function stdoutSink(io: Io): Sink {
  return {
    write: (text) => (io.stdout.write(text) ? Promise.resolve() : new Promise((resolve) => io.stdout.once('drain', resolve))),
    commit: async () => undefined,
    abandon: async () => undefined,
  };
}

/**
 * A file written beside `out` under a hidden name, fsynced, then linked to `out`: link(2) fails if `out` exists, so
 * a file that appeared meanwhile is never replaced, and a reader never sees half an export.
 */
async function fileSink(out: string, sync: boolean): Promise<Sink> {
  const temp = join(dirname(out), `.${basename(out)}.${Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('')}.tmp`);
  let handle;
  try {
    handle = await open(temp, 'wx', 0o644);
  } catch (error) {
    throw new LedgerError('INVALID_ARGUMENT', `cannot write beside ${out} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the --out path`, { cause: error });
  }
  const file = handle;
  let done = false;
  return {
    write: async (text) => {
      await file.write(text);
    },
    commit: async () => {
      if (sync) await file.sync();
      await file.close();
      try {
        await link(temp, out);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new LedgerError('FILE_EXISTS', `${out} appeared while exporting; nothing was written to it`);
        throw new LedgerError('INVALID_ARGUMENT', `cannot write ${out} (${code ?? 'error'}); check the --out path`, { cause: error });
      }
      done = true;
      // `out` is complete and in place; a leftover hidden name is untidy, not a failed export.
      await unlink(temp).catch(() => undefined);
    },
    abandon: async () => {
      if (done) return;
      await file.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    },
  };
}
