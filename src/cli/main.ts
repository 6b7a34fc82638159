/**
 * The command-line entry: builds the commander program, runs one command, and maps every failure to one
 * line on stderr and an exit code (SPEC §10.2). Nothing else in the CLI writes to stderr or picks an exit code.
 */
import { Command, CommanderError } from 'commander';
import { isLedgerError } from '../errors.js';
import { registerCommands } from './commands.js';
import { registerRecordCommands } from './record-commands.js';
import { registerKeyCommands } from './key-commands.js';
import { registerProofCommands } from './proof-commands.js';
import { registerLinkCommands } from './link-commands.js';
import { registerMlCommands } from './ml-commands.js';
import { registerProvenanceCommands } from './provenance-commands.js';
import { registerSampleCommands } from './sample-commands.js';
import { registerExchangeCommands } from './exchange-commands.js';
import type { Io } from './context.js';
import { EXIT, EXIT_CODE_OF } from './exit-codes.js';

const VERSION = '0.1.0';

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  // Answered here rather than by commander: its program-level --version would be taken anywhere on the
  // line and shadow `record show --version N`.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.OK;
  }
  let exitCode: number = EXIT.OK;
  const program = new Command('provledger')
    .description('A tamper-evident provenance ledger for machine learning')
    .addHelpText('after', '\nRun `provledger --version` for the version, `provledger COMMAND --help` for a command.')
    .option('--ledger <dir>', 'ledger directory (env PROVLEDGER_DIR, default ./.provledger)')
    .option('--key <file>', 'private key PEM for signing (env PROVLEDGER_KEY)')
    .option('--wait <seconds>', 'how long to wait for another process holding the ledger (env PROVLEDGER_WAIT, default 30)')
    .option('--no-sync', 'do not fsync each commit (faster; an OS crash may lose the last appends)')
    .option('--json', 'machine-readable output')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's own parse errors become our one-line format; its help/version text goes to stdout.
      outputError: (text) => io.stderr.write(`provledger: ${text.trim().replace(/^error: /, '').replaceAll('\n', ' ')}; see \`provledger --help\` [USAGE]\n`),
    });
  registerCommands(program, io, (code) => (exitCode = code));
  registerRecordCommands(program, io);
  registerKeyCommands(program, io, (code) => (exitCode = code));
  registerProofCommands(program, io, (code) => (exitCode = code));
  registerLinkCommands(program, io);
  registerMlCommands(program, io);
  registerProvenanceCommands(program, io, (code) => (exitCode = code));
  registerSampleCommands(program, io, (code) => (exitCode = code));
  registerExchangeCommands(program, io);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.OK;
      if (error.code === 'commander.executeSubCommandAsync') return EXIT.OK;
      return EXIT.BAD_INPUT;
    }
    if (isLedgerError(error)) {
      io.stderr.write(`provledger: ${error.message} [${error.code}]\n`);
      if (debug) io.stderr.write(`${error.stack ?? ''}\n${error.cause instanceof Error ? `cause: ${error.cause.stack ?? ''}\n` : ''}`);
      return EXIT_CODE_OF[error.code];
    }
    io.stderr.write(`provledger: internal error: ${(error as Error)?.message ?? String(error)}; please report it (run with --debug for a stack trace) [INTERNAL]\n`);
    if (debug) io.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return EXIT.INTERNAL;
  }
}
