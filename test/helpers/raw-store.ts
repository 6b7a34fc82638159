/**
 * Direct access to a ledger's LevelDB, the way an attacker with the files would edit it: for tamper tests.
 * Bypasses every check of the library on purpose.
 */
import { Level } from 'level';

const BYTES = { keyEncoding: 'view', valueEncoding: 'view' } as const;
const open = (dir: string) => new Level<Uint8Array, Uint8Array>(dir, BYTES);
const sublevelsOf = (db: ReturnType<typeof open>) => ({
  log: db.sublevel<Uint8Array, Uint8Array>('log', BYTES),
  meta: db.sublevel<Uint8Array, Uint8Array>('meta', BYTES),
});
export type RawSublevels = ReturnType<typeof sublevelsOf>;

/** Opens the store at `dir` raw, runs `edit`, and closes it again (releasing the lock). */
export async function editStore<T>(dir: string, edit: (sublevels: RawSublevels) => Promise<T>): Promise<T> {
  const db = open(dir);
  await db.open();
  try {
    return await edit(sublevelsOf(db));
  } finally {
    await db.close();
  }
}

export function seqKey(seq: number): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(seq));
  return key;
}
