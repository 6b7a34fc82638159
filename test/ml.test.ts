/**
 * SPEC §21 through the library: `ledger.artifacts.add` records a dataset, model, software, config or evaluation
 * by its content digest (§21.2), `ledger.runs.start` and `ledger.runs.finish` record a run with its inputs and
 * outputs as `used` and `generated` links (§21.3), and licences are stored in canonical SPDX form (§21.4).
 * One describe per rule: what is written when all is well; each refusal with its exact code and the store byte
 * for byte as it was (every key and value of the LevelDB, read raw); several events of one command always
 * consecutive in the log (§6.3); and verify ok, also after rebuild.
 *
 * Digests are computed here independently of src (node:crypto, the manifest text of §21.2 written out), so a
 * wrong digest in src cannot agree with itself. Time comes from a clock the test moves.
 *
 * The ML ledger, built once and copied for each test that writes (seq: what):
 *    1 artifact mnist (dataset, a directory of four files, CC-BY-SA-3.0)    2 artifact cifar (dataset, one file, MIT)
 *    3 artifact base (model)            4 artifact resnet (model)           5 artifact train.py (software)
 *    6 artifact cfg (config)            7 artifact gone (dataset)           8 delete gone
 *    9 run train-1 started (RUNNING), its `used` links 10–14: mnist (train, train), cifar (validation),
 *      base (base-model), train.py (code), cfg (config)
 *   15 run old-run started (no inputs)  16 old-run finished COMPLETED
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestPaths } from '../src/artifacts/digest.js';
import { Ledger, type ArtifactContent, type LedgerEvent, type RunFinish, type RunStart } from '../src/index.js';
import { codeOf } from './helpers/codes.js';
import { ownerKey } from './helpers/events.js';
import { withTempDir } from './helpers/tmp.js';
import { manifestOf, sha256, writeTree } from './helpers/content.js';
import { dumpStore, T, withOpen } from './helpers/ledgers.js';
import { FILES, writeMlFixture } from './helpers/ml-fixture.js';

const HEAD_SEQ = 16;
const HEX64 = /^[0-9a-f]{64}$/;

/** A clock the test moves by hand: `startedAt` and `endedAt` are exactly what it says when a command runs. */
class TestClock {
  now = T;
  readonly read = (): number => this.now;
}

// ---------------------------------------------------------------------------------------------------------
// Files and digests, written out from SPEC §21.2 without src.

/** Content made up by the test (not hashed from disk): a different digest for each `n`. */
const contentNo = (n: number): ArtifactContent => ({ sha256: sha256(`content ${n}`), size: n });

// ---------------------------------------------------------------------------------------------------------
// Ledgers.

/** Opens `dir` with the owner's key on the test's `clock`, runs `use`, and always closes it. */
const withClock = <R>(dir: string, clock: TestClock, use: (ledger: Ledger) => Promise<R>): Promise<R> => withOpen(dir, use, ownerKey, clock.read);

/**
 * Runs `attempt` on the closed ledger at `dir` and returns the code it was refused with; fails the test unless
 * every key and value of the store is as it was.
 */
async function refusal(dir: string, clock: TestClock, attempt: (ledger: Ledger) => Promise<unknown>): Promise<string> {
  const before = await dumpStore(dir);
  const code = await withClock(dir, clock, (ledger) => codeOf(() => attempt(ledger)));
  expect(await dumpStore(dir), `refused with ${code}, yet the store changed`).toEqual(before);
  return code;
}

async function eventsFrom(ledger: Ledger, from: number): Promise<LedgerEvent[]> {
  const events: LedgerEvent[] = [];
  for await (const event of ledger.events({ from })) events.push(event);
  return events;
}

/** [type, payload] of each event from `from` on. */
async function changesFrom(ledger: Ledger, from: number): Promise<[string, unknown][]> {
  return (await eventsFrom(ledger, from)).map((e) => [e.type, e.payload]);
}

let root = '';
let files = '';
let pristine = '';
let copies = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'provledger-ml-'));
  files = join(root, 'files');
  pristine = join(root, 'pristine');
  await writeTree(files, FILES);
  const clock = new TestClock();
  const ledger = await Ledger.create(pristine, { key: ownerKey, sync: false, clock: clock.read });
  try {
    await writeMlFixture(ledger, files, digestPaths);
    expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
  } finally {
    await ledger.close();
  }
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

/** A fresh copy of the ML ledger, and a clock an hour after its events. */
async function copyOfLedger(): Promise<{ dir: string; clock: TestClock }> {
  const dir = join(root, `copy-${copies++}`);
  await cp(pristine, dir, { recursive: true });
  const clock = new TestClock();
  clock.now = T + 3_600_000;
  return { dir, clock };
}

