/**
 * The transparency section of the benchmark suite (issue 6, SPEC §17): checkpoint, inclusion and consistency
 * proofs on a small and a large ledger, proof sizes, and what keeping the Merkle tree costs an append. Called
 * by bench.js; plain ESM against the built library in dist/.
 *
 * Proof work is O(log n) (RFC 9162 §2.1.3, §2.1.4), so each operation's time on the large ledger divided by
 * its time on the small one is set beside log2(n_large) / log2(n_small). The two ledgers take turns call by
 * call, with the same seeded picks, so a change in the machine's load falls on both alike (see `paired`).
 * Proving and verifying both include Ed25519 work that does not depend on n (the checkpoint's signature, the
 * carried event's), so their ratio should sit at or below the log ratio, not on it.
 *
 * The tree's append cost is measured at the store level, since the library has no switch to turn the tree
 * off: the same sealed events are committed in batches of 1,000 into fresh stores with the time-index entry
 * only, and with it plus the tree's `mt` nodes, alternately, in the same run. Consistency proofs need older
 * checkpoints, which can only be signed at the size a ledger has, so that part appends events to the ledgers
 * and comes after every other measurement on them.
 */
import { Ledger, verifyCheckpoint, verifyConsistency, verifyInclusion } from '../../dist/index.js';
import { sealEvent } from '../../dist/event/event.js';
import { FORMAT_VERSION } from '../../dist/event/format.js';
import { LevelLogStore } from '../../dist/log/level-store.js';
import { parseConsistencyProof, parseInclusionProof } from '../../dist/merkle/proof-file.js';
import { Frontier } from '../../dist/merkle/tree.js';
import { projectEvent } from '../../dist/projections/project.js';
import { projectTree } from '../../dist/projections/tree.js';
import { loadAverage, nowMs, rateSync, removeDir, samplePayloads, seededRandom, settle } from './lib.js';

const BATCH = 1000;
/** Proofs kept per ledger (the first made, warm-up included): the verify runs cycle through them, and sizes are their means. */
const POOL = 256;
/** Consistency: one checkpoint now, then one after each of STEPS appends of 1..100 events. */
const CONSISTENCY_STEPS = 16;
/** A time ratio up to the log ratio × this counts as log n growth (the rest is the machine's noise). */
const NOISE = 1.25;
/** Each paired measurement makes at least this many calls on each ledger, however long they take. */
const MIN_CALLS = 50;

/**
 * Runs the section. `context`: { key, newDir, log, options, ledgers?: { small, large } (directories of
 * ledgers owned by `key`, reused from the records section), buildLedger(dir, total), appendManyRate? }.
 */
