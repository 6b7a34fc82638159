#!/usr/bin/env node
/** Process entry point of the compiled CLI: run main with the real streams and set the exit code. */
import { main } from './main.js';

// A reader that stops early (`provledger log | head`) is not an error: stop quietly, exit 0 (SPEC §10.2).
// Commands print only after their work is committed, so stopping here never cuts a write short.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
