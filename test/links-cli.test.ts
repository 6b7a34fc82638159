/**
 * SPEC §19 and §20 through the built `provledger` command: `link add|remove|list` and `lineage` (text, --json,
 * --dot, --mermaid, --up/--down, --depth, --kind, --at). One describe per rule: what each command prints when all
 * is well; exit 2 with exactly one `provledger: … [CODE]` line for bad input, the store's keys and values
 * unchanged; the read-only commands never loading a key; and verify (also after `rebuild`) ok after link changes.
 *
 * The ledger is built once, in-process, in beforeAll (seq: what):
 *    1 create mnist (dataset "MNIST")        2 create mnist-train (dataset)   3 create cifar (dataset)
 *    4 create imagenet (dataset)             5 create base (model)            6 create train-7 (run, no name)
 *    7 create resnet (model, a name with " < > | and \)                       8 create eval-1 (evaluation)
 *    9 create exp (context)                 10 create gone (dataset)         11 delete gone
 *   12 create old (dataset "old data")
 *   13 mnist-train memberOf mnist           14 train-7 used mnist (train, train)
 *   15 train-7 used cifar (validation)      16 train-7 used base (base-model)
 *   17 train-7 generated resnet             18 eval-1 evaluates resnet
 *   19 train-7 inContext exp                20 train-7 used imagenet (train)
 *   21 train-7 used old (test)              22 delete old
 *   23 remove train-7 used imagenet (train) 24 update mnist → v2
 * Events 23 and 24 are written at least 20 ms after the one before, so a time names each point exactly.
 *
 * Reads run on copies of that ledger (a reader holds the lock, so reads of one copy would queue); every case that
 * writes, or must show that it did not, runs on its own copy.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey } from '../dist/index.js';
import { assertBuilt, expectRefusal, jsonLines, makeLedger, ok, parseSeqHash, runCli, sleep } from './helpers/cli.js';
import { cliFixture, copyOfLedger, expectBadInputRefused, readOnCopies, type BadInput, type CliFixture } from './helpers/cli-fixture.js';
import { storeDigest } from './helpers/raw-store.js';

const HEAD_SEQ = 24;
const RESNET_NAME = 'ResNet "50" <v2> | a\\b';

/** `lineage --json` (SPEC §20). */
interface LineageJson {
  root: string;
  direction: 'up' | 'down';
  atSeq: number;
  nodes: { id: string; kind: string; name: string | null; version: number; deleted: boolean; depth: number; path: string[] }[];
  edges: EdgeJson[];
}
interface EdgeJson {
  from: string;
  to: string;
  rel: string;
  role?: string;
  split?: string;
  addedSeq: number;
}

let f: CliFixture;
let cleanup: (() => Promise<void>) | undefined;

beforeAll(async () => {
  assertBuilt();
  const made = await makeLedger();
  cleanup = made.cleanup;
  const ledger = await Ledger.open(made.dir, { key: SigningKey.fromPem(await readFile(made.keyPath, 'utf8')) });
  const timeMs: number[] = [];
  try {
    const create = (kind: string, id: string, data: Record<string, unknown>) => ledger.records.create(kind, data, { id });
    await create('dataset', 'mnist', { name: 'MNIST' });
    await create('dataset', 'mnist-train', { name: 'MNIST train split' });
    await create('dataset', 'cifar', { name: 'CIFAR-10' });
    await create('dataset', 'imagenet', { name: 'ImageNet' });
    await create('model', 'base', { name: 'base model' });
    await create('run', 'train-7', { epochs: 3 });
    await create('model', 'resnet', { name: RESNET_NAME });
    await create('evaluation', 'eval-1', { name: 'eval 1' });
    await create('context', 'exp', { name: 'experiment' });
    await create('dataset', 'gone', { name: 'gone' });
    await ledger.records.delete('gone');
    await create('dataset', 'old', { name: 'old data' });
    await ledger.links.add({ from: 'mnist-train', to: 'mnist', rel: 'memberOf' });
    await ledger.links.add({ from: 'train-7', to: 'mnist', rel: 'used', role: 'train', split: 'train' });
    await ledger.links.add({ from: 'train-7', to: 'cifar', rel: 'used', role: 'validation' });
    await ledger.links.add({ from: 'train-7', to: 'base', rel: 'used', role: 'base-model' });
    await ledger.links.add({ from: 'train-7', to: 'resnet', rel: 'generated' });
    await ledger.links.add({ from: 'eval-1', to: 'resnet', rel: 'evaluates' });
    await ledger.links.add({ from: 'train-7', to: 'exp', rel: 'inContext' });
    await ledger.links.add({ from: 'train-7', to: 'imagenet', rel: 'used', role: 'train' });
    await ledger.links.add({ from: 'train-7', to: 'old', rel: 'used', role: 'test' });
    await ledger.records.delete('old');
    await sleep(20);
    await ledger.links.remove({ from: 'train-7', to: 'imagenet', rel: 'used', role: 'train' });
    await sleep(20);
    await ledger.records.update('mnist', { name: 'MNIST', files: 2 });
    expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
    for await (const event of ledger.events()) timeMs.push(event.timeMs);
  } finally {
    await ledger.close();
  }
  expect(timeMs[23]! - timeMs[22]!).toBeGreaterThan(1);
  expect(timeMs[24]! - timeMs[23]!).toBeGreaterThan(1);

  f = await cliFixture(made, timeMs);
});

afterAll(async () => {
  await cleanup?.();
});


