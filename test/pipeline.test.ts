/**
 * Issue 5's fixture pipeline (fixtures/mnist-pipeline/, see its README.md) walked through the built
 * `provledger` command, as `npm run demo` walks it, and every answer checked: the lineage of the evaluation
 * results now and as of before the November release (SPEC §19.3), the impact of invalidating the October release
 * (§23.1, §23.2), the licences upstream (§23.3), the dataset diff (§23.4), and verify.
 *
 * Digests are computed here with node:crypto from SPEC §21.2, independently of src.
 *
 * The ledger is built once in beforeAll, through the CLI, run in the pipeline folder (seq: what):
 *    1 mnist v1 (dataset data/2026-10, CC-BY-SA-3.0)   2 train.py, 3 evaluate.py (software, MIT)
 *    4 train.yaml, 5 eval.yaml (config, MIT)           6 lenet-base (model/base.bin, CC-BY-NC-4.0)
 *    7 run train-2026-10, its `used` links 8–11: mnist (train, 2026-10), lenet-base (base-model),
 *      train.py (code), train.yaml (config)
 *   12 cnn (model/cnn.bin, Apache-2.0)   13 train finished, 14 train generated cnn
 *   15 run eval-2026-10, its `used` links 16–19: cnn (eval), mnist (test, 2026-10), evaluate.py (code),
 *      eval.yaml (config)
 *   20 cnn-metrics (evaluation results/metrics.json, CC-BY-4.0)   21 eval finished, 22 eval generated cnn-metrics
 *   23 cnn-metrics evaluates cnn: the last event before the November release
 *   24 mnist v2 (data/2026-11: train-labels.idx changed, corrections.csv added; adding it again writes nothing)
 *   25 mnist version 1 invalidated
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, collect, makeLedger, makeTempDir, parseSeqHash, REPO_ROOT, runCli, sleep, startNode, type RunResult } from './helpers/cli.js';
import { manifestDigest, sha256, type Member } from './helpers/content.js';

const PIPELINE = join(REPO_ROOT, 'fixtures', 'mnist-pipeline');
const BEFORE_SEQ = 23;
const HEAD_SEQ = 25;
const REASON = 'train-labels.idx: two samples have the labels 4 and 9 swapped';

/** The members of a directory (flat: the releases have no subfolders), sorted by path as SPEC §21.2 says. */
async function membersOf(dir: string): Promise<Member[]> {
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Promise.all(names.map(async (path) => {
    const bytes = await readFile(join(dir, path));
    return { path, sha256: sha256(bytes), size: bytes.length };
  }));
}

interface ArtifactJson {
  id: string;
  version: number;
  unchanged: boolean;
  seq?: number;
  sha256: string;
  size: number;
  files: number;
}
interface LineageNodeJson {
  id: string;
  kind: string;
  name: string | null;
  version: number;
  deleted: boolean;
  depth: number;
  path: string[];
}
interface LineageJson {
  root: string;
  direction: 'up' | 'down';
  atSeq: number;
  nodes: LineageNodeJson[];
  edges: { from: string; to: string; rel: string; role?: string; split?: string; addedSeq: number }[];
}
interface InvalidationJson {
  id: string;
  seq: number;
  reason: string;
  version?: number;
}
interface ImpactJson {
  root: string;
  atSeq: number;
  invalidations: InvalidationJson[];
  affected: (LineageNodeJson & { invalidations: InvalidationJson[] })[];
}
interface LicensesJson {
  root: string;
  atSeq: number;
  records: { id: string; kind: string; depth: number; path: string[]; license: string; nonCommercial: boolean; noDerivatives: boolean; shareAlike: boolean; unknown: boolean }[];
  findings: { code: string; severity: 'conflict' | 'unknown' | 'notice'; recordId: string; license: string; message: string }[];
}
interface DiffJson {
  from: { id: string; version: number; sha256: string | null };
  to: { id: string; version: number; sha256: string | null };
  identical: boolean;
  compared: boolean;
  added: Member[];
  removed: Member[];
  changed: { path: string; from: { sha256: string; size: number }; to: { sha256: string; size: number } }[];
  unchanged: number;
}

