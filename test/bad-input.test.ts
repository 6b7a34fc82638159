/**
 * SPEC §10.2: every bad input is refused with the right exit code (2 bad input/usage, 3 unavailable), one line
 * on stderr `provledger: <message> [CODE]` without a stack trace, nothing on stdout, and the ledger untouched:
 * the same `head --json` and `log --json`, and `verify --json` still ok.
 *
 * The cases run concurrently against one shared ledger; each compares it with the snapshot taken before any ran.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey } from '../dist/index.js';
import { assertBuilt, expectRefusal, makeLedger, runCli, snapshot, writeKey, type LedgerSnapshot, type TestLedger } from './helpers/cli.js';

/** Paths every case may use, made in beforeAll. */
interface Fixture {
  readonly dir: string;
  readonly owner: string;
  readonly otherKey: string;
  readonly notPem: string;
  readonly unreadableKey: string;
  readonly missingKey: string;
  readonly invalidJson: string;
  readonly tooLarge: string;
  readonly missingFile: string;
  readonly missingLedger: string;
}

interface BadInput {
  readonly name: string;
  readonly args: (f: Fixture) => string[];
  readonly env?: (f: Fixture) => Record<string, string>;
  readonly input?: string;
  readonly exit: 2 | 3;
  readonly code: string;
}

/** `--ledger DIR` plus the owner's key, so that only the named mistake is wrong. */
const asOwner = (f: Fixture) => ['--ledger', f.dir, '--key', f.owner];
const append = (f: Fixture, type: string, data: string) => [...asOwner(f), 'append', '--type', type, '--data', data];

