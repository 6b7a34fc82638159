/**
 * README.md's library example must run as written, through the package's own `exports` (self-reference
 * to 'provledger'), against the built dist/. Keeps the first thing a new user copies honest.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { withTempDir } from './helpers/tmp.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe('README: the library example', () => {
  it('runs and prints the events it appended', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from 'provledger'");
    await withTempDir(async (dir) => {
      const code = example!.replace("'./my-ledger'", JSON.stringify(join(dir, 'ledger')));
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
      expect(stdout).toContain('3 run.finished');
      expect(stdout).toMatch(/seq: 3,\s+hash: '[0-9a-f]{64}'/);
    });
  });

  it('exposes the signature rule at provledger/crypto', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "import { verifySignature, VerifyingKey } from 'provledger/crypto'; console.log(typeof verifySignature, typeof VerifyingKey)"], { cwd: root });
    expect(stdout.trim()).toBe('function function');
  });
});
