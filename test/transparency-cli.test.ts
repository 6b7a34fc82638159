/**
 * SPEC §17 and §18 through the built `provledger` command: `checkpoint`, `prove` (inclusion and consistency),
 * `verify-proof`, `bundle`, `verify-bundle` and `verify --checkpoint`. One describe per rule: what each command
 * prints when all is well; exit 1 when a proof, a bundle or a ledger does not hold what a checkpoint committed
 * to; exit 2 with one `provledger: … [CODE]` line for bad input, leaving the ledger unchanged; and the offline
 * verifiers needing no ledger at all.
 *
 * Everything is built once, in-process, in beforeAll (ledgers, checkpoints, proofs, bundles). Ed25519 is
 * deterministic, so what the CLI prints must equal what the library made. The happy paths read one ledger; a
 * case that could change a ledger, or must show that it did not, runs on its own copy.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, SigningKey, noteKeyId } from '../dist/index.js';
import { SigningKey as NoteSigningKey } from '../src/crypto/keys.js';
import { addSignature, formatVerifierKey, signNote } from '../src/merkle/checkpoint.js';
import { assertBuilt, errorCodeOf, expectRefusal, HEX64, makeLedger, makeTempDir, ok, runCli, writeKey, type RunOptions, type RunResult } from './helpers/cli.js';
import { copyOfLedger } from './helpers/cli-fixture.js';
import { editStore, filesOf, seqKey, storeDigest } from './helpers/raw-store.js';

/**
 * The main ledger (owner = the ledger's key, alice = a writer it adds):
 * 0 genesis · 1 key add alice · 2 create mnist v1 (owner) · 3 update mnist v2 (alice)   ← OLD checkpoint, size 4
 * · 4 app.note (owner)                                                                   ← MID, size 5
 * · 5 update mnist v3 (alice) · 6 create resnet (alice)                                  ← CURRENT, size 7
 * `at4` is a copy of it at size 4 (a backup older than CURRENT); `fork` is that copy with three other events,
 * checkpointed at size 5 (FORK_MID). Every checkpoint is signed by the owner.
 */
const SIZE = { old: 4, mid: 5, current: 7 } as const;
/** The event the inclusion proofs prove: alice's update of mnist. */
const PROVED = 3;
const WITNESS_NAME = 'witness.example/w1';

type TextName = 'old' | 'mid' | 'current' | 'forkMid' | 'foreign' | 'witnessed' | 'witnessOnly' | 'proof' | 'consistency' | 'midConsistency' | 'bundle' | 'bundleOld' | 'witnessedProof';
type BadFileName = 'brokenSignature' | 'garbage' | 'empty' | 'binary' | 'big' | 'directory' | 'missing' | 'wrongHeader' | 'crlf' | 'badIndex';

interface Fixture {
  readonly root: string;
  /** The main ledger: the happy paths read it; nothing writes to it after beforeAll. */
  readonly main: string;
  /** A copy of main that nothing opens: what each case that needs its own ledger copies. */
  readonly pristine: string;
  readonly at4: string;
  readonly fork: string;
  readonly ownerKey: string;
  readonly ownerHex: string;
  readonly aliceHex: string;
  /** A valid key that is no key of the ledger. */
  readonly strangerKey: string;
  readonly strangerHex: string;
  readonly witnessHex: string;
  /** `--trusted-key` values for the owner: its hex, and its verifier key named for the checkpoint origin. */
  readonly ownerVerifierKey: string;
  readonly witnessVerifierKey: string;
  readonly ledgerId: string;
  readonly origin: string;
  /** Main's event hashes, by seq. */
  readonly hashes: readonly string[];
  /** `storeDigest(main)` right after beforeAll built it. */
  readonly storeDigest: string;
  /** Texts the library made, and the files that hold them (same names). */
  readonly text: Record<TextName, string>;
  readonly file: Record<TextName | BadFileName, string>;
}

