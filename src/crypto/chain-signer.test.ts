import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { ChainSigner, signLink, type ChainItem, type ChainLayout, type ChainLink } from './chain-signer.js';
import { verifySignature } from './ed25519.js';
import { sha256 } from './hash.js';
import { SigningKey } from './keys.js';

const key = SigningKey.generate();
const layout: ChainLayout = { signaturePrefix: Uint8Array.of(1, 2, 3), hashPrefix: Uint8Array.of(4, 5), hashMiddle: Uint8Array.of(6) };
const signers: ChainSigner[] = [];
const newSigner = () => {
  const signer = new ChainSigner(key, layout);
  signers.push(signer);
  return signer;
};
afterEach(async () => {
  await Promise.all(signers.splice(0).map((s) => s.close()));
});

function items(sizes: readonly number[]): ChainItem[] {
  return sizes.map((size, i) => ({ bytes: new Uint8Array(randomBytes(size)), linkOffset: (i * 7) % (size - 31) }));
}

/** The chain computed one item at a time in this thread, on copies. */
function inline(first: Uint8Array, run: readonly ChainItem[]): ChainLink[] {
  const links: ChainLink[] = [];
  let link = first;
  for (const item of run) {
    const signed = signLink(key, layout, { bytes: new Uint8Array(item.bytes), linkOffset: item.linkOffset }, link);
    links.push(signed);
    link = signed.digest;
  }
  return links;
}

async function onWorker(signer: ChainSigner, first: Uint8Array, run: readonly ChainItem[]): Promise<{ links: ChainLink[]; froms: number[] }> {
  const links: ChainLink[] = [];
  const froms: number[] = [];
  await signer.sign(first, run, (from, chunk) => {
    froms.push(from);
    links.push(...chunk);
  });
  return { links, froms };
}

const hexes = (links: readonly ChainLink[]) => links.map((l) => `${toHex(l.link)} ${toHex(l.signature)} ${toHex(l.digest)}`);

describe('signLink: the chain rule', () => {
  it('writes the link in, signs prefix ‖ item, and digests hashPrefix ‖ signature ‖ hashMiddle ‖ item', () => {
    const [item] = items([100]);
    const link = new Uint8Array(32).fill(9);
    const signed = signLink(key, layout, item!, link);
    expect(toHex(item!.bytes.subarray(item!.linkOffset, item!.linkOffset + 32))).toBe(toHex(link));
    expect(verifySignature(signed.signature, new Uint8Array([...layout.signaturePrefix, ...item!.bytes]), key.publicKey)).toBe(true);
    expect(toHex(signed.digest)).toBe(toHex(sha256(layout.hashPrefix, signed.signature, layout.hashMiddle, item!.bytes)));
    expect(toHex(signed.link)).toBe(toHex(link));
  });
});

describe('ChainSigner gives the bytes of signing in this thread, in order, chunk by chunk', () => {
  it('on generated runs', async () => {
    const signer = newSigner();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 32, max: 600 }), { minLength: 1, maxLength: 200 }), async (sizes) => {
        const first = new Uint8Array(randomBytes(32));
        const run = items(sizes);
        const { links, froms } = await onWorker(signer, first, run);
        expect(hexes(links)).toEqual(hexes(inline(first, run)));
        // Chunks arrive in order, each starting where the last ended.
        expect(froms[0]).toBe(0);
        expect(froms.every((from, i) => i === 0 || from > froms[i - 1]!)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('links each run to the first link it is given, and leaves the caller’s bytes as they were', async () => {
    const signer = newSigner();
    const run = items([64, 64, 64]);
    const before = run.map((item) => toHex(item.bytes));
    const a = await onWorker(signer, new Uint8Array(32), run);
    const b = await onWorker(signer, new Uint8Array(32).fill(1), run);
    expect(toHex(a.links[0]!.link)).toBe('00'.repeat(32));
    expect(toHex(b.links[0]!.link)).toBe('01'.repeat(32));
    expect(hexes(a.links)).not.toEqual(hexes(b.links));
    expect(run.map((item) => toHex(item.bytes))).toEqual(before);
  });

  it('an empty run calls nothing and resolves', async () => {
    let calls = 0;
    await newSigner().sign(new Uint8Array(32), [], () => calls++);
    expect(calls).toBe(0);
  });

  it('an error thrown by the caller’s callback rejects the run (it is not taken for a worker failure)', async () => {
    const signer = newSigner();
    await expect(
      signer.sign(new Uint8Array(32), items([64, 64]), () => {
        throw new Error('caller broke');
      }),
    ).rejects.toThrow('caller broke');
    // The signer still works afterwards.
    const run = items([64]);
    expect(hexes((await onWorker(signer, new Uint8Array(32), run)).links)).toEqual(hexes(inline(new Uint8Array(32), run)));
  });
});

describe('ChainSigner finishes a run in this thread when the worker goes away', () => {
  it('closing the worker mid-run still yields every link, identical to signing inline', async () => {
    const signer = newSigner();
    const first = new Uint8Array(32).fill(3);
    const run = items(Array.from({ length: 600 }, () => 200));
    const links: ChainLink[] = [];
    const pending = signer.sign(first, run, (_from, chunk) => {
      links.push(...chunk);
      // After the first chunk, kill the worker: the rest must be signed here, from where it stopped.
      if (links.length === chunk.length) void signer.close();
    });
    await pending;
    expect(links.length).toBe(600);
    expect(hexes(links)).toEqual(hexes(inline(first, run)));
  });

  it('a new run after a failure starts a fresh worker', async () => {
    const signer = newSigner();
    await signer.close();
    const run = items([100, 100]);
    expect(hexes((await onWorker(signer, new Uint8Array(32), run)).links)).toEqual(hexes(inline(new Uint8Array(32), run)));
  });
});
