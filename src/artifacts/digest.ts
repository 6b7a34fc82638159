/**
 * Content digests of artifacts (issue 5): one file, one directory, or several paths, hashed with SHA-256.
 *
 * A single file is digested as itself, so the digest equals `sha256sum FILE`. Anything else becomes a manifest:
 * one `<sha256 hex>  <path>\n` line per regular file, sorted by the UTF-8 bytes of its path, which is exactly
 * what `sha256sum` prints; the manifest's own SHA-256 is the artifact digest, so coreutils can reproduce it
 * (see `manifestDigest`). The rules are written in SPEC.md ("Artifact digests").
 *
 * Owns: walking the paths a user names (one stat walk first, so the total size is known for progress),
 * refusing what would make a manifest ambiguous or a read hang, and hashing files streamed in 1 MiB chunks
 * (a large file's next chunk is read while this one is hashed), so memory does not grow with file size.
 * Must not: write anything, follow symbolic links to directories, or know about records and events.
 *
 * Why some calls are synchronous: on our 2-core VM an asynchronous fs call costs ~18 µs of main-thread time,
 * a synchronous one ~3 µs, so a tree of 20,000 small files took 2.5 s async against 0.5 s for coreutils.
 * The walk and files under 1 MiB therefore use synchronous calls, paced: after 10 ms of them we yield to
 * the event loop, so timers, progress bars and aborts keep running. Large files are read asynchronously.
 */

import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { toHex } from '../bytes.js';
import { createSha256 } from '../crypto/hash.js';
import { LedgerError } from '../errors.js';

/** One regular file in a manifest. `size` is informative: only `sha256` and `path` are hashed. */
export interface ManifestMember {
  /** Relative, `/`-separated, valid UTF-8 without newline, carriage return or backslash. */
  readonly path: string;
  /** 64 lower-case hex digits. */
  readonly sha256: string;
  readonly size: number;
}

export interface ArtifactDigest {
  /** Hex: the file's own digest for a single file argument; the manifest digest otherwise. */
  readonly sha256: string;
  /** Total bytes of all files. */
  readonly size: number;
  readonly files: number;
  /** Present for a directory or several paths (even with one file in it), sorted by path bytes. */
  readonly members?: readonly ManifestMember[];
}

export interface DigestOptions {
  /**
   * Called with (0, total) once the walk is done, then after each 1 MiB chunk of a large file and after each
   * non-empty small file; `bytesDone` only grows, never passes `bytesTotal`, and ends at it on success.
   */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Checked before every file, every large-file chunk and every 10 ms; an abort rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * Called once the walk is done and before the first byte is hashed, with every file found (manifest path and
   * size; one file with path ''). Throwing stops the digest there: a caller can refuse a manifest that could
   * never be recorded without first hashing gigabytes.
   */
  readonly onPlan?: (files: readonly { readonly path: string; readonly size: number }[]) => void;
}

/** Read size: large enough that a call per chunk costs nothing beside hashing it. Smaller files are read at once. */
const CHUNK_BYTES = 1 << 20;
/** Longest run of synchronous file system calls before yielding to the event loop. */
const SLICE_MS = 10;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Digests the files at `paths` (SPEC "Artifact digests"): a single file as itself; one directory as the
 * manifest of the files below it, paths relative to it; several paths as one manifest whose paths start with
 * each argument's base name. Symbolic links named as arguments are followed; inside a directory, links to
 * regular files are followed (the member has the link's path and the target's bytes), links to directories
 * are refused. Files are read in 1 MiB chunks, so memory does not depend on file size.
 *
 * @throws {LedgerError} `INVALID_ARGUMENT` naming the path for: no paths; a missing path; a broken link or a
 * link loop; a link to a directory inside a directory; a FIFO, socket or device; a directory with no files;
 * an unreadable file or directory; a file name that is not valid UTF-8 or holds a newline, carriage return
 * or backslash; two arguments with the same base name; a file that changed while it was hashed.
 * @throws `signal.reason` when `options.signal` aborts.
 * @throws {TypeError} when `paths` is not an array of strings.
 * @example
 * const one = await digestPaths(['model.safetensors']); // one.sha256 === `sha256sum model.safetensors`
 * const dir = await digestPaths(['mnist/'], { onProgress: (done, total) => bar.update(done, { total }) });
 * dir.members; // [{ path: 'test/images.gz', sha256: '…', size: 1648877 }, …]
 */
