/**
 * The ML provenance section of the benchmark suite (issue 5): artifact hashing beside coreutils `sha256sum` on
 * the same file in the same run, and lineage walks on a large record graph, now and as of a past point.
 *
 * Hashing: one file of `hashMiB` (1 GiB by default, 64 MiB in --quick), hashed alternately by `digestPaths` and
 * by `sha256sum` (a child process, timed from spawn to exit), warm cache, three rounds each; MB/s of each and the
 * ratio of the medians.
 *
 * Lineage: a ledger of `graphRecords` records (100,000 by default, 5,000 in --quick) joined as a binary tree by
 * `derivedFrom` links (record i derives from record ⌊(i−1)/2⌋), written with concurrent calls so they group-commit.
 * Walks up from records created in the first quarter (their ancestors all predate the midpoint) are timed now and
 * as of the midpoint, alternating, with the same seeded picks: the same records and links walked, so the ratio is
 * the cost of time travel per record (finding each record's version as of the point: a binary search over its
 * versions, checked against the log), which does not depend on how long the ledger is. A walk down one subtree
 * of about 1,000–2,000 records gives the cost per record visited on a large walk.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Ledger, digestPaths, toSampleList } from '../../dist/index.js';
import { loadAverage, nowMs, seededRandom, settle } from './lib.js';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureMl(context) {
  const { key, newDir, log, options } = context;
  const hashMiB = options.quick ? 64 : 1024;
  const graphRecords = options.quick ? 5_000 : 100_000;
  const sampleCount = options.quick ? 100_000 : 1_000_000;
  // BENCH_ML_PARTS=samples (a comma list of hashing, lineage, samples) runs only some parts; default all.
  const parts = new Set((process.env.BENCH_ML_PARTS ?? 'hashing,lineage,samples').split(','));
  const out = { loadAtStart: loadAverage(), hashMiB, graphRecords, sampleCount };
  if (parts.has('hashing')) out.hashing = await measureHashing(newDir('hash'), hashMiB, log);
  if (parts.has('lineage')) out.lineage = await measureLineage(newDir('graph'), key, graphRecords, options, log);
  if (parts.has('samples')) out.samples = await measureSampleSets(newDir, key, sampleCount, log);
  out.loadAtEnd = loadAverage();
  return out;
}

/**
 * Sample sets (SPEC §21.5): recording `count` fingerprints through the library (parse and sort with
 * `toSampleList`, then `samples.add`: leaf hashing, chunk events, one atomic batch), beside two baselines in the
 * same run: one SHA-256 over the same 32-byte fingerprints (the floor of any Merkle root over them), and
 * `appendMany` of the same chunk payloads as plain `app.samples` events (the cost of storing the bytes without
 * the tree, the record and the index). Then `prove` (median of 50 random members) at `count` and at 10,000, and
 * one verify of the whole ledger.
 */
async function measureSampleSets(newDir, key, count, log) {
  const random = seededRandom(21);
  const fingerprints = Array.from({ length: count }, () => randomBytes(32).toString('hex'));
  const dirSize = (dir) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  log(`ml: sample sets: ${count.toLocaleString('en-US')} fingerprints`);
  settle();
  let start = nowMs();
  const floor = createHash('sha256');
  for (const fingerprint of fingerprints) floor.update(Buffer.from(fingerprint, 'hex'));
  floor.digest();
  const sha256Ms = nowMs() - start;
  const record = async (dir, n) => {
    const ledger = await Ledger.create(dir, { key, sync: false });
    try {
      settle();
      const t0 = nowMs();
      const list = toSampleList({ fingerprints: fingerprints.slice(0, n) });
      const t1 = nowMs();
      const result = await ledger.samples.add({ name: 'samples', samples: list });
      const t2 = nowMs();
      const picks = Array.from({ length: 50 }, () => list.fingerprints[Math.floor(random() * n)]);
      const prove = [];
      let proofBytes = 0;
      for (const fingerprint of picks) {
        const t = nowMs();
        const proof = await ledger.samples.prove('samples', fingerprint);
        prove.push(nowMs() - t);
        proofBytes = proof.text.length;
      }
      return { ledger, parseMs: t1 - t0, addMs: t2 - t1, events: result.chunks + 1, proveMedianMs: median(prove), proofBytes, list };
    } catch (error) {
      await ledger.close();
      throw error;
    }
  };
  const bigDir = newDir('samples-1m');
  const big = await record(bigDir, count);
  log('ml: sample sets: verify of the whole ledger');
  settle();
  start = nowMs();
  const report = await big.ledger.verify();
  const verifyMs = nowMs() - start;
  if (!report.ok) throw new Error(`ml: the sample-set ledger does not verify: ${JSON.stringify(report.failures.slice(0, 3))}`);
  const payloads = (await Promise.all(Array.from({ length: big.events - 1 }, (_, seq) => big.ledger.get(seq + 1)))).map((event) => event.payload);
  const eventBytes = (await Promise.all(Array.from({ length: big.events }, (_, seq) => big.ledger.get(seq + 1)))).reduce((sum, event) => sum + JSON.stringify(event.payload).length, 0);
  await big.ledger.close();
  const storeBytes = dirSize(bigDir);
  log('ml: sample sets: appendMany of the same chunk payloads as plain events (baseline)');
  const plain = await Ledger.create(newDir('samples-plain'), { key, sync: false });
  settle();
  start = nowMs();
  await plain.appendMany(payloads.map((payload) => ({ type: 'app.samples', payload })));
  const appendManyMs = nowMs() - start;
  await plain.close();
  const small = await record(newDir('samples-10k'), 10_000);
  await small.ledger.close();
  return {
    count,
    sha256Ms,
    parseMs: big.parseMs,
    addMs: big.addMs,
    events: big.events,
    payloadJsonBytes: eventBytes,
    storeBytes,
    verifyMs,
    appendManyMs,
    addOverAppendMany: big.addMs / appendManyMs,
    prove: { atCount: big.proveMedianMs, at10k: small.proveMedianMs, ratio: big.proveMedianMs / small.proveMedianMs, proofBytes: big.proofBytes },
  };
}

