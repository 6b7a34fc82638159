/**
 * The architecture as a test (STYLE.md): imports inside src/ point down the layers only, and each
 * third-party library has exactly one home, so replacing it touches one folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

/** Lower numbers are lower layers. A module may import its own layer (no cycles checked here) or below. */
const LAYER: Record<string, number> = {
  'errors.ts': 0,
  'bytes.ts': 0,
  codec: 1,
  crypto: 1,
  event: 2,
  merkle: 2,
  chain: 3,
  domain: 3,
  projections: 4,
  artifacts: 4,
  log: 4,
  exchange: 4,
  'ledger.ts': 5,
  'records.ts': 5,
  'audit.ts': 5,
  'keys.ts': 5,
  'links.ts': 5,
  'ml.ts': 5,
  'provenance.ts': 5,
  'samples.ts': 5,
  'transparency.ts': 5,
  'bundle.ts': 5,
  'exchange.ts': 5,
  'index.ts': 6,
  cli: 7,
};

/** Which folder may import each outside package. */
const HOME: Record<string, string> = {
  'cbor-x': 'codec',
  '@noble/ed25519': 'crypto',
  '@noble/hashes': 'crypto',
  'node:crypto': 'crypto',
  'node:worker_threads': 'crypto',
  level: 'log',
  commander: 'cli',
  'cli-progress': 'cli',
  zod: 'domain',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function unitOf(path: string): string {
  // Imports name the compiled `.js`; the layer table names sources.
  return relative(SRC, path).split('/')[0]!.replace(/\.js$/, '.ts');
}

function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/\b(?:import|export)\b[^'";]*?\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

const files = sourceFiles(SRC);

describe('STYLE: dependencies point down only', () => {
  it.each(files.map((f) => [relative(SRC, f), f]))('%s imports no higher layer', (_name, file) => {
    const own = LAYER[unitOf(file)];
    expect(own, `no layer assigned to ${unitOf(file)}`).toBeDefined();
    for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
      const target = unitOf(resolve(dirname(file), spec));
      expect(LAYER[target], `${spec} from ${relative(SRC, file)}`).toBeLessThanOrEqual(own!);
    }
  });
});

describe('STYLE: each third-party library has one home', () => {
  it.each(files.map((f) => [relative(SRC, f), f]))('%s imports outside packages only from their home', (_name, file) => {
    for (const spec of importsOf(file).filter((s) => !s.startsWith('.'))) {
      const pkg = Object.keys(HOME).find((name) => spec === name || spec.startsWith(`${name}/`));
      if (pkg !== undefined) expect(unitOf(file), `${spec} imported from ${relative(SRC, file)}`).toBe(HOME[pkg]);
    }
  });
});