/** A new empty ledger in `parent`. */
async function newLedger(parent: string, clock = new TestClock()): Promise<Ledger> {
  return Ledger.create(join(parent, 'ledger'), { key: ownerKey, sync: false, clock: clock.read });
}

// ---------------------------------------------------------------------------------------------------------
// Artifacts (SPEC §21.2)

describe('artifact add of one file records its SHA-256 and size, and no members (SPEC §21.2)', () => {
  it('creates version 1 whose digest is the sha256 of the bytes; the result names the event written', async () => {
    await withTempDir(async (tmp) => {
      const bytes = new Uint8Array([0, 1, 2, 255, 10, 13]);
      await writeFile(join(tmp, 'model.bin'), bytes);
      const ledger = await newLedger(tmp);
      try {
        const result = await ledger.artifacts.add({ kind: 'model', name: 'resnet', content: await digestPaths([join(tmp, 'model.bin')]) });
        expect(result).toStrictEqual({ id: 'resnet', version: 1, unchanged: false, seq: 1, hash: expect.stringMatching(HEX64) });
        const record = await ledger.records.get('resnet');
        expect(record).toMatchObject({ kind: 'model', version: 1, seq: 1, hash: result.hash });
        expect(record.data).toStrictEqual({ name: 'resnet', digest: { sha256: sha256(bytes) }, size: bytes.length });
        expect((await ledger.get(1)).type).toBe('record.create');
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('artifact add of a directory or several paths records the sorted manifest; the digest is the manifest\'s (SPEC §21.2)', () => {
  it('a directory: members sorted by path bytes (hidden and empty files count), digest and size of the manifest', async () => {
    await withTempDir(async (tmp) => {
      // Written out of order; upper case sorts before lower case and "." before letters in byte order.
      const tree = { 'b.txt': 'b', 'a/z.bin': 'zz', 'a/b.bin': 'bbb', '.hidden': 'h', 'B.txt': 'B', empty: '' };
      await writeTree(join(tmp, 'data'), tree);
      const ledger = await newLedger(tmp);
      try {
        await ledger.artifacts.add({ kind: 'dataset', name: 'data', content: await digestPaths([join(tmp, 'data')]) });
        const expected = manifestOf(tree);
        expect(expected.members.map((m) => m.path)).toEqual(['.hidden', 'B.txt', 'a/b.bin', 'a/z.bin', 'b.txt', 'empty']);
        expect((await ledger.records.get('data')).data).toStrictEqual({ name: 'data', digest: { sha256: expected.sha256 }, size: expected.size, members: expected.members });
      } finally {
        await ledger.close();
      }
    });
  });

  it('several paths: one manifest whose paths start with each argument\'s base name', async () => {
    await withTempDir(async (tmp) => {
      await writeTree(tmp, { 'weights.bin': 'w', 'tokenizer/vocab.txt': 'v', 'tokenizer/merges.txt': 'm' });
      const ledger = await newLedger(tmp);
      try {
        await ledger.artifacts.add({ kind: 'model', name: 'llm', content: await digestPaths([join(tmp, 'weights.bin'), join(tmp, 'tokenizer')]) });
        const expected = manifestOf({ 'weights.bin': 'w', 'tokenizer/vocab.txt': 'v', 'tokenizer/merges.txt': 'm' });
        expect((await ledger.records.get('llm')).data).toStrictEqual({ name: 'llm', digest: { sha256: expected.sha256 }, size: 3, members: expected.members });
      } finally {
        await ledger.close();
      }
    });
  });

  it('names whose UTF-8 byte order differs from JavaScript\'s UTF-16 order (U+FF01 before U+1F600) are recorded in byte order', async () => {
    await withTempDir(async (tmp) => {
      const tree = { '\u{1F600}.txt': 'smile', '\uFF01.txt': 'bang' };
      await writeTree(join(tmp, 'data'), tree);
      const ledger = await newLedger(tmp);
      try {
        const content = await digestPaths([join(tmp, 'data')]);
        expect(content.members!.map((m) => m.path)).toEqual(['\uFF01.txt', '\u{1F600}.txt']);
        expect(await codeOf(() => ledger.artifacts.add({ kind: 'dataset', name: 'data', content }))).toBe('no error');
        expect((await ledger.records.get('data')).data).toMatchObject({ digest: { sha256: manifestOf(tree).sha256 } });
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('the record id is the given id, else the name (SPEC §21.2)', () => {
  it('name "mnist" makes id mnist; an id with a free-text name keeps the name in the body', async () => {
    await withTempDir(async (tmp) => {
      const ledger = await newLedger(tmp);
      try {
        expect(await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content: contentNo(1) })).toMatchObject({ id: 'mnist', version: 1 });
        expect(await ledger.artifacts.add({ kind: 'dataset', name: 'MNIST handwritten digits', id: 'mnist-2', content: contentNo(2) })).toMatchObject({ id: 'mnist-2', version: 1 });
        expect((await ledger.records.get('mnist-2')).data).toMatchObject({ name: 'MNIST handwritten digits' });
        expect((await ledger.head())!.seq).toBe(2);
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('the same content again writes nothing and says unchanged (SPEC §21.2)', () => {
  it('{id, version, unchanged: true} with no seq or hash; no event, the store byte for byte as it was', async () => {
    const { dir, clock } = await copyOfLedger();
    const content = await digestPaths([join(files, 'mnist')]);
    const before = await dumpStore(dir);
    await withClock(dir, clock, async (ledger) => {
      expect(await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content })).toStrictEqual({ id: 'mnist', version: 1, unchanged: true });
      expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
    });
    expect(await dumpStore(dir)).toEqual(before);
  });

  it('also after fields were added with patch, and with the same licence in another spelling', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, (ledger) => ledger.records.patch('cifar', { labels: { team: 'vision' }, description: 'tiny images' }));
    const content = await digestPaths([join(files, 'cifar.bin')]);
    const before = await dumpStore(dir);
    await withClock(dir, clock, async (ledger) => {
      expect(await ledger.artifacts.add({ kind: 'dataset', name: 'cifar', license: 'mit', content })).toStrictEqual({ id: 'cifar', version: 2, unchanged: true });
      expect(await ledger.artifacts.add({ kind: 'dataset', name: 'cifar', content })).toStrictEqual({ id: 'cifar', version: 2, unchanged: true });
    });
    expect(await dumpStore(dir)).toEqual(before);
  });

  it('two adds of the same new content in one commit group: one creates, the other sees it and is unchanged', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      const results = await Promise.all([1, 2].map(() => ledger.artifacts.add({ kind: 'evaluation', name: 'eval-1', content: contentNo(7) })));
      expect(results.map((r) => r.unchanged).sort()).toEqual([false, true]);
      expect(results.map((r) => r.version)).toEqual([1, 1]);
      expect((await ledger.head())!.seq).toBe(HEAD_SEQ + 1);
    });
  });
});

describe('changed content writes the next version with the new digest, keeping every other field (SPEC §21.2)', () => {
  it('labels, description and licence set between versions stay; members follow the new content', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      await ledger.records.patch('mnist', { labels: { team: 'vision' }, description: 'handwritten digits', properties: { source: 'yann.lecun.com' } });
      const before = (await ledger.records.get('mnist')).data!;
      const { digest: _digest, size: _size, members: _members, ...kept } = before;
      expect(Object.keys(kept).sort()).toEqual(['description', 'labels', 'license', 'name', 'properties']);
      // One file more in the directory: a new manifest.
      const tree = { ...mnistTree(), 'extra.idx': 'extra' };
      const newer = join(root, `mnist-newer-${copies++}`);
      await writeTree(newer, tree);
      const result = await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content: await digestPaths([newer]) });
      expect(result).toStrictEqual({ id: 'mnist', version: 3, unchanged: false, seq: HEAD_SEQ + 2, hash: expect.stringMatching(HEX64) });
      const expected = manifestOf(tree);
      expect((await ledger.records.get('mnist')).data).toStrictEqual({ ...kept, digest: { sha256: expected.sha256 }, size: expected.size, members: expected.members });
      expect(kept['license']).toEqual({ declared: 'CC-BY-SA-3.0' });

      // A single file now: no members any more, the rest kept.
      const single = await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content: await digestPaths([join(files, 'gone.csv')]) });
      expect(single.version).toBe(4);
      expect((await ledger.records.get('mnist')).data).toStrictEqual({ ...kept, digest: { sha256: sha256(FILES['gone.csv']!) }, size: 4 });
      // Version 1 is still readable as it was.
      expect((await ledger.records.get('mnist', { version: 1 })).data).toMatchObject({ digest: { sha256: manifestOf(mnistTree()).sha256 } });
    });
  });
});

function mnistTree(): Record<string, string> {
  return Object.fromEntries(Object.entries(FILES).filter(([p]) => p.startsWith('mnist/')).map(([p, b]) => [p.slice(6), b]));
}

describe('licences are stored in canonical SPDX form, kept when omitted, replaced when given (SPEC §21.4)', () => {
  it('"mit or apache-2.0" → "MIT OR Apache-2.0"; omitted: kept; "(cc-by-4.0)" → "CC-BY-4.0", a new version; concluded stays', async () => {
    await withTempDir(async (tmp) => {
      const ledger = await newLedger(tmp);
      try {
        await ledger.artifacts.add({ kind: 'software', name: 'tool', license: 'mit or apache-2.0', content: contentNo(1) });
        expect((await ledger.records.get('tool')).data!['license']).toEqual({ declared: 'MIT OR Apache-2.0' });

        await ledger.artifacts.add({ kind: 'software', name: 'tool', content: contentNo(2) });
        expect((await ledger.records.get('tool')).data!['license']).toEqual({ declared: 'MIT OR Apache-2.0' });

        await ledger.records.patch('tool', { license: { concluded: 'MIT' } });
        // Same content, another licence: the body changes, so a new version.
        const replaced = await ledger.artifacts.add({ kind: 'software', name: 'tool', license: '(cc-by-4.0)', content: contentNo(2) });
        expect(replaced).toMatchObject({ version: 4, unchanged: false });
        expect((await ledger.records.get('tool')).data!['license']).toEqual({ declared: 'CC-BY-4.0', concluded: 'MIT' });

        await ledger.artifacts.add({ kind: 'software', name: 'tool', license: 'unknown', content: contentNo(2) });
        expect((await ledger.records.get('tool')).data!['license']).toEqual({ declared: 'unknown', concluded: 'MIT' });
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('property: a version is written exactly when the body would change (SPEC §21.2)', () => {
  // Licence inputs and their canonical forms; undefined keeps the current one.
  const LICENSES: readonly (readonly [string | undefined, string | undefined])[] = [
    [undefined, undefined],
    ['MIT', 'MIT'],
    ['mit', 'MIT'],
    ['apache-2.0 or mit', 'Apache-2.0 OR MIT'],
    ['Apache-2.0 OR MIT', 'Apache-2.0 OR MIT'],
  ];

  it('for any sequence of (content, licence) adds to one id, the version and the head move as a model says', async () => {
    await withTempDir(async (tmp) => {
      const ledger = await newLedger(tmp);
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: LICENSES.length - 1 })), { minLength: 1, maxLength: 8 }), async (ops) => {
            const id = `p-${run++}`;
            const model: { current: { content: number; license: string | undefined; version: number } | null } = { current: null };
            for (const [content, licenseIndex] of ops) {
              const current = model.current;
              const [given, canonical] = LICENSES[licenseIndex]!;
              const headBefore = (await ledger.head())!.seq;
              const result = await ledger.artifacts.add({ kind: 'config', name: id, license: given, content: contentNo(content) });
              const license = canonical ?? current?.license;
              const changes = current === null || current.content !== content || current.license !== license;
              const version = current === null ? 1 : current.version + (changes ? 1 : 0);
              expect(result).toMatchObject({ id, version, unchanged: !changes });
              expect((await ledger.head())!.seq).toBe(headBefore + (changes ? 1 : 0));
              model.current = { content, license, version };
            }
          }),
          { numRuns: 25 },
        );
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('a refused artifact add writes nothing (SPEC §21.2, §21.4)', () => {
  const mnistContent = () => digestPaths([join(files, 'mnist')]);
  const CASES: readonly { name: string; code: string; attempt: (ledger: Ledger) => Promise<unknown> }[] = [
    { name: 'an invalid SPDX expression', code: 'INVALID_ARGUMENT', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'new', license: 'MIT OR', content: contentNo(1) }) },
    { name: 'an SPDX operator in mixed case ("And")', code: 'INVALID_ARGUMENT', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'new', license: 'MIT And Apache-2.0', content: contentNo(1) }) },
    { name: 'an invalid SPDX expression for an existing record, same content', code: 'INVALID_ARGUMENT', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'mnist', license: 'mit and', content: await mnistContent() }) },
    { name: 'an unknown kind', code: 'INVALID_KIND', attempt: async (l) => l.artifacts.add({ kind: 'banana' as 'dataset', name: 'new', content: contentNo(1) }) },
    { name: 'kind run (not an artifact kind)', code: 'INVALID_KIND', attempt: async (l) => l.artifacts.add({ kind: 'run' as 'dataset', name: 'new', content: contentNo(1) }) },
    { name: 'a name that is not an id, without an id', code: 'INVALID_RECORD_ID', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'MNIST digits', content: contentNo(1) }) },
    { name: 'an invalid id', code: 'INVALID_RECORD_ID', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'ok', id: 'a/b', content: contentNo(1) }) },
    { name: 'an existing record of another kind (mnist is a dataset)', code: 'INVALID_KIND', attempt: async (l) => l.artifacts.add({ kind: 'model', name: 'mnist', content: contentNo(1) }) },
    { name: 'an existing run', code: 'INVALID_KIND', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'train-1', content: contentNo(1) }) },
    { name: 'a deleted record', code: 'RECORD_DELETED', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'gone', content: contentNo(1) }) },
    { name: 'a digest that is not lower-case hex', code: 'INVALID_PAYLOAD', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'new', content: { sha256: 'A'.repeat(64), size: 1 } }) },
    { name: 'a missing path', code: 'INVALID_ARGUMENT', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'new', content: await digestPaths([join(files, 'nope')]) }) },
    { name: 'an empty directory', code: 'INVALID_ARGUMENT', attempt: async (l) => l.artifacts.add({ kind: 'dataset', name: 'new', content: await digestPaths([await emptyDir()]) }) },
  ];

  async function emptyDir(): Promise<string> {
    const path = join(root, `empty-${copies++}`);
    await mkdir(path);
    return path;
  }

  it.for(CASES)('$name → $code', async (c) => {
    const { dir, clock } = await copyOfLedger();
    expect(await refusal(dir, clock, c.attempt)).toBe(c.code);
  });

  it('without a key → USAGE, nothing written', async () => {
    const { dir } = await copyOfLedger();
    const before = await dumpStore(dir);
    const ledger = await Ledger.open(dir, { sync: false });
    try {
      expect(await codeOf(() => ledger.artifacts.add({ kind: 'dataset', name: 'new', content: contentNo(1) }))).toBe('USAGE');
    } finally {
      await ledger.close();
    }
    expect(await dumpStore(dir)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Runs (SPEC §21.3)

describe('run start writes a run record in state RUNNING with its parameters and the clock\'s time (SPEC §21.3)', () => {
  it('the body is exactly {name, runKind, state, startedAt, parameters}; the result names the record event', async () => {
    const { dir, clock } = await copyOfLedger();
    clock.now = T + 7_200_000;
    await withClock(dir, clock, async (ledger) => {
      const parameters = { lr: 0.0003, optimizer: 'adam', nesterov: true, layers: [64, 128], schedule: { warmup: 5 }, seed: null };
      const result = await ledger.runs.start({ kind: 'train', name: 'train resnet-50', id: 'train-2', parameters });
      expect(result).toStrictEqual({ id: 'train-2', seq: HEAD_SEQ + 1, hash: expect.stringMatching(HEX64) });
      const record = await ledger.records.get('train-2');
      expect(record).toMatchObject({ kind: 'run', version: 1, seq: HEAD_SEQ + 1, hash: result.hash });
      expect(record.data).toStrictEqual({ name: 'train resnet-50', runKind: 'train', state: 'RUNNING', startedAt: T + 7_200_000, parameters });
    });
  });

  it('without an id: "run-" and 16 hex characters; without parameters: no parameters field', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      const { id } = await ledger.runs.start({ kind: 'preprocess', name: 'clean' });
      expect(id).toMatch(/^run-[0-9a-f]{16}$/);
      expect((await ledger.records.get(id)).data).toStrictEqual({ name: 'clean', runKind: 'preprocess', state: 'RUNNING', startedAt: clock.now });
    });
  });
});

