/**
 * Artifact digests (issue 5, SPEC "Artifact digests"): a single file hashes like `sha256sum FILE`; a directory or
 * several paths hash as a sorted `sha256sum`-format manifest that coreutils reproduces; every refusal is an
 * INVALID_ARGUMENT naming the path. Expected digests are computed independently here, with node:crypto and,
 * when installed, the real `sha256sum`.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isLedgerError } from '../errors.js';
import { compareManifestPaths, digestPaths, formatManifest, manifestDigest, type ManifestMember } from './digest.js';

// Paths whose open/readdir fail with EACCES, so unreadable files are tested even when the tests run as root.
const denied = vi.hoisted(() => new Set<string>());
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const refuse = (path: unknown): void => {
    if (denied.has(String(path))) throw Object.assign(new Error(`EACCES: permission denied, '${String(path)}'`), { code: 'EACCES' });
  };
  return {
    ...real,
    openSync: ((...args: Parameters<typeof real.openSync>) => (refuse(args[0]), real.openSync(...args))) as typeof real.openSync,
    readdirSync: ((...args: Parameters<typeof real.readdirSync>) => (refuse(args[0]), real.readdirSync(...args))) as typeof real.readdirSync,
  };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, open: async (...args: Parameters<typeof real.open>) => (denied.has(String(args[0])) ? Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' })) : real.open(...args)) };
});

const hasSha256sum = spawnSync('sha256sum', ['--version']).status === 0;
const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'provledger-digest-'));
});
afterEach(() => {
  denied.clear();
  rmSync(root, { recursive: true, force: true });
});

function put(relative: string, content: string | Uint8Array = relative): string {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

function hexOf(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The manifest digest computed independently: sort by UTF-8 bytes, sha256sum lines, hash. */
function expectedManifest(files: Record<string, string | Uint8Array>): string {
  const paths = Object.keys(files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return hexOf(paths.map((path) => `${hexOf(files[path]!)}  ${path}\n`).join(''));
}

function shell(script: string, cwd: string): string {
  return execFileSync('sh', ['-c', script], { cwd, encoding: 'utf8' }).split(' ')[0]!;
}

/** SPEC "Artifact digests": the documented coreutils command for one directory. */
const DIRECTORY_COMMAND = `(cd "$DIR" && find -L . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum --) | sha256sum`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

async function expectInvalid(paths: string[], mention: string, options?: Parameters<typeof digestPaths>[1]): Promise<void> {
  const error = await rejection(digestPaths(paths, options));
  expect(isLedgerError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
  expect((error as Error).message).toContain(mention);
}

/** Non-ASCII names, one pair (U+FF5E, U+1F600) whose UTF-8 order is the reverse of JS's UTF-16 order. */
const TREE: Record<string, string> = {
  'a.txt': 'a',
  'a-b': 'dash',
  'a/b': 'nested',
  'a/c/deep.bin': 'deeper',
  B: 'upper case sorts first',
  '.hidden': 'dotfiles count',
  '-starts-with-dash': 'dash',
  'tab\there': 'tabs are fine',
  'empty': '',
  'café/é.csv': 'accents',
  '日本/データ.txt': 'cjk',
  '\uFF5E': 'fullwidth tilde',
  '😀': 'emoji',
};

describe('a single file', () => {
  it('digests to the file\'s own SHA-256 (as node:crypto and sha256sum print it), with no members', async () => {
    const path = put('train.csv', 'x,y\n1,2\n');
    const result = await digestPaths([path]);
    expect(result).toEqual({ sha256: hexOf('x,y\n1,2\n'), size: 8, files: 1 });
    expect(result).not.toHaveProperty('members');
    if (hasSha256sum) expect(execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]).toBe(result.sha256);
  });

  it('digests an empty file to the SHA-256 of nothing and reports progress (0, 0)', async () => {
    const progress: Array<[number, number]> = [];
    const result = await digestPaths([put('empty', '')], { onProgress: (done, total) => progress.push([done, total]) });
    expect(result).toEqual({ sha256: EMPTY_SHA256, size: 0, files: 1 });
    expect(progress).toEqual([[0, 0]]);
  });

  it.each([1 << 20, (1 << 20) - 1, (1 << 20) + 1, 3 << 20])('digests %i bytes (around the 1 MiB chunk) correctly', async (size) => {
    const bytes = new Uint8Array(size).map((_, i) => (i * 31 + (i >> 11)) & 0xff);
    expect((await digestPaths([put('blob', bytes)])).sha256).toBe(hexOf(bytes));
  });

  it('streams a 20 MiB file in chunks of at most 1 MiB, with progress monotone and ending at the total', async () => {
    const bytes = new Uint8Array(20 << 20).map((_, i) => (i ^ (i >> 8) ^ (i >> 16)) & 0xff);
    const progress: Array<[number, number]> = [];
    const result = await digestPaths([put('model.bin', bytes)], { onProgress: (done, total) => progress.push([done, total]) });
    expect(result).toEqual({ sha256: hexOf(bytes), size: 20 << 20, files: 1 });
    expect(progress[0]).toEqual([0, 20 << 20]);
    expect(progress.at(-1)).toEqual([20 << 20, 20 << 20]);
    expect(progress.length).toBeGreaterThanOrEqual(21);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]![1]).toBe(20 << 20);
      expect(progress[i]![0] - progress[i - 1]![0]).toBeGreaterThan(0);
      expect(progress[i]![0] - progress[i - 1]![0]).toBeLessThanOrEqual(1 << 20);
    }
  });

  it('follows a symbolic link named as the argument', async () => {
    const target = put('real.bin', 'content');
    symlinkSync(target, join(root, 'link.bin'));
    expect((await digestPaths([join(root, 'link.bin')])).sha256).toBe(hexOf('content'));
  });
});

