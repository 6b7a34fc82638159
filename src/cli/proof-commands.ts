/**
 * The transparency commands of SPEC §18: `checkpoint`, `prove`, `bundle` (which read the ledger) and
 * `verify-proof`, `verify-bundle` (which need no ledger: they trust only the keys given with --trusted-key).
 * Each parses its flags, calls one library function and prints the result.
 */
import { constants } from 'node:fs';
import { access, open, writeFile, type FileHandle } from 'node:fs/promises';
import type { Command } from 'commander';
import { toHex } from '../bytes.js';
import { LedgerError } from '../errors.js';
import { MAX_BUNDLE_BYTES, verifyBundle } from '../bundle.js';
import { VerifyingKey } from '../crypto/ed25519.js';
import { isLedgerError } from '../errors.js';
import { assertRecordId } from '../domain/records.js';
import { parseCheckpoint, parseSignedNote, parseVerifierKey } from '../merkle/checkpoint.js';
import { CONSISTENCY_HEADER, MAX_PROOF_BYTES } from '../merkle/proof-file.js';
import { verifyConsistencyProof, verifyInclusionProof, type TrustedKey, type Verdict } from '../merkle/verify-proof.js';
import { flagsOf, print, withLedger, type Io } from './context.js';
import { EXIT } from './exit-codes.js';
import { parseSeq } from './input.js';

/** Reads a text file the user named, strictly UTF-8 and bounded; a missing or oversized file is bad input. */
export async function readTextFile(path: string, what: string, maxBytes: number): Promise<string> {
  let bytes: Buffer;
  let file: FileHandle | undefined;
  try {
    // Non-blocking, a regular file, and no more than the limit read: a FIFO or /dev/zero cannot hang or fill memory.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await file.stat();
    if (!info.isFile()) throw new LedgerError('INVALID_ARGUMENT', `${what} ${path} is not a regular file`);
    if (info.size > maxBytes) throw new LedgerError('INVALID_ARGUMENT', `${what} ${path} is larger than ${maxBytes} bytes; it is not a provledger file`);
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw new LedgerError('INVALID_ARGUMENT', `${what} ${path} is larger than ${maxBytes} bytes; it is not a provledger file`);
    bytes = buffer.subarray(0, bytesRead);
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError('INVALID_ARGUMENT', `cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`, { cause: error });
  } finally {
    await file?.close();
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new LedgerError('INVALID_ARGUMENT', `${what} ${path} is not UTF-8 text; it is not a provledger file`);
  }
}

/**
 * Reads a checkpoint file and checks its form before the ledger is opened (SPEC §10.2), naming the file in the
 * error, since a command may take two checkpoints.
 */
export async function readCheckpointFile(path: string, flag: string): Promise<string> {
  const text = await readTextFile(path, `the checkpoint (${flag})`, MAX_PROOF_BYTES);
  try {
    parseCheckpoint(parseSignedNote(text).text);
  } catch (error) {
    if (isLedgerError(error)) throw new LedgerError(error.code, `the checkpoint ${path} (${flag}) is not valid: ${error.message}`, { cause: error, details: error.details });
    throw error;
  }
  return text;
}

/** Refuses an --out path that exists before any work is done; the write itself still never replaces a file. */
export async function assertFreeOut(out: string | undefined): Promise<void> {
  if (out === undefined) return;
  const exists = await access(out).then(
    () => true,
    () => false,
  );
  if (exists) throw new LedgerError('FILE_EXISTS', `${out} already exists; choose another --out path`);
}

