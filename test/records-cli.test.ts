/**
 * SPEC §11 and §13 through the built `provledger` command: records are created, patched, updated and deleted,
 * and every version stays readable now, by number, at a seq and at a time; every answer names the event that
 * wrote it, and is checked here against `event`/`log`. One ledger is written in `beforeAll`; every read is run
 * once before and once after `rebuild`, and both runs must print the same.
 *
 * The ledger (seq: what):
 *   1 create mnist (dataset)  2 patch mnist → v2  3 app.note  4 create resnet (model)  5 update mnist --base 2 → v3
 *   6 create run (generated id)  7 delete mnist --base 3 → v4 (tombstone)  8 patch resnet → v2
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEX64, assertBuilt, errorCodeOf, makeLedger, runCli, type RunResult, type TestLedger } from './helpers/cli.js';

interface Version {
  id: string;
  kind: string;
  version: number;
  deleted: boolean;
  data: Record<string, unknown> | null;
  seq: number;
  hash: string;
  author: string;
  timeMs: number;
}
interface HistoryEntry extends Version {
  changes: { path: string; op: string }[];
}
interface LogEvent {
  seq: number;
  hash: string;
  timeMs: number;
  type: string;
  author: string;
  payload: unknown;
}

const V1 = { name: 'mnist', files: 4, meta: { license: 'cc-by', src: 's3://a' } };
const PATCH = { files: 5, meta: { src: null }, tags: ['a'] };
const V2 = { name: 'mnist', files: 5, meta: { license: 'cc-by' }, tags: ['a'] };
const V3 = { name: 'mnist', files: 6 };
const RESNET_V1 = { layers: 50, optimizer: 'sgd' };
const RESNET_V2 = { layers: 101, optimizer: 'sgd' };
const RUN = { epochs: 3 };

let ledger: TestLedger;
/** The write commands' results, in order. */
const writes: RunResult[] = [];
let runId: string;
/** `log --json`, by seq. */
let events: LogEvent[];
/** Every read below, run before the rebuild. */
let before: Map<string, RunResult>;

const iso = (timeMs: number) => new Date(timeMs).toISOString();
const jsonLines = <T>(stdout: string): T[] => (stdout === '' ? [] : stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as T));

/** The reads checked by the tests, by name; run before and after `rebuild`. */
function reads(): Record<string, string[]> {
  const at = (seq: number) => iso(events[seq]!.timeMs);
  // The same instant as seq 3, written with another zone.
  const plusTwo = new Date(events[3]!.timeMs + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
  return {
    'show mnist': ['record', 'show', 'mnist'],
    'show mnist --json': ['--json', 'record', 'show', 'mnist'],
    ...Object.fromEntries([1, 2, 3, 4].map((v) => [`show mnist --version ${v}`, ['--json', 'record', 'show', 'mnist', '--version', String(v)]])),
    'show mnist --version 2 (text)': ['record', 'show', 'mnist', '--version', '2'],
    ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7, 8].map((s) => [`show mnist --at ${s}`, ['--json', 'record', 'show', 'mnist', '--at', String(s)]])),
    'show mnist --at time of 3': ['--json', 'record', 'show', 'mnist', '--at', at(3)],
    'show mnist --at time of 3 +02:00': ['--json', 'record', 'show', 'mnist', '--at', plusTwo],
    'show mnist --at time of 5 + 1 ms': ['--json', 'record', 'show', 'mnist', '--at', iso(events[5]!.timeMs + 1)],
    'show mnist --at time of 6 - 1 ms': ['--json', 'record', 'show', 'mnist', '--at', iso(events[6]!.timeMs - 1)],
    'show resnet --json': ['--json', 'record', 'show', 'resnet'],
    'show resnet --at time of 1': ['--json', 'record', 'show', 'resnet', '--at', at(1)],
    'show run --json': ['--json', 'record', 'show', runId],
    'history mnist --json': ['--json', 'record', 'history', 'mnist'],
    'history mnist': ['record', 'history', 'mnist'],
    'history resnet --json': ['--json', 'record', 'history', 'resnet'],
    'list --json': ['--json', 'record', 'list'],
    'list': ['record', 'list'],
    'list --kind dataset --json': ['--json', 'record', 'list', '--kind', 'dataset'],
    'list --kind model --json': ['--json', 'record', 'list', '--kind', 'model'],
    'list --kind dataset --at 5 --json': ['--json', 'record', 'list', '--kind', 'dataset', '--at', '5'],
    ...Object.fromEntries([0, 1, 3, 4, 6, 7, 8].map((s) => [`list --at ${s} --json`, ['--json', 'record', 'list', '--at', String(s)]])),
    'list --at time of 4 --json': ['--json', 'record', 'list', '--at', at(4)],
    ...Object.fromEntries([0, 1, 3, 6, 7, 8].map((s) => [`replay --to ${s}`, ['--json', 'replay', '--to', String(s)]])),
    'replay --to time of 7': ['--json', 'replay', '--to', at(7)],
    'replay --to 4 (text)': ['replay', '--to', '4'],
  };
}