/** Runs a read-only command on one of the reader copies. */
const read = readOnCopies(() => f.readers);

async function lineageJson(...args: string[]): Promise<LineageJson> {
  return JSON.parse(ok(await read(['--json', 'lineage', ...args]))) as LineageJson;
}

const iso = (timeMs: number) => new Date(timeMs).toISOString();
const ids = (lineage: LineageJson) => lineage.nodes.map((node) => node.id);
const edgeIds = (edges: readonly EdgeJson[]) => edges.map((e) => `${e.from} ${e.rel} ${e.to}`);

// The edges of the fixture, as lineage and link list print them.
const E = {
  memberOf: { from: 'mnist-train', to: 'mnist', rel: 'memberOf', addedSeq: 13 },
  usedMnist: { from: 'train-7', to: 'mnist', rel: 'used', role: 'train', split: 'train', addedSeq: 14 },
  usedCifar: { from: 'train-7', to: 'cifar', rel: 'used', role: 'validation', addedSeq: 15 },
  usedBase: { from: 'train-7', to: 'base', rel: 'used', role: 'base-model', addedSeq: 16 },
  generated: { from: 'train-7', to: 'resnet', rel: 'generated', addedSeq: 17 },
  evaluates: { from: 'eval-1', to: 'resnet', rel: 'evaluates', addedSeq: 18 },
  inContext: { from: 'train-7', to: 'exp', rel: 'inContext', addedSeq: 19 },
  usedImagenet: { from: 'train-7', to: 'imagenet', rel: 'used', role: 'train', addedSeq: 20 },
  usedOld: { from: 'train-7', to: 'old', rel: 'used', role: 'test', addedSeq: 21 },
} as const satisfies Record<string, EdgeJson>;

/** `lineage resnet --json` now: upstream, breadth first, each record once with a shortest path. */
const RESNET_UP: LineageJson = {
  root: 'resnet',
  direction: 'up',
  atSeq: HEAD_SEQ,
  nodes: [
    { id: 'resnet', kind: 'model', name: RESNET_NAME, version: 1, deleted: false, depth: 0, path: ['resnet'] },
    { id: 'train-7', kind: 'run', name: null, version: 1, deleted: false, depth: 1, path: ['resnet', 'train-7'] },
    { id: 'base', kind: 'model', name: 'base model', version: 1, deleted: false, depth: 2, path: ['resnet', 'train-7', 'base'] },
    { id: 'cifar', kind: 'dataset', name: 'CIFAR-10', version: 1, deleted: false, depth: 2, path: ['resnet', 'train-7', 'cifar'] },
    { id: 'mnist', kind: 'dataset', name: 'MNIST', version: 2, deleted: false, depth: 2, path: ['resnet', 'train-7', 'mnist'] },
    // Deleted since it was linked: shown as the version current now, the tombstone (SPEC §19.3).
    { id: 'old', kind: 'dataset', name: null, version: 2, deleted: true, depth: 2, path: ['resnet', 'train-7', 'old'] },
    { id: 'mnist-train', kind: 'dataset', name: 'MNIST train split', version: 1, deleted: false, depth: 3, path: ['resnet', 'train-7', 'mnist', 'mnist-train'] },
  ],
  edges: [E.generated, E.usedBase, E.usedCifar, E.usedMnist, E.usedOld, E.memberOf],
};

describe('link add puts a link in place and prints "linked (seq, hash)"; --json prints {seq, hash} (SPEC §20)', () => {
  it('text and --json name the event that was appended: the head, a link.add whose payload is exactly the link', async () => {
    const dir = await copyOfLedger(f);
    const owner = ['--ledger', dir, '--key', f.ownerKey];
    const text = await runCli([...owner, 'link', 'add', 'mnist', 'cifar', '--rel', 'derivedFrom']);
    const match = /^linked \(seq (\d+), hash ([0-9a-f]{64})\)\n$/.exec(ok(text));
    expect(match, text.stdout).not.toBeNull();
    expect(Number(match![1])).toBe(HEAD_SEQ + 1);
    const json = parseSeqHash(ok(await runCli([...owner, '--json', 'link', 'add', 'train-7', 'mnist-train', '--rel', 'used', '--role', 'eval', '--split', '2026-11'])));
    expect(json.seq).toBe(HEAD_SEQ + 2);

    const log = jsonLines<{ seq: number; hash: string; type: string; payload: unknown }>(ok(await runCli(['--ledger', dir, '--json', 'log', '--from', String(HEAD_SEQ + 1)])));
    expect(log.map((e) => [e.seq, e.hash, e.type, e.payload])).toEqual([
      [HEAD_SEQ + 1, match![2], 'link.add', { from: 'mnist', to: 'cifar', rel: 'derivedFrom' }],
      [HEAD_SEQ + 2, json.hash, 'link.add', { from: 'train-7', to: 'mnist-train', rel: 'used', role: 'eval', split: '2026-11' }],
    ]);
    const listed = jsonLines<EdgeJson>(ok(await runCli(['--ledger', dir, '--json', 'link', 'list', 'mnist', '--up'])));
    expect(listed).toContainEqual({ from: 'mnist', to: 'cifar', rel: 'derivedFrom', addedSeq: HEAD_SEQ + 1 });
  });
});

