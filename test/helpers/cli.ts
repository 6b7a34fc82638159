/**
 * Shared helpers for the process-level tests (SPEC §10): spawn the BUILT command (`bin/provledger.js`, which
 * loads `dist/cli/cli.js`) or a child script, collect its output, and take snapshots of a ledger through the
 * CLI so a test can say "nothing changed". Every helper is async: several processes often run at once, so
 * nothing here may block the event loop (no spawnSync).
 *
 * These tests need `npm run build` first; `assertBuilt` says so in one clear line instead of 100 odd failures.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type ExpectStatic } from 'vitest';
import { Ledger, SigningKey } from '../../dist/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL('../../bin/provledger.js', import.meta.url));
export const CHILDREN_DIR = fileURLToPath(new URL('../children/', import.meta.url));

/** A hex SHA-256 event hash or an Ed25519 public key: 64 lower-case hex characters. */
export const HEX64 = /^[0-9a-f]{64}$/;

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'cli.js')) || !existsSync(join(REPO_ROOT, 'dist', 'index.js'))) {
    throw new Error('the process-level tests run the built CLI and library; run `npm run build` first');
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  /** Added to the child's environment (after PROVLEDGER_* of the parent are removed). */
  readonly env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed (stdin is always closed, so `--data -` never hangs). */
  readonly input?: string | Uint8Array;
  readonly cwd?: string;
  /** Kill the child with SIGKILL after this long (default 30 s) so a hang fails the test instead of the run. */
  readonly timeoutMs?: number;
  /** Leave stdin open (for children the test talks to); `input` is then ignored. */
  readonly keepStdin?: boolean;
}

/** The parent's environment without any PROVLEDGER_* variable, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PROVLEDGER_')) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `node <script> ...args` with piped stdio and a clean environment. */
export function startNode(script: string, args: readonly string[], options: Omit<RunOptions, 'input' | 'timeoutMs'> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [script, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Waits for a started child to exit and collects everything it printed. */
export function collect(child: ChildProcessWithoutNullStreams, options: Pick<RunOptions, 'input' | 'timeoutMs' | 'keepStdin'> = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // the child may exit before reading its input (EPIPE)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ms: performance.now() - started,
      });
    });
    if (options.keepStdin === true) return;
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/**
 * Runs `provledger ...args` to completion.
 * @example const { code, stdout } = await runCli(['--ledger', dir, '--json', 'head']);
 */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return collect(startNode(CLI_PATH, args, options), options);
}

/** Runs a child script from test/children/. */
export function runChild(name: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return collect(startNode(join(CHILDREN_DIR, name), args, options), options);
}

/** A temporary directory removed by the returned `cleanup`. */
export async function makeTempDir(prefix = 'provledger-test-'): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export interface TestLedger {
  /** The temporary directory holding everything of this ledger; removed by cleanup. */
  readonly root: string;
  /** The ledger directory (inside root). */
  readonly dir: string;
  /** The owner's private key PEM (inside root, mode 0600). */
  readonly keyPath: string;
  readonly publicKeyHex: string;
  /** Hash of the genesis event (seq 0). */
  readonly genesisHash: string;
  readonly cleanup: () => Promise<void>;
}

