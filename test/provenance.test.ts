/**
 * SPEC §23 through the library: the provenance questions of issue 5 asked of a whole ML pipeline.
 * One describe per rule: invalidation (§23.1) and its refusals, each with its exact code and the store byte for
 * byte as it was; impact downstream (§23.2); licences upstream with their findings (§23.3); what changed between
 * two versions of a dataset (§23.4); and the `iv` index against an attacker with the files (§23.1): tampered
 * entries are PROJECTION_MISMATCH, forged but validly signed invalidations of what did not exist are
 * BAD_RECORD_EVENT and get no entry, and a rebuild re-derives the index byte for byte.
 *
 * Digests and the `iv` layout are written out here from SPEC §21.2 and §23.1, independently of src. Codes are
 * asserted, never messages; verify findings are compared as [seq, code] pairs in report order.
 *
 * The pipeline ledger, built once and copied for each test that writes (seq: what):
 *    1 artifact mnist v1 (dataset, CC-BY-SA-4.0, manifest a.png b.png c.png labels.csv)
 *    2 artifact faces (dataset, CC-BY-NC-4.0)    3 artifact crawl (dataset, unknown)
 *    4 artifact mixed (dataset, MIT OR CC-BY-NC-4.0)
 *    5 artifact relabelled v1 (dataset, declared CC-BY-NC-4.0, manifest r1.csv r2.csv)
 *    6 artifact base (model, CC-BY-ND-4.0)       7 artifact train.py (software, MIT)
 *    8 artifact cfg (config, NONE)               9 artifact testset (dataset, CC-BY-4.0)
 *   10 context pipeline                         11 artifact mnist v2 (b.png changed, c.png removed, d.png added,
 *                                                  labels.csv one byte longer with the same digest)
 *   12 run train started, its `used` links 13–20: mnist (train), faces (train), crawl (train), mixed (train),
 *      relabelled (train), base (base-model), train.py (code), cfg (config)
 *   21 artifact resnet (model, Apache-2.0)      22 train finished, 23 train generated resnet
 *   24 resnet dependsOn pipeline                25 artifact results (evaluation, CC-BY-4.0)
 *   26 run eval started, its `used` links 27–28: resnet (eval), testset (test)
 *   29 eval finished, 30 eval generated results
 *   31 relabelled v2: the same content, licence concluded MIT
 *   32 mnist invalidated (every version)        33 resnet version 1 invalidated
 *   34 artifact gone (dataset)                  35 gone deleted
 * So, "→" meaning "depends on": results → eval → {resnet, testset}; resnet → {train, pipeline};
 * train → {mnist, faces, crawl, mixed, relabelled, base, train.py, cfg}.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import { encodeCanonical } from '../src/codec/canonical.js';
import type { JsonValue } from '../src/event/event.js';
import { Ledger, type ArtifactContent } from '../src/index.js';
import type { LicensedRecord } from '../src/provenance.js';
import { codeOf } from './helpers/codes.js';
import { ownerKey } from './helpers/events.js';
import { appendForged } from './helpers/forge.js';
import { editIndexes, seqKey, storeDigest, type RawIndexes } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';
import { file, manifest, member } from './helpers/content.js';
import { createOptions, findings, outcomes, template, withOpen } from './helpers/ledgers.js';

const HEAD_SEQ = 35;

// ---------------------------------------------------------------------------------------------------------
// Content, written out from SPEC §21.2 without src (test/helpers/content.ts): a file's digest is the SHA-256 of
// its bytes; a manifest's is the SHA-256 of `sha256sum`'s output for its members, sorted by path.
// ---------------------------------------------------------------------------------------------------------

const MNIST_1 = [member('a.png', 'seven'), member('b.png', 'four'), member('c.png', 'nine'), member('labels.csv', 'a,7\nb,4\nc,9\n')];
const MNIST_2 = [
  MNIST_1[0]!,
  member('b.png', 'four, relabelled'),
  member('d.png', 'one'),
  // The same digest with another size: a change all the same (SPEC §23.4 compares both).
  { ...MNIST_1[3]!, size: MNIST_1[3]!.size + 1 },
];
const RELABELLED = [member('r1.csv', 'x,4\n'), member('r2.csv', 'y,9\n')];

const INVALID_MNIST = 'labels 4 and 9 swapped';
const INVALID_RESNET = 'trained on the mislabelled mnist';

async function buildPipeline(dir: string): Promise<void> {
  const ledger = await Ledger.create(dir, createOptions());
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
    expect(await add('dataset', 'mnist', undefined, manifest(MNIST_2))).toMatchObject({ version: 2, seq: 11 });
    await ledger.runs.start({
      kind: 'train',
      name: 'train resnet',
      id: 'train',
      inputs: [
        { id: 'mnist', role: 'train' },
        { id: 'faces', role: 'train' },
        { id: 'crawl', role: 'train' },
        { id: 'mixed', role: 'train' },
        { id: 'relabelled', role: 'train' },
        { id: 'base', role: 'base-model' },
        { id: 'train.py', role: 'code' },
        { id: 'cfg', role: 'config' },
      ],
    });
    expect(await add('model', 'resnet', 'Apache-2.0', file('resnet weights'))).toMatchObject({ seq: 21 });
    await ledger.runs.finish('train', { status: 'completed', outputs: ['resnet'], metrics: { loss: 0.1 } });
    await ledger.links.add({ from: 'resnet', to: 'pipeline', rel: 'dependsOn' });
    await add('evaluation', 'results', 'CC-BY-4.0', file('accuracy 0.97'));
    await ledger.runs.start({ kind: 'evaluate', name: 'evaluate resnet', id: 'eval', inputs: [{ id: 'resnet', role: 'eval' }, { id: 'testset', role: 'test' }] });
    // SPEC §21.3: finish returns its last link (the `generated` link to results, seq 30); the record event is 29.
    expect((await ledger.runs.finish('eval', { status: 'completed', outputs: ['results'] })).seq).toBe(30);
    const relabelled = await ledger.records.get('relabelled');
    await ledger.records.update('relabelled', { ...relabelled.data, license: { declared: 'CC-BY-NC-4.0', concluded: 'MIT' } });
    expect((await ledger.provenance.invalidate('mnist', { reason: INVALID_MNIST })).seq).toBe(32);
    expect((await ledger.provenance.invalidate('resnet', { version: 1, reason: INVALID_RESNET })).seq).toBe(33);
    await add('dataset', 'gone', 'MIT', file('gone'));
    await ledger.records.delete('gone');
    expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
    expect((await ledger.verify()).failures).toEqual([]);
  } finally {
    await ledger.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The `iv` index, written out from SPEC §23.1: id ‖ 0x00 ‖ uint64be(seq) → canonical CBOR {reason, version}.
// ---------------------------------------------------------------------------------------------------------
const utf8 = new TextEncoder();

function ivKey(id: string, seq: number): Uint8Array {
  const head = utf8.encode(`${id}\0`);
  const key = new Uint8Array(head.length + 8);
  key.set(head);
  key.set(seqKey(seq), head.length);
  return key;
}

const ivValue = (reason: string, version: number | null) => encodeCanonical({ reason, version });

/** Every `iv` entry, as hex lines. */
async function dumpIv(dir: string): Promise<string[]> {
  return editIndexes(dir, async (ix) => {
    const lines: string[] = [];
    for await (const [key, value] of ix.iv.iterator()) lines.push(`${toHex(key)} ${toHex(value)}`);
    return lines;
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('SPEC §23.1: invalidate marks a record, or one version of it, invalid with a signed event; nothing is deleted', () => {
  const fresh = template(buildPipeline);

  it('the whole record: one record.invalidate event {id, reason}; the record stays readable; verify ok', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const result = await ledger.provenance.invalidate('faces', { reason: 'consent withdrawn' });
      expect(result.seq).toBe(HEAD_SEQ + 1);
      const event = await ledger.get(result.seq);
      expect([event.type, event.payload, event.hash]).toEqual(['record.invalidate', { id: 'faces', reason: 'consent withdrawn' }, result.hash]);
      expect(await ledger.provenance.invalidations('faces')).toEqual([{ id: 'faces', seq: result.seq, reason: 'consent withdrawn' }]);
      expect(await ledger.records.get('faces')).toMatchObject({ version: 1, deleted: false });
      expect((await ledger.verify()).failures).toEqual([]);
    });
    expect(await dumpIv(dir)).toContain(`${toHex(ivKey('faces', HEAD_SEQ + 1))} ${toHex(ivValue('consent withdrawn', null))}`);
  });

  it('one version: the payload names it; another version, then the whole record, may follow', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      const first = await ledger.provenance.invalidate('relabelled', { version: 1, reason: 'NC by mistake' });
      expect((await ledger.get(first.seq)).payload).toEqual({ id: 'relabelled', reason: 'NC by mistake', version: 1 });
      const second = await ledger.provenance.invalidate('relabelled', { version: 2, reason: 'r2 is corrupt' });
      const whole = await ledger.provenance.invalidate('relabelled', { reason: 'withdrawn' });
      expect(await ledger.provenance.invalidations('relabelled')).toEqual([
        { id: 'relabelled', seq: first.seq, reason: 'NC by mistake', version: 1 },
        { id: 'relabelled', seq: second.seq, reason: 'r2 is corrupt', version: 2 },
        { id: 'relabelled', seq: whole.seq, reason: 'withdrawn' },
      ]);
      expect((await ledger.verify()).failures).toEqual([]);
    });
    expect(await dumpIv(dir)).toContain(`${toHex(ivKey('relabelled', HEAD_SEQ + 1))} ${toHex(ivValue('NC by mistake', 1))}`);
  });

  it('a reason of exactly 500 characters, and a deleted record, may be invalidated', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      expect((await ledger.provenance.invalidate('crawl', { reason: 'r'.repeat(500) })).seq).toBe(HEAD_SEQ + 1);
      expect((await ledger.provenance.invalidate('gone', { version: 1, reason: 'was never cleared' })).seq).toBe(HEAD_SEQ + 2);
    });
  });

  it('the fixture: mnist invalid as a whole at seq 32, resnet version 1 at seq 33, laid out in iv as SPEC §23.1 says', async () => {
    const dir = await fresh();
    expect(await dumpIv(dir)).toEqual([
      `${toHex(ivKey('mnist', 32))} ${toHex(ivValue(INVALID_MNIST, null))}`,
      `${toHex(ivKey('resnet', 33))} ${toHex(ivValue(INVALID_RESNET, 1))}`,
    ]);
  });
});

