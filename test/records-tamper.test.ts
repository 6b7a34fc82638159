/**
 * SPEC §12.2–§12.5 and §11.3 against an attacker with the files: projections edited in LevelDB are reported
 * by verify as PROJECTION_MISMATCH at the right seq and never served by reads; an interrupted rebuild is
 * detected; forged but validly signed and chained record events that break the version rules are reported
 * as VERSION_BREAK or BAD_RECORD_EVENT even after the projections were rebuilt to fit them; and a writer
 * killed with SIGKILL leaves projections in step with the log and every acknowledged version readable.
 *
 * Each test builds its own small ledger (below) with the library from src/, closes it, edits the store raw
 * (test/helpers/raw-store.ts), and reopens it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ledger as BuiltLedger, SigningKey as BuiltSigningKey } from '../dist/index.js';
import { decodeCanonical, encodeCanonical } from '../src/codec/canonical.js';
import { sealEvent, type JsonValue } from '../src/event/event.js';
import { FORMAT_VERSION } from '../src/event/format.js';
import { Ledger } from '../src/index.js';
import { keys, values } from '../src/projections/indexes.js';
import { assertBuilt, killAfterAcks, makeLedger } from './helpers/cli.js';
import { otherKey, ownerKey } from './helpers/events.js';
import { editIndexes, editStore, seqKey } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';
import { codeOf } from './helpers/codes.js';

const T = 1_800_000_000_000;
const STEP_MS = 1000;

/**
 * The ledger every tamper test starts from; event i has time T + i·STEP_MS.
 *   0 genesis · 1 create mnist (dataset) · 2 update mnist v2 · 3 app.note · 4 create resnet (model) · 5 delete mnist v3
 */
const SEQ = { mnistCreate: 1, mnistUpdate: 2, note: 3, resnetCreate: 4, mnistDelete: 5 } as const;
const HEAD_SEQ = 5;
const tsOf = (seq: number) => T + seq * STEP_MS;

async function buildLedger(dir: string): Promise<void> {
  let tick = 0;
  const ledger = await Ledger.create(dir, { key: ownerKey, sync: false, clock: () => T + STEP_MS * tick++ });
  try {
    await ledger.records.create('dataset', { files: 4 }, { id: 'mnist' });
    await ledger.records.update('mnist', { files: 5 });
    await ledger.append({ type: 'app.note', payload: { n: 1 } });
    await ledger.records.create('model', { layers: 50 }, { id: 'resnet' });
    await ledger.records.delete('mnist');
    expect((await ledger.head())!.seq).toBe(HEAD_SEQ);
    expect((await ledger.verify()).ok).toBe(true);
  } finally {
    await ledger.close();
  }
}

/** Opens `dir` and runs `use`; the ledger is always closed. */
async function withLedger<T>(dir: string, use: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await Ledger.open(dir, { key: ownerKey, sync: false, clock: () => T + 3_600_000 });
  try {
    return await use(ledger);
  } finally {
    await ledger.close();
  }
}

