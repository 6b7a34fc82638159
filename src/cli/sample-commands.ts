/**
 * The sample-set commands of SPEC §22: `sample-set add`, `sample-set prove`, `sample-set verify-proof` (which
 * needs no ledger). Each parses its flags, calls one library function and prints the result.
 */
import type { Command } from 'commander';
import { readSampleFile } from '../artifacts/sample-file.js';
import { fromHex } from '../bytes.js';
import { assertRecordId, ID_PATTERN } from '../domain/records.js';
import { LedgerError } from '../errors.js';
import { MAX_SAMPLE_PROOF_BYTES, verifySampleProof } from '../merkle/sample-proof.js';
import type { TrustedKey } from '../merkle/verify-proof.js';
import { flagsOf, ledgerOptions, print, withLedger, withLedgerOptions, type Io } from './context.js';
import { parseVersion } from './input.js';
import { startProgress } from './progress.js';
import { assertFreeOut, emit, readCheckpointFile, readTextFile, report, requireTrust, TRUST_HELP, trustedKeyArgument } from './proof-commands.js';

export function registerSampleCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const samples = program.command('sample-set').description('sample sets: per-sample fingerprints rolled into a Merkle root, and proofs that one sample was in a set');
  samples
    .command('add')
    .description('record a sample set from a file of SHA-256 fingerprints (one per line, or JSON Lines with a licence per sample)')
    .requiredOption('--from <file>', 'the fingerprints: 64 hex per line, or {"fingerprint":"…","license":"SPDX"} per line')
    .requiredOption('--name <name>', 'a name for people; also the record id unless --id is given')
    .option('--id <id>', 'record id (default: the name)')
    .action(async (options: { from: string; name: string; id?: string }, command: Command) => {
      const global = flagsOf(command);
      if (options.id === undefined && !ID_PATTERN.test(options.name)) {
        throw new LedgerError('INVALID_RECORD_ID', `the name ${JSON.stringify(options.name)} is not a valid record id; give one with --id (1 to 128 characters from A-Z a-z 0-9 . _ : -)`);
      }
      if (options.id !== undefined) assertRecordId(options.id);
      // The key (and its passphrase) first, then the whole file is read and checked, and only then the ledger opened.
      const ready = await ledgerOptions(global, io, true);
      const progress = startProgress('read', io.stderr, 'bytes');
      const list = await readSampleFile(options.from, { onProgress: (done, total) => progress.update(done, total) }).finally(() => progress.stop());
      const result = await withLedgerOptions(global, io, ready, (ledger) => ledger.samples.add({ name: options.name, id: options.id, samples: list }));
      if (global.json === true) print(io, JSON.stringify({ ...result, licensed: list.licenses !== null }));
      else if (result.unchanged) print(io, `unchanged: ${result.id} version ${result.version} already holds these ${result.count} samples (root ${result.root}); nothing written`);
      else print(io, `${result.version === 1 ? 'created' : 'new version of'} ${result.id}: version ${result.version}, ${result.count} samples, root ${result.root} (seq ${result.seq})`);
    });

  samples
    .command('prove')
    .description('a proof, checkable offline, that the sample with FINGERPRINT is in sample set ID; exit 1 if it is not')
    .argument('<id>', 'the sample set')
    .argument('<fingerprint>', 'the sample: SHA-256, 64 hex characters')
    .option('--version <n>', 'the version of the set (default: its latest version written by `sample-set add`)')
    .option('--checkpoint <file>', 'also prove the set\'s record event is in the ledger under this checkpoint')
    .option('--out <file>', 'write the proof here (never over an existing file) instead of stdout')
    .action(async (id: string, fingerprint: string, options: { version?: string; checkpoint?: string; out?: string }, command: Command) => {
      const global = flagsOf(command);
      assertRecordId(id);
      if (fromHex(fingerprint, 32) === undefined) throw new LedgerError('INVALID_ARGUMENT', `FINGERPRINT must be a SHA-256 fingerprint (64 hex characters), got ${JSON.stringify(fingerprint.slice(0, 80))}`);
      const version = options.version === undefined ? undefined : parseVersion(options.version, '--version');
      const checkpoint = options.checkpoint === undefined ? undefined : await readCheckpointFile(options.checkpoint, '--checkpoint');
      await assertFreeOut(options.out);
      const proof = await withLedger(global, io, false, (ledger) => ledger.samples.prove(id, fingerprint, { version, checkpoint }));
      await emit(io, proof.text, options.out);
      if (options.out !== undefined) print(io, global.json === true ? JSON.stringify({ id: proof.id, version: proof.version, index: proof.index, count: proof.count, root: proof.root, seq: proof.seq, out: options.out }) : `proved: sample ${proof.fingerprint} is #${proof.index} of ${proof.count} in ${proof.id}@${proof.version}; wrote ${options.out}`);
    });

  samples
    .command('verify-proof')
    .description('check a sample proof offline, without the ledger; exit 1 if it does not prove the sample is in the set')
    .argument('<proof>', 'the proof file, as written by `provledger sample-set prove`')
    .option('--trusted-key <key>', `${TRUST_HELP}; without a checkpoint in the proof, the key that signed the set's record`, trustedKeyArgument)
    .action(async (path: string, options: { trustedKey?: TrustedKey[] }, command: Command) => {
      const json = flagsOf(command).json === true;
      const trustedKeys = requireTrust(options.trustedKey);
      const text = await readTextFile(path, 'the proof', MAX_SAMPLE_PROOF_BYTES);
      const verdict = verifySampleProof(text, { trustedKeys });
      setExit(
        report(
          io,
          json,
          verdict,
          (v) =>
            `ok: sample ${v.fingerprint}${v.license === null ? '' : ` (${v.license})`} is #${v.index} of ${v.count} in sample set ${v.id}@${v.version} (root ${v.root}, event ${v.record.seq} signed by ${v.record.author}${v.checkpoint === null ? '' : `, in ${v.checkpoint.origin} at size ${v.checkpoint.size}, checkpoint signed by ${v.checkpoint.signedBy.join(', ')}`})`,
          (v) => ({ kind: 'sample', id: v.id, version: v.version, fingerprint: v.fingerprint, license: v.license, index: v.index, count: v.count, root: v.root, record: v.record, checkpoint: v.checkpoint }),
        ),
      );
    });
}