const CASES: readonly BadInput[] = [
  // usage: commander refuses before any command runs
  { name: 'an unknown flag', args: (f) => ['--bogus', ...append(f, 'app.note', '{}')], exit: 2, code: 'USAGE' },
  { name: 'an unknown command', args: (f) => [...asOwner(f), 'erase'], exit: 2, code: 'USAGE' },
  { name: 'append without --type', args: (f) => [...asOwner(f), 'append', '--data', '{}'], exit: 2, code: 'USAGE' },
  { name: 'append without --data', args: (f) => [...asOwner(f), 'append', '--type', 'app.note'], exit: 2, code: 'USAGE' },
  { name: 'append without any key', args: (f) => ['--ledger', f.dir, 'append', '--type', 'app.note', '--data', '{}'], exit: 2, code: 'USAGE' },

  // payloads (SPEC §3.5)
  { name: 'invalid JSON inline', args: (f) => append(f, 'app.note', '{rows: 1'), exit: 2, code: 'INVALID_JSON' },
  { name: 'invalid JSON from @file', args: (f) => append(f, 'app.note', `@${f.invalidJson}`), exit: 2, code: 'INVALID_JSON' },
  { name: 'invalid JSON from stdin', args: (f) => append(f, 'app.note', '-'), input: '{"a":', exit: 2, code: 'INVALID_JSON' },
  { name: 'empty stdin', args: (f) => append(f, 'app.note', '-'), input: '', exit: 2, code: 'INVALID_JSON' },
  { name: 'a missing @file', args: (f) => append(f, 'app.note', `@${f.missingFile}`), exit: 2, code: 'INVALID_ARGUMENT' },
  // JSON.parse turns 9007199254740993 into 2^53: storing it would silently change the user's number (SPEC §5.2).
  { name: 'a whole number beyond 2^53 ({"n": 9007199254740993})', args: (f) => append(f, 'app.note', '{"n": 9007199254740993}'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'a nested whole number below -2^53', args: (f) => append(f, 'app.note', '{"a":[1,{"b":-9007199254740993}]}'), exit: 2, code: 'INVALID_PAYLOAD' },
  { name: 'a payload over 1 MiB from @file', args: (f) => append(f, 'app.note', `@${f.tooLarge}`), exit: 2, code: 'EVENT_TOO_LARGE' },

  // event types (SPEC §4.2)
  { name: 'type "Bad Type"', args: (f) => append(f, 'Bad Type', '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'type "a..b"', args: (f) => append(f, 'a..b', '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'a 129-character type', args: (f) => append(f, 'a'.repeat(129), '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'a 200-character type', args: (f) => append(f, `app.${'x'.repeat(196)}`, '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'reserved type "ledger.x"', args: (f) => append(f, 'ledger.x', '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'reserved type "ledger.genesis"', args: (f) => append(f, 'ledger.genesis', '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'reserved type "key.add"', args: (f) => append(f, 'key.add', '{}'), exit: 2, code: 'INVALID_TYPE' },
  { name: 'reserved type "record.x"', args: (f) => append(f, 'record.x', '{}'), exit: 2, code: 'INVALID_TYPE' },

  // keys (SPEC §6)
  { name: 'a key that is not the owner', args: (f) => ['--ledger', f.dir, '--key', f.otherKey, 'append', '--type', 'app.note', '--data', '{}'], exit: 2, code: 'KEY_NOT_AUTHORIZED' },
  {
    name: 'a key that is not the owner, from PROVLEDGER_KEY',
    args: (f) => ['--ledger', f.dir, 'append', '--type', 'app.note', '--data', '{}'],
    env: (f) => ({ PROVLEDGER_KEY: f.otherKey }),
    exit: 2,
    code: 'KEY_NOT_AUTHORIZED',
  },
  { name: 'an unreadable key file', args: (f) => ['--ledger', f.dir, '--key', f.unreadableKey, 'append', '--type', 'app.note', '--data', '{}'], exit: 2, code: 'KEY_INVALID' },
  { name: 'a missing key file', args: (f) => ['--ledger', f.dir, '--key', f.missingKey, 'append', '--type', 'app.note', '--data', '{}'], exit: 2, code: 'KEY_INVALID' },
  { name: 'a key file that is not a PEM', args: (f) => ['--ledger', f.dir, '--key', f.notPem, 'append', '--type', 'app.note', '--data', '{}'], exit: 2, code: 'KEY_INVALID' },

  // reading
  { name: 'event 999 (past the head)', args: (f) => ['--ledger', f.dir, 'event', '999'], exit: 2, code: 'EVENT_NOT_FOUND' },
  { name: 'event -1', args: (f) => ['--ledger', f.dir, 'event', '-1'], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'event abc', args: (f) => ['--ledger', f.dir, 'event', 'abc'], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'event 1.5', args: (f) => ['--ledger', f.dir, 'event', '1.5'], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'log --from x', args: (f) => ['--ledger', f.dir, 'log', '--from', 'x'], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'log --from 5 --to 2', args: (f) => ['--ledger', f.dir, 'log', '--from', '5', '--to', '2'], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'verify --expect-head nonsense', args: (f) => ['--ledger', f.dir, 'verify', '--expect-head', 'nonsense'], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'verify --expect-head with a short hash', args: (f) => ['--ledger', f.dir, 'verify', '--expect-head', '1:abcd'], exit: 2, code: 'INVALID_ARGUMENT' },

  // global flags and environment
  { name: '--wait abc', args: (f) => ['--wait', 'abc', ...append(f, 'app.note', '{}')], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: '--wait -1', args: (f) => ['--wait=-1', ...append(f, 'app.note', '{}')], exit: 2, code: 'INVALID_ARGUMENT' },
  { name: 'PROVLEDGER_WAIT=soon', args: (f) => append(f, 'app.note', '{}'), env: () => ({ PROVLEDGER_WAIT: 'soon' }), exit: 2, code: 'INVALID_ARGUMENT' },

  // unavailable
  { name: 'a ledger directory that does not exist', args: (f) => ['--ledger', f.missingLedger, '--key', f.owner, 'append', '--type', 'app.note', '--data', '{}'], exit: 3, code: 'LEDGER_NOT_FOUND' },
];


let ledger: TestLedger;
let fixture: Fixture;
let before: LedgerSnapshot;

beforeAll(async () => {
  assertBuilt();
  ledger = await makeLedger();
  const { root, dir, keyPath } = ledger;
  // A few events, so "unchanged" compares a real log.
  const open = await Ledger.open(dir, { key: SigningKey.fromPem(await readFile(keyPath, 'utf8')) });
  await open.appendMany([
    { type: 'dataset.ingested', payload: { rows: 120 } },
    { type: 'model.trained', payload: { loss: 0.25, epochs: [1, 2, 3] } },
  ]);
  await open.close();

  fixture = {
    dir,
    owner: keyPath,
    otherKey: join(root, 'other.pem'),
    notPem: join(root, 'not-a-key.pem'),
    unreadableKey: join(root, 'unreadable.pem'),
    missingKey: join(root, 'missing.pem'),
    invalidJson: join(root, 'invalid.json'),
    tooLarge: join(root, 'too-large.json'),
    missingFile: join(root, 'missing.json'),
    missingLedger: join(root, 'no-ledger-here'),
  };
  await writeKey(fixture.otherKey);
  await writeFile(fixture.notPem, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB not a pem\n');
  if (process.getuid?.() === 0) {
    await mkdir(fixture.unreadableKey); // root reads any mode; a directory cannot be read as a file (EISDIR)
  } else {
    await writeKey(fixture.unreadableKey);
    await chmod(fixture.unreadableKey, 0o000);
  }
  await writeFile(fixture.invalidJson, '{"rows": 120,}');
  await writeFile(fixture.tooLarge, JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 16) }));

  before = await snapshot(dir, keyPath);
  expect(before.verifyOk).toBe(true);
  expect(before.log.trimEnd().split('\n')).toHaveLength(3);
});

afterAll(async () => {
  await ledger?.cleanup();
});

describe('bad input is refused with one coded line and leaves the ledger unchanged (SPEC §10.2)', () => {
  it.concurrent.for(CASES)('$name → exit $exit, $code', async (c, { expect: check }) => {
    const result = await runCli(c.args(fixture), { ...(c.env === undefined ? {} : { env: c.env(fixture) }), ...(c.input === undefined ? {} : { input: c.input }) });
    expectRefusal(result, c.exit, c.code, check);
    check(await snapshot(fixture.dir, fixture.owner)).toEqual(before);
  });
});