describe('run start links each input `used`, with its role (default other) and split, in one atomic request (SPEC §21.3, §6.3)', () => {
  it('the record event and one link event per input, consecutive and in input order; lineage of the run shows the inputs', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      const inputs = [{ id: 'mnist', role: 'train', split: '2026-11' }, { id: 'cifar' }, { id: 'mnist', role: 'test', split: 't10k' }, { id: 'train-1' }] as const;
      await ledger.runs.start({ kind: 'evaluate', name: 'eval', id: 'eval-run', inputs });
      const changes = await changesFrom(ledger, HEAD_SEQ + 1);
      expect(changes.map(([type]) => type)).toEqual(['record.create', 'link.add', 'link.add', 'link.add', 'link.add']);
      expect(changes.slice(1).map(([, payload]) => payload)).toEqual([
        { from: 'eval-run', to: 'mnist', rel: 'used', role: 'train', split: '2026-11' },
        { from: 'eval-run', to: 'cifar', rel: 'used', role: 'other' },
        { from: 'eval-run', to: 'mnist', rel: 'used', role: 'test', split: 't10k' },
        { from: 'eval-run', to: 'train-1', rel: 'used', role: 'other' },
      ]);

      const lineage = await ledger.links.lineage('eval-run', { depth: 1 });
      expect(lineage.nodes.map((n) => n.id).sort()).toEqual(['cifar', 'eval-run', 'mnist', 'train-1']);
      expect(lineage.edges.map((e) => `${e.to} ${e.role ?? ''} ${e.split ?? ''} ${e.addedSeq}`).sort()).toEqual([
        `cifar other  ${HEAD_SEQ + 3}`,
        `mnist test t10k ${HEAD_SEQ + 4}`,
        `mnist train 2026-11 ${HEAD_SEQ + 2}`,
        `train-1 other  ${HEAD_SEQ + 5}`,
      ]);
    });
  });

  it('runs started at the same time (one commit group) each get consecutive events; a refused one writes nothing', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      const start = (id: string, inputs: RunStart['inputs']) => ledger.runs.start({ kind: 'train', name: id, id, inputs });
      const outcomes = await Promise.allSettled([
        start('r-a', [{ id: 'mnist', role: 'train' }, { id: 'cifar' }]),
        start('r-b', [{ id: 'cifar', role: 'train' }, { id: 'base', role: 'base-model' }]),
        start('r-bad', [{ id: 'mnist' }, { id: 'nope' }]),
        start('r-c', [{ id: 'train.py', role: 'code' }, { id: 'cfg', role: 'config' }, { id: 'mnist' }]),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'RECORD_NOT_FOUND' });

      // The run each event belongs to, in log order: every run's events form one unbroken block.
      const owners = (await eventsFrom(ledger, HEAD_SEQ + 1)).map((e) => (e.payload as { id?: string; from?: string }).id ?? (e.payload as { from: string }).from);
      expect(owners).toHaveLength(3 + 2 + 2 + 3);
      const blocks = owners.filter((owner, i) => i === 0 || owners[i - 1] !== owner);
      expect(blocks.sort()).toEqual(['r-a', 'r-b', 'r-c']);
      expect(await codeOf(() => ledger.records.get('r-bad'))).toBe('RECORD_NOT_FOUND');
    });
  });
});

