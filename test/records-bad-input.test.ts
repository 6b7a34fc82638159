/**
 * SPEC §10.2, §11 and §13: every bad record command is refused with the right exit code (2 bad input, 4
 * conflict), exactly one stderr line `provledger: <message> [CODE]` without a stack trace, nothing on stdout,
 * and the ledger untouched: the same head and log, and verify still ok.
 *
 * The cases run concurrently against one shared ledger; each compares it (in-process, cheaply) with the state
 * taken before any ran, and a last test compares the CLI's own `head`, `log` and `verify` once more.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey } from '../dist/index.js';
import { assertBuilt, expectRefusal, librarySnapshot, makeLedger, runCli, snapshot, writeKey, type LedgerSnapshot, type TestLedger } from './helpers/cli.js';

/**
 * The shared ledger: 1 create mnist (dataset) · 2 update mnist → v2 · 3 create gone (model) · 4 delete gone → v2.
 */
const HEAD_SEQ = 4;

interface Fixture {
  readonly dir: string;
  readonly owner: string;
  readonly otherKey: string;
}

interface BadInput {
  readonly name: string;
  readonly args: (f: Fixture) => string[];
  readonly input?: string;
  readonly exit: 2 | 4;
  readonly code: string;
}

const asOwner = (f: Fixture) => ['--ledger', f.dir, '--key', f.owner];
const reader = (f: Fixture) => ['--ledger', f.dir];
const create = (kind: string, ...rest: string[]) => (f: Fixture) => [...asOwner(f), 'record', 'create', kind, ...rest];
const write = (...rest: string[]) => (f: Fixture) => [...asOwner(f), 'record', ...rest];
const read = (...rest: string[]) => (f: Fixture) => [...reader(f), 'record', ...rest];

