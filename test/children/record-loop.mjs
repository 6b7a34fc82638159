// Child of records-tamper.test.ts: writes records forever to the ledger at argv[2] with the key at argv[3],
// fsync on (the default), and prints `ACK <id> <version> <seq>` after each write has resolved, i.e. after the
// library promised the event and its projection entries are durable. Three writers run at once, so group
// commits happen; each creates a record, updates and patches it a few times, and deletes the ones named
// `gone-*`. The parent kills this process with SIGKILL at a random moment; it never exits on its own.
import { readFile } from 'node:fs/promises';
import { Ledger, SigningKey } from '../../dist/index.js';

const [dir, keyPath] = process.argv.slice(2);
if (dir === undefined || keyPath === undefined) throw new Error('usage: record-loop.mjs LEDGER_DIR KEY_PEM');
const key = SigningKey.fromPem(await readFile(keyPath, 'utf8'));
const ledger = await Ledger.open(dir, { key, sync: true });
process.stdout.write('READY\n');

/** @param {{ id: string, version: number, seq: number }} result */
const ack = (result) => process.stdout.write(`ACK ${result.id} ${result.version} ${result.seq}\n`);

/** @param {number} writer */
async function writer(writer) {
  for (let n = 0; ; n++) {
    const gone = Math.random() < 0.3;
    const id = `${gone ? 'gone-' : ''}w${writer}-${n}`;
    ack(await ledger.records.create(writer % 2 === 0 ? 'dataset' : 'model', { writer, n, pad: 'x'.repeat(Math.floor(Math.random() * 100)) }, { id }));
    const updates = 1 + Math.floor(Math.random() * 4);
    for (let u = 0; u < updates; u++) {
      ack(u % 2 === 0
        ? await ledger.records.update(id, { writer, n, u })
        : await ledger.records.patch(id, { u, patched: true }, { base: u + 1 }));
    }
    if (gone) ack(await ledger.records.delete(id, { base: updates + 1 }));
  }
}

await Promise.all([writer(0), writer(1), writer(2)]);