/** Writes a new key as PEM with mode 0600 and returns its public key in hex. */
export async function writeKey(path: string): Promise<string> {
  const key = SigningKey.generate();
  await writeFile(path, key.toPem(), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return key.publicKeyHex;
}

/**
 * A new ledger in a fresh temporary directory, created in-process with the built library (cheaper than two
 * CLI runs; `cli.test.ts` covers `keygen` and `init` themselves).
 */
export async function makeLedger(): Promise<TestLedger> {
  const { root, cleanup } = await makeTempDir();
  try {
    const dir = join(root, 'ledger');
    const keyPath = join(root, 'owner.pem');
    const key = SigningKey.generate();
    await writeFile(keyPath, key.toPem(), { mode: 0o600, flag: 'wx' });
    const ledger = await Ledger.create(dir, { key });
    const head = await ledger.head();
    await ledger.close();
    return { root, dir, keyPath, publicKeyHex: key.publicKeyHex, genesisHash: head!.hash, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

export interface LedgerSnapshot {
  /** `head --json` output, verbatim. */
  readonly head: string;
  /** `log --json` output, verbatim (JSON Lines). */
  readonly log: string;
  /** `verify --json` reported ok and exited 0. */
  readonly verifyOk: boolean;
}

/** What the CLI shows of a ledger: used to prove that a failed command changed nothing. */
export async function snapshot(dir: string, keyPath?: string): Promise<LedgerSnapshot> {
  const base = ['--ledger', dir, ...(keyPath === undefined ? [] : ['--key', keyPath]), '--json'];
  const head = await runCli([...base, 'head']);
  const log = await runCli([...base, 'log']);
  const verify = await runCli([...base, 'verify']);
  for (const [name, result] of [['head', head], ['log', log], ['verify', verify]] as const) {
    if (result.stderr !== '') throw new Error(`snapshot: \`${name}\` wrote to stderr (exit ${String(result.code)}): ${result.stderr}`);
  }
  if (head.code !== 0 || log.code !== 0) throw new Error(`snapshot: head exited ${String(head.code)}, log exited ${String(log.code)}`);
  let verifyOk = false;
  try {
    verifyOk = verify.code === 0 && (JSON.parse(verify.stdout) as { ok?: unknown }).ok === true;
  } catch {
    verifyOk = false;
  }
  return { head: head.stdout, log: log.stdout, verifyOk };
}

/** The error code at the end of the one stderr line `provledger: <message> [CODE]`, or null when the shape is wrong. */
export function errorCodeOf(stderr: string): string | null {
  const match = /^provledger: [^\n]+ \[([A-Z_]+)\]\n$/.exec(stderr);
  return match === null ? null : match[1]!;
}

/** Parses `head --json` / `append --json` output: exactly `{"seq":N,"hash":"<64 hex>"}` and a newline. */
export function parseSeqHash(stdout: string): { seq: number; hash: string } {
  if (!/^\{"seq":(0|[1-9][0-9]*),"hash":"[0-9a-f]{64}"\}\n$/.test(stdout)) {
    throw new Error(`expected exactly {"seq":N,"hash":"<64 hex>"} on one line, got ${JSON.stringify(stdout)}`);
  }
  return JSON.parse(stdout) as { seq: number; hash: string };
}

/** Resolves once the child's stdout has matched `pattern`; rejects if the child exits first. */
export function waitForOutput(child: ChildProcessWithoutNullStreams, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        child.stdout.off('data', onData);
        child.off('close', onClose);
        resolve();
      }
    };
    const onClose = (code: number | null) => reject(new Error(`the child exited (${String(code)}) before printing ${String(pattern)}; stdout: ${JSON.stringify(text)}`));
    child.stdout.on('data', onData);
    child.once('close', onClose);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The same facts as `snapshot` (head, every event, verify ok), read in-process with the built library: a few
 * milliseconds instead of three process starts, for tables with many cases. Waits for the lock like the CLI.
 */
export async function librarySnapshot(dir: string): Promise<LedgerSnapshot> {
  const ledger = await Ledger.open(dir, { waitMs: 30_000 });
  try {
    const head = await ledger.head();
    const log: string[] = [];
    for await (const event of ledger.events()) log.push(JSON.stringify(event));
    const report = await ledger.verify();
    return { head: JSON.stringify(head), log: log.join('\n'), verifyOk: report.ok };
  } finally {
    await ledger.close();
  }
}

/** The stdout of a command that must succeed, with nothing on stderr. */
export function ok(result: RunResult, check: ExpectStatic = expect): string {
  check({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 0, stderr: '' });
  return result.stdout;
}

/** Parses `--json` output of a listing: one JSON value per line (none for empty output). */
export const jsonLines = <T>(stdout: string): T[] => (stdout === '' ? [] : stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as T));

/**
 * The shape every refusal must have (SPEC §10.2): the exit code, exactly one `provledger: … [CODE]` line on
 * stderr, nothing on stdout, and no stack trace. `check` is the test's own `expect` (for concurrent tests).
 */
export function expectRefusal(result: RunResult, exit: number, code: string, check: ExpectStatic): void {
  check({ exit: result.code, code: errorCodeOf(result.stderr), stdout: result.stdout }, `stderr was ${JSON.stringify(result.stderr)}`).toEqual({ exit, code, stdout: '' });
  check(result.stderr).not.toMatch(/\n\s+at /);
}

/**
 * Runs a child that prints `READY`, then one `ACK …` line per acknowledged write, and kills it with SIGKILL
 * once it has acked `minAcks` times and `delayMs` have passed since READY. Returns the text after `ACK ` of
 * every complete line: a line cut by the kill was never an acknowledgement. `check` is the test's `expect`.
 */
export async function killAfterAcks(script: string, args: readonly string[], options: { delayMs: number; minAcks: number }, check: ExpectStatic): Promise<string[]> {
  const child = startNode(join(CHILDREN_DIR, script), args);
  const done = collect(child, { timeoutMs: 30_000 });
  let text = '';
  let ready = false;
  let markReady: () => void = () => undefined;
  const readyAt = new Promise<void>((resolve) => (markReady = resolve));
  const enoughAcks = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!ready && text.startsWith('READY\n')) {
        ready = true;
        markReady();
      }
      if (ready && (text.match(/^ACK /gm) ?? []).length >= options.minAcks) resolve();
    });
    child.on('close', () => {
      markReady();
      resolve();
    });
  });
  // The delay counts from READY; the kill also waits for a few acks so there is something to check.
  await readyAt;
  await Promise.all([sleep(options.delayMs), enoughAcks]);
  child.kill('SIGKILL');
  const result = await done;
  check(result.signal, `the child exited by itself: ${result.stderr}`).toBe('SIGKILL');
  check(result.stderr).toBe('');
  const lines = result.stdout.split('\n').slice(0, -1);
  check(lines[0]).toBe('READY');
  return lines.slice(1).map((line) => {
    if (!line.startsWith('ACK ')) throw new Error(`unexpected line from the child: ${JSON.stringify(line)}`);
    return line.slice(4);
  });
}
