/**
 * SPEC §21 and §22 through the built `provledger` command: `artifact add`, `run start`, `run finish`. One
 * describe per rule: what each command prints and records when all is well (text and --json); the same content
 * again writing nothing; licences canonical, kept and replaced; a run and its inputs, and a finish and its
 * outputs, each one atomic run of consecutive events; exit 2 with exactly one `provledger: … [CODE]` line for
 * bad input, every key and value of the store unchanged (and, for input the CLI can judge alone, the ledger
 * not even opened); and verify ok, also after rebuild.
 *
 * Digests are computed here with node:crypto from SPEC §21.2, independently of src.
 *
 * The ledger is built once, in-process with the built library, in beforeAll (seq: what):
 *    1 artifact mnist (dataset, a directory of four files, CC-BY-SA-3.0)    2 artifact cifar (dataset, one file, MIT)
 *    3 artifact base (model)            4 artifact resnet (model)           5 artifact train.py (software)
 *    6 artifact cfg (config)            7 artifact gone (dataset)           8 delete gone
 *    9 run train-1 started (RUNNING), its `used` links 10–14: mnist (train, train), cifar (validation),
 *      base (base-model), train.py (code), cfg (config)
 *   15 run old-run started (no inputs)  16 old-run finished COMPLETED
 * Every case that writes, or must show that it did not, runs on its own copy.
 */
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestPaths } from '../dist/artifacts/digest.js';
import { Ledger, SigningKey } from '../dist/index.js';
import { parseInput } from '../src/cli/ml-commands.js';
import { assertBuilt, expectRefusal, HEX64, jsonLines, makeLedger, ok, parseSeqHash, runCli } from './helpers/cli.js';
import { expectBadInputRefused, type BadInput as SharedBadInput } from './helpers/cli-fixture.js';
import { manifestOf, sha256, writeTree } from './helpers/content.js';
import { FILES, writeMlFixture } from './helpers/ml-fixture.js';
import { storeDigest } from './helpers/raw-store.js';

const HEAD_SEQ = 16;

/** `record show --json` (SPEC §13). */
interface RecordJson {
  id: string;
  kind: string;
  version: number;
  deleted: boolean;
  data: Record<string, unknown> | null;
  seq: number;
}

/** `log --json`: the fields used here. */
interface EventJson {
  seq: number;
  hash: string;
  type: string;
  payload: Record<string, unknown>;
}

interface LineageJson {
  nodes: { id: string; kind: string; path: string[] }[];
  edges: { from: string; to: string; rel: string; role?: string; split?: string; addedSeq: number }[];
}

interface Fixture {
  readonly root: string;
  /** The files the fixture's artifacts were hashed from. */
  readonly files: string;
  /** A copy nothing opens: what each case copies. */
  readonly pristine: string;
  readonly ownerKey: string;
  /** `storeDigest` of the ledger as beforeAll left it. */
  readonly storeDigest: string;
}

let f: Fixture;
let cleanup: (() => Promise<void>) | undefined;
let copies = 0;

const MNIST_TREE = Object.fromEntries(Object.entries(FILES).filter(([path]) => path.startsWith('mnist/')).map(([path, bytes]) => [path.slice('mnist/'.length), bytes]));

beforeAll(async () => {
  assertBuilt();
  const made = await makeLedger();
  cleanup = made.cleanup;
  const files = join(made.root, 'files');
  await writeTree(files, FILES);
  const ledger = await Ledger.open(made.dir, { key: SigningKey.fromPem(await readFile(made.keyPath, 'utf8')) });
  try {
    await writeMlFixture(ledger, files, digestPaths);
    expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
  } finally {
    await ledger.close();
  }
  const pristine = join(made.root, 'pristine');
  await cp(made.dir, pristine, { recursive: true });
  f = { root: made.root, files, pristine, ownerKey: made.keyPath, storeDigest: await storeDigest(pristine) };
});

afterAll(async () => {
  await cleanup?.();
});

/** A fresh copy of the ledger as beforeAll left it, and its own scratch directory for files. */
async function copyOfLedger(): Promise<{ dir: string; scratch: string }> {
  const parent = await mkdtemp(join(f.root, `copy-${copies++}-`));
  const dir = join(parent, 'ledger');
  await cp(f.pristine, dir, { recursive: true });
  const scratch = join(parent, 'scratch');
  await mkdir(scratch);
  return { dir, scratch };
}

