import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { encodeCanonical, encodeJsonValue } from '../codec/canonical.js';
import { SigningKey } from '../crypto/keys.js';
import { openEvent, prepareEvent, PREV_UNKNOWN, sealEvent, sealPrepared, type EventBody } from './event.js';
import { FORMAT_VERSION } from './format.js';

const key = SigningKey.generate();
const body = (seq: number, ts: number, type: string, payload: unknown): EventBody => ({ v: FORMAT_VERSION, seq, prev: PREV_UNKNOWN, ts, type, author: key.publicKey, payload: payload as EventBody['payload'] });
const anyBody = fc.record({
  seq: fc.maxSafeNat(),
  ts: fc.integer({ min: 0, max: 8.64e15 }),
  type: fc.constantFrom('app.note', 'run.metrics', 'a', 'x.y.z-1_2'),
  // Payloads the profile accepts (fc.jsonValue also makes whole numbers beyond 2^53, which are refused).
  payload: fc.jsonValue().filter((value) => {
    try {
      encodeJsonValue(value);
      return true;
    } catch {
      return false;
    }
  }),
});

describe('SPEC §3.6 / §6.3 an event prepared before its prev is known', () => {
  it('has the canonical body bytes with 32 zero bytes where prev goes, at prevOffset', () => {
    fc.assert(
      fc.property(anyBody, ({ seq, ts, type, payload }) => {
        const prepared = prepareEvent(body(seq, ts, type, payload));
        expect(toHex(prepared.bodyBytes)).toBe(toHex(encodeCanonical(body(seq, ts, type, payload))));
        const prev = new Uint8Array(32).fill(0xab);
        const filled = new Uint8Array(prepared.bodyBytes);
        filled.set(prev, prepared.prevOffset);
        expect(toHex(filled)).toBe(toHex(encodeCanonical({ ...body(seq, ts, type, payload), prev })));
      }),
      { numRuns: 500 },
    );
  });

  it('assembled around a payload encoded beforehand, has exactly the bytes of encoding it whole', () => {
    fc.assert(
      fc.property(anyBody, ({ seq, ts, type, payload }) => {
        const whole = prepareEvent(body(seq, ts, type, payload));
        const assembled = prepareEvent(body(seq, ts, type, payload), undefined, encodeJsonValue(payload));
        expect(toHex(assembled.bodyBytes)).toBe(toHex(whole.bodyBytes));
        expect(assembled.prevOffset).toBe(whole.prevOffset);
      }),
      { numRuns: 500 },
    );
  });

  it('sealed with its prev, is the event sealEvent makes, and opens to the same body', () => {
    const prev = new Uint8Array(32).fill(7);
    const payload = { loss: 0.25, tags: ['a'], n: 3 };
    const sealed = sealPrepared(prepareEvent(body(5, 1_800_000_000_000, 'app.note', payload), undefined, encodeJsonValue(payload)), prev, key);
    const direct = sealEvent({ ...body(5, 1_800_000_000_000, 'app.note', payload), prev }, key);
    expect(toHex(sealed.bytes)).toBe(toHex(direct.bytes));
    expect(toHex(sealed.hash)).toBe(toHex(direct.hash));
    expect(openEvent(sealed.bytes).body).toEqual(direct.body);
  });

  it('over the size limit is refused before anything is signed (EVENT_TOO_LARGE), counting the envelope', () => {
    const payload = 'x'.repeat(1000);
    const size = prepareEvent(body(1, 1, 'app.note', payload)).bodyBytes.length + 76;
    expect(() => prepareEvent(body(1, 1, 'app.note', payload), size)).not.toThrow();
    expect(() => prepareEvent(body(1, 1, 'app.note', payload), size - 1)).toThrow(expect.objectContaining({ code: 'EVENT_TOO_LARGE' }));
    expect(() => prepareEvent(body(1, 1, 'app.note', payload), size - 1, encodeJsonValue(payload))).toThrow(expect.objectContaining({ code: 'EVENT_TOO_LARGE' }));
  });
});

describe('SPEC §6.3 an event signed on the worker is checked against the bytes prepared here', () => {
  it('a hash that is not the hash of the assembled event is refused, never sealed', () => {
    const payload = { n: 1 };
    const prev = new Uint8Array(32).fill(1);
    const good = sealEvent({ ...body(3, 5, 'app.note', payload), prev }, key);
    expect(toHex(sealPrepared(prepareEvent(body(3, 5, 'app.note', payload)), prev, key, { signature: good.signature, hash: good.hash }).bytes)).toBe(toHex(good.bytes));
    const wrong = new Uint8Array(good.hash);
    wrong[0]! ^= 1;
    expect(() => sealPrepared(prepareEvent(body(3, 5, 'app.note', payload)), prev, key, { signature: good.signature, hash: wrong })).toThrow(/differs from the one prepared/);
  });
});
