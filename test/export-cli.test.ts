/**
 * SPEC §25.5 through the built `provledger` command: `export` to stdout, to a pipe that closes early and to
 * `--out` (whole or not at all, never over a file), `import` from a file and from stdin, with its outputs and exit
 * codes, and every refusal as one line on stderr with the ledger (or the target) as it was.
 *
 * The ledger (seq: what): 0 genesis, 1 record mnist (dataset), 2 record train.py (software), 3 run train (started),
 * 4 used mnist (train), 5 used train.py (code), 6 record cnn (model), 7 run train finished, 8 generated cnn,
 * 9 invalidate mnist.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey } from '../dist/index.js';
import { cliFixture, copyOfLedger, expectBadInputRefused, type BadInput, type CliFixture } from './helpers/cli-fixture.js';
import { assertBuilt, CLI_PATH, expectRefusal, makeLedger, makeTempDir, ok, parseSeqHash, runCli, type TestLedger } from './helpers/cli.js';
import { storeDigest } from './helpers/raw-store.js';

const HEAD_SEQ = 9;
let made: TestLedger | undefined;
let fixture: CliFixture;
/** The export as the library writes it. */
let exportText = '';

beforeAll(async () => {
  assertBuilt();
  made = await makeLedger();
  const key = SigningKey.fromPem(await readFile(made.keyPath, 'utf8'));
  const ledger = await Ledger.open(made.dir, { key, sync: false });
  await ledger.records.create('dataset', { name: 'mnist', license: { declared: 'CC-BY-SA-3.0' }, digest: { sha256: 'a'.repeat(64) } }, { id: 'mnist' });
  await ledger.records.create('software', { name: 'train.py' }, { id: 'train.py' });
  await ledger.runs.start({ kind: 'train', name: 'train', id: 'train', inputs: [{ id: 'mnist', role: 'train' }, { id: 'train.py', role: 'code' }] });
  await ledger.records.create('model', { name: 'cnn' }, { id: 'cnn' });
  await ledger.runs.finish('train', { status: 'completed', outputs: ['cnn'] });
  await ledger.provenance.invalidate('mnist', { reason: 'labels swapped' });
  expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
  for await (const line of ledger.exportJsonl()) exportText += line;
  await ledger.close();
  fixture = await cliFixture(made, []);
});

afterAll(async () => {
  await made?.cleanup();
});

