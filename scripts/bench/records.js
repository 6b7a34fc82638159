/**
 * The records section of the benchmark suite (issue 3): point reads (`show --version`, `show --at`),
 * `replay --to` and rebuild on two ledgers that hold the SAME records but differ in length, and the cost of
 * projections on the write path. Called by bench.js; plain ESM against the built library in dist/.
 *
 * Both ledgers hold RECORDS.count records × RECORDS.versions versions, written in rounds (every record's
 * version 1, then every record's version 2, …) and spread evenly over the whole log between filler events
 * (`app.metrics`, appendMany, sync off). So a record's versions sit a fifth of the log apart, and an `--at`
 * lookup binary-searches between seqs that are far apart, more so in the larger ledger. Events get one
 * distinct millisecond each from a synthetic clock, so `--at TIME` resolves to exactly one event.
 *
 * Every read figure is a rate on the larger ledger divided by the same read on the smaller one, measured
 * just before and just after it (the suite's baseline bracket), with the same seeded random picks.
 */
import { Ledger } from '../../dist/index.js';
import { baseline, loadAverage, nowMs, RECORDS, rateAsync, samplePayload, samplePayloads, seededRandom, settle } from './lib.js';

const KINDS = ['dataset', 'model', 'run', 'eval'];
const SEGMENT = 1000;

/** Where record event k (0-based, in write order) sits in a ledger of `total` events: spread evenly over 1..total-1. */
export function recordEventSeq(k, total) {
  const recordEvents = RECORDS.count * RECORDS.versions;
  return 1 + Math.floor((k * (total - 1)) / recordEvents);
}

const recordId = (r) => `rec-${String(r).padStart(6, '0')}`;
const recordData = (r, v) => ({ ...samplePayload(r * RECORDS.versions + v), version: v });

/**
 * Runs the records section. `context` carries the suite's helpers: { key, newDir, log, options, rawVerify }.
 * Returns the figures, and in `dirs` the two ledgers' directories (not figures: the caller takes them out).
 */
export async function measureRecords(context) {
  const { key, newDir, log, options } = context;
  const out = { records: RECORDS.count, versions: RECORDS.versions, smallEvents: options.recordsSmall, largeEvents: options.recordsLarge, loadAtStart: loadAverage() };

  const smallDir = newDir('records-small');
  const largeDir = newDir('records-large');
  log(`records: building ${label(options.recordsSmall)} and ${label(options.recordsLarge)}-event ledgers with the same ${RECORDS.count} records × ${RECORDS.versions} versions`);
  out.buildSmall = await buildRecordsLedger(smallDir, key, options.recordsSmall, log);
  out.buildLarge = await buildRecordsLedger(largeDir, key, options.recordsLarge, log);

  const small = await Ledger.open(smallDir);
  const large = await Ledger.open(largeDir);
  try {
    Object.assign(out, await measureReads(context, small, large));
    Object.assign(out, await measureRebuildAndVerify(context, large));
  } finally {
    await small.close();
    await large.close();
  }
  out.writes = await measureRecordWrites(context);
  out.loadAtEnd = loadAverage();
  // The ledgers stay on disk (the suite removes its temporary root at the end) for the transparency section.
  return { ...out, dirs: { small: smallDir, large: largeDir } };
}

/** Point reads and replay, each on the larger ledger against the smaller one. */
async function measureReads({ log, options }, small, large) {
  const out = { reads: {} };
  const shapes = { small: await ledgerShape(small, options.recordsSmall), large: await ledgerShape(large, options.recordsLarge) };
  for (const [name, read] of Object.entries(readKinds())) {
    log(`records: ${name} reads, ${label(options.recordsSmall)} vs ${label(options.recordsLarge)}`);
    out.reads[name] = await compare((ledger, shape, seconds) => readRate(ledger, shape, read, seconds), small, large, shapes, options.seconds);
  }
  log('records: replay --to a random point');
  out.replay = await compare((ledger, shape, seconds) => replayRate(ledger, shape, seconds), small, large, shapes, options.seconds);
  return out;
}

