/**
 * The strict prime-order rule (ed25519.ts), one describe per rule, then every edge vector in fixtures/ed25519
 * through both backends, then fast-check properties. Tests assert rejection codes, never messages.
 */

import { RFC8032_VECTORS } from '../../test/helpers/rfc8032.js';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { isLedgerError } from '../errors.js';
import {
  checkPublicKey,
  explainSignature,
  verifySignature,
  VerifyingKey,
  type Backend,
  type SignatureRejection,
} from './ed25519.js';
import { SigningKey } from './keys.js';
import { ed } from './noble.js';

// ---------------------------------------------------------------- fixtures

interface EdgeVector {
  id: string;
  publicKey: Uint8Array;
  signature: Uint8Array;
  message: Uint8Array;
  accept: boolean;
  flags: readonly string[];
  reason?: string;
}

function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/ed25519/${name}`, import.meta.url), 'utf8')) as T;
}
function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error(`bad hex in fixture: ${text.slice(0, 16)}...`);
  return bytes;
}

const cctv = readFixture<{
  vectors: { number: number; key: string; sig: string; msg: string; flags: string[] | null; expect: string }[];
}>('ed25519-cctv-strict.json').vectors.map(
  (v): EdgeVector => ({
    id: `cctv #${v.number}`,
    publicKey: hex(v.key),
    signature: hex(v.sig),
    message: utf8.encode(v.msg),
    accept: v.expect === 'accept',
    flags: v.flags ?? [],
  }),
);
const speccheck = readFixture<{
  vectors: { index: number; message: string; pub_key: string; signature: string; expect: string; reason: string }[];
}>('ed25519-speccheck-strict.json').vectors.map(
  (v): EdgeVector => ({
    id: `speccheck #${v.index}`,
    publicKey: hex(v.pub_key),
    signature: hex(v.signature),
    message: hex(v.message),
    accept: v.expect === 'accept',
    flags: [],
    reason: v.reason,
  }),
);
const rfc = RFC8032_VECTORS;
const rfcVectors = rfc.map(
  (v): EdgeVector => ({
    id: `RFC 8032 ${v.name}`,
    publicKey: hex(v.publicKey),
    signature: hex(v.signature),
    message: hex(v.message),
    accept: true,
    flags: [],
  }),
);

const BACKENDS: readonly Backend[] = ['node', 'noble'];
const L = ed.Point.CURVE().n;

function speccheckByReason(reason: string): EdgeVector[] {
  const found = speccheck.filter((v) => v.reason === reason);
  expect(found.length).toBeGreaterThan(0);
  return found;
}

/** S as a little-endian integer, and back: for building malleated signatures from honest ones. */
function readS(signature: Uint8Array): bigint {
  return BigInt(`0x${toHex(signature.slice(32).reverse())}`);
}
function withS(signature: Uint8Array, s: bigint): Uint8Array {
  const le = hex(s.toString(16).padStart(64, '0')).reverse();
  return concatBytes(signature.subarray(0, 32), le);
}

function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return SigningKey.fromPem(`-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`);
}

const rfcKey = VerifyingKey.fromBytes(hex(rfc[0]!.publicKey));
const rfcSignature = hex(rfc[0]!.signature);
const rfcMessage = hex(rfc[0]!.message);

// ---------------------------------------------------------------- the rule, one describe per rule