/** Writes output to --out (never over an existing file) or to stdout. */
export async function emit(io: Io, text: string, out: string | undefined): Promise<void> {
  if (out === undefined) {
    io.stdout.write(text);
    return;
  }
  try {
    await writeFile(out, text, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new LedgerError('FILE_EXISTS', `${out} already exists; choose another --out path`);
    throw new LedgerError('INVALID_ARGUMENT', `cannot write ${out} (${code ?? 'error'}); check the --out path`, { cause: error });
  }
}

/** --trusted-key: 64 hex characters, or a signed-note verifier key NAME+ID+BASE64. */
export function trustedKeyArgument(value: string, previous: TrustedKey[] = []): TrustedKey[] {
  if (/^[0-9a-fA-F]{64}$/.test(value)) {
    const publicKey = new Uint8Array(Buffer.from(value, 'hex'));
    VerifyingKey.fromBytes(publicKey); // a weak or invalid key is refused here, as the key it is (KEY_WEAK, KEY_INVALID)
    return [...previous, { publicKey }];
  }
  if (value.includes('+')) {
    const verifier = parseVerifierKey(value);
    return [...previous, { name: verifier.name, publicKey: verifier.publicKey }];
  }
  throw new LedgerError('INVALID_ARGUMENT', `--trusted-key must be a public key in hex (64 characters) or a verifier key NAME+ID+BASE64, got ${JSON.stringify(value.slice(0, 80))}`);
}

export function requireTrust(keys: readonly TrustedKey[] | undefined): readonly TrustedKey[] {
  if (keys === undefined || keys.length === 0) {
    throw new LedgerError('USAGE', 'pass --trusted-key PUBKEY (the ledger key you trust, as printed by `provledger keygen` or `key list`); without it a proof shows only that it agrees with itself');
  }
  return keys;
}

/** A verdict's outcome as exit code and output: one line on stderr for a failure, as every error is. */
export function report<T>(io: Io, json: boolean, verdict: Verdict<T>, success: (v: T) => string, toJson: (v: T) => unknown): number {
  if (verdict.ok) {
    print(io, json ? JSON.stringify({ ok: true, ...(toJson(verdict) as object) }) : success(verdict));
    return EXIT.OK;
  }
  if (json) print(io, JSON.stringify({ ok: false, code: verdict.code, message: verdict.message }));
  io.stderr.write(`provledger: ${verdict.code === 'MALFORMED' ? '' : 'not proved: '}${verdict.message} [${verdict.code}]\n`);
  return verdict.code === 'MALFORMED' ? EXIT.BAD_INPUT : EXIT.VERIFY_FAILED;
}

export const TRUST_HELP = 'a key trusted to sign checkpoints: hex public key or NAME+ID+BASE64 verifier key (repeatable)';

export function registerProofCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('checkpoint')
    .description('sign a checkpoint of the ledger as it stands (C2SP signed note: ledger, size, Merkle root, chain head)')
    .option('--out <file>', 'write the checkpoint here (never over an existing file) instead of stdout')
    .action(async (options: { out?: string }, command: Command) => {
      const global = flagsOf(command);
      await assertFreeOut(options.out);
      const text = await withLedger(global, io, true, (ledger) => ledger.checkpoint());
      await emit(io, text, options.out);
    });

  program
    .command('prove')
    .description('an inclusion proof of event SEQ against a checkpoint, or with --from/--to a consistency proof between two checkpoints')
    .argument('[seq]', 'the event to prove')
    .option('--checkpoint <file>', 'the checkpoint to prove against (default: sign one now with --key)')
    .option('--from <file>', 'the older checkpoint of a consistency proof')
    .option('--to <file>', 'the newer checkpoint of a consistency proof')
    .option('--out <file>', 'write the proof here (never over an existing file) instead of stdout')
    .action(async (seqText: string | undefined, options: { checkpoint?: string; from?: string; to?: string; out?: string }, command: Command) => {
      const global = flagsOf(command);
      const consistency = options.from !== undefined || options.to !== undefined;
      if (consistency && (seqText !== undefined || options.checkpoint !== undefined)) throw new LedgerError('USAGE', 'give either SEQ [--checkpoint FILE] for an inclusion proof, or --from FILE --to FILE for a consistency proof, not both');
      if (consistency) {
        if (options.from === undefined || options.to === undefined) throw new LedgerError('USAGE', 'a consistency proof needs both --from OLD.checkpoint and --to NEW.checkpoint');
        const older = await readCheckpointFile(options.from, '--from');
        const newer = await readCheckpointFile(options.to, '--to');
        await assertFreeOut(options.out);
        const proof = await withLedger(global, io, false, (ledger) => ledger.proveConsistency(older, newer));
        return emit(io, proof, options.out);
      }
      if (seqText === undefined) throw new LedgerError('USAGE', 'say which event to prove (`provledger prove SEQ`), or give --from and --to for a consistency proof');
      const seq = parseSeq(seqText, 'SEQ');
      const checkpoint = options.checkpoint === undefined ? undefined : await readCheckpointFile(options.checkpoint, '--checkpoint');
      await assertFreeOut(options.out);
      // Without a checkpoint, one is signed now, which needs the key.
      const proof = await withLedger(global, io, checkpoint === undefined, (ledger) => ledger.proveInclusion(seq, checkpoint));
      return emit(io, proof, options.out);
    });

  program
    .command('verify-proof')
    .description('check an inclusion or consistency proof offline, without the ledger; exit 1 if it does not prove what it claims')
    .argument('<proof>', 'the proof file, as written by `provledger prove`')
    .option('--checkpoint <file>', 'a checkpoint you hold: the inclusion proof must be against the same tree')
    .option('--trusted-key <key>', TRUST_HELP, trustedKeyArgument)
    .action(async (path: string, options: { checkpoint?: string; trustedKey?: TrustedKey[] }, command: Command) => {
      const json = flagsOf(command).json === true;
      const trustedKeys = requireTrust(options.trustedKey);
      const text = await readTextFile(path, 'the proof', MAX_PROOF_BYTES);
      const held = options.checkpoint === undefined ? undefined : await readCheckpointFile(options.checkpoint, '--checkpoint');
      // The consistency format is ours; anything else is read as a C2SP tlog-proof, whose parser says what is wrong.
      if (text.startsWith(`${CONSISTENCY_HEADER}\n`)) {
        if (held !== undefined) throw new LedgerError('USAGE', '--checkpoint applies to inclusion proofs; a consistency proof carries both of its checkpoints');
        const verdict = verifyConsistencyProof(text, { trustedKeys });
        return setExit(
          report(io, json, verdict, (v) => `ok: ${v.newer.checkpoint.origin} at size ${v.newer.checkpoint.size} extends its state at size ${v.older.checkpoint.size} (checkpoints signed by ${[...new Set([...v.older.signedBy, ...v.newer.signedBy])].join(', ')})`, (v) => ({
            kind: 'consistency',
            origin: v.newer.checkpoint.origin,
            oldSize: v.older.checkpoint.size,
            newSize: v.newer.checkpoint.size,
            oldRoot: toHex(v.older.checkpoint.rootHash),
            newRoot: toHex(v.newer.checkpoint.rootHash),
            signedBy: [...new Set([...v.older.signedBy, ...v.newer.signedBy])],
          })),
        );
      }
      const verdict = verifyInclusionProof(text, { trustedKeys, checkpoint: held });
      setExit(
        report(
          io,
          json,
          verdict,
          (v) => `ok: event ${v.index}${v.event === null ? '' : ` (${v.event.type}, ${v.event.hash}, signed by ${v.event.author}, ${new Date(v.event.timeMs).toISOString()})`} is in ${v.checkpoint.origin} at size ${v.checkpoint.size} (checkpoint signed by ${v.signedBy.join(', ')})`,
          (v) => ({ kind: 'inclusion', origin: v.checkpoint.origin, size: v.checkpoint.size, root: toHex(v.checkpoint.rootHash), index: v.index, event: v.event, signedBy: v.signedBy }),
        ),
      );
    });

  program
    .command('bundle')
    .description("a self-contained audit bundle of one record: its events, the key changes, each with an inclusion proof, and the checkpoint")
    .argument('<record-id>', 'the record')
    .option('--checkpoint <file>', 'the checkpoint to prove against (default: sign one now with --key)')
    .option('--lineage', 'also carry every record upstream of it (as of the checkpoint) and the links between them')
    .option('--out <file>', 'write the bundle here (never over an existing file) instead of stdout')
    .action(async (id: string, options: { checkpoint?: string; lineage?: boolean; out?: string }, command: Command) => {
      const global = flagsOf(command);
      assertRecordId(id);
      const checkpoint = options.checkpoint === undefined ? undefined : await readCheckpointFile(options.checkpoint, '--checkpoint');
      await assertFreeOut(options.out);
      const bundle = await withLedger(global, io, checkpoint === undefined, (ledger) => ledger.bundle(id, { checkpoint, lineage: options.lineage === true }));
      await emit(io, bundle, options.out);
    });

  program
    .command('verify-bundle')
    .description('check an audit bundle offline, without the ledger, and print what it proves; exit 1 if it does not')
    .argument('<file>', 'the bundle, as written by `provledger bundle`')
    .option('--trusted-key <key>', TRUST_HELP, trustedKeyArgument)
    .action(async (path: string, options: { trustedKey?: TrustedKey[] }, command: Command) => {
      const json = flagsOf(command).json === true;
      const trustedKeys = requireTrust(options.trustedKey);
      const text = await readTextFile(path, 'the bundle', MAX_BUNDLE_BYTES);
      const verdict = verifyBundle(text, { trustedKeys });
      setExit(
        report(
          io,
          json,
          verdict,
          (v) =>
            [
              `ok: record ${v.record.id} (${v.record.kind}) of ledger ${v.ledgerId}, as of the checkpoint at size ${v.checkpoint.size} signed by ${v.signedBy.join(', ')}`,
              ...v.record.versions.map((ver) => `  v${ver.version} ${ver.op}\tseq ${ver.seq}\t${new Date(ver.timeMs).toISOString()}\tsigned by ${ver.authorLabel}`),
              ...[v.record, ...v.upstream].flatMap((r) => r.invalidations.map((i) => `INVALID: ${r.id}${i.version === undefined ? '' : `@${i.version}`} (seq ${i.seq}): ${JSON.stringify(i.reason)}`)),
              ...v.upstream.flatMap((up) => [
                `upstream: ${up.id} (${up.kind})`,
                ...up.versions.map((ver) => `  v${ver.version} ${ver.op}\tseq ${ver.seq}\t${new Date(ver.timeMs).toISOString()}\tsigned by ${ver.authorLabel}`),
              ]),
              ...v.links.map((l) => `link: ${l.from} ${l.rel}${l.role === undefined ? '' : ` (${[l.role, l.split].filter((x) => x !== undefined).join(', ')})`} ${l.to}`),
              `each event is in the checkpoint's tree, validly signed, and its author was allowed to write then (judged by the genesis and ${v.keyChanges} key change(s) in the bundle).`,
              'not proved: that the bundle holds every key change or the record\'s latest version; compare with a newer checkpoint (SPEC §17.7).',
            ].join('\n'),
          (v) => ({ ledgerId: v.ledgerId, size: v.checkpoint.size, root: toHex(v.checkpoint.rootHash), signedBy: v.signedBy, record: v.record, upstream: v.upstream, links: v.links, keyChanges: v.keyChanges }),
        ),
      );
    });
}