describe('a refused run start writes nothing at all, not even the run record (SPEC §21.3)', () => {
  // The bad input comes after good ones, so a request that was not atomic would leave the run and some links.
  const good = [{ id: 'mnist', role: 'train' }, { id: 'cifar', role: 'validation' }] as const;
  const start = (extra: Partial<RunStart>) => (ledger: Ledger) => ledger.runs.start({ kind: 'train', name: 'r', id: 'r-new', inputs: good, ...extra });
  const CASES: readonly { name: string; code: string; attempt: (ledger: Ledger) => Promise<unknown> }[] = [
    { name: 'an unknown input', code: 'RECORD_NOT_FOUND', attempt: start({ inputs: [...good, { id: 'nope' }] }) },
    { name: 'a deleted input', code: 'RECORD_DELETED', attempt: start({ inputs: [...good, { id: 'gone', role: 'test' }] }) },
    { name: 'an input role outside the list', code: 'INVALID_LINK', attempt: start({ inputs: [...good, { id: 'base', role: 'teacher' as 'train' }] }) },
    { name: 'an input split that is not a label', code: 'INVALID_LINK', attempt: start({ inputs: [...good, { id: 'base', split: 'a b' }] }) },
    { name: 'an input id that is not an id', code: 'INVALID_LINK', attempt: start({ inputs: [...good, { id: 'a/b' }] }) },
    { name: 'the run itself as an input', code: 'INVALID_LINK', attempt: start({ inputs: [...good, { id: 'r-new' }] }) },
    { name: 'the same input twice with the same role and split', code: 'INVALID_ARGUMENT', attempt: start({ inputs: [...good, { id: 'cifar', role: 'validation' }] }) },
    { name: 'the same input twice, once with role other and once with none', code: 'INVALID_ARGUMENT', attempt: start({ inputs: [{ id: 'cifar', role: 'other' }, { id: 'cifar' }] }) },
    { name: 'an id in use by a run', code: 'RECORD_EXISTS', attempt: start({ id: 'train-1' }) },
    { name: 'an id in use by a dataset', code: 'RECORD_EXISTS', attempt: start({ id: 'mnist' }) },
    { name: 'the id of a deleted record (ids are never reused)', code: 'RECORD_EXISTS', attempt: start({ id: 'gone' }) },
    { name: 'an invalid id', code: 'INVALID_RECORD_ID', attempt: start({ id: '-x' }) },
    { name: 'an unknown run kind', code: 'INVALID_ARGUMENT', attempt: start({ kind: 'fit' as 'train' }) },
    { name: 'an empty name', code: 'INVALID_PAYLOAD', attempt: start({ name: '' }) },
    { name: 'a parameter that is not JSON (Infinity)', code: 'INVALID_PAYLOAD', attempt: start({ parameters: { lr: Number.POSITIVE_INFINITY } }) },
  ];

  it.for(CASES)('$name → $code', async (c) => {
    const { dir, clock } = await copyOfLedger();
    expect(await refusal(dir, clock, c.attempt)).toBe(c.code);
  });

  it('after a refusal the id is still free: the same run then starts at version 1', async () => {
    const { dir, clock } = await copyOfLedger();
    expect(await refusal(dir, clock, start({ inputs: [...good, { id: 'nope' }] }))).toBe('RECORD_NOT_FOUND');
    await withClock(dir, clock, async (ledger) => {
      // SPEC §21.3: the result names the last link (record at HEAD_SEQ + 1, its two `used` links after it).
      expect(await start({})(ledger)).toMatchObject({ id: 'r-new', seq: HEAD_SEQ + 3 });
      expect(await ledger.records.get('r-new')).toMatchObject({ version: 1, seq: HEAD_SEQ + 1 });
    });
  });
});

