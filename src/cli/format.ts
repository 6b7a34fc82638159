/**
 * How results look on stdout: human lines by default, JSON with --json (SPEC §10.3). Pure functions from
 * library values to strings, so the formats are tested without spawning anything.
 */
import type { FailureCode, LedgerEvent, VerifyReport } from '../ledger.js';

export function formatEventLine(event: LedgerEvent): string {
  const payload = JSON.stringify(event.payload);
  const shown = payload.length > 80 ? `${payload.slice(0, 77)}...` : payload;
  return `${event.seq}\t${new Date(event.timeMs).toISOString()}\t${event.type}\t${event.author.slice(0, 16)}\t${event.hash.slice(0, 16)}\t${shown}`;
}

export function formatEventDetail(event: LedgerEvent): string {
  return [
    `seq        ${event.seq}`,
    `hash       ${event.hash}`,
    `prev       ${event.prev}`,
    `time       ${new Date(event.timeMs).toISOString()} (${event.timeMs})`,
    `type       ${event.type}`,
    `author     ${event.author}`,
    `signature  ${event.signature}`,
    `payload    ${JSON.stringify(event.payload, null, 2).replaceAll('\n', '\n           ')}`,
  ].join('\n');
}

/** The machine-readable report of SPEC §7.3. */
export function verifyReportJson(report: VerifyReport): string {
  return JSON.stringify({
    ok: report.ok,
    checked: report.checked,
    head: report.head,
    failureCount: report.failureCount,
    failures: report.failures.map((f) => ({ seq: f.seq, code: f.code, message: f.message })),
    ...(report.checkpoint === undefined ? {} : { checkpoint: report.checkpoint }),
  });
}

export function formatVerifyReport(report: VerifyReport): string {
  if (report.ok) {
    const head = report.head === null ? '' : `; head ${report.head.seq}:${report.head.hash}`;
    const checkpoint = report.checkpoint === undefined ? '' : `; the checkpoint at size ${report.checkpoint.size} (signed by ${report.checkpoint.signedBy.join(', ')}) matches`;
    return `ok: ${report.checked} events verified${head}${checkpoint}`;
  }
  const lines = report.failures.map((f) => `${f.seq === null ? 'ledger' : `seq ${f.seq}`}\t${f.code satisfies FailureCode}\t${f.message}`);
  const more = report.failureCount > report.failures.length ? [`... and ${report.failureCount - report.failures.length} more`] : [];
  return [`FAILED: ${report.failureCount} problem(s) in ${report.checked} events`, ...lines, ...more].join('\n');
}
