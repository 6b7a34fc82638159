/**
 * SPEC §23 and §24 through the built `provledger` command: `record invalidate`, `impact`, `licenses` and
 * `dataset diff`. One describe per rule: what each command prints when all is well (text and --json); exit 2
 * with exactly one `provledger: … [CODE]` line for bad input, every key and value of the store unchanged (and,
 * for input the CLI can judge alone, the ledger not even opened); the read-only commands never loading a key;
 * and verify ok after an invalidation, also after `rebuild`.
 *
 * Digests are computed here with node:crypto from SPEC §21.2, independently of src.
 *
 * The ledger is built once, in-process with the built library, in beforeAll (seq: what):
 *    1 artifact mnist v1 (dataset, CC-BY-SA-4.0, manifest a.png b.png c.png labels.csv)
 *    2 artifact faces (dataset, CC-BY-NC-4.0)    3 artifact crawl (dataset, unknown)
 *    4 artifact mixed (dataset, MIT OR CC-BY-NC-4.0)
 *    5 artifact relabelled v1 (dataset, declared CC-BY-NC-4.0, manifest r1.csv r2.csv)
 *    6 artifact base (model, CC-BY-ND-4.0)       7 artifact train.py (software, MIT)
 *    8 artifact cfg (config, NONE)               9 artifact testset (dataset, CC-BY-4.0)
 *   10 context pipeline                         11 artifact mnist v2 (b.png changed, c.png removed, d.png added)
 *   12 run train started, its `used` links 13–20: mnist, faces, crawl, mixed, relabelled (train), base
 *      (base-model), train.py (code), cfg (config)
 *   21 artifact resnet (model, Apache-2.0)      22 train finished, 23 train generated resnet
 *   24 resnet dependsOn pipeline                25 artifact results (evaluation, CC-BY-4.0)
 *   26 run eval started, its `used` links 27–28: resnet (eval), testset (test)
 *   29 eval finished, 30 eval generated results
 *   31 relabelled v2: the same content, licence concluded MIT
 *   32 mnist invalidated (every version)        33 resnet version 1 invalidated
 *   34 artifact gone (dataset)                  35 gone deleted
 * Event 32 is written at least 20 ms after the one before, so a time names the point just before it.
 *
 * Reads run on copies of that ledger (a reader holds the lock, so reads of one copy would queue); every case that
 * writes, or must show that it did not, runs on its own copy.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey, type ArtifactContent } from '../dist/index.js';
import { assertBuilt, expectRefusal, jsonLines, makeLedger, ok, parseSeqHash, runCli, sleep, type RunResult } from './helpers/cli.js';
import { cliFixture, copyOfLedger, expectBadInputRefused, readOnCopies, type BadInput, type CliFixture } from './helpers/cli-fixture.js';
import { file, manifest, member } from './helpers/content.js';
import { storeDigest } from './helpers/raw-store.js';

const HEAD_SEQ = 35;
const INVALID_MNIST = 'labels 4 and 9 swapped';
const INVALID_RESNET = 'trained on the mislabelled mnist';

// SPEC §21.2 content (test/helpers/content.ts): a manifest's digest is the SHA-256 of `sha256sum`'s output for its members, sorted by path.
const MNIST_1 = [member('a.png', 'seven'), member('b.png', 'four'), member('c.png', 'nine'), member('labels.csv', 'a,7\nb,4\nc,9\n')];
const MNIST_2 = [MNIST_1[0]!, member('b.png', 'four, relabelled'), member('d.png', 'one'), MNIST_1[3]!];
const RELABELLED = [member('r1.csv', 'x,4\n'), member('r2.csv', 'y,9\n')];

/** `impact --json` (SPEC §24). */
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
  affected: { id: string; kind: string; name: string | null; version: number; deleted: boolean; depth: number; path: string[]; invalidations: InvalidationJson[] }[];
}

/** `licenses --json` (SPEC §24). */
interface LicensesJson {
  root: string;
  atSeq: number;
  records: {
    id: string;
    kind: string;
    depth: number;
    path: string[];
    license: string;
    declared: string | null;
    concluded: string | null;
    nonCommercial: boolean;
    noDerivatives: boolean;
    shareAlike: boolean;
    unknown: boolean;
  }[];
  findings: { code: string; recordId: string; license: string; message: string; severity: 'conflict' | 'unknown' | 'notice' }[];
}

let f: CliFixture;
let cleanup: (() => Promise<void>) | undefined;