describe('link remove takes a link out of place and prints "removed (seq, hash)"; it may be added again (SPEC §19.1, §20)', () => {
  it('text and --json; lineage no longer walks the link, and the same link can be put back', async () => {
    const dir = await copyOfLedger(f);
    const owner = ['--ledger', dir, '--key', f.ownerKey];
    const text = ok(await runCli([...owner, 'link', 'remove', 'train-7', 'mnist', '--rel', 'used', '--role', 'train', '--split', 'train']));
    expect(text).toMatch(new RegExp(`^removed \\(seq ${HEAD_SEQ + 1}, hash [0-9a-f]{64}\\)\\n$`));
    const json = parseSeqHash(ok(await runCli([...owner, '--json', 'link', 'remove', 'mnist-train', 'mnist', '--rel', 'memberOf'])));
    expect(json.seq).toBe(HEAD_SEQ + 2);
    const log = jsonLines<{ type: string; payload: unknown }>(ok(await runCli(['--ledger', dir, '--json', 'log', '--from', String(HEAD_SEQ + 1)])));
    expect(log.map((e) => [e.type, e.payload])).toEqual([
      ['link.remove', { from: 'train-7', to: 'mnist', rel: 'used', role: 'train', split: 'train' }],
      ['link.remove', { from: 'mnist-train', to: 'mnist', rel: 'memberOf' }],
    ]);

    const after = JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'lineage', 'resnet']))) as LineageJson;
    expect(ids(after)).toEqual(['resnet', 'train-7', 'base', 'cifar', 'old']);
    const again = ok(await runCli([...owner, 'link', 'add', 'train-7', 'mnist', '--rel', 'used', '--role', 'train', '--split', 'train']));
    expect(again).toMatch(new RegExp(`^linked \\(seq ${HEAD_SEQ + 3}, `));
    const back = JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'lineage', 'resnet']))) as LineageJson;
    expect(back.edges).toContainEqual({ ...E.usedMnist, addedSeq: HEAD_SEQ + 3 });
  });
});

describe('link list prints a record\'s links in place, up then down by default, one per line (SPEC §20)', () => {
  it('text: from, rel (role, split), to, seq, tab-separated; inContext links are listed too', async () => {
    const lines = ok(await read(['link', 'list', 'train-7'])).trimEnd().split('\n');
    expect(lines.map((line) => line.split('\t'))).toEqual([
      ['train-7', 'used (base-model)', 'base', 'seq 16'],
      ['train-7', 'used (validation)', 'cifar', 'seq 15'],
      ['train-7', 'inContext', 'exp', 'seq 19'],
      ['train-7', 'used (train, train)', 'mnist', 'seq 14'],
      ['train-7', 'used (test)', 'old', 'seq 21'],
      ['train-7', 'generated', 'resnet', 'seq 17'],
    ]);
  });

  it('--json prints JSON Lines of edges {from, to, rel, role?, split?, addedSeq}; --up and --down split them', async () => {
    const [both, up, down, context] = await Promise.all([
      read(['--json', 'link', 'list', 'train-7']),
      read(['--json', 'link', 'list', 'train-7', '--up']),
      read(['--json', 'link', 'list', 'train-7', '--down']),
      read(['--json', 'link', 'list', 'exp']),
    ]);
    const upEdges = [E.usedBase, E.usedCifar, E.inContext, E.usedMnist, E.usedOld];
    expect(jsonLines(ok(up))).toEqual(upEdges);
    expect(jsonLines(ok(down))).toEqual([E.generated]);
    expect(jsonLines(ok(both))).toEqual([...upEdges, E.generated]);
    expect(jsonLines(ok(context))).toEqual([E.inContext]);
    // Exact key order of an edge with every field.
    expect(ok(up).split('\n')[3]).toBe('{"from":"train-7","to":"mnist","rel":"used","role":"train","split":"train","addedSeq":14}');
  });

  it('--at SEQ and --at TIME list the links in place then: the removed imagenet link before seq 23, not from it', async () => {
    const [at22, at23, atTime22, atTime23, now] = await Promise.all([
      read(['--json', 'link', 'list', 'train-7', '--up', '--at', '22']),
      read(['--json', 'link', 'list', 'train-7', '--up', '--at', '23']),
      read(['--json', 'link', 'list', 'train-7', '--up', '--at', iso(f.timeMs[23]! - 1)]),
      read(['--json', 'link', 'list', 'train-7', '--up', '--at', iso(f.timeMs[23]!)]),
      read(['--json', 'link', 'list', 'train-7', '--up']),
    ]);
    const before = [E.usedBase, E.usedCifar, E.inContext, E.usedImagenet, E.usedMnist, E.usedOld];
    const after = before.filter((edge) => edge !== E.usedImagenet);
    expect(jsonLines(ok(at22))).toEqual(before);
    expect(jsonLines(ok(atTime22))).toEqual(before);
    expect(jsonLines(ok(at23))).toEqual(after);
    expect(jsonLines(ok(atTime23))).toEqual(after);
    expect(jsonLines(ok(now))).toEqual(after);
  });

  it('--at a seq before any link lists nothing', async () => {
    expect(ok(await read(['link', 'list', 'train-7', '--at', '12']))).toBe('');
  });
});

