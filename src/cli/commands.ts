/**
 * The commands of SPEC §10: each parses its flags, calls one library function and prints the result.
 * No command decides anything about the ledger; the library does.
 */
import { chmod, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SigningKey } from '../crypto/keys.js';
import { LedgerError } from '../errors.js';
import { Ledger } from '../ledger.js';
import { flagsOf, ledgerDir, ledgerOptions, print, withLedger, type Io } from './context.js';
import { EXIT } from './exit-codes.js';
import { formatEventDetail, formatEventLine, formatVerifyReport, verifyReportJson } from './format.js';
import { parseHeadRef, parseSeq, readJsonArgument, readPassphrase } from './input.js';
import { startProgress } from './progress.js';
import { readCheckpointFile, TRUST_HELP, trustedKeyArgument } from './proof-commands.js';
import type { TrustedKey } from '../merkle/verify-proof.js';

export function registerCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const flags = flagsOf;

  program
    .command('keygen')
    .description('write a new Ed25519 private key (PKCS#8 PEM, mode 0600) and print its public key')
    .requiredOption('--out <file>', 'where to write the private key; an existing file is never overwritten')
    .option('--encrypt', 'protect the key with a passphrase (env PROVLEDGER_PASSPHRASE, or asked twice on a terminal)')
    .action(async (options: { out: string; encrypt?: boolean }, command: Command) => {
      let passphrase: string | undefined;
      if (options.encrypt === true) {
        passphrase = await readPassphrase(io, 'New passphrase: ');
        // Confirm whatever was typed: an empty PROVLEDGER_PASSPHRASE counts as unset (readPassphrase prompts then too).
        if ((io.env['PROVLEDGER_PASSPHRASE'] ?? '') === '' && (await readPassphrase(io, 'Again: ')) !== passphrase) {
          throw new LedgerError('INVALID_ARGUMENT', 'the two passphrases differ; nothing was written');
        }
      }
      const key = SigningKey.generate();
      try {
        await writeFile(options.out, key.toPem(passphrase), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new LedgerError('FILE_EXISTS', `${options.out} already exists; choose another --out path (keys are never overwritten)`);
        throw new LedgerError('INVALID_ARGUMENT', `cannot write ${options.out} (${code ?? 'error'}); check the --out path`, { cause: error });
      }
      await chmod(options.out, 0o600); // mode on create is masked by umask; make the promise explicit
      print(io, flags(command).json === true ? JSON.stringify({ publicKey: key.publicKeyHex, path: options.out }) : key.publicKeyHex);
    });

  program
    .command('init')
    .description('create a ledger whose genesis names a new ledger id and your key as owner')
    .action(async (_options: unknown, command: Command) => {
      const global = flags(command);
      const options = await ledgerOptions(global, io, true);
      const dir = ledgerDir(global, io);
      const ledger = await Ledger.create(dir, { ...options, key: options.key! });
      try {
        const head = (await ledger.head())!;
        if (global.json === true) print(io, JSON.stringify({ ledgerId: ledger.id, dir, owner: ledger.owner, seq: head.seq, hash: head.hash }));
        else print(io, `created ledger ${ledger.id} at ${dir}\nowner   ${ledger.owner}\ngenesis ${head.seq}:${head.hash}`);
      } finally {
        await ledger.close();
      }
    });

  program
    .command('append')
    .description('append one signed event and print its seq and hash')
    .requiredOption('--type <type>', 'event type, e.g. dataset.ingested')
    .requiredOption('--data <json>', 'payload: inline JSON, @file.json, or - for stdin')
    .action(async (options: { type: string; data: string }, command: Command) => {
      const global = flags(command);
      const payload = await readJsonArgument(options.data, '--data', io.stdin);
      const result = await withLedger(global, io, true, (ledger) => ledger.append({ type: options.type, payload }));
      print(io, global.json === true ? JSON.stringify({ seq: result.seq, hash: result.hash }) : `${result.seq} ${result.hash}`);
    });

  program
    .command('log')
    .description('list events (JSON Lines with --json)')
    .option('--from <seq>', 'first seq to list (inclusive)')
    .option('--to <seq>', 'last seq to list (inclusive)')
    .action(async (options: { from?: string; to?: string }, command: Command) => {
      const global = flags(command);
      const range = {
        from: options.from === undefined ? undefined : parseSeq(options.from, '--from'),
        to: options.to === undefined ? undefined : parseSeq(options.to, '--to'),
      };
      if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
        throw new LedgerError('INVALID_ARGUMENT', `--from ${range.from} is after --to ${range.to}; swap them`);
      }
      await withLedger(global, io, false, async (ledger) => {
        for await (const event of ledger.events(range)) print(io, global.json === true ? JSON.stringify(event) : formatEventLine(event));
      });
    });

  program
    .command('head')
    .description('print the last event\'s seq and hash (keep it to check later with verify --expect-head)')
    .action(async (_options: unknown, command: Command) => {
      const global = flags(command);
      const head = await withLedger(global, io, false, (ledger) => ledger.head());
      if (head === null) throw new LedgerError('STORE_CORRUPT', 'the ledger has no readable head; run `provledger verify`');
      print(io, global.json === true ? JSON.stringify({ seq: head.seq, hash: head.hash }) : `${head.seq}:${head.hash}`);
    });

  program
    .command('event')
    .description('show one event')
    .argument('<seq>', 'the event\'s sequence number')
    .action(async (seqText: string, _options: unknown, command: Command) => {
      const global = flags(command);
      const seq = parseSeq(seqText, 'SEQ');
      const event = await withLedger(global, io, false, (ledger) => ledger.get(seq));
      print(io, global.json === true ? JSON.stringify(event) : formatEventDetail(event));
    });

  program
    .command('verify')
    .description('check every event (bytes, link, time, signature, who signed it and whether they were allowed to), the stored head and ledger facts, and every projection; exit 1 if anything is wrong')
    .option('--expect-head <seq:hash>', 'fail unless the ledger still contains this head (from an earlier `head`)')
    .option('--checkpoint <file>', 'fail unless the ledger still contains what this signed checkpoint committed to (from `checkpoint`)')
    .option('--trusted-key <key>', `with --checkpoint, ${TRUST_HELP}; the ledger's own keys are always trusted`, trustedKeyArgument)
    .action(async (options: { expectHead?: string; checkpoint?: string; trustedKey?: TrustedKey[] }, command: Command) => {
      const global = flags(command);
      const expectHead = options.expectHead === undefined ? undefined : parseHeadRef(options.expectHead, '--expect-head');
      if (options.trustedKey !== undefined && options.checkpoint === undefined) throw new LedgerError('USAGE', '--trusted-key applies to --checkpoint; give the checkpoint to check');
      const checkpoint = options.checkpoint === undefined ? undefined : await readCheckpointFile(options.checkpoint, '--checkpoint');
      const progress = startProgress('verify', io.stderr);
      const report = await withLedger(global, io, false, (ledger) =>
        ledger.verify({ expectHead, checkpoint, trustedKeys: options.trustedKey, onProgress: (done, total) => progress.update(done, total) }),
      ).finally(() => progress.stop());
      print(io, global.json === true ? verifyReportJson(report) : formatVerifyReport(report));
      if (!report.ok) setExit(EXIT.VERIFY_FAILED);
    });
}