beforeAll(async () => {
  assertBuilt();
  const made = await makeLedger();
  cleanup = made.cleanup;
  const ledger = await Ledger.open(made.dir, { key: SigningKey.fromPem(await readFile(made.keyPath, 'utf8')), sync: false });
  const timeMs: number[] = [];
  try {
    const add = (kind: 'dataset' | 'model' | 'software' | 'config' | 'evaluation', name: string, license: string | undefined, content: ArtifactContent) =>
      ledger.artifacts.add({ kind, name, content, ...(license === undefined ? {} : { license }) });
    await add('dataset', 'mnist', 'CC-BY-SA-4.0', manifest(MNIST_1));
    await add('dataset', 'faces', 'CC-BY-NC-4.0', file('faces'));
    await add('dataset', 'crawl', 'unknown', file('crawl'));
    await add('dataset', 'mixed', 'MIT OR CC-BY-NC-4.0', file('mixed'));
    await add('dataset', 'relabelled', 'CC-BY-NC-4.0', manifest(RELABELLED));
    await add('model', 'base', 'CC-BY-ND-4.0', file('base weights'));
    await add('software', 'train.py', 'MIT', file('print("train")\n'));
    await add('config', 'cfg', 'NONE', file('lr: 0.0003\n'));
    await add('dataset', 'testset', 'CC-BY-4.0', file('test images'));
    await ledger.records.create('context', { name: 'pipeline', contextType: 'pipeline' }, { id: 'pipeline' });
    await add('dataset', 'mnist', undefined, manifest(MNIST_2));
    const inputs = [['mnist', 'train'], ['faces', 'train'], ['crawl', 'train'], ['mixed', 'train'], ['relabelled', 'train'], ['base', 'base-model'], ['train.py', 'code'], ['cfg', 'config']] as const;
    await ledger.runs.start({ kind: 'train', name: 'train resnet', id: 'train', inputs: inputs.map(([id, role]) => ({ id, role })) });
    await add('model', 'resnet', 'Apache-2.0', file('resnet weights'));
    await ledger.runs.finish('train', { status: 'completed', outputs: ['resnet'] });
    await ledger.links.add({ from: 'resnet', to: 'pipeline', rel: 'dependsOn' });
    await add('evaluation', 'results', 'CC-BY-4.0', file('accuracy 0.97'));
    await ledger.runs.start({ kind: 'evaluate', name: 'evaluate resnet', id: 'eval', inputs: [{ id: 'resnet', role: 'eval' }, { id: 'testset', role: 'test' }] });
    await ledger.runs.finish('eval', { status: 'completed', outputs: ['results'] });
    const relabelled = await ledger.records.get('relabelled');
    await ledger.records.update('relabelled', { ...relabelled.data, license: { declared: 'CC-BY-NC-4.0', concluded: 'MIT' } });
    await sleep(20);
    await ledger.provenance.invalidate('mnist', { reason: INVALID_MNIST });
    await ledger.provenance.invalidate('resnet', { version: 1, reason: INVALID_RESNET });
    await add('dataset', 'gone', 'MIT', file('gone'));
    await ledger.records.delete('gone');
    expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
    for await (const event of ledger.events()) timeMs.push(event.timeMs);
  } finally {
    await ledger.close();
  }
  expect(timeMs[32]! - timeMs[31]!).toBeGreaterThan(1);

  f = await cliFixture(made, timeMs);
});

afterAll(async () => {
  await cleanup?.();
});

/** Runs a read-only command on one of the reader copies. */
const read = readOnCopies(() => f.readers);

/** The stdout of `licenses` with a conflict upstream (SPEC §24): exit 1, the report still on stdout, nothing on stderr. */
function conflict(result: RunResult, check = expect): string {
  check({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 1, stderr: '' });
  check(result.stdout).not.toBe('');
  return result.stdout;
}

const lines = (stdout: string) => stdout.trimEnd().split('\n');
const iso = (timeMs: number) => new Date(timeMs).toISOString();

// ---------------------------------------------------------------------------------------------------------