describe('SPEC §23.1: an invalidation the rules refuse fails with its code and leaves the store byte for byte unchanged', () => {
  const fresh = template(buildPipeline);

  it.each<{ name: string; id: string; version?: number; reason: string; code: string }>([
    { name: 'an unknown record', id: 'ghost', reason: 'x', code: 'RECORD_NOT_FOUND' },
    { name: 'a version after the latest', id: 'faces', version: 2, reason: 'x', code: 'VERSION_NOT_FOUND' },
    { name: 'version 0', id: 'mnist', version: 0, reason: 'x', code: 'VERSION_NOT_FOUND' },
    { name: 'version -1', id: 'faces', version: -1, reason: 'x', code: 'VERSION_NOT_FOUND' },
    { name: 'version 1.5', id: 'faces', version: 1.5, reason: 'x', code: 'VERSION_NOT_FOUND' },
    { name: 'the same version twice (resnet v1, seq 33)', id: 'resnet', version: 1, reason: 'again', code: 'ALREADY_INVALID' },
    { name: 'the whole record twice (mnist, seq 32)', id: 'mnist', reason: 'again', code: 'ALREADY_INVALID' },
    { name: 'version 1 of a record invalid as a whole', id: 'mnist', version: 1, reason: 'x', code: 'ALREADY_INVALID' },
    { name: 'version 2 of a record invalid as a whole', id: 'mnist', version: 2, reason: 'x', code: 'ALREADY_INVALID' },
    { name: 'an empty reason', id: 'faces', reason: '', code: 'INVALID_ARGUMENT' },
    { name: 'a reason of spaces', id: 'faces', reason: '  \t ', code: 'INVALID_ARGUMENT' },
    { name: 'a reason of 501 characters', id: 'faces', reason: 'r'.repeat(501), code: 'INVALID_ARGUMENT' },
    { name: 'an empty reason for an unknown record (the input is judged first)', id: 'ghost', reason: '', code: 'INVALID_ARGUMENT' },
    { name: 'an empty id', id: '', reason: 'x', code: 'INVALID_RECORD_ID' },
    { name: 'id a/b', id: 'a/b', reason: 'x', code: 'INVALID_RECORD_ID' },
    { name: 'id -x', id: '-x', reason: 'x', code: 'INVALID_RECORD_ID' },
    { name: 'a 129-character id', id: 'a'.repeat(129), reason: 'x', code: 'INVALID_RECORD_ID' },
  ])('$code: $name', async ({ id, version, reason, code }) => {
    const dir = await fresh();
    const before = await storeDigest(dir);
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.provenance.invalidate(id, { reason, ...(version === undefined ? {} : { version }) })))).toBe(code);
    expect(await storeDigest(dir)).toBe(before);
  });

  it('ALREADY_INVALID: a version written after a whole-record invalidation is covered by it too', async () => {
    const dir = await fresh();
    const before = await withOpen(dir, async (ledger) => {
      expect(await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content: manifest(MNIST_1) })).toMatchObject({ version: 3, seq: HEAD_SEQ + 1 });
      return ledger.head();
    });
    expect(await withOpen(dir, (ledger) => codeOf(() => ledger.provenance.invalidate('mnist', { version: 3, reason: 'x' })))).toBe('ALREADY_INVALID');
    expect(await withOpen(dir, (ledger) => ledger.head())).toEqual(before);
  });
});