describe('lineage --json prints {root, direction, atSeq, nodes, edges} (SPEC §19.3, §20)', () => {
  it('upstream of a model: every record once, breadth first, with its version now, depth and a shortest path; every link walked', async () => {
    const text = ok(await read(['--json', 'lineage', 'resnet']));
    expect(JSON.parse(text)).toEqual(RESNET_UP);
    // Exactly these keys, in this order, and one document on one line.
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['root', 'direction', 'atSeq', 'nodes', 'edges']);
    expect(Object.keys(RESNET_UP.nodes[0]!)).toEqual(Object.keys((JSON.parse(text) as LineageJson).nodes[0]!));
    expect(text.split('\n')).toHaveLength(2);
  });

  it('--up is the default; inContext links are never walked', async () => {
    const [explicit, train] = await Promise.all([lineageJson('resnet', '--up'), lineageJson('train-7')]);
    expect(explicit).toEqual(RESNET_UP);
    expect(ids(train)).not.toContain('exp');
    expect(train.edges.map((e) => e.rel)).not.toContain('inContext');
  });

  it('--down walks what depends on a record: the run that used it, the model it generated, the evaluation of that model', async () => {
    const [mnist, resnet] = await Promise.all([lineageJson('mnist', '--down'), lineageJson('resnet', '--down')]);
    expect({ direction: mnist.direction, atSeq: mnist.atSeq }).toEqual({ direction: 'down', atSeq: HEAD_SEQ });
    expect(mnist.nodes.map((n) => [n.id, n.depth, n.path])).toEqual([
      ['mnist', 0, ['mnist']],
      ['train-7', 1, ['mnist', 'train-7']],
      ['resnet', 2, ['mnist', 'train-7', 'resnet']],
      ['eval-1', 3, ['mnist', 'train-7', 'resnet', 'eval-1']],
    ]);
    expect(mnist.edges).toEqual([E.usedMnist, E.generated, E.evaluates]);
    expect(ids(resnet)).toEqual(['resnet', 'eval-1']);
  });

  it('--kind dataset answers "what data trained this model": the datasets behind the run, the walk still through the run', async () => {
    const data = await lineageJson('resnet', '--kind', 'dataset');
    expect(data.nodes.map((n) => [n.id, n.kind])).toEqual([
      ['resnet', 'model'],
      ['cifar', 'dataset'],
      ['mnist', 'dataset'],
      ['old', 'dataset'],
      ['mnist-train', 'dataset'],
    ]);
    // The same nodes as without --kind, depths and paths included, and every link walked.
    expect(data.nodes).toEqual(RESNET_UP.nodes.filter((n) => n.depth === 0 || n.kind === 'dataset'));
    expect(data.edges).toEqual(RESNET_UP.edges);
  });

  it('--depth N stops N links away: 1 gives the run, 0 the root alone', async () => {
    const [one, zero, two] = await Promise.all([lineageJson('resnet', '--depth', '1'), lineageJson('resnet', '--depth', '0'), lineageJson('resnet', '--depth', '2')]);
    expect({ nodes: ids(one), edges: one.edges }).toEqual({ nodes: ['resnet', 'train-7'], edges: [E.generated] });
    expect({ nodes: ids(zero), edges: zero.edges }).toEqual({ nodes: ['resnet'], edges: [] });
    expect(ids(two)).toEqual(['resnet', 'train-7', 'base', 'cifar', 'mnist', 'old']);
    expect(edgeIds(two.edges)).not.toContain('mnist-train memberOf mnist');
  });

  it('--at before the imagenet link was removed shows it, with each record as it stood then; now does not', async () => {
    const [at21, atTime22, atTime23] = await Promise.all([
      lineageJson('resnet', '--at', '21'),
      lineageJson('resnet', '--at', iso(f.timeMs[23]! - 1)),
      lineageJson('resnet', '--at', iso(f.timeMs[23]!)),
    ]);
    expect(at21.atSeq).toBe(21);
    expect(ids(at21)).toEqual(['resnet', 'train-7', 'base', 'cifar', 'imagenet', 'mnist', 'old', 'mnist-train']);
    expect(at21.edges).toContainEqual(E.usedImagenet);
    // At seq 21 mnist was at version 1 and old not yet deleted.
    expect(at21.nodes.find((n) => n.id === 'mnist')).toMatchObject({ version: 1 });
    expect(at21.nodes.find((n) => n.id === 'old')).toMatchObject({ version: 1, deleted: false, name: 'old data' });
    expect({ atSeq: atTime22.atSeq, nodes: ids(atTime22) }).toEqual({ atSeq: 22, nodes: ids(at21) });
    expect({ atSeq: atTime23.atSeq, nodes: ids(atTime23) }).toEqual({ atSeq: 23, nodes: ids(RESNET_UP) });
    expect(edgeIds(atTime23.edges)).not.toContain('train-7 used imagenet');
  });

  it('a record deleted now still walks as of a point where it lived', async () => {
    const [now, then] = await Promise.all([lineageJson('gone'), lineageJson('gone', '--at', '10')]);
    expect(now.nodes).toEqual([{ id: 'gone', kind: 'dataset', name: null, version: 2, deleted: true, depth: 0, path: ['gone'] }]);
    expect(then.nodes).toEqual([{ id: 'gone', kind: 'dataset', name: 'gone', version: 1, deleted: false, depth: 0, path: ['gone'] }]);
  });
});