/** What verify finds, as [seq, code] pairs in report order (messages are not a contract). */
async function findings(dir: string): Promise<{ ok: boolean; failures: [number | null, string][] }> {
  return withLedger(dir, async (ledger) => {
    const report = await ledger.verify();
    return { ok: report.ok, failures: report.failures.map((f) => [f.seq, f.code]) };
  });
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A fresh base ledger in a temp dir for `use`. */
function withBaseLedger(use: (dir: string) => Promise<void>): Promise<void> {
  return withTempDir(async (root) => {
    const dir = join(root, 'ledger');
    await buildLedger(dir);
    await use(dir);
  });
}

describe('SPEC §12.4: a tampered projection entry is reported as PROJECTION_MISMATCH', () => {
  it.each([
    {
      name: 'rc: the current state of mnist names version 2 instead of its tombstone (version 3)',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.rc.put(keys.current('mnist'), values.head({ kind: 'dataset', version: 2, seq: SEQ.mnistUpdate, deleted: false })),
      expected: [[SEQ.mnistUpdate, 'PROJECTION_MISMATCH']],
    },
    {
      name: 'rv: the entry of resnet@1 is deleted',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.rv.del(keys.version('resnet', 1)),
      // Once for the event that implies it, once for the current state that names it.
      expected: [
        [SEQ.resnetCreate, 'PROJECTION_MISMATCH'],
        [SEQ.resnetCreate, 'PROJECTION_MISMATCH'],
      ],
    },
    {
      name: 'rv: a stray entry for a record that was never created',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.rv.put(keys.version('ghost', 1), values.version({ seq: SEQ.note, op: 'create' })),
      expected: [[null, 'PROJECTION_MISMATCH']],
    },
    {
      name: 'rv: a stray version 2 of resnet, past its current state',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.rv.put(keys.version('resnet', 2), values.version({ seq: SEQ.mnistDelete, op: 'update' })),
      expected: [
        [SEQ.resnetCreate, 'PROJECTION_MISMATCH'],
        [null, 'PROJECTION_MISMATCH'],
      ],
    },
    {
      name: 'rk: the kind entry of mnist names another create seq',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.rk.put(keys.kind('dataset', 'mnist'), values.kind(SEQ.resnetCreate)),
      expected: [[SEQ.mnistCreate, 'PROJECTION_MISMATCH']],
    },
    {
      name: 'ti: the time entry of event 3 is deleted',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.ti.del(keys.time(tsOf(SEQ.note), SEQ.note)),
      expected: [[SEQ.note, 'PROJECTION_MISMATCH']],
    },
    {
      name: 'ti: a stray time entry says event 3 happened at the time of event 2',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.ti.put(keys.time(tsOf(SEQ.mnistUpdate), SEQ.note), values.time()),
      expected: [[SEQ.note, 'PROJECTION_MISMATCH']],
    },
    {
      name: 'ti: a stray time entry after the last event',
      edit: (ix: Parameters<Parameters<typeof editIndexes>[1]>[0]) => ix.ti.put(keys.time(tsOf(HEAD_SEQ + 1), HEAD_SEQ + 1), values.time()),
      expected: [[HEAD_SEQ + 1, 'PROJECTION_MISMATCH']],
    },
  ])('$name', async ({ edit, expected }) => {
    await withBaseLedger(async (dir) => {
      await editIndexes(dir, async (ix) => {
        await edit(ix);
      });
      expect(await findings(dir)).toEqual({ ok: false, failures: expected });
      // The log is untouched, so a rebuild repairs every one of them.
      await withLedger(dir, (ledger) => ledger.rebuild());
      expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    });
  });
});

describe('SPEC §12.4: a missing rv entry in the middle of a record\'s versions', () => {
  it('is reported as PROJECTION_MISMATCH at the event that implies it', async () => {
    await withBaseLedger(async (dir) => {
      await editIndexes(dir, (ix) => ix.rv.del(keys.version('mnist', 2)));
      const { ok, failures } = await findings(dir);
      expect(ok).toBe(false);
      expect(failures[0]).toEqual([SEQ.mnistUpdate, 'PROJECTION_MISMATCH']);
    });
  });

  // Only valid transitions are indexed (SPEC §12.2), so an indexed event whose predecessor is missing from the
  // index points at the index, not the log: two PROJECTION_MISMATCH findings (the missing entry, and the version
  // that needs it), no VERSION_BREAK, and a rebuild repairs both. Staying silent about the second would let a
  // forged log that skips a version pass with a forged index entry.
  it('is not reported as a VERSION_BREAK of the next version (the log is intact), and rebuild repairs it', async () => {
    await withBaseLedger(async (dir) => {
      await editIndexes(dir, (ix) => ix.rv.del(keys.version('mnist', 2)));
      expect(await findings(dir)).toEqual({ ok: false, failures: [[SEQ.mnistUpdate, 'PROJECTION_MISMATCH'], [SEQ.mnistDelete, 'PROJECTION_MISMATCH']] });
      await withLedger(dir, (ledger) => ledger.rebuild());
      expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    });
  });
});

describe('SPEC §12.3: reads refuse a tampered index (STORE_CORRUPT), and rebuild repairs it', () => {
  it('rv of mnist@1 pointed at resnet\'s create: get by version, at a seq, history and list at that seq refuse; after rebuild they answer', async () => {
    await withBaseLedger(async (dir) => {
      await editIndexes(dir, (ix) => ix.rv.put(keys.version('mnist', 1), values.version({ seq: SEQ.resnetCreate, op: 'create' })));
      await withLedger(dir, async (ledger) => {
        expect(await codeOf(() => ledger.records.get('mnist', { version: 1 }))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => ledger.records.get('mnist', { at: { seq: SEQ.mnistCreate } }))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => drain(ledger.records.history('mnist')))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => drain(ledger.records.list({ at: { seq: SEQ.mnistCreate } })))).toBe('STORE_CORRUPT');
        // Versions the edit did not touch are still served.
        expect(await ledger.records.get('mnist', { version: 2 })).toMatchObject({ seq: SEQ.mnistUpdate, data: { files: 5 } });
        expect(await ledger.rebuild()).toEqual({ events: HEAD_SEQ + 1 });
        expect(await ledger.records.get('mnist', { version: 1 })).toMatchObject({ id: 'mnist', version: 1, seq: SEQ.mnistCreate, data: { files: 4 }, deleted: false });
        expect((await drain(ledger.records.history('mnist'))).map((v) => v.seq)).toEqual([SEQ.mnistCreate, SEQ.mnistUpdate, SEQ.mnistDelete]);
      });
      expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    });
  });

  it('rc of resnet pointed at a version whose event is another record: get refuses', async () => {
    await withBaseLedger(async (dir) => {
      await editIndexes(dir, async (ix) => {
        await ix.rc.put(keys.current('resnet'), values.head({ kind: 'model', version: 2, seq: SEQ.mnistUpdate, deleted: false }));
        await ix.rv.put(keys.version('resnet', 2), values.version({ seq: SEQ.mnistUpdate, op: 'update' }));
      });
      await withLedger(dir, async (ledger) => {
        expect(await codeOf(() => ledger.records.get('resnet'))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => drain(ledger.records.list({ kind: 'model' })))).toBe('STORE_CORRUPT');
        await ledger.rebuild();
        expect(await ledger.records.get('resnet')).toMatchObject({ version: 1, seq: SEQ.resnetCreate, data: { layers: 50 } });
      });
      expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    });
  });
});

