import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SnapshotGate } from './snapshot-gate.js';

/** An operation that stays in flight until released, and records what else was in flight when it started. */
function held(gate: SnapshotGate, kind: 'read' | 'write', log: string[], name: string) {
  let release!: () => void;
  const started = new Promise<void>((resolveStarted) => {
    const run = () =>
      new Promise<void>((resolve) => {
        log.push(`${name}:start`);
        resolveStarted();
        release = () => {
          log.push(`${name}:end`);
          resolve();
        };
      });
    void (kind === 'read' ? gate.read(run) : gate.write(run));
  });
  return { started, release: () => release() };
}

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('a write never runs while a snapshot-holding read is in flight, nor a read while a write is', () => {
  it('a write waits for the reads in flight, and runs once the last one ends', async () => {
    const gate = new SnapshotGate();
    const log: string[] = [];
    const r1 = held(gate, 'read', log, 'r1');
    const r2 = held(gate, 'read', log, 'r2');
    await Promise.all([r1.started, r2.started]);
    const w = held(gate, 'write', log, 'w');
    await ticks();
    expect(log).toEqual(['r1:start', 'r2:start']);
    r1.release();
    await ticks();
    expect(log).not.toContain('w:start');
    r2.release();
    await w.started;
    expect(log.indexOf('w:start')).toBeGreaterThan(log.indexOf('r2:end'));
    w.release();
  });

  it('a read waits for the write in flight', async () => {
    const gate = new SnapshotGate();
    const log: string[] = [];
    const w = held(gate, 'write', log, 'w');
    await w.started;
    const r = held(gate, 'read', log, 'r');
    await ticks();
    expect(log).toEqual(['w:start']);
    w.release();
    await r.started;
    expect(log).toEqual(['w:start', 'w:end', 'r:start']);
    r.release();
  });

  it('reads share the gate with reads, and writes with writes', async () => {
    const gate = new SnapshotGate();
    const log: string[] = [];
    const a = held(gate, 'read', log, 'a');
    const b = held(gate, 'read', log, 'b');
    await Promise.all([a.started, b.started]);
    a.release();
    b.release();
    await ticks();
    const c = held(gate, 'write', log, 'c');
    const d = held(gate, 'write', log, 'd');
    await Promise.all([c.started, d.started]);
    expect(gate.state).toEqual({ reads: 0, writes: 2, waiting: 0 });
    c.release();
    d.release();
  });

  it('takes turns in arrival order: a read that arrives behind a waiting write waits for it', async () => {
    const gate = new SnapshotGate();
    const log: string[] = [];
    const r1 = held(gate, 'read', log, 'r1');
    await r1.started;
    const w = held(gate, 'write', log, 'w');
    const r2 = held(gate, 'read', log, 'r2');
    await ticks();
    expect(log).toEqual(['r1:start']);
    r1.release();
    await w.started;
    await ticks();
    expect(log).not.toContain('r2:start');
    w.release();
    await r2.started;
    expect(log).toEqual(['r1:start', 'r1:end', 'w:start', 'w:end', 'r2:start']);
    r2.release();
  });

  it('a failing operation releases the gate and its error reaches the caller', async () => {
    const gate = new SnapshotGate();
    await expect(gate.read(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.write(() => Promise.resolve(7))).resolves.toBe(7);
    expect(gate.state).toEqual({ reads: 0, writes: 0, waiting: 0 });
  });

  it('property: under any interleaving, reads and writes never overlap, and every operation runs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ write: fc.boolean(), delay: fc.nat(3) }), { minLength: 1, maxLength: 30 }), async (ops) => {
        const gate = new SnapshotGate();
        let reads = 0;
        let writes = 0;
        let overlaps = 0;
        let done = 0;
        await Promise.all(
          ops.map(async ({ write, delay }) => {
            const run = async () => {
              if (write) writes++;
              else reads++;
              if (reads > 0 && writes > 0) overlaps++;
              await ticks(delay);
              if (write) writes--;
              else reads--;
              done++;
            };
            await (write ? gate.write(run) : gate.read(run));
          }),
        );
        expect(overlaps).toBe(0);
        expect(done).toBe(ops.length);
        expect(gate.state).toEqual({ reads: 0, writes: 0, waiting: 0 });
      }),
      { numRuns: 100 },
    );
  });
});