let f: Fixture;
let cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  assertBuilt();
  const made = await makeLedger();
  cleanups.push(made.cleanup);
  const { root, dir: main, keyPath: ownerKey, publicKeyHex: ownerHex } = made;
  const owner = SigningKey.fromPem(await readFile(ownerKey, 'utf8'));
  const alice = SigningKey.generate();
  const strangerKey = join(root, 'stranger.pem');
  const strangerHex = await writeKey(strangerKey);

  const text = {} as Record<TextName, string>;
  await withOpen(main, owner, async (ledger) => {
    await ledger.keys.add(alice.publicKeyHex, { role: 'writer', name: 'alice' });
    await ledger.records.create('dataset', { files: 4 }, { id: 'mnist' });
  });
  await withOpen(main, alice, async (ledger) => {
    await ledger.records.update('mnist', { files: 5 });
    text.old = await ledger.checkpoint({ key: owner });
  });
  const at4 = join(root, 'at4');
  const fork = join(root, 'fork');
  await cp(main, at4, { recursive: true });
  await cp(main, fork, { recursive: true });
  await withOpen(main, owner, async (ledger) => {
    await ledger.append({ type: 'app.note', payload: { n: 1 } });
    text.mid = await ledger.checkpoint();
  });
  let ledgerId = '';
  const hashes: string[] = [];
  await withOpen(main, alice, async (ledger) => {
    await ledger.records.update('mnist', { files: 6 });
    await ledger.records.create('model', { layers: 50 }, { id: 'resnet' });
    text.current = await ledger.checkpoint({ key: owner });
    text.proof = await ledger.proveInclusion(PROVED, text.current);
    text.consistency = await ledger.proveConsistency(text.old, text.current);
    text.midConsistency = await ledger.proveConsistency(text.mid, text.current);
    text.bundle = await ledger.bundle('mnist', { checkpoint: text.current });
    text.bundleOld = await ledger.bundle('mnist', { checkpoint: text.old });
    ledgerId = ledger.id!;
    for await (const event of ledger.events()) hashes.push(event.hash);
  });
  await withOpen(fork, owner, async (ledger) => {
    await ledger.append({ type: 'app.note', payload: { n: 'forked' } });
    text.forkMid = await ledger.checkpoint();
    await ledger.appendMany([{ type: 'app.note', payload: { n: 'forked 2' } }, { type: 'app.note', payload: { n: 'forked 3' } }]);
  });
  const other = await makeLedger();
  cleanups.push(other.cleanup);
  await withOpen(other.dir, SigningKey.fromPem(await readFile(other.keyPath, 'utf8')), async (ledger) => {
    text.foreign = await ledger.checkpoint();
  });

  // A witness cosigns CURRENT under its own name; WITNESS_ONLY is CURRENT's body signed by the witness alone.
  const origin = `provledger/${ledgerId}`;
  const witness = NoteSigningKey.generate();
  text.witnessed = addSignature(text.current, WITNESS_NAME, witness);
  text.witnessOnly = signNote(noteBody(text.current), origin, witness);
  await withOpen(main, undefined, async (ledger) => {
    text.witnessedProof = await ledger.proveInclusion(PROVED, text.witnessed);
  });

  const pristine = join(root, 'pristine');
  await cp(main, pristine, { recursive: true });

  const inputs = join(root, 'inputs');
  await mkdir(inputs);
  const file = {} as Record<TextName | BadFileName, string>;
  for (const [name, content] of Object.entries(text)) {
    file[name as TextName] = join(inputs, `${name}.txt`);
    await writeFile(file[name as TextName], content);
  }
  const bad: Record<Exclude<BadFileName, 'directory' | 'missing'>, string | Uint8Array> = {
    brokenSignature: breakSignature(text.current),
    garbage: 'not a checkpoint\n',
    empty: '',
    binary: new Uint8Array([0xff, 0xfe, 0x00, 0x80]),
    big: 'x'.repeat(2 * 1024 * 1024 + 1),
    wrongHeader: text.proof.replace(/^[^\n]*/, 'c2sp.org/tlog-proof@v2'),
    crlf: text.proof.replaceAll('\n', '\r\n'),
    badIndex: text.proof.replace(`\nindex ${PROVED}\n`, '\nindex x\n'),
  };
  for (const [name, content] of Object.entries(bad)) {
    file[name as BadFileName] = join(inputs, `${name}.bad`);
    await writeFile(file[name as BadFileName], content);
  }
  file.directory = join(inputs, 'a-directory');
  await mkdir(file.directory);
  file.missing = join(inputs, 'missing.txt');

  f = {
    root,
    main,
    pristine,
    at4,
    fork,
    ownerKey,
    ownerHex,
    aliceHex: alice.publicKeyHex,
    strangerKey,
    strangerHex,
    witnessHex: witness.publicKeyHex,
    ownerVerifierKey: formatVerifierKey({ name: origin, publicKey: owner.publicKey }),
    witnessVerifierKey: formatVerifierKey({ name: WITNESS_NAME, publicKey: witness.publicKey }),
    ledgerId,
    origin,
    hashes,
    storeDigest: await storeDigest(main),
    text,
    file,
  };
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function withOpen(dir: string, key: SigningKey | undefined, use: (ledger: Ledger) => Promise<void>): Promise<void> {
  const ledger = await Ledger.open(dir, key === undefined ? {} : { key });
  try {
    await use(ledger);
  } finally {
    await ledger.close();
  }
}

/** The signed text of a note: everything before the blank line (c2sp.org/signed-note). */
function noteBody(note: string): string {
  return note.slice(0, note.indexOf('\n\n') + 1);
}

/** The note with one base64 character of its last signature changed: still canonical, no longer valid. */
function breakSignature(note: string): string {
  const at = note.lastIndexOf('\n', note.length - 2) + 1 + '— '.length;
  const line = note.slice(at);
  const position = line.indexOf(' ') + 40; // past the name and the 4-byte key id, inside the signature
  const changed = line[position] === 'A' ? 'B' : 'A';
  return `${note.slice(0, at)}${line.slice(0, position)}${changed}${line.slice(position + 1)}`;
}


/** Writes `content` to a new file under the fixture root and returns its path. */
async function input(name: string, content: string): Promise<string> {
  const path = join(await mkdtemp(join(f.root, 'input-')), name);
  await writeFile(path, content);
  return path;
}

const reader = (dir = f.main) => ['--ledger', dir];
const asOwner = (dir = f.main) => ['--ledger', dir, '--key', f.ownerKey];

/** The owner's checkpoint of a ledger in the format of SPEC §17.3 (a C2SP tlog-checkpoint in a signed note). */
const CHECKPOINT_SHAPE = /^(provledger\/[0-9a-f-]{36})\n([1-9][0-9]*)\n([A-Za-z0-9+/]{43}=)\nprovledger-chain-head ([0-9a-f]{64})\n\n\u2014 \1 ([A-Za-z0-9+/]{91}=)\n$/;

describe('checkpoint signs a C2SP checkpoint of the ledger as it stands (SPEC §17.3)', () => {
  it('prints a signed note: origin provledger/<ledger id>, size, base64 root, chain head line, blank line, "— " signature line', async () => {
    const result = await runCli([...asOwner(), 'checkpoint']);
    ok(result);
    const match = CHECKPOINT_SHAPE.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const [, origin, size, root, head, signature] = match!;
    expect({ origin, size: Number(size), rootBytes: Buffer.from(root!, 'base64').length, head }).toEqual({
      origin: `provledger/${f.ledgerId}`,
      size: SIZE.current,
      rootBytes: 32,
      head: f.hashes[SIZE.current - 1],
    });
    // The signature line: the 4-byte key id of (origin, owner key), then 64 signature bytes.
    const signed = Buffer.from(signature!, 'base64');
    expect(signed.length).toBe(68);
    expect(Buffer.from(signed.subarray(0, 4)).toString('hex')).toBe(Buffer.from(noteKeyId(f.origin, Buffer.from(f.ownerHex, 'hex'))).toString('hex'));
    // Ed25519 is deterministic: the same ledger and key give the checkpoint the library made.
    expect(result.stdout).toBe(f.text.current);
  });

  it('--out writes the same checkpoint to a new file and nothing to stdout', async () => {
    const out = join(await mkdtemp(join(f.root, 'out-')), 'ledger.checkpoint');
    const result = await runCli([...asOwner(), 'checkpoint', '--out', out]);
    expect({ exit: result.code, stdout: result.stdout, code: errorCodeOf(result.stderr) }).toEqual({ exit: 0, stdout: '', code: null });
    expect(await readFile(out, 'utf8')).toBe(f.text.current);
  });
});