describe('one directory', () => {
  it('digests the manifest of every file below it, sorted by UTF-8 bytes, paths relative to it', async () => {
    for (const [path, content] of Object.entries(TREE)) put(`data/${path}`, content);
    mkdirSync(join(root, 'data/empty-subdirectory/also-empty'), { recursive: true });
    const result = await digestPaths([join(root, 'data')]);

    const paths = Object.keys(TREE).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(result.members?.map((member) => member.path)).toEqual(paths);
    expect(paths.indexOf('\uFF5E')).toBeLessThan(paths.indexOf('😀')); // UTF-8 order, not JS's
    expect(result.members).toEqual(paths.map((path) => ({ path, sha256: hexOf(TREE[path]!), size: Buffer.byteLength(TREE[path]!) })));
    expect(result.sha256).toBe(expectedManifest(TREE));
    expect(result.files).toBe(paths.length);
    expect(result.size).toBe(paths.reduce((sum, path) => sum + Buffer.byteLength(TREE[path]!), 0));
  });

  it.skipIf(!hasSha256sum)('equals the documented coreutils command, and its manifest passes sha256sum -c', async () => {
    for (const [path, content] of Object.entries(TREE)) put(`data/${path}`, content);
    const result = await digestPaths([join(root, 'data')]);
    expect(shell(DIRECTORY_COMMAND.replace('"$DIR"', `'${join(root, 'data')}'`), root)).toBe(result.sha256);
    writeFileSync(join(root, 'SHA256SUMS'), formatManifest(result.members!));
    expect(spawnSync('sha256sum', ['--quiet', '-c', join(root, 'SHA256SUMS')], { cwd: join(root, 'data') }).status).toBe(0);
  });

  it('keeps a manifest for a directory holding one file, so its digest is not the file\'s', async () => {
    put('d/only.txt', 'only');
    const result = await digestPaths([join(root, 'd')]);
    expect(result.members).toEqual([{ path: 'only.txt', sha256: hexOf('only'), size: 4 }]);
    expect(result.sha256).toBe(expectedManifest({ 'only.txt': 'only' }));
    expect(result.sha256).not.toBe(hexOf('only'));
  });

  it('follows links to files, inside or outside the directory, under the link\'s own path', async () => {
    put('d/real.txt', 'inside');
    const outside = put('elsewhere/blob', 'outside');
    symlinkSync('real.txt', join(root, 'd/alias.txt'));
    symlinkSync(outside, join(root, 'd/weights.bin'));
    const result = await digestPaths([join(root, 'd')]);
    expect(result.sha256).toBe(expectedManifest({ 'real.txt': 'inside', 'alias.txt': 'inside', 'weights.bin': 'outside' }));
    if (hasSha256sum) expect(shell(DIRECTORY_COMMAND.replace('"$DIR"', `'${join(root, 'd')}'`), root)).toBe(result.sha256);
  });
});

