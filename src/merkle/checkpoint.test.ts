/**
 * C2SP signed notes and tlog checkpoints, as a spec: the published vectors of Go's sumdb/note and of
 * transparency-dev/formats must parse and verify (the interop check); a checkpoint we sign must verify under an
 * independent verifier written here from the spec with node:crypto; every malformed input is a coded LedgerError.
 *
 * Vectors are copied data, not code; each block names its source. The lead may move them to fixtures/ as JSON.
 */

import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { isLedgerError, type ErrorCode } from '../errors.js';
import { SigningKey } from '../crypto/index.js';
import {
  addSignature,
  formatCheckpoint,
  formatVerifierKey,
  MAX_NOTE_BYTES,
  MAX_SIGNATURES,
  noteKeyId,
  parseCheckpoint,
  parseSignedNote,
  parseSignedNoteBytes,
  parseVerifierKey,
  signNote,
  verifiedBy,
  type Checkpoint,
  type NoteVerifier,
} from './checkpoint.js';

// ---- Vectors -------------------------------------------------------------------------------------------------

/** golang.org/x/mod, sumdb/note/note_test.go (TestNewVerifier, TestSign, TestOpen) and the note.go package doc. */
const GO = {
  peterVerifierKey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  peterSignerKey: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
  enochVerifierKey: 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop',
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  peterSig: '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
  enochSig: '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n',
  /** TestNewVerifier: a wrong-length key and an unknown algorithm, each with an adjusted key hash. */
  badVerifierKeys: [
    'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
    'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  ],
} as const;

/**
 * transparency-dev/formats, log/note_test.go: a real sum.golang.org checkpoint (TestSumDBNoteParsing), witness
 * cosignatures over the same text with their verifier keys (BenchmarkParse), and test key pairs (the var block).
 */
const TD = {
  sumdbVerifierKey: 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
  sumdbNote:
    'go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n' +
    '— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n',
  witnesses: [
    {
      verifierKey: 'monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT',
      line: '— monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2NbvAnaepM6Y+8ww=\n',
    },
    {
      verifierKey: 'bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M',
      line: '— bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/MggS1mDR6t3/9rQw=\n',
    },
    {
      verifierKey: 'witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN',
      line: '— witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n',
    },
  ],
  /** The witness's signature bytes under other names: unknown keys that share the key id. */
  impostorLines: [
    '— random1 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n',
    '— random2 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbGgCdcpR8SVSoqAU=\n',
  ],
  keyPairs: [
    ['Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs', 'PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ'],
    ['Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH', 'PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci'],
    ['KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj', 'PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+'],
    ['Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots', 'PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU'],
  ],
} as const;

/** The examples printed in the specs themselves: c2sp.org/signed-note and c2sp.org/tlog-checkpoint. */
const C2SP = {
  signedNote:
    'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n' +
    '— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n',
  checkpoint:
    'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
    '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n',
} as const;

// ---- Helpers --------------------------------------------------------------------------------------------------

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function keyFromSeed(seed: Uint8Array): SigningKey {
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  return SigningKey.fromPem(`-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`);
}

/** A SigningKey from a Go "PRIVATE+KEY+<name>+<hash>+base64(0x01 ‖ seed)" signer key. */
function keyFromGoSignerKey(signerKey: string): SigningKey {
  const data = Buffer.from(signerKey.split('+').slice(4).join('+'), 'base64');
  expect(data[0]).toBe(0x01);
  return keyFromSeed(data.subarray(1));
}

function codeOf(action: () => unknown): ErrorCode | 'no error' | 'not a LedgerError' {
  try {
    action();
    return 'no error';
  } catch (error) {
    return isLedgerError(error) ? error.code : 'not a LedgerError';
  }
}

/** Go slices its vectors by UTF-8 byte offset; the em dash is 3 bytes, so do the same on bytes. */
function insertAtByte(text: string, offset: number, insert: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([bytes.subarray(0, offset), Buffer.from(insert, 'utf8'), bytes.subarray(offset)]).toString('utf8');
}

/** An independent Ed25519 note verifier written from c2sp.org/signed-note with node:crypto, sharing no code. */
function independentlyVerified(note: string, name: string, publicKey: Uint8Array): boolean {
  const split = note.lastIndexOf('\n\n');
  const text = Buffer.from(note.slice(0, split + 1), 'utf8');
  const keyId = createHash('sha256').update(Buffer.from(name, 'utf8')).update(Buffer.from([0x0a, 0x01])).update(publicKey).digest().subarray(0, 4);
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return note
    .slice(split + 2)
    .split('\n')
    .filter((line) => line.startsWith(`\u2014 ${name} `))
    .some((line) => {
      const data = Buffer.from(line.slice(name.length + 3), 'base64');
      return data.length === 68 && data.subarray(0, 4).equals(keyId) && nodeVerify(null, text, key, data.subarray(4));
    });
}

const peter = parseVerifierKey(GO.peterVerifierKey);
const enoch = parseVerifierKey(GO.enochVerifierKey);
const sumdb = parseVerifierKey(TD.sumdbVerifierKey);
const goNote = `${GO.text}\n${GO.peterSig}${GO.enochSig}`;

const logKey = SigningKey.generate();
const witnessKey = SigningKey.generate();
const log: NoteVerifier = { name: 'example.com/provledger', publicKey: logKey.publicKey };
const witness: NoteVerifier = { name: 'witness.example/w1', publicKey: witnessKey.publicKey };
const root = new Uint8Array(32).map((_, i) => i * 7);
const checkpoint: Checkpoint = { origin: log.name, size: 42, rootHash: root, extensions: [] };
const body = formatCheckpoint(checkpoint);
const signed = signNote(body, log.name, logKey);
const cosigned = addSignature(signed, witness.name, witnessKey);

// ---- Interop: published vectors --------------------------------------------------------------------------------

describe("Go's sumdb/note vectors (golang.org/x/mod note_test.go)", () => {
  it('the PeterNeumann verifier key parses, formats back to itself, and its id is SHA-256(name ‖ \\n ‖ 0x01 ‖ key)[:4]', () => {
    expect(peter.name).toBe('PeterNeumann');
    expect(formatVerifierKey(peter)).toBe(GO.peterVerifierKey);
    expect(toHex(noteKeyId(peter.name, peter.publicKey))).toBe('c74f20a3');
    expect(formatVerifierKey(enoch)).toBe(GO.enochVerifierKey);
  });

  it("signing Go's text with Go's PeterNeumann signer key gives Go's signed note byte for byte (TestSign)", () => {
    const key = keyFromGoSignerKey(GO.peterSignerKey);
    expect(key.publicKey).toEqual(peter.publicKey);
    expect(signNote(GO.text, 'PeterNeumann', key)).toBe(`${GO.text}\n${GO.peterSig}`);
  });

  it("Go's doubly signed note: each known key is named, unknown ones ignored, none known gives none (TestOpen)", () => {
    const note = parseSignedNote(goNote);
    expect(note.text).toBe(GO.text);
    expect(note.signatures.map((s) => [s.name, toHex(s.keyId), s.signature.length])).toEqual([
      ['PeterNeumann', 'c74f20a3', 64],
      ['EnochRoot', 'af0cfe78', 64],
    ]);
    expect(verifiedBy(note, [peter, enoch])).toEqual([peter, enoch]);
    expect(verifiedBy(note, [peter])).toEqual([peter]);
    expect(verifiedBy(note, [])).toEqual([]);
  });

  it("a known key's signature that does not verify rejects the note (Go: invalid signature for key PeterNeumann+c74f20a3)", () => {
    const note = parseSignedNote(`${GO.text}\n${insertAtByte(GO.peterSig, 60, 'ABCD')}`);
    expect(codeOf(() => verifiedBy(note, [peter]))).toBe('CHECKPOINT_UNTRUSTED');
    expect(verifiedBy(note, [enoch])).toEqual([]);
  });

  it("duplicated and unverifiable lines: Peter verified, every line kept by the parser (TestOpen, 'Duplicated')", () => {
    const enochAbcd = insertAtByte(GO.enochSig, 60, 'ABCD');
    const note = parseSignedNote(`${GO.text}\n${GO.peterSig}${GO.peterSig}${GO.enochSig}${GO.enochSig}${enochAbcd}`);
    expect(note.signatures).toHaveLength(5);
    expect(verifiedBy(note, [peter])).toEqual([peter]);
  });

  it("Go's malformed notes are CHECKPOINT_MALFORMED (TestOpen, badMsgs)", () => {
    const bad = [
      GO.text,
      `${GO.text}\n`,
      `${GO.text}\n${GO.peterSig.slice(0, -1)}`,
      `\u0001${GO.text}\n${GO.peterSig}`,
      `${GO.text}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${GO.text}\n${GO.peterSig}Unexpected line.\n`,
    ];
    for (const note of bad) expect(codeOf(() => parseSignedNote(note)), JSON.stringify(note)).toBe('CHECKPOINT_MALFORMED');
    const invalidUtf8 = Buffer.concat([Buffer.from([0xff]), Buffer.from(`${GO.text}\n${GO.peterSig}`)]);
    expect(codeOf(() => parseSignedNoteBytes(invalidUtf8))).toBe('CHECKPOINT_MALFORMED');
  });

  it("a line with Peter's signature under another name or key id is an unknown key, so it is ignored", () => {
    const misnamed = parseSignedNote(`${GO.text}\n${GO.peterSig.replace('PeterNeumann', 'CarmenSandiego')}`);
    const wrongId = parseSignedNote(`${GO.text}\n${GO.peterSig.replace('x08g', 'xxxx')}`);
    expect(verifiedBy(misnamed, [peter])).toEqual([]);
    expect(verifiedBy(wrongId, [peter])).toEqual([]);
  });

  it(`${MAX_SIGNATURES} signature lines are read, ${MAX_SIGNATURES + 1} are refused (Go's limit)`, () => {
    expect(verifiedBy(parseSignedNote(`${GO.text}\n${GO.peterSig.repeat(MAX_SIGNATURES)}`), [peter])).toEqual([peter]);
    expect(codeOf(() => parseSignedNote(`${GO.text}\n${GO.peterSig.repeat(MAX_SIGNATURES + 1)}`))).toBe('CHECKPOINT_MALFORMED');
  });

  it('every proper substring and every one-character change of the verifier key is KEY_INVALID (TestNewVerifier)', () => {
    const key = GO.peterVerifierKey;
    const codes = new Set<string>();
    for (let i = 0; i <= key.length; i++) {
      for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) codes.add(codeOf(() => parseVerifierKey(key.slice(i, j))));
    }
    for (let i = 0; i < key.length; i++) {
      codes.add(codeOf(() => parseVerifierKey(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1))));
    }
    for (const bad of GO.badVerifierKeys) codes.add(codeOf(() => parseVerifierKey(bad)));
    expect([...codes]).toEqual(['KEY_INVALID']);
  });
});

