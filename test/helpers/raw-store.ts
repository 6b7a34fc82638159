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

/**
 * The projection sublevels (SPEC §12.1) as LevelDB names them: `i-rc`, `i-rv`, `i-rk`, `i-ti`, and the Merkle
 * tree's `i-mt` (SPEC §17.2: key uint64be(last leaf seq) ‖ uint8(level), value the raw 32-byte node hash).
 */
export const RAW_INDEX_NAMES = ['rc', 'rv', 'rk', 'ti', 'mt'] as const;
export type RawIndexName = (typeof RAW_INDEX_NAMES)[number];
export type RawIndexes = Record<RawIndexName, RawSublevels['log']>;

/** Like `editStore`, with the projection sublevels too: for tampering with indexes as an attacker would. */
export async function editIndexes<T>(dir: string, edit: (indexes: RawIndexes, sublevels: RawSublevels) => Promise<T>): Promise<T> {
  const db = open(dir);
  await db.open();
  try {
    const indexes = Object.fromEntries(RAW_INDEX_NAMES.map((name) => [name, db.sublevel<Uint8Array, Uint8Array>(`i-${name}`, BYTES)])) as RawIndexes;
    return await edit(indexes, sublevelsOf(db));
  } finally {
    await db.close();
  }
}