describe('several paths', () => {
  it('starts each member path with its argument\'s base name, like a directory holding them', async () => {
    const csv = put('in/train.csv', 'csv');
    put('in/images/0001.png', 'png1');
    put('in/images/sub/0002.png', 'png2');
    const result = await digestPaths([join(root, 'in/images'), csv]);
    const expected = { 'train.csv': 'csv', 'images/0001.png': 'png1', 'images/sub/0002.png': 'png2' };
    expect(result.sha256).toBe(expectedManifest(expected));
    expect(result.members?.map((member) => member.path)).toEqual(['images/0001.png', 'images/sub/0002.png', 'train.csv']);
    expect(result).toMatchObject({ files: 3, size: 11 });
    expect(result.sha256).toBe((await digestPaths([join(root, 'in')])).sha256);
    if (hasSha256sum) {
      const command = `(cd in && find -L train.csv images -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum --) | sha256sum`;
      expect(shell(command, root)).toBe(result.sha256);
    }
  });

  it('keeps a manifest for two plain files', async () => {
    const result = await digestPaths([put('x/a.bin', 'A'), put('y/b.bin', 'B')]);
    expect(result.sha256).toBe(expectedManifest({ 'a.bin': 'A', 'b.bin': 'B' }));
  });

  it('refuses two arguments with the same base name', async () => {
    await expectInvalid([put('x/data.csv'), put('y/data.csv')], 'data.csv');
    await expectInvalid([join(root, 'x'), join(root, 'x/../x')], 'same name');
  });

  it('refuses an argument without a name, such as /', async () => {
    await expectInvalid(['/', put('a.txt')], '/');
  });
});

describe('refusals: INVALID_ARGUMENT naming the path', () => {
  it('refuses an empty list and a missing path', async () => {
    await expectInvalid([], 'no path');
    await expectInvalid([join(root, 'nope.bin')], join(root, 'nope.bin'));
    await expectInvalid([put('here'), join(root, 'nope')], join(root, 'nope'));
  });

  it('refuses a directory with no files, even with empty subdirectories', async () => {
    mkdirSync(join(root, 'd/e/f'), { recursive: true });
    await expectInvalid([join(root, 'd')], join(root, 'd'));
    await expectInvalid([join(root, 'd/e'), put('x')], join(root, 'd/e'));
  });

  it('refuses a broken link and a link loop, inside a directory or as the argument', async () => {
    put('d/ok', 'ok');
    symlinkSync('missing', join(root, 'd/dangling'));
    await expectInvalid([join(root, 'd')], join(root, 'd/dangling'));
    await expectInvalid([join(root, 'd/dangling')], 'missing file');
    unlinkSync(join(root, 'd/dangling'));
    symlinkSync('loop-b', join(root, 'd/loop-a'));
    symlinkSync('loop-a', join(root, 'd/loop-b'));
    await expectInvalid([join(root, 'd')], 'loop');
    await expectInvalid([join(root, 'd/loop-a')], 'loop');
  });

  it('refuses a link to a directory inside a directory, so a link to an ancestor cannot loop', async () => {
    put('d/sub/file', 'f');
    symlinkSync('..', join(root, 'd/sub/up'));
    await expectInvalid([join(root, 'd')], join(root, 'd/sub/up'));
  });

  it('refuses a socket and a device', async () => {
    put('d/file', 'f');
    const server: Server = createServer();
    await new Promise<void>((done) => server.listen(join(root, 'd/agent.sock'), done));
    try {
      await expectInvalid([join(root, 'd')], 'socket');
    } finally {
      await new Promise((done) => server.close(done));
    }
    await expectInvalid(['/dev/null'], 'character device');
  });

  it.skipIf(!hasMkfifo)('refuses a FIFO without opening it (which would wait for a writer)', async () => {
    put('d/file', 'f');
    execFileSync('mkfifo', [join(root, 'd/pipe')]);
    await expectInvalid([join(root, 'd')], 'FIFO');
    await expectInvalid([join(root, 'd/pipe')], 'FIFO');
  });

  it('refuses file names that are not valid UTF-8', async () => {
    put('d/fine', 'f');
    writeFileSync(Buffer.concat([Buffer.from(join(root, 'd/')), Buffer.from([0x66, 0xff, 0x80])]), 'bad');
    await expectInvalid([join(root, 'd')], 'f\\xff\\x80');
  });

  it.each(['new\nline', 'carriage\rreturn', 'back\\slash'])('refuses a file named %j, which sha256sum would escape', async (name) => {
    put('d/fine', 'f');
    put(`d/sub/${name}`, 'x');
    await expectInvalid([join(root, 'd')], join(root, 'd/sub'));
  });

  it('refuses an unreadable file (small or large) or directory', async () => {
    const file = put('d/secret.bin', 's');
    const large = put('large.bin', new Uint8Array(2 << 20));
    put('d/locked/inner', 'i');
    denied.add(file);
    denied.add(large);
    await expectInvalid([join(root, 'd')], `cannot read ${file} (EACCES)`);
    await expectInvalid([file], file);
    await expectInvalid([large], `cannot read ${large} (EACCES)`);
    denied.clear();
    denied.add(join(root, 'd/locked'));
    await expectInvalid([join(root, 'd')], `cannot read ${join(root, 'd/locked')} (EACCES)`);
  });

  it.skipIf(isRoot)('refuses files and directories the operating system will not let us read', async () => {
    const file = put('d/secret.bin', 's');
    chmodSync(file, 0o000);
    await expectInvalid([file], file);
    chmodSync(file, 0o600);
    chmodSync(join(root, 'd'), 0o000);
    try {
      await expectInvalid([join(root, 'd')], join(root, 'd'));
    } finally {
      chmodSync(join(root, 'd'), 0o700);
    }
  });
});