export async function measureTransparency(context) {
  const { key, newDir, log, options } = context;
  const out = { loadAtStart: loadAverage() };
  let dirs = context.ledgers;
  if (dirs === undefined) {
    dirs = { small: newDir('transparency-small'), large: newDir('transparency-large') };
    log(`transparency: building ${label(options.recordsSmall)} and ${label(options.recordsLarge)}-event ledgers (appendMany ×${BATCH}, sync off)`);
    out.buildSmall = await context.buildLedger(dirs.small, options.recordsSmall);
    out.buildLarge = await context.buildLedger(dirs.large, options.recordsLarge);
  }
  out.reusedRecordsLedgers = context.ledgers !== undefined;
  const trustedKeys = [{ publicKey: key.publicKey }];
  const small = await Ledger.open(dirs.small, { key, sync: false });
  const large = await Ledger.open(dirs.large, { key, sync: false });
  try {
    const sides = { small: await sideOf('small', small, trustedKeys), large: await sideOf('large', large, trustedKeys) };
    out.smallEvents = sides.small.size;
    out.largeEvents = sides.large.size;
    out.expectedLogRatio = Math.log2(sides.large.size) / Math.log2(sides.small.size);
    out.firstCheckpoint = { smallMs: sides.small.firstCheckpointMs, largeMs: sides.large.firstCheckpointMs, sizeRatio: sides.large.size / sides.small.size };
    const sizes = `${label(sides.small.size)} vs ${label(sides.large.size)}`;
    const seconds = options.seconds;

    log(`transparency: checkpoint, ${sizes}`);
    out.checkpoint = await paired(checkpointStep(trustedKeys), sides, seconds, out.expectedLogRatio);
    log(`transparency: proveInclusion of random events, ${sizes}`);
    out.proveInclusion = await paired(proveInclusionStep, sides, seconds, out.expectedLogRatio);
    log(`transparency: verifyInclusion, ${sizes}`);
    out.verifyInclusion = await paired(verifyStep('inclusionProofs', (p) => verifyInclusion(p, { trustedKeys }), 'verifyInclusion'), sides, seconds, out.expectedLogRatio);
    out.inclusionProof = { small: inclusionSizes(sides.small.inclusionProofs), large: inclusionSizes(sides.large.inclusionProofs) };

    // From here on the ledgers grow: older checkpoints can only be made by appending after them.
    log(`transparency: consistency checkpoints (${CONSISTENCY_STEPS} appends of 1..100 events to each ledger)`);
    await checkpointChain(sides.small, 11);
    await checkpointChain(sides.large, 11);
    log(`transparency: proveConsistency between random checkpoint pairs, ${sizes}`);
    out.proveConsistency = await paired(proveConsistencyStep, sides, seconds, out.expectedLogRatio);
    log(`transparency: verifyConsistency, ${sizes}`);
    out.verifyConsistency = await paired(verifyStep('consistencyProofs', (p) => verifyConsistency(p, { trustedKeys }), 'verifyConsistency'), sides, seconds, out.expectedLogRatio);
    out.consistencyProof = { small: consistencySizes(sides.small.consistencyProofs), large: consistencySizes(sides.large.consistencyProofs) };
    out.consistencySpan = { small: spanOf(sides.small), large: spanOf(sides.large) };
  } finally {
    await small.close();
    await large.close();
  }

  out.treeCost = await measureTreeCost(context);
  if (context.appendManyRate !== undefined) {
    const perEventUs = 1e6 / out.treeCost.withTree.rate - 1e6 / out.treeCost.withoutTree.rate;
    out.treeCost.appendManyRate = context.appendManyRate;
    out.treeCost.treeMicrosPerEvent = perEventUs;
    out.treeCost.shareOfAppendMany = perEventUs / (1e6 / context.appendManyRate);
  }
  out.loadAtEnd = loadAverage();
  return out;
}

/** One ledger's state for the section: its size, a checkpoint of it, and the proofs measured on it. */
async function sideOf(name, ledger, trustedKeys) {
  const head = await ledger.head();
  // The key's first checkpoint of this ledger recomputes the root from the whole log (SPEC §17.3): O(n), once.
  settle();
  const start = nowMs();
  const checkpoint = await ledger.checkpoint();
  const firstCheckpointMs = nowMs() - start;
  const verdict = verifyCheckpoint(checkpoint, trustedKeys);
  if (!verdict.ok || verdict.checkpoint.size !== head.seq + 1) throw new Error(`transparency: the checkpoint does not verify or has the wrong size: ${JSON.stringify(verdict)}`);
  return { name, ledger, size: head.seq + 1, checkpoint, firstCheckpointMs, inclusionProofs: [], checkpoints: [], consistencyProofs: [] };
}

/**
 * One call on the small ledger, one on the large, in turn (S L, then L S, …) for about 2 × `seconds`, each
 * call timed alone, so both ledgers see the same machine from moment to moment. The ratio is the median call
 * on the large ledger over the median call on the small one (same number of calls, same seeded picks): on a
 * shared machine a call now and then loses a whole scheduler slice, which would swamp a mean of calls that
 * take 0.1–2 ms. Mean rates are kept too. Each quarter of the window gives its own median ratio; their spread
 * shows the noise. `step(side, random)` does one operation (it may return a promise).
 */
