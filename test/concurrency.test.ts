/**
 * SPEC §8 (one writer at a time): several processes appending to one ledger at once all succeed, one after
 * another, and the result is one consecutive, verifying chain that holds every event exactly once. A process
 * that cannot get the lock within --wait fails with LEDGER_LOCKED (exit 3) and succeeds once the lock is free.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../dist/index.js';
import {
  CHILDREN_DIR,
  assertBuilt,
  collect,
  errorCodeOf,
  makeLedger,
  parseSeqHash,
  runCli,
  startNode,
  waitForOutput,
  type TestLedger,
} from './helpers/cli.js';

interface Written {
  readonly writer: string;
  readonly i: number;
  readonly seq: number;
  readonly hash: string;
}

/** Reads the whole ledger back with the built library: every event after the genesis, and the verify report. */
async function readBack(dir: string) {
  const ledger = await Ledger.open(dir, { waitMs: 10_000 });
  try {
    const events = [];
    for await (const event of ledger.events({ from: 1 })) events.push(event);
    return { events, report: await ledger.verify(), head: await ledger.head() };
  } finally {
    await ledger.close();
  }
}

/** The checks both variants share: every acknowledged event is stored as acknowledged, seqs 1..N, verify ok. */
async function expectAllWritten(dir: string, written: readonly Written[], writers: readonly string[], perWriter: number): Promise<void> {
  const { events, report, head } = await readBack(dir);
  const total = writers.length * perWriter;
  expect(report.failures).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.checked).toBe(total + 1);
  expect(head?.seq).toBe(total);
  expect(events.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, index) => index + 1));

  // Each writer's payload ids 0..perWriter-1, each exactly once, in the order that writer wrote them.
  const ids = events.map((e) => e.payload as { writer: string; i: number });
  for (const writer of writers) {
    expect(ids.filter((p) => p.writer === writer).map((p) => p.i), `events of writer ${writer}`).toEqual(Array.from({ length: perWriter }, (_, i) => i));
  }
  // What each process was told is what is stored.
  expect(written).toHaveLength(total);
  const stored = new Map(events.map((e) => [e.seq, e]));
  for (const w of written) {
    expect(stored.get(w.seq), `seq ${w.seq}`).toMatchObject({ hash: w.hash, payload: { writer: w.writer, i: w.i } });
  }
}

beforeAll(() => {
  assertBuilt();
});

describe('concurrent writers all succeed, one at a time, into one chain (SPEC §8)', () => {
  it('4 library processes × 50 appends, each opening and closing the ledger around every append', async () => {
    const ledger = await makeLedger();
    try {
      const writers = ['w0', 'w1', 'w2', 'w3'];
      const perWriter = 50;
      const children = writers.map((writer) => startNode(join(CHILDREN_DIR, 'append-n.mjs'), [ledger.dir, ledger.keyPath, writer, String(perWriter)]));
      const exits = children.map((child) => collect(child, { keepStdin: true, timeoutMs: 90_000 }));
      // All four load first, then start together, so they really contend for the lock.
      await Promise.all(children.map((child) => waitForOutput(child, /^READY\n/)));
      for (const child of children) child.stdin.end('GO\n');
      const results = await Promise.all(exits);
      for (const result of results) expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      const written = results.flatMap((r) =>
        r.stdout.trimEnd().split('\n').slice(1).map((line) => {
          const match = /^ACK (w[0-3]) ([0-9]+) ([0-9]+) ([0-9a-f]{64})$/.exec(line);
          if (match === null) throw new Error(`unexpected line from a writer: ${JSON.stringify(line)}`);
          return { writer: match[1]!, i: Number(match[2]), seq: Number(match[3]), hash: match[4]! };
        }),
      );
      await expectAllWritten(ledger.dir, written, writers, perWriter);
    } finally {
      await ledger.cleanup();
    }
  });

  it('4 pipeline steps × 10 `provledger append` runs at the same time', async () => {
    const ledger = await makeLedger();
    try {
      const writers = ['step-a', 'step-b', 'step-c', 'step-d'];
      const perWriter = 10;
      const step = async (writer: string): Promise<Written[]> => {
        const written: Written[] = [];
        for (let i = 0; i < perWriter; i++) {
          const result = await runCli(['--ledger', ledger.dir, '--key', ledger.keyPath, '--json', 'append', '--type', 'concurrency.probe', '--data', JSON.stringify({ writer, i })]);
          expect({ code: result.code, stderr: result.stderr }, `${writer} append ${i}`).toEqual({ code: 0, stderr: '' });
          written.push({ writer, i, ...parseSeqHash(result.stdout) });
        }
        return written;
      };
      const written = (await Promise.all(writers.map(step))).flat();
      await expectAllWritten(ledger.dir, written, writers, perWriter);
      // The CLI agrees with the library.
      const verify = await runCli(['--ledger', ledger.dir, '--json', 'verify']);
      expect({ code: verify.code, ok: (JSON.parse(verify.stdout) as { ok: boolean }).ok }).toEqual({ code: 0, ok: true });
    } finally {
      await ledger.cleanup();
    }
  });
});