/** Rebuild of the larger ledger, then verify of it (which also checks the rebuilt projections), in this process. */
async function measureRebuildAndVerify(context, large) {
  const { log, options } = context;
  const out = {};
  log(`records: rebuild of the ${label(options.recordsLarge)}-event ledger`);
  settle();
  let start = nowMs();
  const rebuilt = await large.rebuild();
  const rebuildSeconds = (nowMs() - start) / 1000;
  out.rebuild = { events: rebuilt.events, seconds: rebuildSeconds, rate: rebuilt.events / rebuildSeconds };
  log(`records: verify of the ${label(options.recordsLarge)}-event ledger (after the rebuild)`);
  const before = context.rawVerify();
  settle();
  start = nowMs();
  const report = await large.verify();
  const verifySeconds = (nowMs() - start) / 1000;
  const verifyBaseline = baseline(before, context.rawVerify());
  if (!report.ok) throw new Error(`verify after rebuild reported failures: ${JSON.stringify(report.failures.slice(0, 3))}`);
  out.verifyLarge = { events: report.checked, seconds: verifySeconds, rate: report.checked / verifySeconds, verifyBaseline };
  return out;
}

/** Builds a ledger of exactly `total` events (genesis included) holding the standard records. */
async function buildRecordsLedger(dir, key, total, log) {
  const recordEvents = RECORDS.count * RECORDS.versions;
  if (total - 1 < recordEvents) throw new Error(`a records ledger needs at least ${recordEvents + 1} events, not ${total}`);
  let clockMs = Date.now() - total - 3_600_000; // one distinct ms per event, all in the past
  const ledger = await Ledger.create(dir, { key, sync: false, clock: () => clockMs++ });
  const start = nowMs();
  let lastLog = start;
  try {
    let k = 0;
    let seq = 1;
    while (seq < total) {
      // One segment: fillers and record writes issued in order in one tick, so they group-commit as one batch.
      const pending = [];
      let fillers = [];
      const end = Math.min(total, seq + SEGMENT);
      for (; seq < end; seq++) {
        if (k < recordEvents && recordEventSeq(k, total) === seq) {
          if (fillers.length > 0) pending.push(ledger.appendMany(fillers));
          fillers = [];
          pending.push(writeRecordEvent(ledger, k++));
        } else {
          fillers.push({ type: 'app.metrics', payload: samplePayload(seq) });
        }
      }
      if (fillers.length > 0) pending.push(ledger.appendMany(fillers));
      await Promise.all(pending);
      if (nowMs() - lastLog > 15_000) {
        lastLog = nowMs();
        log(`  … ${seq.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events`);
      }
    }
    const head = await ledger.head();
    if (head.seq !== total - 1 || k !== recordEvents) throw new Error(`records ledger: expected head ${total - 1} with ${recordEvents} record events, got ${head.seq} and ${k}`);
    // The layout the reads rely on: record events where recordEventSeq puts them.
    for (const probe of [0, RECORDS.count - 1, recordEvents - 1]) {
      const event = await ledger.get(recordEventSeq(probe, total));
      if (!event.type.startsWith('record.')) throw new Error(`records ledger: event ${event.seq} should be record event ${probe}, is ${event.type}`);
    }
  } finally {
    await ledger.close();
  }
  const seconds = (nowMs() - start) / 1000;
  return { events: total - 1, seconds, rate: (total - 1) / seconds };
}

function writeRecordEvent(ledger, k) {
  const r = k % RECORDS.count;
  const v = Math.floor(k / RECORDS.count) + 1;
  const data = recordData(r, v);
  return v === 1 ? ledger.records.create(KINDS[r % KINDS.length], data, { id: recordId(r) }) : ledger.records.update(recordId(r), data);
}

/** What the picks need: the head, the seq and time after which every record exists. */
async function ledgerShape(ledger, total) {
  const head = await ledger.head();
  const createsEnd = recordEventSeq(RECORDS.count - 1, total);
  const createsEndTimeMs = (await ledger.get(createsEnd)).timeMs;
  return { headSeq: head.seq, headTimeMs: head.timeMs, createsEnd, createsEndTimeMs };
}

/**
 * The four point reads. Each takes (ledger, shape, random) and does one `records.get`. `--at` points are drawn
 * after the last create, so every pick names an existing record, and as a fraction of the log, so both
 * ledgers get proportionally the same points.
 */
function readKinds() {
  const pickId = (random) => recordId(Math.floor(random() * RECORDS.count));
  return {
    'get(id)': (ledger, shape, random) => ledger.records.get(pickId(random)),
    'get(id, { version })': (ledger, shape, random) => ledger.records.get(pickId(random), { version: 1 + Math.floor(random() * RECORDS.versions) }),
    'get(id, { at: { seq } })': (ledger, shape, random) => {
      const id = pickId(random);
      const seq = shape.createsEnd + Math.floor(random() * (shape.headSeq - shape.createsEnd + 1));
      return ledger.records.get(id, { at: { seq } });
    },
    'get(id, { at: { timeMs } })': (ledger, shape, random) => {
      const id = pickId(random);
      const timeMs = shape.createsEndTimeMs + Math.floor(random() * (shape.headTimeMs - shape.createsEndTimeMs + 1));
      return ledger.records.get(id, { at: { timeMs } });
    },
  };
}

