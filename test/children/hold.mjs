// Child of concurrency.test.ts: opens the ledger at argv[2] (read-only use, no key), prints `HELD`, and keeps
// it open (and so locked) until stdin receives a line or closes; then it closes the ledger, prints `CLOSED`
// and exits 0.
import { Ledger } from '../../dist/index.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: hold.mjs LEDGER_DIR');
const ledger = await Ledger.open(dir, { waitMs: 10_000 });
process.stdout.write('HELD\n');
await new Promise((resolve) => {
  process.stdin.once('data', resolve);
  process.stdin.once('end', resolve);
});
await ledger.close();
process.stdout.write('CLOSED\n');
process.exit(0);