let dir = '';
let keyPath = '';
let cleanup: (() => Promise<void>) | undefined;
/** `artifact add --json` of each add, in order, by a short label. */
const added = new Map<string, ArtifactJson>();
/** The time of the last event before the November release. */
let beforeTimeMs = 0;

/** Runs a command in the pipeline folder on the test's ledger and returns its stdout; it must succeed quietly. */
async function cli(args: readonly string[]): Promise<string> {
  const result: RunResult = await runCli(['--ledger', dir, '--key', keyPath, '--no-sync', ...args], { cwd: PIPELINE });
  expect({ args, exit: result.code, stderr: result.stderr }).toEqual({ args, exit: 0, stderr: '' });
  return result.stdout;
}
const json = async <T>(args: readonly string[]): Promise<T> => JSON.parse(await cli(['--json', ...args])) as T;

/** `licenses` with a conflict upstream: exit 1, the report still on stdout, nothing on stderr (SPEC §24). */
async function licensesWithConflict(args: readonly string[]): Promise<string> {
  const result: RunResult = await runCli(['--ledger', dir, '--no-sync', 'licenses', ...args], { cwd: PIPELINE });
  expect({ args, exit: result.code, stderr: result.stderr }).toEqual({ args, exit: 1, stderr: '' });
  expect(result.stdout).not.toBe('');
  return result.stdout;
}

beforeAll(async () => {
  assertBuilt();
  const made = await makeLedger();
  ({ dir, keyPath, cleanup } = made);
  const artifact = async (label: string, path: string, kind: string, name: string, license?: string) => {
    added.set(label, await json<ArtifactJson>(['artifact', 'add', path, '--kind', kind, '--name', name, ...(license === undefined ? [] : ['--license', license])]));
  };
  await artifact('mnist@1', 'data/2026-10', 'dataset', 'mnist', 'CC-BY-SA-3.0');
  await artifact('train.py', 'train.py', 'software', 'train.py', 'MIT');
  await artifact('evaluate.py', 'evaluate.py', 'software', 'evaluate.py', 'MIT');
  await artifact('train.yaml', 'configs/train.yaml', 'config', 'train.yaml', 'MIT');
  await artifact('eval.yaml', 'configs/eval.yaml', 'config', 'eval.yaml', 'MIT');
  await artifact('lenet-base', 'model/base.bin', 'model', 'lenet-base', 'CC-BY-NC-4.0');
  await cli(['run', 'start', '--kind', 'train', '--name', 'train cnn on mnist 2026-10', '--id', 'train-2026-10', '--input', 'mnist:train:2026-10', '--input', 'lenet-base:base-model', '--input', 'train.py:code', '--input', 'train.yaml:config', '--param', 'lr=0.001', '--param', 'epochs=3']);
  await artifact('cnn', 'model/cnn.bin', 'model', 'cnn', 'Apache-2.0');
  await cli(['run', 'finish', 'train-2026-10', '--status', 'completed', '--output', 'cnn', '--metric', 'loss=0.21']);
  await cli(['run', 'start', '--kind', 'evaluate', '--name', 'evaluate cnn on mnist 2026-10', '--id', 'eval-2026-10', '--input', 'cnn:eval', '--input', 'mnist:test:2026-10', '--input', 'evaluate.py:code', '--input', 'eval.yaml:config']);
  await artifact('cnn-metrics', 'results/metrics.json', 'evaluation', 'cnn-metrics', 'CC-BY-4.0');
  await cli(['run', 'finish', 'eval-2026-10', '--status', 'completed', '--output', 'cnn-metrics', '--metric', 'accuracy=0.9167']);
  await cli(['link', 'add', 'cnn-metrics', 'cnn', '--rel', 'evaluates']);
  expect(parseSeqHash(await cli(['--json', 'head'])).seq).toBe(BEFORE_SEQ);
  beforeTimeMs = (await json<{ timeMs: number }>(['event', String(BEFORE_SEQ)])).timeMs;
  await sleep(20); // so that a time, not only a seq, names the point before the November release
  await artifact('mnist@2', 'data/2026-11', 'dataset', 'mnist');
  await artifact('mnist@2 again', 'data/2026-11', 'dataset', 'mnist');
  await cli(['record', 'invalidate', 'mnist', '--version', '1', '--reason', REASON]);
  expect(parseSeqHash(await cli(['--json', 'head'])).seq).toBe(HEAD_SEQ);
});

