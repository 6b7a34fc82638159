/**
 * Reads a sample file from disk into a sample list (SPEC §21.5): the thin I/O edge of domain/sample-file.ts.
 * The file is read in 1 MiB pieces and split into lines as it comes, so memory holds the samples, never the
 * file's text.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { LedgerError } from '../errors.js';
import { SampleListParser, type SampleList } from '../domain/sample-file.js';

const PIECE = 1024 * 1024;

/**
 * Parses the file at `path`: fingerprints one per line, or JSON Lines with licences.
 * @throws LedgerError INVALID_ARGUMENT naming the path (missing, unreadable, not a regular file, not UTF-8) or the line.
 * @example const samples = await readSampleFile('samples.txt'); await ledger.samples.add({ name: 'train-samples', samples });
 */
export async function readSampleFile(path: string, options: { onProgress?: (bytes: number, total: number) => void } = {}): Promise<SampleList> {
  const parser = new SampleListParser(path);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let file: FileHandle | undefined;
  let pending = '';
  let lines = 0;
  const feed = (text: string) => {
    const parts = (pending + text).split('\n');
    pending = parts.pop()!;
    for (const part of parts) {
      lines++;
      parser.addLine(part);
    }
  };
  try {
    try {
      // Non-blocking, so a FIFO named by mistake is refused instead of hanging.
      file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw new LedgerError('INVALID_ARGUMENT', `cannot read the sample file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the --from path`, { cause: error });
    }
    const info = await file.stat();
    if (!info.isFile()) throw new LedgerError('INVALID_ARGUMENT', `the sample file ${path} is not a regular file`);
    const buffer = new Uint8Array(PIECE);
    let done = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, PIECE, null);
      if (bytesRead === 0) break;
      done += bytesRead;
      feed(decodeOrRefuse(decoder, buffer.subarray(0, bytesRead), path, lines, true));
      options.onProgress?.(done, Math.max(info.size, done));
    }
    feed(decodeOrRefuse(decoder, new Uint8Array(0), path, lines, false));
    // A last line without a final newline still counts.
    if (pending !== '') {
      parser.addLine(pending);
    }
  } finally {
    await file?.close();
  }
  return parser.finish();
}

function decodeOrRefuse(decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array, path: string, linesBefore: number, stream: boolean): string {
  try {
    return decoder.decode(bytes, { stream });
  } catch {
    throw new LedgerError('INVALID_ARGUMENT', `the sample file ${path} is not UTF-8 text (after line ${linesBefore}); give one fingerprint per line, or JSON Lines`);
  }
}