describe('rule 1: the signature is 64 bytes and the key 32 bytes', () => {
  it.each(BACKENDS)('rejects short and long signatures and keys (%s)', (backend) => {
    for (const signature of [rfcSignature.subarray(0, 63), concatBytes(rfcSignature, new Uint8Array(1)), new Uint8Array(0)]) {
      expect(verifySignature(signature, rfcMessage, rfcKey.bytes, { backend })).toBe(false);
      expect(rfcKey.verify(signature, rfcMessage, backend)).toBe(false);
      expect(explainSignature(signature, rfcMessage, rfcKey.bytes, { backend })).toBe('BAD_LENGTH');
    }
    for (const publicKey of [rfcKey.bytes.subarray(0, 31), concatBytes(rfcKey.bytes, new Uint8Array(1)), new Uint8Array(0)]) {
      expect(verifySignature(rfcSignature, rfcMessage, publicKey, { backend })).toBe(false);
      expect(explainSignature(rfcSignature, rfcMessage, publicKey, { backend })).toBe('BAD_LENGTH');
    }
  });

  it('refuses a key of the wrong length with BAD_LENGTH / KEY_INVALID', () => {
    expect(checkPublicKey(new Uint8Array(31))).toBe('BAD_LENGTH');
    expect(() => VerifyingKey.fromBytes(new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'KEY_INVALID' }) as Error,
    );
  });

  it('treats a non-Uint8Array as programmer misuse (TypeError), not as bytes', () => {
    expect(() => verifySignature('00' as unknown as Uint8Array, rfcMessage, rfcKey.bytes)).toThrow(TypeError);
    expect(() => rfcKey.verify(rfcSignature, [1, 2] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => checkPublicKey(null as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => verifySignature(rfcSignature, rfcMessage, rfcKey.bytes, { backend: 'openssl' as Backend })).toThrow(
      TypeError,
    );
  });
});

describe('rule 2: S < L (RFC 8032 §5.1.7), so S + L malleation fails', () => {
  it.each(speccheckByReason('S>=L'))('rejects $id with S_NOT_CANONICAL', (v) => {
    for (const backend of BACKENDS) {
      expect(verifySignature(v.signature, v.message, v.publicKey, { backend })).toBe(false);
      expect(explainSignature(v.signature, v.message, v.publicKey, { backend })).toBe('S_NOT_CANONICAL');
    }
  });

  it.each(rfcVectors)('rejects $id with L added to S', (v) => {
    const malleated = withS(v.signature, readS(v.signature) + L);
    for (const backend of BACKENDS) {
      expect(verifySignature(malleated, v.message, v.publicKey, { backend })).toBe(false);
      expect(explainSignature(malleated, v.message, v.publicKey, { backend })).toBe('S_NOT_CANONICAL');
    }
  });

  it('draws the line exactly at L', () => {
    expect(explainSignature(withS(rfcSignature, L), rfcMessage, rfcKey.bytes)).toBe('S_NOT_CANONICAL');
    expect(explainSignature(withS(rfcSignature, 2n ** 256n - 1n), rfcMessage, rfcKey.bytes)).toBe('S_NOT_CANONICAL');
    expect(explainSignature(withS(rfcSignature, L - 1n), rfcMessage, rfcKey.bytes)).toBe('EQUATION');
  });
});

describe('rule 3: the public key A is a canonical encoding', () => {
  it.each(speccheckByReason('A-noncanonical-or-invalid'))('refuses the key of $id', (v) => {
    expect(checkPublicKey(v.publicKey)).toBe('NOT_CANONICAL');
    expect(explainSignature(v.signature, v.message, v.publicKey)).toBe('KEY_REJECTED');
    let thrown: unknown;
    try {
      VerifyingKey.fromBytes(v.publicKey);
    } catch (error) {
      thrown = error;
    }
    expect(isLedgerError(thrown, 'KEY_WEAK')).toBe(true);
    expect((thrown as { details: unknown }).details).toEqual({ publicKeyHex: toHex(v.publicKey), reason: 'NOT_CANONICAL' });
  });

  it('refuses every CCTV key flagged non_canonical_A', () => {
    const flagged = cctv.filter((v) => v.flags.includes('non_canonical_A'));
    expect(flagged.length).toBeGreaterThan(0);
    for (const v of flagged) expect(checkPublicKey(v.publicKey), v.id).not.toBeNull();
  });

  it('refuses y = p (the non-canonical form of y = 0)', () => {
    const yEqualsP = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(checkPublicKey(yEqualsP)).toBe('NOT_CANONICAL');
  });
});

describe('rule 4: R is a canonical encoding', () => {
  const vectors = cctv.filter((v) => v.flags.includes('non_canonical_R') && checkPublicKey(v.publicKey) === null);

  it('has CCTV vectors with a good key and a non-canonical R', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  it.each(BACKENDS)('rejects them with R_NOT_CANONICAL (%s)', (backend) => {
    for (const v of vectors) {
      expect(verifySignature(v.signature, v.message, v.publicKey, { backend }), v.id).toBe(false);
      expect(explainSignature(v.signature, v.message, v.publicKey, { backend }), v.id).toBe('R_NOT_CANONICAL');
    }
  });

  it('checks the key rules first: speccheck R vectors also carry a bad key', () => {
    for (const v of speccheckByReason('R-noncanonical-or-invalid')) {
      expect(explainSignature(v.signature, v.message, v.publicKey)).toBe('KEY_REJECTED');
    }
  });
});

describe('rule 5: A is not of small order', () => {
  it.each(speccheckByReason('A-small-order'))('refuses the key of $id', (v) => {
    expect(checkPublicKey(v.publicKey)).toBe('SMALL_ORDER');
    expect(() => VerifyingKey.fromBytes(v.publicKey)).toThrow(expect.objectContaining({ code: 'KEY_WEAK' }) as Error);
    for (const backend of BACKENDS) {
      expect(verifySignature(v.signature, v.message, v.publicKey, { backend })).toBe(false);
    }
  });

  it('refuses the identity and the all-zero key (y = 0, order 4)', () => {
    expect(checkPublicKey(hex(`01${'00'.repeat(31)}`))).toBe('SMALL_ORDER');
    expect(checkPublicKey(new Uint8Array(32))).toBe('SMALL_ORDER');
  });

  it('refuses every canonical CCTV key flagged low_order_A', () => {
    const flagged = cctv.filter((v) => v.flags.includes('low_order_A') && !v.flags.includes('non_canonical_A'));
    expect(flagged.length).toBeGreaterThan(0);
    for (const v of flagged) expect(checkPublicKey(v.publicKey), v.id).toBe('SMALL_ORDER');
  });
});

describe('rule 6: A is torsion-free (prime order)', () => {
  it.each(speccheckByReason('A-not-prime-order'))('refuses the key of $id', (v) => {
    expect(checkPublicKey(v.publicKey)).toBe('NOT_PRIME_ORDER');
    expect(() => VerifyingKey.fromBytes(v.publicKey)).toThrow(expect.objectContaining({ code: 'KEY_WEAK' }) as Error);
    for (const backend of BACKENDS) {
      expect(explainSignature(v.signature, v.message, v.publicKey, { backend })).toBe('KEY_REJECTED');
    }
  });
});

describe('rule 7: R is torsion-free', () => {
  const vectors = cctv.filter(
    (v) =>
      v.flags.includes('low_order_component_R') &&
      checkPublicKey(v.publicKey) === null &&
      !v.flags.includes('non_canonical_R'),
  );

  it('has CCTV vectors with a good key and an R carrying a small-order component', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  it.each(BACKENDS)('rejects them with R_NOT_PRIME_ORDER (%s)', (backend) => {
    for (const v of vectors) {
      expect(verifySignature(v.signature, v.message, v.publicKey, { backend }), v.id).toBe(false);
      expect(explainSignature(v.signature, v.message, v.publicKey, { backend }), v.id).toBe('R_NOT_PRIME_ORDER');
    }
  });

  it('accepts the identity as R (it is torsion-free), as CCTV expects', () => {
    const v = cctv.find((c) => c.accept && c.flags.includes('low_order_R'));
    expect(v).toBeDefined();
    for (const backend of BACKENDS) expect(verifySignature(v!.signature, v!.message, v!.publicKey, { backend })).toBe(true);
  });
});

describe('and then the signature equation holds', () => {
  it.each(BACKENDS)('rejects a signature of another message or by another key (%s)', (backend) => {
    const other = VerifyingKey.fromBytes(hex(rfc[1]!.publicKey));
    expect(explainSignature(rfcSignature, utf8.encode('x'), rfcKey.bytes, { backend })).toBe('EQUATION');
    expect(explainSignature(rfcSignature, rfcMessage, other.bytes, { backend })).toBe('EQUATION');
    expect(other.verify(rfcSignature, rfcMessage, backend)).toBe(false);
  });
});

// ---------------------------------------------------------------- vectors, both backends

describe('every fixture vector gives its expected answer on both backends', () => {
  const sets: [string, EdgeVector[]][] = [
    ['CCTV (914)', cctv],
    ['speccheck (12)', speccheck],
    ['RFC 8032 §7.1 (5)', rfcVectors],
  ];

  it('has the expected number of vectors', () => {
    expect([cctv.length, speccheck.length, rfcVectors.length]).toEqual([914, 12, 5]);
    expect(cctv.filter((v) => v.accept).length).toBe(2);
  });

  for (const [name, vectors] of sets) {
    for (const backend of BACKENDS) {
      it(`${name} through verifySignature and explainSignature (${backend})`, () => {
        const wrong: string[] = [];
        for (const v of vectors) {
          const accepted = verifySignature(v.signature, v.message, v.publicKey, { backend });
          const reason: SignatureRejection | null = explainSignature(v.signature, v.message, v.publicKey, { backend });
          if (accepted !== v.accept) wrong.push(`${v.id}: verify=${accepted}`);
          if ((reason === null) !== v.accept) wrong.push(`${v.id}: explain=${reason}`);
          if (checkPublicKey(v.publicKey) === null && v.signature.length === 64) {
            const key = VerifyingKey.fromBytes(v.publicKey);
            if (key.verify(v.signature, v.message, backend) !== v.accept) wrong.push(`${v.id}: VerifyingKey.verify`);
            if (key.explain(v.signature, v.message, backend) !== reason) wrong.push(`${v.id}: VerifyingKey.explain`);
          }
        }
        expect(wrong).toEqual([]);
      });
    }
  }
});

describe('VerifyingKey', () => {
  it('is cached: the same key bytes give the same instance', () => {
    const again = VerifyingKey.fromBytes(new Uint8Array(rfcKey.bytes));
    expect(again).toBe(rfcKey);
    expect(rfcKey.hex).toBe(rfc[0]!.publicKey);
  });

  it('hands out copies of its bytes, so a caller cannot change the vetted key', () => {
    const bytes = rfcKey.bytes;
    bytes.fill(0);
    expect(rfcKey.bytes).toEqual(hex(rfc[0]!.publicKey));
    for (const backend of BACKENDS) expect(rfcKey.verify(rfcSignature, rfcMessage, backend)).toBe(true);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 40 }), (signature, message) => {
        expect(rfcKey.verify(signature, message)).toBe(false);
        expect(rfcKey.verify(signature, message, 'noble')).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------- properties

describe('properties', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const message = fc.uint8Array({ maxLength: 256 });

  it('honest sign/verify is always accepted by both backends', () => {
    fc.assert(
      fc.property(seed, message, (secret, msg) => {
        const key = signingKeyFromSeed(secret);
        const signature = key.sign(msg);
        expect(checkPublicKey(key.publicKey)).toBeNull();
        expect(verifySignature(signature, msg, key.publicKey)).toBe(true);
        expect(verifySignature(signature, msg, key.publicKey, { backend: 'noble' })).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('any single flipped bit in the signature or the message is rejected by both backends', () => {
    const key = signingKeyFromSeed(hex(rfc[2]!.secretKey));
    fc.assert(
      fc.property(message, fc.boolean(), fc.nat(), (msg, inSignature, position) => {
        const signature = key.sign(msg);
        let badSignature = signature;
        let badMessage = msg;
        if (inSignature || msg.length === 0) {
          badSignature = signature.slice();
          const bit = position % 512;
          badSignature[bit >> 3]! ^= 1 << (bit & 7);
        } else {
          badMessage = msg.slice();
          const bit = position % (msg.length * 8);
          badMessage[bit >> 3]! ^= 1 << (bit & 7);
        }
        for (const backend of BACKENDS) {
          expect(verifySignature(badSignature, badMessage, key.publicKey, { backend })).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('S + L malleation of an honest signature is rejected by both backends', () => {
    fc.assert(
      fc.property(seed, message, (secret, msg) => {
        const key = signingKeyFromSeed(secret);
        const malleated = withS(key.sign(msg), readS(key.sign(msg)) + L);
        for (const backend of BACKENDS) {
          expect(explainSignature(malleated, msg, key.publicKey, { backend })).toBe('S_NOT_CANONICAL');
        }
      }),
      { numRuns: 30 },
    );
  });

  it('node and noble agree on random and half-random inputs', () => {
    const signer = signingKeyFromSeed(hex(rfc[1]!.secretKey));
    const honest = (msg: Uint8Array) => ({ signature: signer.sign(msg), message: msg, publicKey: signer.publicKey });
    const input = fc.oneof(
      // fully random
      fc.record({
        signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
        message,
        publicKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      }),
      // honest key and message, random R or random S
      fc.tuple(message, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean()).map(([msg, bytes, replaceR]) => {
        const h = honest(msg);
        const signature = replaceR ? concatBytes(bytes, h.signature.subarray(32)) : concatBytes(h.signature.subarray(0, 32), bytes);
        return { ...h, signature };
      }),
      // honest signature checked against a random key
      fc.tuple(message, fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([msg, publicKey]) => ({ ...honest(msg), publicKey })),
      // honest
      message.map(honest),
    );
    fc.assert(
      fc.property(input, ({ signature, message: msg, publicKey }) => {
        const node = verifySignature(signature, msg, publicKey, { backend: 'node' });
        const noble = verifySignature(signature, msg, publicKey, { backend: 'noble' });
        expect(noble).toBe(node);
        expect(explainSignature(signature, msg, publicKey) === null).toBe(node);
      }),
      { numRuns: 150 },
    );
  });
});