describe('prove SEQ writes an inclusion proof of one event against a checkpoint (SPEC §17.4)', () => {
  it('with --checkpoint: a tlog-proof with the event, its index, the audit path and the checkpoint verbatim', async () => {
    const result = await runCli([...reader(), 'prove', String(PROVED), '--checkpoint', f.file.current]);
    ok(result);
    expect(result.stdout).toBe(f.text.proof);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3).map((line) => line.replace(/ .*/, ''))).toEqual(['c2sp.org/tlog-proof@v1', 'extra', 'index']);
    expect(lines[2]).toBe(`index ${PROVED}`);
    // A tree of 7 leaves: 3 hashes lead from leaf 3 to the root.
    expect(lines.slice(3, 6).every((line) => Buffer.from(line, 'base64').length === 32)).toBe(true);
    expect(lines[6]).toBe('');
    expect(result.stdout.endsWith(`\n\n${f.text.current}`)).toBe(true);
  });

  it('without --checkpoint it signs one now with --key: the same proof as against a checkpoint made now', async () => {
    const result = await runCli([...asOwner(), 'prove', String(PROVED)]);
    ok(result);
    expect(result.stdout).toBe(f.text.proof);
  });

  it('--out writes the proof to a new file and nothing to stdout', async () => {
    const out = join(await mkdtemp(join(f.root, 'out-')), 'event.proof');
    ok(await runCli([...reader(), 'prove', String(PROVED), '--checkpoint', f.file.current, '--out', out]));
    expect(await readFile(out, 'utf8')).toBe(f.text.proof);
  });
});

describe('verify-proof checks an inclusion proof offline, trusting only the keys given (SPEC §17.6)', () => {
  it('prints "ok: event N (type, hash, signed by author, time) is in ORIGIN at size S (checkpoint signed by KEY)"', async () => {
    const result = await runCli(['verify-proof', f.file.proof, '--trusted-key', f.ownerHex]);
    ok(result);
    expect(result.stdout).toMatch(
      new RegExp(`^ok: event ${PROVED} \\(record\\.update, ${f.hashes[PROVED]}, signed by ${f.aliceHex}, \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\) is in ${f.origin} at size ${SIZE.current} \\(checkpoint signed by ${f.ownerHex}\\)\\n$`),
    );
  });

  it('--json prints {ok, kind, origin, size, root, index, event, signedBy}', async () => {
    const result = await runCli(['--json', 'verify-proof', f.file.proof, '--trusted-key', f.ownerHex]);
    ok(result);
    const report = JSON.parse(result.stdout) as Record<string, unknown> & { event: Record<string, unknown> };
    expect(Object.keys(report).sort()).toEqual(['event', 'index', 'kind', 'ok', 'origin', 'root', 'signedBy', 'size']);
    expect(report).toMatchObject({ ok: true, kind: 'inclusion', origin: f.origin, size: SIZE.current, index: PROVED, signedBy: [f.ownerHex] });
    expect(report['root']).toBe(Buffer.from(f.text.current.split('\n')[2]!, 'base64').toString('hex'));
    expect(report.event).toEqual({ seq: PROVED, hash: f.hashes[PROVED], type: 'record.update', author: f.aliceHex, timeMs: expect.any(Number) as number });
  });

  it('takes the trusted key as a verifier key NAME+ID+BASE64 named for the checkpoint origin', async () => {
    const result = await runCli(['verify-proof', f.file.proof, '--trusted-key', f.ownerVerifierKey]);
    ok(result);
    expect(result.stdout).toMatch(/^ok: event 3 /);
  });

  it('--trusted-key is repeatable: one trusted signer among keys that did not sign is enough', async () => {
    const result = await runCli(['--json', 'verify-proof', f.file.proof, '--trusted-key', f.strangerHex, '--trusted-key', f.ownerVerifierKey]);
    ok(result);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, signedBy: [f.ownerHex] });
  });

  it('--checkpoint: a proof against the very checkpoint the verifier holds passes', async () => {
    ok(await runCli(['verify-proof', f.file.proof, '--checkpoint', f.file.current, '--trusted-key', f.ownerHex]));
  });

  it('a witness cosignature is trusted under the name it signed with: its verifier key, not its bare hex', async () => {
    const [byVerifierKey, byHex] = await Promise.all([
      runCli(['--json', 'verify-proof', f.file.witnessedProof, '--trusted-key', f.witnessVerifierKey]),
      runCli(['verify-proof', f.file.witnessedProof, '--trusted-key', f.witnessHex]),
    ]);
    ok(byVerifierKey);
    expect(JSON.parse(byVerifierKey.stdout)).toMatchObject({ ok: true, signedBy: [f.witnessHex] });
    // A bare hex key is taken under the checkpoint's origin, and the witness did not sign under that name.
    expectRefusal(byHex, 1, 'UNTRUSTED_CHECKPOINT', expect);
  });
});

describe('prove --from OLD --to NEW writes a consistency proof, and verify-proof checks it (SPEC §17.4, §17.6)', () => {
  it('prove prints the consistency proof: its header, the hashes, a blank line, then both checkpoints verbatim', async () => {
    const result = await runCli([...reader(), 'prove', '--from', f.file.old, '--to', f.file.current]);
    ok(result);
    expect(result.stdout).toBe(f.text.consistency);
    expect(result.stdout.startsWith('provledger/tlog-consistency@v1\n')).toBe(true);
    expect(result.stdout.endsWith(`\n\n${f.text.old}\n${f.text.current}`)).toBe(true);
  });

  it('verify-proof prints "ok: ORIGIN at size NEW extends its state at size OLD"', async () => {
    const result = await runCli(['verify-proof', f.file.consistency, '--trusted-key', f.ownerHex]);
    ok(result);
    expect(result.stdout).toBe(`ok: ${f.origin} at size ${SIZE.current} extends its state at size ${SIZE.old} (checkpoints signed by ${f.ownerHex})\n`);
  });

  it('verify-proof --json prints {ok, kind: "consistency", origin, oldSize, newSize, oldRoot, newRoot, signedBy}', async () => {
    const result = await runCli(['--json', 'verify-proof', f.file.consistency, '--trusted-key', f.ownerVerifierKey]);
    ok(result);
    const rootOf = (note: string) => Buffer.from(note.split('\n')[2]!, 'base64').toString('hex');
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      kind: 'consistency',
      origin: f.origin,
      oldSize: SIZE.old,
      newSize: SIZE.current,
      oldRoot: rootOf(f.text.old),
      newRoot: rootOf(f.text.current),
      signedBy: [f.ownerHex],
    });
  });
});

describe('verify --checkpoint passes while the ledger still holds what the checkpoint committed to (SPEC §17.5)', () => {
  it('exits 0 for the checkpoint of the ledger as it stands, and for an older one it has grown past', async () => {
    const [current, old] = await Promise.all([
      runCli([...reader(), '--json', 'verify', '--checkpoint', f.file.current]),
      runCli([...reader(), '--json', 'verify', '--checkpoint', f.file.old]),
    ]);
    for (const result of [current, old]) {
      ok(result);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, checked: SIZE.current, failures: [] });
    }
  });

  it('a checkpoint signed by another key is refused (exit 2, CHECKPOINT_UNTRUSTED) unless --trusted-key names that key', async () => {
    const untrusted = await runCli([...reader(), 'verify', '--checkpoint', f.file.witnessOnly]);
    expectRefusal(untrusted, 2, 'CHECKPOINT_UNTRUSTED', expect);
    ok(await runCli([...reader(), 'verify', '--checkpoint', f.file.witnessOnly, '--trusted-key', f.witnessHex]));
  });
});

