#!/usr/bin/env node
/**
 * `npm run demo`: a walk through the CLI on a fresh ledger in a temporary directory. It creates a key and
 * a ledger, records a small ML pipeline, reads it back, verifies it, then edits one stored byte the way an
 * attacker with the files would, and shows verify catching it, against the chain and against a published
 * checkpoint. Between the two it proves an event and a record's history offline. Prints every command it runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';

const bin = fileURLToPath(new URL('../bin/provledger.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'provledger-demo-'));
const ledger = join(work, 'ledger');
const key = join(work, 'owner.pem');
const env = { ...process.env, PROVLEDGER_DIR: ledger, PROVLEDGER_KEY: key };

function run(args, { input, show = args.join(' '), expectCode = 0 } = {}) {
  console.log(`\n$ provledger ${show}`);
  const result = spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== expectCode) {
    console.error(`demo: expected exit ${expectCode}, got ${result.status}`);
    process.exit(1);
  }
  console.log(`(exit ${result.status})`);
  return result.stdout.trim();
}

console.log(`provledger demo: ledger in ${ledger}\n(PROVLEDGER_DIR and PROVLEDGER_KEY are set, so commands need no --ledger/--key)`);

const ownerPublicKey = run(['keygen', '--out', key], { show: 'keygen --out owner.pem' });
run(['init']);

const manifest = join(work, 'dataset.json');
writeFileSync(manifest, JSON.stringify({ name: 'flowers-102', files: 4, sha256: 'b5f8c7e1'.padEnd(64, '0'), license: 'CC-BY-4.0' }));
run(['append', '--type', 'dataset.ingested', '--data', `@${manifest}`], { show: 'append --type dataset.ingested --data @dataset.json' });
run(['append', '--type', 'run.started', '--data', '{"run":"train-7","script":"train.py@3f2a91c","config":{"lr":0.0003,"epochs":12}}']);
run(['append', '--type', 'run.finished', '--data', '-', '--json'], {
  input: JSON.stringify({ run: 'train-7', status: 'completed', metrics: { loss: 0.0812, top1: 0.9375 } }),
  show: "append --type run.finished --data - --json   (payload on stdin)",
});
const head = run(['head']);
run(['log']);
run(['event', '2']);
run(['verify']);

console.log('\nRecords change, and every version stays readable: a model card corrected twice.');
run(['record', 'create', 'model', '--id', 'resnet-7', '--data', '{"name":"resnet-7","top1":0.9375,"license":"unknown"}']);
const firstVersion = run(['record', 'show', 'resnet-7', '--json'], { show: 'record show resnet-7 --json' });
run(['record', 'update', 'resnet-7', '--patch', '{"license":"Apache-2.0"}', '--base', '1']);
run(['record', 'update', 'resnet-7', '--patch', '{"top1":0.9412,"evaluated_on":"flowers-102@2"}']);
run(['record', 'update', 'resnet-7', '--patch', '{"top1":0.95}', '--base', '1'], { expectCode: 4, show: 'record update resnet-7 --patch ... --base 1   (stale base: conflict, nothing written)' });
run(['record', 'show', 'resnet-7', '--version', '1']);
run(['record', 'show', 'resnet-7', '--at', String(JSON.parse(firstVersion).seq)], { show: `record show resnet-7 --at ${JSON.parse(firstVersion).seq}   (as of the seq that created it)` });
run(['record', 'history', 'resnet-7']);
run(['record', 'list']);

run(['append', '--type', 'ledger.genesis', '--data', '{}'], { expectCode: 2, show: 'append --type ledger.genesis --data {}   (reserved type: refused, nothing written)' });
run(['verify', '--expect-head', head], { show: `verify --expect-head ${head}` });

console.log('\nOutsiders check it without the ledger: a signed checkpoint, an inclusion proof, an audit bundle.');
const checkpoint = join(work, 'ledger.checkpoint');
const proof = join(work, 'event2.tlog-proof');
const bundle = join(work, 'resnet-7.bundle.json');
run(['checkpoint', '--out', checkpoint], { show: 'checkpoint --out ledger.checkpoint' });
run(['prove', '2', '--checkpoint', checkpoint, '--out', proof], { show: 'prove 2 --checkpoint ledger.checkpoint --out event2.tlog-proof' });
run(['verify-proof', proof, '--trusted-key', ownerPublicKey], { show: `verify-proof event2.tlog-proof --trusted-key ${ownerPublicKey.slice(0, 16)}…` });
run(['bundle', 'resnet-7', '--checkpoint', checkpoint, '--out', bundle], { show: 'bundle resnet-7 --checkpoint ledger.checkpoint --out resnet-7.bundle.json' });
run(['verify-bundle', bundle, '--trusted-key', ownerPublicKey], { show: `verify-bundle resnet-7.bundle.json --trusted-key ${ownerPublicKey.slice(0, 16)}…` });

console.log('\nNow an attacker with write access to the files changes one byte of event 2 ("train.py" -> "trainXpy")...');
const db = new Level(ledger, { keyEncoding: 'view', valueEncoding: 'view' });
await db.open();
const log = db.sublevel('log', { keyEncoding: 'view', valueEncoding: 'view' });
const seq2 = new Uint8Array(8);
seq2[7] = 2;
const bytes = new Uint8Array(await log.get(seq2));
const at = Buffer.from(bytes).indexOf('train.py');
bytes[at + 5] = 'X'.charCodeAt(0);
await log.put(seq2, bytes);
await db.close();

run(['verify'], { expectCode: 1, show: 'verify   (exit 1: the forgery is caught at seq 2, and the broken link at seq 3)' });
run(['verify', '--checkpoint', checkpoint], { expectCode: 1, show: 'verify --checkpoint ledger.checkpoint   (exit 1: the ledger no longer matches what was published)' });
console.log(`\nDone. The demo ledger is in ${ledger}; explore it with: node bin/provledger.js --ledger ${ledger} log`);