/** Commands against one ledger directory: as the owner (writes) or without a key (reads). */
function cli(dir: string) {
  const owner = (...args: string[]) => runCli(['--ledger', dir, '--key', f.ownerKey, ...args]);
  const read = (...args: string[]) => runCli(['--ledger', dir, ...args]);
  return {
    owner,
    read,
    show: async (id: string) => JSON.parse(ok(await read('--json', 'record', 'show', id))) as RecordJson,
    head: async () => parseSeqHash(ok(await read('--json', 'head'))),
    log: async (from: number) => jsonLines<EventJson>(ok(await read('--json', 'log', '--from', String(from)))),
    lineage: async (...args: string[]) => JSON.parse(ok(await read('--json', 'lineage', ...args))) as LineageJson,
  };
}

// ---------------------------------------------------------------------------------------------------------
// artifact add (SPEC §21.2, §22)

describe('artifact add of one file prints "created ID: version 1, sha256 …" and records the file\'s digest and size, no members (SPEC §21.2, §22)', () => {
  it('the id is the name; digest.sha256 is the sha256 of the bytes', async () => {
    const { dir, scratch } = await copyOfLedger();
    const bytes = 'resnet-50 weights, epoch 3';
    await writeFile(join(scratch, 'weights.bin'), bytes);
    const c = cli(dir);
    const text = ok(await c.owner('artifact', 'add', join(scratch, 'weights.bin'), '--kind', 'model', '--name', 'resnet-50'));
    expect(text).toBe(`created resnet-50: version 1, sha256 ${sha256(bytes)}, 1 file(s), ${bytes.length} bytes (seq ${HEAD_SEQ + 1})\n`);
    const record = await c.show('resnet-50');
    expect(record).toMatchObject({ kind: 'model', version: 1, seq: HEAD_SEQ + 1 });
    expect(record.data).toStrictEqual({ name: 'resnet-50', digest: { sha256: sha256(bytes) }, size: bytes.length });
  });
});

describe('artifact add of a directory or several paths records the sorted manifest, whose digest is the artifact\'s (SPEC §21.2, §22)', () => {
  it('a directory with --id and a free-text --name; --json prints {id, version, unchanged, seq, hash, sha256, size, files}', async () => {
    const { dir, scratch } = await copyOfLedger();
    const tree = { 'z.txt': 'z', 'A/b.bin': 'bb', 'a/c.bin': 'ccc', '.keep': '' };
    await writeTree(join(scratch, 'data'), tree);
    const c = cli(dir);
    const json = JSON.parse(ok(await c.owner('--json', 'artifact', 'add', join(scratch, 'data'), '--kind', 'dataset', '--name', 'Digits, 2026-11', '--id', 'digits'))) as Record<string, unknown>;
    const expected = manifestOf(tree);
    expect(json).toStrictEqual({ id: 'digits', version: 1, unchanged: false, seq: HEAD_SEQ + 1, hash: expect.stringMatching(HEX64), sha256: expected.sha256, size: expected.size, files: 4 });
    expect(expected.members.map((m) => m.path)).toEqual(['.keep', 'A/b.bin', 'a/c.bin', 'z.txt']);
    expect((await c.show('digits')).data).toStrictEqual({ name: 'Digits, 2026-11', digest: { sha256: expected.sha256 }, size: expected.size, members: expected.members });
  });

  it('several paths: one manifest, paths starting with each argument\'s base name', async () => {
    const { dir, scratch } = await copyOfLedger();
    await writeTree(scratch, { 'weights.bin': 'w', 'tokenizer/vocab.txt': 'v', 'tokenizer/merges.txt': 'm' });
    const c = cli(dir);
    const text = ok(await c.owner('artifact', 'add', join(scratch, 'weights.bin'), join(scratch, 'tokenizer'), '--kind', 'model', '--name', 'llm'));
    const expected = manifestOf({ 'weights.bin': 'w', 'tokenizer/vocab.txt': 'v', 'tokenizer/merges.txt': 'm' });
    expect(text).toBe(`created llm: version 1, sha256 ${expected.sha256}, 3 file(s), 3 bytes (seq ${HEAD_SEQ + 1})\n`);
    expect((await c.show('llm')).data).toMatchObject({ digest: { sha256: expected.sha256 }, members: expected.members });
  });
});

