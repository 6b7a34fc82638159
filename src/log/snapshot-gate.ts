/**
 * Keeps LevelDB writes apart from reads that hold a snapshot (SPEC §8.5).
 *
 * The LevelDB inside classic-level 3 is 1.20, which has google/leveldb#320 (fixed upstream in 1.21 by
 * AddBoundaryInputs): while a snapshot is alive, compaction keeps every version of a key written across it, two
 * versions of one key can end up on either side of a file boundary, and a later compaction that moves only one
 * of the two files down leaves the older version above the newer. A point lookup then stops at the older
 * version (a deleted or stale value) while an iterator, which merges every level, still sees the newer one.
 * A rebuild of a 200,000-event ledger hit exactly this: `get` missed index keys the iterator listed.
 *
 * classic-level registers a snapshot for every iterator, `getMany` and `clear`. Compaction keeps two versions
 * of a key only if one was written while such a snapshot was alive, so no write may overlap one. Reads share
 * the gate with each other, writes with each other; the two kinds take turns in arrival order, so neither
 * starves the other. Every operation under the gate must be short and must not wait on the gate itself.
 */
type Kind = 'read' | 'write';

export class SnapshotGate {
  #reads = 0;
  #writes = 0;
  readonly #waiting: { readonly kind: Kind; readonly admit: () => void }[] = [];

  /** Runs `operation`, which may hold a LevelDB snapshot, while no write is in flight. */
  read<T>(operation: () => Promise<T>): Promise<T> {
    return this.#run('read', operation);
  }

  /** Runs `operation`, which writes, while no snapshot-holding read is in flight. */
  write<T>(operation: () => Promise<T>): Promise<T> {
    return this.#run('write', operation);
  }

  /** What is in flight and waiting, for tests and diagnostics. */
  get state(): { reads: number; writes: number; waiting: number } {
    return { reads: this.#reads, writes: this.#writes, waiting: this.#waiting.length };
  }

  async #run<T>(kind: Kind, operation: () => Promise<T>): Promise<T> {
    if (this.#waiting.length === 0 && this.#free(kind)) this.#enter(kind);
    else await new Promise<void>((resolve) => this.#waiting.push({ kind, admit: () => (this.#enter(kind), resolve()) }));
    try {
      return await operation();
    } finally {
      if (kind === 'read') this.#reads--;
      else this.#writes--;
      // Admit waiters in arrival order, as many as may run beside what is in flight.
      while (this.#waiting.length > 0 && this.#free(this.#waiting[0]!.kind)) this.#waiting.shift()!.admit();
    }
  }

  #free(kind: Kind): boolean {
    return kind === 'read' ? this.#writes === 0 : this.#reads === 0;
  }

  #enter(kind: Kind): void {
    if (kind === 'read') this.#reads++;
    else this.#writes++;
  }
}