describe('SPEC §12.5: an interrupted rebuild is detected until a rebuild completes', () => {
  it('with the meta key `rebuilding` present: appends and record reads refuse, verify reports PROJECTION_MISMATCH; rebuild clears it', async () => {
    await withBaseLedger(async (dir) => {
      await editStore(dir, ({ meta }) => meta.put(new TextEncoder().encode('rebuilding'), new Uint8Array([1])));
      expect(await findings(dir)).toEqual({ ok: false, failures: [[null, 'PROJECTION_MISMATCH']] });
      await withLedger(dir, async (ledger) => {
        // Audit finds everything verify finds (SPEC §15.1), this included.
        const audit = await ledger.audit();
        expect({ ok: audit.ok, problems: audit.problems.map((p) => [p.seq, p.code]) }).toEqual({ ok: false, problems: [[null, 'PROJECTION_MISMATCH']] });
        expect(await codeOf(() => ledger.append({ type: 'app.note', payload: {} }))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => ledger.records.create('dataset', {}, { id: 'new' }))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => ledger.records.get('resnet'))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => ledger.records.get('mnist', { version: 1 }))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => drain(ledger.records.history('mnist')))).toBe('STORE_CORRUPT');
        expect(await codeOf(() => drain(ledger.records.list()))).toBe('STORE_CORRUPT');
        expect(await codeOf(async () => drain((await ledger.replay({ to: { seq: 1 } })).records))).toBe('STORE_CORRUPT');
        // Nothing was written by the refused appends.
        expect((await ledger.head())!.seq).toBe(HEAD_SEQ);

        await ledger.rebuild();
        // The same open ledger is writable and readable again.
        expect(await ledger.records.get('resnet')).toMatchObject({ version: 1, seq: SEQ.resnetCreate });
        expect((await ledger.records.create('dataset', { files: 1 }, { id: 'new' })).seq).toBe(HEAD_SEQ + 1);
      });
      expect(await findings(dir)).toEqual({ ok: true, failures: [] });
      await editStore(dir, async ({ meta }) => expect(await meta.get(new TextEncoder().encode('rebuilding'))).toBeUndefined());
    });
  });
});