export async function digestPaths(paths: readonly string[], options: DigestOptions = {}): Promise<ArtifactDigest> {
  if (!Array.isArray(paths) || !paths.every((path) => typeof path === 'string')) {
    throw new TypeError('digestPaths: paths must be an array of strings');
  }
  if (paths.length === 0) throw new LedgerError('INVALID_ARGUMENT', 'no path to hash; name at least one file or directory');
  const { signal, onProgress } = options;
  signal?.throwIfAborted();

  const pacer = new Pacer(signal);
  const plan = await planFiles(paths, pacer);
  const bytesTotal = plan.files.reduce((sum, file) => sum + Number(file.stats.size), 0);
  options.onPlan?.(plan.files.map((file) => ({ path: file.path, size: Number(file.stats.size) })));
  onProgress?.(0, bytesTotal);
  const digests = await hashFiles(plan.files, { bytesDone: 0, bytesTotal, onProgress, signal }, pacer);

  if (plan.single) return { sha256: toHex(digests[0]!), size: bytesTotal, files: 1 };
  const members = plan.files.map((file, index) => ({ path: file.path, sha256: toHex(digests[index]!), size: Number(file.stats.size) }));
  return { sha256: manifestDigest(members), size: bytesTotal, files: members.length, members };
}

/**
 * The manifest digest: SHA-256 of the UTF-8 text with one `<sha256>  <path>\n` line per member (two spaces,
 * `sha256sum`'s format), members sorted by the bytes of the UTF-8 path (`LC_ALL=C sort`). Pure; sorts a copy.
 * Reproduce it for a directory with GNU coreutils:
 * `(cd DIR && find -L . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum --) | sha256sum`.
 *
 * @throws {LedgerError} `INVALID_ARGUMENT` for a sha256 that is not 64 lower-case hex digits, a path that is
 * not a manifest path (see ManifestMember), two members with the same path, or a path that is also another
 * member's directory.
 * @example
 * manifestDigest([{ path: 'b.txt', sha256: h1, size: 3 }, { path: 'a/x.bin', sha256: h2, size: 9 }]);
 * // the sha256 of `${h2}  a/x.bin\n${h1}  b.txt\n`
 */
export function manifestDigest(members: readonly ManifestMember[]): string {
  const hash = createSha256();
  for (const text of manifestChunks(sortedMembers(members))) hash.update(Buffer.from(text, 'utf8'));
  return toHex(hash.digest());
}

/**
 * The manifest text itself, sorted: a valid `sha256sum -c` input file when saved in the directory digested.
 * @throws {LedgerError} `INVALID_ARGUMENT` as `manifestDigest`.
 * @example
 * writeFileSync('SHA256SUMS', formatManifest(result.members!)); // then: sha256sum -c SHA256SUMS
 */
export function formatManifest(members: readonly ManifestMember[]): string {
  return [...manifestChunks(sortedMembers(members))].join('');
}

/** Byte order of the UTF-8 encodings (what `LC_ALL=C sort` does), which differs from JS's UTF-16 order. */
export function compareManifestPaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function* manifestChunks(sorted: readonly ManifestMember[]): Generator<string> {
  let text = '';
  for (const member of sorted) {
    text += `${member.sha256}  ${member.path}\n`;
    if (text.length >= 64 * 1024) {
      yield text;
      text = '';
    }
  }
  if (text !== '') yield text;
}

function sortedMembers(members: readonly ManifestMember[]): ManifestMember[] {
  const keyed = members.map((member, index) => {
    if (typeof member?.sha256 !== 'string' || !SHA256_HEX.test(member.sha256)) {
      throw invalid(`manifest member ${index} has sha256 ${JSON.stringify(member?.sha256)}, not 64 lower-case hex digits; fix the manifest`, { index });
    }
    if (typeof member.path !== 'string' || !isManifestPath(member.path)) {
      throw invalid(`manifest member ${index} has path ${JSON.stringify(member.path)}, which is not relative, /-separated and free of newlines, carriage returns and backslashes; fix the manifest`, { index });
    }
    return { member, key: Buffer.from(member.path, 'utf8') };
  });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  const paths = new Set(keyed.map(({ member }) => member.path));
  for (const [index, { member }] of keyed.entries()) {
    if (index > 0 && keyed[index - 1]!.member.path === member.path) {
      throw invalid(`manifest path ${member.path} appears twice; keep one`, { path: member.path });
    }
    for (let slash = member.path.indexOf('/'); slash !== -1; slash = member.path.indexOf('/', slash + 1)) {
      if (paths.has(member.path.slice(0, slash))) {
        throw invalid(`manifest path ${member.path.slice(0, slash)} is both a file and a directory; fix the manifest`, { path: member.path });
      }
    }
  }
  return keyed.map(({ member }) => member);
}