describe('artifact add of content already recorded writes nothing and says "unchanged" (SPEC §21.2, §22)', () => {
  it('text, one file: "unchanged: ID version V …; nothing written", exit 0, the store as it was', async () => {
    const { dir } = await copyOfLedger();
    const text = ok(await cli(dir).owner('artifact', 'add', join(f.files, 'cifar.bin'), '--kind', 'dataset', '--name', 'cifar'));
    expect(text).toMatch(new RegExp(`^unchanged: cifar version 1 .*${sha256(FILES['cifar.bin']!)}.*nothing written\\n$`));
    expect(await storeDigest(dir)).toBe(f.storeDigest);
  });

  it('--json, a directory: {unchanged: true} and no seq or hash, the store as it was', async () => {
    const { dir } = await copyOfLedger();
    const json = JSON.parse(ok(await cli(dir).owner('--json', 'artifact', 'add', join(f.files, 'mnist'), '--kind', 'dataset', '--name', 'mnist'))) as Record<string, unknown>;
    const expected = manifestOf(MNIST_TREE);
    expect(json).toStrictEqual({ id: 'mnist', version: 1, unchanged: true, sha256: expected.sha256, size: expected.size, files: 4 });
    expect(await storeDigest(dir)).toBe(f.storeDigest);
  });
});

describe('changed content writes the next version, keeping fields set in between; licences canonical, kept when omitted, replaced when given (SPEC §21.2, §21.4)', () => {
  it('create with "mit or apache-2.0"; label it with record update; new bytes → version 3 with the label and licence; --license replaces', async () => {
    const { dir, scratch } = await copyOfLedger();
    const file = join(scratch, 'model.safetensors');
    const c = cli(dir);
    const add = (...extra: string[]) => c.owner('artifact', 'add', file, '--kind', 'model', '--name', 'tiny', ...extra);

    await writeFile(file, 'version one');
    expect(ok(await add('--license', 'mit or apache-2.0'))).toMatch(/^created tiny: version 1, /);
    expect((await c.show('tiny')).data).toMatchObject({ license: { declared: 'MIT OR Apache-2.0' } });
    ok(await c.owner('record', 'update', 'tiny', '--patch', '{"labels":{"team":"vision"},"framework":"pytorch"}'));

    await writeFile(file, 'version two!');
    expect(ok(await add())).toBe(`new version of tiny: version 3, sha256 ${sha256('version two!')}, 1 file(s), 12 bytes (seq ${HEAD_SEQ + 3})\n`);
    expect((await c.show('tiny')).data).toStrictEqual({
      name: 'tiny',
      digest: { sha256: sha256('version two!') },
      size: 12,
      license: { declared: 'MIT OR Apache-2.0' },
      labels: { team: 'vision' },
      framework: 'pytorch',
    });

    // Same bytes, a licence in another spelling of the same expression: nothing to write.
    expect(ok(await add('--license', 'MIT or Apache-2.0'))).toMatch(/^unchanged: tiny version 3 /);
    // Same bytes, another licence: a new version.
    expect(ok(await add('--license', 'cc-by-4.0'))).toMatch(/^new version of tiny: version 4, /);
    expect((await c.show('tiny')).data).toMatchObject({ license: { declared: 'CC-BY-4.0' }, labels: { team: 'vision' }, digest: { sha256: sha256('version two!') } });
  });
});

// ---------------------------------------------------------------------------------------------------------
// run start, run finish (SPEC §21.3, §22)

