/**
 * The shared shape of the CLI fixtures built in a beforeAll: the ledger as built, a pristine copy nothing opens,
 * reader copies the happy-path reads share round robin, and the keys and digests the cases compare against.
 */
import { cp, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExpectStatic } from 'vitest';
import { expectRefusal, runCli, writeKey, type RunOptions, type RunResult, type TestLedger } from './cli.js';
import { filesOf, storeDigest } from './raw-store.js';

export interface CliFixture {
  readonly root: string;
  /** A copy nothing opens: what each case that needs its own ledger copies. */
  readonly pristine: string;
  /** Copies the happy-path reads share, round robin. */
  readonly readers: readonly string[];
  readonly ownerKey: string;
  /** A valid key that is no key of the ledger. */
  readonly strangerKey: string;
  /** A key path where no file is. */
  readonly missingKey: string;
  /** Event times by seq. */
  readonly timeMs: readonly number[];
  /** `storeDigest` of the ledger as beforeAll left it. */
  readonly storeDigest: string;
}

/** Copies the closed ledger `made` to a pristine copy and four readers, and writes a stranger's key. */
export async function cliFixture(made: TestLedger, timeMs: readonly number[]): Promise<CliFixture> {
  const pristine = join(made.root, 'pristine');
  await cp(made.dir, pristine, { recursive: true });
  const readers: string[] = [];
  for (let i = 0; i < 4; i++) {
    readers.push(join(made.root, `reader-${i}`));
    await cp(made.dir, readers[i]!, { recursive: true });
  }
  const strangerKey = join(made.root, 'stranger.pem');
  await writeKey(strangerKey);
  return { root: made.root, pristine, readers, ownerKey: made.keyPath, strangerKey, missingKey: join(made.root, 'no-such-key.pem'), timeMs, storeDigest: await storeDigest(pristine) };
}

/** A fresh copy of the fixture's pristine ledger as beforeAll left it, in its own directory under its root. */
export async function copyOfLedger(fixture: { readonly root: string; readonly pristine: string }): Promise<string> {
  const dir = join(await mkdtemp(join(fixture.root, 'copy-')), 'ledger');
  await cp(fixture.pristine, dir, { recursive: true });
  return dir;
}

/** `read(args)` runs a read-only command on one of the reader copies (`readers()` once the fixture is built), round robin. */
export function readOnCopies(readers: () => readonly string[]): (args: readonly string[], options?: RunOptions) => Promise<RunResult> {
  let next = 0;
  return (args, options = {}) => {
    const all = readers();
    return runCli(['--ledger', all[next++ % all.length]!, ...args], options);
  };
}

/** A refused command (SPEC §10.2): its arguments (built from the copy it runs on), the code it must give, and whether it may open the ledger. */
export interface BadInput<Args extends unknown[] = [dir: string]> {
  readonly name: string;
  readonly args: (...on: Args) => string[];
  readonly code: string;
  /**
   * Whether the command gets as far as opening the ledger. False when the flags alone are wrong: SPEC §10.2 says
   * input is parsed and validated before the ledger is opened, so its files must not change at all.
   */
  readonly opens: boolean;
}

/**
 * Runs a command that must be refused (SPEC §10.2) against the copy `dir`: exit 2 and one coded line; the store
 * byte for byte `digest`; and when the command must not even open the ledger (`opens` false), its files as before.
 */
export async function expectBadInputRefused(dir: string, args: readonly string[], c: { readonly code: string; readonly opens: boolean }, digest: string, check: ExpectStatic): Promise<void> {
  const files = await filesOf(dir);
  const result = await runCli(args);
  expectRefusal(result, 2, c.code, check);
  if (!c.opens) check(await filesOf(dir), 'the ledger directory changed: was it opened before the flags were checked?').toEqual(files);
  check(await storeDigest(dir)).toBe(digest);
}