describe('run finish writes the run\'s next version and links each output `generated`, in one atomic request (SPEC §21.3)', () => {
  it('completed: state COMPLETED, endedAt from the clock, metrics merged into those it had; then what data trained the model', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      // Metrics recorded while the run was going (an ordinary patch), then more at the end.
      await ledger.records.patch('train-1', { metrics: { loss: 0.7, top1: 0.5 } });
      const before = (await ledger.records.get('train-1')).data!;
      clock.now = T + 9_000_000;
      const result = await ledger.runs.finish('train-1', { status: 'completed', outputs: ['resnet'], metrics: { top1: 0.94, top5: 0.99 } });
      // SPEC §21.3: the result names the last event written, the `generated` link; the record event is one before it.
      expect(result).toStrictEqual({ id: 'train-1', version: 3, seq: HEAD_SEQ + 3, hash: expect.stringMatching(HEX64) });
      expect(await ledger.head()).toMatchObject({ seq: result.seq, hash: result.hash });
      expect(await ledger.records.get('train-1')).toMatchObject({ version: 3, seq: result.seq - 1 });
      expect((await ledger.records.get('train-1')).data).toStrictEqual({ ...before, state: 'COMPLETED', endedAt: T + 9_000_000, metrics: { loss: 0.7, top1: 0.94, top5: 0.99 } });
      expect(await changesFrom(ledger, HEAD_SEQ + 2)).toEqual([
        ['record.update', expect.objectContaining({ id: 'train-1', version: 3 })],
        ['link.add', { from: 'train-1', to: 'resnet', rel: 'generated' }],
      ]);

      // The question: what data trained this model (SPEC §19.3)?
      const lineage = await ledger.links.lineage('resnet', { direction: 'up', kind: 'dataset' });
      expect(lineage.nodes.map((n) => [n.id, n.kind, n.path])).toEqual([
        ['resnet', 'model', ['resnet']],
        ['cifar', 'dataset', ['resnet', 'train-1', 'cifar']],
        ['mnist', 'dataset', ['resnet', 'train-1', 'mnist']],
      ]);
    });
  });

  it('failed, with several outputs and no metrics: state FAILED, no metrics field; the links follow the record event', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      await ledger.artifacts.add({ kind: 'model', name: 'ckpt-1', content: contentNo(1) });
      await ledger.artifacts.add({ kind: 'evaluation', name: 'partial', content: contentNo(2) });
      const before = (await ledger.records.get('train-1')).data!;
      const result = await ledger.runs.finish('train-1', { status: 'failed', outputs: ['ckpt-1', 'partial'] });
      // SPEC §21.3: the result names the last link (to partial); the record event is seq − 2 links.
      expect(result).toMatchObject({ version: 2, seq: HEAD_SEQ + 5 });
      expect(await ledger.head()).toMatchObject({ seq: result.seq, hash: result.hash });
      expect(await ledger.records.get('train-1')).toMatchObject({ version: 2, seq: result.seq - 2 });
      expect((await ledger.records.get('train-1')).data).toStrictEqual({ ...before, state: 'FAILED', endedAt: clock.now });
      expect((await changesFrom(ledger, HEAD_SEQ + 3)).map(([type, payload]) => [type, (payload as { to?: string }).to ?? null])).toEqual([
        ['record.update', null],
        ['link.add', 'ckpt-1'],
        ['link.add', 'partial'],
      ]);
      expect((await ledger.links.lineage('partial', { depth: 1 })).nodes.map((n) => n.id)).toEqual(['partial', 'train-1']);
    });
  });
});