describe('transparency-dev/formats vectors (log/note_test.go)', () => {
  it('the real sum.golang.org checkpoint parses (an origin with spaces) and verifies under its published key', () => {
    const note = parseSignedNote(TD.sumdbNote);
    expect(verifiedBy(note, [sumdb])).toEqual([sumdb]);
    const { origin, size, rootHash, extensions } = parseCheckpoint(note.text);
    expect([origin, size, Buffer.from(rootHash).toString('base64'), extensions]).toEqual([
      'go.sum database tree',
      6476701,
      'mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=',
      [],
    ]);
    expect(formatCheckpoint({ origin, size, rootHash, extensions })).toBe(note.text);
  });

  it('witness cosignatures verify; their bytes under other names (random1, random2) are ignored', () => {
    const witnesses = TD.witnesses.map((w) => parseVerifierKey(w.verifierKey));
    const note = parseSignedNote(TD.sumdbNote + TD.witnesses.map((w) => w.line).join('') + TD.impostorLines.join(''));
    expect(note.signatures).toHaveLength(6);
    expect(verifiedBy(note, [sumdb, ...witnesses])).toEqual([sumdb, ...witnesses]);
    expect(verifiedBy(note, witnesses.slice(1))).toEqual(witnesses.slice(1));
  });

  it('for each published key pair, our key from the seed has the published public key and key id', () => {
    for (const [verifierKey, signerKey] of TD.keyPairs) {
      const key = keyFromGoSignerKey(signerKey);
      const verifier = parseVerifierKey(verifierKey);
      expect(key.publicKey).toEqual(verifier.publicKey);
      expect(formatVerifierKey({ name: verifier.name, publicKey: key.publicKey })).toBe(verifierKey);
    }
  });
});

