/**
 * SPEC §10: the built `provledger` command, one describe per command. Read-only commands share one ledger
 * built in `beforeAll` (each spawn costs ~0.25 s); the tests that write make their own or run last.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEX64, assertBuilt, errorCodeOf, makeTempDir, parseSeqHash, runCli, type RunResult } from './helpers/cli.js';

const execFileAsync = promisify(execFile);

const EVENT_FIELDS = ['author', 'formatVersion', 'hash', 'payload', 'prev', 'seq', 'signature', 'timeMs', 'type'];

function expectFailure(result: RunResult, exitCode: number, code: string): void {
  expect({ exit: result.code, code: errorCodeOf(result.stderr), stdout: result.stdout }).toEqual({ exit: exitCode, code, stdout: '' });
}

function expectSuccess(result: RunResult): void {
  expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 0, stderr: '' });
}

async function hasOpenssl(): Promise<boolean> {
  try {
    await execFileAsync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
}

const OPENSSL = await hasOpenssl();

let root: string;
let cleanup: () => Promise<void>;
/** The shared ledger: genesis + three appends (inline, @file, stdin). */
let dir: string;
let keyPath: string;
let publicKeyHex: string;
let genesis: { seq: number; hash: string };
let appended: { inline: RunResult; file: RunResult; stdin: RunResult };
const payloads = {
  inline: { rows: 120, source: 's3://bucket/train.csv' },
  file: { model: 'resnet-50', metrics: { top1: 0.761, loss: 0.25 }, tags: ['a', 'b'] },
  stdin: { note: 'read from stdin', unicode: 'ß∂ƒ 🧪' },
};

beforeAll(async () => {
  assertBuilt();
  ({ root, cleanup } = await makeTempDir('provledger-cli-'));
  dir = join(root, 'ledger');
  keyPath = join(root, 'owner.pem');
  const keygen = await runCli(['keygen', '--out', keyPath]);
  expectSuccess(keygen);
  publicKeyHex = keygen.stdout.trim();
  const init = await runCli(['--ledger', dir, '--key', keyPath, '--json', 'init']);
  expectSuccess(init);
  const created = JSON.parse(init.stdout) as { seq: number; hash: string; owner: string };
  expect(created.owner).toBe(publicKeyHex);
  genesis = { seq: created.seq, hash: created.hash };

  const g = ['--ledger', dir, '--key', keyPath, '--json'];
  const inline = await runCli([...g, 'append', '--type', 'dataset.ingested', '--data', JSON.stringify(payloads.inline)]);
  await writeFile(join(root, 'payload.json'), JSON.stringify(payloads.file));
  const file = await runCli([...g, 'append', '--type', 'model.trained', '--data', `@${join(root, 'payload.json')}`]);
  const stdin = await runCli([...g, 'append', '--type', 'note.added', '--data', '-'], { input: JSON.stringify(payloads.stdin) });
  appended = { inline, file, stdin };
});

afterAll(async () => {
  await cleanup?.();
});

describe('keygen writes a new key and prints its public key (SPEC §10.1)', () => {
  it('prints 64 hex characters and writes the key with mode 0600', async () => {
    expect(publicKeyHex).toMatch(HEX64);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
  });

  it.skipIf(!OPENSSL)('prints the public key openssl derives from the written PEM', async () => {
    const { stdout } = await execFileAsync('sh', ['-c', 'openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | od -An -tx1 -v | tr -d " \\n"', 'sh', keyPath]);
    expect(stdout).toBe(publicKeyHex);
  });

  it('refuses to overwrite an existing file (exit 2, FILE_EXISTS) and leaves it unchanged', async () => {
    const before = await readFile(keyPath);
    const result = await runCli(['keygen', '--out', keyPath]);
    expectFailure(result, 2, 'FILE_EXISTS');
    expect(Buffer.compare(await readFile(keyPath), before)).toBe(0);
  });
});

