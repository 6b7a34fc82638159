/**
 * Verifies one ledger in a fresh process and reports its peak memory, so that the 100k and 1M runs do not
 * share a heap (bench.js runs this once per size and compares the peaks).
 *
 * Usage: node scripts/bench/verify-child.js DIR [THREADS]
 * Prints one JSON line: { checked, ok, failureCount, seconds, rate, maxRssBytes, peakHeapUsedBytes,
 * peakRssSampledBytes, peakExternalBytes, baselineRssBytes, baselineHeapUsedBytes }.
 * maxRssBytes is process.resourceUsage().maxRSS (kernel high-water mark, includes worker threads);
 * heap and external peaks are sampled every 10 ms on the main thread.
 */
import { readFileSync } from 'node:fs';
import { Ledger } from '../../dist/index.js';

const [dir, threadsArg] = process.argv.slice(2);
if (dir === undefined) {
  console.error('usage: node scripts/bench/verify-child.js DIR [THREADS]');
  process.exit(2);
}
const threads = threadsArg === undefined ? undefined : Number(threadsArg);

const ledger = await Ledger.open(dir);
globalThis.gc?.();
const before = process.memoryUsage();
let peakHeapUsed = before.heapUsed;
let peakRss = before.rss;
let peakExternal = before.external;
const sample = () => {
  const m = process.memoryUsage();
  if (m.heapUsed > peakHeapUsed) peakHeapUsed = m.heapUsed;
  if (m.rss > peakRss) peakRss = m.rss;
  if (m.external > peakExternal) peakExternal = m.external;
};
const timer = setInterval(sample, 10);
const start = performance.now();
let report;
let rssSplit = null;
try {
  report = await ledger.verify(threads === undefined ? {} : { threads });
  rssSplit = readRssSplit(); // before close, while LevelDB still has its table files mapped
} finally {
  clearInterval(timer);
  await ledger.close();
}
sample();
const seconds = (performance.now() - start) / 1000;
console.log(
  JSON.stringify({
    checked: report.checked,
    ok: report.ok,
    failureCount: report.failureCount,
    seconds,
    rate: report.checked / seconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapUsedBytes: peakHeapUsed,
    peakRssSampledBytes: peakRss,
    peakExternalBytes: peakExternal,
    baselineRssBytes: before.rss,
    baselineHeapUsedBytes: before.heapUsed,
    rssAtEnd: rssSplit,
  }),
);

/**
 * Linux only: the resident set at the end of verify split into anonymous memory (heaps, malloc arenas) and
 * file-backed pages (LevelDB mmaps its table files for reads), from /proc/self/status. Null elsewhere.
 */
function readRssSplit() {
  let status;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const kB = (field) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? null : Number(match[1]) * 1024;
  };
  return { rssBytes: kB('VmRSS'), anonBytes: kB('RssAnon'), fileBytes: kB('RssFile'), shmemBytes: kB('RssShmem') };
}
