/**
 * README's first command is `npm ci && npm run demo`: the demo must run to its end on the built CLI. It checks
 * every exit code it expects itself and exits 1 on the first surprise.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('README: npm run demo', () => {
  it('runs scripts/demo.js to the end with exit 0, every step as it expects', async () => {
    const { stdout } = await run(process.execPath, ['scripts/demo.js'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain('NON_COMMERCIAL_UPSTREAM');
    // The lineage bundle of the results carries the October release's invalidation (SPEC §17.7).
    expect(stdout).toMatch(/^INVALID: mnist@1 \(seq \d+\): "/m);
    expect(stdout).toMatch(/CHECKPOINT_MISMATCH/);
  }, 120_000);
});