describe('bundle and verify-bundle: one record\'s history, proved offline (SPEC §17.7)', () => {
  const versionLine = (version: number, op: string, seq: number, by: string) => new RegExp(`^  v${version} ${op}\\tseq ${seq}\\t\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\tsigned by ${by}$`);

  it('bundle prints the bundle (the same as the library\'s), and --out writes it to a new file', async () => {
    const out = join(await mkdtemp(join(f.root, 'out-')), 'mnist.bundle.json');
    const printed = await runCli([...reader(), 'bundle', 'mnist', '--checkpoint', f.file.current]);
    ok(printed);
    expect(printed.stdout).toBe(f.text.bundle);
    expect(JSON.parse(printed.stdout)).toMatchObject({ format: 'provledger-bundle@v1', record: 'mnist', checkpoint: f.text.current });
    // The genesis, the key change that authorised alice, and the three versions of mnist.
    expect((JSON.parse(printed.stdout) as { events: { seq: number }[] }).events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 5]);
    const written = await runCli([...reader(), 'bundle', 'mnist', '--checkpoint', f.file.current, '--out', out]);
    expect({ exit: written.code, stdout: written.stdout }).toEqual({ exit: 0, stdout: '' });
    expect(await readFile(out, 'utf8')).toBe(f.text.bundle);
  });

  it('without --checkpoint, bundle signs one now with --key', async () => {
    const result = await runCli([...asOwner(), 'bundle', 'mnist']);
    ok(result);
    expect(result.stdout).toBe(f.text.bundle);
  });

  it('verify-bundle prints what it proves, one line per version with its author, then what it does not prove', async () => {
    const result = await runCli(['verify-bundle', f.file.bundle, '--trusted-key', f.ownerHex]);
    ok(result);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`ok: record mnist (dataset) of ledger ${f.ledgerId}, as of the checkpoint at size ${SIZE.current} signed by ${f.ownerHex}`);
    expect(lines[1]).toMatch(versionLine(1, 'create', 2, '\\S+ \\(admin\\)'));
    expect(lines[2]).toMatch(versionLine(2, 'update', 3, 'alice \\(writer\\)'));
    expect(lines[3]).toMatch(versionLine(3, 'update', 5, 'alice \\(writer\\)'));
    expect(lines[4]).toMatch(/1 key change\(s\)/);
    expect(lines[5]).toMatch(/^not proved: /);
    expect(lines).toHaveLength(6);
  });

  it('verify-bundle --json prints {ok, ledgerId, size, root, signedBy, record: {id, kind, versions}, upstream, links, keyChanges}', async () => {
    const result = await runCli(['--json', 'verify-bundle', f.file.bundle, '--trusted-key', f.ownerVerifierKey]);
    ok(result);
    const report = JSON.parse(result.stdout) as { record: { versions: { version: number; op: string; seq: number; author: string; data: unknown }[] } } & Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(['keyChanges', 'ledgerId', 'links', 'ok', 'record', 'root', 'signedBy', 'size', 'upstream']);
    expect(report).toMatchObject({ ok: true, ledgerId: f.ledgerId, size: SIZE.current, signedBy: [f.ownerHex], keyChanges: 1, record: { id: 'mnist', kind: 'dataset' }, upstream: [], links: [] });
    expect(report['root']).toMatch(HEX64);
    expect(report.record.versions.map((v) => [v.version, v.op, v.seq, v.author, v.data])).toEqual([
      [1, 'create', 2, f.ownerHex, { files: 4 }],
      [2, 'update', 3, f.aliceHex, { files: 5 }],
      [3, 'update', 5, f.aliceHex, { files: 6 }],
    ]);
  });

  it('a bundle against an older checkpoint holds, and verify-bundle lists, only the versions that checkpoint covers', async () => {
    const bundled = await runCli([...reader(), 'bundle', 'mnist', '--checkpoint', f.file.old]);
    ok(bundled);
    expect(bundled.stdout).toBe(f.text.bundleOld);
    const result = await runCli(['verify-bundle', f.file.bundleOld, '--trusted-key', f.ownerHex]);
    ok(result);
    const versions = result.stdout.split('\n').filter((line) => line.startsWith('  v'));
    expect(versions.map((line) => line.split('\t')[0]!.trim())).toEqual(['v1 create', 'v2 update']);
    expect(result.stdout).toContain(`as of the checkpoint at size ${SIZE.old} `);
  });
});

