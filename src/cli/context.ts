/**
 * What every command shares: the process streams, the global flags, and opening the ledger they name.
 */
import type { Command } from 'commander';
import { Ledger, type LedgerOptions } from '../ledger.js';
import { parseWaitSeconds, requireSigningKey } from './input.js';

/** What every command may read: the global flags and the process streams. */
export interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

export interface GlobalFlags {
  ledger?: string;
  key?: string;
  wait?: string;
  sync: boolean;
  json?: boolean;
}

const DEFAULT_DIR = '.provledger';

export function ledgerDir(flags: GlobalFlags, io: Io): string {
  return flags.ledger ?? (io.env['PROVLEDGER_DIR'] || DEFAULT_DIR);
}

export async function ledgerOptions(flags: GlobalFlags, io: Io, needKey: boolean): Promise<LedgerOptions> {
  // Reading needs no key: loading one anyway would ask read-only commands for a passphrase.
  const key = needKey ? await requireSigningKey(flags.key, io) : undefined;
  return { key, sync: flags.sync, waitMs: parseWaitSeconds(flags.wait, io.env) };
}

export async function withLedger<T>(flags: GlobalFlags, io: Io, needKey: boolean, use: (ledger: Ledger) => Promise<T>): Promise<T> {
  // Parse everything before opening, so bad input never waits on the lock or touches the store.
  return withLedgerOptions(flags, io, await ledgerOptions(flags, io, needKey), use);
}

/** As withLedger, with options read earlier (a command that asks for the passphrase before long work). */
export async function withLedgerOptions<T>(flags: GlobalFlags, io: Io, options: LedgerOptions, use: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await Ledger.open(ledgerDir(flags, io), options);
  try {
    return await use(ledger);
  } finally {
    await ledger.close();
  }
}

export function print(io: Io, text: string): void {
  io.stdout.write(`${text}\n`);
}

export function flagsOf(command: Command): GlobalFlags {
  return command.optsWithGlobals<GlobalFlags>();
}
