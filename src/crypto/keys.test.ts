/**
 * SigningKey: generation, PKCS#8 PEM in and out (checked against the openssl CLI when present), RFC 8032 §7.1
 * signatures on both backends, and the promise that the secret never shows up in logs or JSON.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { isLedgerError, type ErrorCode } from '../errors.js';
import { checkPublicKey, verifySignature, VerifyingKey } from './ed25519.js';
import { RFC8032_VECTORS } from '../../test/helpers/rfc8032.js';
import { SigningKey } from './keys.js';

const rfc = RFC8032_VECTORS;

function hex(text: string): Uint8Array {
  const bytes = fromHex(text);
  if (bytes === undefined) throw new Error('bad hex');
  return bytes;
}
function pemFromSeed(seed: Uint8Array): string {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
}
function codeOf(action: () => unknown): ErrorCode | 'no error' | 'not a LedgerError' {
  try {
    action();
    return 'no error';
  } catch (error) {
    return isLedgerError(error) ? error.code : 'not a LedgerError';
  }
}

const hasOpenssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

describe('SigningKey.generate', () => {
  it('makes distinct keys whose public keys pass the key rules', () => {
    const a = SigningKey.generate();
    const b = SigningKey.generate();
    expect(a.publicKey).toHaveLength(32);
    expect(a.publicKeyHex).toBe(toHex(a.publicKey));
    expect(checkPublicKey(a.publicKey)).toBeNull();
    expect(a.publicKeyHex).not.toBe(b.publicKeyHex);
  });

  it('signs 64-byte signatures that verify, with its verifyingKey too', () => {
    const key = SigningKey.generate();
    const message = new TextEncoder().encode('provledger');
    const signature = key.sign(message);
    expect(signature).toHaveLength(64);
    expect(Object.getPrototypeOf(signature)).toBe(Uint8Array.prototype);
    expect(verifySignature(signature, message, key.publicKey)).toBe(true);
    expect(key.verifyingKey).toBe(VerifyingKey.fromBytes(key.publicKey));
    expect(key.verifyingKey.verify(signature, message, 'noble')).toBe(true);
  });
});

describe('RFC 8032 §7.1 test vectors', () => {
  it.each(rfc)('$name: the seed gives the public key, and both backends reproduce the signature', (v) => {
    const key = SigningKey.fromPem(pemFromSeed(hex(v.secretKey)));
    expect(key.publicKeyHex).toBe(v.publicKey);
    expect(toHex(key.sign(hex(v.message), 'node'))).toBe(v.signature);
    expect(toHex(key.sign(hex(v.message), 'noble'))).toBe(v.signature);
  });
});

describe('both backends sign byte-identically', () => {
  it('for random seeds and messages', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        (seed, message) => {
          const key = SigningKey.fromPem(pemFromSeed(seed));
          expect(key.sign(message, 'noble')).toEqual(key.sign(message, 'node'));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses an unknown backend and a non-Uint8Array message', () => {
    const key = SigningKey.generate();
    expect(() => key.sign(new Uint8Array(1), 'openssl' as 'node')).toThrow(TypeError);
    expect(() => key.sign('text' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('PEM round trip', () => {
  it('toPem is unencrypted PKCS#8 and fromPem reads it back to the same key', () => {
    const key = SigningKey.generate();
    const pem = key.toPem();
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    const again = SigningKey.fromPem(pem);
    expect(again.publicKeyHex).toBe(key.publicKeyHex);
    const message = new Uint8Array([1, 2, 3]);
    expect(again.sign(message)).toEqual(key.sign(message));
  });

  it('reads a key written by node:crypto, plain and passphrase-encrypted', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const expectedHex = toHex(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    const plain = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const encrypted = privateKey
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();
    expect(SigningKey.fromPem(plain).publicKeyHex).toBe(expectedHex);
    expect(SigningKey.fromPem(encrypted, 'correct horse').publicKeyHex).toBe(expectedHex);
  });

  it.skipIf(!hasOpenssl)('toPem is readable by `openssl pkey`, which derives the same public key', () => {
    const key = SigningKey.generate();
    const der = execFileSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], { input: key.toPem() });
    expect(toHex(der.subarray(der.length - 32))).toBe(key.publicKeyHex);
    const text = execFileSync('openssl', ['pkey', '-noout', '-text'], { input: key.toPem(), encoding: 'utf8' });
    expect(text).toContain('ED25519 Private-Key');
  });

  it.skipIf(!hasOpenssl)('fromPem reads a key made by `openssl genpkey -algorithm ed25519`', () => {
    const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519'], { encoding: 'utf8' });
    const der = execFileSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], { input: pem });
    expect(SigningKey.fromPem(pem).publicKeyHex).toBe(toHex(der.subarray(der.length - 32)));
  });
});

describe('when the PEM is not a usable Ed25519 PKCS#8 key', () => {
  const ed = generateKeyPairSync('ed25519');
  const encrypted = ed.privateKey
    .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' })
    .toString();
  const plain = ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  it.each([
    ['an empty string', ''],
    ['random text', 'not a key at all'],
    ['a public key', ed.publicKey.export({ format: 'pem', type: 'spki' }).toString()],
    ['a damaged body', plain.replace(/\n[A-Za-z0-9+/]{8}/, '\n!!!!!!!!')],
    ['a truncated body', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n'],
    ['two keys in one file', plain + plain],
    ['an EC P-256 key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
    ['an X25519 key', generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
    ['a SEC1 EC key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'sec1' }).toString()],
    ['an encrypted key without a passphrase', encrypted],
  ])('refuses %s with KEY_INVALID', (_name, pem) => {
    expect(codeOf(() => SigningKey.fromPem(pem))).toBe('KEY_INVALID');
  });

  it('refuses a wrong passphrase with KEY_INVALID', () => {
    expect(codeOf(() => SigningKey.fromPem(encrypted, 'wrong'))).toBe('KEY_INVALID');
    expect(codeOf(() => SigningKey.fromPem(encrypted, ''))).toBe('KEY_INVALID');
  });

  it('treats a non-string as programmer misuse', () => {
    expect(() => SigningKey.fromPem(Buffer.from(plain) as unknown as string)).toThrow(TypeError);
  });
});

describe('the secret never leaks', () => {
  const seed = hex(rfc[0]!.secretKey);
  const key = SigningKey.fromPem(pemFromSeed(seed));
  const pemBody = key
    .toPem()
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('-----'))
    .join('');
  const secrets = [toHex(seed), pemBody, Buffer.from(seed).toString('base64'), Buffer.from(seed).toString('base64url')];

  it.each([
    ['util.inspect', () => inspect(key)],
    ['util.inspect with showHidden', () => inspect(key, { showHidden: true, depth: Infinity, getters: true })],
    ['util.inspect of a containing object', () => inspect({ author: key }, { depth: 5 })],
    ['JSON.stringify', () => JSON.stringify(key)],
    ['JSON.stringify of a containing object', () => JSON.stringify({ author: key })],
    ['String()', () => String(key)],
    ['a template literal', () => `${key}`],
    ['Object.entries', () => JSON.stringify(Object.entries(key))],
  ])('%s shows only the public key', (_name, render) => {
    const text = render();
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain(key.publicKeyHex);
  });
});