afterAll(async () => {
  await cleanup?.();
});

describe('the fixture', () => {
  it('holds exactly the bytes make-data.js makes', async () => {
    const { root, cleanup: remove } = await makeTempDir();
    try {
      const result = await collect(startNode(join(PIPELINE, 'make-data.js'), [root]));
      expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 0, stderr: '' });
      for (const folder of ['data/2026-10', 'data/2026-11', 'model']) {
        expect(await membersOf(join(root, folder)), folder).toEqual(await membersOf(join(PIPELINE, folder)));
      }
    } finally {
      await remove();
    }
  });
});

describe('recording the pipeline', () => {
  it('records each release by the digest sha256sum gives it: October as version 1 of mnist, November as version 2', async () => {
    const [october, november] = [await membersOf(join(PIPELINE, 'data/2026-10')), await membersOf(join(PIPELINE, 'data/2026-11'))];
    expect(added.get('mnist@1')).toMatchObject({ id: 'mnist', version: 1, unchanged: false, seq: 1, sha256: manifestDigest(october), files: 4 });
    expect(added.get('mnist@2')).toMatchObject({ id: 'mnist', version: 2, unchanged: false, seq: 24, sha256: manifestDigest(november), files: 5 });
    expect(added.get('mnist@2 again')).toMatchObject({ id: 'mnist', version: 2, unchanged: true });
    expect(added.get('mnist@2 again')!.seq).toBeUndefined();
    expect(added.get('cnn')).toMatchObject({ id: 'cnn', version: 1, seq: 12, sha256: sha256(await readFile(join(PIPELINE, 'model/cnn.bin'))), files: 1 });
  });

  it('keeps each run with its parameters, state and metrics', async () => {
    const train = await json<{ version: number; data: Record<string, unknown> }>(['record', 'show', 'train-2026-10']);
    expect(train.version).toBe(2);
    expect(train.data).toMatchObject({ runKind: 'train', state: 'COMPLETED', parameters: { lr: 0.001, epochs: 3 }, metrics: { loss: 0.21 } });
    const evaluation = await json<{ data: Record<string, unknown> }>(['record', 'show', 'eval-2026-10']);
    expect(evaluation.data).toMatchObject({ runKind: 'evaluate', state: 'COMPLETED', metrics: { accuracy: 0.9167 } });
  });
});