describe('record invalidate writes a signed record.invalidate and prints "invalidated ID[@V] (seq S)"; --json prints {seq, hash} (SPEC §24)', () => {
  it('the whole record, then one version: text and --json name the events appended, whose payloads are exactly what was asked', async () => {
    const dir = await copyOfLedger(f);
    const owner = ['--ledger', dir, '--key', f.ownerKey];
    const text = ok(await runCli([...owner, 'record', 'invalidate', 'faces', '--reason', 'consent withdrawn']));
    expect(text).toBe(`invalidated faces (seq ${HEAD_SEQ + 1})\n`);
    expect(ok(await runCli([...owner, 'record', 'invalidate', 'relabelled', '--version', '2', '--reason', 'r2 is corrupt']))).toBe(`invalidated relabelled@2 (seq ${HEAD_SEQ + 2})\n`);
    const json = parseSeqHash(ok(await runCli([...owner, '--json', 'record', 'invalidate', 'relabelled', '--reason', 'withdrawn', '--version', '1'])));
    expect(json.seq).toBe(HEAD_SEQ + 3);

    const log = jsonLines<{ seq: number; hash: string; type: string; payload: unknown }>(ok(await runCli(['--ledger', dir, '--json', 'log', '--from', String(HEAD_SEQ + 1)])));
    expect(log.map((e) => [e.seq, e.type, e.payload])).toEqual([
      [HEAD_SEQ + 1, 'record.invalidate', { id: 'faces', reason: 'consent withdrawn' }],
      [HEAD_SEQ + 2, 'record.invalidate', { id: 'relabelled', reason: 'r2 is corrupt', version: 2 }],
      [HEAD_SEQ + 3, 'record.invalidate', { id: 'relabelled', reason: 'withdrawn', version: 1 }],
    ]);
    expect(log[2]!.hash).toBe(json.hash);
    // Nothing is deleted: the record reads as before.
    expect(JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'record', 'show', 'faces'])))).toMatchObject({ id: 'faces', version: 1, deleted: false });
  });

  it('verify is ok after it, and after `rebuild` re-derives the invalidation index the store is byte for byte the same', async () => {
    const dir = await copyOfLedger(f);
    ok(await runCli(['--ledger', dir, '--key', f.ownerKey, 'record', 'invalidate', 'crawl', '--reason', 'scraped without consent']));
    const verify = async () => JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'verify']))) as { ok: boolean; checked: number; failures: unknown[] };
    expect(await verify()).toMatchObject({ ok: true, checked: HEAD_SEQ + 2, failures: [] });
    const digest = await storeDigest(dir);
    const impact = ok(await runCli(['--ledger', dir, '--json', 'impact', 'crawl']));
    expect(JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'rebuild'])))).toEqual({ rebuilt: true, events: HEAD_SEQ + 2 });
    expect(await verify()).toMatchObject({ ok: true, failures: [] });
    expect(await storeDigest(dir)).toBe(digest);
    expect(ok(await runCli(['--ledger', dir, '--json', 'impact', 'crawl']))).toBe(impact);
  });
});

/** `impact mnist --json` now. */
const MNIST_IMPACT: ImpactJson = {
  root: 'mnist',
  atSeq: HEAD_SEQ,
  invalidations: [{ id: 'mnist', seq: 32, reason: INVALID_MNIST }],
  affected: [
    { id: 'train', kind: 'run', name: 'train resnet', version: 2, deleted: false, depth: 1, path: ['mnist', 'train'], invalidations: [] },
    { id: 'resnet', kind: 'model', name: 'resnet', version: 1, deleted: false, depth: 2, path: ['mnist', 'train', 'resnet'], invalidations: [{ id: 'resnet', seq: 33, reason: INVALID_RESNET, version: 1 }] },
    { id: 'eval', kind: 'run', name: 'evaluate resnet', version: 2, deleted: false, depth: 3, path: ['mnist', 'train', 'resnet', 'eval'], invalidations: [] },
    { id: 'results', kind: 'evaluation', name: 'results', version: 1, deleted: false, depth: 4, path: ['mnist', 'train', 'resnet', 'eval', 'results'], invalidations: [] },
  ],
};