describe('the examples in the C2SP specs', () => {
  it('signed-note: the text keeps its inner blank line; the last blank line separates the signatures', () => {
    const note = parseSignedNote(C2SP.signedNote);
    expect(note.text).toBe('Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n');
    expect(note.signatures.map((s) => s.name)).toEqual(['quasimodo.example/salvatore']);
  });

  it("tlog-checkpoint: parses; its signature reuses sum.golang.org's key id under another name, so it is ignored", () => {
    const note = parseSignedNote(C2SP.checkpoint);
    expect(parseCheckpoint(note.text)).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163, extensions: [] });
    expect(toHex(note.signatures[0]!.keyId)).toBe('033de0ae');
    expect(verifiedBy(note, [sumdb])).toEqual([]);
  });
});

// ---- A checkpoint we sign ---------------------------------------------------------------------------------------

describe('a checkpoint we sign', () => {
  it('is the exact tlog-checkpoint text, a blank line, and one "— <name> base64(keyId ‖ signature)" line', () => {
    expect(body).toBe(`example.com/provledger\n42\n${Buffer.from(root).toString('base64')}\n`);
    const line = signed.slice(body.length);
    expect(signed.startsWith(body)).toBe(true);
    expect(line).toMatch(/^\n\u2014 example\.com\/provledger [A-Za-z0-9+/]{91}=\n$/);
  });

  it('verifies with our verifier and with an independent node:crypto verifier and hand-built key id', () => {
    expect(verifiedBy(parseSignedNote(signed), [log])).toEqual([log]);
    expect(independentlyVerified(signed, log.name, log.publicKey)).toBe(true);
    expect(independentlyVerified(cosigned, witness.name, witness.publicKey)).toBe(true);
    expect(independentlyVerified(signed, log.name, witness.publicKey)).toBe(false);
  });

  it('reads back as the checkpoint it was made from', () => {
    expect(parseCheckpoint(parseSignedNote(signed).text)).toEqual(checkpoint);
  });

  it('bytes in, same note out: parseSignedNoteBytes agrees with parseSignedNote', () => {
    expect(parseSignedNoteBytes(new TextEncoder().encode(cosigned))).toEqual(parseSignedNote(cosigned));
  });
});

