/**
 * A progress bar on stderr, only when stderr is a terminal, so pipes and CI logs stay clean.
 * Uses cli-progress rather than hand-drawn escape codes.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function startProgress(label: string, stream: NodeJS.WriteStream, unit: 'events' | 'bytes' = 'events'): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const mebibytes = (value: number) => (value / 2 ** 20).toFixed(1);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit === 'bytes' ? 'MiB' : 'events'} | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: true,
      ...(unit === 'bytes' ? { formatValue: (value: number, _options: unknown, type: string) => (type === 'value' || type === 'total' ? mebibytes(value) : String(value)) } : {}),
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