describe('impact --json prints {root, atSeq, invalidations, affected} (SPEC §23.2, §24)', () => {
  it('of the invalid mnist: every record downstream with its path, resnet carrying its own invalidation', async () => {
    const text = ok(await read(['--json', 'impact', 'mnist']));
    expect(JSON.parse(text)).toEqual(MNIST_IMPACT);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['root', 'atSeq', 'invalidations', 'affected']);
    expect(Object.keys((JSON.parse(text) as ImpactJson).affected[0]!)).toEqual(['id', 'kind', 'name', 'version', 'deleted', 'depth', 'path', 'invalidations']);
    expect(lines(text)).toHaveLength(1);
  });

  it('--at SEQ and --at TIME: before the evaluation was linked it is not affected, and nothing was invalid yet', async () => {
    const [at25, atTime31, atTime32] = await Promise.all([
      read(['--json', 'impact', 'mnist', '--at', '25']),
      read(['--json', 'impact', 'mnist', '--at', iso(f.timeMs[32]! - 1)]),
      read(['--json', 'impact', 'mnist', '--at', iso(f.timeMs[32]!)]),
    ]);
    const then = JSON.parse(ok(at25)) as ImpactJson;
    expect({ atSeq: then.atSeq, invalidations: then.invalidations, affected: then.affected.map((a) => [a.id, a.version, a.invalidations]) }).toEqual({
      atSeq: 25,
      invalidations: [],
      affected: [
        ['train', 2, []],
        ['resnet', 1, []],
      ],
    });
    const before = JSON.parse(ok(atTime31)) as ImpactJson;
    const from = JSON.parse(ok(atTime32)) as ImpactJson;
    expect([before.atSeq, before.invalidations, before.affected.length]).toEqual([31, [], 4]);
    expect([from.atSeq, from.invalidations]).toEqual([32, MNIST_IMPACT.invalidations]);
  });
});

describe('impact prints why the root is invalid, then each record downstream indented by its depth with its path, then a count (SPEC §24)', () => {
  it('every affected record of --json appears in the text, in the same order, flagged when itself invalid', async () => {
    const text = lines(ok(await read(['impact', 'mnist'])));
    expect(text).toHaveLength(1 + MNIST_IMPACT.affected.length + 1);
    expect(text[0]).toMatch(/^mnist /);
    // SPEC §24: the reason is quoted as a JSON string.
    expect(text[0]).toContain(`every version: ${JSON.stringify(INVALID_MNIST)}, seq 32`);
    MNIST_IMPACT.affected.forEach((node, i) => {
      const line = text[i + 1]!;
      expect(line.startsWith(`${'  '.repeat(node.depth)}${node.id} `), line).toBe(true);
      expect(line, line).toContain(`${node.kind} v${node.version}`);
      expect(line, line).toContain(node.path.join(' ← '));
      expect(line.includes('invalid'), line).toBe(node.invalidations.length > 0);
    });
    expect(text.at(-1)).toMatch(/^4 record\(s\) affected$/);
  });

  it('a root that is not invalid says so, and a root with nothing downstream counts 0', async () => {
    const [testset, results] = await Promise.all([read(['impact', 'testset']), read(['impact', 'results'])]);
    const testsetLines = lines(ok(testset));
    expect(testsetLines[0]).toMatch(/^testset is not invalid\b/);
    expect(testsetLines.slice(1).map((line) => line.trim().split(' ')[0])).toEqual(['eval', 'results', '2']);
    expect(lines(ok(results))).toEqual([expect.stringMatching(/^results is not invalid\b/), '0 record(s) affected']);
  });

  it('a reason with a line break cannot break the lines: the text keeps one line per record', async () => {
    const dir = await copyOfLedger(f);
    ok(await runCli(['--ledger', dir, '--key', f.ownerKey, 'record', 'invalidate', 'testset', '--reason', 'leaked\ninto training \u001b[31m(red)']));
    const text = lines(ok(await runCli(['--ledger', dir, 'impact', 'testset'])));
    expect(text).toHaveLength(1 + 2 + 1);
    expect(text.join('\n')).not.toContain('\u001b');
  });
});

/** [id, depth, licence, flags] of a licence report, flags as n(on-commercial) d(erivatives) s(hare-alike) u(nknown). */
const licensed = (report: LicensesJson) =>
  report.records.map((r) => [r.id, r.depth, r.license, `${r.nonCommercial ? 'n' : '-'}${r.noDerivatives ? 'd' : '-'}${r.shareAlike ? 's' : '-'}${r.unknown ? 'u' : '-'}`]);

