/**
 * Turning command-line text into library values: JSON payloads (inline, @file, stdin), key files,
 * numbers and head references. Every failure is a LedgerError naming the flag and what to do.
 */
import { readFile, stat } from 'node:fs/promises';
import { read } from 'read';
import { LedgerError } from '../errors.js';
import { SigningKey } from '../crypto/keys.js';

/** Reads `--data`: inline JSON, `@path` for a file, or `-` for standard input. */
export async function readJsonArgument(value: string, flag: string, stdin: NodeJS.ReadableStream): Promise<unknown> {
  let text: string;
  let source: string;
  if (value === '-') {
    text = await readStream(stdin);
    source = 'standard input';
  } else if (value.startsWith('@')) {
    const path = value.slice(1);
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new LedgerError('INVALID_ARGUMENT', `${flag} ${value}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`, { cause: error });
    }
    source = path;
  } else {
    text = value;
    source = flag;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new LedgerError('INVALID_JSON', `${source === flag ? flag : `${flag} (${source})`} is not valid JSON (${(error as Error).message}); pass a JSON value, @file.json or - for stdin`, { cause: error });
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Streams a command may talk to a person through (prompts and warnings go to stderr, never stdout). */
export interface Terminal {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The passphrase of an encrypted key (SPEC §14.5): env PROVLEDGER_PASSPHRASE, else a silent prompt when stdin
 * and stderr are terminals; otherwise PASSPHRASE_REQUIRED. The passphrase is never echoed or logged.
 */
export async function readPassphrase(terminal: Terminal, prompt: string): Promise<string> {
  const fromEnv = terminal.env['PROVLEDGER_PASSPHRASE'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (terminal.stdin.isTTY !== true || terminal.stderr.isTTY !== true) {
    throw new LedgerError('PASSPHRASE_REQUIRED', 'the key is passphrase-protected; set PROVLEDGER_PASSPHRASE or run in a terminal to be asked');
  }
  const answer = await read({ prompt, silent: true, replace: '', input: terminal.stdin, output: terminal.stderr });
  if (answer === '') throw new LedgerError('PASSPHRASE_REQUIRED', 'an empty passphrase was given; nothing was done');
  return String(answer);
}

/** Loads the signing key named by --key or PROVLEDGER_KEY, asking for its passphrase if it is encrypted. */
export async function loadSigningKey(path: string | undefined, terminal: Terminal): Promise<SigningKey | undefined> {
  const keyPath = path ?? terminal.env['PROVLEDGER_KEY'];
  if (keyPath === undefined || keyPath === '') return undefined;
  let pem: string;
  let mode: number;
  try {
    pem = await readFile(keyPath, 'utf8');
    mode = (await stat(keyPath)).mode;
  } catch (error) {
    throw new LedgerError('KEY_INVALID', `cannot read the key file ${keyPath} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check --key or PROVLEDGER_KEY`, { cause: error });
  }
  const key = SigningKey.isEncryptedPem(pem) ? SigningKey.fromPem(pem, await readPassphrase(terminal, `Passphrase for ${keyPath}: `)) : SigningKey.fromPem(pem);
  // SPEC §14.5: a private key others can read is a leak waiting to happen; say so (once the key is known to be
  // one, so a refused command still prints a single line), but do not refuse.
  if ((mode & 0o077) !== 0) terminal.stderr.write(`provledger: warning: the key file ${keyPath} is readable by group or others; run \`chmod 600 ${keyPath}\`\n`);
  return key;
}

export async function requireSigningKey(path: string | undefined, terminal: Terminal): Promise<SigningKey> {
  const key = await loadSigningKey(path, terminal);
  if (key === undefined) throw new LedgerError('USAGE', 'this command needs a signing key; pass --key FILE or set PROVLEDGER_KEY');
  return key;
}

/** Parses a non-negative integer flag value. */
export function parseSeq(value: string, flag: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new LedgerError('INVALID_ARGUMENT', `${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Parses `SEQ:HASH` as printed by `provledger head`. */
export function parseHeadRef(value: string, flag: string): { seq: number; hash: string } {
  const match = /^(0|[1-9][0-9]*):([0-9a-fA-F]{64})$/.exec(value);
  if (match === null || !Number.isSafeInteger(Number(match[1]))) {
    throw new LedgerError('INVALID_ARGUMENT', `${flag} must be SEQ:HASH as printed by \`provledger head\` (e.g. 12:9f86…, 64 hex characters), got ${JSON.stringify(value)}`);
  }
  return { seq: Number(match[1]), hash: match[2]!.toLowerCase() };
}

/** Parses --wait in seconds into milliseconds. */
export function parseWaitSeconds(value: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const raw = value ?? env['PROVLEDGER_WAIT'];
  if (raw === undefined || raw === '') return undefined;
  const seconds = Number(raw);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || !Number.isFinite(seconds) || seconds > 86_400) {
    throw new LedgerError('INVALID_ARGUMENT', `--wait must be a number of seconds from 0 to 86400, got ${JSON.stringify(raw)}`);
  }
  return Math.round(seconds * 1000);
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses `--at`/`--to`: a seq (digits) or an ISO 8601 time with a zone (`2026-03-01T12:00:00Z`,
 * `...+02:00`); a bare date means 00:00 UTC that day (SPEC §11.5).
 */
export function parsePoint(value: string, flag: string): { seq: number } | { timeMs: number } {
  if (/^\d+$/.test(value)) return { seq: parseSeq(value, flag) };
  const timeMs = ISO_TIME.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (!Number.isSafeInteger(timeMs)) {
    throw new LedgerError('INVALID_ARGUMENT', `${flag} must be a seq or an ISO 8601 time with a zone such as 2026-03-01T12:00:00Z, got ${JSON.stringify(value)}`);
  }
  return { timeMs };
}

/** Parses a positive version or base number. */
export function parseVersion(value: string, flag: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(value) || Number(value) > 0xffff_ffff) throw new LedgerError('INVALID_ARGUMENT', `${flag} must be a version number from 1, got ${JSON.stringify(value)}`);
  return Number(value);
}