describe('lineage prints the root, each record indented by its depth with kind, name, version and path, then every link (SPEC §20)', () => {
  it('every record and link of --json appears in the text, in the same order', async () => {
    const lines = ok(await read(['lineage', 'resnet'])).trimEnd().split('\n');
    const [root, ...rest] = RESNET_UP.nodes;
    expect(lines[0]!.startsWith(`${root!.id} `)).toBe(true);
    // Names are printed as JSON strings, so a quote or a line break in a name cannot break the line.
    expect(lines[0]).toContain(`${root!.kind} ${JSON.stringify(RESNET_NAME)} v1`);
    rest.forEach((node, i) => {
      const line = lines[i + 1]!;
      expect(line.startsWith(`${'  '.repeat(node.depth)}${node.id} `), line).toBe(true);
      expect(line, line).toContain(`${node.kind}${node.name === null ? '' : ` ${JSON.stringify(node.name)}`} v${node.version}`);
      expect(line, line).toContain(node.path.join(' → '));
      expect(line.includes('deleted'), line).toBe(node.deleted);
    });
    const linkLines = lines.slice(lines.length - RESNET_UP.edges.length);
    RESNET_UP.edges.forEach((edge, i) => {
      const extra = ['role' in edge ? edge.role : undefined, 'split' in edge ? edge.split : undefined].filter((x) => x !== undefined);
      expect(linkLines[i]).toMatch(new RegExp(`^\\s+${edge.from} ${edge.rel}${extra.length === 0 ? '' : ` \\(${extra.join(', ')}\\)`} ${edge.to}\\s.*\\b${edge.addedSeq}\\b`));
    });
    expect(lines).toHaveLength(1 + rest.length + 1 + RESNET_UP.edges.length);
  });

  it('--down joins the path the other way', async () => {
    const lines = ok(await read(['lineage', 'mnist', '--down'])).split('\n');
    expect(lines[3]).toMatch(/^ {6}eval-1 .*mnist ← train-7 ← resnet ← eval-1$/);
  });
});

/** A DOT quoted string: JSON's escapes (\" \\ \n) are a subset of what DOT reads back the same way. */
const DOT_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const DOT_NODE = new RegExp(`^  (${DOT_STRING}) \\[label=(${DOT_STRING})(, penwidth=2)?\\];$`);
const DOT_EDGE = new RegExp(`^  (${DOT_STRING}) -> (${DOT_STRING}) \\[label=(${DOT_STRING})\\];$`);