const RESNET_RECORDS = [
  ['resnet', 0, 'Apache-2.0', '----'],
  ['base', 2, 'CC-BY-ND-4.0', '-d--'],
  ['cfg', 2, 'NONE', 'nd--'],
  ['crawl', 2, 'unknown', '---u'],
  ['faces', 2, 'CC-BY-NC-4.0', 'n---'],
  ['mixed', 2, 'MIT OR CC-BY-NC-4.0', '----'],
  ['mnist', 2, 'CC-BY-SA-4.0', '--s-'],
  ['relabelled', 2, 'MIT', '----'],
  ['train.py', 2, 'MIT', '----'],
];
/** [code, record, licence, severity] of each finding, in the order of the library (and of --json). */
const RESNET_FINDINGS = [
  ['NO_DERIVATIVES_UPSTREAM', 'base', 'CC-BY-ND-4.0', 'conflict'],
  ['NO_LICENSE', 'cfg', 'NONE', 'conflict'],
  ['UNKNOWN_LICENSE', 'crawl', 'unknown', 'unknown'],
  ['NON_COMMERCIAL_UPSTREAM', 'faces', 'CC-BY-NC-4.0', 'conflict'],
  ['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-4.0', 'notice'],
];
/** The text prints conflicts first, then unknown, then notices, in that order within a severity (SPEC §24). */
const RESNET_FINDINGS_TEXT = [
  ['NO_DERIVATIVES_UPSTREAM', 'base', 'CC-BY-ND-4.0'],
  ['NO_LICENSE', 'cfg', 'NONE'],
  ['NON_COMMERCIAL_UPSTREAM', 'faces', 'CC-BY-NC-4.0'],
  ['UNKNOWN_LICENSE', 'crawl', 'unknown'],
  ['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-4.0'],
];
/** The kind of each record of RESNET_RECORDS. */
const RESNET_KINDS: Record<string, string> = {
  resnet: 'model',
  base: 'model',
  cfg: 'config',
  crawl: 'dataset',
  faces: 'dataset',
  mixed: 'dataset',
  mnist: 'dataset',
  relabelled: 'dataset',
  'train.py': 'software',
};

describe('licenses --json prints {root, atSeq, records, findings} (SPEC §23.3, §24)', () => {
  it('of resnet: the root, then each licensed record upstream (runs and contexts skipped), and one finding per restriction with its severity; a conflict exits 1', async () => {
    const text = conflict(await read(['--json', 'licenses', 'resnet']));
    const report = JSON.parse(text) as LicensesJson;
    expect(Object.keys(report)).toEqual(['root', 'atSeq', 'records', 'findings']);
    expect([report.root, report.atSeq]).toEqual(['resnet', HEAD_SEQ]);
    expect(licensed(report)).toEqual(RESNET_RECORDS);
    expect(report.findings.map((x) => [x.code, x.recordId, x.license, x.severity])).toEqual(RESNET_FINDINGS);
    expect(report.records[7]).toEqual({
      id: 'relabelled',
      kind: 'dataset',
      depth: 2,
      path: ['resnet', 'train', 'relabelled'],
      license: 'MIT',
      declared: 'CC-BY-NC-4.0',
      concluded: 'MIT',
      nonCommercial: false,
      noDerivatives: false,
      shareAlike: false,
      unknown: false,
    });
    expect(Object.keys(report.findings[0]!).sort()).toEqual(['code', 'license', 'message', 'recordId', 'severity']);
    expect(lines(text)).toHaveLength(1);
  });

  it('--at a seq before relabelled\'s licence was concluded shows the declared CC-BY-NC-4.0 and its finding', async () => {
    const report = JSON.parse(conflict(await read(['--json', 'licenses', 'resnet', '--at', '30']))) as LicensesJson;
    expect(report.atSeq).toBe(30);
    expect(licensed(report)[7]).toEqual(['relabelled', 2, 'CC-BY-NC-4.0', 'n---']);
    expect(report.findings.map((x) => [x.code, x.recordId, x.severity])).toContainEqual(['NON_COMMERCIAL_UPSTREAM', 'relabelled', 'conflict']);
  });
});