describe('verify-proof and verify-bundle need no ledger: they run where none exists and create nothing (SPEC §17.6)', () => {
  it('all three kinds of file verify in an empty directory without --ledger or PROVLEDGER_DIR', async () => {
    const { root: empty, cleanup } = await makeTempDir('provledger-no-ledger-');
    try {
      const options: RunOptions = { cwd: empty };
      const results = await Promise.all([
        runCli(['verify-proof', f.file.proof, '--trusted-key', f.ownerHex], options),
        runCli(['verify-proof', f.file.consistency, '--trusted-key', f.ownerHex], options),
        runCli(['verify-bundle', f.file.bundle, '--trusted-key', f.ownerHex], options),
      ]);
      for (const result of results) {
        ok(result);
        expect(result.stdout).toMatch(/^ok: /);
      }
      expect(await readdir(empty)).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});

describe('verify --checkpoint fails (exit 1) when the ledger no longer holds what the checkpoint committed to (SPEC §17.5)', () => {
  const failureCodes = (result: RunResult) => (JSON.parse(result.stdout) as { ok: boolean; failures: { code: string }[] }).failures.map((x) => x.code);

  it('a ledger restored from a backup older than the checkpoint: CHECKPOINT_TRUNCATED, and nothing else is wrong', async () => {
    const [plain, held] = await Promise.all([runCli([...reader(f.at4), '--json', 'verify']), runCli([...reader(f.at4), '--json', 'verify', '--checkpoint', f.file.current])]);
    ok(plain);
    expect({ exit: held.code, stderr: held.stderr }).toEqual({ exit: 1, stderr: '' });
    expect(failureCodes(held)).toEqual(['CHECKPOINT_TRUNCATED']);
  });

  it('a ledger forked and rewritten past the checkpoint: CHECKPOINT_MISMATCH, and nothing else is wrong', async () => {
    const [plain, held, before] = await Promise.all([
      runCli([...reader(f.fork), '--json', 'verify']),
      runCli([...reader(f.fork), '--json', 'verify', '--checkpoint', f.file.current]),
      // The fork still holds the four events it shares with main, so the older checkpoint passes.
      runCli([...reader(f.fork), '--json', 'verify', '--checkpoint', f.file.old]),
    ]);
    ok(plain);
    ok(before);
    expect({ exit: held.code, stderr: held.stderr }).toEqual({ exit: 1, stderr: '' });
    expect(failureCodes(held)).toEqual(['CHECKPOINT_MISMATCH']);
  });

  it('the text report says FAILED and names CHECKPOINT_MISMATCH', async () => {
    const result = await runCli([...reader(f.fork), 'verify', '--checkpoint', f.file.current]);
    expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 1, stderr: '' });
    expect(result.stdout).toMatch(/^FAILED: /);
    expect(result.stdout).toMatch(/\tCHECKPOINT_MISMATCH\t/);
  });

  it('a store whose last event was deleted: CHECKPOINT_TRUNCATED among the failures', async () => {
    const dir = await copyOfLedger(f);
    await editStore(dir, ({ log }) => log.del(seqKey(SIZE.current - 1)));
    const result = await runCli([...reader(dir), '--json', 'verify', '--checkpoint', f.file.current]);
    expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 1, stderr: '' });
    expect(failureCodes(result)).toContain('CHECKPOINT_TRUNCATED');
  });

  it('a store with an event replaced by another validly signed one (the fork\'s): CHECKPOINT_MISMATCH among the failures', async () => {
    const dir = await copyOfLedger(f);
    const forked = await editStore(f.fork, ({ log }) => log.get(seqKey(SIZE.old)));
    expect(forked).toBeDefined();
    await editStore(dir, ({ log }) => log.put(seqKey(SIZE.old), forked!));
    const result = await runCli([...reader(dir), '--json', 'verify', '--checkpoint', f.file.current]);
    expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 1, stderr: '' });
    expect(failureCodes(result)).toContain('CHECKPOINT_MISMATCH');
  });
});

describe('prove and bundle refuse (exit 1, CHECKPOINT_MISMATCH) a checkpoint the ledger no longer matches (SPEC §9, §17.5)', () => {
  it.concurrent.for([
    { name: 'prove on a fork, against the checkpoint of the original', args: () => [...reader(f.fork), 'prove', '1', '--checkpoint', f.file.current] },
    { name: 'prove on a backup older than the checkpoint', args: () => [...reader(f.at4), 'prove', '1', '--checkpoint', f.file.current] },
    { name: 'bundle on a fork, against the checkpoint of the original', args: () => [...reader(f.fork), 'bundle', 'mnist', '--checkpoint', f.file.current] },
    { name: 'prove --from the fork\'s checkpoint on the original', args: () => [...reader(), 'prove', '--from', f.file.forkMid, '--to', f.file.current] },
  ])('$name', async (c, { expect: check }) => {
    expectRefusal(await runCli(c.args()), 1, 'CHECKPOINT_MISMATCH', check);
  });
});

/** Edits of a correct file that make it prove something false: verify-proof/verify-bundle must exit 1 with the code. */
interface FalseProof {
  readonly name: string;
  readonly command: 'verify-proof' | 'verify-bundle';
  readonly content: (x: Fixture) => string;
  readonly extra?: (x: Fixture) => string[];
  /** Default: the owner's hex key. */
  readonly trust?: (x: Fixture) => string;
  readonly code: string;
}