/** One read at a time, awaited (a CLI `show` does one). The first 200 reads warm caches and are not timed. */
async function readRate(ledger, shape, read, seconds) {
  const warm = seededRandom(7);
  for (let i = 0; i < 200; i++) await read(ledger, shape, warm);
  const random = seededRandom(42);
  return rateAsync(async () => {
    await read(ledger, shape, random);
    return 1;
  }, seconds, 50);
}

/** `replay({ to })` at random points after the last create, consuming every record: records per second. */
async function replayRate(ledger, shape, seconds) {
  const random = seededRandom(42);
  const perReplay = [];
  const result = await rateAsync(async () => {
    const seq = shape.createsEnd + Math.floor(random() * (shape.headSeq - shape.createsEnd + 1));
    const { records } = await ledger.replay({ to: { seq } });
    let n = 0;
    for await (const record of records) n += record.version > 0 ? 1 : 0;
    perReplay.push(n);
    return n;
  }, seconds, 3);
  if (perReplay.some((n) => n !== RECORDS.count)) throw new Error(`replay: expected ${RECORDS.count} records per replay, got ${[...new Set(perReplay)].join(', ')}`);
  return { ...result, replays: perReplay.length, recordsPerReplay: RECORDS.count };
}

/** small (before), large, small (after): the large rate against the mean of the two small ones. */
async function compare(measure, small, large, shapes, seconds) {
  const before = await measure(small, shapes.small, seconds);
  const big = await measure(large, shapes.large, seconds);
  const after = await measure(small, shapes.small, seconds);
  const smallBaseline = baseline(before, after);
  return { small: smallBaseline, large: big.rate, largeRun: big, ratio: big.rate / smallBaseline.rate };
}

/**
 * The write path with and without projections, each on a fresh ledger, sync off: 1,000 concurrent
 * `records.update` calls (one per record, so each decides against the stored state) against 1,000 concurrent
 * `append` calls of the same payloads as plain events. Plain before and after; the mean is the baseline.
 */
async function measureRecordWrites({ key, newDir, log, options }) {
  log(`records: write path, ${RECORDS.count} concurrent records.update vs ${RECORDS.count} concurrent append, sync off`);
  const plainDir = newDir('writes-plain');
  const recordsDir = newDir('writes-records');
  const plain = await Ledger.create(plainDir, { key, sync: false });
  const records = await Ledger.create(recordsDir, { key, sync: false });
  try {
    await Promise.all(Array.from({ length: RECORDS.count }, (_, r) => records.records.create(KINDS[r % KINDS.length], recordData(r, 1), { id: recordId(r) })));
    let round = 1;
    const updates = async () => {
      round++;
      await Promise.all(Array.from({ length: RECORDS.count }, (_, r) => records.records.update(recordId(r), recordData(r, round))));
      return RECORDS.count;
    };
    // The same payloads the record events carry, as plain events: same bytes signed and stored.
    let plainRound = 1;
    const appends = async () => {
      plainRound++;
      await Promise.all(Array.from({ length: RECORDS.count }, (_, r) => plain.append({ type: 'app.record', payload: { id: recordId(r), version: plainRound, data: recordData(r, plainRound) } })));
      return RECORDS.count;
    };
    const many = async () => {
      plainRound++;
      await plain.appendMany(Array.from({ length: RECORDS.count }, (_, r) => ({ type: 'app.record', payload: { id: recordId(r), version: plainRound, data: recordData(r, plainRound) } })));
      return RECORDS.count;
    };
    const before = await rateAsync(appends, options.seconds, 3);
    const update = await rateAsync(updates, options.seconds, 3);
    const after = await rateAsync(appends, options.seconds, 3);
    const appendMany = await rateAsync(many, options.seconds, 3);
    const plainBaseline = baseline(before, after);
    const sampleBytes = (await records.get((await records.head()).seq)).payload;
    return {
      recordUpdate: update,
      plainBaseline,
      ratio: update.rate / plainBaseline.rate,
      appendMany,
      ratioToAppendMany: update.rate / appendMany.rate,
      payloadJsonBytes: JSON.stringify(sampleBytes).length,
      sampleFillerJsonBytes: JSON.stringify(samplePayloads(1)[0].payload).length,
    };
  } finally {
    await plain.close();
    await records.close();
  }
}

function label(n) {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n);
}