describe('the lineage of the evaluation results', () => {
  const summary = (lineage: LineageJson) => lineage.nodes.map((n) => `${n.id} ${n.kind} v${n.version} ${n.path.join('>')}`);

  it('now: every run, script, config and model upstream, and mnist at its current version 2', async () => {
    const lineage = await json<LineageJson>(['lineage', 'cnn-metrics', '--up']);
    expect(lineage.atSeq).toBe(HEAD_SEQ);
    expect(summary(lineage).sort()).toEqual([
      'cnn model v1 cnn-metrics>cnn',
      'cnn-metrics evaluation v1 cnn-metrics',
      'eval-2026-10 run v2 cnn-metrics>eval-2026-10',
      'eval.yaml config v1 cnn-metrics>eval-2026-10>eval.yaml',
      'evaluate.py software v1 cnn-metrics>eval-2026-10>evaluate.py',
      'lenet-base model v1 cnn-metrics>cnn>train-2026-10>lenet-base',
      'mnist dataset v2 cnn-metrics>eval-2026-10>mnist',
      'train-2026-10 run v2 cnn-metrics>cnn>train-2026-10',
      'train.py software v1 cnn-metrics>cnn>train-2026-10>train.py',
      'train.yaml config v1 cnn-metrics>cnn>train-2026-10>train.yaml',
    ]);
    // The links say which release each run read, whatever the dataset's current version.
    const reads = lineage.edges.filter((e) => e.to === 'mnist').map((e) => `${e.from} ${e.rel} ${e.role ?? ''} ${e.split ?? ''}`);
    expect(reads.sort()).toEqual(['eval-2026-10 used test 2026-10', 'train-2026-10 used train 2026-10']);
    expect(lineage.edges).toHaveLength(11);
    const datasets = await json<LineageJson>(['lineage', 'cnn-metrics', '--up', '--kind', 'dataset']);
    expect(datasets.nodes.map((n) => `${n.id} v${n.version}`)).toEqual(['cnn-metrics v1', 'mnist v2']);
  });

  it('as of before the November release, by seq and by time: the dataset that trained and evaluated it is mnist version 1', async () => {
    for (const at of [String(BEFORE_SEQ), new Date(beforeTimeMs).toISOString()]) {
      const lineage = await json<LineageJson>(['lineage', 'cnn-metrics', '--up', '--kind', 'dataset', '--at', at]);
      expect({ at, atSeq: lineage.atSeq, nodes: lineage.nodes.map((n) => `${n.id} ${n.kind} v${n.version}`) }).toEqual({ at, atSeq: BEFORE_SEQ, nodes: ['cnn-metrics evaluation v1', 'mnist dataset v1'] });
    }
    const text = await cli(['lineage', 'cnn-metrics', '--up', '--kind', 'dataset', '--at', String(BEFORE_SEQ)]);
    expect(text).toContain('mnist  (dataset "mnist" v1)  via cnn-metrics → eval-2026-10 → mnist');
    expect(text).toContain('train-2026-10 used (train, 2026-10) mnist');
  });
});

describe('the impact of invalidating the October release', () => {
  it('names the two runs, the model and the results, each with the path that makes it affected', async () => {
    const impact = await json<ImpactJson>(['impact', 'mnist']);
    expect(impact.root).toBe('mnist');
    expect(impact.invalidations).toEqual([{ id: 'mnist', seq: HEAD_SEQ, reason: REASON, version: 1 }]);
    expect(impact.affected.map((a) => ({ id: a.id, kind: a.kind, depth: a.depth, path: a.path, invalid: a.invalidations.length }))).toEqual([
      { id: 'eval-2026-10', kind: 'run', depth: 1, path: ['mnist', 'eval-2026-10'], invalid: 0 },
      { id: 'train-2026-10', kind: 'run', depth: 1, path: ['mnist', 'train-2026-10'], invalid: 0 },
      { id: 'cnn-metrics', kind: 'evaluation', depth: 2, path: ['mnist', 'eval-2026-10', 'cnn-metrics'], invalid: 0 },
      { id: 'cnn', kind: 'model', depth: 2, path: ['mnist', 'train-2026-10', 'cnn'], invalid: 0 },
    ]);
    const text = await cli(['impact', 'mnist']);
    expect(text.split('\n')).toEqual([
      `mnist is invalid (version 1: ${JSON.stringify(REASON)}, seq ${HEAD_SEQ})`,
      '  eval-2026-10  (run v2)  via mnist ← eval-2026-10',
      '  train-2026-10  (run v2)  via mnist ← train-2026-10',
      '    cnn-metrics  (evaluation v1)  via mnist ← eval-2026-10 ← cnn-metrics',
      '    cnn  (model v1)  via mnist ← train-2026-10 ← cnn',
      '4 record(s) affected',
      '',
    ]);
  });

  it('as of before the invalidation: the same records, and mnist not yet invalid', async () => {
    const impact = await json<ImpactJson>(['impact', 'mnist', '--at', String(BEFORE_SEQ)]);
    expect(impact.invalidations).toEqual([]);
    expect(impact.affected.map((a) => a.id).sort()).toEqual(['cnn', 'cnn-metrics', 'eval-2026-10', 'train-2026-10']);
  });
});