async function runReads(): Promise<Map<string, RunResult>> {
  const entries = Object.entries(reads());
  const results = new Map<string, RunResult>();
  // Four at a time: enough to overlap process start-up on two cores without thrashing.
  for (let i = 0; i < entries.length; i += 4) {
    const batch = entries.slice(i, i + 4);
    const done = await Promise.all(batch.map(([, args]) => runCli(['--ledger', ledger.dir, ...args])));
    batch.forEach(([name], j) => results.set(name, done[j]!));
  }
  return results;
}

/** The stdout of a read that must succeed. */
function ok(name: string): string {
  const result = before.get(name);
  if (result === undefined) throw new Error(`no read named ${name}`);
  expect({ exit: result.code, stderr: result.stderr }, name).toEqual({ exit: 0, stderr: '' });
  return result.stdout;
}

function refused(name: string): { exit: number | null; code: string | null; stdout: string } {
  const result = before.get(name)!;
  return { exit: result.code, code: errorCodeOf(result.stderr), stdout: result.stdout };
}

/** What a version read must say about the event that wrote it, from the log. */
function writtenBy(seq: number): Pick<Version, 'seq' | 'hash' | 'author' | 'timeMs'> {
  const event = events[seq]!;
  return { seq, hash: event.hash, author: event.author, timeMs: event.timeMs };
}

beforeAll(async () => {
  assertBuilt();
  ledger = await makeLedger();
  const g = ['--ledger', ledger.dir, '--key', ledger.keyPath];
  const steps: string[][] = [
    [...g, 'record', 'create', 'dataset', '--id', 'mnist', '--data', JSON.stringify(V1)],
    [...g, '--json', 'record', 'update', 'mnist', '--patch', JSON.stringify(PATCH)],
    [...g, 'append', '--type', 'app.note', '--data', '{"n":1}'],
    [...g, '--json', 'record', 'create', 'model', '--id', 'resnet', '--data', '-'],
    [...g, 'record', 'update', 'mnist', '--data', JSON.stringify(V3), '--base', '2'],
    [...g, '--json', 'record', 'create', 'run', '--data', JSON.stringify(RUN)],
    [...g, 'record', 'delete', 'mnist', '--base', '3'],
    [...g, '--json', 'record', 'update', 'resnet', '--patch', '{"layers":101}', '--base', '1'],
  ];
  for (const [i, args] of steps.entries()) {
    const result = await runCli(args, i === 3 ? { input: JSON.stringify(RESNET_V1) } : {});
    expect({ step: i + 1, exit: result.code, stderr: result.stderr }).toEqual({ step: i + 1, exit: 0, stderr: '' });
    writes.push(result);
  }
  runId = (JSON.parse(writes[5]!.stdout) as { id: string }).id;
  const log = await runCli(['--ledger', ledger.dir, '--json', 'log']);
  events = jsonLines<LogEvent>(log.stdout);
  expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  before = await runReads();
});

afterAll(async () => {
  await ledger?.cleanup();
});

