// Child of crash.test.ts: appends forever to the ledger at argv[2] with the key at argv[3], fsync on (the
// default), and prints `ACK <seq> <hash>` on stdout after each append has resolved, i.e. after the library
// promised the event is durable. Three writers run at once and mix single appends with appendMany of 1-8
// events, so group commits (several requests, one batch, one fsync) happen all the time. The parent kills
// this process with SIGKILL at a random moment; it never exits on its own.
import { readFile } from 'node:fs/promises';
import { Ledger, SigningKey } from '../../dist/index.js';

const [dir, keyPath] = process.argv.slice(2);
if (dir === undefined || keyPath === undefined) throw new Error('usage: append-loop.mjs LEDGER_DIR KEY_PEM');
const key = SigningKey.fromPem(await readFile(keyPath, 'utf8'));
const ledger = await Ledger.open(dir, { key, sync: true });
process.stdout.write('READY\n');

let n = 0;
/** @param {number} writer */
const nextInput = (writer) => ({ type: 'crash.probe', payload: { writer, n: n++, pad: 'x'.repeat(Math.floor(Math.random() * 200)) } });

/** @param {number} id */
async function writer(id) {
  for (;;) {
    const results = Math.random() < 0.5
      ? [await ledger.append(nextInput(id))]
      : await ledger.appendMany(Array.from({ length: 1 + Math.floor(Math.random() * 8) }, () => nextInput(id)));
    // One write per resolved request: pipes are synchronous on Linux, so a line is either all out or not at all.
    process.stdout.write(results.map((r) => `ACK ${r.seq} ${r.hash}\n`).join(''));
  }
}

await Promise.all([writer(0), writer(1), writer(2)]);