describe('licenses prints one line per record with kind, licence, flags and path, then the findings, conflicts first (SPEC §24)', () => {
  it('records as in --json, not indented, "via" the path beyond the root; findings one per line, tab-separated: code, record, licence, message', async () => {
    const text = lines(conflict(await read(['licenses', 'resnet'])));
    expect(text).toHaveLength(RESNET_RECORDS.length + RESNET_FINDINGS_TEXT.length);
    const flagWords: Record<string, string> = { n: 'non-commercial', d: 'no-derivatives', s: 'share-alike', u: 'UNKNOWN' };
    // Every record upstream of resnet is reached through the train run: path resnet → train → ID.
    expect(text.slice(0, RESNET_RECORDS.length)).toEqual(
      RESNET_RECORDS.map(([id, depth, license, flags]) => {
        const words = [...(flags as string)].filter((c) => c !== '-').map((c) => flagWords[c]!);
        const via = depth === 0 ? '' : `  via resnet → train → ${id as string}`;
        return `${id as string}  (${RESNET_KINDS[id as string]!})  ${license as string}${words.length === 0 ? '' : `  [${words.join(', ')}]`}${via}`;
      }),
    );
    expect(text.slice(RESNET_RECORDS.length).map((line) => line.split('\t').slice(0, 3))).toEqual(RESNET_FINDINGS_TEXT);
    for (const line of text.slice(RESNET_RECORDS.length)) expect(line.split('\t')).toHaveLength(4);
  });

  it('a root with nothing upstream: its own line, and a line saying there is no conflict (no tab, no code)', async () => {
    const text = lines(ok(await read(['licenses', 'faces'])));
    expect(text).toHaveLength(2);
    expect(text[0]).toMatch(/^faces .*CC-BY-NC-4\.0 {2}\[non-commercial\]$/);
    expect(text[1]).not.toMatch(/\t|_UPSTREAM|_LICENSE/);
  });

  it('a conflict upstream exits 1 with the report on stdout; findings that are only notices exit 0', async () => {
    const results = lines(conflict(await read(['licenses', 'results'])));
    expect(results[0]).toMatch(/^results {2}\(evaluation\) {2}CC-BY-4\.0$/);
    expect(results.filter((line) => line.includes('\t')).map((line) => line.split('\t')[0])).toEqual([
      'NO_DERIVATIVES_UPSTREAM', 'NO_LICENSE', 'NON_COMMERCIAL_UPSTREAM', 'UNKNOWN_LICENSE', 'SHARE_ALIKE_UPSTREAM',
    ]);
    // At 13 the train run had used mnist alone: a share-alike notice, no conflict.
    const notice = lines(ok(await read(['licenses', 'train', '--at', '13'])));
    expect(notice.filter((line) => line.includes('\t')).map((line) => line.split('\t').slice(0, 3))).toEqual([['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-4.0']]);
  });
});

describe('dataset diff --json prints {from, to, identical, compared, added, removed, changed, unchanged} (SPEC §23.4, §24)', () => {
  it('mnist@1 mnist@2: what was added, removed and changed, by path', async () => {
    const text = ok(await read(['--json', 'dataset', 'diff', 'mnist@1', 'mnist@2']));
    expect(JSON.parse(text)).toEqual({
      from: { id: 'mnist', version: 1, sha256: manifest(MNIST_1).sha256 },
      to: { id: 'mnist', version: 2, sha256: manifest(MNIST_2).sha256 },
      identical: false,
      compared: true,
      added: [MNIST_2[2]],
      removed: [MNIST_1[2]],
      changed: [{ path: 'b.png', from: { sha256: MNIST_1[1]!.sha256, size: MNIST_1[1]!.size }, to: { sha256: MNIST_2[1]!.sha256, size: MNIST_2[1]!.size } }],
      unchanged: 2,
    });
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['from', 'to', 'identical', 'compared', 'added', 'removed', 'changed', 'unchanged']);
    expect(lines(text)).toHaveLength(1);
  });

  it('identical content (relabelled@1 relabelled@2, only the licence changed), and versions without members (compared: false)', async () => {
    const [same, single] = await Promise.all([read(['--json', 'dataset', 'diff', 'relabelled@1', 'relabelled@2']), read(['--json', 'dataset', 'diff', 'faces@1', 'crawl@1'])]);
    expect(JSON.parse(ok(same))).toMatchObject({ identical: true, compared: true, added: [], removed: [], changed: [], unchanged: 2 });
    expect(JSON.parse(ok(single))).toEqual({
      from: { id: 'faces', version: 1, sha256: file('faces').sha256 },
      to: { id: 'crawl', version: 1, sha256: file('crawl').sha256 },
      identical: false,
      compared: false,
      added: [],
      removed: [],
      changed: [],
      unchanged: 0,
    });
  });
});