async function paired(step, sides, seconds, expectedLogRatio) {
  const random = { small: seededRandom(42), large: seededRandom(42) };
  const warm = { small: seededRandom(7), large: seededRandom(7) };
  for (let i = 0; i < 20; i++) for (const name of ['small', 'large']) await step(sides[name], warm[name]);
  const times = { small: [], large: [] };
  const quarterOf = [];
  const one = async (name) => {
    const start = nowMs();
    const pending = step(sides[name], random[name]);
    if (pending instanceof Promise) await pending;
    times[name].push(nowMs() - start);
  };
  settle();
  const start = nowMs();
  const windowMs = 2 * seconds * 1000;
  for (let calls = 0; calls < MIN_CALLS || nowMs() - start < windowMs; calls++) {
    const order = calls % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
    for (const name of order) await one(name);
    quarterOf.push(Math.min(3, Math.floor((4 * (nowMs() - start)) / windowMs)));
  }
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const summary = (ms) => ({ calls: ms.length, medianMs: median(ms), medianRate: 1000 / median(ms), meanRate: (1000 * ms.length) / sum(ms) });
  const small = summary(times.small);
  const large = summary(times.large);
  const quarterRatios = [0, 1, 2, 3]
    .map((q) => ({ small: times.small.filter((_, i) => quarterOf[i] === q), large: times.large.filter((_, i) => quarterOf[i] === q) }))
    .filter((q) => q.small.length > 0)
    .map((q) => median(q.large) / median(q.small));
  const timeRatio = large.medianMs / small.medianMs;
  return {
    calls: times.small.length,
    small,
    large,
    timeRatio,
    meanTimeRatio: small.meanRate / large.meanRate,
    quarterRatios,
    expectedLogRatio,
    withinLogGrowth: timeRatio <= expectedLogRatio * NOISE,
  };
}

