#!/usr/bin/env node
/**
 * `npm run demo`: the MNIST-shaped pipeline of fixtures/mnist-pipeline/ recorded on a fresh ledger in a
 * temporary directory, through the CLI. October's dataset release trains a model (from a pretrained base model)
 * and evaluates it; November's release becomes version 2 of the dataset; October's turns out mislabelled and
 * is invalidated. Then the questions provenance is for: the lineage of the evaluation results now and as of
 * before the update, what the invalidation affects, the licences upstream, what changed between the releases,
 * and verify. Last, outsiders check the ledger offline (checkpoint, proof, bundle), and an attacker who edits
 * one stored byte is caught. Prints every command it runs and its exit code; stops at the first surprise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';

const bin = fileURLToPath(new URL('../bin/provledger.js', import.meta.url));
const pipeline = fileURLToPath(new URL('../fixtures/mnist-pipeline/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'provledger-demo-'));
const ledger = join(work, 'ledger');
const key = join(work, 'owner.pem');
const env = { ...process.env, PROVLEDGER_DIR: ledger, PROVLEDGER_KEY: key };

/** An argument as a shell would need it typed: quoted when it holds a space or a quote. */
const shellWord = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

/** Runs `provledger ...args` in the pipeline folder (so paths are as a user would type them) and prints it all. */
function run(args, { show = args.map(shellWord).join(' '), expectCode = 0 } = {}) {
  console.log(`\n$ provledger ${show}`);
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: pipeline, env, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== expectCode) {
    console.error(`demo: expected exit ${expectCode}, got ${result.status}`);
    process.exit(1);
  }
  console.log(`(exit ${result.status})`);
  return result.stdout.trim();
}

function section(title, explanation) {
  console.log(`\n\n== ${title}\n   ${explanation}`);
}

console.log(`provledger demo: the pipeline in fixtures/mnist-pipeline/, recorded on a ledger in ${ledger}`);
console.log('(commands run in that folder; PROVLEDGER_DIR and PROVLEDGER_KEY are set, so they need no --ledger/--key)');

section('1. A key and a ledger', 'Every event will be signed with this key; the ledger names it as its owner.');
const ownerPublicKey = run(['keygen', '--out', key], { show: 'keygen --out owner.pem' });
run(['init']);

section('2. October: what the pipeline reads, recorded by content', 'A directory is hashed as a sorted manifest of its files (sha256sum-compatible); each artifact carries an SPDX licence.');
run(['artifact', 'add', 'data/2026-10', '--kind', 'dataset', '--name', 'mnist', '--license', 'CC-BY-SA-3.0']);
run(['artifact', 'add', 'train.py', '--kind', 'software', '--name', 'train.py', '--license', 'MIT']);
run(['artifact', 'add', 'evaluate.py', '--kind', 'software', '--name', 'evaluate.py', '--license', 'MIT']);
run(['artifact', 'add', 'configs/train.yaml', '--kind', 'config', '--name', 'train.yaml', '--license', 'MIT']);
run(['artifact', 'add', 'configs/eval.yaml', '--kind', 'config', '--name', 'eval.yaml', '--license', 'MIT']);
run(['artifact', 'add', 'model/base.bin', '--kind', 'model', '--name', 'lenet-base', '--license', 'CC-BY-NC-4.0']);

section('3. Train', 'A run starts with its inputs (id:role:split; the split names the release it read) and finishes with its outputs, each an atomic write.');
run(['run', 'start', '--kind', 'train', '--name', 'train cnn on mnist 2026-10', '--id', 'train-2026-10', '--input', 'mnist:train:2026-10', '--input', 'lenet-base:base-model', '--input', 'train.py:code', '--input', 'train.yaml:config', '--param', 'lr=0.001', '--param', 'epochs=3']);
run(['artifact', 'add', 'model/cnn.bin', '--kind', 'model', '--name', 'cnn', '--license', 'Apache-2.0']);
run(['run', 'finish', 'train-2026-10', '--status', 'completed', '--output', 'cnn', '--metric', 'loss=0.21']);

section('4. Evaluate', 'The evaluation run reads the model and the test split; its results are an evaluation record that also says which model it evaluates.');
run(['run', 'start', '--kind', 'evaluate', '--name', 'evaluate cnn on mnist 2026-10', '--id', 'eval-2026-10', '--input', 'cnn:eval', '--input', 'mnist:test:2026-10', '--input', 'evaluate.py:code', '--input', 'eval.yaml:config']);
run(['artifact', 'add', 'results/metrics.json', '--kind', 'evaluation', '--name', 'cnn-metrics', '--license', 'CC-BY-4.0']);
run(['run', 'finish', 'eval-2026-10', '--status', 'completed', '--output', 'cnn-metrics', '--metric', 'accuracy=0.9167']);
run(['link', 'add', 'cnn-metrics', 'cnn', '--rel', 'evaluates']);
const before = run(['head']);
const beforeSeq = before.split(':')[0];
console.log(`(the ledger before the November update: seq ${beforeSeq}; any later question can be asked as of it)`);