describe('dataset diff prints a header, one line per member added (+), removed (-) or changed (~), then the counts (SPEC §24)', () => {
  it('mnist@1 mnist@2', async () => {
    const text = lines(ok(await read(['dataset', 'diff', 'mnist@1', 'mnist@2'])));
    expect(text).toHaveLength(5);
    expect(text[0]).toMatch(/^mnist@1 → mnist@2: /);
    expect(text[1]!.split('\t')).toEqual(['+ d.png', MNIST_2[2]!.sha256, String(MNIST_2[2]!.size)]);
    expect(text[2]!.split('\t')).toEqual(['- c.png', MNIST_1[2]!.sha256, String(MNIST_1[2]!.size)]);
    expect(text[3]!.split('\t')).toEqual(['~ b.png', `${MNIST_1[1]!.sha256} → ${MNIST_2[1]!.sha256}`, `${MNIST_1[1]!.size} → ${MNIST_2[1]!.size}`]);
    expect(text[4]).toMatch(/^1 added, 1 removed, 1 changed, 2 unchanged$/);
  });

  it('versions without members: the header alone; identical content: the header and a count with no changes', async () => {
    const [single, same] = await Promise.all([read(['dataset', 'diff', 'faces@1', 'crawl@1']), read(['dataset', 'diff', 'relabelled@1', 'relabelled@2'])]);
    expect(lines(ok(single))).toEqual([expect.stringMatching(/^faces@1 → crawl@1: /)]);
    expect(lines(ok(same))).toEqual([expect.stringMatching(/^relabelled@1 → relabelled@2: /), expect.stringMatching(/^0 added, 0 removed, 0 changed, 2 unchanged$/)]);
  });
});

describe('the read-only commands never load the key (SPEC §10.1: the key is read only by commands that write)', () => {
  const READS: readonly (readonly string[])[] = [
    ['impact', 'mnist'],
    ['--json', 'impact', 'mnist', '--at', '25'],
    ['licenses', 'resnet'],
    ['dataset', 'diff', 'mnist@1', 'mnist@2'],
  ];

  it.concurrent.for(READS)('%s with PROVLEDGER_KEY or --key naming a missing file prints what it prints without', async (args, { expect: check }) => {
    // `licenses resnet` has conflicts upstream, so it exits 1 (SPEC §24); the others exit 0.
    const outcome = (result: RunResult) => ({ exit: result.code, stdout: result.stdout, stderr: result.stderr });
    const plain = outcome(await read(args));
    check({ exit: plain.exit, stderr: plain.stderr }).toEqual({ exit: args.includes('licenses') ? 1 : 0, stderr: '' });
    check(plain.stdout).not.toBe('');
    check(outcome(await read(args, { env: { PROVLEDGER_KEY: f.missingKey } }))).toEqual(plain);
    check(outcome(await read(['--key', f.missingKey, ...args]))).toEqual(plain);
  });

  it('record invalidate with the same PROVLEDGER_KEY does read it, and is refused (KEY_INVALID)', async () => {
    const dir = await copyOfLedger(f);
    const result = await runCli(['--ledger', dir, 'record', 'invalidate', 'faces', '--reason', 'x'], { env: { PROVLEDGER_KEY: f.missingKey } });
    expectRefusal(result, 2, 'KEY_INVALID', expect);
    expect(await storeDigest(dir)).toBe(f.storeDigest);
  });
});

const owner = (dir: string) => ['--ledger', dir, '--key', f.ownerKey];
const reader = (dir: string) => ['--ledger', dir];
const invalidate = (...rest: string[]) => (dir: string) => [...owner(dir), 'record', 'invalidate', ...rest];
const impact = (...rest: string[]) => (dir: string) => [...reader(dir), 'impact', ...rest];
const licenses = (...rest: string[]) => (dir: string) => [...reader(dir), 'licenses', ...rest];
const diff = (...rest: string[]) => (dir: string) => [...reader(dir), 'dataset', 'diff', ...rest];