describe('a refused run finish writes nothing: a run finishes once, outputs must not close a cycle (SPEC §21.3)', () => {
  const finish = (id: string, extra: Partial<RunFinish> = {}) => (ledger: Ledger) => ledger.runs.finish(id, { status: 'completed', outputs: ['resnet'], ...extra });
  const CASES: readonly { name: string; code: string; attempt: (ledger: Ledger) => Promise<unknown> }[] = [
    { name: 'a run already COMPLETED', code: 'RUN_FINISHED', attempt: finish('old-run', { outputs: [] }) },
    { name: 'a run already COMPLETED, now as failed', code: 'RUN_FINISHED', attempt: finish('old-run', { status: 'failed', outputs: [] }) },
    { name: 'an unknown run', code: 'RECORD_NOT_FOUND', attempt: finish('run-nope') },
    { name: 'a dataset, not a run', code: 'INVALID_KIND', attempt: finish('mnist') },
    { name: 'an invalid run id', code: 'INVALID_RECORD_ID', attempt: finish('a b') },
    { name: 'a status that is neither completed nor failed', code: 'INVALID_ARGUMENT', attempt: finish('train-1', { status: 'done' as 'completed' }) },
    { name: 'a metric that is not a number', code: 'INVALID_PAYLOAD', attempt: finish('train-1', { metrics: { top1: 'high' as unknown as number } }) },
    { name: 'a metric that is NaN', code: 'INVALID_PAYLOAD', attempt: finish('train-1', { metrics: { top1: Number.NaN } }) },
    { name: 'an output that is an input of the run (a cycle)', code: 'LINK_CYCLE', attempt: finish('train-1', { outputs: ['resnet', 'mnist'] }) },
    { name: 'an unknown output', code: 'RECORD_NOT_FOUND', attempt: finish('train-1', { outputs: ['resnet', 'nope'] }) },
    { name: 'a deleted output', code: 'RECORD_DELETED', attempt: finish('train-1', { outputs: ['resnet', 'gone'] }) },
    { name: 'the run as its own output', code: 'INVALID_LINK', attempt: finish('train-1', { outputs: ['train-1'] }) },
  ];

  it.for(CASES)('$name → $code', async (c) => {
    const { dir, clock } = await copyOfLedger();
    expect(await refusal(dir, clock, c.attempt)).toBe(c.code);
  });

  it('finishing twice: the second is RUN_FINISHED and writes nothing; a refused finish leaves the run RUNNING, so it can finish later', async () => {
    const { dir, clock } = await copyOfLedger();
    expect(await refusal(dir, clock, finish('train-1', { outputs: ['resnet', 'cifar'] }))).toBe('LINK_CYCLE');
    await withClock(dir, clock, async (ledger) => {
      expect((await ledger.records.get('train-1')).data).toMatchObject({ state: 'RUNNING' });
      await ledger.runs.finish('train-1', { status: 'completed', outputs: ['resnet'] });
    });
    expect(await refusal(dir, clock, finish('train-1', { outputs: [] }))).toBe('RUN_FINISHED');
    expect(await refusal(dir, clock, finish('train-1', { status: 'failed', outputs: [] }))).toBe('RUN_FINISHED');
  });

  it('an output the run depends on through other records (train-1 used cfg, cfg derivedFrom up): LINK_CYCLE', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      await ledger.artifacts.add({ kind: 'dataset', name: 'up', content: contentNo(9) });
      await ledger.links.add({ from: 'cfg', to: 'up', rel: 'derivedFrom' });
    });
    expect(await refusal(dir, clock, finish('train-1', { outputs: ['resnet', 'up'] }))).toBe('LINK_CYCLE');
  });

  it('a deleted run cannot finish: RECORD_DELETED, as for any write to a deleted record', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, (ledger) => ledger.records.delete('train-1'));
    expect(await refusal(dir, clock, finish('train-1', { outputs: [] }))).toBe('RECORD_DELETED');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('verify is ok after artifacts and runs, and rebuild re-derives the same store (SPEC §12.5)', () => {
  it('a whole pipeline: data, code, config → train → model → evaluate → results; verify, rebuild, verify', async () => {
    const { dir, clock } = await copyOfLedger();
    await withClock(dir, clock, async (ledger) => {
      await ledger.runs.finish('train-1', { status: 'completed', outputs: ['resnet'], metrics: { loss: 0.1 } });
      const evaluation = await ledger.runs.start({ kind: 'evaluate', name: 'evaluate resnet', inputs: [{ id: 'resnet', role: 'eval' }, { id: 'mnist', role: 'test', split: 't10k' }] });
      await ledger.artifacts.add({ kind: 'evaluation', name: 'results', license: 'cc-by-4.0', content: contentNo(3) });
      await ledger.runs.finish(evaluation.id, { status: 'completed', outputs: ['results'], metrics: { top1: 0.94 } });
      await ledger.artifacts.add({ kind: 'dataset', name: 'mnist', content: contentNo(4) });
      const report = await ledger.verify();
      expect({ ok: report.ok, failures: report.failures }).toEqual({ ok: true, failures: [] });
      const datasets = await ledger.links.lineage('results', { kind: 'dataset' });
      expect(datasets.nodes.map((n) => n.id).sort()).toEqual(['cifar', 'mnist', 'results']);
    });
    const before = await dumpStore(dir);
    await withClock(dir, clock, async (ledger) => {
      await ledger.rebuild();
      expect((await ledger.verify()).failures).toEqual([]);
    });
    expect(await dumpStore(dir)).toEqual(before);
  });
});
