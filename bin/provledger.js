#!/usr/bin/env node
// Starts the compiled CLI (built by `npm run build` into dist/).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('provledger: the CLI is not built yet; run `npm run build` in the provledger package [INTERNAL]\n');
  process.exit(70);
}
await import(entry.href);
