/** The RFC 8032 §7.1 test vectors (fixtures/ed25519/rfc8032-7.1.json), hex strings as stored. */
import { readFileSync } from 'node:fs';

export interface RfcVector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}

export const RFC8032_VECTORS: readonly RfcVector[] = (
  JSON.parse(readFileSync(new URL('../../fixtures/ed25519/rfc8032-7.1.json', import.meta.url), 'utf8')) as { vectors: RfcVector[] }
).vectors;