const linesOf = (text: string) => text.split('\n');
/** Replaces line `index` (0-based) of the text. */
const withLine = (text: string, index: number, line: string) => linesOf(text).map((l, i) => (i === index ? line : l)).join('\n');
const flipBase64 = (hash: string) => {
  const bytes = Buffer.from(hash, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  return bytes.toString('base64');
};
interface BundleJson {
  format: string;
  record: string;
  checkpoint: string;
  events: { seq: number; event: string; proof: string[] }[];
}
const editBundle = (text: string, edit: (bundle: BundleJson) => void) => {
  const bundle = JSON.parse(text) as BundleJson;
  edit(bundle);
  return `${JSON.stringify(bundle, null, 2)}\n`;
};
/** The hand-spliced consistency proof of a fork: MID→CURRENT's hashes, with the fork's checkpoint at size 5 as the older one. */
const splicedFork = (x: Fixture) => x.text.midConsistency.replace(x.text.mid, x.text.forkMid);

const FALSE_PROOFS: readonly FalseProof[] = [
  { name: 'an inclusion proof checked with the wrong trusted key', command: 'verify-proof', content: (x) => x.text.proof, trust: (x) => x.strangerHex, code: 'UNTRUSTED_CHECKPOINT' },
  { name: 'an inclusion proof checked with the owner key under another name', command: 'verify-proof', content: (x) => x.text.proof, trust: (x) => formatVerifierKey({ name: 'someone.else/log', publicKey: Buffer.from(x.ownerHex, 'hex') }), code: 'UNTRUSTED_CHECKPOINT' },
  { name: 'an inclusion proof with a changed hash line', command: 'verify-proof', content: (x) => withLine(x.text.proof, 4, flipBase64(linesOf(x.text.proof)[4]!)), code: 'INCLUSION_FAILED' },
  { name: 'an inclusion proof with a hash line left out', command: 'verify-proof', content: (x) => withLine(x.text.proof, 5, '').replace('\n\n\n', '\n\n'), code: 'INCLUSION_FAILED' },
  { name: 'an inclusion proof whose index names another event', command: 'verify-proof', content: (x) => x.text.proof.replace(`\nindex ${PROVED}\n`, `\nindex ${PROVED - 1}\n`), code: 'EVENT_INVALID' },
  { name: 'an inclusion proof whose checkpoint signature is broken', command: 'verify-proof', content: (x) => x.text.proof.replace(x.text.current, breakSignature(x.text.current)), code: 'UNTRUSTED_CHECKPOINT' },
  { name: 'an inclusion proof checked against a different checkpoint of the ledger', command: 'verify-proof', content: (x) => x.text.proof, extra: (x) => ['--checkpoint', x.file.old], code: 'CHECKPOINT_MISMATCH' },
  { name: 'a consistency proof between the checkpoints of two forks (hand-spliced)', command: 'verify-proof', content: splicedFork, code: 'CONSISTENCY_FAILED' },
  { name: 'a consistency proof with a changed hash line', command: 'verify-proof', content: (x) => withLine(x.text.consistency, 1, flipBase64(linesOf(x.text.consistency)[1]!)), code: 'CONSISTENCY_FAILED' },
  { name: 'a consistency proof with its checkpoints swapped', command: 'verify-proof', content: (x) => x.text.consistency.replace(`${x.text.old}\n${x.text.current}`, `${x.text.current}\n${x.text.old}`), code: 'CONSISTENCY_FAILED' },
  { name: 'a bundle checked with the wrong trusted key', command: 'verify-bundle', content: (x) => x.text.bundle, trust: (x) => x.strangerHex, code: 'UNTRUSTED_CHECKPOINT' },
  { name: 'a bundle with a version left out', command: 'verify-bundle', content: (x) => editBundle(x.text.bundle, (b) => void (b.events = b.events.filter((e) => e.seq !== 3))), code: 'HISTORY_INCOMPLETE' },
  { name: 'a bundle without the genesis', command: 'verify-bundle', content: (x) => editBundle(x.text.bundle, (b) => void (b.events = b.events.filter((e) => e.seq !== 0))), code: 'HISTORY_INCOMPLETE' },
  { name: 'a bundle without the key change that authorised alice', command: 'verify-bundle', content: (x) => editBundle(x.text.bundle, (b) => void (b.events = b.events.filter((e) => e.seq !== 1))), code: 'AUTHOR_UNAUTHORIZED' },
  { name: 'a bundle with a changed proof hash', command: 'verify-bundle', content: (x) => editBundle(x.text.bundle, (b) => void (b.events[2]!.proof[0] = flipBase64(b.events[2]!.proof[0]!))), code: 'INCLUSION_FAILED' },
  { name: 'a bundle whose checkpoint was swapped for the fork\'s (same ledger, same signer)', command: 'verify-bundle', content: (x) => editBundle(x.text.bundle, (b) => void (b.checkpoint = x.text.forkMid)), code: 'INCLUSION_FAILED' },
];

describe('verify-proof and verify-bundle fail (exit 1, "not proved", the verdict code) for a file that does not prove what it claims (SPEC §17.6)', () => {
  it.concurrent.for(FALSE_PROOFS)('$name → $code', async (c, { expect: check }) => {
    const path = await input(`${c.command}.txt`, c.content(f));
    const result = await runCli([c.command, path, '--trusted-key', (c.trust ?? ((x) => x.ownerHex))(f), ...(c.extra?.(f) ?? [])]);
    expectRefusal(result, 1, c.code, check);
    check(result.stderr).toMatch(/^provledger: not proved: /);
  });

  it('with --json, the verdict is also printed on stdout as {"ok":false,"code","message"}', async () => {
    const path = await input('spliced.txt', splicedFork(f));
    const result = await runCli(['--json', 'verify-proof', path, '--trusted-key', f.ownerHex]);
    expect({ exit: result.code, code: errorCodeOf(result.stderr) }).toEqual({ exit: 1, code: 'CONSISTENCY_FAILED' });
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, code: 'CONSISTENCY_FAILED', message: expect.any(String) as string });
  });
});

/** A ledger command given bad input: refused with exit 2 and the code, and the ledger's store unchanged. */
interface BadLedgerInput {
  readonly name: string;
  readonly args: (dir: string, x: Fixture) => string[];
  readonly code: string;
  /**
   * False when the input can be refused before the ledger is opened (SPEC §10.2): then not one byte of the
   * ledger directory may change, LevelDB's own files included.
   */
  readonly opens: boolean;
}

const readerOf = (dir: string) => ['--ledger', dir];
const ownerOf = (dir: string, x: Fixture) => ['--ledger', dir, '--key', x.ownerKey];