const BAD_INPUT: readonly BadInput[] = [
  // SPEC §23.1: what may be invalidated
  { name: 'invalidate an unknown record', args: invalidate('ghost', '--reason', 'x'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'invalidate --version beyond the latest', args: invalidate('faces', '--version', '2', '--reason', 'x'), code: 'VERSION_NOT_FOUND', opens: true },
  { name: 'invalidate the same version twice (resnet v1)', args: invalidate('resnet', '--version', '1', '--reason', 'again'), code: 'ALREADY_INVALID', opens: true },
  { name: 'invalidate the whole record twice (mnist)', args: invalidate('mnist', '--reason', 'again'), code: 'ALREADY_INVALID', opens: true },
  { name: 'invalidate a version of a record invalid as a whole', args: invalidate('mnist', '--version', '2', '--reason', 'x'), code: 'ALREADY_INVALID', opens: true },
  { name: 'invalidate --reason ""', args: invalidate('faces', '--reason', ''), code: 'INVALID_ARGUMENT', opens: true },
  { name: 'invalidate --reason of 501 characters', args: invalidate('faces', '--reason', 'r'.repeat(501)), code: 'INVALID_ARGUMENT', opens: true },
  { name: 'invalidate id a/b', args: invalidate('a/b', '--reason', 'x'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'invalidate -- -x', args: (d) => [...owner(d), 'record', 'invalidate', '--reason', 'x', '--', '-x'], code: 'INVALID_RECORD_ID', opens: true },
  { name: 'invalidate --version 0', args: invalidate('faces', '--version', '0', '--reason', 'x'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'invalidate --version abc', args: invalidate('faces', '--version', 'abc', '--reason', 'x'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'invalidate without --reason', args: invalidate('faces'), code: 'USAGE', opens: false },
  { name: 'invalidate without an id', args: invalidate('--reason', 'x'), code: 'USAGE', opens: false },
  { name: 'invalidate without a key', args: (d) => [...reader(d), 'record', 'invalidate', 'faces', '--reason', 'x'], code: 'USAGE', opens: false },
  { name: 'invalidate with a missing key file', args: (d) => ['--ledger', d, '--key', f.missingKey, 'record', 'invalidate', 'faces', '--reason', 'x'], code: 'KEY_INVALID', opens: false },
  { name: 'invalidate with a key that is no key of the ledger', args: (d) => ['--ledger', d, '--key', f.strangerKey, 'record', 'invalidate', 'faces', '--reason', 'x'], code: 'KEY_NOT_AUTHORIZED', opens: true },

  // SPEC §23.2, §23.3: the root and the point
  { name: 'impact of an unknown record', args: impact('ghost'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'impact --at a seq before the root was created', args: impact('resnet', '--at', '20'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'impact of id a/b', args: impact('a/b'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'impact --at garbage', args: impact('mnist', '--at', 'garbage'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'impact --at a seq beyond the head', args: impact('mnist', '--at', String(HEAD_SEQ + 1)), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'impact --at before the genesis', args: impact('mnist', '--at', '2000-01-01T00:00:00Z'), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'impact without an id', args: impact(), code: 'USAGE', opens: false },
  { name: 'licenses of an unknown record', args: licenses('ghost'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'licenses --at a seq before the root was created', args: licenses('results', '--at', '24'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'licenses of a 129-character id', args: licenses('a'.repeat(129)), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'licenses --at garbage', args: licenses('resnet', '--at', '30x'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'licenses --at a seq beyond the head', args: licenses('resnet', '--at', '999'), code: 'AT_OUT_OF_RANGE', opens: true },

  // SPEC §23.4: the two versions
  { name: 'diff with a tombstone', args: diff('gone@1', 'gone@2'), code: 'INVALID_ARGUMENT', opens: true },
  { name: 'diff with a version beyond the latest', args: diff('mnist@1', 'mnist@3'), code: 'VERSION_NOT_FOUND', opens: true },
  { name: 'diff with an unknown record', args: diff('ghost@1', 'mnist@1'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'diff with id a/b', args: diff('a/b@1', 'mnist@1'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'diff without a version', args: diff('mnist', 'mnist@2'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'diff with an empty version', args: diff('mnist@1', 'mnist@'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'diff with an empty id', args: diff('@1', 'mnist@2'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'diff with version 0', args: diff('mnist@0', 'mnist@2'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'diff with one version', args: diff('mnist@1'), code: 'USAGE', opens: false },
  { name: 'dataset with an unknown subcommand', args: (d) => [...reader(d), 'dataset', 'compare', 'mnist@1', 'mnist@2'], code: 'USAGE', opens: false },
];

describe('bad provenance input is refused with exit 2 and one coded line, the ledger unchanged (SPEC §10.2, §23)', () => {
  it.concurrent.for(BAD_INPUT)('$name → $code', async (c, { expect: check }) => {
    const dir = await copyOfLedger(f);
    await expectBadInputRefused(dir, c.args(dir), c, f.storeDigest, check);
  });

  it('ALREADY_INVALID names the earlier reason on one line, even when that reason has a line break', async () => {
    const dir = await copyOfLedger(f);
    ok(await runCli(['--ledger', dir, '--key', f.ownerKey, 'record', 'invalidate', 'faces', '--reason', 'consent\nwithdrawn']));
    const digest = await storeDigest(dir);
    expectRefusal(await runCli(['--ledger', dir, '--key', f.ownerKey, 'record', 'invalidate', 'faces', '--reason', 'again']), 2, 'ALREADY_INVALID', expect);
    expect(await storeDigest(dir)).toBe(digest);
  });
});

describe('impact, licenses and dataset diff only read the ledger', () => {
  it('after every read above, each reader copy holds exactly what it held before', async () => {
    for (const dir of f.readers) expect(await storeDigest(dir)).toBe(f.storeDigest);
  });
});