describe('SPEC §13: writes print the id, version, seq and hash of the event they appended', () => {
  it('text: `created|updated|deleted ID version N (seq S, hash H)`, with H the hash of event S', () => {
    const expected = [
      [0, 'created', 'mnist', 1, 1],
      [4, 'updated', 'mnist', 3, 5],
      [6, 'deleted', 'mnist', 4, 7],
    ] as const;
    for (const [i, verb, id, version, seq] of expected) {
      expect(writes[i]!.stdout).toBe(`${verb} ${id} version ${version} (seq ${seq}, hash ${events[seq]!.hash})\n`);
    }
  });

  it('--json: exactly {"id","version","seq","hash"}', () => {
    const expected = [
      [1, 'mnist', 2, 2],
      [3, 'resnet', 1, 4],
      [5, runId, 1, 6],
      [7, 'resnet', 2, 8],
    ] as const;
    for (const [i, id, version, seq] of expected) {
      expect(writes[i]!.stdout).toBe(`${JSON.stringify({ id, version, seq, hash: events[seq]!.hash })}\n`);
    }
  });

  it('each write is one event of the right type whose payload carries the full body (SPEC §11.2)', () => {
    expect(events.slice(1).map((e) => [e.type, e.payload])).toEqual([
      ['record.create', { id: 'mnist', kind: 'dataset', version: 1, data: V1 }],
      ['record.update', { id: 'mnist', version: 2, data: V2 }],
      ['app.note', { n: 1 }],
      ['record.create', { id: 'resnet', kind: 'model', version: 1, data: RESNET_V1 }],
      ['record.update', { id: 'mnist', version: 3, data: V3 }],
      ['record.create', { id: runId, kind: 'run', version: 1, data: RUN }],
      ['record.delete', { id: 'mnist', version: 4 }],
      ['record.update', { id: 'resnet', version: 2, data: RESNET_V2 }],
    ]);
    expect(events.every((e) => e.author === ledger.publicKeyHex)).toBe(true);
  });

  it('without --id, the id is KIND- and 16 lower-case hex digits (SPEC §11.1)', () => {
    expect(runId).toMatch(/^run-[0-9a-f]{16}$/);
    expect(JSON.parse(ok('show run --json'))).toEqual({ id: runId, kind: 'run', version: 1, deleted: false, data: RUN, ...writtenBy(6) });
  });
});

describe('SPEC §11.6: show returns the current version, or any version by number, each naming its event', () => {
  it('now: the latest version of a live record, with seq, hash, author and time of the event that wrote it', () => {
    expect(JSON.parse(ok('show resnet --json'))).toEqual({ id: 'resnet', kind: 'model', version: 2, deleted: false, data: RESNET_V2, ...writtenBy(8) });
  });

  it('now, of a deleted record: RECORD_DELETED (exit 2), in text and --json', () => {
    expect(refused('show mnist')).toEqual({ exit: 2, code: 'RECORD_DELETED', stdout: '' });
    expect(refused('show mnist --json')).toEqual({ exit: 2, code: 'RECORD_DELETED', stdout: '' });
  });

  it('--version N: every version, the merge patch applied (null removed a key), and the tombstone', () => {
    const expected = [
      { version: 1, deleted: false, data: V1, ...writtenBy(1) },
      { version: 2, deleted: false, data: V2, ...writtenBy(2) },
      { version: 3, deleted: false, data: V3, ...writtenBy(5) },
      { version: 4, deleted: true, data: null, ...writtenBy(7) },
    ];
    for (const version of expected) {
      expect(JSON.parse(ok(`show mnist --version ${version.version}`))).toEqual({ id: 'mnist', kind: 'dataset', ...version });
    }
  });

  it('--json prints exactly the documented fields (SPEC §13)', () => {
    expect(Object.keys(JSON.parse(ok('show mnist --version 1')) as object).sort()).toEqual(['author', 'data', 'deleted', 'hash', 'id', 'kind', 'seq', 'timeMs', 'version']);
    expect(ok('show mnist --version 1')).toMatch(/^\{.*\}\n$/);
  });

  it('text: names the record, version, event and body', () => {
    const text = ok('show mnist --version 2 (text)');
    expect(text).toContain('record   mnist (dataset)\n');
    expect(text).toContain('version  2\n');
    expect(text).toContain(`written  seq 2, ${iso(events[2]!.timeMs)}, by ${ledger.publicKeyHex}\n`);
    expect(text).toContain(`event    ${events[2]!.hash}\n`);
    expect(text).toContain('"tags": [');
  });
});