describe('init creates a ledger owned by the given key (SPEC §10.1)', () => {
  it('takes the ledger from --ledger and the key from --key, and names the key as owner', async () => {
    // The shared ledger was made this way in beforeAll; its genesis is event 0.
    expect(genesis.seq).toBe(0);
    expect(genesis.hash).toMatch(HEX64);
    const head = await runCli(['--ledger', dir, '--json', 'event', '0']);
    expectSuccess(head);
    const event = JSON.parse(head.stdout) as { type: string; author: string; hash: string; prev: string };
    expect(event).toMatchObject({ type: 'ledger.genesis', author: publicKeyHex, hash: genesis.hash, prev: '0'.repeat(64) });
  });

  it('takes the ledger from PROVLEDGER_DIR and the key from PROVLEDGER_KEY; a second init fails with LEDGER_EXISTS', async () => {
    const envDir = join(root, 'from-env');
    const env = { PROVLEDGER_DIR: envDir, PROVLEDGER_KEY: keyPath };
    const first = await runCli(['--json', 'init'], { env, cwd: root });
    expectSuccess(first);
    const created = JSON.parse(first.stdout) as { dir: string; owner: string; seq: number; hash: string };
    expect(created).toMatchObject({ dir: envDir, owner: publicKeyHex, seq: 0 });

    const second = await runCli(['init'], { env, cwd: root });
    expectFailure(second, 2, 'LEDGER_EXISTS');
    // The first ledger is intact: the flag form sees the same genesis.
    const head = await runCli(['--ledger', envDir, '--json', 'head']);
    expect(parseSeqHash(head.stdout)).toEqual({ seq: 0, hash: created.hash });
  });

  it('needs a key (exit 2, USAGE) and then creates nothing', async () => {
    const target = join(root, 'no-key');
    const result = await runCli(['--ledger', target, 'init']);
    expectFailure(result, 2, 'USAGE');
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('append signs one event and prints its seq and hash (SPEC §10.1)', () => {
  it('accepts inline JSON, @file.json and - (stdin), and --json prints exactly {"seq":N,"hash":"<hex>"}', () => {
    for (const result of Object.values(appended)) expectSuccess(result);
    expect(parseSeqHash(appended.inline.stdout).seq).toBe(1);
    expect(parseSeqHash(appended.file.stdout).seq).toBe(2);
    expect(parseSeqHash(appended.stdin.stdout).seq).toBe(3);
  });

  it('stores each payload exactly as given', async () => {
    const log = await runCli(['--ledger', dir, '--json', 'log', '--from', '1']);
    const events = log.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; payload: unknown });
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['dataset.ingested', payloads.inline],
      ['model.trained', payloads.file],
      ['note.added', payloads.stdin],
    ]);
  });
});

