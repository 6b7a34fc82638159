/**
 * Artifact content written out from SPEC §21.2 without src: a file's digest is the SHA-256 of its bytes; a
 * manifest's is the SHA-256 of `sha256sum`'s output for its members, sorted by the UTF-8 bytes of their paths.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArtifactContent } from '../../src/index.js';

export const sha256 = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface Member {
  path: string;
  sha256: string;
  size: number;
}

/** The digest of a manifest: the SHA-256 of the `sha256sum` lines of its members, in the order given. */
export const manifestDigest = (members: readonly Member[]) => sha256(members.map((m) => `${m.sha256}  ${m.path}\n`).join(''));

export const member = (path: string, text: string, size = Buffer.byteLength(text)): Member => ({ path, sha256: sha256(text), size });
export const manifest = (members: readonly Member[]): ArtifactContent => ({
  sha256: manifestDigest(members),
  size: members.reduce((total, m) => total + m.size, 0),
  members,
});
export const file = (text: string): ArtifactContent => ({ sha256: sha256(text), size: Buffer.byteLength(text) });

/** The manifest of files given by path: members sorted by the UTF-8 bytes of their paths. */
export function manifestOf(files: Record<string, string>): { sha256: string; size: number; members: Member[] } {
  const members = Object.entries(files)
    .map(([path, bytes]) => ({ path, sha256: sha256(bytes), size: Buffer.byteLength(bytes) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { sha256: manifestDigest(members), size: members.reduce((sum, m) => sum + m.size, 0), members };
}

/** Writes each file (by path under `root`), making the folders it needs. */
export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
}