describe('when a file changes while it is hashed', () => {
  it('refuses a file that grows after the walk, before progress passes the total', async () => {
    const path = put('grow.bin', new Uint8Array(3 << 20));
    let most = 0;
    const onProgress = (done: number, total: number): void => {
      most = Math.max(most, done / total);
      if (done > 0) appendFileSync(path, 'more');
    };
    await expectInvalid([path], 'changed while it was hashed', { onProgress });
    expect(most).toBeLessThanOrEqual(1);
  });

  it('refuses a file rewritten in place with the same size', async () => {
    const path = put('d/same-size.bin', new Uint8Array(3 << 20));
    utimesSync(path, 1_000_000, 1_000_000); // so that any write moves mtime, whatever the clock's granularity
    const rewrite = (done: number): void => {
      if (done > 0) writeFileSync(path, new Uint8Array(3 << 20).fill(1));
    };
    await expectInvalid([join(root, 'd')], 'changed while it was hashed', { onProgress: rewrite });
  });

  it.each([
    ['grows', (path: string) => appendFileSync(path, '!')],
    ['shrinks', (path: string) => writeFileSync(path, 'abc')],
    ['is rewritten with the same size', (path: string) => writeFileSync(path, 'wxyz')],
  ])('refuses a small file that %s between the walk and its hashing', async (_what, change) => {
    const path = put('d/small.txt', 'abcd');
    utimesSync(path, 1_000_000, 1_000_000); // so that any write moves mtime, whatever the clock's granularity
    await expectInvalid([join(root, 'd')], `${path} changed while it was hashed; hash it again`, { onProgress: (done) => done === 0 && change(path) });
  });

  it('refuses a file replaced or removed between the walk and its hashing', async () => {
    const path = put('d/swap.bin', 'aaaa');
    const replace = (done: number): void => {
      if (done !== 0) return;
      writeFileSync(join(root, 'tmp'), 'bbbb');
      renameSync(join(root, 'tmp'), path);
    };
    await expectInvalid([join(root, 'd')], `${path} changed while it was hashed; hash it again`, { onProgress: replace });
    await expectInvalid([path], 'changed while it was hashed', { onProgress: () => rmSync(path, { force: true }) });
  });

  it.skipIf(!hasMkfifo)('does not hang when a file is swapped for a FIFO after the walk', async () => {
    const path = put('swap', 'x');
    const swap = (): void => {
      unlinkSync(path);
      execFileSync('mkfifo', [path]);
    };
    await expectInvalid([path], 'changed while it was hashed', { onProgress: swap });
  });
});