describe('SPEC §11.5: show --at names the version current just after a seq or at a time', () => {
  it('--at SEQ: before the create RECORD_NOT_FOUND, then each version in turn, then RECORD_DELETED', () => {
    expect(refused('show mnist --at 0')).toEqual({ exit: 2, code: 'RECORD_NOT_FOUND', stdout: '' });
    const versionAt: [number, number][] = [
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 2],
      [5, 3],
      [6, 3],
    ];
    for (const [seq, version] of versionAt) {
      expect((JSON.parse(ok(`show mnist --at ${seq}`)) as Version).version, `at seq ${seq}`).toBe(version);
    }
    expect(JSON.parse(ok('show mnist --at 5'))).toEqual({ id: 'mnist', kind: 'dataset', version: 3, deleted: false, data: V3, ...writtenBy(5) });
    for (const seq of [7, 8]) expect(refused(`show mnist --at ${seq}`)).toEqual({ exit: 2, code: 'RECORD_DELETED', stdout: '' });
  });

  it('--at ISO-TIME: the state just after the last event at or before that time, whatever the zone', () => {
    expect(JSON.parse(ok('show mnist --at time of 3'))).toEqual(JSON.parse(ok('show mnist --version 2')));
    expect(ok('show mnist --at time of 3 +02:00')).toBe(ok('show mnist --at time of 3'));
    expect((JSON.parse(ok('show mnist --at time of 5 + 1 ms')) as Version).version).toBe(3);
    // One millisecond before event 6 is still after event 5 (events are 100s of ms apart: one process each).
    expect(events[6]!.timeMs - events[5]!.timeMs).toBeGreaterThan(1);
    expect((JSON.parse(ok('show mnist --at time of 6 - 1 ms')) as Version).version).toBe(3);
    expect(refused('show resnet --at time of 1')).toEqual({ exit: 2, code: 'RECORD_NOT_FOUND', stdout: '' });
  });
});

describe('SPEC §11.4: history lists every version with what changed', () => {
  it('--json: JSON Lines, one per version, with JSON Pointer changes; version 1 adds "", the tombstone removes it', () => {
    const history = jsonLines<HistoryEntry>(ok('history mnist --json'));
    expect(history.map(({ changes, version, seq, deleted }) => ({ version, seq, deleted, changes }))).toEqual([
      { version: 1, seq: 1, deleted: false, changes: [{ path: '', op: 'add' }] },
      {
        version: 2,
        seq: 2,
        deleted: false,
        changes: [
          { path: '/files', op: 'replace' },
          { path: '/meta/src', op: 'remove' },
          { path: '/tags', op: 'add' },
        ],
      },
      {
        version: 3,
        seq: 5,
        deleted: false,
        changes: [
          { path: '/files', op: 'replace' },
          { path: '/meta', op: 'remove' },
          { path: '/tags', op: 'remove' },
        ],
      },
      { version: 4, seq: 7, deleted: true, changes: [{ path: '', op: 'remove' }] },
    ]);
    // Each entry is the version `show --version` gives, plus its changes.
    for (const entry of history) {
      const { changes: _changes, ...version } = entry;
      expect(version).toEqual(JSON.parse(ok(`show mnist --version ${entry.version}`)));
    }
    expect(jsonLines<HistoryEntry>(ok('history resnet --json')).map((e) => [e.version, e.seq, e.changes])).toEqual([
      [1, 4, [{ path: '', op: 'add' }]],
      [2, 8, [{ path: '/layers', op: 'replace' }]],
    ]);
  });

  it('text: one line per version with seq, time, author and changes', () => {
    const lines = ok('history mnist').trimEnd().split('\n');
    expect(lines).toEqual([
      `v1\tseq 1\t${iso(events[1]!.timeMs)}\t${ledger.publicKeyHex.slice(0, 16)}\t+/`,
      `v2\tseq 2\t${iso(events[2]!.timeMs)}\t${ledger.publicKeyHex.slice(0, 16)}\t~/files -/meta/src +/tags`,
      `v3\tseq 5\t${iso(events[5]!.timeMs)}\t${ledger.publicKeyHex.slice(0, 16)}\t~/files -/meta -/tags`,
      `v4\tseq 7\t${iso(events[7]!.timeMs)}\t${ledger.publicKeyHex.slice(0, 16)}\tdeleted`,
    ]);
  });
});