describe('SPEC §6: record writes need an active key and an intact store, like append', () => {
  it('a key that is not the owner, or no key, is refused and writes nothing', async () => {
    await withBaseLedger(async (dir) => {
      const other = await Ledger.open(dir, { key: otherKey, sync: false });
      try {
        expect(await codeOf(() => other.records.create('dataset', {}, { id: 'intruder' }))).toBe('KEY_NOT_AUTHORIZED');
        expect(await codeOf(() => other.records.update('resnet', { layers: 1 }))).toBe('KEY_NOT_AUTHORIZED');
        expect(await codeOf(() => other.records.patch('resnet', { layers: 1 }))).toBe('KEY_NOT_AUTHORIZED');
        expect(await codeOf(() => other.records.delete('resnet'))).toBe('KEY_NOT_AUTHORIZED');
        expect((await other.head())!.seq).toBe(HEAD_SEQ);
      } finally {
        await other.close();
      }
      const keyless = await Ledger.open(dir, { sync: false });
      try {
        expect(await codeOf(() => keyless.records.create('dataset', {}, { id: 'intruder' }))).toBe('USAGE');
      } finally {
        await keyless.close();
      }
      expect(await findings(dir)).toEqual({ ok: true, failures: [] });
    });
  });

  it('a store whose head does not match its log refuses record writes (STORE_CORRUPT)', async () => {
    await withBaseLedger(async (dir) => {
      await editStore(dir, ({ log }) => log.del(seqKey(HEAD_SEQ)));
      await withLedger(dir, async (ledger) => {
        expect(await codeOf(() => ledger.records.update('resnet', { layers: 1 }))).toBe('STORE_CORRUPT');
      });
    });
  });
});

/**
 * Appends validly signed, correctly chained events straight into the `log` sublevel and moves the stored head
 * to the last, as an attacker holding the owner key and the files could; then rebuilds the projections so
 * that they fit the forged log. Only the version rule is left broken. Returns the forged seqs.
 */
async function forge(dir: string, events: readonly { type: string; payload: JsonValue }[]): Promise<number[]> {
  const headKey = new TextEncoder().encode('head');
  const seqs = await editStore(dir, async ({ log, meta }) => {
    let head = decodeCanonical((await meta.get(headKey))!) as { seq: number; hash: Uint8Array; ts: number };
    const written: number[] = [];
    for (const { type, payload } of events) {
      const sealed = sealEvent({ v: FORMAT_VERSION, seq: head.seq + 1, prev: head.hash, ts: head.ts + STEP_MS, type, author: ownerKey.publicKey, payload }, ownerKey);
      await log.put(seqKey(sealed.body.seq), sealed.bytes);
      head = { seq: sealed.body.seq, hash: sealed.hash, ts: sealed.body.ts };
      written.push(head.seq);
    }
    await meta.put(headKey, encodeCanonical(head));
    return written;
  });
  await withLedger(dir, (ledger) => ledger.rebuild());
  return seqs;
}

