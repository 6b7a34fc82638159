/**
 * Helpers shared by the benchmark scripts: options, timing loops, machine facts, the sample payload,
 * temporary directories and the result table. Plain ESM; imports only node: modules.
 *
 * Every speed is measured as a rate (operations per second) over a wall-clock window, and reported as a
 * ratio against a baseline measured in the same run, never as a pass/fail time (the machine is shared).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/** Default sizes and windows; `--quick` shrinks them for a smoke run of about a minute. */
const DEFAULTS = { seconds: 2, verifyEvents: 100_000, memoryEvents: 300_000, verifyRepeats: 2, breakdownEvents: 20_000, recordsSmall: 10_000, recordsLarge: 200_000 };
const QUICK = { seconds: 0.5, verifyEvents: 10_000, memoryEvents: 30_000, verifyRepeats: 1, breakdownEvents: 5_000, recordsSmall: 10_000, recordsLarge: 30_000 };
const FULL_MEMORY_EVENTS = 1_000_000;
/** Records section: the same 1,000 records × 5 versions in both ledgers, whatever their length. */
export const RECORDS = { count: 1_000, versions: 5 };

const HELP = `Usage: node --expose-gc scripts/bench.js [options]   (or: npm run bench -- [options])

  --quick              smoke run (~1 min): 10k-event verify ledger, 10k vs 30k memory check, 10k vs 30k
                       records ledgers, 0.5 s windows
  --events N           size of the large ledger in the verify-memory check (default 300000; 1000000 for the
                       issue's 100k-vs-1M check, also selected by BENCH_FULL=1). At 1000000 or more it also
                       sets the large records ledger to 1000000 (issue 3's 10k-vs-1M check)
  --records-events N   size of the large records ledger (default 200000; the small one has 10000 events)
  --no-records         skip the records section (point reads, replay, rebuild, record writes)
  --no-transparency    skip the transparency section (checkpoint and proofs on the records ledgers' sizes,
                       proof sizes, append cost of the Merkle tree)
  --no-ml              skip the ML section (artifact hashing beside sha256sum on a 1 GiB file, lineage walks on a
                       100,000-record graph now and in the past; 64 MiB and 5,000 records in --quick)
  --no-exchange        skip the export/import section (JSONL export and import of a 100,000-event ledger as
                       ratios against verify of it; 10,000 events in --quick)
  --verify-events N    size of the ledger that verify throughput is measured on (default 100000)
  --seconds S          length of each timed window for raw and append rates (default 2)
  --repeats N          verify runs per setting; the best is reported, all are kept (default 2)
  --no-memory          skip the child-process memory check
  --out FILE           where to write the JSON results (default bench-out/results.json)
  --help               this text

Environment: BENCH_FULL=1 is the same as --events 1000000.`;

