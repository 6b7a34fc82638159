/** SPEC §10.2: a reader that closes the pipe early ends the command quietly, with exit 0 and nothing on stderr. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { ownerKey } from './helpers/events.js';
import { withTempDir } from './helpers/tmp.js';

const BIN = new URL('../bin/provledger.js', import.meta.url).pathname;

/** Runs the CLI, reads its first chunk of stdout, then closes the pipe like `| head -1` would. */
function readFirstChunkThenClose(args: string[]): Promise<{ code: number | null; stderr: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let first = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString();
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, first }));
  });
}

describe('SPEC §10.2: output into a pipe that closes early', () => {
  it.each([['log'], ['log', '--json'], ['record', 'list', '--json']])('provledger %s | head: exit 0, no stack trace', async (...command) => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey, sync: false });
      // Enough output to overflow the pipe buffer several times over.
      for (let batch = 0; batch < 4; batch++) {
        await ledger.appendMany(Array.from({ length: 500 }, (_, n) => ({ type: 'app.note', payload: { n, text: 'x'.repeat(200) } })));
      }
      await Promise.all(Array.from({ length: 400 }, (_, n) => ledger.records.create('dataset', { n, text: 'y'.repeat(200) }, { id: `d${n}` })));
      await ledger.close();
      const result = await readFirstChunkThenClose(['--ledger', dir, ...command]);
      expect(result.first.length).toBeGreaterThan(0);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    });
  });
});
