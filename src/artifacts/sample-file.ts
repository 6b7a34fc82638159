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
 * Longest line accepted, in characters: a JSONL line is a 64-hex fingerprint and a licence of at most 1,000
 * characters with a little JSON around them. Beyond it the file is refused at once, so a file without line
 * breaks is never held whole.
 */
const MAX_LINE = 4096;

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
      if (part.length > MAX_LINE) throw tooLong(path, lines);
      parser.addLine(part);
    }
    if (pending.length > MAX_LINE) throw tooLong(path, lines + 1);
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

function tooLong(path: string, line: number): LedgerError {
  return new LedgerError('INVALID_ARGUMENT', `the sample file ${path} line ${line} is longer than ${MAX_LINE} characters, more than any sample line can be (a fingerprint, or JSON with a fingerprint and a licence)`, { details: { where: `line ${line}` } });
}
