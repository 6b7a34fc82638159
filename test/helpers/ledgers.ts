/**
 * In-process ledgers for the library tests (src/): how they are created and opened on a fixed clock, what verify
 * finds, a template ledger copied fresh for each test, commit-group outcomes, and the whole store as hex lines.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll } from 'vitest';
import { toHex } from '../../src/bytes.js';
import type { SigningKey } from '../../src/crypto/keys.js';
import { Ledger, type AppendResult } from '../../src/index.js';
import { ownerKey } from './events.js';

/** The time the first event of every ledger here is written at. */
export const T = 1_800_000_000_000;

/** How every ledger here is created: by the owner, unsynced, with a clock one second per call. */
export function createOptions() {
  let tick = 0;
  return { key: ownerKey, sync: false, clock: () => T + 1000 * tick++ } as const;
}

/**
 * Opens `dir` (with the owner's key unless told otherwise), runs `use`, and always closes it; the clock is an
 * hour after T, past every event, unless a `clock` is given.
 */
export async function withOpen<R>(dir: string, use: (ledger: Ledger) => Promise<R>, key: SigningKey = ownerKey, clock: () => number = () => T + 3_600_000): Promise<R> {
  const ledger = await Ledger.open(dir, { key, sync: false, clock });
  try {
    return await use(ledger);
  } finally {
    await ledger.close();
  }
}

/** What verify finds, as [seq, code] pairs in report order (messages are not a contract). */
export async function findings(dir: string): Promise<{ ok: boolean; failures: [number | null, string][] }> {
  return withOpen(dir, async (ledger) => {
    const report = await ledger.verify();
    return { ok: report.ok, failures: report.failures.map((f) => [f.seq, f.code]) };
  });
}

/** A ledger built once per describe (`build`), copied fresh for each test. */
export function template(build: (dir: string) => Promise<void>, prefix = 'provledger-template-') {
  let root = '';
  let source = '';
  let copies = 0;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
    source = join(root, 'template');
    await build(source);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return async (): Promise<string> => {
    const dir = join(root, `copy-${copies++}`);
    await cp(source, dir, { recursive: true });
    return dir;
  };
}

/** Settles every promise; each outcome as the seq written or the code refused with. */
export async function outcomes(promises: readonly Promise<AppendResult>[]): Promise<(number | string)[]> {
  const settled = await Promise.allSettled(promises);
  return settled.map((s) => (s.status === 'fulfilled' ? s.value.seq : ((s.reason as { code?: string }).code ?? String(s.reason))));
}

/** Every key and value of the LevelDB (log, meta, every index), as hex lines: the whole store, raw. */
export async function dumpStore(dir: string): Promise<string[]> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  await db.open();
  try {
    const lines: string[] = [];
    for await (const [key, value] of db.iterator()) lines.push(`${toHex(key)} ${toHex(value)}`);
    return lines;
  } finally {
    await db.close();
  }
}
