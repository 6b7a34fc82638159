/**
 * The one place that loads and configures @noble/ed25519, the reference backend.
 *
 * Owns: wiring @noble/hashes' SHA-512 into noble so its synchronous API works (without it every sync call
 * throws "hashes.sha512 not set"). Must not: be imported from outside src/crypto, or expose noble's looser
 * defaults (noble's `verify` is ZIP-215 unless told `{ zip215: false }`; ed25519.ts always passes it).
 */

import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

ed.hashes.sha512 = sha512;

export { ed };
