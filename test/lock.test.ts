/**
 * SPEC §8.3: one holder at a time, across processes and within one. LevelDB's lock is a POSIX fcntl lock, and
 * LevelDB's own in-process check opens and closes an fd on LOCK when the file is already held, which drops
 * the process's fcntl lock: a second open inside the holding process must therefore never reach LevelDB, or
 * another process could open the ledger beside the holder and corrupt it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Ledger, LedgerError } from '../src/index.js';
import { ownerKey } from './helpers/events.js';
import { withTempDir } from './helpers/tmp.js';

const run = promisify(execFile);
const DIST = new URL('../dist/index.js', import.meta.url).href;

/** Tries to open the ledger from another process; resolves to the error code, or 'OPENED'. */
async function openFromAnotherProcess(dir: string): Promise<string> {
  const script = `import { Ledger } from ${JSON.stringify(DIST)};
try { const l = await Ledger.open(${JSON.stringify(dir)}, { waitMs: 200 }); await l.close(); console.log('OPENED'); }
catch (e) { console.log(e.code ?? e.message); }`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout.trim();
}

describe('SPEC §8.3: a second open in the holding process', () => {
  it('waits, then fails with LEDGER_LOCKED, and the holder keeps its lock against other processes', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const holder = await Ledger.create(dir, { key: ownerKey });
      try {
        await expect(Ledger.open(dir, { waitMs: 50 })).rejects.toSatisfy((e: unknown) => e instanceof LedgerError && e.code === 'LEDGER_LOCKED');
        // The failed attempt must not have released the holder's lock.
        expect(await openFromAnotherProcess(dir)).toBe('LEDGER_LOCKED');
        await holder.append({ type: 'app.note', payload: { still: 'the only writer' } });
      } finally {
        await holder.close();
      }
      expect(await openFromAnotherProcess(dir)).toBe('OPENED');
    });
  });

  it('succeeds once the first handle closes, through the same bounded wait', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const first = await Ledger.create(dir, { key: ownerKey });
      const second = Ledger.open(join(root, '.', 'ledger'), { waitMs: 5_000 }); // another spelling of the same path
      setTimeout(() => void first.close(), 100);
      const opened = await second;
      expect((await opened.verify()).ok).toBe(true);
      await opened.close();
    });
  });
});