function isManifestPath(path: string): boolean {
  return path.split('/').every(isManifestName);
}

/** One path component: what `sha256sum` prints unescaped (coreutils ≥ 9 escapes `\n`, `\r` and `\`). */
function isManifestName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && name.isWellFormed() && !/[\n\r\\/\0]/.test(name);
}

// ---------------------------------------------------------------------------------------------------------
// The walk: everything is stat'ed before the first byte is hashed, so errors come early and the total is known.

interface PlannedFile {
  /** The manifest path ('' for a single file argument). */
  readonly path: string;
  /** Where to open it, as the user would recognise it in a message. */
  readonly fsPath: string;
  /** Stats of the regular file (after following a link), compared again after hashing. */
  readonly stats: BigIntStats;
}

interface Plan {
  readonly single: boolean;
  readonly files: readonly PlannedFile[];
}

/** Runs synchronous calls in slices of SLICE_MS, yielding to the event loop (and checking the signal) between. */
class Pacer {
  private sliceStart = performance.now();

  constructor(private readonly signal: AbortSignal | undefined) {}

  async pace(): Promise<void> {
    if (performance.now() - this.sliceStart < SLICE_MS) return;
    await new Promise((resume) => setImmediate(resume));
    this.signal?.throwIfAborted();
    this.sliceStart = performance.now();
  }
}