describe('run start records a RUNNING run with typed parameters and a `used` link per input, as consecutive events (SPEC §21.3, §22)', () => {
  it('--json prints {id, seq, hash}; the record and links follow each other; roles default to other; lineage shows the inputs', async () => {
    const { dir } = await copyOfLedger();
    const c = cli(dir);
    const before = Date.now();
    const json = JSON.parse(
      ok(
        await c.owner(
          '--json', 'run', 'start', '--kind', 'train', '--name', 'train resnet again', '--id', 'train-2',
          '--input', 'mnist:train:train', '--input', 'cifar:validation', '--input', 'base', '--input', 'mnist:test:t10k',
          '--param', 'lr=3e-4', '--param', 'opt=adam', '--param', 'flag=true', '--param', 'layers=[64,128]', '--param', 'note=3 epochs',
        ),
      ),
    ) as Record<string, unknown>;
    const after = Date.now();
    // SPEC §21.3: the seq and hash of the last link written; the record event is that seq − 4 links.
    expect(json).toStrictEqual({ id: 'train-2', seq: HEAD_SEQ + 5, hash: expect.stringMatching(HEX64) });

    const record = await c.show('train-2');
    expect(record).toMatchObject({ kind: 'run', version: 1 });
    const { startedAt, ...rest } = record.data!;
    expect(rest).toStrictEqual({ name: 'train resnet again', runKind: 'train', state: 'RUNNING', parameters: { lr: 0.0003, opt: 'adam', flag: true, layers: [64, 128], note: '3 epochs' } });
    expect(startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(startedAt).toBeLessThanOrEqual(after);

    const log = await c.log(HEAD_SEQ + 1);
    expect(log.map((e) => [e.seq, e.type])).toEqual([
      [HEAD_SEQ + 1, 'record.create'],
      [HEAD_SEQ + 2, 'link.add'],
      [HEAD_SEQ + 3, 'link.add'],
      [HEAD_SEQ + 4, 'link.add'],
      [HEAD_SEQ + 5, 'link.add'],
    ]);
    expect(log).toHaveLength(5);
    expect([log[4]!.seq, log[4]!.hash]).toEqual([json['seq'], json['hash']]);
    expect(log[0]!.seq).toBe((json['seq'] as number) - 4);
    expect(log.slice(1).map((e) => e.payload)).toEqual([
      { from: 'train-2', to: 'mnist', rel: 'used', role: 'train', split: 'train' },
      { from: 'train-2', to: 'cifar', rel: 'used', role: 'validation' },
      { from: 'train-2', to: 'base', rel: 'used', role: 'other' },
      { from: 'train-2', to: 'mnist', rel: 'used', role: 'test', split: 't10k' },
    ]);
    const lineage = await c.lineage('train-2', '--depth', '1');
    expect(lineage.nodes.map((n) => n.id)).toEqual(['train-2', 'base', 'cifar', 'mnist']);
    expect(lineage.edges).toHaveLength(4);
  });

  it('text prints "started ID (seq S)"; without --id the id is run- and 16 hex characters', async () => {
    const { dir } = await copyOfLedger();
    const text = ok(await cli(dir).owner('run', 'start', '--kind', 'preprocess', '--name', 'clean'));
    const match = /^started (run-[0-9a-f]{16}) \(seq (\d+)\)\n$/.exec(text);
    expect(match, text).not.toBeNull();
    expect(Number(match![2])).toBe(HEAD_SEQ + 1);
    expect((await cli(dir).show(match![1]!)).data).toMatchObject({ runKind: 'preprocess', state: 'RUNNING' });
  });
});

describe('run finish records the end, merges metrics and links each output `generated`; a run finishes once (SPEC §21.3, §22)', () => {
  it('completed: text "finished ID: version V (seq S)", then what data trained the model; finishing again is RUN_FINISHED and writes nothing', async () => {
    const { dir } = await copyOfLedger();
    const c = cli(dir);
    ok(await c.owner('record', 'update', 'train-1', '--patch', '{"metrics":{"loss":0.7,"top1":0.5}}'));
    const before = (await c.show('train-1')).data!;
    const text = ok(await c.owner('run', 'finish', 'train-1', '--status', 'completed', '--output', 'resnet', '--metric', 'top1=0.94', '--metric', 'top5=0.99'));
    // SPEC §21.3: the seq of the last link (the `generated` link to resnet); the record event is one before it.
    expect(text).toBe(`finished train-1: version 3 (seq ${HEAD_SEQ + 3})\n`);

    const { endedAt, ...rest } = (await c.show('train-1')).data!;
    expect(rest).toStrictEqual({ ...before, state: 'COMPLETED', metrics: { loss: 0.7, top1: 0.94, top5: 0.99 } });
    expect(endedAt).toBeGreaterThanOrEqual(before['startedAt'] as number);
    expect((await c.log(HEAD_SEQ + 2)).map((e) => [e.seq, e.type, e.type === 'link.add' ? e.payload : e.payload['id']])).toEqual([
      [HEAD_SEQ + 2, 'record.update', 'train-1'],
      [HEAD_SEQ + 3, 'link.add', { from: 'train-1', to: 'resnet', rel: 'generated' }],
    ]);

    // The question: what data trained this model?
    const lineage = await c.lineage('resnet', '--up', '--kind', 'dataset');
    expect(lineage.nodes.map((n) => [n.id, n.kind, n.path])).toEqual([
      ['resnet', 'model', ['resnet']],
      ['cifar', 'dataset', ['resnet', 'train-1', 'cifar']],
      ['mnist', 'dataset', ['resnet', 'train-1', 'mnist']],
    ]);

    const digest = await storeDigest(dir);
    expectRefusal(await c.owner('run', 'finish', 'train-1', '--status', 'completed'), 2, 'RUN_FINISHED', expect);
    expectRefusal(await c.owner('run', 'finish', 'train-1', '--status', 'failed', '--output', 'base'), 2, 'RUN_FINISHED', expect);
    expect(await storeDigest(dir)).toBe(digest);
  });

  it('failed, --json: {id, version, seq, hash}; state FAILED, no metrics; a new output linked generated', async () => {
    const { dir, scratch } = await copyOfLedger();
    const c = cli(dir);
    await writeFile(join(scratch, 'ckpt.pt'), 'checkpoint');
    ok(await c.owner('artifact', 'add', join(scratch, 'ckpt.pt'), '--kind', 'model', '--name', 'ckpt-1'));
    const json = JSON.parse(ok(await c.owner('--json', 'run', 'finish', 'train-1', '--status', 'failed', '--output', 'ckpt-1'))) as Record<string, unknown>;
    // SPEC §21.3: the last link's seq and hash (the `generated` link to ckpt-1, HEAD_SEQ + 3); the record event is seq − 1.
    expect(json).toStrictEqual({ id: 'train-1', version: 2, seq: HEAD_SEQ + 3, hash: expect.stringMatching(HEX64) });
    expect((await c.log(HEAD_SEQ + 2)).map((e) => [e.seq, e.type, e.hash])).toEqual([
      [HEAD_SEQ + 2, 'record.update', expect.stringMatching(HEX64)],
      [HEAD_SEQ + 3, 'link.add', json['hash']],
    ]);
    const data = (await c.show('train-1')).data!;
    expect(data).toMatchObject({ state: 'FAILED', endedAt: expect.any(Number) });
    expect(data).not.toHaveProperty('metrics');
    expect((await c.lineage('ckpt-1', '--depth', '1')).edges).toEqual([{ from: 'train-1', to: 'ckpt-1', rel: 'generated', addedSeq: HEAD_SEQ + 3 }]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Refusals (SPEC §10.2, §21)

/** A refused command here also gets a scratch directory for files. */
type BadInput = SharedBadInput<[dir: string, scratch: string]>;

const owner = (dir: string) => ['--ledger', dir, '--key', f.ownerKey];
const artifact = (...rest: string[]) => (dir: string) => [...owner(dir), 'artifact', 'add', ...rest.map(inFiles)];
const start = (...rest: string[]) => (dir: string) => [...owner(dir), 'run', 'start', '--kind', 'train', '--name', 'r', '--id', 'r-new', '--input', 'mnist:train', '--input', 'cifar:validation', ...rest];
const finish = (...rest: string[]) => (dir: string) => [...owner(dir), 'run', 'finish', ...rest];
/** `@name` is a path under the fixture's files. */
const inFiles = (arg: string) => (arg.startsWith('@') ? join(f.files, arg.slice(1)) : arg);

const BAD_INPUT: readonly BadInput[] = [
  // artifact add (SPEC §21.2, §21.4)
  { name: 'artifact add with an invalid SPDX expression', args: artifact('@cifar.bin', '--kind', 'dataset', '--name', 'new', '--license', 'MIT OR'), code: 'INVALID_ARGUMENT', opens: true },
  { name: 'artifact add with a mixed-case SPDX operator', args: artifact('@cifar.bin', '--kind', 'dataset', '--name', 'cifar', '--license', 'MIT Or Apache-2.0'), code: 'INVALID_ARGUMENT', opens: true },
  { name: 'artifact add with an unknown --kind', args: artifact('@cifar.bin', '--kind', 'banana', '--name', 'new'), code: 'INVALID_KIND', opens: false },
  { name: 'artifact add --kind run (not an artifact kind)', args: artifact('@cifar.bin', '--kind', 'run', '--name', 'new'), code: 'INVALID_KIND', opens: false },
  { name: 'artifact add with a name that is not an id and no --id', args: artifact('@cifar.bin', '--kind', 'dataset', '--name', 'CIFAR 10'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'artifact add with an invalid --id', args: artifact('@cifar.bin', '--kind', 'dataset', '--name', 'x', '--id', 'a/b'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'artifact add onto a record of another kind', args: artifact('@cifar.bin', '--kind', 'model', '--name', 'mnist'), code: 'INVALID_KIND', opens: true },
  { name: 'artifact add onto a run', args: artifact('@cifar.bin', '--kind', 'dataset', '--name', 'train-1'), code: 'INVALID_KIND', opens: true },
  { name: 'artifact add onto a deleted record', args: artifact('@cifar.bin', '--kind', 'dataset', '--name', 'gone'), code: 'RECORD_DELETED', opens: true },
  { name: 'artifact add of a missing path', args: artifact('@nope.bin', '--kind', 'dataset', '--name', 'new'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'artifact add of a missing path beside a good one', args: artifact('@cifar.bin', '@nope.bin', '--kind', 'dataset', '--name', 'new'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'artifact add of an empty directory', args: (d, scratch) => [...owner(d), 'artifact', 'add', scratch, '--kind', 'dataset', '--name', 'new'], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'artifact add without a key', args: (d) => ['--ledger', d, 'artifact', 'add', inFiles('@cifar.bin'), '--kind', 'dataset', '--name', 'new'], code: 'USAGE', opens: false },
  { name: 'artifact add without --kind', args: artifact('@cifar.bin', '--name', 'new'), code: 'USAGE', opens: false },
  { name: 'artifact add without --name', args: artifact('@cifar.bin', '--kind', 'dataset'), code: 'USAGE', opens: false },
  { name: 'artifact add without a path', args: artifact('--kind', 'dataset', '--name', 'new'), code: 'USAGE', opens: false },

  // run start (SPEC §21.3): the bad part comes after good inputs, so nothing at all may be written
  { name: 'run start with an unknown input', args: start('--input', 'nope'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'run start with a deleted input', args: start('--input', 'gone:test'), code: 'RECORD_DELETED', opens: true },
  // Ids may contain ':', so a part that is no role belongs to the id (SPEC §21.3): these name records that do not exist.
  { name: 'run start with an input role outside the list', args: start('--input', 'base:teacher'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'run start with an input of four parts', args: start('--input', 'base:train:a:b'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'run start with an input split that is not a label', args: start('--input', 'base:train:-x'), code: 'INVALID_LINK', opens: true },
  { name: 'run start with the same input twice', args: start('--input', 'cifar:validation'), code: 'INVALID_ARGUMENT', opens: true },
  { name: 'run start with the run itself as an input', args: start('--input', 'r-new'), code: 'INVALID_LINK', opens: true },
  { name: 'run start with a --param key twice', args: start('--param', 'lr=1', '--param', 'lr=2'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run start with a --param without =', args: start('--param', 'lr'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run start with a --param with an empty key', args: start('--param', '=1'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run start with an --id in use', args: start('--id', 'train-1'), code: 'RECORD_EXISTS', opens: true },
  { name: 'run start with the --id of a deleted record', args: start('--id', 'gone'), code: 'RECORD_EXISTS', opens: true },
  { name: 'run start with an unknown --kind', args: (d) => [...owner(d), 'run', 'start', '--kind', 'fit', '--name', 'r', '--input', 'mnist'], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run start without --name', args: (d) => [...owner(d), 'run', 'start', '--kind', 'train'], code: 'USAGE', opens: false },
  { name: 'run start without a key', args: (d) => ['--ledger', d, 'run', 'start', '--kind', 'train', '--name', 'r', '--input', 'mnist'], code: 'USAGE', opens: false },

  // run finish (SPEC §21.3)
  { name: 'run finish of a run already finished', args: finish('old-run', '--status', 'completed'), code: 'RUN_FINISHED', opens: true },
  { name: 'run finish of an unknown run', args: finish('run-nope', '--status', 'completed'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'run finish of a dataset', args: finish('mnist', '--status', 'completed'), code: 'INVALID_KIND', opens: true },
  { name: 'run finish with a --metric that is not a number', args: finish('train-1', '--status', 'completed', '--metric', 'top1=high'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run finish with a --metric that is not finite', args: finish('train-1', '--status', 'completed', '--metric', 'top1=1e999'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run finish with a --metric that is JSON but no number', args: finish('train-1', '--status', 'completed', '--metric', 'top1=true'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run finish with a --metric key twice', args: finish('train-1', '--status', 'completed', '--metric', 'a=1', '--metric', 'a=2'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run finish with --status done', args: finish('train-1', '--status', 'done'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'run finish without --status', args: finish('train-1'), code: 'USAGE', opens: false },
  { name: 'run finish with an output that is an input of the run', args: finish('train-1', '--status', 'completed', '--output', 'resnet', '--output', 'mnist'), code: 'LINK_CYCLE', opens: true },
  { name: 'run finish with an unknown output', args: finish('train-1', '--status', 'completed', '--output', 'resnet', '--output', 'nope'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'run finish with a deleted output', args: finish('train-1', '--status', 'completed', '--output', 'resnet', '--output', 'gone'), code: 'RECORD_DELETED', opens: true },
  { name: 'run finish without a key', args: (d) => ['--ledger', d, 'run', 'finish', 'train-1', '--status', 'completed'], code: 'USAGE', opens: false },
];

describe('bad artifact and run input is refused with exit 2 and one coded line, the store unchanged (SPEC §10.2, §21)', () => {
  it.concurrent.for(BAD_INPUT)('$name → $code', async (c, { expect: check }) => {
    const { dir, scratch } = await copyOfLedger();
    await expectBadInputRefused(dir, c.args(dir, scratch), c, f.storeDigest, check);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('verify is ok after artifacts and runs, and after rebuild re-derives the indexes (SPEC §12.5)', () => {
  it('train → model → evaluate → results, then new data; verify ok; rebuild; verify ok, the store byte for byte the same', async () => {
    const { dir, scratch } = await copyOfLedger();
    const c = cli(dir);
    await writeFile(join(scratch, 'results.json'), '{"top1":0.94}');
    await writeFile(join(scratch, 'extra.idx'), 'extra');
    ok(await c.owner('run', 'finish', 'train-1', '--status', 'completed', '--output', 'resnet', '--metric', 'loss=0.1'));
    ok(await c.owner('run', 'start', '--kind', 'evaluate', '--name', 'evaluate', '--id', 'eval-1', '--input', 'resnet:eval', '--input', 'mnist:test:t10k'));
    ok(await c.owner('artifact', 'add', join(scratch, 'results.json'), '--kind', 'evaluation', '--name', 'results', '--license', 'cc-by-4.0'));
    ok(await c.owner('run', 'finish', 'eval-1', '--status', 'completed', '--output', 'results', '--metric', 'top1=0.94'));
    ok(await c.owner('artifact', 'add', join(f.files, 'mnist'), join(scratch, 'extra.idx'), '--kind', 'dataset', '--name', 'mnist'));

    const verify = async () => JSON.parse(ok(await c.read('--json', 'verify'))) as { ok: boolean; failures: unknown[] };
    expect(await verify()).toMatchObject({ ok: true, failures: [] });
    expect((await c.lineage('results', '--kind', 'dataset')).nodes.map((n) => n.id)).toEqual(['results', 'mnist', 'cifar']);
    const digest = await storeDigest(dir);
    const head = await c.head();
    expect(JSON.parse(ok(await c.read('--json', 'rebuild')))).toEqual({ rebuilt: true, events: head.seq + 1 });
    expect(await verify()).toMatchObject({ ok: true, failures: [] });
    expect(await storeDigest(dir)).toBe(digest);
  });
});

describe('--input ID[:ROLE[:SPLIT]] finds the role from the right, since ids may contain ":" (SPEC §21.3)', () => {
  it.each([
    ['mnist', { id: 'mnist' }],
    ['mnist:train', { id: 'mnist', role: 'train' }],
    ['mnist:train:2026-11', { id: 'mnist', role: 'train', split: '2026-11' }],
    ['hub:org:mnist', { id: 'hub:org:mnist' }],
    ['hub:org:mnist:test', { id: 'hub:org:mnist', role: 'test' }],
    ['hub:org:mnist:test:a', { id: 'hub:org:mnist', role: 'test', split: 'a' }],
    ['base:teacher', { id: 'base:teacher' }],
  ])('%s → %j', (text, expected) => {
    expect(parseInput(text)).toEqual(expected);
  });

  it('refuses an input with no id', () => {
    expect(() => parseInput(':train')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