async function measureHashing(dir, mib, log) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'blob.bin');
  log(`ml: writing a ${mib} MiB file`);
  const block = randomBytes(1 << 20);
  const fd = openSync(file, 'w');
  for (let i = 0; i < mib; i++) {
    block[0] = i & 0xff; // blocks differ, so no layer can shortcut repeats
    writeSync(fd, block);
  }
  closeSync(fd);
  const bytes = mib * 2 ** 20;
  const ours = [];
  const coreutils = [];
  let expected;
  // One untimed pass of each warms the page cache.
  await sha256sum(file);
  await digestPaths([file]);
  for (let round = 0; round < 3; round++) {
    log(`ml: hashing round ${round + 1}/3 (digestPaths, then sha256sum)`);
    settle();
    let start = nowMs();
    const digest = await digestPaths([file]);
    ours.push(bytes / 2 ** 20 / ((nowMs() - start) / 1000));
    start = nowMs();
    const theirs = await sha256sum(file);
    coreutils.push(bytes / 2 ** 20 / ((nowMs() - start) / 1000));
    if (digest.sha256 !== theirs) throw new Error(`ml: digestPaths gave ${digest.sha256}, sha256sum ${theirs}`);
  }
  return { ours: { samples: ours, median: median(ours) }, sha256sum: { samples: coreutils, median: median(coreutils) }, ratio: median(ours) / median(coreutils) };
}

function sha256sum(file) {
  return new Promise((resolve, reject) => {
    const child = spawn('sha256sum', [file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text.slice(0, 64)) : reject(new Error(`sha256sum exited ${code}`))));
  });
}

async function measureLineage(dir, key, count, options, log) {
  const ledger = await Ledger.create(dir, { key, sync: false });
  try {
    log(`ml: building a graph of ${count.toLocaleString('en-US')} records joined by derivedFrom (a binary tree)`);
    const start = nowMs();
    const BATCH = 1000;
    let midpoint;
    for (let from = 0; from < count; from += BATCH) {
      const ids = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => from + k);
      await Promise.all(ids.map((i) => ledger.records.create(i % 3 === 0 ? 'dataset' : i % 3 === 1 ? 'model' : 'software', { name: `r${i}` }, { id: `r${i}` })));
      await Promise.all(ids.filter((i) => i > 0).map((i) => ledger.links.add({ from: `r${i}`, to: `r${Math.floor((i - 1) / 2)}`, rel: 'derivedFrom' })));
      if (from === Math.floor(count / 2 / BATCH) * BATCH) midpoint = (await ledger.head()).seq;
    }
    const buildSeconds = (nowMs() - start) / 1000;
    const head = await ledger.head();
    midpoint ??= Math.floor(head.seq / 2);
    const random = seededRandom(5);
    const half = Math.floor(count / 4); // records below count/4 and their ancestors all exist at the midpoint
    const picks = Array.from({ length: 400 }, () => `r${Math.floor(half / 2 + random() * (half / 2))}`);
    const now = [];
    const past = [];
    let visited = 0;
    log('ml: lineage --up walks, now and as of the midpoint, alternating');
    settle();
    for (const [i, id] of picks.entries()) {
      for (const [samples, at] of i % 2 === 0 ? [[now, undefined], [past, midpoint]] : [[past, midpoint], [now, undefined]]) {
        const t = nowMs();
        const walk = await ledger.links.lineage(id, { direction: 'up', ...(at === undefined ? {} : { at: { seq: at } }) });
        samples.push(nowMs() - t);
        visited = walk.nodes.length;
      }
    }
    log('ml: one lineage --down walk of a subtree of about 1,000 records');
    const subtreeRoot = `r${2 ** Math.max(0, Math.floor(Math.log2(count)) - 10) - 1}`;
    const t = nowMs();
    const down = await ledger.links.lineage(subtreeRoot, { direction: 'down' });
    const downMs = nowMs() - t;
    return {
      events: head.seq + 1,
      buildSeconds,
      midpointSeq: midpoint,
      upWalk: { nodesPerWalk: visited, nowMedianMs: median(now), pastMedianMs: median(past), pastOverNow: median(past) / median(now) },
      downWalk: { root: subtreeRoot, nodes: down.nodes.length, ms: downMs, msPerNode: downMs / down.nodes.length },
    };
  } finally {
    await ledger.close();
  }
}

