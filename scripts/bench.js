#!/usr/bin/env node
/**
 * provledger benchmark suite (see BENCHMARKS.md). Runs against the BUILT library in dist/, so run it through
 * `npm run bench` (which builds first and passes --expose-gc).
 *
 * Every figure is a rate measured over a wall-clock window and reported as a ratio against a raw limit
 * measured in the same run on the same machine (node:crypto Ed25519 sign or verify with a cached KeyObject),
 * because the machine is shared and absolute numbers drift. Baselines are sampled before and after the
 * section that uses them; their mean is the baseline and their drift is printed.
 *
 * Sections: 1 machine and load, 2 raw limits, 3 append modes, 4 verify throughput, 5 where verify's time
 * goes, 6 verify peak memory (fresh child process per ledger size), 7 records (point reads, replay, rebuild
 * and record writes on two ledgers with the same records; scripts/bench/records.js), 8 transparency (checkpoint
 * and proofs, their sizes, on the same two ledgers, and the Merkle tree's append cost;
 * scripts/bench/transparency.js), 9 ML (scripts/bench/ml.js), 10 export and import as ratios against verify
 * (scripts/bench/exchange.js). Results: a table on stdout and JSON in bench-out/results.json. Ledgers live in
 * a temporary directory that is removed at the end.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Ledger, SigningKey } from '../dist/index.js';
import { verifyChain } from '../dist/chain/verify.js';
import { decodeCanonical, encodeCanonical } from '../dist/codec/canonical.js';
import { VerifyingKey } from '../dist/crypto/ed25519.js';
import { eventHash, openEvent, sealEvent } from '../dist/event/event.js';
import { FORMAT_VERSION } from '../dist/event/format.js';
import { LevelLogStore } from '../dist/log/level-store.js';
import { createProjectionChecker } from '../dist/projections/check.js';
import {
  baseline,
  fmtMiB,
  fmtRate,
  fmtRatio,
  loadAverage,
  machineFacts,
  makeTempRoot,
  nowMs,
  parseOptions,
  rateAsync,
  rateSync,
  removeDir,
  renderTable,
  samplePayloads,
  settle,
} from './bench/lib.js';
import { measureRecords } from './bench/records.js';
import { measureTransparency, transparencyRows, transparencySummary } from './bench/transparency.js';
import { measureMl, mlRows, mlSummary } from './bench/ml.js';
import { exchangeRows, exchangeSummary, measureExchange } from './bench/exchange.js';

const run = promisify(execFile);
const BATCH = 1000;
const MESSAGE_BYTES = 400;
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

let options;
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  console.error(`bench: ${error.message}`);
  process.exit(2);
}
if (globalThis.gc === undefined) console.warn('bench: run with --expose-gc (npm run bench does) for steadier figures');

const root = makeTempRoot();
let dirCount = 0;
const newDir = (name) => join(root, `${++dirCount}-${name}`);
const cleanUp = () => removeDir(root);
process.on('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

const log = (message) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const results = { date: new Date().toISOString(), machine: machineFacts(), load: { start: loadAverage() }, options: { ...options, out: undefined } };

try {
  await main();
} finally {
  cleanUp();
}

async function main() {
  const { machine } = results;
  log(`node ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB; ledgers in ${root}`);
  log(`load average at start (1, 5, 15 min): ${results.load.start.join(', ')}`);
  const key = SigningKey.generate();
  const verifyingKey = key.verifyingKey;
  const message = randomBytes(MESSAGE_BYTES);
  const signature = key.sign(message);

  // 2. Raw limits. Each later figure is also bracketed by its own baseline samples (before and after).
  const rawSign = (seconds = options.seconds) => rateSync(() => key.sign(message), 1, seconds);
  const rawVerify = (seconds = options.seconds) => rateSync(() => verifyingKey.verify(signature, message), 1, seconds);
  const rawParallel = () => rawParallelVerify(key, machine.cores);
  log('raw sign / verify');
  const sign = rawSign();
  const verify = rawVerify();
  const parallel = await rawParallel();
  results.raw = {
    messageBytes: MESSAGE_BYTES,
    cores: machine.cores,
    signPerSecond: sign.rate,
    verifyPerSecond: verify.rate,
    verifyLimitPerSecond: verify.rate * machine.cores,
    parallelVerifyMeasuredPerSecond: parallel.rate,
  };

  // 3. Appends, each mode bracketed by raw sign samples.
  results.append = await measureAppends(key, () => rawSign(options.seconds / 2));
  results.append.seal = measureSeal(key, () => rawSign(options.seconds / 2));

  // 4. Verify throughput, on a ledger built with batched appends, sync off.
  const ledgerDir = newDir('verify');
  log(`building a ${options.verifyEvents.toLocaleString('en-US')}-event ledger (appendMany ×${BATCH}, sync off)`);
  const build = await buildLedger(ledgerDir, key, options.verifyEvents);
  results.verify = { events: options.verifyEvents, buildPerSecond: build.rate };
  const v1 = rawVerify();
  const p1 = await rawParallel();
  results.verify.defaultThreads = await measureVerify(ledgerDir, undefined, options.verifyRepeats);
  const v2 = rawVerify();
  const p2 = await rawParallel();
  results.verify.oneThread = await measureVerify(ledgerDir, 1, 1);
  const v3 = rawVerify();
  // Default threads against the nominal limit (single verify × cores) and against what all cores really gave.
  results.verify.verifyBaseline = baseline(v1, v2);
  results.verify.parallelBaseline = baseline(p1, p2);
  results.verify.oneThreadBaseline = baseline(v2, v3);

  // 4b. Audit (issue 4): the verify pass plus per-key tallies, on the same ledger, each bracketed by a verify run.
  const verifyBefore = await measureVerify(ledgerDir, undefined, 1);
  results.audit = await measureAudit(ledgerDir);
  const verifyAfter = await measureVerify(ledgerDir, undefined, 1);
  results.audit.verifyBaseline = (verifyBefore.rate + verifyAfter.rate) / 2;

  // 5. Where verify's time goes.
  results.breakdown = await measureBreakdown(ledgerDir, results.verify.oneThreadBaseline.rate, machine.cores);

  // 6. Peak memory of verify, each size in a fresh process.
  if (options.memory) results.memory = await measureMemory(ledgerDir, key);

  // 7. Records: reads, replay and rebuild on two ledgers with the same records; the write path's projection cost.
  let recordLedgers;
  if (options.records) {
    const { dirs, ...records } = await measureRecords({ key, newDir, log, options, rawVerify: () => rawVerify(options.seconds / 2) });
    results.records = records;
    recordLedgers = dirs;
  }

  // 8. Transparency (issue 6): checkpoints and proofs on the records ledgers (built here without them), the tree's append cost.
  if (options.transparency) {
    results.transparency = await measureTransparency({
      key,
      newDir,
      log,
      options,
      ledgers: recordLedgers,
      buildLedger: (dir, total) => buildLedger(dir, key, total),
      appendManyRate: results.append.modes.d?.rate,
    });
  }

  // 9. ML provenance (issue 5): artifact hashing beside sha256sum, lineage walks now and in the past.
  if (options.ml) results.ml = await measureMl({ key, newDir, log, options });

  // 10. Export and import (issue 5): JSONL export and import of one ledger, as ratios against verify of it.
  if (options.exchange) results.exchange = await measureExchange({ key, newDir, log, options, buildLedger: (dir, k, total) => buildLedger(dir, k, total) });

  results.load.end = loadAverage();
  log(`load average at end (1, 5, 15 min): ${results.load.end.join(', ')}`);
  printReport();
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${options.out}`);
}

/** Raw verify on every core at once: one worker per core, each verifying in a tight loop. */
async function rawParallelVerify(key, cores) {
  const messages = Array.from({ length: 64 }, () => new Uint8Array(randomBytes(MESSAGE_BYTES)));
  const signatures = messages.map((m) => key.sign(m));
  const publicKeyDer = new Uint8Array(Buffer.concat([SPKI_PREFIX, key.publicKey]));
  const url = new URL('./bench/raw-verify-worker.js', import.meta.url);
  const workers = Array.from({ length: cores }, () => new Worker(url, { workerData: { publicKeyDer, messages, signatures, seconds: options.seconds } }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
    const replies = await Promise.all(
      workers.map((w) => {
        const reply = new Promise((resolve, reject) => w.once('message', resolve).once('error', reject));
        w.postMessage('go');
        return reply;
      }),
    );
    return { rate: replies.reduce((sum, r) => sum + r.ops / r.seconds, 0), perWorker: replies.map((r) => r.ops / r.seconds) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The five append modes of the issue, and (d) without the signing worker, each on a fresh ledger. */
async function measureAppends(key, rawSign) {
  const payloads = samplePayloads(BATCH);
  const modes = [
    { id: 'a', name: 'one at a time, sync on', sync: true, step: oneAtATime, minSteps: 20 },
    { id: 'b', name: 'one at a time, sync off', sync: false, step: oneAtATime, minSteps: 200 },
    { id: 'c', name: `appendMany ×${BATCH}, sync on`, sync: true, step: batched, minSteps: 3 },
    { id: 'd', name: `appendMany ×${BATCH}, sync off`, sync: false, step: batched, minSteps: 3 },
    { id: 'e', name: `${BATCH} concurrent append(), sync on`, sync: true, step: concurrent, minSteps: 3 },
    // (d) again with every group signed in the calling thread: what the signing worker (SPEC §6.3) adds.
    { id: 'f', name: `appendMany ×${BATCH}, sync off, no signing worker`, sync: false, step: batched, minSteps: 3, ledger: { workerSigningFrom: Number.POSITIVE_INFINITY } },
  ];
  const out = { payloadJsonBytes: Math.round(payloads.reduce((s, p) => s + JSON.stringify(p.payload).length, 0) / payloads.length), modes: {} };
  for (const mode of modes) {
    log(`append (${mode.id}) ${mode.name}`);
    const dir = newDir(`append-${mode.id}`);
    const ledger = await Ledger.create(dir, { key, sync: mode.sync, ...(mode.ledger ?? {}) });
    let n = 0;
    try {
      const before = rawSign();
      const result = await rateAsync(() => mode.step(ledger, payloads, n++), options.seconds, mode.minSteps);
      const signBaseline = baseline(before, rawSign());
      out.modes[mode.id] = { name: mode.name, sync: mode.sync, events: result.ops, seconds: result.seconds, rate: result.rate, signBaseline, ratio: result.rate / signBaseline.rate };
    } finally {
      await ledger.close();
      removeDir(dir);
    }
  }
  return out;
}

async function oneAtATime(ledger, payloads, n) {
  await ledger.append(payloads[n % payloads.length]);
  return 1;
}

async function batched(ledger, payloads) {
  await ledger.appendMany(payloads);
  return payloads.length;
}

/** Issues every append before awaiting any, so the ledger group-commits them (one batch, one fsync). */
async function concurrent(ledger, payloads) {
  await Promise.all(payloads.map((p) => ledger.append(p)));
  return payloads.length;
}

/** sealEvent alone (encode body, sign, encode envelope, hash): the CPU cost of an append without storage. */
function measureSeal(key, rawSign) {
  const payloads = samplePayloads(BATCH).map((p) => p.payload);
  const prev = new Uint8Array(32);
  let i = 0;
  const seal = () => {
    const payload = payloads[i++ % payloads.length];
    sealEvent({ v: FORMAT_VERSION, seq: i, prev, ts: 1_790_000_000_000, type: 'run.metrics', author: key.publicKey, payload }, key);
  };
  const encodeBody = () => {
    const payload = payloads[i++ % payloads.length];
    encodeCanonical({ v: FORMAT_VERSION, seq: i, prev, ts: 1_790_000_000_000, type: 'run.metrics', author: key.publicKey, payload });
  };
  const before = rawSign();
  const sealPerSecond = rateSync(seal, 1, options.seconds).rate;
  const signBaseline = baseline(before, rawSign());
  return { sealPerSecond, signBaseline, ratio: sealPerSecond / signBaseline.rate, encodeBodyPerSecond: rateSync(encodeBody, 1, options.seconds).rate };
}

/** Creates a ledger of `total` events (genesis included) with appendMany of BATCH, sync off. */
async function buildLedger(dir, key, total) {
  const ledger = await Ledger.create(dir, { key, sync: false });
  try {
    return await extendLedger(ledger, total);
  } finally {
    await ledger.close();
  }
}

async function extendLedger(ledger, total) {
  const head = await ledger.head();
  let next = head.seq + 1;
  const start = nowMs();
  const appended = total - next;
  let lastLog = start;
  while (next < total) {
    const count = Math.min(BATCH, total - next);
    await ledger.appendMany(samplePayloads(count, next));
    next += count;
    if (nowMs() - lastLog > 15_000) {
      lastLog = nowMs();
      log(`  … ${next.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events`);
    }
  }
  const seconds = (nowMs() - start) / 1000;
  return { events: appended, seconds, rate: appended / seconds };
}

/** Runs ledger.verify `repeats` times; reports the best rate, every run, and process CPU use. */
async function measureVerify(dir, threads, repeats) {
  const runs = [];
  for (let r = 0; r < repeats; r++) {
    log(`verify threads=${threads ?? 'default'} (run ${r + 1}/${repeats})`);
    const ledger = await Ledger.open(dir);
    try {
      settle();
      const cpuBefore = process.cpuUsage();
      const start = nowMs();
      const report = await ledger.verify(threads === undefined ? {} : { threads });
      const seconds = (nowMs() - start) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      if (!report.ok) throw new Error(`verify reported failures on a clean ledger: ${JSON.stringify(report.failures.slice(0, 3))}`);
      runs.push({ checked: report.checked, seconds, rate: report.checked / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
    } finally {
      await ledger.close();
    }
  }
  const best = runs.reduce((a, b) => (b.rate > a.rate ? b : a));
  return { threads: threads ?? 'default', rate: best.rate, cpuCoresBusy: best.cpuSeconds / best.seconds, runs };
}

/** Runs ledger.audit once; reports events/s and the keys it tallied. */
async function measureAudit(dir) {
  log('audit');
  const ledger = await Ledger.open(dir);
  try {
    settle();
    const start = nowMs();
    const report = await ledger.audit();
    const seconds = (nowMs() - start) / 1000;
    if (!report.ok) throw new Error(`audit reported problems on a clean ledger: ${JSON.stringify(report.problems.slice(0, 3))}`);
    return { checked: report.checked, seconds, rate: report.checked / seconds, keys: report.keys.length };
  } finally {
    await ledger.close();
  }
}

/**
 * Splits verify's per-event main-thread work into the stages the code runs now (SPEC §7.1 step 3), each timed
 * alone in this thread over the first events of the ledger, and times the whole pipeline with signature
 * checks stubbed out: the main thread's share, which the worker threads cannot take over.
 *
 * What checkChunk does per event since "Faster verify and append": sha256 of the stored bytes once, then
 * openEvent(bytes, max, knownHash): decodeCanonical (one strict pass, no re-encode and compare), the shape
 * checks, and the signed message sliced from the envelope (no encodeCanonical(body)); then
 * VerifyingKey.fromBytes. Ledger.verify also runs the projection checks (SPEC §12.4) on this thread, so the
 * pipeline is timed both without and with them; the bound uses the latter.
 */
async function measureBreakdown(dir, verifyRate, cores) {
  log('verify breakdown');
  const store = await LevelLogStore.open(dir, { create: false });
  try {
    const entries = [];
    for await (const entry of store.entries({ to: options.breakdownEvents - 1 })) entries.push(entry);
    const values = entries.map((e) => e.value);
    const hashes = values.map((v) => eventHash(v));
    const opened = values.map((v, i) => openEvent(v, undefined, hashes[i]));
    const eventBytes = values.reduce((s, v) => s + v.length, 0) / values.length;
    const messageBytes = opened.reduce((s, e) => s + e.signedMessage.length, 0) / opened.length;
    const author = opened[1].body.author;
    const key = VerifyingKey.fromBytes(author);
    const window = Math.min(options.seconds, 1.5);
    const over = (fn) => {
      let i = 0;
      return rateSync(() => fn(i++ % values.length), 1, window).rate;
    };
    const stages = {
      sha256EventHash: over((i) => eventHash(values[i])),
      decodeCanonicalStrictRead: over((i) => decodeCanonical(values[i])),
      openEventKnownHash: over((i) => openEvent(values[i], undefined, hashes[i])),
      verifyingKeyFromBytes: over(() => VerifyingKey.fromBytes(author)),
      signatureVerify: over((i) => key.verify(opened[i].signature, opened[i].signedMessage)),
    };
    // The whole ledger through the real pipeline, signatures answered "valid" at once: read + decode + checks.
    const readAll = await rateAsync(async () => {
      let n = 0;
      for await (const entry of store.entries()) n += entry.value.length > 0 ? 1 : 0;
      return n;
    }, 0, 1);
    const stubbed = (withProjections) => async () => {
      const report = await verifyChain(store.entries(), {
        verifySignatures: async (jobs) => jobs.map(() => true),
        extraChecks: withProjections ? createProjectionChecker(store) : undefined,
      });
      if (!report.ok) throw new Error(`stubbed verifyChain reported failures: ${JSON.stringify(report.failures.slice(0, 3))}`);
      return report.checked;
    };
    const best = async (step) => {
      const runs = [await rateAsync(step, 0, 1), await rateAsync(step, 0, 1)];
      return runs[0].rate > runs[1].rate ? runs[0] : runs[1];
    };
    const chainOnly = await best(stubbed(false));
    const mainThread = await best(stubbed(true));
    // On `cores` cores, with main-thread work m and signature work s per event (both in seconds), verify
    // can run no faster than min(1/m, cores/(m+s)) events/s; as a share of the raw limit cores/s:
    const bound = (rate) => {
      const m = 1 / rate;
      const s = 1 / verifyRate;
      const ceiling = Math.min(1 / m, cores / (m + s));
      return { ceiling, share: ceiling / (cores * verifyRate) };
    };
    return {
      sampleEvents: entries.length,
      eventBytes,
      signedMessageBytes: messageBytes,
      stagesPerSecond: stages,
      storeReadPerSecond: readAll.rate,
      chainOnlyPerSecond: chainOnly.rate,
      mainThreadPerSecond: mainThread.rate,
      ceilingPerSecond: bound(mainThread.rate).ceiling,
      ceilingShareOfRawLimit: bound(mainThread.rate).share,
      chainOnlyCeilingShareOfRawLimit: bound(chainOnly.rate).share,
    };
  } finally {
    await store.close();
  }
}

/** Verifies the base ledger and a larger one in fresh child processes and compares their peaks. */
async function measureMemory(dir, signingKey) {
  const child = async (size) => {
    log(`verify-child on ${size.toLocaleString('en-US')} events`);
    const script = new URL('./bench/verify-child.js', import.meta.url).pathname;
    const { stdout } = await run(process.execPath, ['--expose-gc', script, dir], { maxBuffer: 1 << 20 });
    const reply = JSON.parse(stdout.trim().split('\n').pop());
    if (!reply.ok || reply.checked !== size) throw new Error(`verify-child: unexpected report ${stdout}`);
    return reply;
  };
  const small = await child(options.verifyEvents);
  log(`extending the ledger to ${options.memoryEvents.toLocaleString('en-US')} events`);
  const ledger = await Ledger.open(dir, { key: signingKey, sync: false });
  let extend;
  try {
    extend = await extendLedger(ledger, options.memoryEvents);
  } finally {
    await ledger.close();
  }
  const large = await child(options.memoryEvents);
  return {
    small,
    large,
    extendRate: extend.rate,
    maxRssRatio: large.maxRssBytes / small.maxRssBytes,
    peakHeapRatio: large.peakHeapUsedBytes / small.peakHeapUsedBytes,
    fullSize: options.memoryEvents >= 1_000_000,
  };
}

/** Rows of the records section: each read on the large ledger against the small one, replay, rebuild, writes. */
function recordRows(records, label) {
  const sizes = `${label(records.smallEvents)} → ${label(records.largeEvents)}`;
  const near1 = (ratio) => (ratio >= 0.8 ? 'met' : 'NOT met');
  const rows = [];
  for (const [name, r] of Object.entries(records.reads)) {
    rows.push(['records', `${name}, ${sizes}`, `${fmtRate(r.small.rate)} → ${fmtRate(r.large)}`, label(records.smallEvents), fmtRatio(r.ratio), '≈ 100% (≥ 80%)', near1(r.ratio)]);
  }
  const rp = records.replay;
  rows.push(['records', `replay --to (${records.records} records/replay), ${sizes}`, `${fmtRate(rp.small.rate)} → ${fmtRate(rp.large)}`, label(records.smallEvents), fmtRatio(rp.ratio), '≈ 100% (≥ 80%)', near1(rp.ratio)]);
  const v = records.verifyLarge;
  rows.push(['records', `rebuild, ${label(records.largeEvents)} events`, fmtRate(records.rebuild.rate), 'verify', fmtRatio(records.rebuild.rate / v.rate), '-', '']);
  rows.push(['records', `verify after rebuild, ${label(records.largeEvents)} events`, fmtRate(v.rate), 'raw limit', fmtRatio(v.rate / (v.verifyBaseline.rate * results.machine.cores)), '-', '']);
  const w = records.writes;
  rows.push(['records', `${records.records} concurrent records.update, sync off`, fmtRate(w.recordUpdate.rate), 'append ×1000 conc.', fmtRatio(w.ratio), '-', '']);
  rows.push(['records', `${records.records} concurrent records.update, sync off`, fmtRate(w.recordUpdate.rate), 'appendMany ×1000', fmtRatio(w.ratioToAppendMany), '-', '']);
  return rows;
}

function printReport() {
  const { machine, raw, append, verify, breakdown, memory, records, load } = results;
  const cores = machine.cores;
  const verifyBase = verify.verifyBaseline.rate;
  const limit = verifyBase * cores;
  const verdict = (ratio, target) => (ratio >= target ? 'met' : 'NOT met');
  const label = (n) => (n >= 1000 ? `${(n / 1000).toLocaleString('en-US')}k` : String(n));
  const rows = [
    ['raw', 'node:crypto sign, cached KeyObject (400 B)', fmtRate(raw.signPerSecond), '-', '-', '-', ''],
    ['raw', 'node:crypto verify, 1 thread (400 B)', fmtRate(raw.verifyPerSecond), '-', '-', '-', ''],
    ['raw', `raw verify limit = verify × ${cores} cores`, fmtRate(raw.verifyLimitPerSecond), '-', '-', '-', ''],
    ['raw', `verify measured on ${cores} workers at once`, fmtRate(raw.parallelVerifyMeasuredPerSecond), 'raw limit', fmtRatio(raw.parallelVerifyMeasuredPerSecond / raw.verifyLimitPerSecond), '100% if idle', ''],
  ];
  for (const [id, mode] of Object.entries(append.modes)) {
    const isBatched = id === 'c' || id === 'd';
    rows.push([`append ${id}`, mode.name, fmtRate(mode.rate), 'raw sign', fmtRatio(mode.ratio), isBatched ? '≥ 50%' : '-', isBatched ? verdict(mode.ratio, 0.5) : '']);
  }
  rows.push(['append', 'sealEvent alone (encode, sign, hash)', fmtRate(append.seal.sealPerSecond), 'raw sign', fmtRatio(append.seal.ratio), '-', '']);
  const size = label(verify.events);
  const def = verify.defaultThreads;
  const one = verify.oneThread;
  rows.push(['verify', `${size} events, default threads`, fmtRate(def.rate), 'raw limit', fmtRatio(def.rate / limit), '≥ 80%', verdict(def.rate / limit, 0.8)]);
  rows.push(['verify', `${size} events, default threads`, fmtRate(def.rate), `${cores} workers`, fmtRatio(def.rate / verify.parallelBaseline.rate), '-', '']);
  if (results.audit !== undefined) {
    rows.push(['audit', `${size} events, default threads`, fmtRate(results.audit.rate), 'verify (same run)', fmtRatio(results.audit.rate / results.audit.verifyBaseline), '-', '']);
  }
  rows.push(['verify', `${size} events, threads: 1`, fmtRate(one.rate), 'raw verify', fmtRatio(one.rate / verify.oneThreadBaseline.rate), '-', '']);
  rows.push(['verify', 'parallel speed-up (default / threads: 1)', `${(def.rate / one.rate).toFixed(2)}x`, '-', '-', `${cores}x ideal`, '']);
  rows.push(['verify', 'main thread alone: chain checks (signatures stubbed)', fmtRate(breakdown.chainOnlyPerSecond), 'raw verify', fmtRatio(breakdown.chainOnlyPerSecond / verify.oneThreadBaseline.rate), '-', '']);
  rows.push(['verify', 'main thread alone: chain + projection checks', fmtRate(breakdown.mainThreadPerSecond), 'raw verify', fmtRatio(breakdown.mainThreadPerSecond / verify.oneThreadBaseline.rate), '-', '']);
  rows.push(['verify', `best possible on ${cores} cores with that main thread`, fmtRate(breakdown.ceilingPerSecond), 'raw limit', fmtRatio(breakdown.ceilingShareOfRawLimit), '-', '']);
  if (memory !== undefined) {
    const s = memory.small;
    const l = memory.large;
    rows.push(['memory', `verify maxRSS ${label(s.checked)} → ${label(l.checked)}`, `${fmtMiB(s.maxRssBytes)} → ${fmtMiB(l.maxRssBytes)}`, label(s.checked), `${memory.maxRssRatio.toFixed(2)}x`, '~1x', memory.maxRssRatio <= 1.25 ? 'met' : 'NOT met']);
    rows.push(['memory', `verify peak heapUsed ${label(s.checked)} → ${label(l.checked)}`, `${fmtMiB(s.peakHeapUsedBytes)} → ${fmtMiB(l.peakHeapUsedBytes)}`, label(s.checked), `${memory.peakHeapRatio.toFixed(2)}x`, '~1x', memory.peakHeapRatio <= 1.25 ? 'met' : 'NOT met']);
    rows.push(['verify', `${label(l.checked)} events, default threads (child)`, fmtRate(l.rate), 'raw limit', fmtRatio(l.rate / limit), '-', '']);
  }
  if (records !== undefined) rows.push(...recordRows(records, label));
  if (results.transparency !== undefined) rows.push(...transparencyRows(results.transparency, label));
  if (results.ml !== undefined) rows.push(...mlRows(results.ml));
  if (results.exchange !== undefined) rows.push(...exchangeRows(results.exchange, label));

  const out = [];
  out.push(`provledger benchmarks — ${results.date}`);
  out.push(`machine: node ${machine.node} (OpenSSL ${machine.openssl}), ${machine.cpuModel}, ${cores} cores, ${machine.totalMemoryGiB} GiB, ${machine.platform}`);
  out.push(
    `run: ${options.quick ? 'QUICK (smoke sizes; not the figures of record)' : 'default'}; ${options.seconds} s windows; ` +
      `append payload ≈ ${append.payloadJsonBytes} B JSON; stored event ≈ ${Math.round(breakdown.eventBytes)} B; signed message ≈ ${Math.round(breakdown.signedMessageBytes)} B`,
  );
  if (memory !== undefined && !memory.fullSize) {
    out.push(`memory check compares ${verify.events.toLocaleString('en-US')} vs ${options.memoryEvents.toLocaleString('en-US')} events, not 100k vs 1M; pass --events 1000000 or BENCH_FULL=1 for the full check`);
  }
  out.push('ratios use the baseline sampled just before and after each measurement ("vs" column); see BENCHMARKS.md');
  out.push(`load average (1, 5, 15 min): start ${load.start.join(', ')}; end ${load.end.join(', ')}${Math.max(load.start[0], load.end[0]) > cores * 0.5 ? ` (other work was running on these ${cores} cores)` : ''}`);
  if (records !== undefined && records.largeEvents < 1_000_000) {
    out.push(`records compares ${label(records.smallEvents)} vs ${label(records.largeEvents)} events, not 10k vs 1M; pass --events 1000000 or BENCH_FULL=1 for the full check`);
  }
  out.push('');
  out.push(renderTable(['section', 'measure', 'rate /s (or size)', 'vs', 'ratio', 'target', 'verdict'], rows));
  out.push('');
  const drift = (b) => `${fmtRate(b.before)}→${fmtRate(b.after)}`;
  out.push(`baseline samples (before→after): sign ${Object.entries(append.modes).map(([id, m]) => `${id} ${drift(m.signBaseline)}`).join(', ')}; ` +
    `verify ${drift(verify.verifyBaseline)}; ${cores} workers ${drift(verify.parallelBaseline)}; threads:1 ${drift(verify.oneThreadBaseline)}`);
  out.push(`verify CPU: default threads kept ${def.cpuCoresBusy.toFixed(2)} of ${cores} cores busy, threads: 1 kept ${one.cpuCoresBusy.toFixed(2)}; default runs: ${def.runs.map((r) => fmtRate(r.rate)).join(', ')}`);
  const st = breakdown.stagesPerSecond;
  const us = (rate) => (1e6 / rate).toFixed(1);
  out.push(
    `main-thread µs per event: chain + projection checks without signatures ${us(breakdown.mainThreadPerSecond)} = chain checks ${us(breakdown.chainOnlyPerSecond)} ` +
      `[store read ${us(breakdown.storeReadPerSecond)} + sha256 once ${us(st.sha256EventHash)} + openEvent with known hash ${us(st.openEventKnownHash)} ` +
      `(decodeCanonical = one strict read ${us(st.decodeCanonicalStrictRead)}, rest shape checks and the body slice) + VerifyingKey.fromBytes ${us(st.verifyingKeyFromBytes)} + the rest] ` +
      `+ projection checks ${(1e6 / breakdown.mainThreadPerSecond - 1e6 / breakdown.chainOnlyPerSecond).toFixed(1)}; signature verify ${us(st.signatureVerify)} (worker side)`,
  );
  if (records !== undefined) {
    const w = records.writes;
    out.push(
      `records: built ${label(records.smallEvents)} at ${fmtRate(records.buildSmall.rate)}/s and ${label(records.largeEvents)} at ${fmtRate(records.buildLarge.rate)}/s; ` +
        `small-ledger samples (before→after): ${Object.entries(records.reads).map(([name, r]) => `${name} ${drift(r.small)}`).join(', ')}, replay ${drift(records.replay.small)}; ` +
        `record payload ≈ ${w.payloadJsonBytes} B JSON; plain append samples ${drift(w.plainBaseline)}; load during records ${records.loadAtStart[0]} → ${records.loadAtEnd[0]}`,
    );
  }
  if (results.transparency !== undefined) out.push(transparencySummary(results.transparency, label));
  if (results.ml !== undefined) out.push(mlSummary(results.ml));
  if (results.exchange !== undefined) out.push(exchangeSummary(results.exchange));
  console.log(out.join('\n'));
}