describe('lineage --dot prints a Graphviz digraph: one node per record, one edge per link, the root bold (SPEC §20)', () => {
  it('parses: every line is a header, a node or an edge; ids, labels and edges match --json; quotes and backslashes escaped', async () => {
    const lines = ok(await read(['lineage', 'resnet', '--dot'])).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^digraph \w+ \{$/);
    expect(lines.at(-1)).toBe('}');
    const nodes: { id: string; label: string; bold: boolean }[] = [];
    const edges: string[] = [];
    for (const line of lines.slice(1, -1)) {
      const node = DOT_NODE.exec(line);
      const edge = DOT_EDGE.exec(line);
      if (node !== null) nodes.push({ id: JSON.parse(node[1]!) as string, label: JSON.parse(node[2]!) as string, bold: node[3] !== undefined });
      else if (edge !== null) edges.push(`${JSON.parse(edge[1]!) as string} ${(JSON.parse(edge[3]!) as string).split(' ')[0]} ${JSON.parse(edge[2]!) as string}`);
      else expect(line, 'neither a node nor an edge').toMatch(/^ {2}(rankdir|node|edge|graph)\b[^"]*;$/);
    }
    expect(nodes.map((n) => n.id)).toEqual(ids(RESNET_UP));
    expect(nodes.filter((n) => n.bold).map((n) => n.id)).toEqual(['resnet']);
    expect(edges).toEqual(edgeIds(RESNET_UP.edges));
    // The name, printed as a JSON string, comes back as written once the DOT string is read.
    expect(nodes[0]!.label).toContain(JSON.stringify(RESNET_NAME));
    expect(nodes.find((n) => n.id === 'old')!.label).toContain('deleted');
  });
});

describe('lineage --mermaid prints a flowchart BT whose syntax no record name can break (SPEC §20)', () => {
  const NODE = /^ {2}(n\d+)\["([^"]*)"\]$/;
  const EDGE = /^ {2}(n\d+) -->\|([^|"]+)\| (n\d+)$/;
  const entities = (text: string) => text.replaceAll('#quot;', '"').replaceAll('#lt;', '<').replaceAll('#gt;', '>').replaceAll('#124;', '|').replaceAll('#35;', '#');

  it('every line is the header, a node or an edge; " < > | in a name become #quot; #lt; #gt; #124;', async () => {
    const text = ok(await read(['lineage', 'resnet', '--mermaid']));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('flowchart BT');
    const labels = new Map<string, string>();
    const edges: string[] = [];
    for (const line of lines.slice(1)) {
      const node = NODE.exec(line);
      const edge = EDGE.exec(line);
      expect(node ?? edge, line).not.toBeNull();
      if (node !== null) {
        // Apart from the one <br/> between id and label, no raw " < > | inside a label.
        expect(node[2]!.replace('<br/>', ''), line).not.toMatch(/["<>|]/);
        labels.set(node[1]!, node[2]!);
      } else edges.push(`${edge![1]} ${edge![2]!.split(' ')[0]} ${edge![3]}`);
    }
    const idOf = new Map([...labels].map(([short, label]) => [short, entities(label.split('<br/>')[0]!)]));
    expect([...idOf.values()]).toEqual(ids(RESNET_UP));
    expect(edges.map((e) => e.replace(/n\d+/g, (short) => idOf.get(short)!))).toEqual(edgeIds(RESNET_UP.edges));
    const resnet = [...labels.values()][0]!;
    // The name is a JSON string (its quotes and backslash escaped), then Mermaid's entities replace " < > | #.
    expect(resnet).toContain('#quot;ResNet \\#quot;50\\#quot; #lt;v2#gt; #124; a\\\\b#quot;');
    expect(entities(resnet)).toContain(JSON.stringify(RESNET_NAME));
  });

  it('with --kind, a record walked through but not listed still gets a node, so every edge has both ends', async () => {
    const lines = ok(await read(['lineage', 'resnet', '--kind', 'dataset', '--mermaid'])).trimEnd().split('\n');
    const declared = new Set(lines.map((line) => NODE.exec(line)?.[1]).filter((x) => x !== undefined));
    const ends = lines.flatMap((line) => EDGE.exec(line)?.slice(1).filter((_, i) => i !== 1) ?? []);
    expect(ends).toHaveLength(2 * RESNET_UP.edges.length);
    for (const end of ends) expect(declared.has(end), end).toBe(true);
  });
});

describe('the read-only commands never load the key (SPEC §10.1: the key is read only by commands that write)', () => {
  const READS: readonly (readonly string[])[] = [
    ['link', 'list', 'train-7'],
    ['--json', 'link', 'list', 'train-7', '--at', '22'],
    ['lineage', 'resnet'],
    ['--json', 'lineage', 'mnist', '--down'],
    ['lineage', 'resnet', '--dot'],
    ['lineage', 'resnet', '--kind', 'dataset', '--mermaid'],
  ];

  it.concurrent.for(READS)('%s with PROVLEDGER_KEY or --key naming a missing file prints what it prints without', async (args, { expect: check }) => {
    const plain = ok(await read(args), check);
    check(ok(await read(args, { env: { PROVLEDGER_KEY: f.missingKey } }), check)).toBe(plain);
    check(ok(await read(['--key', f.missingKey, ...args]), check)).toBe(plain);
  });

  it('a write with the same PROVLEDGER_KEY does read it, and is refused (KEY_INVALID)', async () => {
    const dir = await copyOfLedger(f);
    const result = await runCli(['--ledger', dir, 'link', 'add', 'mnist', 'cifar', '--rel', 'derivedFrom'], { env: { PROVLEDGER_KEY: f.missingKey } });
    expectRefusal(result, 2, 'KEY_INVALID', expect);
    expect(await storeDigest(dir)).toBe(f.storeDigest);
  });
});

describe('verify is ok after link changes, and after rebuild re-derives the link indexes (SPEC §19.4, §12.5)', () => {
  it('add, remove, re-add: verify ok; rebuild; verify ok, and lineage and link list print the same as before', async () => {
    const dir = await copyOfLedger(f);
    const owner = ['--ledger', dir, '--key', f.ownerKey];
    ok(await runCli([...owner, 'link', 'add', 'cifar', 'mnist-train', '--rel', 'derivedFrom']));
    ok(await runCli([...owner, 'link', 'add', 'train-7', 'imagenet', '--rel', 'used', '--role', 'train']));
    ok(await runCli([...owner, 'link', 'remove', 'train-7', 'cifar', '--rel', 'used', '--role', 'validation']));
    ok(await runCli([...owner, 'link', 'add', 'resnet', 'exp', '--rel', 'inContext']));
    const reads = [['--json', 'lineage', 'resnet'], ['--json', 'lineage', 'mnist-train', '--down'], ['--json', 'link', 'list', 'train-7'], ['lineage', 'cifar', '--down', '--at', '22']];
    const readAll = async () => {
      const out: string[] = [];
      for (const args of reads) out.push(ok(await runCli(['--ledger', dir, ...args])));
      return out;
    };
    const verify = async () => JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'verify']))) as { ok: boolean; checked: number; failures: unknown[] };

    expect(await verify()).toMatchObject({ ok: true, checked: HEAD_SEQ + 5, failures: [] });
    const before = await readAll();
    const digest = await storeDigest(dir);
    expect(JSON.parse(before[0]!) as LineageJson).toMatchObject({ atSeq: HEAD_SEQ + 4 });
    expect(ids(JSON.parse(before[0]!) as LineageJson)).toEqual(['resnet', 'train-7', 'base', 'imagenet', 'mnist', 'old', 'mnist-train']);

    expect(JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'rebuild'])))).toEqual({ rebuilt: true, events: HEAD_SEQ + 5 });
    expect(await verify()).toMatchObject({ ok: true, failures: [] });
    expect(await readAll()).toEqual(before);
    // Rebuild re-derives the same bytes (SPEC §12.2).
    expect(await storeDigest(dir)).toBe(digest);
  });
});

const owner = (dir: string) => ['--ledger', dir, '--key', f.ownerKey];
const reader = (dir: string) => ['--ledger', dir];
const add = (...rest: string[]) => (dir: string) => [...owner(dir), 'link', 'add', ...rest];
const remove = (...rest: string[]) => (dir: string) => [...owner(dir), 'link', 'remove', ...rest];
const lineage = (...rest: string[]) => (dir: string) => [...reader(dir), 'lineage', ...rest];
const list = (...rest: string[]) => (dir: string) => [...reader(dir), 'link', 'list', ...rest];