describe('SPEC §25.5: export', () => {
  it('writes the JSONL export to stdout, as the library does', async () => {
    expect(ok(await runCli(['--ledger', fixture.readers[0]!, 'export']))).toBe(exportText);
  });

  it('--format prov-json: the library document, indented, with --record and --at', async () => {
    const args = ['--ledger', fixture.readers[1]!, 'export', '--format', 'prov-json', '--record', 'cnn', '--at', '8'];
    const document = await Ledger.open(fixture.readers[2]!).then(async (ledger) => {
      try {
        return await ledger.exportProvJson({ record: 'cnn', at: { seq: 8 } });
      } finally {
        await ledger.close();
      }
    });
    const stdout = ok(await runCli(args));
    expect(stdout).toBe(`${JSON.stringify(document, null, 2)}\n`);
    expect(Object.keys((JSON.parse(stdout) as { activity: object }).activity)).toEqual(['record:train']);
  });

  it('--out: the file holds the export, nothing else is left beside it, and stdout is empty', async () => {
    const { root, cleanup } = await makeTempDir();
    try {
      expect(ok(await runCli(['--ledger', fixture.readers[3]!, 'export', '--out', join(root, 'ledger.jsonl')]))).toBe('');
      expect(await readFile(join(root, 'ledger.jsonl'), 'utf8')).toBe(exportText);
      expect(await readdir(root)).toEqual(['ledger.jsonl']);
    } finally {
      await cleanup();
    }
  });

  it('--out over an existing file: FILE_EXISTS, the file unchanged, nothing left beside it', async () => {
    const { root, cleanup } = await makeTempDir();
    try {
      await writeFile(join(root, 'mine.jsonl'), 'precious');
      expectRefusal(await runCli(['--ledger', fixture.readers[0]!, 'export', '--out', join(root, 'mine.jsonl')]), 2, 'FILE_EXISTS', expect);
      expect(await readFile(join(root, 'mine.jsonl'), 'utf8')).toBe('precious');
      expect(await readdir(root)).toEqual(['mine.jsonl']);
    } finally {
      await cleanup();
    }
  });

  it('--out that fails mid-way (a record that does not exist): nothing appears', async () => {
    const { root, cleanup } = await makeTempDir();
    try {
      expectRefusal(await runCli(['--ledger', fixture.readers[1]!, 'export', '--record', 'nope', '--out', join(root, 'x.jsonl')]), 2, 'RECORD_NOT_FOUND', expect);
      expect(await readdir(root)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('into a pipe that closes early: exit 0, nothing on stderr', async () => {
    const { root, cleanup } = await makeTempDir();
    try {
      const dir = join(root, 'big');
      const ledger = await Ledger.create(dir, { key: SigningKey.generate(), sync: false });
      for (let batch = 0; batch < 4; batch++) await ledger.appendMany(Array.from({ length: 500 }, (_, n) => ({ type: 'app.note', payload: { n, text: 'x'.repeat(200) } })));
      await ledger.close();
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [CLI_PATH, '--ledger', dir, 'export'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.once('data', () => child.stdout.destroy());
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(result).toEqual({ code: 0, stderr: '' });
    } finally {
      await cleanup();
    }
  });

  const refusals: BadInput[] = [
    { name: 'an unknown format', args: (dir) => ['--ledger', dir, 'export', '--format', 'xml'], code: 'INVALID_ARGUMENT', opens: false },
    { name: '--at with jsonl', args: (dir) => ['--ledger', dir, 'export', '--at', '3'], code: 'USAGE', opens: false },
    { name: '--from with prov-json', args: (dir) => ['--ledger', dir, 'export', '--format', 'prov-json', '--from', '1'], code: 'USAGE', opens: false },
    { name: '--from after --to', args: (dir) => ['--ledger', dir, 'export', '--from', '3', '--to', '2'], code: 'INVALID_ARGUMENT', opens: false },
    { name: 'a malformed record id', args: (dir) => ['--ledger', dir, 'export', '--record', 'no spaces'], code: 'INVALID_RECORD_ID', opens: false },
    { name: 'a malformed --at', args: (dir) => ['--ledger', dir, 'export', '--format', 'prov-json', '--at', 'yesterday'], code: 'INVALID_ARGUMENT', opens: false },
    { name: '--to beyond the head', args: (dir) => ['--ledger', dir, 'export', '--to', '99'], code: 'AT_OUT_OF_RANGE', opens: true },
    { name: 'an unknown record', args: (dir) => ['--ledger', dir, 'export', '--format', 'prov-json', '--record', 'nope'], code: 'RECORD_NOT_FOUND', opens: true },
  ];
  it.each(refusals.map((c) => [c.name, c]))('refuses %s, the ledger as it was', async (_name, c) => {
    const dir = await copyOfLedger(fixture);
    await expectBadInputRefused(dir, c.args(dir), c, fixture.storeDigest, expect);
  });
});

describe('SPEC §25.5: import', () => {
  let root = '';
  let cleanup: () => Promise<void> = async () => undefined;
  let file = '';
  beforeAll(async () => {
    ({ root, cleanup } = await makeTempDir());
    file = join(root, 'ledger.jsonl');
    await writeFile(file, exportText);
  });
  afterAll(async () => {
    await cleanup();
  });
  const head = async () => parseSeqHash(ok(await runCli(['--ledger', fixture.readers[0]!, '--json', 'head'])));

  it('from a file: says what it imported; the new ledger has the same head, the same store, and verifies', async () => {
    const target = join(root, 'from-file');
    const stdout = ok(await runCli(['--ledger', target, 'import', file]));
    const { seq, hash } = await head();
    expect(stdout).toBe(
      `imported ${HEAD_SEQ + 1} events into ${target}, every one verified\nledger  ${JSON.parse(exportText.slice(0, exportText.indexOf('\n'))).ledger as string}\n` +
        `owner   ${made!.publicKeyHex}\nhead    ${seq}:${hash}\ncompare the owner and head with ones you trust, or import with --expect-head SEQ:HASH\n`,
    );
    expect(await storeDigest(target)).toBe(fixture.storeDigest);
    expect(ok(await runCli(['--ledger', target, 'verify']))).toMatch(/^ok: 10 events verified/);
  });

  it('from stdin with --json and --expect-head: exactly {"seq","hash","events"}', async () => {
    const { seq, hash } = await head();
    const stdout = ok(await runCli(['--ledger', join(root, 'from-stdin'), '--json', 'import', '-', '--expect-head', `${seq}:${hash}`], { input: exportText }));
    expect(stdout).toBe(`${JSON.stringify({ seq, hash, events: HEAD_SEQ + 1 })}\n`);
  });

  it.each([
    ['an edited line', () => exportText.replace('"type":"record.invalidate"', '"type":"record.other"'), 1, 'IMPORT_INVALID', []],
    ['a truncated file', () => exportText.slice(0, -20), 2, 'EXPORT_MALFORMED', []],
    ['a --record export', async () => ok(await runCli(['--ledger', fixture.readers[1]!, 'export', '--record', 'mnist'])), 2, 'EXPORT_MALFORMED', []],
    ['another head expected', () => exportText, 1, 'IMPORT_INVALID', ['--expect-head', `3:${'0'.repeat(64)}`]],
  ] as const)('refuses %s with one line and its exit code; no directory appears', async (_name, make, exit, code, extra) => {
    const { root: tmp, cleanup: remove } = await makeTempDir();
    try {
      const result = await runCli(['--ledger', join(tmp, 'target'), 'import', '-', ...extra], { input: await make() });
      expectRefusal(result, exit, code, expect);
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      await remove();
    }
  });

  it('refuses a ledger as target (LEDGER_EXISTS), a malformed --expect-head and a missing file (INVALID_ARGUMENT); nothing changes', async () => {
    const dir = await copyOfLedger(fixture);
    expectRefusal(await runCli(['--ledger', dir, 'import', file]), 2, 'LEDGER_EXISTS', expect);
    expect(await storeDigest(dir)).toBe(fixture.storeDigest);
    const { root: tmp, cleanup: remove } = await makeTempDir();
    try {
      expectRefusal(await runCli(['--ledger', join(tmp, 't'), 'import', file, '--expect-head', 'nope']), 2, 'INVALID_ARGUMENT', expect);
      expectRefusal(await runCli(['--ledger', join(tmp, 't'), 'import', join(tmp, 'missing.jsonl')]), 2, 'INVALID_ARGUMENT', expect);
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      await remove();
    }
  });
});