const BAD_LEDGER_INPUT: readonly BadLedgerInput[] = [
  // checkpoint
  { name: 'checkpoint without a key', args: (d) => [...readerOf(d), 'checkpoint'], code: 'USAGE', opens: false },
  { name: 'checkpoint with a key that is no key of the ledger', args: (d, x) => ['--ledger', d, '--key', x.strangerKey, 'checkpoint'], code: 'KEY_NOT_AUTHORIZED', opens: true },
  { name: 'checkpoint --out into a missing directory', args: (d, x) => [...ownerOf(d, x), 'checkpoint', '--out', join(x.file.missing, 'x.checkpoint')], code: 'INVALID_ARGUMENT', opens: true },

  // prove: usage
  { name: 'prove without SEQ or --from/--to', args: (d) => [...readerOf(d), 'prove'], code: 'USAGE', opens: false },
  { name: 'prove SEQ without --checkpoint or a key', args: (d) => [...readerOf(d), 'prove', '1'], code: 'USAGE', opens: false },
  { name: 'prove with both SEQ and --from/--to', args: (d, x) => [...readerOf(d), 'prove', '1', '--from', x.file.old, '--to', x.file.current], code: 'USAGE', opens: false },
  { name: 'prove --from without --to', args: (d, x) => [...readerOf(d), 'prove', '--from', x.file.old], code: 'USAGE', opens: false },
  { name: 'prove x (SEQ not a number)', args: (d, x) => [...readerOf(d), 'prove', 'x', '--checkpoint', x.file.current], code: 'INVALID_ARGUMENT', opens: false },

  // prove: seqs
  { name: 'prove a SEQ beyond the checkpoint', args: (d, x) => [...readerOf(d), 'prove', String(SIZE.old), '--checkpoint', x.file.old], code: 'INVALID_ARGUMENT', opens: true },
  { name: 'prove a SEQ beyond the ledger, against a checkpoint', args: (d, x) => [...readerOf(d), 'prove', '99', '--checkpoint', x.file.current], code: 'EVENT_NOT_FOUND', opens: true },
  { name: 'prove a SEQ beyond the ledger, signing a checkpoint now', args: (d, x) => [...ownerOf(d, x), 'prove', '99'], code: 'EVENT_NOT_FOUND', opens: true },
  { name: 'prove --from the newer --to the older checkpoint', args: (d, x) => [...readerOf(d), 'prove', '--from', x.file.current, '--to', x.file.old], code: 'INVALID_ARGUMENT', opens: true },

  // checkpoint files: unreadable
  { name: 'prove --checkpoint of a missing file', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.missing], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'prove --checkpoint of a file that is not UTF-8', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.binary], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'prove --from a missing file', args: (d, x) => [...readerOf(d), 'prove', '--from', x.file.missing, '--to', x.file.current], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'bundle --checkpoint of a missing file', args: (d, x) => [...readerOf(d), 'bundle', 'mnist', '--checkpoint', x.file.missing], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'verify --checkpoint of a missing file', args: (d, x) => [...readerOf(d), 'verify', '--checkpoint', x.file.missing], code: 'INVALID_ARGUMENT', opens: false },

  // checkpoint files: not a checkpoint of this ledger
  { name: 'prove --checkpoint of an empty file', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.empty], code: 'CHECKPOINT_MALFORMED', opens: true },
  { name: 'prove --checkpoint of garbage', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.garbage], code: 'CHECKPOINT_MALFORMED', opens: true },
  { name: 'prove --checkpoint of a proof (not a checkpoint)', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.proof], code: 'CHECKPOINT_MALFORMED', opens: true },
  { name: 'prove --checkpoint of another ledger', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.foreign], code: 'CHECKPOINT_FOREIGN', opens: true },
  { name: 'prove --checkpoint with a broken signature', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.brokenSignature], code: 'CHECKPOINT_UNTRUSTED', opens: true },
  { name: 'prove --checkpoint signed by a key that is not the ledger\'s', args: (d, x) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.witnessOnly], code: 'CHECKPOINT_UNTRUSTED', opens: true },
  { name: 'prove --from garbage', args: (d, x) => [...readerOf(d), 'prove', '--from', x.file.garbage, '--to', x.file.current], code: 'CHECKPOINT_MALFORMED', opens: true },
  { name: 'prove --to another ledger\'s checkpoint', args: (d, x) => [...readerOf(d), 'prove', '--from', x.file.old, '--to', x.file.foreign], code: 'CHECKPOINT_FOREIGN', opens: true },
  { name: 'verify --checkpoint of garbage', args: (d, x) => [...readerOf(d), 'verify', '--checkpoint', x.file.garbage], code: 'CHECKPOINT_MALFORMED', opens: true },
  { name: 'verify --checkpoint of another ledger', args: (d, x) => [...readerOf(d), 'verify', '--checkpoint', x.file.foreign], code: 'CHECKPOINT_FOREIGN', opens: true },
  { name: 'verify --checkpoint with a broken signature', args: (d, x) => [...readerOf(d), 'verify', '--checkpoint', x.file.brokenSignature], code: 'CHECKPOINT_UNTRUSTED', opens: true },
  { name: 'verify --checkpoint signed by another key, trusting a third', args: (d, x) => [...readerOf(d), 'verify', '--checkpoint', x.file.witnessOnly, '--trusted-key', x.strangerHex], code: 'CHECKPOINT_UNTRUSTED', opens: true },
  { name: 'verify --checkpoint --trusted-key that is neither hex nor a verifier key', args: (d, x) => [...readerOf(d), 'verify', '--checkpoint', x.file.current, '--trusted-key', 'nothex'], code: 'INVALID_ARGUMENT', opens: false },
  { name: 'bundle --checkpoint of another ledger', args: (d, x) => [...readerOf(d), 'bundle', 'mnist', '--checkpoint', x.file.foreign], code: 'CHECKPOINT_FOREIGN', opens: true },

  // bundle
  { name: 'bundle of an unknown record', args: (d, x) => [...readerOf(d), 'bundle', 'nope', '--checkpoint', x.file.current], code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'bundle of a record created after the checkpoint', args: (d, x) => [...readerOf(d), 'bundle', 'resnet', '--checkpoint', x.file.old], code: 'RECORD_NOT_FOUND', opens: true },
  { name: 'bundle of an invalid record id', args: (d, x) => [...readerOf(d), 'bundle', 'a/b', '--checkpoint', x.file.current], code: 'INVALID_RECORD_ID', opens: true },
  { name: 'bundle without --checkpoint or a key', args: (d) => [...readerOf(d), 'bundle', 'mnist'], code: 'USAGE', opens: false },
];

/** --out onto an existing file: refused, and the file keeps its bytes. */
const OUT_OVER_EXISTING: readonly { name: string; args: (dir: string, x: Fixture, out: string) => string[] }[] = [
  { name: 'checkpoint --out', args: (d, x, out) => [...ownerOf(d, x), 'checkpoint', '--out', out] },
  { name: 'prove SEQ --out', args: (d, x, out) => [...readerOf(d), 'prove', '1', '--checkpoint', x.file.current, '--out', out] },
  { name: 'bundle --out', args: (d, x, out) => [...readerOf(d), 'bundle', 'mnist', '--checkpoint', x.file.current, '--out', out] },
];

describe('ledger commands refuse bad input with exit 2 and one coded line, and leave the ledger unchanged (SPEC §10.2)', () => {
  it.concurrent.for(BAD_LEDGER_INPUT)('$name → $code', async (c, { expect: check }) => {
    const dir = await copyOfLedger(f);
    const before = await filesOf(dir);
    const result = await runCli(c.args(dir, f));
    expectRefusal(result, 2, c.code, check);
    if (!c.opens) check(await filesOf(dir), 'the ledger directory changed: was it opened?').toEqual(before);
    check(await storeDigest(dir)).toBe(f.storeDigest);
  });

  it.concurrent.for(OUT_OVER_EXISTING)('$name onto an existing file → FILE_EXISTS, the file untouched', async (c, { expect: check }) => {
    const dir = await copyOfLedger(f);
    const out = await input('existing.txt', 'keep me\n');
    const result = await runCli(c.args(dir, f, out));
    expectRefusal(result, 2, 'FILE_EXISTS', check);
    check(await readFile(out, 'utf8')).toBe('keep me\n');
    check(await storeDigest(dir)).toBe(f.storeDigest);
  });
});

/** verify-proof / verify-bundle given bad input: exit 2 and the code; they need no ledger, so none is given. */
interface BadOfflineInput {
  readonly name: string;
  readonly args: (x: Fixture) => string[];
  readonly code: string;
}