const BAD_INPUT: readonly BadInput[] = [
  // SPEC §19.1: malformed links
  { name: 'add with an unknown --rel', args: add('train-7', 'mnist', '--rel', 'uses'), code: 'INVALID_LINK', opens: true },
  { name: 'add --rel Used (relations are case-sensitive)', args: add('train-7', 'mnist', '--rel', 'Used'), code: 'INVALID_LINK', opens: true },
  { name: 'add --role on a generated link', args: add('train-7', 'resnet', '--rel', 'generated', '--role', 'train'), code: 'INVALID_LINK', opens: true },
  { name: 'add --split on a derivedFrom link', args: add('mnist', 'cifar', '--rel', 'derivedFrom', '--split', 'train'), code: 'INVALID_LINK', opens: true },
  { name: 'add an unknown --role', args: add('train-7', 'imagenet', '--rel', 'used', '--role', 'trainer'), code: 'INVALID_LINK', opens: true },
  { name: 'add --split -x (must start with a letter or digit)', args: add('train-7', 'imagenet', '--rel', 'used', '--split=-x'), code: 'INVALID_LINK', opens: true },
  { name: 'add --split "a b"', args: add('train-7', 'imagenet', '--rel', 'used', '--split', 'a b'), code: 'INVALID_LINK', opens: true },
  { name: 'add --split of 65 characters', args: add('train-7', 'imagenet', '--rel', 'used', '--split', 'a'.repeat(65)), code: 'INVALID_LINK', opens: true },
  { name: 'add --split ""', args: add('train-7', 'imagenet', '--rel', 'used', '--split', ''), code: 'INVALID_LINK', opens: true },
  { name: 'add a self link', args: add('mnist', 'mnist', '--rel', 'derivedFrom'), code: 'INVALID_LINK', opens: true },
  { name: 'add from a malformed id a/b (a malformed link)', args: add('a/b', 'mnist', '--rel', 'dependsOn'), code: 'INVALID_LINK', opens: true },
  { name: 'remove with an unknown --rel', args: remove('train-7', 'mnist', '--rel', 'uses'), code: 'INVALID_LINK', opens: true },

  // SPEC §19.2: the records at both ends
  { name: 'add to an unknown record', args: add('train-7', 'nope', '--rel', 'used'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'add from an unknown record', args: add('nope', 'mnist', '--rel', 'derivedFrom'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'add to a deleted record', args: add('train-7', 'gone', '--rel', 'used'), code: 'RECORD_DELETED', opens: true },
  { name: 'add from a deleted record', args: add('gone', 'mnist', '--rel', 'derivedFrom'), code: 'RECORD_DELETED', opens: true },
  { name: 'add used from a model (not a run)', args: add('resnet', 'mnist', '--rel', 'used'), code: 'INVALID_LINK', opens: true },
  { name: 'add generated from a dataset (not a run)', args: add('mnist', 'resnet', '--rel', 'generated'), code: 'INVALID_LINK', opens: true },
  { name: 'add evaluates from a run (not an evaluation)', args: add('train-7', 'resnet', '--rel', 'evaluates'), code: 'INVALID_LINK', opens: true },
  { name: 'add inContext to a dataset (not a context)', args: add('train-7', 'mnist', '--rel', 'inContext'), code: 'INVALID_LINK', opens: true },

  // SPEC §19.2: in place or not
  { name: 'add a link already in place', args: add('train-7', 'mnist', '--rel', 'used', '--role', 'train', '--split', 'train'), code: 'LINK_EXISTS', opens: true },
  { name: 'add a generated link already in place', args: add('train-7', 'resnet', '--rel', 'generated'), code: 'LINK_EXISTS', opens: true },
  { name: 'remove a link never added (another role)', args: remove('train-7', 'mnist', '--rel', 'used', '--role', 'test', '--split', 'train'), code: 'LINK_NOT_FOUND', opens: true },
  { name: 'remove a link without its role and split (another link)', args: remove('train-7', 'mnist', '--rel', 'used'), code: 'LINK_NOT_FOUND', opens: true },
  { name: 'remove a link already removed', args: remove('train-7', 'imagenet', '--rel', 'used', '--role', 'train'), code: 'LINK_NOT_FOUND', opens: true },
  { name: 'remove a link given the wrong way round', args: remove('resnet', 'train-7', '--rel', 'generated'), code: 'LINK_NOT_FOUND', opens: true },

  // SPEC §19.2: cycles
  { name: 'add a run using its own output', args: add('train-7', 'resnet', '--rel', 'used'), code: 'LINK_CYCLE', opens: true },
  { name: 'add a part depending on the model built from its whole', args: add('mnist-train', 'resnet', '--rel', 'dependsOn'), code: 'LINK_CYCLE', opens: true },
  { name: 'add a model derived from its own evaluation', args: add('resnet', 'eval-1', '--rel', 'derivedFrom'), code: 'LINK_CYCLE', opens: true },
  { name: 'add memberOf the other way round (the whole a member of its part)', args: add('mnist', 'mnist-train', '--rel', 'memberOf'), code: 'LINK_CYCLE', opens: true },

  // keys
  { name: 'add without a key', args: (d) => [...reader(d), 'link', 'add', 'mnist', 'cifar', '--rel', 'derivedFrom'], code: 'USAGE', opens: false },
  { name: 'remove without a key', args: (d) => [...reader(d), 'link', 'remove', 'train-7', 'resnet', '--rel', 'generated'], code: 'USAGE', opens: false },
  { name: 'add with a missing key file', args: (d) => ['--ledger', d, '--key', f.missingKey, 'link', 'add', 'mnist', 'cifar', '--rel', 'derivedFrom'], code: 'KEY_INVALID', opens: false },
  { name: 'add with a key that is no key of the ledger', args: (d) => ['--ledger', d, '--key', f.strangerKey, 'link', 'add', 'mnist', 'cifar', '--rel', 'derivedFrom'], code: 'KEY_NOT_AUTHORIZED', opens: true },

  // usage
  { name: 'add without --rel', args: add('train-7', 'mnist'), code: 'USAGE', opens: false },
  { name: 'remove without --rel', args: remove('train-7', 'resnet'), code: 'USAGE', opens: false },
  { name: 'add with one record', args: add('train-7', '--rel', 'used'), code: 'USAGE', opens: false },
  { name: 'link with an unknown subcommand', args: (d) => [...owner(d), 'link', 'erase', 'train-7', 'resnet'], code: 'USAGE', opens: false },
  { name: 'lineage --up --down', args: lineage('resnet', '--up', '--down'), code: 'USAGE', opens: false },
  { name: 'lineage --json --dot', args: (d) => [...reader(d), '--json', 'lineage', 'resnet', '--dot'], code: 'USAGE', opens: false },
  { name: 'lineage --json --mermaid', args: (d) => [...reader(d), 'lineage', 'resnet', '--mermaid', '--json'], code: 'USAGE', opens: false },
  { name: 'lineage --dot --mermaid', args: lineage('resnet', '--dot', '--mermaid'), code: 'USAGE', opens: false },
  { name: 'lineage without an id', args: lineage(), code: 'USAGE', opens: false },
  { name: 'link list --up --down', args: list('train-7', '--up', '--down'), code: 'USAGE', opens: false },

  // numbers and points in time (SPEC §11.5)
  { name: 'lineage --depth -1', args: lineage('resnet', '--depth', '-1'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'lineage --depth=-1', args: lineage('resnet', '--depth=-1'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'lineage --depth abc', args: lineage('resnet', '--depth', 'abc'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'lineage --depth 1.5', args: lineage('resnet', '--depth', '1.5'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'lineage --at garbage', args: lineage('resnet', '--at', 'garbage'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'link list --at garbage', args: list('train-7', '--at', 'garbage'), code: 'INVALID_ARGUMENT', opens: false },
  { name: 'lineage --at in the future', args: lineage('resnet', '--at', '2999-01-01T00:00:00Z'), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'lineage --at before the genesis', args: lineage('resnet', '--at', '2000-01-01T00:00:00Z'), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'lineage --at a seq beyond the head', args: lineage('resnet', '--at', String(HEAD_SEQ + 1)), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'link list --at in the future', args: list('train-7', '--at', '2999-01-01'), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'link list --at before the genesis', args: list('train-7', '--at', '2000-01-01'), code: 'AT_OUT_OF_RANGE', opens: true },
  { name: 'link list --at a seq beyond the head', args: list('train-7', '--at', '999'), code: 'AT_OUT_OF_RANGE', opens: true },

  // SPEC §19.3: the root
  { name: 'lineage of an unknown id', args: lineage('nope'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'lineage --down of an unknown id', args: lineage('nope', '--down'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'lineage --at a seq before the root was created', args: lineage('resnet', '--at', '6'), code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'lineage of id a/b', args: lineage('a/b'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'lineage of a 129-character id', args: lineage('a'.repeat(129)), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'lineage -- -x', args: lineage('--', '-x'), code: 'INVALID_RECORD_ID', opens: true },
  { name: 'link list of id a/b', args: list('a/b'), code: 'INVALID_RECORD_ID', opens: true },
];

describe('bad link and lineage input is refused with exit 2 and one coded line, the ledger unchanged (SPEC §10.2, §19.2)', () => {
  it.concurrent.for(BAD_INPUT)('$name → $code', async (c, { expect: check }) => {
    const dir = await copyOfLedger(f);
    await expectBadInputRefused(dir, c.args(dir), c, f.storeDigest, check);
  });
});

describe('link list and lineage only read the ledger', () => {
  it('after every read above, each reader copy holds exactly what it held before', async () => {
    for (const dir of f.readers) expect(await storeDigest(dir)).toBe(f.storeDigest);
  });
});

describe('bundle --lineage carries the records upstream, and verify-bundle prints them (SPEC §17.7, §18)', () => {
  it('bundles resnet with everything it was made from as of the checkpoint, and verifies it offline', async () => {
    const dir = await copyOfLedger(f);
    const owner = ['--ledger', dir, '--key', f.ownerKey];
    const lineage = JSON.parse(ok(await runCli(['--ledger', dir, '--json', 'lineage', 'resnet']))) as LineageJson;
    const bundle = JSON.parse(ok(await runCli([...owner, 'bundle', 'resnet', '--lineage']))) as { upstream: string[] };
    expect(bundle.upstream).toEqual(ids(lineage).slice(1));
    const keys = ok(await runCli([...owner, '--json', 'key', 'list'])).trim().split('\n').map((line) => JSON.parse(line) as { key: string; name: string | null });
    const publicKey = keys.find((k) => k.name === 'owner')!.key;
    const path = join(dir, '..', 'resnet.bundle.json');
    ok(await runCli([...owner, 'bundle', 'resnet', '--lineage', '--out', path]));
    const text = ok(await runCli(['verify-bundle', path, '--trusted-key', publicKey]));
    for (const id of ids(lineage).slice(1)) expect(text).toContain(`upstream: ${id} (`);
    expect(text.match(/^link: /gm)).toHaveLength(lineage.edges.length);
  });
});
