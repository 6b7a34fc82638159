/**
 * SPEC §14 and §16 through the built `provledger` command: `key add|revoke|list` (text and --json, list --at),
 * passphrase-protected keys (§14.5: keygen --encrypt, PROVLEDGER_PASSPHRASE, a silent prompt on a terminal,
 * PASSPHRASE_REQUIRED without one, KEY_INVALID for a wrong passphrase), the key-file permission warning, and a
 * table of bad key commands, each refused with exit 2, one `provledger: … [CODE]` line and the ledger unchanged.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningKey } from '../dist/index.js';
import { CLI_PATH, assertBuilt, childEnv, expectRefusal, librarySnapshot, makeLedger, parseSeqHash, runCli, snapshot, writeKey, type LedgerSnapshot, type TestLedger } from './helpers/cli.js';

interface Standing {
  key: string;
  role: 'admin' | 'writer';
  name: string | null;
  active: boolean;
  addedSeq: number;
  addedBy: string;
  revokedSeq: number | null;
  revokedBy: string | null;
  reason: string | null;
}

const jsonLines = <T>(stdout: string): T[] => (stdout === '' ? [] : stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as T));
const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : 1);

/** The `key list` text line of SPEC §16: key, name, state, who added it and when. */
function listLine(s: Standing): string {
  const state = s.active ? s.role : `revoked ${s.role} (seq ${s.revokedSeq}${s.reason === null ? '' : `: ${s.reason}`})`;
  return `${s.key}\t${s.name ?? '-'}\t${state}\tadded at seq ${s.addedSeq} by ${s.addedBy.slice(0, 16)}`;
}

beforeAll(() => assertBuilt());

const SCRIPT = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path));

/**
 * Runs `argv` on a pseudo-terminal with util-linux `script`, typing each answer once its prompt has appeared
 * (typed earlier, the terminal itself would echo it before the program turns echo off). Returns the exit code
 * and everything the terminal showed.
 */