describe('when the signal aborts', () => {
  it('rejects with the signal\'s reason, before starting or between chunks', async () => {
    const path = put('big.bin', new Uint8Array(5 << 20));
    const reason = new Error('stop');
    await expect(digestPaths([path], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const controller = new AbortController();
    let calls = 0;
    const onProgress = (done: number): void => {
      calls++;
      if (done > 0) controller.abort(reason);
    };
    await expect(digestPaths([path], { signal: controller.signal, onProgress })).rejects.toBe(reason);
    expect(calls).toBe(2);
  });

  it('yields to the event loop during a long run of small files, so a timer can abort it', async () => {
    for (let d = 0; d < 10; d++) mkdirSync(join(root, `many/${d}`), { recursive: true });
    for (let i = 0; i < 1500; i++) writeFileSync(join(root, `many/${i % 10}/${i}.png`), `image ${i}`);
    const reason = new Error('timer');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 1);
    await expect(digestPaths([join(root, 'many')], { signal: controller.signal })).rejects.toBe(reason);
  });
});

/** Path components that exercise byte order: case, punctuation below and above '/', accents, CJK, astral. */
const manifestName = fc.constantFrom('a', 'b', 'A', 'a-b', 'a.b', 'é', '日本', '😀', '\uFF5E', '_');
const manifestPath = fc.array(manifestName, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

describe('manifestDigest', () => {
  const h = (text: string): string => hexOf(text);
  const members: ManifestMember[] = [
    { path: 'b.txt', sha256: h('b'), size: 1 },
    { path: 'a/x.bin', sha256: h('x'), size: 1 },
  ];

  it('hashes sha256sum lines in UTF-8 byte order of the paths, sorting a copy', () => {
    const copy = [...members];
    expect(manifestDigest(members)).toBe(hexOf(`${h('x')}  a/x.bin\n${h('b')}  b.txt\n`));
    expect(members).toEqual(copy);
    expect(formatManifest(members)).toBe(`${h('x')}  a/x.bin\n${h('b')}  b.txt\n`);
    expect(compareManifestPaths('\uFF5E', '😀')).toBeLessThan(0);
    expect('\uFF5E' < '😀').toBe(false); // why a plain JS sort would be wrong
  });

  it('does not depend on the order of the members (property)', () => {
    const member = fc.record({ path: manifestPath, sha256: fc.stringMatching(/^[0-9a-f]{64}$/), size: fc.nat() });
    const lists = fc
      .uniqueArray(member, { selector: (m) => m.path, minLength: 1, maxLength: 12 })
      .filter((list) => !list.some((a) => list.some((b) => b.path.startsWith(`${a.path}/`))))
      .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })));
    fc.assert(
      fc.property(lists, ([list, shuffled]) => {
        expect(manifestDigest(shuffled)).toBe(manifestDigest(list));
      }),
      { numRuns: 200 },
    );
  });

  const bad: Array<[string, ManifestMember]> = [
    ['an upper-case digest', { path: 'a', sha256: h('a').toUpperCase(), size: 1 }],
    ['a short digest', { path: 'a', sha256: 'abc', size: 1 }],
    ...['', '/abs', 'a//b', './a', 'a/../b', 'a/', 'a\\b', 'a\nb', 'a\rb', 'bad\uD800'].map(
      (path): [string, ManifestMember] => [`path ${JSON.stringify(path)}`, { path, sha256: h('a'), size: 1 }],
    ),
  ];
  it.each(bad)('refuses %s', (_what, member) => {
    let thrown: unknown;
    try {
      manifestDigest([members[0]!, member]);
    } catch (error) {
      thrown = error;
    }
    expect(isLedgerError(thrown, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('refuses a path listed twice and a path that is both a file and a directory', () => {
    expect(() => manifestDigest([...members, members[0]!])).toThrow(/twice/);
    expect(() => manifestDigest([...members, { path: 'a', sha256: h('a'), size: 1 }])).toThrow(/both a file and a directory/);
  });
});

describe('property: the directory digest does not depend on the order files are created in', () => {
  const trees = fc
    .uniqueArray(manifestPath, { minLength: 1, maxLength: 8 })
    .filter((paths) => !paths.some((a) => paths.some((b) => b.startsWith(`${a}/`))))
    .chain((paths) => fc.tuple(fc.constant(paths), fc.shuffledSubarray(paths, { minLength: paths.length, maxLength: paths.length })));

  it('creates the same files in two orders and gets the same digest, equal to the independent one', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(trees, async ([paths, shuffled]) => {
        run++;
        const files = Object.fromEntries(paths.map((path) => [path, `content of ${path}`]));
        for (const [dir, order] of [[`p${run}/one`, paths], [`p${run}/two`, shuffled]] as const) {
          for (const path of order) put(`${dir}/${path}`, files[path]);
        }
        const one = await digestPaths([join(root, `p${run}/one`)]);
        const two = await digestPaths([join(root, `p${run}/two`)]);
        expect(two).toEqual(one);
        expect(one.sha256).toBe(expectedManifest(files));
      }),
      { numRuns: 30 },
    );
  });
});
