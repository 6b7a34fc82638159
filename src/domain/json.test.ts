import { describe, expect, it } from 'vitest';
import { diffJson, sameJson } from './json.js';

describe('sameJson: deep equality of JSON values, whatever the order of object keys', () => {
  it.each([
    [{ a: 1, b: [1, { x: 'y', z: null }] }, { b: [1, { z: null, x: 'y' }], a: 1 }, true],
    [[{ path: 'a', sha256: 'f', size: 2 }], [{ size: 2, path: 'a', sha256: 'f' }], true],
    [[1, 2], [2, 1], false],
    [[1], [1, 1], false],
    [{ a: 1 }, { a: 1, b: undefined as never }, false],
    [{ a: [] }, { a: {} }, false],
    [null, {}, false],
    ['1', 1, false],
  ])('%j vs %j → %s', (a, b, same) => {
    expect(sameJson(a, b)).toBe(same);
    expect(sameJson(b, a)).toBe(same);
  });

  it('makes diffJson see no change in an array of objects that differ only in key order', () => {
    expect(diffJson({ members: [{ path: 'a', size: 1 }] }, { members: [{ size: 1, path: 'a' }] })).toEqual([]);
    expect(diffJson({ members: [{ path: 'a', size: 1 }] }, { members: [{ size: 2, path: 'a' }] })).toEqual([{ path: '/members', op: 'replace' }]);
  });
});