async function onTerminal(argv: readonly string[], answers: readonly (readonly [prompt: string, answer: string])[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const child = spawn(SCRIPT!, ['-qec', argv.map(quote).join(' '), '/dev/null'], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let waiting: { text: string; from: number; resolve: () => void } | null = null;
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (waiting !== null && output.indexOf(waiting.text, waiting.from) !== -1) waiting.resolve();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let from = 0;
  for (const [prompt, answer] of answers) {
    const seen = new Promise<void>((resolve) => {
      waiting = { text: prompt, from, resolve };
      if (output.indexOf(prompt, from) !== -1) resolve();
    });
    if ((await Promise.race([seen.then(() => 'seen'), closed.then(() => 'closed')])) === 'closed') break;
    from = output.indexOf(prompt, from) + prompt.length;
    child.stdin.write(`${answer}\r`);
  }
  const code = await closed;
  clearTimeout(timer);
  child.stdin.destroy();
  return { code, output };
}

describe('SPEC §16: key add, revoke and list through the CLI', () => {
  let ledger: TestLedger;
  let alice: { path: string; hex: string };
  let bob: { path: string; hex: string };
  const owner = () => ['--ledger', ledger.dir, '--key', ledger.keyPath];
  const standings: Record<string, Standing> = {};
  let timeOfSeq2 = 0;

  beforeAll(async () => {
    ledger = await makeLedger();
    alice = { path: join(ledger.root, 'alice.pem'), hex: '' };
    bob = { path: join(ledger.root, 'bob.pem'), hex: '' };
    alice.hex = await writeKey(alice.path);
    bob.hex = await writeKey(bob.path);
  });
  afterAll(() => ledger?.cleanup());

  it('key add (text) authorises a writer and names it: `added alice as writer (seq 1, hash …)`', async () => {
    const result = await runCli([...owner(), 'key', 'add', alice.hex, '--role', 'writer', '--name', 'alice']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^added alice as writer \(seq 1, hash [0-9a-f]{64}\)\n$/);
    standings[alice.hex] = { key: alice.hex, role: 'writer', name: 'alice', active: true, addedSeq: 1, addedBy: ledger.publicKeyHex, revokedSeq: null, revokedBy: null, reason: null };
  });

  it('key add --json takes an upper-case PUBKEY and prints {"seq","hash"}', async () => {
    const result = await runCli([...owner(), '--json', 'key', 'add', bob.hex.toUpperCase(), '--role', 'admin', '--name', 'bob']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(parseSeqHash(result.stdout).seq).toBe(2);
    standings[bob.hex] = { key: bob.hex, role: 'admin', name: 'bob', active: true, addedSeq: 2, addedBy: ledger.publicKeyHex, revokedSeq: null, revokedBy: null, reason: null };
    timeOfSeq2 = (JSON.parse((await runCli(['--ledger', ledger.dir, '--json', 'event', '2'])).stdout) as { timeMs: number }).timeMs;
  });

  it('the writer appends with its own key (seq 3)', async () => {
    const result = await runCli(['--ledger', ledger.dir, '--key', alice.path, 'append', '--type', 'app.note', '--data', '{"by":"alice"}']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^3 [0-9a-f]{64}\n$/);
  });

  it('the new admin revokes the writer with a reason: `revoked <16 hex> (seq 4, hash …)`', async () => {
    const result = await runCli(['--ledger', ledger.dir, '--key', bob.path, 'key', 'revoke', alice.hex, '--reason', 'left the team']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`revoked ${alice.hex.slice(0, 16)} (seq 4, hash ${(JSON.parse((await runCli(['--ledger', ledger.dir, '--json', 'head'])).stdout) as { hash: string }).hash})\n`);
    standings[alice.hex] = { ...standings[alice.hex]!, active: false, revokedSeq: 4, revokedBy: bob.hex, reason: 'left the team' };
  });

  it('the revoked writer is refused (exit 2, KEY_NOT_AUTHORIZED) and nothing is written', async () => {
    const before = await snapshot(ledger.dir);
    const result = await runCli(['--ledger', ledger.dir, '--key', alice.path, 'append', '--type', 'app.note', '--data', '{}']);
    expectRefusal(result, 2, 'KEY_NOT_AUTHORIZED', expect);
    expect(await snapshot(ledger.dir)).toEqual(before);
  });

  it('key list prints one line per key, in key order, with role or revocation and who added it', async () => {
    const result = await runCli(['--ledger', ledger.dir, 'key', 'list']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const ownerStanding: Standing = { key: ledger.publicKeyHex, role: 'admin', name: 'owner', active: true, addedSeq: 0, addedBy: ledger.publicKeyHex, revokedSeq: null, revokedBy: null, reason: null };
    const all = [ownerStanding, standings[alice.hex]!, standings[bob.hex]!].sort(byKey);
    expect(result.stdout).toBe(`${all.map(listLine).join('\n')}\n`);
    expect(result.stdout).toContain(`${alice.hex}\talice\trevoked writer (seq 4: left the team)\tadded at seq 1 by ${ledger.publicKeyHex.slice(0, 16)}`);
  });

  it('key list --json prints JSON Lines of every standing', async () => {
    const result = await runCli(['--ledger', ledger.dir, '--json', 'key', 'list']);
    expect(result.code).toBe(0);
    const ownerStanding: Standing = { key: ledger.publicKeyHex, role: 'admin', name: 'owner', active: true, addedSeq: 0, addedBy: ledger.publicKeyHex, revokedSeq: null, revokedBy: null, reason: null };
    expect(jsonLines<Standing>(result.stdout)).toEqual([ownerStanding, standings[alice.hex]!, standings[bob.hex]!].sort(byKey));
  });

  it('key list --at SEQ and --at TIME show the keys as of that point', async () => {
    const [at0, at1, at3, atTime] = await Promise.all(
      ['0', '1', '3', new Date(timeOfSeq2).toISOString()].map((at) => runCli(['--ledger', ledger.dir, '--json', 'key', 'list', '--at', at])),
    );
    const keysOf = (r: typeof at0) => jsonLines<Standing>(r!.stdout).map((s) => `${s.name}:${s.active ? s.role : 'revoked'}`).sort();
    expect([at0, at1, at3, atTime].map((r) => r!.code)).toEqual([0, 0, 0, 0]);
    expect(keysOf(at0)).toEqual(['owner:admin']);
    expect(keysOf(at1)).toEqual(['alice:writer', 'owner:admin']);
    expect(keysOf(at3)).toEqual(['alice:writer', 'bob:admin', 'owner:admin']);
    expect(keysOf(atTime)).toEqual(['alice:writer', 'bob:admin', 'owner:admin']);
  });

  it('verify is ok after all of it', async () => {
    expect((await snapshot(ledger.dir)).verifyOk).toBe(true);
  });
});

describe('SPEC §14.5: passphrase-protected keys', () => {
  const PASSPHRASE = 'correct horse battery staple';
  let ledger: TestLedger;
  let keyPath: string;
  let publicKeyHex: string;
  const withKey = (extra: string[]) => ['--ledger', ledger.dir, '--key', keyPath, ...extra];
  const appendArgs = (type: string) => withKey(['append', '--type', type, '--data', '{}']);

  beforeAll(async () => {
    ledger = await makeLedger();
    keyPath = join(ledger.root, 'enc.pem');
  });
  afterAll(() => ledger?.cleanup());

  it('keygen --encrypt with PROVLEDGER_PASSPHRASE writes an encrypted PKCS#8 file, mode 0600, and prints the public key', async () => {
    const result = await runCli(['keygen', '--out', keyPath, '--encrypt'], { env: { PROVLEDGER_PASSPHRASE: PASSPHRASE } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    publicKeyHex = result.stdout.trim();
    const pem = await readFile(keyPath, 'utf8');
    expect(pem.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\n')).toBe(true);
    expect(pem).not.toContain(PASSPHRASE);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    // The library reads it back with the passphrase, to the same public key.
    expect(SigningKey.fromPem(pem, PASSPHRASE).publicKeyHex).toBe(publicKeyHex);
  });

  it.skipIf(!existsSync('/usr/bin/openssl') && !existsSync('/bin/openssl'))('openssl reads the encrypted file with the passphrase and derives the same public key', async () => {
    const der = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn('openssl', ['pkey', '-in', keyPath, '-passin', 'env:PROVLEDGER_PASSPHRASE', '-pubout', '-outform', 'DER'], { env: { ...process.env, PROVLEDGER_PASSPHRASE: PASSPHRASE } });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`openssl exited ${String(code)}`))));
    });
    expect(der.subarray(der.length - 32).toString('hex')).toBe(publicKeyHex);
  });

  it('keygen --encrypt with no passphrase and no terminal: exit 2 PASSPHRASE_REQUIRED, no file written', async () => {
    const out = join(ledger.root, 'never.pem');
    expectRefusal(await runCli(['keygen', '--out', out, '--encrypt']), 2, 'PASSPHRASE_REQUIRED', expect);
    expect(existsSync(out)).toBe(false);
  });

  it('the owner authorises the key, which needs no passphrase: only the signer\'s key is read', async () => {
    const result = await runCli(['--ledger', ledger.dir, '--key', ledger.keyPath, 'key', 'add', publicKeyHex, '--role', 'writer', '--name', 'enc']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('read-only commands given the encrypted key ask for no passphrase', async () => {
    const result = await runCli(withKey(['key', 'list']));
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`${publicKeyHex}\tenc\twriter\t`);
  });

  it('the right passphrase (PROVLEDGER_PASSPHRASE) signs an append by that key', async () => {
    const result = await runCli(appendArgs('app.encrypted'), { env: { PROVLEDGER_PASSPHRASE: PASSPHRASE } });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^2 [0-9a-f]{64}\n$/);
    const event = JSON.parse((await runCli(['--ledger', ledger.dir, '--json', 'event', '2'])).stdout) as { author: string; type: string };
    expect(event).toMatchObject({ author: publicKeyHex, type: 'app.encrypted' });
  });

  it('a wrong passphrase: exit 2 KEY_INVALID, the passphrase not echoed, and the ledger unchanged', async () => {
    const before = await snapshot(ledger.dir);
    const result = await runCli(appendArgs('app.wrong'), { env: { PROVLEDGER_PASSPHRASE: 'wrong horse' } });
    expectRefusal(result, 2, 'KEY_INVALID', expect);
    expect(result.stderr).not.toContain('wrong horse');
    expect(await snapshot(ledger.dir)).toEqual(before);
  });

  it('no passphrase and standard input not a terminal: exit 2 PASSPHRASE_REQUIRED and the ledger unchanged', async () => {
    const before = await snapshot(ledger.dir);
    // Even with the passphrase on a piped stdin: only a terminal is asked.
    expectRefusal(await runCli(appendArgs('app.nopass'), { input: `${PASSPHRASE}\n` }), 2, 'PASSPHRASE_REQUIRED', expect);
    expectRefusal(await runCli(appendArgs('app.nopass'), { env: { PROVLEDGER_PASSPHRASE: '' } }), 2, 'PASSPHRASE_REQUIRED', expect);
    expect(await snapshot(ledger.dir)).toEqual(before);
  });

  it.skipIf(SCRIPT === undefined)('on a terminal (`script` gives it a pty) the passphrase is asked silently and works; it is never echoed', async () => {
    const { code, output } = await onTerminal([process.execPath, CLI_PATH, ...appendArgs('app.tty')], [['Passphrase for', PASSPHRASE]]);
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toContain(`Passphrase for ${keyPath}: `);
    expect(output).toMatch(/(?<![0-9])3 [0-9a-f]{64}\r?\n/);
    expect(output).not.toContain(PASSPHRASE);
    expect(output).not.toContain('correct');
    const event = JSON.parse((await runCli(['--ledger', ledger.dir, '--json', 'event', '3'])).stdout) as { author: string; type: string };
    expect(event).toMatchObject({ author: publicKeyHex, type: 'app.tty' });
  });

  it.skipIf(SCRIPT === undefined)('keygen --encrypt on a terminal asks twice, even with PROVLEDGER_PASSPHRASE set but empty; two different answers write nothing', async () => {
    for (const env of [{}, { PROVLEDGER_PASSPHRASE: '' }] as Record<string, string>[]) {
      const out = join(ledger.root, `tty-${Object.keys(env).length}.pem`);
      const differ = await onTerminal([process.execPath, CLI_PATH, 'keygen', '--out', out, '--encrypt'], [['New passphrase:', 'first secret'], ['Again:', 'second secret']], env);
      expect(differ.code).toBe(2);
      expect(differ.output).toContain('[INVALID_ARGUMENT]');
      expect(existsSync(out)).toBe(false);
      const same = await onTerminal([process.execPath, CLI_PATH, 'keygen', '--out', out, '--encrypt'], [['New passphrase:', 'tty secret'], ['Again:', 'tty secret']], env);
      expect(same.code).toBe(0);
      expect(same.output).not.toContain('tty secret');
      const publicKey = /([0-9a-f]{64})\r?\n/.exec(same.output)?.[1];
      expect(SigningKey.fromPem(await readFile(out, 'utf8'), 'tty secret').publicKeyHex).toBe(publicKey);
    }
  });

  it('a key file readable by others (mode 0644) still works, with exactly one warning line naming chmod', async () => {
    const loose = join(ledger.root, 'loose.pem');
    const key = SigningKey.generate();
    await writeFile(loose, key.toPem(), { mode: 0o644 });
    await chmod(loose, 0o644);
    const add = await runCli(['--ledger', ledger.dir, '--key', ledger.keyPath, 'key', 'add', key.publicKeyHex, '--role', 'writer']);
    expect(add.code).toBe(0);
    const result = await runCli(['--ledger', ledger.dir, '--key', loose, 'append', '--type', 'app.loose', '--data', '{}']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+ [0-9a-f]{64}\n$/);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^provledger: warning: .*chmod 600/);
    expect(lines[0]).toContain(loose);
    // A key that does not load is refused in one line, without the warning (SPEC §10.2: one line per refusal).
    const looseEncrypted = join(ledger.root, 'loose-enc.pem');
    await writeFile(looseEncrypted, key.toPem(PASSPHRASE), { mode: 0o644 });
    await chmod(looseEncrypted, 0o644);
    expectRefusal(await runCli(['--ledger', ledger.dir, '--key', looseEncrypted, 'append', '--type', 'app.loose', '--data', '{}'], { env: { PROVLEDGER_PASSPHRASE: 'wrong' } }), 2, 'KEY_INVALID', expect);
    // A 0600 key gets no warning.
    const quiet = await runCli(['--ledger', ledger.dir, '--key', ledger.keyPath, 'append', '--type', 'app.quiet', '--data', '{}']);
    expect({ code: quiet.code, stderr: quiet.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await snapshot(ledger.dir)).verifyOk).toBe(true);
  });
});

/**
 * The shared ledger of the table: 1 owner adds alice (writer) · 2 owner adds carol (writer) · 3 owner revokes carol.
 * The owner is the only admin.
 */
describe('SPEC §10.2, §14.3, §16: bad key commands are refused with exit 2 and change nothing', () => {
  interface Fixture {
    dir: string;
    owner: string;
    alice: string;
    aliceHex: string;
    carolHex: string;
    ownerHex: string;
    mallory: string;
  }
  interface BadInput {
    readonly name: string;
    readonly args: (f: Fixture) => string[];
    readonly code: string;
  }
  let ledger: TestLedger;
  let fixture: Fixture;
  let before: LedgerSnapshot;
  const as = (who: 'owner' | 'alice' | 'mallory' | null, ...rest: string[]) => (f: Fixture) => ['--ledger', f.dir, ...(who === null ? [] : ['--key', f[who]]), 'key', ...rest];
  const SHORT = 'ab'.repeat(31);
  const NON_HEX = 'zz'.repeat(32);
  const VALID = SigningKey.generate().publicKeyHex;

  beforeAll(async () => {
    ledger = await makeLedger();
    const alice = join(ledger.root, 'alice.pem');
    const mallory = join(ledger.root, 'mallory.pem');
    const carol = join(ledger.root, 'carol.pem');
    const [aliceHex, , carolHex] = await Promise.all([writeKey(alice), writeKey(mallory), writeKey(carol)]);
    fixture = { dir: ledger.dir, owner: ledger.keyPath, alice, aliceHex: aliceHex!, carolHex: carolHex!, ownerHex: ledger.publicKeyHex, mallory };
    const owner = ['--ledger', ledger.dir, '--key', ledger.keyPath, 'key'];
    for (const args of [
      [...owner, 'add', aliceHex!, '--role', 'writer', '--name', 'alice'],
      [...owner, 'add', carolHex!, '--role', 'writer', '--name', 'carol'],
      [...owner, 'revoke', carolHex!],
    ]) {
      expect((await runCli(args)).code).toBe(0);
    }
    before = await librarySnapshot(ledger.dir);
    expect(JSON.parse(before.head)).toMatchObject({ seq: 3 });
  });
  afterAll(() => ledger?.cleanup());

  const CASES: readonly BadInput[] = [
    { name: 'key add of a short PUBKEY', args: (f) => as('owner', 'add', SHORT, '--role', 'writer')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key add of a non-hex PUBKEY', args: (f) => as('owner', 'add', NON_HEX, '--role', 'writer')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key add of a 65-character PUBKEY', args: (f) => as('owner', 'add', `${VALID}0`, '--role', 'writer')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key revoke of a short PUBKEY', args: (f) => as('owner', 'revoke', SHORT)(f), code: 'INVALID_ARGUMENT' },
    { name: 'key revoke of a non-hex PUBKEY', args: (f) => as('owner', 'revoke', NON_HEX)(f), code: 'INVALID_ARGUMENT' },
    { name: 'key add --role root', args: (f) => as('owner', 'add', VALID, '--role', 'root')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key add --role Admin (roles are lower case)', args: (f) => as('owner', 'add', VALID, '--role', 'Admin')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key add without --role', args: (f) => as('owner', 'add', VALID)(f), code: 'USAGE' },
    { name: 'key add without PUBKEY', args: (f) => as('owner', 'add', '--role', 'writer')(f), code: 'USAGE' },
    { name: 'key add --name "a/b"', args: (f) => as('owner', 'add', VALID, '--role', 'writer', '--name', 'a/b')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key revoke --reason ""', args: (f) => as('owner', 'revoke', f.aliceHex, '--reason', '')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key add of a weak key (32 zero bytes)', args: (f) => as('owner', 'add', '00'.repeat(32), '--role', 'writer')(f), code: 'KEY_WEAK' },
    { name: 'key add by a writer', args: (f) => as('alice', 'add', VALID, '--role', 'writer')(f), code: 'KEY_NOT_AUTHORIZED' },
    { name: 'key revoke by a writer', args: (f) => as('alice', 'revoke', f.aliceHex)(f), code: 'KEY_NOT_AUTHORIZED' },
    { name: 'key add by a key never authorised', args: (f) => as('mallory', 'add', VALID, '--role', 'admin')(f), code: 'KEY_NOT_AUTHORIZED' },
    { name: 'key add with no signing key', args: (f) => as(null, 'add', VALID, '--role', 'writer')(f), code: 'USAGE' },
    { name: 'key revoke of the last admin', args: (f) => as('owner', 'revoke', f.ownerHex)(f), code: 'LAST_ADMIN' },
    { name: 'key add demoting the last admin', args: (f) => as('owner', 'add', f.ownerHex, '--role', 'writer')(f), code: 'LAST_ADMIN' },
    { name: 'key add re-adding a revoked key', args: (f) => as('owner', 'add', f.carolHex, '--role', 'writer')(f), code: 'KEY_REVOKED' },
    { name: 'key revoke of a revoked key', args: (f) => as('owner', 'revoke', f.carolHex)(f), code: 'KEY_REVOKED' },
    { name: 'key revoke of a key never added', args: (f) => as('owner', 'revoke', VALID)(f), code: 'KEY_NOT_FOUND' },
    { name: 'key add repeating a key\'s role and name', args: (f) => as('owner', 'add', f.aliceHex, '--role', 'writer', '--name', 'alice')(f), code: 'KEY_UNCHANGED' },
    { name: 'key list --at garbage', args: (f) => as(null, 'list', '--at', 'garbage')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key list --at -1', args: (f) => as(null, 'list', '--at=-1')(f), code: 'INVALID_ARGUMENT' },
    { name: 'key list --at a seq beyond the head', args: (f) => as(null, 'list', '--at', '99')(f), code: 'AT_OUT_OF_RANGE' },
    { name: 'key list --at a time before the genesis', args: (f) => as(null, 'list', '--at', '2000-01-01T00:00:00Z')(f), code: 'AT_OUT_OF_RANGE' },
  ];

  it.concurrent.for(CASES)('$name → exit 2 $code, ledger unchanged', async ({ args, code }, { expect: check }) => {
    const result = await runCli(args(fixture));
    expectRefusal(result, 2, code, check);
    check(await librarySnapshot(fixture.dir)).toEqual(before);
  });

  it('the CLI itself still shows the same head, log and a passing verify', async () => {
    const viaCli = await snapshot(ledger.dir);
    expect(viaCli.verifyOk).toBe(true);
    expect(JSON.parse(viaCli.head)).toEqual({ seq: 3, hash: (JSON.parse(before.head) as { hash: string }).hash });
    expect(jsonLines<unknown>(viaCli.log)).toEqual(before.log.split('\n').map((line) => JSON.parse(line) as unknown));
  });
});