const BAD_OFFLINE_INPUT: readonly BadOfflineInput[] = [
  // trust
  { name: 'verify-proof without --trusted-key', args: (x) => ['verify-proof', x.file.proof], code: 'USAGE' },
  { name: 'verify-bundle without --trusted-key', args: (x) => ['verify-bundle', x.file.bundle], code: 'USAGE' },
  { name: 'verify-proof --trusted-key that is neither hex nor a verifier key', args: (x) => ['verify-proof', x.file.proof, '--trusted-key', 'nothex'], code: 'INVALID_ARGUMENT' },
  { name: 'verify-proof --trusted-key of 63 hex digits', args: (x) => ['verify-proof', x.file.proof, '--trusted-key', x.ownerHex.slice(1)], code: 'INVALID_ARGUMENT' },
  { name: 'verify-proof --trusted-key a+b+c', args: (x) => ['verify-proof', x.file.proof, '--trusted-key', 'a+b+c'], code: 'KEY_INVALID' },
  { name: 'verify-proof --trusted-key with a key id that does not match', args: (x) => ['verify-proof', x.file.proof, '--trusted-key', x.ownerVerifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')], code: 'KEY_INVALID' },

  // files
  { name: 'verify-proof of a missing file', args: (x) => ['verify-proof', x.file.missing, '--trusted-key', x.ownerHex], code: 'INVALID_ARGUMENT' },
  { name: 'verify-proof of a directory', args: (x) => ['verify-proof', x.file.directory, '--trusted-key', x.ownerHex], code: 'INVALID_ARGUMENT' },
  { name: 'verify-proof of a file that is not UTF-8', args: (x) => ['verify-proof', x.file.binary, '--trusted-key', x.ownerHex], code: 'INVALID_ARGUMENT' },
  { name: 'verify-proof of a file over 2 MiB', args: (x) => ['verify-proof', x.file.big, '--trusted-key', x.ownerHex], code: 'INVALID_ARGUMENT' },
  { name: 'verify-proof --checkpoint of a missing file', args: (x) => ['verify-proof', x.file.proof, '--checkpoint', x.file.missing, '--trusted-key', x.ownerHex], code: 'INVALID_ARGUMENT' },
  { name: 'verify-bundle of a missing file', args: (x) => ['verify-bundle', x.file.missing, '--trusted-key', x.ownerHex], code: 'INVALID_ARGUMENT' },

  // not a proof
  { name: 'verify-proof of an empty file', args: (x) => ['verify-proof', x.file.empty, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-proof of a proof with a wrong first line', args: (x) => ['verify-proof', x.file.wrongHeader, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-proof of a proof with CRLF line ends', args: (x) => ['verify-proof', x.file.crlf, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-proof of a checkpoint', args: (x) => ['verify-proof', x.file.current, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-proof of a bundle', args: (x) => ['verify-proof', x.file.bundle, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-proof of a proof whose index is not a number', args: (x) => ['verify-proof', x.file.badIndex, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-proof --checkpoint of garbage', args: (x) => ['verify-proof', x.file.proof, '--checkpoint', x.file.garbage, '--trusted-key', x.ownerHex], code: 'CHECKPOINT_MALFORMED' },
  { name: 'verify-proof of a consistency proof with --checkpoint', args: (x) => ['verify-proof', x.file.consistency, '--checkpoint', x.file.current, '--trusted-key', x.ownerHex], code: 'USAGE' },
  { name: 'verify-bundle of an empty file', args: (x) => ['verify-bundle', x.file.empty, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
  { name: 'verify-bundle of a proof', args: (x) => ['verify-bundle', x.file.proof, '--trusted-key', x.ownerHex], code: 'MALFORMED' },
];

describe('verify-proof and verify-bundle refuse bad input with exit 2 and one coded line, needing no ledger (SPEC §10.2, §17.6)', () => {
  it.concurrent.for(BAD_OFFLINE_INPUT)('$name → $code', async (c, { expect: check }) => {
    const { root: empty, cleanup } = await makeTempDir('provledger-no-ledger-');
    try {
      expectRefusal(await runCli(c.args(f), { cwd: empty }), 2, c.code, check);
      check(await readdir(empty)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  // A weak trusted key is refused as the key it is, before any file is read.
  it.concurrent.for([
    { name: 'verify-proof --trusted-key of a small-order point (all zeros)', command: 'verify-proof', file: 'proof' },
    { name: 'verify-bundle --trusted-key of a small-order point (all zeros)', command: 'verify-bundle', file: 'bundle' },
  ] as const)('$name → KEY_WEAK, as verify --checkpoint says', async (c, { expect: check }) => {
    expectRefusal(await runCli([c.command, f.file[c.file], '--trusted-key', '0'.repeat(64)]), 2, 'KEY_WEAK', check);
  });
});

/** The exit code each code that a cut file may give must come with. */
const EXIT_OF_CODE: Record<string, 1 | 2> = {
  PROOF_MALFORMED: 2,
  MALFORMED: 2,
  INVALID_ARGUMENT: 2,
  UNTRUSTED_CHECKPOINT: 1,
  CHECKPOINT_MISMATCH: 1,
  INCLUSION_FAILED: 1,
  CONSISTENCY_FAILED: 1,
  EVENT_INVALID: 1,
  HISTORY_INCOMPLETE: 1,
  AUTHOR_UNAUTHORIZED: 1,
};

const CUTS: readonly { name: string; command: 'verify-proof' | 'verify-bundle'; text: (x: Fixture) => string; at: (length: number) => number }[] = [
  ...[0.1, 0.5, 0.75].map((share) => ({ name: `an inclusion proof cut at ${share * 100}%`, command: 'verify-proof' as const, text: (x: Fixture) => x.text.proof, at: (n: number) => Math.floor(n * share) })),
  { name: 'an inclusion proof without its last newline', command: 'verify-proof', text: (x) => x.text.proof, at: (n) => n - 1 },
  ...[0.5].map((share) => ({ name: `a consistency proof cut at ${share * 100}%`, command: 'verify-proof' as const, text: (x: Fixture) => x.text.consistency, at: (n: number) => Math.floor(n * share) })),
  { name: 'a bundle cut in the middle', command: 'verify-bundle', text: (x) => x.text.bundle, at: (n) => Math.floor(n / 2) },
];

describe('a file cut short is refused, never crashes: exit 1 or 2 as its code says, never a stack trace or exit 70', () => {
  it.concurrent.for(CUTS)('$name', async (c, { expect: check }) => {
    const whole = c.text(f);
    const path = await input('cut.txt', whole.slice(0, c.at(whole.length)));
    const result = await runCli([c.command, path, '--trusted-key', f.ownerHex]);
    const code = errorCodeOf(result.stderr);
    check(code === null ? undefined : EXIT_OF_CODE[code], `stderr: ${result.stderr}`).toBeDefined();
    check({ exit: result.code, stdout: result.stdout }).toEqual({ exit: EXIT_OF_CODE[code!], stdout: '' });
    check(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the transparency commands only read the ledger', () => {
  it('after every happy path above, the main ledger\'s store holds exactly what it held before', async () => {
    expect(await storeDigest(f.main)).toBe(f.storeDigest);
  });
});