describe('the licences upstream', () => {
  it('of the results: the non-commercial base model is a conflict, CC-BY-SA data a notice, MIT scripts and configs shown; runs skipped', async () => {
    const report = JSON.parse(await licensesWithConflict(['--json', 'cnn-metrics'])) as LicensesJson;
    expect(report.records.map((r) => `${r.id} ${r.license}${r.nonCommercial ? ' NC' : ''}${r.shareAlike ? ' SA' : ''}${r.noDerivatives ? ' ND' : ''}${r.unknown ? ' ?' : ''}`).sort()).toEqual([
      'cnn Apache-2.0',
      'cnn-metrics CC-BY-4.0',
      'eval.yaml MIT',
      'evaluate.py MIT',
      'lenet-base CC-BY-NC-4.0 NC',
      'mnist CC-BY-SA-3.0 SA',
      'train.py MIT',
      'train.yaml MIT',
    ]);
    expect(report.records.find((r) => r.id === 'lenet-base')!.path).toEqual(['cnn-metrics', 'cnn', 'train-2026-10', 'lenet-base']);
    expect(report.findings.map((f) => `${f.code} ${f.severity} ${f.recordId} ${f.license}`).sort()).toEqual([
      'NON_COMMERCIAL_UPSTREAM conflict lenet-base CC-BY-NC-4.0',
      'SHARE_ALIKE_UPSTREAM notice mnist CC-BY-SA-3.0',
    ]);
    const text = await licensesWithConflict(['cnn-metrics']);
    // Conflicts first, then notices (SPEC §24).
    expect(text.split('\n').filter((line) => line.includes('\t')).map((line) => line.split('\t').slice(0, 3))).toEqual([
      ['NON_COMMERCIAL_UPSTREAM', 'lenet-base', 'CC-BY-NC-4.0'],
      ['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-3.0'],
    ]);
    expect(text.split('\n')).toContain('lenet-base  (model)  CC-BY-NC-4.0  [non-commercial]  via cnn-metrics → cnn → train-2026-10 → lenet-base');
  });

  it('of the model: the same conflict, and nothing from the evaluation side', async () => {
    const report = JSON.parse(await licensesWithConflict(['--json', 'cnn'])) as LicensesJson;
    expect(report.records.map((r) => r.id).sort()).toEqual(['cnn', 'lenet-base', 'mnist', 'train.py', 'train.yaml']);
    expect(report.findings.map((f) => `${f.code} ${f.severity}`).sort()).toEqual(['NON_COMMERCIAL_UPSTREAM conflict', 'SHARE_ALIKE_UPSTREAM notice']);
  });
});

describe('the dataset diff between the releases', () => {
  it('shows train-labels.idx changed and corrections.csv added, three files unchanged', async () => {
    const [october, november] = [await membersOf(join(PIPELINE, 'data/2026-10')), await membersOf(join(PIPELINE, 'data/2026-11'))];
    const labels = (members: Member[]) => members.find((m) => m.path === 'train-labels.idx')!;
    const diff = await json<DiffJson>(['dataset', 'diff', 'mnist@1', 'mnist@2']);
    expect(diff).toEqual({
      from: { id: 'mnist', version: 1, sha256: manifestDigest(october) },
      to: { id: 'mnist', version: 2, sha256: manifestDigest(november) },
      identical: false,
      compared: true,
      added: [november.find((m) => m.path === 'corrections.csv')],
      removed: [],
      changed: [{ path: 'train-labels.idx', from: { sha256: labels(october).sha256, size: 28 }, to: { sha256: labels(november).sha256, size: 28 } }],
      unchanged: 3,
    });
    const text = await cli(['dataset', 'diff', 'mnist@1', 'mnist@2']);
    expect(text).toMatch(/^\+ corrections\.csv\t/m);
    expect(text).toMatch(/^~ train-labels\.idx\t/m);
    expect(text).toContain('1 added, 0 removed, 1 changed, 3 unchanged');
  });
});

describe('the whole ledger', () => {
  it('verifies, and the invalidated version is still readable', async () => {
    const report = await json<{ ok: boolean; checked: number; failures: unknown[] }>(['verify']);
    expect(report).toMatchObject({ ok: true, checked: HEAD_SEQ + 1, failures: [] });
    const october = await json<{ version: number; data: { digest: { sha256: string } } }>(['record', 'show', 'mnist', '--version', '1']);
    expect(october.data.digest.sha256).toBe(added.get('mnist@1')!.sha256);
  });
});