export function mlRows(m) {
  const f = (x) => x.toFixed(1);
  const h = m.hashing;
  const l = m.lineage;
  const s = m.samples;
  return [
    ...(h === undefined
      ? []
      : [
          ['ml', `artifact hashing, ${m.hashMiB} MiB file: digestPaths`, `${f(h.ours.median)} MB/s`, 'sha256sum', `${(h.ratio * 100).toFixed(1)}%`, '≈ 100% (close to sha256sum)', h.ratio >= 0.8 ? 'met' : 'NOT met'],
          ['ml', `artifact hashing, ${m.hashMiB} MiB file: sha256sum (coreutils)`, `${f(h.sha256sum.median)} MB/s`, '-', '-', '-', ''],
        ]),
    ...(l === undefined
      ? []
      : [
          ['ml', `lineage --up (${l.upWalk.nodesPerWalk} records), ${m.graphRecords.toLocaleString('en-US')}-record graph: as of the midpoint vs now`, `${l.upWalk.pastMedianMs.toFixed(2)} vs ${l.upWalk.nowMedianMs.toFixed(2)} ms`, 'now', `${l.upWalk.pastOverNow.toFixed(2)}x`, '≤ 2x (a few reads more per record)', l.upWalk.pastOverNow <= 2 ? 'met' : 'NOT met'],
          ['ml', `lineage --down of ${l.downWalk.nodes.toLocaleString('en-US')} records`, `${l.downWalk.ms.toFixed(0)} ms (${(l.downWalk.msPerNode * 1000).toFixed(0)} µs/record)`, '-', '-', '-', ''],
        ]),
    ...(s === undefined
      ? []
      : [
          ['ml', `sample set of ${s.count.toLocaleString('en-US')}: samples.add (${s.events} events)`, `${(s.addMs / 1000).toFixed(2)} s`, 'appendMany of the same chunks', `${s.addOverAppendMany.toFixed(2)}x`, '-', ''],
          ['ml', `sample set of ${s.count.toLocaleString('en-US')}: parse and sort (toSampleList)`, `${(s.parseMs / 1000).toFixed(2)} s`, 'one SHA-256 over the fingerprints', `${(s.sha256Ms / 1000).toFixed(2)} s`, '-', ''],
          ['ml', `sample-set prove: ${s.count.toLocaleString('en-US')} vs 10,000 samples`, `${s.prove.atCount.toFixed(1)} vs ${s.prove.at10k.toFixed(1)} ms`, '10,000', `${s.prove.ratio.toFixed(2)}x`, 'one chunk read (not O(n))', s.prove.ratio <= 5 ? 'met' : 'NOT met'],
          ['ml', `verify of the ${s.count.toLocaleString('en-US')}-sample ledger`, `${(s.verifyMs / 1000).toFixed(2)} s`, '-', '-', '-', ''],
        ]),
  ];
}

export function mlSummary(m) {
  const l = m.lineage;
  const s = m.samples;
  return [
    m.hashing === undefined ? '' : `ml: hashing samples digestPaths ${m.hashing.ours.samples.map((x) => x.toFixed(0)).join(', ')} MB/s, sha256sum ${m.hashing.sha256sum.samples.map((x) => x.toFixed(0)).join(', ')} MB/s; `,
    l === undefined ? '' : `graph of ${m.graphRecords.toLocaleString('en-US')} records and ${(l.events).toLocaleString('en-US')} events built in ${l.buildSeconds.toFixed(0)} s; midpoint seq ${l.midpointSeq.toLocaleString('en-US')}; `,
    s === undefined ? '' : `sample set: ${s.events} events, ${(s.payloadJsonBytes / 2 ** 20).toFixed(1)} MiB of payload JSON, store ${(s.storeBytes / 2 ** 20).toFixed(1)} MiB, appendMany baseline ${(s.appendManyMs / 1000).toFixed(2)} s, proof ${s.prove.proofBytes} bytes; `,
    `load ${m.loadAtStart[0]} → ${m.loadAtEnd[0]}`,
  ].join('');
}