describe('SPEC §11.3: a forged log that breaks the version rules fails verify at the offending event', () => {
  it.each([
    { name: 'a record.update that skips a version (resnet 1 → 3)', type: 'record.update', payload: { id: 'resnet', version: 3, data: { layers: 101 } }, code: 'VERSION_BREAK' },
    { name: 'a record.update after the tombstone (mnist v4 after the delete at v3)', type: 'record.update', payload: { id: 'mnist', version: 4, data: { files: 6 } }, code: 'VERSION_BREAK' },
    { name: 'a record.delete after the tombstone (mnist v4)', type: 'record.delete', payload: { id: 'mnist', version: 4 }, code: 'VERSION_BREAK' },
    { name: 'a record.update with no data', type: 'record.update', payload: { id: 'resnet', version: 2 }, code: 'BAD_RECORD_EVENT' },
    { name: 'a record.update with version 1', type: 'record.update', payload: { id: 'resnet', version: 1, data: {} }, code: 'BAD_RECORD_EVENT' },
    { name: 'a record.create with an invalid kind', type: 'record.create', payload: { id: 'x', kind: 'Dataset', version: 1, data: {} }, code: 'BAD_RECORD_EVENT' },
    { name: 'a record.delete with an extra key', type: 'record.delete', payload: { id: 'resnet', version: 2, data: {} }, code: 'BAD_RECORD_EVENT' },
  ] satisfies { name: string; type: string; payload: JsonValue; code: string }[])('$name → $code at its seq, and nothing else', async ({ type, payload, code }) => {
    await withBaseLedger(async (dir) => {
      const [seq] = await forge(dir, [{ type, payload: payload as unknown as JsonValue }]);
      expect(seq).toBe(HEAD_SEQ + 1);
      expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, code]] });
    });
  });

  it('a version skip stays caught when the attacker also forges the index to agree with it', async () => {
    await withBaseLedger(async (dir) => {
      const [seq] = await forge(dir, [{ type: 'record.update', payload: { id: 'resnet', version: 3, data: { layers: 101 } } }]);
      // Make the projections claim the forged version is valid: index it and make it current.
      await editIndexes(dir, async (ix) => {
        await ix.rv.put(keys.version('resnet', 3), values.version({ seq: seq!, op: 'update' }));
        await ix.rc.put(keys.current('resnet'), values.head({ kind: 'model', version: 3, seq: seq!, deleted: false }));
      });
      const { ok, failures } = await findings(dir);
      expect(ok).toBe(false);
      expect(failures).toContainEqual([seq, 'PROJECTION_MISMATCH']);
    });
  });

  it('a record.update of a record never created → VERSION_BREAK at its seq, and nothing else', async () => {
    await withBaseLedger(async (dir) => {
      const [seq] = await forge(dir, [{ type: 'record.update', payload: { id: 'ghost', version: 2, data: {} } }]);
      expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'VERSION_BREAK']] });
    });
  });

  // The projection writer keeps the first create (SPEC §12.2), so the duplicate is the only finding.
  it.each([
    { name: 'same kind', payload: { id: 'resnet', kind: 'model', version: 1, data: { layers: 18 } } },
    { name: 'another kind', payload: { id: 'resnet', kind: 'run', version: 1, data: {} } },
  ])('a second record.create of resnet ($name) → VERSION_BREAK at its seq, and nothing else', async ({ payload }) => {
    await withBaseLedger(async (dir) => {
      const [seq] = await forge(dir, [{ type: 'record.create', payload: payload as unknown as JsonValue }]);
      expect(await findings(dir)).toEqual({ ok: false, failures: [[seq, 'VERSION_BREAK']] });
    });
  });

  it('a second record.create of resnet is never reported as valid', async () => {
    await withBaseLedger(async (dir) => {
      await forge(dir, [{ type: 'record.create', payload: { id: 'resnet', kind: 'model', version: 1, data: { layers: 18 } } }]);
      expect((await findings(dir)).ok).toBe(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Crash atomicity (SPEC §12.2): the projections are written in the event's batch, so SIGKILL never splits them.

const KILLS = 3;
const MIN_ACKS = 10;

interface Ack {
  readonly id: string;
  readonly version: number;
  readonly seq: number;
}

async function recordUntilKilled(dir: string, keyPath: string, delayMs: number): Promise<Ack[]> {
  const acks = await killAfterAcks('record-loop.mjs', [dir, keyPath], { delayMs, minAcks: MIN_ACKS }, expect);
  return acks.map((ack) => {
    const match = /^(\S+) ([1-9][0-9]*) ([1-9][0-9]*)$/.exec(ack);
    if (match === null) throw new Error(`unexpected ack from the child: ${JSON.stringify(ack)}`);
    return { id: match[1]!, version: Number(match[2]), seq: Number(match[3]) };
  });
}

describe('SPEC §12.2: SIGKILL of a record writer leaves the projections in step with the log', () => {
  beforeAll(() => {
    assertBuilt();
  });

  it.each(Array.from({ length: KILLS }, () => 20 + Math.floor(Math.random() * 300)))('killed %i ms after ten acks: verify ok, every acked version readable at its seq', async (delayMs) => {
    const ledger = await makeLedger();
    try {
      const acks = await recordUntilKilled(ledger.dir, ledger.keyPath, delayMs);
      expect(acks.length).toBeGreaterThanOrEqual(MIN_ACKS);
      expect(new Set(acks.map((a) => a.seq)).size).toBe(acks.length);
      const key = BuiltSigningKey.fromPem(await readFile(ledger.keyPath, 'utf8'));
      const reopened = await BuiltLedger.open(ledger.dir, { key, waitMs: 5_000 });
      try {
        const report = await reopened.verify();
        expect(report.failures).toEqual([]);
        expect(report.ok).toBe(true);
        const wrong: string[] = [];
        for (const ack of acks) {
          const found = await reopened.records.get(ack.id, { version: ack.version });
          if (found.seq !== ack.seq || found.version !== ack.version || found.id !== ack.id) wrong.push(`${ack.id}@${ack.version}: acked seq ${ack.seq}, read seq ${found.seq}`);
        }
        expect(wrong).toEqual([]);
        // The ledger keeps deciding from the recovered state: the next version of an acked record follows on.
        const last = acks.findLast((a) => !a.id.startsWith('gone-'))!;
        const current = await reopened.records.get(last.id);
        const next = await reopened.records.update(last.id, { recovered: true }, { base: current.version });
        expect(next.version).toBe(current.version + 1);
        expect((await reopened.verify()).ok).toBe(true);
      } finally {
        await reopened.close();
      }
    } finally {
      await ledger.cleanup();
    }
  });
});