describe('when the note was altered', () => {
  const lines = signed.split('\n');

  it('altered text: the known key no longer verifies (CHECKPOINT_UNTRUSTED)', () => {
    const altered = signed.replace('\n42\n', '\n43\n');
    expect(codeOf(() => verifiedBy(parseSignedNote(altered), [log]))).toBe('CHECKPOINT_UNTRUSTED');
    expect(independentlyVerified(altered, log.name, log.publicKey)).toBe(false);
  });

  it('altered signature: CHECKPOINT_UNTRUSTED, with the key named in details', () => {
    const line = lines[4]!;
    const flipped = line.slice(0, 40) + (line[40] === 'A' ? 'B' : 'A') + line.slice(41);
    const error = (() => {
      try {
        verifiedBy(parseSignedNote([...lines.slice(0, 4), flipped, ''].join('\n')), [log]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isLedgerError(error, 'CHECKPOINT_UNTRUSTED')).toBe(true);
    expect((error as { details: unknown }).details).toEqual({ name: log.name, keyId: toHex(noteKeyId(log.name, log.publicKey)), line: 1 });
  });

  it('wrong name: the line names another key, so it is ignored and nothing verifies', () => {
    const renamed = signed.replace(`\u2014 ${log.name} `, '\u2014 example.com/other ');
    expect(verifiedBy(parseSignedNote(renamed), [log])).toEqual([]);
    expect(verifiedBy(parseSignedNote(signed), [{ name: 'example.com/other', publicKey: log.publicKey }])).toEqual([]);
  });

  it('wrong key: a verifier with the same name but another key has another key id, so nothing verifies', () => {
    expect(verifiedBy(parseSignedNote(signed), [{ name: log.name, publicKey: witness.publicKey }])).toEqual([]);
  });
});

describe('cosigning with addSignature', () => {
  it('appends a second line after the first; both verify, in line order', () => {
    expect(cosigned.startsWith(signed)).toBe(true);
    expect(verifiedBy(parseSignedNote(cosigned), [witness, log])).toEqual([log, witness]);
  });

  it("replaces the signer's own earlier line instead of adding a second one (as Go's note.Sign)", () => {
    expect(addSignature(signed, log.name, logKey)).toBe(signed);
    expect(addSignature(cosigned, log.name, logKey)).toBe(`${body}\n${cosigned.split('\n')[5]}\n${signed.split('\n')[4]}\n`);
  });

  it('cosigns a note with foreign signature lines, keeping them byte for byte', () => {
    const note = addSignature(goNote, witness.name, witnessKey);
    expect(note.startsWith(goNote)).toBe(true);
    expect(verifiedBy(parseSignedNote(note), [peter, enoch, witness])).toEqual([peter, enoch, witness]);
  });

  it(`refuses to make a note with more than ${MAX_SIGNATURES} signature lines`, () => {
    expect(codeOf(() => addSignature(`${GO.text}\n${GO.peterSig.repeat(MAX_SIGNATURES)}`, witness.name, witnessKey))).toBe('CHECKPOINT_MALFORMED');
  });

  it('refuses a malformed note and a bad key name', () => {
    expect(codeOf(() => addSignature(body, witness.name, witnessKey))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => addSignature(signed, 'has space', witnessKey))).toBe('KEY_INVALID');
  });
});

// ---- Rules, one describe each -------------------------------------------------------------------------------------

describe('tlog-checkpoint body: origin, decimal size, base64 root, non-empty extension lines', () => {
  const rootB64 = Buffer.from(root).toString('base64');
  const valid = `example.com/log\n7\n${rootB64}\n`;

  it('reads size 0, an origin with spaces, and extension lines', () => {
    expect(parseCheckpoint(`Moon Log\n0\n${rootB64}\n`)).toEqual({ origin: 'Moon Log', size: 0, rootHash: root, extensions: [] });
    expect(parseCheckpoint(`${valid}ext one\n6086d1a9\n`).extensions).toEqual(['ext one', '6086d1a9']);
    expect(parseCheckpoint(`o\n${Number.MAX_SAFE_INTEGER}\n${rootB64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['no lines at all', ''],
    ['only origin and size', 'example.com/log\n7\n'],
    ['a missing final newline', valid.slice(0, -1)],
    ['an empty origin', `\n7\n${rootB64}\n`],
    ['a size with leading zeros', `example.com/log\n07\n${rootB64}\n`],
    ['a negative size', `example.com/log\n-7\n${rootB64}\n`],
    ['a size with a plus sign', `example.com/log\n+7\n${rootB64}\n`],
    ['a size with spaces', `example.com/log\n 7\n${rootB64}\n`],
    ['a size in hex', `example.com/log\n0x7\n${rootB64}\n`],
    ['a size above 2^53 − 1', `example.com/log\n9007199254740992\n${rootB64}\n`],
    ['a size of 28 digits', `example.com/log\n3438945738945739845734895735\n${rootB64}\n`],
    ['a root that is not base64', "example.com/log\n7\nThisIsn'tBase64\n"],
    ['a root without padding', `example.com/log\n7\n${rootB64.slice(0, -1)}\n`],
    ['a root in base64url', `example.com/log\n7\n${Buffer.from(new Uint8Array(32).fill(0xfb)).toString('base64url')}=\n`],
    ['a root with non-zero trailing bits', `example.com/log\n7\n${rootB64.slice(0, 42)}B=\n`],
    ['a 31-byte root', `example.com/log\n7\n${Buffer.alloc(31).toString('base64')}\n`],
    ['a 33-byte root', `example.com/log\n7\n${Buffer.alloc(33).toString('base64')}\n`],
    ['an empty extension line', `${valid}\next\n`],
    ['extra blank lines at the end', `${valid}\n\n`],
    ['a CR before each newline', valid.replaceAll('\n', '\r\n')],
    ['a tab in the origin', `example.com\tlog\n7\n${rootB64}\n`],
    ['a NUL in an extension line', `${valid}a\u0000b\n`],
    ['an unpaired surrogate', `example.com/\uD800\n7\n${rootB64}\n`],
  ])('refuses %s (CHECKPOINT_MALFORMED)', (_name, text) => {
    expect(codeOf(() => parseCheckpoint(text))).toBe('CHECKPOINT_MALFORMED');
  });

  it('says in one sentence what is wrong, naming the line', () => {
    expect(() => parseCheckpoint(`example.com/log\n07\n${rootB64}\n`)).toThrow(/tree size \(line 2\) "07" has leading zeros/);
    expect(() => parseCheckpoint(`example.com/log\n7\n${Buffer.alloc(31).toString('base64')}\n`)).toThrow(/is 31 bytes/);
  });
});

describe('formatCheckpoint writes only what parseCheckpoint reads', () => {
  it.each<[string, Partial<Checkpoint>]>([
    ['an empty origin', { origin: '' }],
    ['a two-line origin', { origin: 'a\nb' }],
    ['a CR in the origin', { origin: 'a\r' }],
    ['a negative size', { size: -1 }],
    ['a fractional size', { size: 1.5 }],
    ['an unsafe size', { size: 2 ** 53 }],
    ['a size given as a string', { size: '7' as unknown as number }],
    ['a 31-byte root', { rootHash: new Uint8Array(31) }],
    ['a root that is not bytes', { rootHash: 'abc' as unknown as Uint8Array }],
    ['an empty extension line', { extensions: [''] }],
    ['a multi-line extension', { extensions: ['a\nb'] }],
    ['extensions that are not an array', { extensions: 'x' as unknown as string[] }],
    ['a text over 1 MiB', { extensions: ['x'.repeat(MAX_NOTE_BYTES)] }],
  ])('refuses %s (CHECKPOINT_MALFORMED)', (_name, change) => {
    expect(codeOf(() => formatCheckpoint({ ...checkpoint, ...change }))).toBe('CHECKPOINT_MALFORMED');
  });
});

describe('signed-note syntax: UTF-8 text ending in newline, a blank line, then "— <name> <base64>" lines', () => {
  const sig = signed.slice(body.length + 1);
  /** The signed note with its signature line (not its origin line, which holds the same name) edited. */
  const withLine = (from: string, to: string) => `${body}\n${sig.replace(from, to)}`;

  it.each([
    ['no signature lines', `${body}\n`],
    ['a signature block without a final newline', signed.slice(0, -1)],
    ['a CR anywhere', signed.replace('\n42\n', '\n42\r\n')],
    ['a tab anywhere', signed.replace('\n42\n', '\n4\t2\n')],
    ['an unpaired surrogate', `\uDC00${signed}`],
    ['a hyphen instead of the em dash', withLine('\u2014', '-')],
    ['an en dash instead of the em dash', withLine('\u2014', '\u2013')],
    ['no space after the dash', withLine('\u2014 ', '\u2014')],
    ['two spaces before the signature', withLine(`${log.name} `, `${log.name}  `)],
    ['a name with a plus', withLine(log.name, 'a+b')],
    ['a name with a no-break space', withLine(log.name, 'a\u00a0b')],
    ['a name with an ideographic space', withLine(log.name, 'a\u3000b')],
    ['a name over 1024 bytes', withLine(log.name, 'n'.repeat(1025))],
    ['a signature without padding', withLine('=\n', '\n')],
    ['a signature in base64url', `${body}\n\u2014 n ${Buffer.alloc(68, 0xff).toString('base64url')}\n`],
    ['a signature with non-zero trailing bits', `${body}\n\u2014 n AAAAAAB=\n`],
    ['a signature of only a key id', `${body}\n\u2014 n ${Buffer.alloc(4).toString('base64')}\n`],
    ['an empty signature', `${body}\n\u2014 n \n`],
    ['a blank line inside the signatures, then garbage', `${signed}\ngarbage\n`],
    ['more than 1 MiB', `${'x'.repeat(MAX_NOTE_BYTES)}\n\n${sig}`],
  ])('refuses %s (CHECKPOINT_MALFORMED)', (_name, note) => {
    expect(codeOf(() => parseSignedNote(note))).toBe('CHECKPOINT_MALFORMED');
  });

  it('keeps a leading BOM as text when reading bytes, so the text is exactly what was signed', () => {
    const note = signNote(`\uFEFF${body}`, log.name, logKey);
    const parsed = parseSignedNoteBytes(new TextEncoder().encode(note));
    expect(parsed.text.startsWith('\uFEFF')).toBe(true);
    expect(verifiedBy(parsed, [log])).toEqual([log]);
  });

  it('refuses invalid UTF-8 bytes: overlong, surrogate, truncated', () => {
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x80]]) {
      const bytes = Buffer.concat([Buffer.from(bad), Buffer.from(signed)]);
      expect(codeOf(() => parseSignedNoteBytes(bytes))).toBe('CHECKPOINT_MALFORMED');
    }
    expect(codeOf(() => parseSignedNoteBytes(new Uint8Array(MAX_NOTE_BYTES + 1)))).toBe('CHECKPOINT_MALFORMED');
  });

  it('keeps signature lines of other types and lengths (e.g. 76-byte cosignatures), ignored unless known', () => {
    const cosignature = `\u2014 witness.example/w2 ${Buffer.alloc(76, 7).toString('base64')}\n`;
    const note = parseSignedNote(signed + cosignature);
    expect(note.signatures[1]!.signature).toHaveLength(72);
    expect(verifiedBy(note, [log])).toEqual([log]);
  });
});

describe('signNote signs only note text', () => {
  it.each([
    ['text without a final newline', 'a'],
    ['empty text', ''],
    ['a CR', 'a\r\n'],
    ['an unpaired surrogate', '\uD800\n'],
    ['a note that would exceed 1 MiB', `${'x'.repeat(MAX_NOTE_BYTES - 10)}\n`],
  ])('refuses %s (CHECKPOINT_MALFORMED)', (_name, text) => {
    expect(codeOf(() => signNote(text, log.name, logKey))).toBe('CHECKPOINT_MALFORMED');
  });

  it.each(['', 'a b', 'a+b', 'a\tb', '\uD800'])('refuses the key name %j (KEY_INVALID)', (name) => {
    expect(codeOf(() => signNote(body, name, logKey))).toBe('KEY_INVALID');
  });

  it('text that itself contains blank lines and dash lines still round-trips: the last blank line separates', () => {
    const text = 'a\n\n\u2014 fake AAAAAAA=\n\n';
    const note = parseSignedNote(signNote(text, log.name, logKey));
    expect(note.text).toBe(text);
    expect(verifiedBy(note, [log])).toEqual([log]);
  });

  it('misuse of types is a TypeError, not a LedgerError', () => {
    expect(() => signNote(body, log.name, {} as SigningKey)).toThrow(TypeError);
    expect(() => parseSignedNote(7 as unknown as string)).toThrow(TypeError);
    expect(() => parseSignedNoteBytes('x' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('verifier keys: "<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte key)>"', () => {
  it('refuses upper-case hex (one spelling per key), a bad name, non-canonical base64', () => {
    expect(codeOf(() => parseVerifierKey(GO.peterVerifierKey.replace('c74f20a3', 'C74F20A3')))).toBe('KEY_INVALID');
    expect(codeOf(() => parseVerifierKey(GO.peterVerifierKey.replace('PeterNeumann', '')))).toBe('KEY_INVALID');
    expect(codeOf(() => parseVerifierKey(GO.peterVerifierKey.replace(/TW$/, 'TX')))).toBe('KEY_INVALID');
    expect(codeOf(() => parseVerifierKey(`${'n'.repeat(2000)}+c74f20a3+ARpc`))).toBe('KEY_INVALID');
  });

  it('refuses a small-order key whose id matches (KEY_WEAK), and will not format one', () => {
    const weak = { name: 'weak', publicKey: new Uint8Array(32) };
    const text = `weak+${toHex(noteKeyId('weak', weak.publicKey))}+${Buffer.concat([Buffer.from([1]), Buffer.alloc(32)]).toString('base64')}`;
    expect(codeOf(() => parseVerifierKey(text))).toBe('KEY_WEAK');
    expect(codeOf(() => formatVerifierKey(weak))).toBe('KEY_WEAK');
  });

  it('refuses to format a wrong-length key or a bad name (KEY_INVALID)', () => {
    expect(codeOf(() => formatVerifierKey({ name: 'n', publicKey: new Uint8Array(31) }))).toBe('KEY_INVALID');
    expect(codeOf(() => formatVerifierKey({ name: 'a+b', publicKey: log.publicKey }))).toBe('KEY_INVALID');
  });
});

describe('verifiedBy takes only well-formed, unambiguous verifiers', () => {
  it('two verifiers with one name and key id but different keys are ambiguous (KEY_INVALID), as in Go', () => {
    // Found once by a birthday search over seeds 0..2^17 (32 bytes, the index big-endian at the end): under this
    // name, the keys of seeds 92651 and 113037 share the key id 5079f622.
    const name = 'ambiguous.example';
    const [a, b] = [92651, 113037].map((index) => {
      const seed = Buffer.alloc(32);
      seed.writeUInt32BE(index, 28);
      return keyFromSeed(seed);
    }) as [SigningKey, SigningKey];
    expect(toHex(noteKeyId(name, a.publicKey))).toBe('5079f622');
    expect(toHex(noteKeyId(name, b.publicKey))).toBe('5079f622');
    const note = parseSignedNote(signNote(body, name, a));
    expect(verifiedBy(note, [{ name, publicKey: a.publicKey }])).toHaveLength(1);
    expect(codeOf(() => verifiedBy(note, [{ name, publicKey: a.publicKey }, { name, publicKey: b.publicKey }]))).toBe('KEY_INVALID');
    // The same key listed twice is not ambiguous: the first object is the one reported.
    const first = { name, publicKey: a.publicKey };
    expect(verifiedBy(note, [first, { name, publicKey: a.publicKey }])).toEqual([first]);
  });

  it('a verifier whose key breaks SPEC §2.2 is refused (KEY_WEAK); a bad name or length is KEY_INVALID', () => {
    const note = parseSignedNote(signed);
    expect(codeOf(() => verifiedBy(note, [{ name: 'weak', publicKey: new Uint8Array(32) }]))).toBe('KEY_WEAK');
    expect(codeOf(() => verifiedBy(note, [{ name: 'a b', publicKey: log.publicKey }]))).toBe('KEY_INVALID');
    expect(codeOf(() => verifiedBy(note, [{ name: 'n', publicKey: new Uint8Array(3) }]))).toBe('KEY_INVALID');
  });

  it('a hand-built note with text that is not note text is CHECKPOINT_MALFORMED', () => {
    expect(codeOf(() => verifiedBy({ text: 'no newline', signatures: [] }, [log]))).toBe('CHECKPOINT_MALFORMED');
  });
});

// ---- Properties ----------------------------------------------------------------------------------------------------

/** Characters that matter to the grammar, for building near-miss inputs. */
const GRAMMAR = ['\n', '\r', '\t', ' ', '\u2014', '\u2013', '-', '+', '/', '=', 'A', 'a', 'z', '0', '1', '9', '\u0000', '\uD800', 'é', '\u00a0', '\uFEFF'];
const grammarString = (maxLength: number) => fc.string({ unit: fc.constantFrom(...GRAMMAR), maxLength });

function onlyLedgerErrors(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!isLedgerError(error)) throw error;
  }
}

const noteLine = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((s) => !/[\u0000-\u001f]/.test(s));
const checkpointArbitrary: fc.Arbitrary<Checkpoint> = fc.record({
  origin: noteLine,
  size: fc.maxSafeNat(),
  rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  extensions: fc.array(noteLine, { maxLength: 3 }),
});

describe('properties', () => {
  it('formatCheckpoint and parseCheckpoint are inverse on every valid checkpoint', () => {
    fc.assert(
      fc.property(checkpointArbitrary, (c) => {
        const text = formatCheckpoint(c);
        expect(parseCheckpoint(text)).toEqual({ ...c, rootHash: new Uint8Array(c.rootHash) });
        expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
      }),
    );
  });

  it('any signed checkpoint parses back to its text and verifies under its verifier key string', () => {
    fc.assert(
      fc.property(checkpointArbitrary, (c) => {
        const text = formatCheckpoint(c);
        const note = parseSignedNote(signNote(text, log.name, logKey));
        expect(note.text).toBe(text);
        expect(verifiedBy(note, [parseVerifierKey(formatVerifierKey(log))])).toHaveLength(1);
      }),
      { numRuns: 50 },
    );
  });

  it('parsers given arbitrary strings either parse or throw a LedgerError, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), grammarString(200)), (text) => {
        onlyLedgerErrors(() => parseSignedNote(text));
        onlyLedgerErrors(() => parseCheckpoint(text));
        onlyLedgerErrors(() => parseVerifierKey(text));
        onlyLedgerErrors(() => verifiedBy(parseSignedNote(text), [log, peter]));
      }),
      { numRuns: 500 },
    );
  });

  it('parseSignedNoteBytes given arbitrary bytes parses or throws a LedgerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        onlyLedgerErrors(() => parseSignedNoteBytes(bytes));
      }),
    );
  });

  it('a mutated cosigned checkpoint either fails with a LedgerError, verifies nobody, or still has the original text', () => {
    const edit = fc.oneof(
      fc.record({ at: fc.nat(), remove: fc.integer({ min: 1, max: 8 }), insert: fc.constant('') }),
      fc.record({ at: fc.nat(), remove: fc.constant(0), insert: grammarString(4) }),
      fc.record({ at: fc.nat(), remove: fc.constant(1), insert: fc.constantFrom(...GRAMMAR) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let text: string = cosigned;
        for (const { at, remove, insert } of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + remove);
        }
        try {
          const note = parseSignedNote(text);
          if (verifiedBy(note, [log, witness]).length > 0) expect(note.text).toBe(body);
          onlyLedgerErrors(() => parseCheckpoint(note.text));
        } catch (error) {
          if (!isLedgerError(error)) throw error;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('verifier keys round-trip for any valid name', () => {
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => !/[\p{White_Space}+\u0000-\u001f]/u.test(s));
    fc.assert(
      fc.property(name, (n) => {
        const text = formatVerifierKey({ name: n, publicKey: log.publicKey });
        expect(parseVerifierKey(text)).toEqual({ name: n, publicKey: log.publicKey });
      }),
    );
  });
});
