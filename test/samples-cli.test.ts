/**
 * SPEC §22 (sample-set commands) through the built `provledger`: `sample-set add` prints what it recorded (text
 * and --json) and records the same file again as unchanged; `sample-set prove` writes a proof that
 * `sample-set verify-proof` accepts without the ledger (exit 0), refuses a non-member (exit 1, SAMPLE_NOT_FOUND),
 * and a proof checked with the wrong key or changed is not proved (exit 1) or malformed (exit 2); every bad
 * input file is exit 2 with one coded line, the store byte for byte unchanged and, since the file is read
 * before the ledger is opened, the ledger's files untouched.
 *
 * The ledger (built once with the CLI in beforeAll): 1 chunk and 2 record of `train-samples` (plain file of
 * 300 fingerprints); 3 chunk and 4 record of `licensed` (JSON Lines, MIT and CC-BY-NC-4.0).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, expectRefusal, makeLedger, ok, runCli, writeKey, type TestLedger } from './helpers/cli.js';
import { cliFixture, copyOfLedger, expectBadInputRefused, type BadInput, type CliFixture } from './helpers/cli-fixture.js';
import { storeDigest } from './helpers/raw-store.js';

const fp = (n: number) => createHash('sha256').update(`cli sample ${n}`).digest('hex');
const PLAIN = Array.from({ length: 300 }, (_, i) => fp(i));
const SORTED = [...PLAIN].sort();
const JSONL = Array.from({ length: 10 }, (_, i) => ({ fingerprint: fp(1000 + i), license: i % 2 === 0 ? 'mit' : 'CC-BY-NC-4.0' }));

let made: TestLedger;
let fixture: CliFixture;
let files: string;
let publicKey: string;

beforeAll(async () => {
  assertBuilt();
  made = await makeLedger();
  publicKey = made.publicKeyHex;
  files = join(made.root, 'files');
  await mkdir(files);
  const write = (name: string, text: string) => writeFile(join(files, name), text);
  await write('plain.txt', `${PLAIN.join('\n')}\n`);
  await write('licensed.jsonl', JSONL.map((line) => JSON.stringify(line)).join('\n'));
  await write('bad-hex.txt', `${fp(1)}\n${'z'.repeat(64)}\n`);
  await write('short.txt', `${fp(1).slice(2)}\n`);
  await write('bad-json.jsonl', `{"fingerprint":"${fp(1)}"}\n{"fingerprint":\n`);
  await write('bad-license.jsonl', `{"fingerprint":"${fp(1)}","license":"MIT ANDOR X"}\n`);
  await write('duplicate.txt', `${fp(1)}\n${fp(2)}\n${fp(1)}\n`);
  await write('empty.txt', '\n\n');
  await writeFile(join(files, 'latin1.txt'), Buffer.from([0x66, 0xe9, 0x0a]));
  for (const [name, from] of [['train-samples', 'plain.txt'], ['licensed', 'licensed.jsonl']]) ok(await runCli(['--ledger', made.dir, '--key', made.keyPath, 'sample-set', 'add', '--from', join(files, from!), '--name', name!]));
  fixture = await cliFixture(made, []);
}, 60_000);

afterAll(async () => {
  await made?.cleanup();
});

const on = (dir: string, ...args: string[]) => runCli(['--ledger', dir, '--key', fixture.ownerKey, ...args]);

describe('SPEC §22: sample-set add prints what it recorded, and the same file again writes nothing', () => {
  it('prints created, then unchanged; --json gives the fields of §22', async () => {
    const dir = await copyOfLedger(fixture);
    const extra = join(files, 'extra.txt');
    await writeFile(extra, `${fp(5000)}\n${fp(5001)}\n`);
    expect(ok(await on(dir, 'sample-set', 'add', '--from', extra, '--name', 'extra'))).toMatch(/^created extra: version 1, 2 samples, root [0-9a-f]{64} \(seq 6\)\n$/);
    const before = await storeDigest(dir);
    expect(ok(await on(dir, 'sample-set', 'add', '--from', extra, '--name', 'extra'))).toMatch(/^unchanged: extra version 1 already holds these 2 samples/);
    expect(await storeDigest(dir)).toBe(before);
    const json = JSON.parse(ok(await on(dir, '--json', 'sample-set', 'add', '--from', join(files, 'licensed.jsonl'), '--name', 'extra')));
    expect(json).toMatchObject({ id: 'extra', version: 2, unchanged: false, count: 10, chunks: 1, seq: 8, licensed: true });
  });
});

describe('SPEC §21.6: prove, then verify-proof without the ledger', () => {
  it('proves a member (any case of hex) and the proof verifies with the owner key (exit 0)', async () => {
    const proof = ok(await on(fixture.readers[0]!, 'sample-set', 'prove', 'train-samples', SORTED[123]!.toUpperCase()));
    expect(proof.startsWith('provledger/sample-proof@v1\n')).toBe(true);
    const path = join(made.root, 'member.proof');
    await writeFile(path, proof);
    expect(ok(await runCli(['sample-set', 'verify-proof', path, '--trusted-key', publicKey]))).toBe(`ok: sample ${SORTED[123]} is #123 of 300 in sample set train-samples@1 (root ${JSON.parse(ok(await runCli(['--ledger', fixture.readers[1]!, '--json', 'record', 'show', 'train-samples']))).data.root}, event 2 signed by ${publicKey})\n`);
  });
  it('writes --out and says so; a licensed sample carries its licence', async () => {
    const out = join(made.root, 'licensed.proof');
    const sample = JSONL[3]!;
    expect(ok(await on(fixture.readers[2]!, 'sample-set', 'prove', 'licensed', sample.fingerprint, '--out', out))).toMatch(/^proved: sample [0-9a-f]{64} is #\d+ of 10 in licensed@1; wrote /);
    const verdict = JSON.parse(ok(await runCli(['--json', 'sample-set', 'verify-proof', out, '--trusted-key', publicKey])));
    expect(verdict).toMatchObject({ ok: true, kind: 'sample', id: 'licensed', version: 1, fingerprint: sample.fingerprint, license: 'CC-BY-NC-4.0', count: 10, checkpoint: null });
  });
  it('refuses a non-member with exit 1 and SAMPLE_NOT_FOUND, writing no file', async () => {
    const out = join(made.root, 'none.proof');
    expectRefusal(await on(fixture.readers[3]!, 'sample-set', 'prove', 'train-samples', fp(99_999), '--out', out), 1, 'SAMPLE_NOT_FOUND', expect);
    await expect(readFile(out)).rejects.toThrow();
  });
  it('is not proved with another trusted key (exit 1), and a changed file is malformed (exit 2)', async () => {
    const path = join(made.root, 'other.proof');
    await writeFile(path, ok(await on(fixture.readers[0]!, 'sample-set', 'prove', 'train-samples', SORTED[0]!)));
    const stranger = await writeKey(join(made.root, 'stranger-2.pem'));
    expectRefusal(await runCli(['sample-set', 'verify-proof', path, '--trusted-key', stranger]), 1, 'AUTHOR_UNAUTHORIZED', expect);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('index 0', 'index 00'));
    expectRefusal(await runCli(['sample-set', 'verify-proof', path, '--trusted-key', publicKey]), 2, 'MALFORMED', expect);
    expectRefusal(await runCli(['sample-set', 'verify-proof', path]), 2, 'USAGE', expect);
  });
  it('carries the ledger inclusion proof with --checkpoint', async () => {
    const dir = await copyOfLedger(fixture);
    const checkpoint = join(made.root, `cp-${Date.now()}.txt`);
    ok(await on(dir, 'checkpoint', '--out', checkpoint));
    const path = join(made.root, 'with-checkpoint.proof');
    ok(await on(dir, 'sample-set', 'prove', 'train-samples', SORTED[7]!, '--checkpoint', checkpoint, '--out', path));
    expect(ok(await runCli(['sample-set', 'verify-proof', path, '--trusted-key', publicKey]))).toMatch(/, in provledger\/[0-9a-f-]+ at size 5, checkpoint signed by /);
  });
});

describe('SPEC §21.5, §10.2: a malformed sample file is refused before the ledger is opened, and changes nothing', () => {
  const cases: BadInput[] = [
    { name: 'bad hex', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'bad-hex.txt'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a fingerprint of the wrong length', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'short.txt'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'bad JSON', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'bad-json.jsonl'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a bad licence', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'bad-license.jsonl'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a duplicate', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'duplicate.txt'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'an empty set', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'empty.txt'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a file that is not UTF-8', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'latin1.txt'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a missing file', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'nope.txt'), '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a directory', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', files, '--name', 'x'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a name that is not an id', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--from', join(files, 'plain.txt'), '--name', 'a b'], code: 'INVALID_RECORD_ID', opens: false },
    { name: 'no --from', args: (dir) => ['--ledger', dir, '--key', fixture.ownerKey, 'sample-set', 'add', '--name', 'x'], code: 'USAGE', opens: false },
    { name: 'prove: a fingerprint that is not hex', args: (dir) => ['--ledger', dir, 'sample-set', 'prove', 'train-samples', 'abc'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'prove: version 0', args: (dir) => ['--ledger', dir, 'sample-set', 'prove', 'train-samples', fp(1), '--version', '0'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'prove: an unknown set', args: (dir) => ['--ledger', dir, 'sample-set', 'prove', 'nope', fp(1)], code: 'RECORD_NOT_FOUND', opens: true },
  ];
  it.each(cases)('$name', async (c) => {
    const dir = await copyOfLedger(fixture);
    await expectBadInputRefused(dir, c.args(dir), c, fixture.storeDigest, expect);
  });
});