describe('a ledger held by another process (SPEC §8, §10.2)', () => {
  /** Starts hold.mjs on the ledger and resolves once it holds the lock; `release` makes it close and exit. */
  async function holdLedger(ledger: TestLedger) {
    const holder = startNode(join(CHILDREN_DIR, 'hold.mjs'), [ledger.dir]);
    const exited = collect(holder, { keepStdin: true, timeoutMs: 30_000 });
    await waitForOutput(holder, /^HELD\n/);
    return {
      release: async () => {
        holder.stdin.end('\n');
        const result = await exited;
        expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: 'HELD\nCLOSED\n', stderr: '' });
      },
      kill: () => holder.kill('SIGKILL'),
    };
  }

  it('with a short --wait fails with exit 3, LEDGER_LOCKED in one line, then succeeds once the holder closes', async () => {
    const ledger = await makeLedger();
    const holder = await holdLedger(ledger);
    try {
      const args = ['--ledger', ledger.dir, '--key', ledger.keyPath, '--wait', '0.3', '--json', 'append', '--type', 'app.note', '--data', '{"try":1}'];
      const locked = await runCli(args);
      expect({ exit: locked.code, code: errorCodeOf(locked.stderr), stdout: locked.stdout }).toEqual({ exit: 3, code: 'LEDGER_LOCKED', stdout: '' });
      expect(locked.ms).toBeGreaterThanOrEqual(300); // it did wait

      await holder.release();
      const after = await runCli(args);
      expect({ exit: after.code, stderr: after.stderr }).toEqual({ exit: 0, stderr: '' });
      // The refused attempt wrote nothing: this append is the first after the genesis.
      expect(parseSeqHash(after.stdout).seq).toBe(1);
    } finally {
      holder.kill();
      await ledger.cleanup();
    }
  });

  it('with PROVLEDGER_WAIT long enough, waits for the holder and then succeeds', async () => {
    const ledger = await makeLedger();
    const holder = await holdLedger(ledger);
    try {
      const waiting = runCli(['--ledger', ledger.dir, '--json', 'head'], { env: { PROVLEDGER_WAIT: '20' } });
      await new Promise((resolve) => setTimeout(resolve, 600)); // well past CLI start-up: it is waiting on the lock
      await holder.release();
      const result = await waiting;
      expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 0, stderr: '' });
      expect(parseSeqHash(result.stdout)).toEqual({ seq: 0, hash: ledger.genesisHash });
      expect(result.ms).toBeGreaterThanOrEqual(600);
    } finally {
      holder.kill();
      await ledger.cleanup();
    }
  });

  it('a holder killed with SIGKILL leaves no stale lock', async () => {
    const ledger = await makeLedger();
    const holder = await holdLedger(ledger);
    try {
      holder.kill();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const result = await runCli(['--ledger', ledger.dir, '--wait', '5', '--json', 'verify']);
      expect({ exit: result.code, stderr: result.stderr }).toEqual({ exit: 0, stderr: '' });
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, checked: 1 });
    } finally {
      await ledger.cleanup();
    }
  });
});

// The key file is read by children; make sure it is what makeLedger says.
it('makeLedger writes the owner key the ledger names', async () => {
  const ledger = await makeLedger();
  try {
    const pem = await readFile(ledger.keyPath, 'utf8');
    expect(pem).toContain('BEGIN PRIVATE KEY');
    const opened = await Ledger.open(ledger.dir);
    expect(opened.owner).toBe(ledger.publicKeyHex);
    await opened.close();
  } finally {
    await ledger.cleanup();
  }
});
