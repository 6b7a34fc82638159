/**
 * Attacks from the security review, each pinned by a test: an attacker who can edit the files on disk (and may
 * hold a key of their own, never an admin's) must not change who may write or what reads return without
 * verify failing.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from '../src/codec/canonical.js';
import { SigningKey } from '../src/crypto/keys.js';
import { eventHash } from '../src/event/event.js';
import { Ledger } from '../src/index.js';
import { keys as indexKeys } from '../src/projections/indexes.js';
import { ownerKey } from './helpers/events.js';
import { appendForged } from './helpers/forge.js';
import { editIndexes, editStore, seqKey } from './helpers/raw-store.js';
import { withTempDir } from './helpers/tmp.js';

const HEAD = new TextEncoder().encode('head');

async function findings(dir: string): Promise<[number | null, string][]> {
  const ledger = await Ledger.open(dir);
  try {
    return (await ledger.verify()).failures.map((f) => [f.seq, f.code]);
  } finally {
    await ledger.close();
  }
}

describe('SPEC §14.3: a change to who may write needs a valid signature', () => {
  it('a key.add naming the owner as author but with a bad signature adds no one, even after rebuild', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const attacker = SigningKey.generate();
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.records.create('model', { approved: false }, { id: 'm' });
      await ledger.close();
      // The attacker writes a key.add "by the owner" without the owner's key: the signature is zeros.
      const forged = await editStore(dir, async ({ log, meta }) => {
        const head = decodeCanonical((await meta.get(HEAD))!) as { seq: number; hash: Uint8Array; ts: number };
        const body = { v: 1, seq: head.seq + 1, prev: head.hash, ts: head.ts + 1000, type: 'key.add', author: ownerKey.publicKey, payload: { key: attacker.publicKeyHex, role: 'admin', name: 'owner' } };
        const bytes = encodeCanonical({ body, sig: new Uint8Array(64) });
        await log.put(seqKey(body.seq), bytes);
        await meta.put(HEAD, encodeCanonical({ seq: body.seq, hash: eventHash(bytes), ts: body.ts }));
        return body.seq;
      });
      const [byAttacker] = await appendForged(dir, [{ type: 'record.update', payload: { id: 'm', version: 2, data: { approved: true } }, key: attacker }]);
      const reopened = await Ledger.open(dir);
      try {
        await reopened.rebuild();
        expect((await reopened.keys.list()).map((k) => k.key)).toEqual([ownerKey.publicKeyHex]);
        expect((await reopened.auditRecord('m')).map((v) => v.authorized)).toEqual([true, false]);
      } finally {
        await reopened.close();
      }
      expect(await findings(dir)).toEqual([
        [forged, 'BAD_SIGNATURE'],
        [byAttacker!, 'UNAUTHORIZED'],
      ]);
    });
  });
});

describe('SPEC §12.4: index keys are compared as bytes', () => {
  it('a current-state entry moved under a byte-order-marked id is a PROJECTION_MISMATCH', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.records.create('dataset', { n: 1 }, { id: 'A' });
      await ledger.close();
      await editIndexes(dir, async (ix) => {
        const value = (await ix.rc.get(indexKeys.current('A')))!;
        await ix.rc.del(indexKeys.current('A'));
        await ix.rc.put(Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]), value);
      });
      expect((await findings(dir)).map(([, code]) => code)).toContain('PROJECTION_MISMATCH');
    });
  });
});

describe('SPEC §7.1 step 9 and §6.2: the stored head must match the last event exactly', () => {
  it('a head whose time was moved far into the future is a HEAD_MISMATCH, and appends are refused', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.append({ type: 'app.note', payload: {} });
      await ledger.close();
      await editStore(dir, async ({ meta }) => {
        const head = decodeCanonical((await meta.get(HEAD))!) as { seq: number; hash: Uint8Array; ts: number };
        await meta.put(HEAD, encodeCanonical({ ...head, ts: 8_640_000_000_000_000 }));
      });
      const reopened = await Ledger.open(dir, { key: ownerKey });
      try {
        await expect(reopened.append({ type: 'app.note', payload: {} })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      } finally {
        await reopened.close();
      }
      expect(await findings(dir)).toEqual([[1, 'HEAD_MISMATCH']]);
    });
  });

  it('an entry planted beyond the head (not just at head+1) makes the store refuse appends', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.close();
      await editStore(dir, ({ log }) => log.put(seqKey(5), new Uint8Array([1, 2, 3])));
      const reopened = await Ledger.open(dir, { key: ownerKey });
      try {
        await expect(reopened.append({ type: 'app.note', payload: {} })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
      } finally {
        await reopened.close();
      }
    });
  });
});

describe('SPEC §3.1: event times stay within what a Date can hold', () => {
  it('a clock beyond 8.64e15 ms is refused with CLOCK_INVALID and writes nothing', async () => {
    await withTempDir(async (root) => {
      let now = 1_800_000_000_000;
      const ledger = await Ledger.create(join(root, 'ledger'), { key: ownerKey, clock: () => now });
      try {
        now = 8_640_000_000_000_001;
        await expect(ledger.append({ type: 'app.note', payload: {} })).rejects.toMatchObject({ code: 'CLOCK_INVALID' });
        expect((await ledger.head())!.seq).toBe(0);
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('SPEC §7.3: failure messages stay short whatever the stored bytes hold', () => {
  it('a huge duplicated map key is reported in a bounded message', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.close();
      const key = 'k'.repeat(100_000);
      const head = 1;
      // map(2) with the same 100,000-character key twice: canonical in every way but the duplicate.
      const text = new TextEncoder().encode(key);
      const item = Uint8Array.from([0x7a, ...new Uint8Array(new Uint32Array([text.length]).buffer).reverse(), ...text, 0x01]);
      await editStore(dir, ({ log }) => log.put(seqKey(head), Uint8Array.from([0xa2, ...item, ...item])));
      const reopened = await Ledger.open(dir);
      try {
        const report = await reopened.verify();
        expect(report.failures.some((f) => f.code === 'NON_CANONICAL' && f.seq === head)).toBe(true);
        for (const failure of report.failures) expect(failure.message.length).toBeLessThanOrEqual(301);
      } finally {
        await reopened.close();
      }
    });
  });
});

describe('SPEC §6.3: what is signed is what was checked', () => {
  it('changing an input after appendMany returned its promise changes nothing', async () => {
    await withTempDir(async (root) => {
      const ledger = await Ledger.create(join(root, 'ledger'), { key: ownerKey });
      try {
        const input = { type: 'app.note', payload: { approved: false } as Record<string, unknown> };
        const pending = ledger.appendMany([input]);
        input.type = 'ledger.genesis';
        input.payload['approved'] = new Uint8Array([1]);
        const [result] = await pending;
        expect(await ledger.get(result!.seq)).toMatchObject({ type: 'app.note', payload: { approved: false } });
        expect((await ledger.verify()).ok).toBe(true);
      } finally {
        await ledger.close();
      }
    });
  });
});

describe('SPEC §12.5: rebuild skips what does not decode', () => {
  it('one undecodable event does not stop the rebuild; verify still reports it', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.records.create('dataset', { n: 1 }, { id: 'ds' });
      await ledger.close();
      await editStore(dir, ({ log }) => log.put(seqKey(1), new Uint8Array([0xff])));
      const reopened = await Ledger.open(dir);
      try {
        await reopened.rebuild();
        expect((await reopened.verify()).failures.map((f) => [f.seq, f.code])).toContainEqual([1, 'NON_CANONICAL']);
      } finally {
        await reopened.close();
      }
    });
  });
});

describe('SPEC §12.3: a damaged index never leads an honest writer astray', () => {
  it('a create of an id whose current state was deleted from the index is refused (STORE_CORRUPT), writing nothing', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'ledger');
      const ledger = await Ledger.create(dir, { key: ownerKey });
      await ledger.records.create('dataset', { n: 1 }, { id: 'A' });
      await ledger.close();
      await editIndexes(dir, (ix) => ix.rc.del(indexKeys.current('A')));
      const reopened = await Ledger.open(dir, { key: ownerKey });
      try {
        await expect(reopened.records.create('dataset', { n: 2 }, { id: 'A' })).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
        expect((await reopened.head())!.seq).toBe(1);
      } finally {
        await reopened.close();
      }
    });
  });
});