describe('SPEC §11.6: list gives the live records now or at a point, by kind then id', () => {
  it('now: resnet and the run, not the deleted mnist', () => {
    expect(jsonLines<Version>(ok('list --json'))).toEqual([JSON.parse(ok('show resnet --json')), JSON.parse(ok('show run --json'))]);
    expect(ok('list').trimEnd().split('\n').map((line) => line.split('\t').slice(0, 4))).toEqual([
      ['model', 'resnet', 'v2', 'seq 8'],
      ['run', runId, 'v1', 'seq 6'],
    ]);
  });

  it('--kind: only that kind; a kind whose only record is deleted lists nothing now, but lists it at an earlier point', () => {
    expect(ok('list --kind dataset --json')).toBe('');
    expect(jsonLines<Version>(ok('list --kind model --json')).map((v) => [v.id, v.version])).toEqual([['resnet', 2]]);
    expect(jsonLines<Version>(ok('list --kind dataset --at 5 --json'))).toEqual([JSON.parse(ok('show mnist --version 3'))]);
  });

  it('--at SEQ and --at ISO-TIME: the versions current then; a record deleted later still appears', () => {
    const idsAt = (name: string) => jsonLines<Version>(ok(name)).map((v) => `${v.id}@${v.version}`);
    expect(idsAt('list --at 0 --json')).toEqual([]);
    expect(idsAt('list --at 1 --json')).toEqual(['mnist@1']);
    expect(idsAt('list --at 3 --json')).toEqual(['mnist@2']);
    expect(idsAt('list --at 4 --json')).toEqual(['mnist@2', 'resnet@1']);
    expect(idsAt('list --at 6 --json')).toEqual(['mnist@3', 'resnet@1', `${runId}@1`]);
    expect(idsAt('list --at 7 --json')).toEqual(['resnet@1', `${runId}@1`]);
    expect(idsAt('list --at 8 --json')).toEqual(['resnet@2', `${runId}@1`]);
    expect(ok('list --at time of 4 --json')).toBe(ok('list --at 4 --json'));
  });
});

describe('SPEC §11.6: replay --to gives the complete state at a point, tombstones included', () => {
  interface Replay {
    seq: number;
    hash: string;
    timeMs: number;
    records: Version[];
  }

  it('at each point: the event it names, and exactly list --at plus the tombstones', () => {
    for (const seq of [0, 1, 3, 6, 7, 8]) {
      const replay = JSON.parse(ok(`replay --to ${seq}`)) as Replay;
      expect({ seq: replay.seq, hash: replay.hash, timeMs: replay.timeMs }).toEqual({ seq, hash: events[seq]!.hash, timeMs: events[seq]!.timeMs });
      expect(replay.records.filter((r) => !r.deleted), `at ${seq}`).toEqual(jsonLines<Version>(ok(`list --at ${seq} --json`)));
      const tombstones = replay.records.filter((r) => r.deleted);
      expect(tombstones, `tombstones at ${seq}`).toEqual(seq >= 7 ? [JSON.parse(ok('show mnist --version 4'))] : []);
    }
  });

  it('orders records by kind then id, and --to ISO-TIME equals --to SEQ', () => {
    expect((JSON.parse(ok('replay --to 8')) as Replay).records.map((r) => `${r.kind}/${r.id}`)).toEqual(['dataset/mnist', 'model/resnet', `run/${runId}`]);
    expect(ok('replay --to time of 7')).toBe(ok('replay --to 7'));
  });

  it('text: a header naming the event, then one line per record', () => {
    const lines = ok('replay --to 4 (text)').trimEnd().split('\n');
    expect(lines[0]).toBe(`state at seq 4 (${iso(events[4]!.timeMs)}, event ${events[4]!.hash})`);
    expect(lines.slice(1).map((line) => line.split('\t').slice(0, 4))).toEqual([
      ['dataset', 'mnist', 'v2', 'seq 2'],
      ['model', 'resnet', 'v1', 'seq 4'],
    ]);
  });
});

describe('SPEC §12.5: rebuild re-derives the projections; verify is ok and every answer is unchanged', () => {
  it('prints the event count; verify --json is ok; every read prints the same as before', async () => {
    const rebuild = await runCli(['--ledger', ledger.dir, 'rebuild']);
    expect({ exit: rebuild.code, stdout: rebuild.stdout }).toEqual({ exit: 0, stdout: 'rebuilt the projections from 9 events\n' });
    const rebuildJson = await runCli(['--ledger', ledger.dir, '--json', 'rebuild']);
    expect({ exit: rebuildJson.code, stdout: rebuildJson.stdout }).toEqual({ exit: 0, stdout: '{"rebuilt":true,"events":9}\n' });
    const verify = await runCli(['--ledger', ledger.dir, '--json', 'verify']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, checked: 9, failures: [], head: { seq: 8, hash: events[8]!.hash } });
    const after = await runReads();
    const summary = (results: Map<string, RunResult>) => Object.fromEntries([...results].map(([name, r]) => [name, { exit: r.code, stdout: r.stdout, stderr: r.stderr }]));
    expect(summary(after)).toEqual(summary(before));
    expect(events[8]!.hash).toMatch(HEX64);
  });
});