describe('log lists events (SPEC §10.1)', () => {
  it('--json prints JSON Lines, one event object per line, in seq order', async () => {
    const result = await runCli(['--ledger', dir, '--json', 'log']);
    expectSuccess(result);
    expect(result.stdout.endsWith('\n')).toBe(true);
    const lines = result.stdout.slice(0, -1).split('\n');
    expect(lines).toHaveLength(4);
    const events = lines.map((line) => JSON.parse(line) as { seq: number; hash: string });
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(events.map((e) => e.hash)).toEqual([genesis.hash, ...Object.values(appended).map((r) => parseSeqHash(r.stdout).hash)]);
    for (const event of events) expect(Object.keys(event).sort()).toEqual(EVENT_FIELDS);
  });

  it('--from and --to select an inclusive range', async () => {
    const result = await runCli(['--ledger', dir, '--json', 'log', '--from', '1', '--to', '2']);
    expectSuccess(result);
    expect(result.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([1, 2]);
  });

  it('prints one human line per event without --json', async () => {
    const result = await runCli(['--ledger', dir, 'log', '--from', '3']);
    expectSuccess(result);
    expect(result.stdout).toMatch(/^3\t\S+\tnote\.added\t[0-9a-f]{16}\t[0-9a-f]{16}\t\{.*\}\n$/);
  });
});

describe('head prints the last event (SPEC §10.1)', () => {
  it('--json prints exactly {"seq":N,"hash":"<hex>"} for the last append', async () => {
    const result = await runCli(['--ledger', dir, '--json', 'head']);
    expectSuccess(result);
    expect(parseSeqHash(result.stdout)).toEqual(parseSeqHash(appended.stdin.stdout));
  });

  it('prints SEQ:HASH without --json', async () => {
    const result = await runCli(['--ledger', dir, 'head']);
    expectSuccess(result);
    const { seq, hash } = parseSeqHash(appended.stdin.stdout);
    expect(result.stdout).toBe(`${seq}:${hash}\n`);
  });
});

describe('event SEQ shows one event (SPEC §10.1)', () => {
  it('--json has exactly the event fields, and prev of event N is the hash of event N-1', async () => {
    const shown = await Promise.all([0, 1, 2, 3].map((seq) => runCli(['--ledger', dir, '--json', 'event', String(seq), '--wait', '10'])));
    for (const result of shown) expectSuccess(result);
    const events = shown.map((r) => JSON.parse(r.stdout) as Record<string, unknown>);
    for (const event of events) expect(Object.keys(event).sort()).toEqual(EVENT_FIELDS);
    expect(events[0]).toMatchObject({ seq: 0, prev: '0'.repeat(64), hash: genesis.hash, formatVersion: 1 });
    for (let seq = 1; seq <= 3; seq++) {
      expect(events[seq]).toMatchObject({ seq, prev: events[seq - 1]!['hash'], author: publicKeyHex, formatVersion: 1 });
      expect(events[seq]!['signature']).toMatch(/^[0-9a-f]{128}$/);
      expect(events[seq]!['timeMs']).toBeGreaterThanOrEqual(events[seq - 1]!['timeMs'] as number);
    }
    expect(events[2]).toMatchObject({ type: 'model.trained', payload: payloads.file, hash: parseSeqHash(appended.file.stdout).hash });
  });

  it('prints the same event as log --json', async () => {
    const [event, log] = await Promise.all([
      runCli(['--ledger', dir, '--json', 'event', '1', '--wait', '10']),
      runCli(['--ledger', dir, '--json', 'log', '--from', '1', '--to', '1', '--wait', '10']),
    ]);
    expect(event.stdout).toBe(log.stdout);
  });
});

describe('verify checks the whole ledger (SPEC §7, §10.1)', () => {
  it('exits 0 with {"ok":true,"checked":N,...} for an intact ledger', async () => {
    const result = await runCli(['--ledger', dir, '--json', 'verify']);
    expectSuccess(result);
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, checked: 4, head: parseSeqHash(appended.stdin.stdout), failureCount: 0, failures: [] });
  });

  it('--expect-head with a wrong hash exits 1 with the failure code EXPECTED_HEAD', async () => {
    const { seq } = parseSeqHash(appended.stdin.stdout);
    const result = await runCli(['--ledger', dir, '--json', 'verify', '--expect-head', `${seq}:${'0'.repeat(64)}`]);
    expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 1, stderr: '' });
    const report = JSON.parse(result.stdout) as { ok: boolean; failures: { code: string; seq: number | null }[] };
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.code)).toEqual(['EXPECTED_HEAD']);
  });

  // Writes to the shared ledger, so it runs last.
  it('--expect-head with the head printed earlier is ok, and still ok after more appends', async () => {
    const earlier = (await runCli(['--ledger', dir, 'head'])).stdout.trim();
    expectSuccess(await runCli(['--ledger', dir, '--json', 'verify', '--expect-head', earlier]));

    const more = await runCli(['--ledger', dir, '--key', keyPath, '--json', 'append', '--type', 'dataset.ingested', '--data', '{"rows":7}']);
    expect(parseSeqHash(more.stdout).seq).toBe(4);
    const after = await runCli(['--ledger', dir, '--json', 'verify', '--expect-head', earlier]);
    expectSuccess(after);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, checked: 5, head: parseSeqHash(more.stdout) });
  });
});

describe('global behaviour (SPEC §10.2)', () => {
  it('--help exits 0 and lists the commands on stdout', async () => {
    const result = await runCli(['--help']);
    expectSuccess(result);
    for (const command of ['keygen', 'init', 'append', 'log', 'head', 'event', 'verify']) expect(result.stdout).toContain(command);
  });

  it('a missing ledger exits 3 with LEDGER_NOT_FOUND and creates nothing', async () => {
    const missing = join(root, 'missing');
    const result = await runCli(['--ledger', missing, 'head']);
    expectFailure(result, 3, 'LEDGER_NOT_FOUND');
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a directory that is not a ledger exits 3 with LEDGER_NOT_FOUND', async () => {
    const notLedger = join(root, 'not-a-ledger');
    await mkdir(notLedger);
    const result = await runCli(['--ledger', notLedger, '--json', 'verify']);
    expectFailure(result, 3, 'LEDGER_NOT_FOUND');
  });
});