/** Parses argv into the run's options. Unknown flags are an error, so a typo never silently runs defaults. */
export function parseOptions(argv, env) {
  const quick = argv.includes('--quick');
  const base = quick ? QUICK : DEFAULTS;
  const options = {
    quick,
    seconds: base.seconds,
    verifyEvents: base.verifyEvents,
    memoryEvents: env.BENCH_FULL === '1' ? FULL_MEMORY_EVENTS : base.memoryEvents,
    verifyRepeats: base.verifyRepeats,
    breakdownEvents: base.breakdownEvents,
    recordsSmall: base.recordsSmall,
    recordsLarge: base.recordsLarge,
    records: true,
    transparency: true,
    ml: true,
    exchange: true,
    memory: true,
    out: new URL('../../bench-out/results.json', import.meta.url).pathname,
  };
  let recordsLargeGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const count = (name) => {
      const n = Number(value().replaceAll('_', ''));
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
      return n;
    };
    switch (flag) {
      case '--quick':
        break;
      case '--events':
        options.memoryEvents = count('--events');
        break;
      case '--verify-events':
        options.verifyEvents = count('--verify-events');
        break;
      case '--repeats':
        options.verifyRepeats = count('--repeats');
        break;
      case '--seconds': {
        const s = Number(value());
        if (!(s > 0 && s <= 60)) throw new Error('--seconds must be a number in (0, 60]');
        options.seconds = s;
        break;
      }
      case '--no-memory':
        options.memory = false;
        break;
      case '--records-events':
        options.recordsLarge = count('--records-events');
        recordsLargeGiven = true;
        break;
      case '--no-records':
        options.records = false;
        break;
      case '--no-transparency':
        options.transparency = false;
        break;
      case '--no-ml':
        options.ml = false;
        break;
      case '--no-exchange':
        options.exchange = false;
        break;
      case '--out':
        options.out = value();
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag}; see --help`);
    }
  }
  if (!recordsLargeGiven && options.memoryEvents >= FULL_MEMORY_EVENTS) options.recordsLarge = FULL_MEMORY_EVENTS;
  if (options.recordsLarge < options.recordsSmall) {
    throw new Error(`--records-events (${options.recordsLarge}) must be at least ${options.recordsSmall} (the small records ledger)`);
  }
  if (options.memoryEvents < options.verifyEvents) {
    throw new Error(`--events (${options.memoryEvents}) must be at least --verify-events (${options.verifyEvents})`);
  }
  return options;
}

/** The 1-, 5- and 15-minute load averages, rounded; a figure above the core count means others were running. */
export function loadAverage() {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}

export function machineFacts() {
  return {
    node: process.version,
    openssl: process.versions.openssl,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
  };
}

export const nowMs = () => performance.now();

/** Collects garbage when run with --expose-gc, so one measurement does not pay for the last one's garbage. */
export function settle() {
  globalThis.gc?.();
}

/**
 * Runs `step` (which does `perStep` operations) repeatedly for about `seconds`, after a short warm-up,
 * and returns { ops, seconds, rate }.
 */
export function rateSync(step, perStep, seconds) {
  const warmUntil = nowMs() + Math.min(200, seconds * 200);
  while (nowMs() < warmUntil) step();
  settle();
  let ops = 0;
  const start = nowMs();
  const until = start + seconds * 1000;
  do {
    step();
    ops += perStep;
  } while (nowMs() < until);
  const elapsed = (nowMs() - start) / 1000;
  return { ops, seconds: elapsed, rate: ops / elapsed };
}

/** The async twin of rateSync; `step` resolves to the number of operations it did. At least `minSteps` run. */
export async function rateAsync(step, seconds, minSteps = 1) {
  settle();
  let ops = 0;
  let steps = 0;
  const start = nowMs();
  const until = start + seconds * 1000;
  while (steps < minSteps || nowMs() < until) {
    ops += await step();
    steps++;
  }
  const elapsed = (nowMs() - start) / 1000;
  return { ops, seconds: elapsed, rate: ops / elapsed };
}

/** A small seeded PRNG (mulberry32), so both ledgers of a comparison get the same sequence of random picks. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Mean of two baseline samples taken before and after a section, with their spread, so drift is visible. */
export function baseline(before, after) {
  const rate = (before.rate + after.rate) / 2;
  return { rate, before: before.rate, after: after.rate, driftPercent: (100 * (after.rate - before.rate)) / rate };
}

/**
 * About 300 bytes of JSON, shaped like an ML provenance record. Distinct per index so no two events are
 * alike; built ahead of time so building it is not timed.
 */
export function samplePayload(i) {
  return {
    run: `run-${String(i).padStart(8, '0')}`,
    step: i,
    dataset: 'imagenet-subset-v2',
    digest: { sha256: (i.toString(16).padStart(8, '0') + 'c0ffee').repeat(5).slice(0, 64) },
    metrics: { loss: 1 / (i + 3), accuracy: 0.5 + (i % 1000) / 2001, lr: 0.0003 },
    tags: ['train', 'gpu', 'bf16'],
    host: `worker-${i % 16}`,
    notes: 'checkpoint written after eval',
  };
}

export function samplePayloads(count, offset = 0) {
  return Array.from({ length: count }, (_, i) => ({ type: 'run.metrics', payload: samplePayload(offset + i) }));
}

export function makeTempRoot() {
  return mkdtempSync(join(tmpdir(), 'provledger-bench-'));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export const fmtRate = (rate) => (rate >= 100 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1));
export const fmtRatio = (ratio) => `${(ratio * 100).toFixed(1)}%`;
export const fmtMiB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** A plain-text table with right-aligned numbers, for stdout. */
export function renderTable(headers, rows) {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const isNumeric = (s) => /^[\d.,%x ×-]+( MiB| ms)?$/.test(s) && s.trim() !== '-';
  const line = (cells) =>
    cells
      .map((cell, c) => {
        const s = String(cell ?? '');
        return isNumeric(s) ? s.padStart(widths[c]) : s.padEnd(widths[c]);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