describe('SPEC §23.1, §6.3: within one commit group each invalidation is decided after the requests before it', () => {
  it('a record created earlier in the group may be invalidated, a version of it too', async () => {
    await withTempDir(async (root) => {
      const ledger = await Ledger.create(join(root, 'ledger'), createOptions());
      try {
        const results = await outcomes([
          ledger.records.create('dataset', { name: 'd' }, { id: 'd' }),
          ledger.provenance.invalidate('d', { version: 1, reason: 'x' }),
          ledger.provenance.invalidate('d', { version: 2, reason: 'x' }),
        ]);
        expect(results).toEqual([1, 2, 'VERSION_NOT_FOUND']);
        expect((await ledger.verify()).failures).toEqual([]);
      } finally {
        await ledger.close();
      }
    });
  });

  it('the same invalidation twice in one group: the first commits, the second is ALREADY_INVALID', async () => {
    await withTempDir(async (root) => {
      const ledger = await Ledger.create(join(root, 'ledger'), createOptions());
      try {
        await ledger.records.create('dataset', { name: 'd' }, { id: 'd' });
        const results = await outcomes([
          ledger.provenance.invalidate('d', { reason: 'first' }),
          ledger.provenance.invalidate('d', { reason: 'second' }),
          ledger.provenance.invalidate('d', { version: 1, reason: 'covered by the first' }),
        ]);
        expect(results).toEqual([2, 'ALREADY_INVALID', 'ALREADY_INVALID']);
        expect(await ledger.provenance.invalidations('d')).toEqual([{ id: 'd', seq: 2, reason: 'first' }]);
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('SPEC §23.1: invalidations as of a point', () => {
  const fresh = template(buildPipeline);
  let dir = '';
  beforeAll(async () => {
    dir = await fresh();
  });

  it('before the invalidation: none; from its seq on: it', async () => {
    await withOpen(dir, async (ledger) => {
      const mnist = { id: 'mnist', seq: 32, reason: INVALID_MNIST };
      const resnet = { id: 'resnet', seq: 33, reason: INVALID_RESNET, version: 1 };
      expect(await ledger.provenance.invalidations('mnist', { at: { seq: 31 } })).toEqual([]);
      expect(await ledger.provenance.invalidations('mnist', { at: { seq: 32 } })).toEqual([mnist]);
      expect(await ledger.provenance.invalidations('mnist')).toEqual([mnist]);
      expect(await ledger.provenance.invalidations('resnet', { at: { seq: 32 } })).toEqual([]);
      expect(await ledger.provenance.invalidations('resnet', { at: { seq: 33 } })).toEqual([resnet]);
      // A time names the last event at or before it.
      const at33 = (await ledger.get(33)).timeMs;
      expect(await ledger.provenance.invalidations('resnet', { at: { timeMs: at33 - 1 } })).toEqual([]);
      expect(await ledger.provenance.invalidations('resnet', { at: { timeMs: at33 } })).toEqual([resnet]);
    });
  });

  it('a record never invalidated has none; a point beyond the head is AT_OUT_OF_RANGE; a malformed id INVALID_RECORD_ID', async () => {
    await withOpen(dir, async (ledger) => {
      expect(await ledger.provenance.invalidations('faces')).toEqual([]);
      expect(await codeOf(() => ledger.provenance.invalidations('mnist', { at: { seq: HEAD_SEQ + 1 } }))).toBe('AT_OUT_OF_RANGE');
      expect(await codeOf(() => ledger.provenance.invalidations('a/b'))).toBe('INVALID_RECORD_ID');
    });
  });
});

describe('SPEC §23.2: impact lists everything downstream of a record, with its path, as of any point', () => {
  const fresh = template(buildPipeline);
  let dir = '';
  beforeAll(async () => {
    dir = await fresh();
  });

  /** [id, kind, version, depth, path, invalid] of each affected record, in walk order. */
  const affectedOf = (impact: { affected: readonly { id: string; kind: string; version: number; depth: number; path: readonly string[]; invalidations: readonly unknown[] }[] }) =>
    impact.affected.map((a) => [a.id, a.kind, a.version, a.depth, a.path.join(' '), a.invalidations.length > 0]);

  it('of the invalid mnist: the run that used it, the model it generated, the evaluation run and its results; resnet flagged as itself invalid', async () => {
    const impact = await withOpen(dir, (ledger) => ledger.provenance.impact('mnist'));
    expect({ root: impact.root, atSeq: impact.atSeq, invalidations: impact.invalidations }).toEqual({ root: 'mnist', atSeq: HEAD_SEQ, invalidations: [{ id: 'mnist', seq: 32, reason: INVALID_MNIST }] });
    expect(affectedOf(impact)).toEqual([
      ['train', 'run', 2, 1, 'mnist train', false],
      ['resnet', 'model', 1, 2, 'mnist train resnet', true],
      ['eval', 'run', 2, 3, 'mnist train resnet eval', false],
      ['results', 'evaluation', 1, 4, 'mnist train resnet eval results', false],
    ]);
    expect(impact.affected[1]).toEqual({
      id: 'resnet',
      kind: 'model',
      name: 'resnet',
      version: 1,
      deleted: false,
      depth: 2,
      path: ['mnist', 'train', 'resnet'],
      invalidations: [{ id: 'resnet', seq: 33, reason: INVALID_RESNET, version: 1 }],
    });
  });

  it('of other records: the walk follows every dependency relation (used, generated, dependsOn) down, never up', async () => {
    const [testset, pipeline, resnet, results] = await withOpen(dir, (ledger) =>
      Promise.all([ledger.provenance.impact('testset'), ledger.provenance.impact('pipeline'), ledger.provenance.impact('resnet'), ledger.provenance.impact('results')]),
    );
    expect(affectedOf(testset).map((a) => a[0])).toEqual(['eval', 'results']);
    expect(affectedOf(pipeline).map((a) => [a[0], a[4]])).toEqual([
      ['resnet', 'pipeline resnet'],
      ['eval', 'pipeline resnet eval'],
      ['results', 'pipeline resnet eval results'],
    ]);
    // A record not itself invalid: its impact is what would be affected; its own invalidations are reported.
    expect(resnet.invalidations).toEqual([{ id: 'resnet', seq: 33, reason: INVALID_RESNET, version: 1 }]);
    expect(affectedOf(resnet).map((a) => a[0])).toEqual(['eval', 'results']);
    expect({ invalidations: results.invalidations, affected: results.affected }).toEqual({ invalidations: [], affected: [] });
  });

  it('at a past point: what was not linked yet is not affected, and invalidations made later are not reported', async () => {
    const impactAt = (seq: number) => withOpen(dir, (ledger) => ledger.provenance.impact('mnist', { at: { seq } }));
    // 12 created the run; its link to mnist came at 13.
    expect(affectedOf(await impactAt(12))).toEqual([]);
    expect(affectedOf(await impactAt(13))).toEqual([['train', 'run', 1, 1, 'mnist train', false]]);
    // 25: the model was generated (23), the evaluation not started (26).
    const at25 = await impactAt(25);
    expect({ atSeq: at25.atSeq, invalidations: at25.invalidations }).toEqual({ atSeq: 25, invalidations: [] });
    expect(affectedOf(at25)).toEqual([
      ['train', 'run', 2, 1, 'mnist train', false],
      ['resnet', 'model', 1, 2, 'mnist train resnet', false],
    ]);
    // 32: mnist invalid, resnet not yet.
    const at32 = await impactAt(32);
    expect(at32.invalidations).toEqual([{ id: 'mnist', seq: 32, reason: INVALID_MNIST }]);
    expect(affectedOf(at32).map((a) => a[5])).toEqual([false, false, false, false]);
  });

  it('an unknown root, or one not yet created at the point, is RECORD_NOT_FOUND; a malformed id INVALID_RECORD_ID; beyond the head AT_OUT_OF_RANGE', async () => {
    await withOpen(dir, async (ledger) => {
      expect(await codeOf(() => ledger.provenance.impact('ghost'))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.provenance.impact('resnet', { at: { seq: 20 } }))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.provenance.impact('a/b'))).toBe('INVALID_RECORD_ID');
      expect(await codeOf(() => ledger.provenance.impact('mnist', { at: { seq: HEAD_SEQ + 1 } }))).toBe('AT_OUT_OF_RANGE');
    });
  });
});

/** [id, kind, depth, licence, flags] of each record of a licence report, flags as n(on-commercial) d(erivatives) s(hare-alike) u(nknown). */
const licensed = (records: readonly LicensedRecord[]) =>
  records.map((r) => [r.id, r.kind, r.depth, r.license, `${r.nonCommercial ? 'n' : '-'}${r.noDerivatives ? 'd' : '-'}${r.shareAlike ? 's' : '-'}${r.unknown ? 'u' : '-'}`]);
const findingsOf = (report: { findings: readonly { code: string; recordId: string; license: string }[] }) => report.findings.map((f) => [f.code, f.recordId, f.license]);

/** The five findings upstream of resnet now, in walk order (base, cfg, crawl, faces, …, mnist). */
const RESNET_FINDINGS = [
  ['NO_DERIVATIVES_UPSTREAM', 'base', 'CC-BY-ND-4.0'],
  ['NO_LICENSE', 'cfg', 'NONE'],
  ['UNKNOWN_LICENSE', 'crawl', 'unknown'],
  ['NON_COMMERCIAL_UPSTREAM', 'faces', 'CC-BY-NC-4.0'],
  ['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-4.0'],
];

describe('SPEC §23.3: licenses lists the root, then everything upstream with its licence, flags and findings', () => {
  const fresh = template(buildPipeline);
  let dir = '';
  beforeAll(async () => {
    dir = await fresh();
  });

  it('of resnet: each upstream licence flagged, one finding per restriction, for the right record', async () => {
    const report = await withOpen(dir, (ledger) => ledger.provenance.licenses('resnet'));
    expect({ root: report.root, atSeq: report.atSeq }).toEqual({ root: 'resnet', atSeq: HEAD_SEQ });
    expect(licensed(report.records)).toEqual([
      ['resnet', 'model', 0, 'Apache-2.0', '----'],
      ['base', 'model', 2, 'CC-BY-ND-4.0', '-d--'],
      // NONE grants nothing: all rights reserved.
      ['cfg', 'config', 2, 'NONE', 'nd--'],
      ['crawl', 'dataset', 2, 'unknown', '---u'],
      ['faces', 'dataset', 2, 'CC-BY-NC-4.0', 'n---'],
      // Judged on its most permissive choice: MIT.
      ['mixed', 'dataset', 2, 'MIT OR CC-BY-NC-4.0', '----'],
      ['mnist', 'dataset', 2, 'CC-BY-SA-4.0', '--s-'],
      ['relabelled', 'dataset', 2, 'MIT', '----'],
      ['train.py', 'software', 2, 'MIT', '----'],
    ]);
    expect(findingsOf(report)).toEqual(RESNET_FINDINGS);
    expect(report.records.find((r) => r.id === 'mnist')).toEqual({
      id: 'mnist',
      kind: 'dataset',
      depth: 2,
      path: ['resnet', 'train', 'mnist'],
      license: 'CC-BY-SA-4.0',
      declared: 'CC-BY-SA-4.0',
      concluded: null,
      nonCommercial: false,
      noDerivatives: false,
      shareAlike: true,
      unknown: false,
    });
  });

  it('`MIT OR CC-BY-NC-4.0` gives no conflict: nothing is found for mixed', async () => {
    const report = await withOpen(dir, (ledger) => ledger.provenance.licenses('resnet'));
    expect(report.findings.filter((f) => f.recordId === 'mixed')).toEqual([]);
  });

  it('runs and contexts are skipped: neither train, eval nor pipeline is listed or found unknown, though the walk passes through them', async () => {
    const report = await withOpen(dir, (ledger) => ledger.provenance.licenses('results'));
    expect(licensed(report.records).map((r) => r[0])).toEqual(['results', 'resnet', 'testset', 'base', 'cfg', 'crawl', 'faces', 'mixed', 'mnist', 'relabelled', 'train.py']);
    expect(report.records.find((r) => r.id === 'faces')!.path).toEqual(['results', 'eval', 'resnet', 'train', 'faces']);
    // Findings reach through every level: the same five as for the model the results evaluate.
    expect(findingsOf(report)).toEqual(RESNET_FINDINGS);
  });

  it('the root itself is listed whatever its kind, and its own licence is never a finding', async () => {
    const [faces, train] = await withOpen(dir, (ledger) => Promise.all([ledger.provenance.licenses('faces'), ledger.provenance.licenses('train')]));
    expect({ records: licensed(faces.records), findings: faces.findings }).toEqual({ records: [['faces', 'dataset', 0, 'CC-BY-NC-4.0', 'n---']], findings: [] });
    expect(licensed(train.records)[0]).toEqual(['train', 'run', 0, 'unknown', '---u']);
    expect(findingsOf(train)).toEqual(RESNET_FINDINGS);
  });

  it('concluded wins over declared: relabelled, declared CC-BY-NC-4.0, concluded MIT, counts as MIT', async () => {
    const report = await withOpen(dir, (ledger) => ledger.provenance.licenses('resnet'));
    expect(report.records.find((r) => r.id === 'relabelled')).toMatchObject({ license: 'MIT', declared: 'CC-BY-NC-4.0', concluded: 'MIT', nonCommercial: false });
  });

  it('at a point before the licence changed, the old licence applies: relabelled at seq 30 is CC-BY-NC-4.0 and a finding', async () => {
    const report = await withOpen(dir, (ledger) => ledger.provenance.licenses('resnet', { at: { seq: 30 } }));
    expect(report.atSeq).toBe(30);
    expect(report.records.find((r) => r.id === 'relabelled')).toMatchObject({ license: 'CC-BY-NC-4.0', declared: 'CC-BY-NC-4.0', concluded: null, nonCommercial: true });
    expect(findingsOf(report)).toEqual([...RESNET_FINDINGS.slice(0, 4), ['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-4.0'], ['NON_COMMERCIAL_UPSTREAM', 'relabelled', 'CC-BY-NC-4.0']]);
  });

  it('at a point before an input was linked, it is not upstream: train at seq 14 has used mnist and faces only', async () => {
    const report = await withOpen(dir, (ledger) => ledger.provenance.licenses('train', { at: { seq: 14 } }));
    expect(licensed(report.records).map((r) => r[0])).toEqual(['train', 'faces', 'mnist']);
    expect(findingsOf(report)).toEqual([
      ['NON_COMMERCIAL_UPSTREAM', 'faces', 'CC-BY-NC-4.0'],
      ['SHARE_ALIKE_UPSTREAM', 'mnist', 'CC-BY-SA-4.0'],
    ]);
  });

  it('an unknown root, or one not created at the point, is RECORD_NOT_FOUND; a malformed id INVALID_RECORD_ID', async () => {
    await withOpen(dir, async (ledger) => {
      expect(await codeOf(() => ledger.provenance.licenses('ghost'))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.provenance.licenses('resnet', { at: { seq: 20 } }))).toBe('RECORD_NOT_FOUND');
      expect(await codeOf(() => ledger.provenance.licenses('a/b'))).toBe('INVALID_RECORD_ID');
    });
  });
});

describe('SPEC §23.3: where a licence is read from', () => {
  const fresh = template(buildPipeline);

  it.each<{ name: string; license: JsonValue; shown: string; declared: string | null; concluded: string | null; codes: string[] }>([
    { name: 'concluded wins over a permissive declared licence', license: { declared: 'MIT', concluded: 'CC-BY-NC-4.0' }, shown: 'CC-BY-NC-4.0', declared: 'MIT', concluded: 'CC-BY-NC-4.0', codes: ['NON_COMMERCIAL_UPSTREAM'] },
    { name: 'concluded alone', license: { concluded: 'GPL-3.0-only' }, shown: 'GPL-3.0-only', declared: null, concluded: 'GPL-3.0-only', codes: ['SHARE_ALIKE_UPSTREAM'] },
    { name: 'AND: the restrictions of every part apply', license: { declared: 'MIT AND CC-BY-NC-4.0' }, shown: 'MIT AND CC-BY-NC-4.0', declared: 'MIT AND CC-BY-NC-4.0', concluded: null, codes: ['NON_COMMERCIAL_UPSTREAM'] },
    { name: 'a free-form string (records written before the ML kinds)', license: 'CC-BY-ND-4.0', shown: 'CC-BY-ND-4.0', declared: 'CC-BY-ND-4.0', concluded: null, codes: ['NO_DERIVATIVES_UPSTREAM'] },
    { name: 'text that is not SPDX counts as unknown', license: { declared: 'free for research!' }, shown: 'unknown', declared: 'free for research!', concluded: null, codes: ['UNKNOWN_LICENSE'] },
    { name: 'NOASSERTION is unknown', license: { declared: 'NOASSERTION' }, shown: 'NOASSERTION', declared: 'NOASSERTION', concluded: null, codes: ['UNKNOWN_LICENSE'] },
    { name: 'an id outside the table is unknown', license: { declared: 'LicenseRef-internal' }, shown: 'LicenseRef-internal', declared: 'LicenseRef-internal', concluded: null, codes: ['UNKNOWN_LICENSE'] },
    { name: 'no licence field at all is unknown', license: null, shown: 'unknown', declared: null, concluded: null, codes: ['UNKNOWN_LICENSE'] },
  ])('$name', async ({ license, shown, declared, concluded, codes }) => {
    const dir = await fresh();
    const report = await withOpen(dir, async (ledger) => {
      const data = (await ledger.records.get('train.py')).data!;
      const { license: _old, ...rest } = data;
      await ledger.records.update('train.py', license === null ? rest : { ...rest, license });
      return ledger.provenance.licenses('resnet');
    });
    expect(report.records.find((r) => r.id === 'train.py')).toMatchObject({ license: shown, declared, concluded });
    expect(report.findings.filter((f) => f.recordId === 'train.py').map((f) => f.code)).toEqual(codes);
  });
});

describe('SPEC §23.4: dataset diff compares the members of two versions by path', () => {
  const fresh = template(buildPipeline);
  let dir = '';
  beforeAll(async () => {
    dir = await fresh();
  });
  const diff = (from: string, fromVersion: number, to: string, toVersion: number) => withOpen(dir, (ledger) => ledger.provenance.diff({ id: from, version: fromVersion }, { id: to, version: toVersion }));

  it('mnist@1 → mnist@2: d.png added, c.png removed, b.png changed in digest and labels.csv in size, a.png unchanged', async () => {
    expect(await diff('mnist', 1, 'mnist', 2)).toEqual({
      from: { id: 'mnist', version: 1, sha256: manifest(MNIST_1).sha256 },
      to: { id: 'mnist', version: 2, sha256: manifest(MNIST_2).sha256 },
      identical: false,
      compared: true,
      added: [MNIST_2[2]],
      removed: [MNIST_1[2]],
      changed: [
        { path: 'b.png', from: { sha256: MNIST_1[1]!.sha256, size: MNIST_1[1]!.size }, to: { sha256: MNIST_2[1]!.sha256, size: MNIST_2[1]!.size } },
        { path: 'labels.csv', from: { sha256: MNIST_1[3]!.sha256, size: MNIST_1[3]!.size }, to: { sha256: MNIST_1[3]!.sha256, size: MNIST_1[3]!.size + 1 } },
      ],
      unchanged: 1,
    });
  });

  it('mnist@2 → mnist@1 is the same diff the other way round', async () => {
    const back = await diff('mnist', 2, 'mnist', 1);
    expect({ added: back.added, removed: back.removed, changed: back.changed.map((c) => [c.path, c.from.size, c.to.size]), unchanged: back.unchanged }).toEqual({
      added: [MNIST_1[2]],
      removed: [MNIST_2[2]],
      changed: [
        ['b.png', MNIST_2[1]!.size, MNIST_1[1]!.size],
        ['labels.csv', MNIST_1[3]!.size + 1, MNIST_1[3]!.size],
      ],
      unchanged: 1,
    });
  });

  it('identical versions: the same version twice, and two versions of the same content (relabelled@1 → @2, only its licence changed)', async () => {
    const same = await diff('mnist', 2, 'mnist', 2);
    expect(same).toMatchObject({ identical: true, compared: true, added: [], removed: [], changed: [], unchanged: 4 });
    expect(await diff('relabelled', 1, 'relabelled', 2)).toEqual({
      from: { id: 'relabelled', version: 1, sha256: manifest(RELABELLED).sha256 },
      to: { id: 'relabelled', version: 2, sha256: manifest(RELABELLED).sha256 },
      identical: true,
      compared: true,
      added: [],
      removed: [],
      changed: [],
      unchanged: 2,
    });
  });

  it('versions without members are not compared member by member (compared: false); the digests still tell identical', async () => {
    const [oneFile, mixed, sameFile] = [await diff('faces', 1, 'crawl', 1), await diff('mnist', 1, 'faces', 1), await diff('faces', 1, 'faces', 1)];
    expect(oneFile).toEqual({
      from: { id: 'faces', version: 1, sha256: file('faces').sha256 },
      to: { id: 'crawl', version: 1, sha256: file('crawl').sha256 },
      identical: false,
      compared: false,
      added: [],
      removed: [],
      changed: [],
      unchanged: 0,
    });
    expect(mixed).toMatchObject({ identical: false, compared: false, added: [], removed: [], unchanged: 0 });
    expect(sameFile).toMatchObject({ identical: true, compared: false });
  });

  it.each<{ name: string; from: [string, number]; to: [string, number]; code: string }>([
    { name: 'a tombstone as the second version', from: ['gone', 1], to: ['gone', 2], code: 'INVALID_ARGUMENT' },
    { name: 'a tombstone as the first version', from: ['gone', 2], to: ['mnist', 1], code: 'INVALID_ARGUMENT' },
    { name: 'a version after the latest', from: ['mnist', 1], to: ['mnist', 3], code: 'VERSION_NOT_FOUND' },
    { name: 'version 0', from: ['mnist', 0], to: ['mnist', 1], code: 'VERSION_NOT_FOUND' },
    { name: 'an unknown record', from: ['mnist', 1], to: ['ghost', 1], code: 'RECORD_NOT_FOUND' },
    { name: 'a malformed id', from: ['a/b', 1], to: ['mnist', 1], code: 'INVALID_RECORD_ID' },
  ])('$code: $name', async ({ from, to, code }) => {
    expect(await codeOf(() => diff(from[0], from[1], to[0], to[1]))).toBe(code);
  });
});

describe('SPEC §23.1: a tampered iv entry is PROJECTION_MISMATCH, and a rebuild repairs it', () => {
  const fresh = template(buildPipeline);

  it.each<{ name: string; edit: (ix: RawIndexes) => Promise<void>; expected: [number | null, string][] }>([
    { name: 'the reason of event 32 changed', edit: (ix) => ix.iv.put(ivKey('mnist', 32), ivValue('fine after all', null)), expected: [[32, 'PROJECTION_MISMATCH']] },
    { name: 'event 33 made a whole-record invalidation', edit: (ix) => ix.iv.put(ivKey('resnet', 33), ivValue(INVALID_RESNET, null)), expected: [[33, 'PROJECTION_MISMATCH']] },
    { name: 'the entry of event 32 is not CBOR', edit: (ix) => ix.iv.put(ivKey('mnist', 32), new Uint8Array([0xff])), expected: [[32, 'PROJECTION_MISMATCH']] },
    { name: 'the entry of event 32 is deleted', edit: (ix) => ix.iv.del(ivKey('mnist', 32)), expected: [[32, 'PROJECTION_MISMATCH']] },
    { name: 'a stray invalidation of faces', edit: (ix) => ix.iv.put(ivKey('faces', 2), ivValue('stray', null)), expected: [[null, 'PROJECTION_MISMATCH']] },
    {
      name: 'the entry of event 32 moved to seq 34',
      edit: async (ix) => {
        await ix.iv.del(ivKey('mnist', 32));
        await ix.iv.put(ivKey('mnist', 34), ivValue(INVALID_MNIST, null));
      },
      expected: [
        [32, 'PROJECTION_MISMATCH'],
        [null, 'PROJECTION_MISMATCH'],
      ],
    },
  ])('$name', async ({ edit, expected }) => {
    const dir = await fresh();
    await editIndexes(dir, edit);
    expect(await findings(dir)).toEqual({ ok: false, failures: expected });
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
  });

  it('reads refuse a malformed entry with STORE_CORRUPT rather than serve it', async () => {
    const dir = await fresh();
    await editIndexes(dir, (ix) => ix.iv.put(ivKey('faces', 2), new Uint8Array([0xff])));
    await withOpen(dir, async (ledger) => {
      expect(await codeOf(() => ledger.provenance.invalidations('faces'))).toBe('STORE_CORRUPT');
      expect(await codeOf(() => ledger.provenance.impact('faces'))).toBe('STORE_CORRUPT');
      // The train run is downstream of faces: its impact reads train's entries and those below it, never faces'.
      expect(await codeOf(() => ledger.provenance.impact('train'))).toBe('no error');
    });
  });
});

describe('SPEC §23.1: rebuild re-derives iv byte for byte', () => {
  const fresh = template(buildPipeline);

  it('after invalidations of every shape, rebuild writes exactly the entries the appends wrote, and the whole store is the same', async () => {
    const dir = await fresh();
    await withOpen(dir, async (ledger) => {
      await ledger.provenance.invalidate('relabelled', { version: 2, reason: 'r2 is corrupt' });
      await ledger.provenance.invalidate('faces', { reason: 'consent withdrawn' });
      await ledger.provenance.invalidate('gone', { reason: 'deleted and invalid' });
    });
    const iv = await dumpIv(dir);
    const store = await storeDigest(dir);
    expect(iv).toHaveLength(5);
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await dumpIv(dir)).toEqual(iv);
    expect(await storeDigest(dir)).toBe(store);
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
  });

  it('an emptied iv index is PROJECTION_MISMATCH at each invalidation until a rebuild fills it again', async () => {
    const dir = await fresh();
    const iv = await dumpIv(dir);
    await editIndexes(dir, (ix) => ix.iv.clear());
    expect(await findings(dir)).toEqual({ ok: false, failures: [[32, 'PROJECTION_MISMATCH'], [33, 'PROJECTION_MISMATCH']] });
    expect(await withOpen(dir, (ledger) => ledger.provenance.invalidations('mnist'))).toEqual([]);
    await withOpen(dir, (ledger) => ledger.rebuild());
    expect(await dumpIv(dir)).toEqual(iv);
  });
});

describe('SPEC §23.1: forged, validly signed record.invalidate events', () => {
  const fresh = template(buildPipeline);

  /** Appends the forged events signed by the owner, rebuilds the projections to fit them, and returns their seqs. */
  async function forge(dir: string, events: readonly { type: string; payload: JsonValue }[]): Promise<number[]> {
    const seqs = await appendForged(
      dir,
      events.map((e) => ({ ...e, key: ownerKey })),
    );
    await withOpen(dir, (ledger) => ledger.rebuild());
    return seqs;
  }

  it.each<{ name: string; events: { type: string; payload: JsonValue }[]; id: string }>([
    { name: 'a record never created', events: [{ type: 'record.invalidate', payload: { id: 'ghost', reason: 'x' } }], id: 'ghost' },
    {
      name: 'a record created only after it',
      events: [
        { type: 'record.invalidate', payload: { id: 'later', reason: 'x' } },
        { type: 'record.create', payload: { id: 'later', kind: 'dataset', version: 1, data: {} } },
      ],
      id: 'later',
    },
    { name: 'a version beyond the latest (faces has 1)', events: [{ type: 'record.invalidate', payload: { id: 'faces', version: 2, reason: 'x' } }], id: 'faces' },
    {
      name: 'a version written only after it',
      events: [
        { type: 'record.invalidate', payload: { id: 'faces', version: 2, reason: 'x' } },
        { type: 'record.update', payload: { id: 'faces', version: 2, data: { name: 'faces' } } },
      ],
      id: 'faces',
    },
  ])('an invalidation of $name is BAD_RECORD_EVENT and gets no iv entry, so no read ever reports it', async ({ events, id }) => {
    const dir = await fresh();
    const before = await dumpIv(dir);
    const [seq] = await forge(dir, events);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'BAD_RECORD_EVENT']] });
    expect(await dumpIv(dir)).toEqual(before);
    await withOpen(dir, async (ledger) => {
      if (id === 'ghost') {
        // A record that never existed has no invalidations to read at all: the read refuses it (src/provenance.ts).
        expect(await codeOf(() => ledger.provenance.invalidations(id))).toBe('RECORD_NOT_FOUND');
      } else {
        expect(await ledger.provenance.invalidations(id)).toEqual([]);
        expect((await ledger.provenance.impact(id)).invalidations).toEqual([]);
      }
    });
  });

  it('a forged invalidation that follows the rules is valid: verify ok and it is indexed like an appended one', async () => {
    const dir = await fresh();
    const [seq] = await forge(dir, [{ type: 'record.invalidate', payload: { id: 'faces', version: 1, reason: 'x' } }]);
    expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    expect(await dumpIv(dir)).toContain(`${toHex(ivKey('faces', seq!))} ${toHex(ivValue('x', 1))}`);
  });

  it.each<{ name: string; payload: JsonValue }>([
    { name: 'an empty reason', payload: { id: 'mnist', reason: '' } },
    { name: 'no reason', payload: { id: 'mnist' } },
    { name: 'a reason of 501 characters', payload: { id: 'mnist', reason: 'r'.repeat(501) } },
    { name: 'a reason that is a number', payload: { id: 'mnist', reason: 7 } },
    { name: 'version 0', payload: { id: 'mnist', version: 0, reason: 'x' } },
    { name: 'version 1.5', payload: { id: 'mnist', version: 1.5, reason: 'x' } },
    { name: 'version null', payload: { id: 'mnist', version: null, reason: 'x' } },
    { name: 'an extra field', payload: { id: 'mnist', reason: 'x', by: 'me' } },
    { name: 'a malformed id', payload: { id: 'a/b', reason: 'x' } },
    { name: 'an id with a NUL byte', payload: { id: 'mnist\u0000x', reason: 'x' } },
    { name: 'a payload that is not a map', payload: 'mnist' },
  ])('a malformed invalidation is BAD_RECORD_EVENT and indexed nowhere: $name', async ({ payload }) => {
    const dir = await fresh();
    const before = await dumpIv(dir);
    const [seq] = await forge(dir, [{ type: 'record.invalidate', payload }]);
    expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'BAD_RECORD_EVENT']] });
    expect(await dumpIv(dir)).toEqual(before);
  });
});

