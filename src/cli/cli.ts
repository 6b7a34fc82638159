#!/usr/bin/env node
/** Process entry point of the compiled CLI: run main with the real streams and set the exit code. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
