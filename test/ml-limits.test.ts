/**
 * SPEC §21.2: a manifest too large for one event is refused after the walk and before any byte is hashed, by
 * an estimate that is exact for a new record: every plan it accepts can be recorded, the next file more cannot.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestPaths } from '../src/artifacts/digest.js';
import { assertManifestFits } from '../src/ml.js';
import { Ledger } from '../src/index.js';
import { createOptions } from './helpers/ledgers.js';
import { withTempDir } from './helpers/tmp.js';
import { assertBuilt, makeLedger, runCli } from './helpers/cli.js';
import { storeDigest } from './helpers/raw-store.js';

const plan = (count: number, pathOf = (i: number) => `shards/part-${String(i).padStart(6, '0')}.bin`) => Array.from({ length: count }, (_, i) => ({ path: pathOf(i), size: 1000 + i }));
const input = { kind: 'dataset', name: 'big', license: 'CC-BY-4.0' } as const;

/** The largest plan of this shape that the estimate accepts (binary search over the file count). */
function largestAccepted(limit: number): number {
  let low = 1;
  let high = 200_000;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    try {
      assertManifestFits(input, plan(mid), limit);
      low = mid;
    } catch {
      high = mid - 1;
    }
  }
  return low;
}

describe('SPEC §21.2 a manifest that cannot fit in one event is refused before hashing', () => {
  it('one file never counts as a manifest', () => {
    expect(() => assertManifestFits(input, [{ path: '', size: 10 ** 12 }])).not.toThrow();
  });

  it('refuses with EVENT_TOO_LARGE naming the file count and what to do instead', () => {
    let error: unknown;
    try {
      assertManifestFits(input, plan(20_000));
    } catch (caught) {
      error = caught;
    }
    expect((error as { code?: string }).code).toBe('EVENT_TOO_LARGE');
    expect((error as Error).message).toMatch(/^a manifest of 20000 files makes a record of \d+ bytes, over the event limit of 1048576; nothing was hashed\. Record the directory as one archive file/);
  });

  it('is exact for a new record: the largest accepted plan is recorded, one file more is refused', async () => {
    // A small event limit keeps the ledger small; the rule is the same at 1 MiB.
    const limit = 64 * 1024;
    const largest = largestAccepted(limit);
    expect(largest).toBeGreaterThan(100);
    expect(() => assertManifestFits(input, plan(largest + 1), limit)).toThrow(/makes a record of/);
    // Then lengthen the last path a byte at a time up to the limit, so the plan kept is within a byte of it.
    let pad = 0;
    const padded = (extra: number) => plan(largest, (i) => `shards/part-${String(i).padStart(6, '0')}${i === largest - 1 ? 'x'.repeat(extra) : ''}.bin`);
    for (;;) {
      try {
        assertManifestFits(input, padded(pad + 1), limit);
        pad++;
      } catch {
        break;
      }
    }
    await withTempDir(async (dir) => {
      const ledger = await Ledger.create(join(dir, 'l'), { ...createOptions(), maxEventBytes: limit });
      try {
        const members = padded(pad).map((file, i) => ({ ...file, sha256: i.toString(16).padStart(64, 'f') }));
        const result = await ledger.artifacts.add({ ...input, content: { sha256: 'a'.repeat(64), size: members.reduce((s, m) => s + m.size, 0), members } });
        expect(result.version).toBe(1);
        const oneMore = plan(largest + 1).map((file, i) => ({ ...file, sha256: i.toString(16).padStart(64, 'f') }));
        await expect(ledger.artifacts.add({ ...input, id: 'bigger', content: { sha256: 'a'.repeat(64), size: 1, members: oneMore } })).rejects.toMatchObject({ code: 'EVENT_TOO_LARGE' });
      } finally {
        await ledger.close();
      }
    });
  });

  it('digestPaths calls onPlan with every file before hashing, and a throw there stops it before the first byte', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'd', 'sub'), { recursive: true });
      await writeFile(join(dir, 'd', 'a.bin'), 'aaa');
      await writeFile(join(dir, 'd', 'sub', 'b.bin'), 'bb');
      const seen: unknown[] = [];
      const progress: number[] = [];
      await expect(
        digestPaths([join(dir, 'd')], {
          onPlan: (files) => {
            seen.push(...files);
            throw new Error('too many');
          },
          onProgress: (done) => progress.push(done),
        }),
      ).rejects.toThrow('too many');
      expect(seen).toEqual([{ path: 'a.bin', size: 3 }, { path: 'sub/b.bin', size: 2 }]);
      expect(progress).toEqual([]);
    });
  });
});

describe('SPEC §21.2, §22 `artifact add` of a directory too large for one event: exit 2, one line, the store as it was', () => {
  it('12,000 files', async () => {
    assertBuilt();
    const ledger = await makeLedger();
    try {
      const tree = join(ledger.root, 'shards');
      await mkdir(tree);
      await Promise.all(Array.from({ length: 12_000 }, (_, i) => writeFile(join(tree, `part-${String(i).padStart(6, '0')}.bin`), String(i))));
      const before = await storeDigest(ledger.dir);
      const result = await runCli(['--ledger', ledger.dir, '--key', ledger.keyPath, 'artifact', 'add', tree, '--kind', 'dataset', '--name', 'shards']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^provledger: a manifest of 12000 files makes a record of \d+ bytes, over the event limit of 1048576; nothing was hashed\..* \[EVENT_TOO_LARGE\]\n$/);
      expect(result.stdout).toBe('');
      expect(await storeDigest(ledger.dir)).toBe(before);
    } finally {
      await ledger.cleanup();
    }
  }, 60_000);
});