describe('SPEC §23.2: with only some versions invalid, impact follows the links made while such a version was current', () => {
  it('a run on version 1 and what it made are affected; a run on version 2 is not, until the whole record is invalid', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, createOptions());
      try {
        await ledger.records.create('dataset', { name: 'd' }, { id: 'd' });
        await ledger.runs.start({ kind: 'train', name: 'on v1', id: 'r1', inputs: [{ id: 'd', role: 'train' }] });
        await ledger.records.create('model', { name: 'm1' }, { id: 'm1' });
        await ledger.runs.finish('r1', { status: 'completed', outputs: ['m1'] });
        await ledger.records.update('d', { name: 'd', fixed: true });
        await ledger.runs.start({ kind: 'train', name: 'on v2', id: 'r2', inputs: [{ id: 'd', role: 'train' }] });
        await ledger.records.create('model', { name: 'm2' }, { id: 'm2' });
        await ledger.runs.finish('r2', { status: 'completed', outputs: ['m2'] });
        await ledger.provenance.invalidate('d', { version: 1, reason: 'labels swapped' });
        const affected = async () => (await ledger.provenance.impact('d')).affected.map((a) => [a.id, a.path.join('>')]);
        expect(await affected()).toEqual([
          ['r1', 'd>r1'],
          ['m1', 'd>r1>m1'],
        ]);
        await ledger.provenance.invalidate('d', { reason: 'the whole source was withdrawn' });
        expect((await affected()).map(([id]) => id).sort()).toEqual(['m1', 'm2', 'r1', 'r2']);
      } finally {
        await ledger.close();
      }
    });
  });
});
