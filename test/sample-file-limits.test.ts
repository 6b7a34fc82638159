/**
 * SPEC §21.5: a sample file is judged line by line before the ledger is opened, within bounds: a line longer
 * than any sample line can be is refused at once (a file without line breaks is never held whole), and a
 * licence is judged in the canonical form the record will hold.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSampleFile } from '../src/artifacts/sample-file.js';
import { formatLicense, parseLicense } from '../src/domain/spdx.js';
import { withTempDir } from './helpers/tmp.js';

const fp = (n: number) => n.toString(16).padStart(64, 'a');

/** An SPDX expression of at most 1,000 characters as written whose canonical form (spaces around AND) is longer. */
function growingLicense(): string {
  const ids = ['MIT', 'Apache-2.0', 'BSD-2-Clause', 'ISC', 'BSD-3-Clause', 'MPL-2.0', 'GPL-2.0-only', 'LGPL-2.1-only', 'CC0-1.0', 'Zlib', 'Unlicense', '0BSD'];
  const groups: string[] = [];
  for (let i = 0; ; i++) {
    const next = [...groups, `(${ids[i % 12]} OR ${ids[(i + 5) % 12]})`];
    if (next.join('AND').length > 1000) return groups.join('AND');
    groups.push(next.at(-1)!);
  }
}

async function refusal(text: string): Promise<{ code?: string; message: string }> {
  return withTempDir(async (dir) => {
    const path = join(dir, 'samples.txt');
    await writeFile(path, text);
    return readSampleFile(path).then(
      () => ({ message: 'accepted' }),
      (error: { code?: string; message: string }) => error,
    );
  });
}

describe('SPEC §21.5 a line longer than any sample line can be is refused, naming it', () => {
  it('a 10,000-character second line, and a file of 3 MiB without a line break', async () => {
    const long = await refusal(`${fp(1)}\n${'b'.repeat(10_000)}\n`);
    expect(long.code).toBe('INVALID_ARGUMENT');
    expect(long.message).toMatch(/line 2 is longer than 4096 characters/);
    const unbroken = await refusal('c'.repeat(3 * 1024 * 1024));
    expect(unbroken.code).toBe('INVALID_ARGUMENT');
    expect(unbroken.message).toMatch(/line 1 is longer than 4096 characters/);
  });

  it('a longest valid JSONL line (a 1,000-character licence) is accepted', async () => {
    const license = growingLicense();
    expect(license.length).toBeLessThanOrEqual(1000);
    const short = 'MIT AND Apache-2.0';
    const result = await refusal(`${JSON.stringify({ fingerprint: fp(1), license: short })}\n${JSON.stringify({ fingerprint: fp(2), license: `${short} ${' '.repeat(900)}` })}\n`);
    expect(result.message).toBe('accepted');
  });
});

describe('SPEC §21.5 a licence is judged in its canonical form, before the ledger is opened', () => {
  it('an expression of 1,000 characters as written but longer in canonical form: INVALID_ARGUMENT naming the line', async () => {
    const license = growingLicense();
    expect(formatLicense(parseLicense(license)).length).toBeGreaterThan(1000);
    const result = await refusal(`${JSON.stringify({ fingerprint: fp(1), license: 'MIT' })}\n${JSON.stringify({ fingerprint: fp(2), license })}\n`);
    expect(result.code).toBe('INVALID_ARGUMENT');
    expect(result.message).toMatch(/line 2 has a licence of \d+ characters in canonical form, over the 1000/);
  });
});