function median(values) {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function checkpointStep(trustedKeys) {
  let checked = 0;
  return async (side) => {
    const text = await side.ledger.checkpoint();
    // Checking every checkpoint would time the verifier too; a few are enough to fail loudly.
    if (checked++ < 4 && !verifyCheckpoint(text, trustedKeys).ok) throw new Error('transparency: a checkpoint made in the timed loop does not verify');
  };
}

/** proveInclusion of a seeded random seq below the checkpoint's size; the first POOL proofs are kept. */
async function proveInclusionStep(side, random) {
  const proof = await side.ledger.proveInclusion(Math.floor(random() * side.size), side.checkpoint);
  if (side.inclusionProofs.length < POOL) side.inclusionProofs.push(proof);
}

/** The offline verifier over a side's kept proofs, in turn; every verdict must be ok. */
function verifyStep(pool, verify, name) {
  const next = { small: 0, large: 0 };
  return (side) => {
    const proofs = side[pool];
    if (proofs.length === 0) throw new Error(`transparency: no proofs to ${name}`);
    const verdict = verify(proofs[next[side.name]++ % proofs.length]);
    if (!verdict.ok) throw new Error(`transparency: ${name} failed on a proof the ledger made: ${verdict.code}: ${verdict.message}`);
  };
}

/** A checkpoint now, then one after each of CONSISTENCY_STEPS appends of a seeded 1..100 events. */
async function checkpointChain(side, seed) {
  const random = seededRandom(seed);
  side.checkpoints = [{ size: side.size, text: await side.ledger.checkpoint() }];
  let size = side.size;
  for (let s = 0; s < CONSISTENCY_STEPS; s++) {
    const count = 1 + Math.floor(random() * 100);
    await side.ledger.appendMany(samplePayloads(count, size));
    size += count;
    side.checkpoints.push({ size, text: await side.ledger.checkpoint() });
  }
}

/** proveConsistency between a seeded random pair (older, newer) of the side's checkpoints; the first POOL are kept. */
async function proveConsistencyStep(side, random) {
  const n = side.checkpoints.length;
  const i = Math.floor(random() * (n - 1));
  const j = i + 1 + Math.floor(random() * (n - 1 - i));
  const proof = await side.ledger.proveConsistency(side.checkpoints[i].text, side.checkpoints[j].text);
  if (side.consistencyProofs.length < POOL) side.consistencyProofs.push(proof);
}

const mean = (values) => values.reduce((s, v) => s + v, 0) / values.length;

/** What every proof file has: its size and its hashes (32 bytes each). */
function hashSizes(parsed) {
  const counts = parsed.map((p) => p.proof.hashes.length);
  return {
    proofs: parsed.length,
    fileBytes: mean(parsed.map((p) => Buffer.byteLength(p.text))),
    hashes: mean(counts),
    minHashes: Math.min(...counts),
    maxHashes: Math.max(...counts),
    hashBytes: 32 * mean(counts),
  };
}

/** Mean bytes of an inclusion proof file, and of its parts: the hashes, the carried event's line, the checkpoint. */
function inclusionSizes(proofs) {
  const parsed = proofs.map((text) => ({ text, proof: parseInclusionProof(text) }));
  return {
    ...hashSizes(parsed),
    extraLineBytes: mean(parsed.map((p) => Buffer.byteLength(`extra ${Buffer.from(p.proof.extra).toString('base64')}\n`))),
    eventBytes: mean(parsed.map((p) => p.proof.extra.length)),
    checkpointBytes: mean(parsed.map((p) => Buffer.byteLength(p.proof.checkpoint))),
  };
}

function consistencySizes(proofs) {
  const parsed = proofs.map((text) => ({ text, proof: parseConsistencyProof(text) }));
  return { ...hashSizes(parsed), checkpointsBytes: mean(parsed.map((p) => Buffer.byteLength(p.proof.older) + Buffer.byteLength(p.proof.newer))) };
}

function spanOf(side) {
  return { fromSize: side.checkpoints[0].size, toSize: side.checkpoints.at(-1).size, checkpoints: side.checkpoints.length };
}

/**
 * The append-side cost of the tree: the same sealed events committed in batches of 1,000 into fresh stores
 * (sync off) with the projection entries an append writes for a plain event (`ti`), and with those plus the
 * tree's nodes (`mt`), alternately. The projection writes are computed inside the timed loop, as an append
 * computes them; sealing is done once, before.
 */
async function measureTreeCost({ key, newDir, log, options }) {
  const total = options.quick ? 10_000 : 40_000;
  const rounds = options.quick ? 2 : 3;
  log(`transparency: append cost of the tree, sealing ${total.toLocaleString('en-US')} events once`);
  const sealed = sealChain(key, total);
  const meta = { ledgerId: globalThis.crypto.randomUUID(), owner: key.publicKey, formatVersion: FORMAT_VERSION };
  const pass = async (withTree, count = total) => {
    const dir = newDir(withTree ? 'tree-on' : 'tree-off');
    const store = await LevelLogStore.open(dir, { create: true, sync: false });
    try {
      settle();
      const frontier = Frontier.empty();
      let nodes = 0;
      const start = nowMs();
      for (let from = 0; from < count; from += BATCH) {
        const batch = sealed.slice(from, Math.min(count, from + BATCH));
        const indexes = [];
        for (const event of batch) {
          indexes.push(...projectEvent(event.body, null, null).writes);
          if (withTree) {
            const tree = projectTree(frontier, event.hash);
            nodes += tree.length;
            indexes.push(...tree);
          }
        }
        const last = batch.at(-1);
        await store.commit({
          events: batch.map((e) => ({ seq: e.body.seq, bytes: e.bytes })),
          head: { seq: last.body.seq, hash: last.hash, ts: last.body.ts },
          meta: from === 0 ? meta : undefined,
          indexes,
        });
      }
      const seconds = (nowMs() - start) / 1000;
      return { events: count, seconds, rate: count / seconds, treeNodes: nodes };
    } finally {
      await store.close();
      removeDir(dir);
    }
  };
  // An untimed warm-up of both paths, then A B A B …
  await pass(false, Math.min(total, 2 * BATCH));
  await pass(true, Math.min(total, 2 * BATCH));
  const without = [];
  const withTree = [];
  for (let r = 0; r < rounds; r++) {
    log(`transparency: store commits ×${BATCH}, round ${r + 1}/${rounds}: without tree, then with tree`);
    without.push(await pass(false));
    withTree.push(await pass(true));
  }
  // The tree's CPU side alone (leaf and node hashes, node keys), to split its cost from the extra store writes.
  let frontier = Frontier.empty();
  let i = 0;
  const computeOnly = rateSync(() => {
    if (i === total) [frontier, i] = [Frontier.empty(), 0];
    projectTree(frontier, sealed[i++].hash);
  }, 1, Math.min(options.seconds, 1));
  const summary = (runs) => ({ rate: mean(runs.map((r) => r.rate)), samples: runs.map((r) => r.rate) });
  const a = summary(without);
  const b = summary(withTree);
  return {
    events: total,
    rounds,
    batch: BATCH,
    withoutTree: a,
    withTree: b,
    ratio: b.rate / a.rate,
    treeNodesPerEvent: withTree[0].treeNodes / total,
    projectTreeAlonePerSecond: computeOnly.rate,
  };
}

/** `total` plain events, chained and signed by `key`, as an append would seal them. */
function sealChain(key, total) {
  const out = [];
  let prev = new Uint8Array(32);
  const t0 = 1_790_000_000_000;
  for (let from = 0; from < total; from += BATCH) {
    for (const { type, payload } of samplePayloads(Math.min(BATCH, total - from), from)) {
      const seq = out.length;
      const event = sealEvent({ v: FORMAT_VERSION, seq, prev, ts: t0 + seq, type, author: key.publicKey, payload }, key);
      out.push({ body: event.body, bytes: event.bytes, hash: event.hash });
      prev = event.hash;
    }
  }
  return out;
}

/** Table rows for bench.js: times large ÷ small beside the log ratio, proof sizes, the tree's append cost. */
export function transparencyRows(t, label) {
  const sizes = `${label(t.smallEvents)} → ${label(t.largeEvents)}`;
  const target = `≤ ${t.expectedLogRatio.toFixed(2)}x (log₂ n)`;
  const x = (r) => `${r.toFixed(2)}x`;
  const rate = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
  const rows = [];
  const op = (name, r) => rows.push(['transp.', `${name}, ${sizes}: median call, large ÷ small`, `${rate(r.small.medianRate)} → ${rate(r.large.medianRate)}`, label(t.smallEvents), x(r.timeRatio), target, r.withinLogGrowth ? 'met' : 'NOT met']);
  const fc = t.firstCheckpoint;
  rows.push(['transp.', `a key's first checkpoint (hashes the whole log), ${sizes}`, `${fc.smallMs.toFixed(0)} → ${fc.largeMs.toFixed(0)} ms`, label(t.smallEvents), x(fc.largeMs / fc.smallMs), `≈ ${fc.sizeRatio.toFixed(0)}x (n), once`, '']);
  op('checkpoint (again, nothing new since)', t.checkpoint);
  op('proveInclusion (random seq)', t.proveInclusion);
  op('verifyInclusion (offline)', t.verifyInclusion);
  op('proveConsistency (random pair)', t.proveConsistency);
  op('verifyConsistency (offline)', t.verifyConsistency);
  const bytes = (n) => Math.round(n).toLocaleString('en-US');
  const ip = t.inclusionProof;
  rows.push(['transp.', `inclusion proof file bytes, ${sizes}`, `${bytes(ip.small.fileBytes)} → ${bytes(ip.large.fileBytes)} B`, label(t.smallEvents), x(ip.large.fileBytes / ip.small.fileBytes), '-', '']);
  rows.push(['transp.', `inclusion proof hashes (32 B each), ${sizes}`, `${ip.small.hashes.toFixed(1)} → ${ip.large.hashes.toFixed(1)}`, label(t.smallEvents), x(ip.large.hashes / ip.small.hashes), `≈ ${t.expectedLogRatio.toFixed(2)}x (log₂ n)`, '']);
  const cp = t.consistencyProof;
  rows.push(['transp.', `consistency proof file bytes, ${sizes}`, `${bytes(cp.small.fileBytes)} → ${bytes(cp.large.fileBytes)} B`, label(t.smallEvents), x(cp.large.fileBytes / cp.small.fileBytes), '-', '']);
  rows.push(['transp.', `consistency proof hashes (32 B each), ${sizes}`, `${cp.small.hashes.toFixed(1)} → ${cp.large.hashes.toFixed(1)}`, label(t.smallEvents), x(cp.large.hashes / cp.small.hashes), `≈ ${t.expectedLogRatio.toFixed(2)}x (log₂ n)`, '']);
  const c = t.treeCost;
  rows.push(['transp.', `store commit ×${c.batch}, sync off, ti only (no tree)`, rate(c.withoutTree.rate), '-', '-', '-', '']);
  rows.push(['transp.', `store commit ×${c.batch}, sync off, ti + Merkle tree`, rate(c.withTree.rate), 'no tree', `${(c.ratio * 100).toFixed(1)}%`, '-', '']);
  if (c.shareOfAppendMany !== undefined) {
    // Append d ran minutes earlier, under whatever load there was then: an estimate, not a same-window ratio.
    rows.push(['transp.', `tree µs per event, as a share of appendMany's (d: ${rate(c.appendManyRate)}/s)`, `${c.treeMicrosPerEvent.toFixed(1)} µs`, 'append d (earlier)', `${(c.shareOfAppendMany * 100).toFixed(1)}%`, '-', '']);
  }
  return rows;
}

/** The section's line below the table: the spread and samples behind the figures. */
export function transparencySummary(t, label) {
  const spread = (r) => `${r.quarterRatios.map((q) => q.toFixed(2)).join('/')} (mean ${r.meanTimeRatio.toFixed(2)}, ${r.calls} calls each)`;
  const ip = t.inclusionProof.large;
  const c = t.treeCost;
  return (
    `transparency: ledgers ${t.reusedRecordsLedgers ? 'reused from records' : 'built for it'} (${label(t.smallEvents)}, ${label(t.largeEvents)}); ` +
    `median-call time ratios by quarter of the window: checkpoint ${spread(t.checkpoint)}, proveInclusion ${spread(t.proveInclusion)}, verifyInclusion ${spread(t.verifyInclusion)}, ` +
    `proveConsistency ${spread(t.proveConsistency)}, verifyConsistency ${spread(t.verifyConsistency)}; ` +
    `inclusion proof at ${label(t.largeEvents)}: ${Math.round(ip.fileBytes)} B = ${Math.round(ip.hashBytes)} B of hashes (${ip.minHashes}–${ip.maxHashes}) + ${Math.round(ip.extraLineBytes)} B extra line (event ${Math.round(ip.eventBytes)} B) + ${Math.round(ip.checkpointBytes)} B checkpoint + headers; ` +
    `consistency between sizes ${t.consistencySpan.large.fromSize.toLocaleString('en-US')}..${t.consistencySpan.large.toSize.toLocaleString('en-US')}; ` +
    `tree commits ${c.events.toLocaleString('en-US')} events × ${c.rounds} rounds, ${c.treeNodesPerEvent.toFixed(2)} mt nodes/event, ` +
    `tree µs/event ${(1e6 / c.withTree.rate - 1e6 / c.withoutTree.rate).toFixed(1)} of which projectTree alone (hashing, no store) ${(1e6 / c.projectTreeAlonePerSecond).toFixed(1)}, rates without ${c.withoutTree.samples.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')}, with ${c.withTree.samples.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')}; ` +
    `load ${t.loadAtStart[0]} → ${t.loadAtEnd[0]}`
  );
}

function label(n) {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
}
