/**
 * Direct access to a ledger's LevelDB, the way an attacker with the files would edit it: for tamper tests.
 * Bypasses every check of the library on purpose.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { toHex } from '../../src/bytes.js';

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
 * tree's `i-mt` (SPEC §17.2: key uint64be(last leaf seq) ‖ uint8(level), value the raw 32-byte node hash), and
 * the link changes `i-lu` (by dependent) and `i-ld` (by dependency) of SPEC §19.4, and the invalidations `i-iv`
 * of SPEC §23.1 (key id ‖ 0x00 ‖ uint64be(seq), value canonical CBOR {reason, version}), and the sample-set
 * chunks `i-ss` of SPEC §21.5 (key id ‖ 0x00 ‖ uint32be(version) ‖ first fingerprint, value CBOR {seq, root}).
 */
export const RAW_INDEX_NAMES = ['rc', 'rv', 'rk', 'ti', 'mt', 'lu', 'ld', 'iv', 'ss'] as const;
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

/** The link indexes `lu` and `ld` (SPEC §19.4), every entry as a line `name keyhex valuehex`. */
export async function dumpLinkIndexes(dir: string): Promise<string[]> {
  return editIndexes(dir, async (ix) => {
    const lines: string[] = [];
    for (const name of ['lu', 'ld'] as const) for await (const [key, value] of ix[name].iterator()) lines.push(`${name} ${toHex(key)} ${toHex(value)}`);
    return lines;
  });
}

/** `count:sha256` over every key and value in the store, read raw: its content byte for byte (LevelDB rewrites LOG/MANIFEST on open, so files cannot show that). */
export async function storeDigest(dir: string): Promise<string> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
  await db.open();
  const hash = createHash('sha256');
  let count = 0;
  try {
    for await (const [key, value] of db.iterator()) {
      for (const bytes of [key, value]) hash.update(`${bytes.length}:`).update(bytes);
      count++;
    }
  } finally {
    await db.close();
  }
  return `${count}:${hash.digest('hex')}`;
}

/** Every file of a directory with its SHA-256: what "the command did not even open the ledger" looks like. */
export async function filesOf(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) files[name] = createHash('sha256').update(await readFile(join(dir, name))).digest('hex');
  return files;
}
