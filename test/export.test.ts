/**
 * SPEC §25 through the library: a JSONL export imported into a new directory is the same ledger (same head, the
 * same bytes in every key and value of the store, the same answers to every query), for a ledger with every
 * event type and for random ones (fast-check); `--from/--to` and `--record` exports hold what §25.2 says; the
 * PROV-JSON of the ML fixture and of the MNIST pipeline holds the expected entities, activities, agents and
 * relations, and `record` restricts it to one lineage.
 *
 * The rich ledger, built once (seq: what):
 *    0 genesis   1 key.add other (writer)   2 record ds (owner)   3 record ds v2 (other)   4 record tmp (other)
 *    5 delete tmp   6 record m   7 link m derivedFrom ds   8 link removed   9 link added again
 *   10 invalidate ds v1   11 app.note   12 key.revoke other   13–28 the ML fixture (test/helpers/ml-fixture.ts)
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestPaths } from '../src/artifacts/digest.js';
import { Ledger, type ProvDocument } from '../src/index.js';
import { codeOf } from './helpers/codes.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { writeTree } from './helpers/content.js';
import { createOptions, T, withOpen } from './helpers/ledgers.js';
import { FILES, writeMlFixture } from './helpers/ml-fixture.js';
import { storeDigest } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';

const HEAD_SEQ = 28;
const ML_FROM = 13;

let root = '';
let source = '';
let imported = '';
let exportText = '';

/** The whole JSONL export of the ledger at `dir`, as one string. */
async function exportOf(dir: string, options: Parameters<Ledger['exportJsonl']>[0] = {}): Promise<string> {
  return withOpen(dir, async (ledger) => {
    let text = '';
    for await (const line of ledger.exportJsonl(options)) text += line;
    return text;
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'provledger-export-'));
  source = join(root, 'source');
  const files = join(root, 'files');
  await writeTree(files, FILES);
  const options = createOptions();
  const owner = await Ledger.create(source, options);
  await owner.keys.add(otherKey.publicKeyHex, { role: 'writer', name: 'other' });
  await owner.records.create('dataset', { name: 'ds', license: 'MIT' }, { id: 'ds' });
  await owner.close();
  const other = await Ledger.open(source, { ...options, key: otherKey });
  await other.records.update('ds', { name: 'ds', license: 'MIT', rows: 2 });
  await other.records.create('dataset', { name: 'tmp' }, { id: 'tmp' });
  await other.records.delete('tmp');
  await other.close();
  const ledger = await Ledger.open(source, options);
  await ledger.records.create('model', { name: 'm' }, { id: 'm' });
  await ledger.links.add({ from: 'm', to: 'ds', rel: 'derivedFrom' });
  await ledger.links.remove({ from: 'm', to: 'ds', rel: 'derivedFrom' });
  await ledger.links.add({ from: 'm', to: 'ds', rel: 'derivedFrom' });
  await ledger.provenance.invalidate('ds', { reason: 'two rows swapped', version: 1 });
  await ledger.append({ type: 'app.note', payload: { text: 'é ü \u0000 "quoted"', n: 1.5, list: [1, null, true] } });
  await ledger.keys.revoke(otherKey.publicKeyHex, { reason: 'left' });
  await writeMlFixture(ledger, files, digestPaths);
  expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
  await ledger.close();
  exportText = await exportOf(source);
  imported = join(root, 'imported');
  await Ledger.import(imported, exportText.split(/(?<=\n)/));
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('SPEC §25.4: an import reproduces the ledger it was exported from', () => {
  it('has the same head, verifies, and holds the same bytes in every key and value (log, head, ledger facts, projections, tree)', async () => {
    const [before, after] = [await withOpen(source, (l) => l.head()), await withOpen(imported, (l) => l.head())];
    expect(after).toEqual(before);
    expect((await withOpen(imported, (l) => l.verify())).ok).toBe(true);
    expect(await storeDigest(imported)).toBe(await storeDigest(source));
  });

  it('returns the head, the event count and the ledger id', async () => {
    await withTempDir(async (tmp) => {
      const result = await Ledger.import(join(tmp, 'again'), [exportText]);
      const head = (await withOpen(source, (l) => l.head()))!;
      expect(result).toEqual({ ledgerId: await withOpen(source, async (l) => l.id), owner: await withOpen(source, async (l) => l.owner), seq: HEAD_SEQ, hash: head.hash, events: HEAD_SEQ + 1 });
    });
  });

  it('answers every query as the source does: show --at, history, list, replay, lineage, impact, licences, keys, audit', async () => {
    const answers = (dir: string) =>
      withOpen(dir, async (ledger) => {
        const history = [];
        for await (const version of ledger.records.history('ds')) history.push(version);
        const list = [];
        for await (const record of ledger.records.list({ at: { seq: 9 } })) list.push(record);
        const replay = [];
        for await (const record of (await ledger.replay({ to: { timeMs: T + 10_500 } })).records) replay.push(record);
        const audit = await ledger.audit();
        return {
          shownAt: await ledger.records.get('ds', { at: { seq: 2 } }),
          deleted: await codeOf(() => ledger.records.get('tmp')),
          history,
          list,
          replay,
          lineage: await ledger.links.lineage('train-1', { direction: 'up' }),
          lineageBefore: await ledger.links.lineage('m', { at: { seq: 8 } }),
          impact: await ledger.provenance.impact('ds'),
          licenses: await ledger.provenance.licenses('train-1'),
          keys: await ledger.keys.list({ at: { seq: 5 } }),
          auditKeys: audit.keys,
          auditOk: audit.ok,
          auditRecord: await ledger.auditRecord('ds'),
          prov: await ledger.exportProvJson(),
        };
      });
    const [before, after] = [await answers(source), await answers(imported)];
    expect(after).toEqual(before);
    expect(before.auditOk).toBe(true);
    expect(before.deleted).toBe('RECORD_DELETED');
  });

  it('exports again to the same bytes', async () => {
    expect(await exportOf(imported)).toBe(exportText);
  });

  it('accepts the export in chunks cut anywhere, even inside a UTF-8 character', async () => {
    await withTempDir(async (tmp) => {
      const bytes = new TextEncoder().encode(exportText);
      const chunks = [bytes.subarray(0, 1), bytes.subarray(1, 5001), bytes.subarray(5001, exportText.indexOf('é') + 1), bytes.subarray(exportText.indexOf('é') + 1)];
      const result = await Ledger.import(join(tmp, 'chunked'), chunks);
      expect(result.seq).toBe(HEAD_SEQ);
      expect(await storeDigest(join(tmp, 'chunked'))).toBe(await storeDigest(source));
    });
  });

  it('reads a path, and imports into an empty directory that already exists', async () => {
    await withTempDir(async (tmp) => {
      await writeFile(join(tmp, 'ledger.jsonl'), exportText);
      await mkdir(join(tmp, 'empty'));
      expect((await Ledger.import(join(tmp, 'empty'), join(tmp, 'ledger.jsonl'))).seq).toBe(HEAD_SEQ);
      expect(await storeDigest(join(tmp, 'empty'))).toBe(await storeDigest(source));
    });
  });

  it('reports progress through its three passes, each reaching the number of events', async () => {
    await withTempDir(async (tmp) => {
      const seen = new Map<string, [number, number]>();
      const order: string[] = [];
      await Ledger.import(join(tmp, 'progress'), [exportText], {
        onProgress: (phase, done, total) => {
          if (order.at(-1) !== phase) order.push(phase);
          seen.set(phase, [done, total]);
        },
      });
      expect(order).toEqual(['read', 'rebuild', 'verify']);
      for (const phase of order) expect(seen.get(phase), phase).toEqual([HEAD_SEQ + 1, HEAD_SEQ + 1]);
    });
  });

  it('checks an expected head: the head itself passes; another hash, another seq, or an earlier event (the export goes on past it) is IMPORT_INVALID, and nothing appears', async () => {
    await withTempDir(async (tmp) => {
      const head = (await withOpen(source, (l) => l.head()))!;
      expect((await Ledger.import(join(tmp, 'a'), [exportText], { expectHead: { seq: head.seq, hash: head.hash } })).seq).toBe(HEAD_SEQ);
      expect(await codeOf(() => Ledger.import(join(tmp, 'b'), [exportText], { expectHead: { seq: 3, hash: head.hash } }))).toBe('IMPORT_INVALID');
      const third = (await withOpen(source, (l) => l.get(3))).hash;
      expect(await codeOf(() => Ledger.import(join(tmp, 'd'), [exportText], { expectHead: { seq: 3, hash: third } }))).toBe('IMPORT_INVALID');
      expect(await codeOf(() => Ledger.import(join(tmp, 'c'), [exportText], { expectHead: { seq: HEAD_SEQ + 1, hash: head.hash } }))).toBe('IMPORT_INVALID');
      const { readdir } = await import('node:fs/promises');
      expect((await readdir(tmp)).sort()).toEqual(['a']);
    });
  });
});

describe('SPEC §25.1: what a JSONL export holds', () => {
  const lines = () => exportText.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

  it('a header, every event in seq order with its bytes and the fields derived from them, and a footer', async () => {
    const all = lines();
    const ledgerId = await withOpen(source, async (l) => l.id);
    expect(all[0]).toEqual({ format: 'provledger-export@v1', ledger: ledgerId, from: 0, to: HEAD_SEQ });
    expect(all.at(-1)).toEqual({ end: true, events: HEAD_SEQ + 1 });
    const events = await withOpen(source, async (l) => {
      const out = [];
      for await (const event of l.events()) out.push(event);
      return out;
    });
    expect(all.slice(1, -1).map(({ event: _bytes, ...rest }) => rest)).toEqual(events.map((e) => ({ seq: e.seq, hash: e.hash, ts: e.timeMs, type: e.type, author: e.author, payload: e.payload })));
    for (const line of all.slice(1, -1)) expect(line['event']).toMatch(/^([0-9a-f]{2})+$/);
  });

  it('--from/--to: only that range, said so in the header', async () => {
    const text = await exportOf(source, { from: 2, to: 4 });
    const all = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { seq?: number; from?: number; to?: number; events?: number });
    expect([all[0]!.from, all[0]!.to, ...all.slice(1, -1).map((l) => l.seq), all.at(-1)!.events]).toEqual([2, 4, 2, 3, 4, 3]);
  });

  it('--to alone exports the ledger as it was then, which imports to that head', async () => {
    await withTempDir(async (tmp) => {
      const text = await exportOf(source, { to: 9 });
      const result = await Ledger.import(join(tmp, 'then'), [text]);
      expect({ seq: result.seq, hash: result.hash }).toEqual({ seq: 9, hash: (await withOpen(source, (l) => l.get(9))).hash });
    });
  });

  it('refuses a range outside the ledger', async () => {
    await withOpen(source, async (ledger) => {
      const drain = async (options: Parameters<Ledger['exportJsonl']>[0]) => {
        for await (const _line of ledger.exportJsonl(options)) void _line;
      };
      expect(await codeOf(() => drain({ to: HEAD_SEQ + 1 }))).toBe('AT_OUT_OF_RANGE');
      expect(await codeOf(() => drain({ from: 3, to: 2 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(() => drain({ from: -1 }))).toBe('INVALID_ARGUMENT');
      expect(await codeOf(() => drain({ record: 'nope' }))).toBe('RECORD_NOT_FOUND');
    });
  });
});

describe('SPEC §25.2: a --record export holds the events about that record, and cannot be imported', () => {
  it('ds: its versions, every change of a link that touches it, its invalidation; nothing else', async () => {
    const text = await exportOf(source, { record: 'ds' });
    const all = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { seq?: number; record?: string; events?: number });
    expect(all[0]!.record).toBe('ds');
    expect(all.slice(1, -1).map((l) => l.seq)).toEqual([2, 3, 7, 8, 9, 10]);
    expect(all.at(-1)!.events).toBe(6);
  });

  it('mnist: its version and the used link of train-1', async () => {
    const text = await exportOf(source, { record: 'mnist' });
    const all = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { seq?: number; type?: string });
    expect(all.slice(1, -1).map((l) => l.type)).toEqual(['record.create', 'link.add']);
  });

  it('import refuses it as EXPORT_MALFORMED, naming --record', async () => {
    await withTempDir(async (tmp) => {
      const error = await Ledger.import(join(tmp, 'x'), [await exportOf(source, { record: 'ds' })]).catch((e: unknown) => e as { code: string; message: string });
      expect(error).toMatchObject({ code: 'EXPORT_MALFORMED', message: expect.stringContaining('--record') });
    });
  });
});

describe('SPEC §25.3: the PROV-JSON of the ML fixture', () => {
  let prov: ProvDocument;
  beforeAll(async () => {
    prov = await withOpen(source, (ledger) => ledger.exportProvJson());
  });

  it('records are entities with their kind as prov:type, runs are activities with their times', () => {
    expect(Object.keys(prov.entity!).sort()).toEqual(['base', 'cfg', 'cifar', 'ds', 'gone', 'm', 'mnist', 'resnet', 'tmp', 'train.py'].map((id) => `record:${id}`));
    expect(Object.keys(prov.activity!).sort()).toEqual(['record:old-run', 'record:train-1']);
    expect(prov.entity!['record:mnist']).toMatchObject({ 'prov:type': { $: 'provledger:dataset', type: 'xsd:QName' }, 'prov:label': 'mnist', 'provledger:licenseDeclared': 'CC-BY-SA-3.0', 'provledger:version': 1, 'provledger:seq': ML_FROM });
    expect(prov.entity!['record:gone']).toMatchObject({ 'provledger:deleted': true, 'provledger:version': 2 });
    expect(prov.activity!['record:old-run']).toMatchObject({ 'provledger:state': 'COMPLETED', 'prov:startTime': expect.stringMatching(/Z$/), 'prov:endTime': expect.stringMatching(/Z$/) });
    expect(prov.activity!['record:train-1']!['prov:endTime']).toBeUndefined();
  });

  it('used links keep their role and split; derivedFrom names the derived entity first', () => {
    const used = Object.values(prov.used!).filter((u) => u['prov:activity'] === 'record:train-1');
    expect(used.map((u) => [u['prov:entity'], u['prov:role'], u['provledger:split']]).sort()).toEqual([
      ['record:base', 'base-model', undefined],
      ['record:cfg', 'config', undefined],
      ['record:cifar', 'validation', undefined],
      ['record:mnist', 'train', 'train'],
      ['record:train.py', 'code', undefined],
    ]);
    expect(Object.values(prov.wasDerivedFrom!)).toEqual([{ 'prov:generatedEntity': 'record:m', 'prov:usedEntity': 'record:ds', 'provledger:seq': 9 }]);
  });

  it('agents are the keys that signed the current versions, attributed and associated', () => {
    expect(Object.keys(prov.agent!).sort()).toEqual([`key:${otherKey.publicKeyHex}`, `key:${ownerKey.publicKeyHex}`].sort());
    expect(prov.agent![`key:${otherKey.publicKeyHex}`]).toMatchObject({ 'provledger:active': false, 'provledger:role': 'writer', 'prov:label': 'other' });
    expect(prov.wasAttributedTo!['_:attribution-ds']).toEqual({ 'prov:entity': 'record:ds', 'prov:agent': `key:${otherKey.publicKeyHex}` });
    expect(prov.wasAssociatedWith!['_:association-train-1']).toEqual({ 'prov:activity': 'record:train-1', 'prov:agent': `key:${ownerKey.publicKeyHex}` });
  });

  it('an invalidation of an earlier version is an attribute, not a wasInvalidatedBy of the current state', () => {
    expect(prov.entity!['record:ds']).toMatchObject({ 'provledger:invalidated': false, 'provledger:invalidatedVersions': [1], 'provledger:version': 2 });
    expect(prov.wasInvalidatedBy).toBeUndefined();
  });

  it('as of a point: the graph then (no ML records yet; before seq 9 no derivation)', async () => {
    const then = await withOpen(source, (ledger) => ledger.exportProvJson({ at: { seq: 10 } }));
    expect(Object.keys(then.entity!).sort()).toEqual(['record:ds', 'record:m', 'record:tmp']);
    expect(then.entity!['record:ds']).toMatchObject({ 'provledger:version': 2, 'provledger:invalidated': false });
    expect(Object.values(then.wasInvalidatedBy ?? {})).toEqual([]);
    const before = await withOpen(source, (ledger) => ledger.exportProvJson({ at: { seq: 8 } }));
    expect(before.wasDerivedFrom).toBeUndefined();
  });

  it('record: one lineage, up and down, and nothing else', async () => {
    const one = await withOpen(source, (ledger) => ledger.exportProvJson({ record: 'mnist' }));
    expect([...Object.keys(one.entity!), ...Object.keys(one.activity!)].sort()).toEqual(['record:mnist', 'record:train-1']);
    expect(Object.values(one.used!)).toEqual([{ 'prov:activity': 'record:train-1', 'prov:entity': 'record:mnist', 'prov:role': 'train', 'provledger:split': 'train', 'provledger:seq': expect.any(Number) }]);
    expect(await codeOf(() => withOpen(source, (ledger) => ledger.exportProvJson({ record: 'nope' })))).toBe('RECORD_NOT_FOUND');
  });

  it('is deterministic: the same state gives the same bytes, with sorted keys', async () => {
    const again = await withOpen(imported, (ledger) => ledger.exportProvJson());
    expect(JSON.stringify(again)).toBe(JSON.stringify(prov));
    expect(Object.keys(prov)).toEqual([...Object.keys(prov)].sort());
  });
});

describe('SPEC §25.3: the PROV-JSON of the MNIST pipeline (fixtures/mnist-pipeline, recorded as pipeline.test.ts records it)', () => {
  const PIPELINE = new URL('../fixtures/mnist-pipeline/', import.meta.url).pathname;
  let prov: ProvDocument;
  let cnnOnly: ProvDocument;
  let beforeNovember: ProvDocument;

  beforeAll(async () => {
    await withTempDir(async (tmp) => {
      const ledger = await Ledger.create(join(tmp, 'pipeline'), createOptions());
      try {
        const add = async (path: string, kind: 'dataset' | 'model' | 'software' | 'config' | 'evaluation', name: string, license?: string) =>
          ledger.artifacts.add({ kind, name, license, content: await digestPaths([join(PIPELINE, path)]) });
        await add('data/2026-10', 'dataset', 'mnist', 'CC-BY-SA-3.0');
        await add('train.py', 'software', 'train.py', 'MIT');
        await add('evaluate.py', 'software', 'evaluate.py', 'MIT');
        await add('configs/train.yaml', 'config', 'train.yaml', 'MIT');
        await add('configs/eval.yaml', 'config', 'eval.yaml', 'MIT');
        await add('model/base.bin', 'model', 'lenet-base', 'CC-BY-NC-4.0');
        const inputs = [{ id: 'mnist', role: 'train', split: '2026-10' }, { id: 'lenet-base', role: 'base-model' }, { id: 'train.py', role: 'code' }, { id: 'train.yaml', role: 'config' }] as const;
        await ledger.runs.start({ kind: 'train', name: 'train cnn on mnist 2026-10', id: 'train-2026-10', inputs, parameters: { lr: 0.001, epochs: 3 } });
        await add('model/cnn.bin', 'model', 'cnn', 'Apache-2.0');
        await ledger.runs.finish('train-2026-10', { status: 'completed', outputs: ['cnn'], metrics: { loss: 0.21 } });
        const evalInputs = [{ id: 'cnn', role: 'eval' }, { id: 'mnist', role: 'test', split: '2026-10' }, { id: 'evaluate.py', role: 'code' }, { id: 'eval.yaml', role: 'config' }] as const;
        await ledger.runs.start({ kind: 'evaluate', name: 'evaluate cnn on mnist 2026-10', id: 'eval-2026-10', inputs: evalInputs });
        await add('results/metrics.json', 'evaluation', 'cnn-metrics', 'CC-BY-4.0');
        await ledger.runs.finish('eval-2026-10', { status: 'completed', outputs: ['cnn-metrics'], metrics: { accuracy: 0.9167 } });
        await ledger.links.add({ from: 'cnn-metrics', to: 'cnn', rel: 'evaluates' });
        expect((await ledger.head())!.seq).toBe(23);
        await add('data/2026-11', 'dataset', 'mnist');
        await ledger.provenance.invalidate('mnist', { version: 1, reason: 'train-labels.idx: two samples have the labels 4 and 9 swapped' });
        prov = await ledger.exportProvJson();
        cnnOnly = await ledger.exportProvJson({ record: 'train-2026-10' });
        beforeNovember = await ledger.exportProvJson({ at: { seq: 23 } });
      } finally {
        await ledger.close();
      }
    });
  });

  it('every artifact an entity, both runs activities with their times, one agent (the owner)', () => {
    expect(Object.keys(prov.entity!)).toEqual(['cnn', 'cnn-metrics', 'eval.yaml', 'evaluate.py', 'lenet-base', 'mnist', 'train.py', 'train.yaml'].map((id) => `record:${id}`));
    expect(Object.keys(prov.activity!)).toEqual(['record:eval-2026-10', 'record:train-2026-10']);
    expect(prov.activity!['record:train-2026-10']).toMatchObject({ 'provledger:runKind': 'train', 'provledger:state': 'COMPLETED', 'prov:startTime': expect.any(String), 'prov:endTime': expect.any(String) });
    expect(Object.keys(prov.agent!)).toEqual([`key:${ownerKey.publicKeyHex}`]);
    expect(Object.keys(prov.wasAttributedTo!)).toHaveLength(8);
    expect(Object.keys(prov.wasAssociatedWith!)).toHaveLength(2);
  });

  it('the runs used their inputs with role and split, and generated the model and the results; the results evaluate the model', () => {
    const used = Object.values(prov.used!).map((u) => `${String(u['prov:activity'])} used ${String(u['prov:entity'])} as ${String(u['prov:role'])}${u['provledger:split'] === undefined ? '' : ` (${String(u['provledger:split'])})`}`);
    expect(used.sort()).toEqual([
      'record:eval-2026-10 used record:cnn as eval',
      'record:eval-2026-10 used record:eval.yaml as config',
      'record:eval-2026-10 used record:evaluate.py as code',
      'record:eval-2026-10 used record:mnist as test (2026-10)',
      'record:train-2026-10 used record:lenet-base as base-model',
      'record:train-2026-10 used record:mnist as train (2026-10)',
      'record:train-2026-10 used record:train.py as code',
      'record:train-2026-10 used record:train.yaml as config',
    ]);
    const generated = Object.values(prov.wasGeneratedBy!).map((g) => `${String(g['prov:entity'])} by ${String(g['prov:activity'])}`);
    expect(generated.sort()).toEqual(['record:cnn by record:train-2026-10', 'record:cnn-metrics by record:eval-2026-10']);
    expect(Object.values(prov.wasInfluencedBy!)).toEqual([{ 'prov:influencee': 'record:cnn-metrics', 'prov:influencer': 'record:cnn', 'provledger:rel': 'evaluates', 'provledger:seq': 23 }]);
  });

  it('mnist is at version 2, its version 1 invalidated; the licences are declared', () => {
    expect(prov.entity!['record:mnist']).toMatchObject({ 'provledger:version': 2, 'provledger:invalidated': false, 'provledger:invalidatedVersions': [1], 'provledger:licenseDeclared': 'CC-BY-SA-3.0' });
    expect(prov.entity!['record:lenet-base']).toMatchObject({ 'provledger:licenseDeclared': 'CC-BY-NC-4.0', 'provledger:sha256': expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(beforeNovember.entity!['record:mnist']).toMatchObject({ 'provledger:version': 1, 'provledger:invalidated': false });
    expect(beforeNovember.entity!['record:mnist']!['provledger:invalidatedVersions']).toBeUndefined();
  });

  it('record: the training run\'s lineage up and down only (not the evaluation scripts)', () => {
    const ids = [...Object.keys(cnnOnly.entity!), ...Object.keys(cnnOnly.activity!)].sort();
    expect(ids).toEqual(['cnn', 'cnn-metrics', 'eval-2026-10', 'lenet-base', 'mnist', 'train-2026-10', 'train.py', 'train.yaml'].map((id) => `record:${id}`));
  });
});

describe('SPEC §25.4 as a property: any ledger of records, links and notes round-trips to the same store', () => {
  const stepArb = fc.oneof(
    fc.record({ op: fc.constant('create' as const), id: fc.constantFrom('a', 'b', 'c'), n: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('update' as const), id: fc.constantFrom('a', 'b', 'c'), n: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant('delete' as const), id: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ op: fc.constantFrom('link' as const, 'unlink' as const), from: fc.constantFrom('a', 'b', 'c'), to: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ op: fc.constant('invalidate' as const), id: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ op: fc.constant('note' as const), text: fc.string({ maxLength: 20 }) }),
  );

  it('same head and the same bytes in every key and value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), async (steps) => {
        await withTempDir(async (tmp) => {
          const ledger = await Ledger.create(join(tmp, 'src'), createOptions());
          for (const step of steps) {
            // Refusals (an unknown id, a cycle, a link in place) write nothing and are part of the input space.
            await (async () => {
              switch (step.op) {
                case 'create':
                  return ledger.records.create('dataset', { n: step.n }, { id: step.id });
                case 'update':
                  return ledger.records.update(step.id, { n: step.n });
                case 'delete':
                  return ledger.records.delete(step.id);
                case 'link':
                  return ledger.links.add({ from: step.from, to: step.to, rel: 'dependsOn' });
                case 'unlink':
                  return ledger.links.remove({ from: step.from, to: step.to, rel: 'dependsOn' });
                case 'invalidate':
                  return ledger.provenance.invalidate(step.id, { reason: 'r' });
                case 'note':
                  return ledger.append({ type: 'app.note', payload: { text: step.text } });
              }
            })().catch((error: { code?: string }) => expect(error.code).toMatch(/^[A-Z_]+$/));
          }
          const head = await ledger.head();
          let text = '';
          for await (const line of ledger.exportJsonl()) text += line;
          await ledger.close();
          const result = await Ledger.import(join(tmp, 'dst'), [text]);
          expect({ seq: result.seq, hash: result.hash }).toEqual({ seq: head!.seq, hash: head!.hash });
          expect(await storeDigest(join(tmp, 'dst'))).toBe(await storeDigest(join(tmp, 'src')));
        });
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

describe('SPEC §25.4 with §21.5: a ledger holding sample sets round-trips, and proves the same samples', () => {
  it('the same store byte for byte (chunks, ss index), verify ok, and the same proof of a member', async () => {
    await withTempDir(async (tmp) => {
      const from = join(tmp, 'from');
      const fingerprints = Array.from({ length: 9000 }, (_, i) => createHash('sha256').update(`sample ${i}`).digest('hex'));
      const ledger = await Ledger.create(from, createOptions());
      try {
        await ledger.samples.add({ name: 'plain', samples: { fingerprints } });
        await ledger.samples.add({ name: 'licensed', samples: { fingerprints: fingerprints.slice(0, 50), licenses: fingerprints.slice(0, 50).map((_, i) => (i % 2 === 0 ? 'MIT' : 'CC-BY-NC-4.0')) } });
      } finally {
        await ledger.close();
      }
      const to = join(tmp, 'to');
      await Ledger.import(to, (await exportOf(from)).split(/(?<=\n)/));
      expect(await storeDigest(to)).toBe(await storeDigest(from));
      expect((await withOpen(to, (l) => l.verify())).ok).toBe(true);
      const proofOf = (dir: string) => withOpen(dir, (l) => l.samples.prove('plain', fingerprints[8500]!));
      expect(await proofOf(to)).toEqual(await proofOf(from));
    });
  });
});