const CASES: readonly BadInput[] = [
  // SPEC §11.3: unknown records
  { name: 'show of an unknown record', args: read('show', 'nope'), exit: 2, code: 'RECORD_NOT_FOUND' },
  { name: 'show --version of an unknown record', args: read('show', 'nope', '--version', '1'), exit: 2, code: 'RECORD_NOT_FOUND' },
  { name: 'update --data of an unknown record', args: write('update', 'nope', '--data', '{}'), exit: 2, code: 'RECORD_NOT_FOUND' },
  { name: 'update --patch of an unknown record', args: write('update', 'nope', '--patch', '{}'), exit: 2, code: 'RECORD_NOT_FOUND' },
  { name: 'delete of an unknown record', args: write('delete', 'nope'), exit: 2, code: 'RECORD_NOT_FOUND' },
  { name: 'history of an unknown record', args: read('history', 'nope'), exit: 2, code: 'RECORD_NOT_FOUND' },
  { name: 'show --at a seq before the record was created', args: read('show', 'gone', '--at', '2'), exit: 2, code: 'RECORD_NOT_FOUND' },

  // SPEC §11.3: deleted records
  { name: 'update --data of a deleted record', args: write('update', 'gone', '--data', '{}'), exit: 2, code: 'RECORD_DELETED' },
  { name: 'update --patch of a deleted record', args: write('update', 'gone', '--patch', '{}'), exit: 2, code: 'RECORD_DELETED' },
  { name: 'update of a deleted record with its current --base', args: write('update', 'gone', '--data', '{}', '--base', '2'), exit: 2, code: 'RECORD_DELETED' },
  { name: 'delete of a deleted record', args: write('delete', 'gone'), exit: 2, code: 'RECORD_DELETED' },
  { name: 'show (now) of a deleted record', args: read('show', 'gone'), exit: 2, code: 'RECORD_DELETED' },
  { name: 'show --at the tombstone of a deleted record', args: read('show', 'gone', '--at', String(HEAD_SEQ)), exit: 2, code: 'RECORD_DELETED' },

  // SPEC §11.1: ids are never reused
  { name: 'create of an existing id', args: create('dataset', '--id', 'mnist', '--data', '{}'), exit: 2, code: 'RECORD_EXISTS' },
  { name: 'create of an existing id under another kind', args: create('model', '--id', 'mnist', '--data', '{}'), exit: 2, code: 'RECORD_EXISTS' },
  { name: 'create of a deleted id', args: create('model', '--id', 'gone', '--data', '{}'), exit: 2, code: 'RECORD_EXISTS' },

  // SPEC §11.1: kinds
  { name: 'kind "Dataset"', args: create('Dataset', '--data', '{}'), exit: 2, code: 'INVALID_KIND' },
  { name: 'kind "a b"', args: create('a b', '--data', '{}'), exit: 2, code: 'INVALID_KIND' },
  { name: 'a 33-character kind', args: create(`a${'b'.repeat(32)}`, '--data', '{}'), exit: 2, code: 'INVALID_KIND' },
  { name: 'kind "1st" (starts with a digit)', args: create('1st', '--data', '{}'), exit: 2, code: 'INVALID_KIND' },
  { name: 'an empty kind', args: create('', '--data', '{}'), exit: 2, code: 'INVALID_KIND' },
  { name: 'list --kind BAD', args: read('list', '--kind', 'BAD'), exit: 2, code: 'INVALID_KIND' },

  // SPEC §11.1: ids
  { name: 'create --id -x', args: create('dataset', '--id', '-x', '--data', '{}'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'create --id a/b', args: create('dataset', '--id', 'a/b', '--data', '{}'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'create --id with 129 characters', args: create('dataset', '--id', 'a'.repeat(129), '--data', '{}'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'create --id ""', args: create('dataset', '--id', '', '--data', '{}'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'show -- -x', args: read('show', '--', '-x'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'show a/b', args: read('show', 'a/b'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'history of a 129-character id', args: read('history', 'a'.repeat(129)), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'update of id ""', args: write('update', '', '--data', '{}'), exit: 2, code: 'INVALID_RECORD_ID' },
  { name: 'delete of id a/b', args: write('delete', 'a/b'), exit: 2, code: 'INVALID_RECORD_ID' },

  // SPEC §13: bodies
  { name: 'create --data with invalid JSON', args: create('dataset', '--data', '{bad'), exit: 2, code: 'INVALID_JSON' },
  { name: 'create --data - with invalid JSON on stdin', args: create('dataset', '--data', '-'), input: '{"a":', exit: 2, code: 'INVALID_JSON' },
  { name: 'update --data with invalid JSON', args: write('update', 'mnist', '--data', '{bad'), exit: 2, code: 'INVALID_JSON' },
  { name: 'update --patch with invalid JSON', args: write('update', 'mnist', '--patch', '{bad'), exit: 2, code: 'INVALID_JSON' },
  { name: 'create --data [1]', args: create('dataset', '--data', '[1]'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'create --data 3', args: create('dataset', '--data', '3'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'create --data null', args: create('dataset', '--data', 'null'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'update --data [1]', args: write('update', 'mnist', '--data', '[1]'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'update --patch [1] (the patched body is not an object)', args: write('update', 'mnist', '--patch', '[1]'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'update --patch null (the patched body is not an object)', args: write('update', 'mnist', '--patch', 'null'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'create --data with a whole number beyond 2^53', args: create('dataset', '--data', '{"n": 9007199254740993}'), exit: 2, code: 'INVALID_PAYLOAD' },

  // usage
  { name: 'update with both --data and --patch', args: write('update', 'mnist', '--data', '{}', '--patch', '{}'), exit: 2, code: 'USAGE' },
  { name: 'update with neither --data nor --patch', args: write('update', 'mnist'), exit: 2, code: 'USAGE' },
  { name: 'create without --data', args: create('dataset'), exit: 2, code: 'USAGE' },
  { name: 'show --version with --at', args: read('show', 'mnist', '--version', '1', '--at', '1'), exit: 2, code: 'USAGE' },
  { name: 'replay without --to', args: (f) => [...reader(f), 'replay'], exit: 2, code: 'USAGE' },
  { name: 'record with an unknown subcommand', args: read('erase', 'mnist'), exit: 2, code: 'USAGE' },
  { name: 'create without any key', args: (f) => [...reader(f), 'record', 'create', 'dataset', '--data', '{}'], exit: 2, code: 'USAGE' },
  { name: 'delete without any key', args: (f) => [...reader(f), 'record', 'delete', 'mnist'], exit: 2, code: 'USAGE' },

  // versions (SPEC §11.6)
  { name: 'show --version 0', args: read('show', 'mnist', '--version', '0'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --version x', args: read('show', 'mnist', '--version', 'x'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --version -1', args: read('show', 'mnist', '--version=-1'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --version 1.5', args: read('show', 'mnist', '--version', '1.5'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --version 4294967296 (over 2^32−1)', args: read('show', 'mnist', '--version', '4294967296'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --version 3 (beyond the last, 2)', args: read('show', 'mnist', '--version', '3'), exit: 2, code: 'VERSION_NOT_FOUND' },
  { name: 'show --version 4294967295', args: read('show', 'mnist', '--version', '4294967295'), exit: 2, code: 'VERSION_NOT_FOUND' },
  { name: 'update --base 0', args: write('update', 'mnist', '--data', '{}', '--base', '0'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'delete --base x', args: write('delete', 'mnist', '--base', 'x'), exit: 2, code: 'INVALID_ARGUMENT' },

  // points in time (SPEC §11.5)
  { name: 'show --at before the genesis', args: read('show', 'mnist', '--at', '2000-01-01T00:00:00Z'), exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'show --at a bare date before the genesis', args: read('show', 'mnist', '--at', '2000-01-01'), exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'show --at in the future', args: read('show', 'mnist', '--at', '2999-01-01T00:00:00Z'), exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'show --at a seq beyond the head', args: read('show', 'mnist', '--at', String(HEAD_SEQ + 1)), exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'list --at a seq beyond the head', args: read('list', '--at', '999'), exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'list --at before the genesis', args: read('list', '--at', '2000-01-01T00:00:00Z'), exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'replay --to a seq beyond the head', args: (f) => [...reader(f), 'replay', '--to', '999'], exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'replay --to in the future', args: (f) => [...reader(f), 'replay', '--to', '2999-01-01T00:00:00Z'], exit: 2, code: 'AT_OUT_OF_RANGE' },
  { name: 'show --at garbage', args: read('show', 'mnist', '--at', 'garbage'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --at a time without a zone', args: read('show', 'mnist', '--at', '2026-03-01T12:00:00'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'show --at an impossible date', args: read('show', 'mnist', '--at', '2026-13-45'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'list --at garbage', args: read('list', '--at', 'garbage'), exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'replay --to garbage', args: (f) => [...reader(f), 'replay', '--to', 'garbage'], exit: 2, code: 'INVALID_ARGUMENT' },

  // SPEC §11.3: optimistic concurrency
  { name: 'update --data with a stale --base', args: write('update', 'mnist', '--data', '{}', '--base', '1'), exit: 4, code: 'CONFLICT' },
  { name: 'update --patch with a stale --base', args: write('update', 'mnist', '--patch', '{}', '--base', '1'), exit: 4, code: 'CONFLICT' },
  { name: 'update with a --base ahead of the record', args: write('update', 'mnist', '--data', '{}', '--base', '3'), exit: 4, code: 'CONFLICT' },
  { name: 'delete with a stale --base', args: write('delete', 'mnist', '--base', '1'), exit: 4, code: 'CONFLICT' },

  // SPEC §6: only the owner writes
  { name: 'create with a key that is not the owner', args: (f) => ['--ledger', f.dir, '--key', f.otherKey, 'record', 'create', 'dataset', '--data', '{}'], exit: 2, code: 'KEY_NOT_AUTHORIZED' },
  { name: 'update with a key that is not the owner', args: (f) => ['--ledger', f.dir, '--key', f.otherKey, 'record', 'update', 'mnist', '--data', '{}'], exit: 2, code: 'KEY_NOT_AUTHORIZED' },
  { name: 'delete with a key that is not the owner', args: (f) => ['--ledger', f.dir, '--key', f.otherKey, 'record', 'delete', 'mnist'], exit: 2, code: 'KEY_NOT_AUTHORIZED' },
];


let ledger: TestLedger;
let fixture: Fixture;
let before: LedgerSnapshot;
let beforeCli: LedgerSnapshot;

beforeAll(async () => {
  assertBuilt();
  ledger = await makeLedger();
  const open = await Ledger.open(ledger.dir, { key: SigningKey.fromPem(await readFile(ledger.keyPath, 'utf8')) });
  await open.records.create('dataset', { files: 4 }, { id: 'mnist' });
  await open.records.update('mnist', { files: 5 });
  await open.records.create('model', { layers: 50 }, { id: 'gone' });
  await open.records.delete('gone');
  expect((await open.head())!.seq).toBe(HEAD_SEQ);
  await open.close();
  fixture = { dir: ledger.dir, owner: ledger.keyPath, otherKey: join(ledger.root, 'other.pem') };
  await writeKey(fixture.otherKey);
  before = await librarySnapshot(ledger.dir);
  beforeCli = await snapshot(ledger.dir, ledger.keyPath);
  expect(before.verifyOk && beforeCli.verifyOk).toBe(true);
});

afterAll(async () => {
  await ledger?.cleanup();
});

describe('bad record input is refused with one coded line and leaves the ledger unchanged (SPEC §10.2, §13)', () => {
  it.concurrent.for(CASES)('$name → exit $exit, $code', async (c, { expect: check }) => {
    const result = await runCli(c.args(fixture), c.input === undefined ? {} : { input: c.input });
    expectRefusal(result, c.exit, c.code, check);
    check(await librarySnapshot(fixture.dir)).toEqual(before);
  });
});

describe('after every refusal, the CLI shows the same ledger', () => {
  it('head, log and verify through the CLI are as before', async () => {
    expect(await snapshot(fixture.dir, fixture.owner)).toEqual(beforeCli);
  });
});
