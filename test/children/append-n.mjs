// Child of concurrency.test.ts: appends argv[5] events to the ledger at argv[2] with the key at argv[3], as
// writer argv[4], opening and closing the ledger around every single append so that it contends for the
// lock with the other writers all the time. Prints `READY` once loaded, starts when a line arrives on stdin
// (so all writers start together), and prints `ACK <writer> <i> <seq> <hash>` after each append.
import { readFile } from 'node:fs/promises';
import { Ledger, SigningKey } from '../../dist/index.js';

const [dir, keyPath, writer, count] = process.argv.slice(2);
if (dir === undefined || keyPath === undefined || writer === undefined || count === undefined) throw new Error('usage: append-n.mjs LEDGER_DIR KEY_PEM WRITER COUNT');
const key = SigningKey.fromPem(await readFile(keyPath, 'utf8'));
process.stdout.write('READY\n');
await new Promise((resolve) => {
  process.stdin.once('data', resolve);
  process.stdin.once('end', resolve);
});
for (let i = 0; i < Number(count); i++) {
  const ledger = await Ledger.open(dir, { key, waitMs: 60_000 });
  try {
    const { seq, hash } = await ledger.append({ type: 'concurrency.probe', payload: { writer, i } });
    process.stdout.write(`ACK ${writer} ${i} ${seq} ${hash}\n`);
  } finally {
    await ledger.close();
  }
}
process.exit(0);