section('5. November: the next release is version 2 of the same dataset', 'Same name, new content: a new version. Adding it again writes nothing. The diff compares the two manifests.');
run(['artifact', 'add', 'data/2026-11', '--kind', 'dataset', '--name', 'mnist']);
run(['artifact', 'add', 'data/2026-11', '--kind', 'dataset', '--name', 'mnist'], { show: 'artifact add data/2026-11 --kind dataset --name mnist   (again: unchanged, nothing written)' });
run(['record', 'history', 'mnist']);
run(['dataset', 'diff', 'mnist@1', 'mnist@2']);

section('6. October was mislabelled: invalidate version 1', 'A signed statement, not a deletion: version 1 stays readable, and every answer below can cite it.');
run(['record', 'invalidate', 'mnist', '--version', '1', '--reason', 'train-labels.idx: two samples have the labels 4 and 9 swapped']);

section('7. Lineage of the evaluation results, now and as of before the update', `Now mnist is at version 2; as of seq ${beforeSeq} it was version 1, the release the runs read (their links also name it: split 2026-10).`);
run(['lineage', 'cnn-metrics', '--up']);
run(['lineage', 'cnn-metrics', '--up', '--kind', 'dataset', '--at', beforeSeq]);
run(['lineage', 'cnn-metrics', '--up', '--mermaid', '--depth', '1'], { show: 'lineage cnn-metrics --up --mermaid --depth 1   (or --dot, --json)' });

section('8. Impact of the invalidation', 'Everything downstream of mnist, with the path that makes it affected: the runs, the model, the results.');
run(['impact', 'mnist']);

section('9. Licences upstream of the results', 'The non-commercial base model is a conflict for anything made from it; share-alike data is a notice.');
run(['licenses', 'cnn-metrics'], { expectCode: 1, show: 'licenses cnn-metrics   (exit 1: a conflict upstream, so a pipeline can stop on it)' });

section('10. Verify the whole ledger', 'Every signature, hash link, key authority and index, from genesis to head.');
run(['verify']);

section('11. Outsiders check it without the ledger', 'A signed checkpoint, an inclusion proof of one event, and an audit bundle of the results with their lineage.');
const checkpoint = join(work, 'ledger.checkpoint');
const proof = join(work, 'event1.tlog-proof');
const bundle = join(work, 'cnn-metrics.bundle.json');
const trusted = `--trusted-key ${ownerPublicKey.slice(0, 16)}…`;
run(['checkpoint', '--out', checkpoint], { show: 'checkpoint --out ledger.checkpoint' });
run(['prove', '1', '--checkpoint', checkpoint, '--out', proof], { show: 'prove 1 --checkpoint ledger.checkpoint --out event1.tlog-proof' });
run(['verify-proof', proof, '--trusted-key', ownerPublicKey], { show: `verify-proof event1.tlog-proof ${trusted}` });
run(['bundle', 'cnn-metrics', '--lineage', '--checkpoint', checkpoint, '--out', bundle], { show: 'bundle cnn-metrics --lineage --checkpoint ledger.checkpoint --out cnn-metrics.bundle.json' });
run(['verify-bundle', bundle, '--trusted-key', ownerPublicKey], { show: `verify-bundle cnn-metrics.bundle.json ${trusted}` });

section('12. An attacker edits two stored bytes', 'Someone with write access to the files "relicenses" the base model, CC-BY-NC-4.0 -> CC-BY-SA-4.0, to hide the conflict.');
const db = new Level(ledger, { keyEncoding: 'view', valueEncoding: 'view' });
await db.open();
const log = db.sublevel('log', { keyEncoding: 'view', valueEncoding: 'view' });
let forgedSeq = -1;
for await (const [seqKey, value] of log.iterator()) {
  const bytes = Buffer.from(value);
  const at = bytes.indexOf('CC-BY-NC-4.0');
  if (at < 0) continue;
  bytes.write('SA', at + 6, 'latin1');
  await log.put(seqKey, new Uint8Array(bytes));
  forgedSeq = Number(Buffer.from(seqKey).readBigUInt64BE());
  break;
}
await db.close();
if (forgedSeq < 0) throw new Error('demo: no event names CC-BY-NC-4.0');
console.log(`(changed two bytes of the event at seq ${forgedSeq})`);
run(['verify'], { expectCode: 1, show: `verify   (exit 1: the forgery is caught at seq ${forgedSeq}, and the broken hash link after it)` });
run(['verify', '--checkpoint', checkpoint], { expectCode: 1, show: 'verify --checkpoint ledger.checkpoint   (exit 1: the ledger no longer matches what was published)' });
console.log(`\nDone. The demo ledger is in ${ledger}; explore it with: node bin/provledger.js --ledger ${ledger} log`);