async function planFiles(paths: readonly string[], pacer: Pacer): Promise<Plan> {
  const files: PlannedFile[] = [];
  const prefixes = new Map<string, string>();
  for (const argument of paths) {
    const stats = statArgument(argument);
    if (paths.length === 1 && stats.isFile()) return { single: true, files: [{ path: '', fsPath: argument, stats }] };
    let prefix = '';
    if (paths.length > 1) {
      prefix = basename(resolve(argument));
      if (!isManifestName(prefix)) {
        throw invalid(`${argument} has no usable name for a manifest (${JSON.stringify(prefix)}); name it by a path that ends in a valid file name`, { path: argument });
      }
      const other = prefixes.get(prefix);
      if (other !== undefined) {
        throw invalid(`${other} and ${argument} have the same name ${prefix}, so their manifest paths would clash; hash them separately or rename one`, { path: argument });
      }
      prefixes.set(prefix, argument);
    }
    if (stats.isFile()) {
      files.push({ path: prefix, fsPath: argument, stats });
      continue;
    }
    const before = files.length;
    await walkDirectory(argument, prefix, files, pacer);
    if (files.length === before) {
      throw invalid(`${argument} is a directory with no files in it or below; add files or leave it out`, { path: argument });
    }
  }
  const keyed = files.map((file) => ({ file, key: Buffer.from(file.path, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return { single: false, files: keyed.map(({ file }) => file) };
}

/** An argument: links are followed, since the user named it; only a regular file or a directory will do. */
function statArgument(argument: string): BigIntStats {
  let stats: BigIntStats;
  try {
    stats = statSync(argument, { bigint: true });
  } catch (error) {
    throw describeStatError(argument, error);
  }
  if (!stats.isFile() && !stats.isDirectory()) throw refusedSpecial(argument, stats);
  return stats;
}

async function walkDirectory(root: string, prefix: string, out: PlannedFile[], pacer: Pacer): Promise<void> {
  const pending: Array<{ fsPath: string; path: string }> = [{ fsPath: root, path: prefix }];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    let names: Buffer[];
    try {
      names = readdirSync(directory.fsPath, { encoding: 'buffer' });
    } catch (error) {
      throw unreadable(directory.fsPath, error);
    }
    for (const raw of names) {
      await pacer.pace();
      const name = decodeName(directory.fsPath, raw);
      const fsPath = join(directory.fsPath, name);
      const path = directory.path === '' ? name : `${directory.path}/${name}`;
      const stats = statEntry(fsPath);
      if (stats.isDirectory()) pending.push({ fsPath, path });
      else out.push({ path, fsPath, stats });
    }
  }
}

/** An entry of a directory: a directory, a regular file, or a link to a regular file; anything else is refused. */
function statEntry(fsPath: string): BigIntStats {
  let stats: BigIntStats;
  try {
    stats = lstatSync(fsPath, { bigint: true });
  } catch (error) {
    throw unreadable(fsPath, error);
  }
  if (stats.isDirectory() || stats.isFile()) return stats;
  if (!stats.isSymbolicLink()) throw refusedSpecial(fsPath, stats);
  // A link is followed to a regular file wherever it points; a link to a directory is refused (no loops).
  let target: BigIntStats;
  try {
    target = statSync(fsPath, { bigint: true });
  } catch (error) {
    throw describeStatError(fsPath, error);
  }
  if (target.isDirectory()) {
    throw invalid(`${fsPath} is a symbolic link to a directory, which provledger does not follow; hash the target directly or replace the link with a copy`, { path: fsPath });
  }
  if (!target.isFile()) throw refusedSpecial(fsPath, target);
  return target;
}

function decodeName(directory: string, raw: Buffer): string {
  let name: string;
  try {
    name = utf8Strict.decode(raw);
  } catch (error) {
    const shown = [...raw].map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
    throw invalid(`${directory} holds a file named "${shown}", which is not valid UTF-8 and cannot be written in a manifest; rename it`, { path: directory, name: shown }, error);
  }
  if (!isManifestName(name)) {
    throw invalid(`${directory} holds a file named ${JSON.stringify(name)}, whose newline, carriage return or backslash would make the manifest ambiguous; rename it`, { path: directory, name });
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------------
// Hashing, one file after another in manifest order. Every read stops one byte past the size the walk saw, so
// even a file swapped for an endless one ends; an fstat after reading then tells whether it is still the same,
// unchanged file. O_NONBLOCK: had a file been swapped for a FIFO since the walk, open would wait for a writer.

interface Progress {
  bytesDone: number;
  readonly bytesTotal: number;
  readonly onProgress: DigestOptions['onProgress'];
  readonly signal: AbortSignal | undefined;
}

async function hashFiles(files: readonly PlannedFile[], progress: Progress, pacer: Pacer): Promise<Uint8Array[]> {
  let smallBuffer: Buffer | undefined;
  const digests: Uint8Array[] = [];
  for (const file of files) {
    progress.signal?.throwIfAborted();
    const size = Number(file.stats.size);
    if (size < CHUNK_BYTES) {
      await pacer.pace();
      digests.push(hashSmallFile(file, (smallBuffer ??= Buffer.allocUnsafe(CHUNK_BYTES))));
      if (size > 0) {
        progress.bytesDone += size;
        progress.onProgress?.(progress.bytesDone, progress.bytesTotal);
      }
    } else {
      digests.push(await hashLargeFile(file, progress));
    }
  }
  return digests;
}

/** A file under 1 MiB: read whole into `buffer` with synchronous calls, then hashed in one update. */
function hashSmallFile(file: PlannedFile, buffer: Buffer): Uint8Array {
  const { fsPath } = file;
  let fd: number;
  try {
    fd = openSync(fsPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw unreadable(fsPath, error);
  }
  try {
    const stillSame = (): boolean => sameContent(fstatSync(fd, { bigint: true }), file.stats);
    const size = Number(file.stats.size);
    let done = 0;
    for (;;) {
      const wanted = size + 1 - done; // one byte more than should remain: growth shows, a short read ends
      let bytesRead: number;
      try {
        bytesRead = readSync(fd, buffer, done, wanted, done);
      } catch (error) {
        throw readFailure(fsPath, error, attempt(stillSame));
      }
      done += bytesRead;
      if (done > size) throw changed(fsPath);
      if (bytesRead === 0 || (done === size && bytesRead < wanted)) break;
    }
    let same: boolean;
    try {
      same = stillSame();
    } catch (error) {
      throw unreadable(fsPath, error);
    }
    if (done !== size || !same) throw changed(fsPath);
    const hash = createSha256();
    hash.update(buffer.subarray(0, size));
    return hash.digest();
  } finally {
    closeSync(fd);
  }
}

/** A file of 1 MiB or more: 1 MiB chunks through two buffers, the next read in flight while one is hashed. */
async function hashLargeFile(file: PlannedFile, progress: Progress): Promise<Uint8Array> {
  const { fsPath } = file;
  let handle: FileHandle;
  try {
    handle = await open(fsPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw unreadable(fsPath, error);
  }
  let inFlight: Promise<number> | undefined;
  try {
    const stillSame = async (): Promise<boolean> => sameContent(await handle.stat({ bigint: true }), file.stats);
    const size = Number(file.stats.size);
    const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)] as const;
    const hash = createSha256();
    let done = 0;
    let turn = 0;
    let wanted = 0;
    const readNext = (): Promise<number> => {
      progress.signal?.throwIfAborted();
      wanted = Math.min(CHUNK_BYTES, size + 1 - done); // one byte more than should remain, as above
      inFlight = handle.read(buffers[turn]!, 0, wanted, done).then(
        ({ bytesRead }) => bytesRead,
        async (error: unknown) => Promise.reject(readFailure(fsPath, error, await stillSame().catch(() => undefined))),
      );
      return inFlight;
    };
    let read = readNext();
    for (;;) {
      const bytesRead = await read;
      inFlight = undefined;
      if (bytesRead === 0) break;
      const chunk = buffers[turn]!.subarray(0, bytesRead);
      done += bytesRead;
      if (done > size) throw changed(fsPath);
      const atEnd = done === size && bytesRead < wanted;
      if (!atEnd) {
        turn ^= 1;
        read = readNext(); // in flight while this chunk is hashed
      }
      hash.update(chunk);
      progress.bytesDone += bytesRead;
      progress.onProgress?.(progress.bytesDone, progress.bytesTotal);
      if (atEnd) break;
    }
    const same = await stillSame().catch((error: unknown) => Promise.reject(unreadable(fsPath, error)));
    if (done !== size || !same) throw changed(fsPath);
    return hash.digest();
  } finally {
    // Never close the handle under a read still running in the thread pool.
    await inFlight?.catch(() => undefined);
    await handle.close();
  }
}

/** Same file (device, inode) with the same size and modification time as when it was walked. */
function sameContent(now: BigIntStats, then: BigIntStats): boolean {
  return now.dev === then.dev && now.ino === then.ino && now.size === then.size && now.mtimeNs === then.mtimeNs && now.isFile();
}

/** A failed read: "changed" when the open file is no longer the one walked, else "unreadable" (also if unsure). */
function readFailure(fsPath: string, error: unknown, isSame: boolean | undefined): LedgerError {
  return isSame === false ? changed(fsPath, error) : unreadable(fsPath, error);
}

function attempt(check: () => boolean): boolean | undefined {
  try {
    return check();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Errors: INVALID_ARGUMENT, one sentence naming the path and what to do, with the errno as cause.

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): LedgerError {
  return new LedgerError('INVALID_ARGUMENT', message, cause === undefined ? { details } : { details, cause });
}

function changed(fsPath: string, cause?: unknown): LedgerError {
  return invalid(`${fsPath} changed while it was hashed; hash it again`, { path: fsPath }, cause);
}

function unreadable(fsPath: string, cause: unknown): LedgerError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'error';
  if (code === 'ENOENT') return changed(fsPath, cause);
  return invalid(`cannot read ${fsPath} (${code}); check that it exists and that you may read it`, { path: fsPath, errno: code }, cause);
}

function describeStatError(fsPath: string, cause: unknown): LedgerError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ELOOP') return invalid(`${fsPath} is a symbolic link loop; remove or fix the link`, { path: fsPath, errno: code }, cause);
  if (code !== 'ENOENT' && code !== 'ENOTDIR') return unreadable(fsPath, cause);
  let isLink = false;
  try {
    isLink = lstatSync(fsPath).isSymbolicLink();
  } catch {
    // nothing there at all
  }
  return isLink
    ? invalid(`${fsPath} is a symbolic link to a missing file; remove or fix the link`, { path: fsPath, errno: code }, cause)
    : invalid(`${fsPath} does not exist; check the path`, { path: fsPath, errno: code }, cause);
}

function refusedSpecial(fsPath: string, stats: BigIntStats): LedgerError {
  const kind = stats.isFIFO()
    ? 'a FIFO (named pipe)'
    : stats.isSocket()
      ? 'a socket'
      : stats.isCharacterDevice()
        ? 'a character device'
        : stats.isBlockDevice()
          ? 'a block device'
          : 'not a regular file';
  return invalid(`${fsPath} is ${kind}; only regular files and directories can be hashed, so leave it out`, { path: fsPath });
}
