/**
 * The export and import section of the benchmark suite (SPEC §25): on one ledger of plain events (100,000 by
 * default, 10,000 in --quick), `verify`, a JSONL export to a file, and an import of that file into a new directory
 * are timed alternately, two rounds each, and reported as events per second and as ratios against verify on the
 * same ledger in the same minutes. Import stores the log, rebuilds the projections and runs the whole verify, so
 * its expected ratio is below 1; export only reads and decodes, so it should beat verify.
 */
import { createWriteStream } from 'node:fs';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { Ledger } from '../../dist/index.js';
import { loadAverage, nowMs, settle } from './lib.js';

export async function measureExchange(context) {
  const { key, newDir, log, options, buildLedger } = context;
  const events = options.quick ? 10_000 : 100_000;
  const dir = newDir('exchange');
  const out = { loadAtStart: loadAverage(), events };
  log(`exchange: building a ${events.toLocaleString('en-US')}-event ledger`);
  await buildLedger(dir, key, events);
  const fileDir = newDir('exchange-file');
  mkdirSync(fileDir, { recursive: true });
  const file = join(fileDir, 'ledger.jsonl');
  const verify = [];
  const exporting = [];
  const importing = [];
  for (let round = 0; round < 2; round++) {
    log(`exchange: round ${round + 1}/2 (verify, export, import)`);
    settle();
    let start = nowMs();
    const ledger = await Ledger.open(dir);
    try {
      const report = await ledger.verify();
      if (!report.ok) throw new Error('exchange: the benchmark ledger does not verify');
      verify.push(events / ((nowMs() - start) / 1000));
      settle();
      rmSync(file, { force: true });
      start = nowMs();
      const stream = createWriteStream(file);
      for await (const line of ledger.exportJsonl()) if (!stream.write(line)) await once(stream, 'drain');
      stream.end();
      await once(stream, 'finish');
      exporting.push(events / ((nowMs() - start) / 1000));
    } finally {
      await ledger.close();
    }
    settle();
    const target = newDir('exchange-import');
    start = nowMs();
    const result = await Ledger.import(target, file);
    importing.push(events / ((nowMs() - start) / 1000));
    if (result.events !== events) throw new Error('exchange: the import holds another number of events');
    rmSync(target, { recursive: true, force: true });
  }
  const best = (rates) => Math.max(...rates);
  out.fileBytes = statSync(file).size;
  out.verify = { samples: verify, best: best(verify) };
  out.export = { samples: exporting, best: best(exporting), overVerify: best(exporting) / best(verify) };
  out.import = { samples: importing, best: best(importing), overVerify: best(importing) / best(verify) };
  out.loadAtEnd = loadAverage();
  return out;
}

export function exchangeRows(x, label) {
  const rate = (r) => Math.round(r).toLocaleString('en-US');
  return [
    ['exchange', `verify, ${label(x.events)} events (the baseline of this section)`, rate(x.verify.best), '-', '-', '-', ''],
    ['exchange', `export JSONL to a file (${(x.fileBytes / 2 ** 20).toFixed(1)} MiB)`, rate(x.export.best), 'verify', `${x.export.overVerify.toFixed(2)}x`, '≥ 1x (reads and decodes only)', x.export.overVerify >= 1 ? 'met' : 'NOT met'],
    ['exchange', 'import JSONL (store, rebuild, full verify, fsync)', rate(x.import.best), 'verify', `${x.import.overVerify.toFixed(2)}x`, '≥ 0.25x (verify plus a rebuild and the writes)', x.import.overVerify >= 0.25 ? 'met' : 'NOT met'],
  ];
}

export function exchangeSummary(x) {
  const samples = (s) => s.samples.map((r) => Math.round(r)).join(', ');
  return `exchange: samples (events/s) verify ${samples(x.verify)}, export ${samples(x.export)}, import ${samples(x.import)}; load ${x.loadAtStart[0]} → ${x.loadAtEnd[0]}`;
}
